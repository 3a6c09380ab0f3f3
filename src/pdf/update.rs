//! Writes an incremental update: new and changed objects appended after the last `%%EOF`,
//! then a cross-reference section of the same kind as the file's last one, so that earlier
//! bytes (and the signatures over them) stay untouched.

use super::file::Revision;
use super::PdfError;
use lopdf::{Object, ObjectId, Writer};
use std::collections::BTreeMap;
use std::io::{Read, Seek};

/// Objects to append to a revision.
pub(crate) struct Update {
    /// Length of the file the update is appended to.
    base_len: u64,
    base_ends_with_eol: bool,
    /// `/Prev`: the newest cross-reference section.
    prev: u64,
    stream_xref: bool,
    /// ` /Root … /Info … /ID …`, carried over from the revision's trailer.
    trailer: String,
    next_id: u32,
    objects: BTreeMap<ObjectId, Vec<u8>>,
}

/// The appended revision and where each written object's body starts in the whole file.
pub(crate) struct Written {
    pub bytes: Vec<u8>,
    pub body_offsets: BTreeMap<ObjectId, u64>,
}

impl Update {
    pub fn new<R: Read + Seek>(rev: &Revision<R>) -> Result<Self, PdfError> {
        let file = rev.file();
        let last = file.read_at(file.len().saturating_sub(1), 1, file.len())?;
        let xref = rev.xref();
        let size = rev.trailer().get(b"Size").and_then(Object::as_i64).unwrap_or(0).clamp(0, i64::from(u32::MAX - 1)) as u32;
        let next_id = size.max(xref.max_id().saturating_add(1));
        Ok(Update {
            base_len: file.len(),
            base_ends_with_eol: matches!(last.as_slice(), [b'\n' | b'\r']),
            prev: xref.startxref,
            stream_xref: xref.stream,
            trailer: trailer_entries(rev.trailer())?,
            next_id,
            objects: BTreeMap::new(),
        })
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

    /// The bytes to append: the objects, a cross-reference section and a trailer.
    pub fn finish(self) -> Written {
        let mut out = Vec::with_capacity(64 * 1024);
        if !self.base_ends_with_eol {
            out.push(b'\n');
        }
        let at = |out: &Vec<u8>| self.base_len + out.len() as u64;
        let mut offsets = BTreeMap::new();
        let mut body_offsets = BTreeMap::new();
        for (id, body) in &self.objects {
            offsets.insert(*id, at(&out));
            out.extend_from_slice(format!("{} {} obj\n", id.0, id.1).as_bytes());
            body_offsets.insert(*id, at(&out));
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let mut next_id = self.next_id;
        let trailer = format!("{} /Prev {}", self.trailer, self.prev);
        let xref_at = at(&out);
        if self.stream_xref {
            let xref_id = (next_id, 0);
            next_id += 1;
            offsets.insert(xref_id, xref_at);
            write_xref_stream(&mut out, xref_id, &offsets, next_id, &trailer);
        } else {
            write_xref_table(&mut out, &offsets, next_id, &trailer);
        }
        out.extend_from_slice(format!("startxref\n{xref_at}\n%%EOF\n").as_bytes());
        Written { bytes: out, body_offsets }
    }
}

/// Trailer keys carried over from the revision.
fn trailer_entries(trailer: &lopdf::Dictionary) -> Result<String, PdfError> {
    let mut s = String::new();
    let root = trailer.get(b"Root").map_err(|_| PdfError::Structure("trailer has no /Root".into()))?;
    for (key, value) in [("Root", Some(root)), ("Info", trailer.get(b"Info").ok()), ("ID", trailer.get(b"ID").ok())] {
        if let Some(v) = value {
            let mut buf = Vec::new();
            let _ = Writer::write_object(&mut buf, v);
            s.push_str(&format!(" /{key} {}", String::from_utf8_lossy(&buf)));
        }
    }
    Ok(s)
}

fn write_xref_table(out: &mut Vec<u8>, offsets: &BTreeMap<ObjectId, u64>, size: u32, trailer: &str) {
    out.extend_from_slice(b"xref\n");
    for run in runs(offsets) {
        out.extend_from_slice(format!("{} {}\n", run[0].0 .0, run.len()).as_bytes());
        for (id, off) in run {
            out.extend_from_slice(format!("{off:010} {:05} n\r\n", id.1).as_bytes());
        }
    }
    out.extend_from_slice(format!("trailer\n<< /Size {size}{trailer} >>\n").as_bytes());
}

fn write_xref_stream(out: &mut Vec<u8>, xref_id: ObjectId, offsets: &BTreeMap<ObjectId, u64>, size: u32, trailer: &str) {
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
fn runs(offsets: &BTreeMap<ObjectId, u64>) -> Vec<Vec<(ObjectId, u64)>> {
    let mut runs: Vec<Vec<(ObjectId, u64)>> = Vec::new();
    for (id, off) in offsets {
        match runs.last_mut() {
            Some(run) if run.last().map(|(last, _)| last.0 + 1) == Some(id.0) => run.push((*id, *off)),
            _ => runs.push(vec![(*id, *off)]),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_split_at_gaps() {
        let offsets: BTreeMap<ObjectId, u64> = [((3, 0), 10), ((4, 0), 20), ((9, 0), 30)].into_iter().collect();
        let r = runs(&offsets);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].len(), 2);
        assert_eq!(r[1][0].0, (9, 0));
    }
}
