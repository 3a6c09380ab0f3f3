//! Cross-reference sections (ISO 32000-1 §7.5.4, §7.5.8): the chain from `startxref`
//! through `/XRefStm` and `/Prev`, merged newest first into where each object lives.

use super::file::{PdfFile, CHUNK, MAX_STREAM_BYTES};
use super::PdfError;
use lopdf::xref::XrefEntry;
use lopdf::{Dictionary, Object};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};

/// How far before the end `startxref` is looked for.
const TAIL: usize = 2048;
/// Most sections followed; each incremental update adds one or two.
const MAX_SECTIONS: usize = 4096;
/// Most objects a file may have.
const MAX_ENTRIES: usize = 1 << 23;
/// Longest token in a cross-reference table.
const MAX_TOKEN: usize = 32;
/// Trailer keys an older section supplies when a newer one leaves them out.
const INHERITED: [&[u8]; 4] = [b"Root", b"Info", b"ID", b"Encrypt"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Entry {
    Free,
    Offset { offset: u64, generation: u16 },
    Compressed { container: u32, index: u32 },
}

/// Where each object of one revision lives, and that revision's trailer.
pub(super) struct Xref {
    pub entries: HashMap<u32, Entry>,
    pub trailer: Dictionary,
    /// Offset of the newest section, which the next update names as `/Prev`.
    pub startxref: u64,
    /// Whether the newest section is a cross-reference stream.
    pub stream: bool,
    /// Where the revision ends.
    pub end: u64,
    /// Offsets of the `/Prev` sections: each starts an earlier revision.
    pub earlier: Vec<u64>,
}

impl Xref {
    /// The highest object number in use.
    pub fn max_id(&self) -> u32 {
        self.entries.keys().copied().max().unwrap_or(0)
    }

    /// Objects in use in `older` (an earlier revision of the same file) that this revision
    /// places elsewhere or frees.
    pub fn changed_since(&self, older: &Xref) -> Vec<u32> {
        let mut ids: Vec<u32> = older
            .entries
            .iter()
            .filter(|(_, e)| !matches!(e, Entry::Free))
            .filter(|(id, before)| match self.entries.get(id) {
                Some(now @ Entry::Compressed { container, .. }) => {
                    now != *before || older.entries.get(container) != self.entries.get(container)
                }
                now => now != Some(before),
            })
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Objects that `older` marks free and this revision puts back in use.
    pub fn reused_since(&self, older: &Xref) -> Vec<u32> {
        let mut ids: Vec<u32> = older
            .entries
            .iter()
            .filter(|(id, e)| **id != 0 && matches!(e, Entry::Free))
            .filter(|(id, _)| matches!(self.entries.get(id), Some(Entry::Offset { .. } | Entry::Compressed { .. })))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }
}

/// Reads the cross-reference chain of the revision that ends at `end`.
pub(super) fn read<R: Read + Seek>(file: &PdfFile<R>, end: u64) -> Result<Xref, PdfError> {
    let tail_from = end.saturating_sub(TAIL as u64);
    let startxref = startxref_in(&file.read_at(tail_from, TAIL, end)?, end)?;
    let mut xref = Xref { entries: HashMap::new(), trailer: Dictionary::new(), startxref, stream: false, end, earlier: Vec::new() };
    let mut pending = vec![startxref];
    let mut seen = HashSet::new();
    while let Some(at) = pending.pop() {
        if !seen.insert(at) {
            continue;
        }
        if seen.len() > MAX_SECTIONS {
            return Err(PdfError::Structure("too many cross-reference sections".into()));
        }
        let (trailer, is_stream) = section(file, at, end, &mut xref.entries)?;
        if xref.entries.len() > MAX_ENTRIES {
            return Err(PdfError::Structure("too many objects".into()));
        }
        let offset_of =
            |key: &[u8]| trailer.get(key).and_then(Object::as_i64).ok().and_then(|o| u64::try_from(o).ok()).filter(|o| *o < end);
        // Pushed in reverse: the section's own /XRefStm comes before older sections.
        if let Some(prev) = offset_of(b"Prev") {
            pending.push(prev);
            xref.earlier.push(prev);
        }
        if let Some(stm) = offset_of(b"XRefStm") {
            pending.push(stm);
        }
        if at == startxref {
            xref.stream = is_stream;
            xref.trailer = trailer;
        } else {
            for key in INHERITED {
                if !xref.trailer.has(key) {
                    if let Ok(v) = trailer.get(key) {
                        xref.trailer.set(key.to_vec(), v.clone());
                    }
                }
            }
        }
    }
    Ok(xref)
}

/// One section at `at`: its entries go into `entries` where no newer one is; returns its
/// trailer and whether it is a stream.
fn section<R: Read + Seek>(
    file: &PdfFile<R>,
    at: u64,
    end: u64,
    entries: &mut HashMap<u32, Entry>,
) -> Result<(Dictionary, bool), PdfError> {
    let head = file.read_at(at, 16, end)?;
    let head = head.iter().position(|b| !b.is_ascii_whitespace()).map(|i| &head[i..]).unwrap_or_default();
    if head.starts_with(b"xref") {
        return table(file, at, end, entries).map(|t| (t, false));
    }
    let (_, object) = file.indirect_at(at, end, &|_| None)?;
    let Object::Stream(stream) = object else {
        return Err(PdfError::Structure(format!("offset {at} holds neither a cross-reference table nor a stream")));
    };
    if !stream.dict.get(b"Type").and_then(Object::as_name).is_ok_and(|t| t == b"XRef") {
        return Err(PdfError::Structure(format!("the stream at offset {at} is not a cross-reference stream")));
    }
    // lopdf decodes the stream; a panic in it on hostile input is a parse error, not a crash.
    let decoded = std::panic::catch_unwind(move || lopdf::xref::decode_xref_stream_with_limit(stream, Some(MAX_STREAM_BYTES / 4)));
    let (table, trailer) = match decoded {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => return Err(PdfError::Parse(format!("cross-reference stream at offset {at}: {e}"))),
        Err(_) => return Err(PdfError::Parse(format!("cross-reference stream at offset {at} is unreadable"))),
    };
    for (id, entry) in table.entries {
        let entry = match entry {
            XrefEntry::Normal { offset, generation } => Entry::Offset { offset: u64::from(offset), generation },
            XrefEntry::Compressed { container, index } => Entry::Compressed { container, index: u32::from(index) },
            XrefEntry::Free | XrefEntry::UnusableFree => Entry::Free,
        };
        entries.entry(id).or_insert(entry);
    }
    Ok((trailer, true))
}

/// A classic `xref` table and the trailer dictionary after it.
fn table<R: Read + Seek>(file: &PdfFile<R>, at: u64, end: u64, entries: &mut HashMap<u32, Entry>) -> Result<Dictionary, PdfError> {
    let bad = |why: String| PdfError::Structure(format!("cross-reference table at offset {at}: {why}"));
    let mut tokens = Tokens { file, end, buf: Vec::new(), buf_at: at, i: 0 };
    tokens.next()?; // `xref`
    loop {
        let (token, token_at) = tokens.next()?.ok_or_else(|| bad("no trailer".into()))?;
        if token == b"trailer" {
            let (trailer, _) = file.parse_at(token_at + 7, end, |p| p.dictionary())?;
            return Ok(trailer);
        }
        let first = number(&token).ok_or_else(|| bad(format!("expected a subsection, found {:?}", String::from_utf8_lossy(&token))))?;
        let count = tokens.number()?.ok_or_else(|| bad("subsection without a count".into()))?;
        // Each entry takes at least six bytes, so the count cannot outrun the file.
        if count > (end - at) / 6 || first.checked_add(count).is_none_or(|last| last > u64::from(u32::MAX)) {
            return Err(bad(format!("subsection {first} {count} is too large")));
        }
        for id in first..first + count {
            let offset = tokens.number()?.ok_or_else(|| bad(format!("entry {id} is malformed")))?;
            let generation = tokens.number()?.ok_or_else(|| bad(format!("entry {id} is malformed")))?;
            let kind = tokens.next()?.map(|(t, _)| t).unwrap_or_default();
            // A free entry in a newer section hides the object an older section placed:
            // that is how an update deletes an object, and what viewers then show.
            let entry = match kind.as_slice() {
                b"n" if offset > 0 => Entry::Offset { offset, generation: u16::try_from(generation).unwrap_or(u16::MAX) },
                b"n" if id == 0 => continue,
                b"n" | b"f" => Entry::Free,
                _ => return Err(bad(format!("entry {id} is neither in use nor free"))),
            };
            entries.entry(id as u32).or_insert(entry);
            if entries.len() > MAX_ENTRIES {
                return Err(bad("too many objects".into()));
            }
        }
    }
}

/// White-space separated tokens of a cross-reference table, read a chunk at a time.
struct Tokens<'a, R> {
    file: &'a PdfFile<R>,
    end: u64,
    buf: Vec<u8>,
    buf_at: u64,
    i: usize,
}

impl<R: Read + Seek> Tokens<'_, R> {
    fn byte(&mut self) -> Result<Option<u8>, PdfError> {
        if self.i == self.buf.len() {
            self.buf_at += self.buf.len() as u64;
            self.buf = self.file.read_at(self.buf_at, CHUNK, self.end)?;
            self.i = 0;
            if self.buf.is_empty() {
                return Ok(None);
            }
        }
        self.i += 1;
        Ok(Some(self.buf[self.i - 1]))
    }

    /// The next token and its offset, or `None` at the end of the revision.
    fn next(&mut self) -> Result<Option<(Vec<u8>, u64)>, PdfError> {
        let mut token = Vec::new();
        let mut start = 0;
        while let Some(b) = self.byte()? {
            if b.is_ascii_whitespace() || b == 0 {
                if token.is_empty() {
                    continue;
                }
                break;
            }
            if token.is_empty() {
                start = self.buf_at + self.i as u64 - 1;
            }
            token.push(b);
            // `trailer<<` has no space before the dictionary.
            if token == b"trailer" || token.len() > MAX_TOKEN {
                break;
            }
        }
        Ok((!token.is_empty()).then_some((token, start)))
    }

    fn number(&mut self) -> Result<Option<u64>, PdfError> {
        Ok(self.next()?.and_then(|(t, _)| number(&t)))
    }
}

fn number(token: &[u8]) -> Option<u64> {
    if token.is_empty() || token.len() > 19 || !token.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(token).ok()?.parse().ok()
}

/// The offset after the last `startxref` in `tail` (the end of a revision), checked to lie
/// before `end`.
fn startxref_in(tail: &[u8], end: u64) -> Result<u64, PdfError> {
    let at = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or_else(|| PdfError::Structure("no startxref near the end of the file".into()))?;
    let digits: Vec<u8> = tail[at + 9..].iter().copied().skip_while(|b| b.is_ascii_whitespace()).take_while(u8::is_ascii_digit).collect();
    let offset = number(&digits).ok_or_else(|| PdfError::Structure("startxref is not followed by an offset".into()))?;
    if offset >= end {
        return Err(PdfError::Structure(format!("startxref {offset} points past the end of the file")));
    }
    Ok(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startxref_is_found_and_bounded() {
        assert_eq!(startxref_in(b"%PDF-1.7\nxref\nstartxref\n9\n%%EOF\n", 30).unwrap(), 9);
        assert!(startxref_in(b"%PDF-1.7\nstartxref\n999\n%%EOF", 28).is_err());
        assert!(startxref_in(b"%PDF-1.7\n%%EOF", 14).is_err());
    }
}
