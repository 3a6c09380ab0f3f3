//! BER to DER for CMS read from files: streaming signers write indefinite lengths and
//! chunked OCTET STRINGs, which the `der` decoder refuses. Elements already in DER
//! (certificates, usually the signed attributes) are copied byte for byte.

/// Deepest nesting followed; CMS with a time-stamp token inside nests about 20 deep.
const MAX_DEPTH: usize = 64;
/// Largest input transcoded; a `/Contents` with certificates, CRLs and a token is far smaller.
pub(crate) const MAX_BYTES: usize = 16 * 1024 * 1024;

const EOC: [u8; 2] = [0, 0];
const OCTET_STRING: u8 = 0x04;
const OCTET_STRING_CONSTRUCTED: u8 = 0x24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum BerError {
    #[error("BER element truncated at byte {0}")]
    Truncated(usize),
    #[error("BER length at byte {0} is invalid")]
    Length(usize),
    #[error("BER nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("BER input larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("BER OCTET STRING chunk at byte {0} is not an OCTET STRING")]
    Chunk(usize),
}

/// The DER encoding of the first element of `input`; bytes after it (the zero padding of a
/// `/Contents`) are ignored.
pub(crate) fn to_der(input: &[u8]) -> Result<Vec<u8>, BerError> {
    if input.len() > MAX_BYTES {
        return Err(BerError::TooLarge);
    }
    let mut out = Vec::with_capacity(input.len());
    Transcoder { input }.element(0, 0, &mut out)?;
    Ok(out)
}

struct Header {
    /// Tag bytes are copied as they are (identifier octets).
    tag_len: usize,
    constructed: bool,
    header_len: usize,
    /// `None` for the indefinite form.
    length: Option<usize>,
    /// Whether the length is in its shortest definite form, as DER wants.
    minimal: bool,
}

struct Transcoder<'a> {
    input: &'a [u8],
}

impl Transcoder<'_> {
    fn header(&self, at: usize) -> Result<Header, BerError> {
        let byte = |i: usize| self.input.get(i).copied().ok_or(BerError::Truncated(at));
        let first = byte(at)?;
        let mut tag_len = 1;
        if first & 0x1f == 0x1f {
            // High tag number: base-128 digits, the last without the top bit; four are plenty.
            while byte(at + tag_len)? & 0x80 != 0 {
                tag_len += 1;
                if tag_len > 4 {
                    return Err(BerError::Length(at));
                }
            }
            tag_len += 1;
        }
        let constructed = first & 0x20 != 0;
        let l = byte(at + tag_len)?;
        if l < 0x80 {
            return Ok(Header { tag_len, constructed, header_len: tag_len + 1, length: Some(l.into()), minimal: true });
        }
        if l == 0x80 {
            if !constructed {
                return Err(BerError::Length(at));
            }
            return Ok(Header { tag_len, constructed, header_len: tag_len + 1, length: None, minimal: false });
        }
        let n = usize::from(l & 0x7f);
        if n > 4 {
            return Err(BerError::Length(at));
        }
        let mut length = 0usize;
        for i in 0..n {
            length = (length << 8) | usize::from(byte(at + tag_len + 1 + i)?);
        }
        let minimal = length >= 0x80 && length_bytes(length) == n;
        Ok(Header { tag_len, constructed, header_len: tag_len + 1 + n, length: Some(length), minimal })
    }

    /// Writes the DER of the element at `at` to `out`; returns where the element ends.
    fn element(&self, at: usize, depth: usize, out: &mut Vec<u8>) -> Result<usize, BerError> {
        if depth > MAX_DEPTH {
            return Err(BerError::TooDeep);
        }
        let h = self.header(at)?;
        let start = at + h.header_len;
        let tag = &self.input[at..at + h.tag_len];
        if !h.constructed {
            let end = self.definite_end(at, start, h.length)?;
            if h.minimal {
                out.extend_from_slice(&self.input[at..end]);
            } else {
                write_header(out, tag, end - start);
                out.extend_from_slice(&self.input[start..end]);
            }
            return Ok(end);
        }
        let mut content = Vec::new();
        if tag == [OCTET_STRING_CONSTRUCTED] {
            // DER has only the primitive form: the chunks are joined.
            let end = self
                .children(at, start, h.length, depth, &mut |t, child_at, child_depth| t.octet_chunk(child_at, child_depth, &mut content))?;
            write_header(out, &[OCTET_STRING], content.len());
            out.extend_from_slice(&content);
            return Ok(end);
        }
        let end =
            self.children(at, start, h.length, depth, &mut |t, child_at, child_depth| t.element(child_at, child_depth, &mut content))?;
        let unchanged = h.minimal && h.length.is_some_and(|len| content.as_slice() == &self.input[start..start + len]);
        if unchanged {
            out.extend_from_slice(&self.input[at..end]);
        } else {
            write_header(out, tag, content.len());
            out.extend_from_slice(&content);
        }
        Ok(end)
    }

    /// Appends the bytes of an OCTET STRING chunk (itself possibly chunked) to `out`.
    fn octet_chunk(&self, at: usize, depth: usize, out: &mut Vec<u8>) -> Result<usize, BerError> {
        if depth > MAX_DEPTH {
            return Err(BerError::TooDeep);
        }
        let h = self.header(at)?;
        let start = at + h.header_len;
        match self.input[at] {
            OCTET_STRING => {
                let end = self.definite_end(at, start, h.length)?;
                out.extend_from_slice(&self.input[start..end]);
                Ok(end)
            }
            OCTET_STRING_CONSTRUCTED => {
                self.children(at, start, h.length, depth, &mut |t, child_at, child_depth| t.octet_chunk(child_at, child_depth, out))
            }
            _ => Err(BerError::Chunk(at)),
        }
    }

    /// Runs `each` on every child of a constructed element whose content starts at `start`,
    /// up to its length or its end-of-contents marker; returns where the element ends.
    fn children(
        &self,
        at: usize,
        start: usize,
        length: Option<usize>,
        depth: usize,
        each: &mut dyn FnMut(&Self, usize, usize) -> Result<usize, BerError>,
    ) -> Result<usize, BerError> {
        let mut pos = start;
        match length {
            Some(_) => {
                let end = self.definite_end(at, start, length)?;
                while pos < end {
                    pos = each(self, pos, depth + 1)?;
                }
                if pos != end {
                    return Err(BerError::Length(at));
                }
                Ok(end)
            }
            None => loop {
                if self.input.get(pos..pos + 2) == Some(&EOC[..]) {
                    return Ok(pos + 2);
                }
                if pos >= self.input.len() {
                    return Err(BerError::Truncated(at));
                }
                pos = each(self, pos, depth + 1)?;
            },
        }
    }

    fn definite_end(&self, at: usize, start: usize, length: Option<usize>) -> Result<usize, BerError> {
        let length = length.ok_or(BerError::Length(at))?;
        let end = start.checked_add(length).ok_or(BerError::Length(at))?;
        if end > self.input.len() {
            return Err(BerError::Truncated(at));
        }
        Ok(end)
    }
}

fn length_bytes(length: usize) -> usize {
    (usize::BITS as usize - length.leading_zeros() as usize).div_ceil(8)
}

fn write_header(out: &mut Vec<u8>, tag: &[u8], length: usize) {
    out.extend_from_slice(tag);
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let n = length_bytes(length);
        out.push(0x80 | n as u8);
        out.extend_from_slice(&length.to_be_bytes()[std::mem::size_of::<usize>() - n..]);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Re-encodes DER with every constructed element in the indefinite form and every
    /// OCTET STRING longer than 8 bytes cut into constructed chunks, as streaming signers do.
    pub(crate) fn indefinite(der: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < der.len() {
            let h = Transcoder { input: der }.header(pos).unwrap();
            let (start, end) = (pos + h.header_len, pos + h.header_len + h.length.unwrap());
            let tag = &der[pos..pos + h.tag_len];
            if h.constructed {
                out.extend_from_slice(tag);
                out.push(0x80);
                out.extend(indefinite(&der[start..end]));
                out.extend_from_slice(&EOC);
            } else if tag == [OCTET_STRING] && end - start > 8 {
                out.extend_from_slice(&[OCTET_STRING_CONSTRUCTED, 0x80]);
                for chunk in der[start..end].chunks(8) {
                    write_header(&mut out, &[OCTET_STRING], chunk.len());
                    out.extend_from_slice(chunk);
                }
                out.extend_from_slice(&EOC);
            } else {
                out.extend_from_slice(&der[pos..end]);
            }
            pos = end;
        }
        out
    }

    #[test]
    fn der_is_copied_unchanged_and_padding_ignored() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xaa];
        let padded = [&der[..], &[0; 10]].concat();
        assert_eq!(to_der(&padded).unwrap(), der);
    }

    #[test]
    fn indefinite_lengths_and_chunks_become_der() {
        let der = [&[0x30, 0x81, 0x88, 0x04, 0x81, 0x82][..], &[7; 130], &[0x02, 0x01, 0x01]].concat();
        let ber = indefinite(&der);
        assert_ne!(ber, der);
        assert_eq!(to_der(&[&ber[..], &[0; 4]].concat()).unwrap(), der);
        // a long-form length that DER would write short is shortened
        assert_eq!(to_der(&[0x30, 0x81, 0x03, 0x02, 0x01, 0x01]).unwrap(), [0x30, 0x03, 0x02, 0x01, 0x01]);
    }

    #[test]
    fn hostile_input_is_refused() {
        let deep: Vec<u8> = std::iter::repeat_n([0x30, 0x80], 10_000).flatten().collect();
        assert_eq!(to_der(&deep), Err(BerError::TooDeep));
        assert!(matches!(to_der(&[0x30, 0x80, 0x02, 0x01]), Err(BerError::Truncated(_))));
        assert!(matches!(to_der(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00]), Err(BerError::Truncated(_))));
        assert!(matches!(to_der(&[0x04, 0x80, 0x00, 0x00]), Err(BerError::Length(0))));
        assert!(matches!(to_der(&[0x24, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00]), Err(BerError::Chunk(2))));
        assert!(matches!(to_der(&[0x30, 0x03, 0x02, 0x05, 0x01]), Err(BerError::Truncated(_))));
        assert_eq!(to_der(&vec![0; MAX_BYTES + 1]), Err(BerError::TooLarge));
    }
}
