//! Writes an incremental update: new and changed objects appended after the last `%%EOF`,
//! then a cross-reference section of the same kind as the file's last one, so that earlier
//! bytes (and the signatures over them) stay untouched.

use super::PdfError;
use lopdf::{Document, Object, ObjectId, Writer};
use std::collections::BTreeMap;

/// Objects to append to a loaded document.
pub(crate) struct Update<'a> {
    base: &'a [u8],
    doc: &'a Document,
    next_id: u32,
    objects: BTreeMap<ObjectId, Vec<u8>>,
}

/// The appended revision and where each written object's body starts in it.
pub(crate) struct Written {
    pub bytes: Vec<u8>,
    pub body_offsets: BTreeMap<ObjectId, usize>,
}

impl<'a> Update<'a> {
    pub fn new(base: &'a [u8], doc: &'a Document) -> Self {
        let size = doc.trailer.get(b"Size").and_then(Object::as_i64).unwrap_or(0).max(0) as u32;
        let next_id = size.max(doc.max_id + 1);
        Update { base, doc, next_id, objects: BTreeMap::new() }
    }

    /// A fresh object number, above every number the file already uses.
    pub fn alloc(&mut self) -> ObjectId {
        let id = (self.next_id, 0);
        self.next_id += 1;
        id
    }

    /// Writes `object` as the new body of `id` (new or replacing an earlier revision's).
    pub fn put(&mut self, id: ObjectId, object: &Object) {
        let mut body = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = Writer::write_object(&mut body, object);
        self.objects.insert(id, body);
    }

    /// Writes a pre-serialised body, for objects whose byte offsets matter (the signature).
    pub fn put_raw(&mut self, id: ObjectId, body: Vec<u8>) {
        self.objects.insert(id, body);
    }

    pub fn finish(self) -> Result<Written, PdfError> {
        let prev = previous_startxref(self.base)?;
        let stream_xref = !self.base[prev..].starts_with(b"xref");
        let mut out = Vec::with_capacity(self.base.len() + 64 * 1024);
        out.extend_from_slice(self.base);
        if !matches!(out.last(), Some(b'\n' | b'\r')) {
            out.push(b'\n');
        }
        let mut offsets = BTreeMap::new();
        let mut body_offsets = BTreeMap::new();
        for (id, body) in &self.objects {
            offsets.insert(*id, out.len());
            out.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
            body_offsets.insert(*id, out.len());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let mut next_id = self.next_id;
        let trailer = self.trailer_entries(prev)?;
        let xref_at = out.len();
        if stream_xref {
            let xref_id = (next_id, 0);
            next_id += 1;
            offsets.insert(xref_id, xref_at);
            write_xref_stream(&mut out, xref_id, &offsets, next_id, &trailer);
        } else {
            write_xref_table(&mut out, &offsets, next_id, &trailer);
        }
        out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
        Ok(Written { bytes: out, body_offsets })
    }

    /// Trailer keys carried over from the document, plus `/Prev`.
    fn trailer_entries(&self, prev: usize) -> Result<String, PdfError> {
        let mut s = String::new();
        let root = self.doc.trailer.get(b"Root").map_err(|_| PdfError::Structure("trailer has no /Root".into()))?;
        for (key, value) in [("Root", Some(root)), ("Info", self.doc.trailer.get(b"Info").ok()), ("ID", self.doc.trailer.get(b"ID").ok())] {
            if let Some(v) = value {
                let mut buf = Vec::new();
                let _ = Writer::write_object(&mut buf, v);
                s.push_str(&format!(" /{key} {}", String::from_utf8_lossy(&buf)));
            }
        }
        s.push_str(&format!(" /Prev {prev}"));
        Ok(s)
    }
}

fn write_xref_table(out: &mut Vec<u8>, offsets: &BTreeMap<ObjectId, usize>, size: u32, trailer: &str) {
    out.extend_from_slice(b"xref\n");
    for run in runs(offsets) {
        out.extend_from_slice(format!("{} {}\n", run[0].0 .0, run.len()).as_bytes());
        for (id, off) in run {
            out.extend_from_slice(format!("{off:010} {:05} n\r\n", id.1).as_bytes());
        }
    }
    out.extend_from_slice(format!("trailer\n<< /Size {size}{trailer} >>\n").as_bytes());
}

fn write_xref_stream(out: &mut Vec<u8>, xref_id: ObjectId, offsets: &BTreeMap<ObjectId, usize>, size: u32, trailer: &str) {
    let mut data = Vec::new();
    let mut index = String::new();
    for run in runs(offsets) {
        index.push_str(&format!("{} {} ", run[0].0 .0, run.len()));
        for (id, off) in run {
            data.push(1u8);
            // Offsets stay below MAX_PDF_BYTES, so four bytes hold them.
            data.extend_from_slice(&(off as u32).to_be_bytes());
            data.extend_from_slice(&id.1.to_be_bytes());
        }
    }
    out.extend_from_slice(
        format!(
            "{} 0 obj\n<< /Type /XRef /Size {size} /W [1 4 2] /Index [{}]{trailer} /Length {} >>\nstream\n",
            xref_id.0,
            index.trim_end(),
            data.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\nendstream\nendobj\n");
}

/// Groups sorted object ids into runs of consecutive numbers (xref subsections).
fn runs(offsets: &BTreeMap<ObjectId, usize>) -> Vec<Vec<(ObjectId, usize)>> {
    let mut runs: Vec<Vec<(ObjectId, usize)>> = Vec::new();
    for (id, off) in offsets {
        match runs.last_mut() {
            Some(run) if run.last().map(|(last, _)| last.0 + 1) == Some(id.0) => run.push((*id, *off)),
            _ => runs.push(vec![(*id, *off)]),
        }
    }
    runs
}

/// The offset after the last `startxref` keyword, checked to lie inside the file.
pub(crate) fn previous_startxref(pdf: &[u8]) -> Result<usize, PdfError> {
    let tail_from = pdf.len().saturating_sub(2048);
    let tail = &pdf[tail_from..];
    let at = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or_else(|| PdfError::Structure("no startxref near the end of the file".into()))?;
    let rest = &tail[at + 9..];
    let digits: Vec<u8> = rest.iter().copied().skip_while(|b| b.is_ascii_whitespace()).take_while(u8::is_ascii_digit).collect();
    let offset: usize = std::str::from_utf8(&digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| PdfError::Structure("startxref is not followed by an offset".into()))?;
    if offset >= pdf.len() {
        return Err(PdfError::Structure(format!("startxref {offset} points past the end of the file")));
    }
    Ok(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_at_gaps() {
        let offsets: BTreeMap<ObjectId, usize> = [((3, 0), 10), ((4, 0), 20), ((9, 0), 30)].into_iter().collect();
        let r = runs(&offsets);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].len(), 2);
        assert_eq!(r[1][0].0, (9, 0));
    }

    #[test]
    fn startxref_is_found_and_bounded() {
        assert_eq!(previous_startxref(b"%PDF-1.7\nxref\nstartxref\n9\n%%EOF\n").unwrap(), 9);
        assert!(previous_startxref(b"%PDF-1.7\nstartxref\n999\n%%EOF").is_err());
        assert!(previous_startxref(b"%PDF-1.7\n%%EOF").is_err());
    }
}
