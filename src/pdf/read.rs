//! Loading PDFs defensively and finding their signature fields.

use super::{PdfError, MAX_PDF_BYTES};
use lopdf::{Dictionary, Document, Object, ObjectId};
use std::collections::HashSet;

/// Deepest field hierarchy followed; real forms nest a few levels.
const MAX_FIELD_DEPTH: usize = 32;
/// Most fields visited, so a hostile form cannot make verification walk forever.
const MAX_FIELDS: usize = 10_000;
/// Largest stream lopdf may inflate while loading (object and xref streams).
const MAX_DECOMPRESSED: usize = 64 << 20;

/// One signature field with a value: what a verifier needs from the PDF.
#[derive(Debug, Clone)]
pub struct SignatureEntry {
    pub field: String,
    pub sub_filter: String,
    /// `/Type`: `Sig` or `DocTimeStamp`.
    pub kind: String,
    pub byte_range: Vec<i64>,
    pub contents: Vec<u8>,
    pub signing_time: Option<String>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub name: Option<String>,
}

/// Parses a PDF; refuses encrypted files and turns parser panics into errors.
pub fn load(pdf: &[u8]) -> Result<Document, PdfError> {
    if pdf.len() > MAX_PDF_BYTES {
        return Err(PdfError::TooLarge);
    }
    if !pdf.starts_with(b"%PDF-") && !pdf[..pdf.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
        return Err(PdfError::Parse("no %PDF- header".into()));
    }
    let options = lopdf::LoadOptions { max_decompressed_size: Some(MAX_DECOMPRESSED), ..Default::default() };
    // lopdf is a third-party parser fed hostile input; a panic there must not take down the
    // service, so it is caught and reported like any parse error.
    let loaded = std::panic::catch_unwind(|| Document::load_mem_with_options(pdf, options));
    let doc = match loaded {
        Ok(Ok(doc)) => doc,
        Ok(Err(lopdf::Error::Decryption(_))) | Ok(Err(lopdf::Error::InvalidPassword)) => return Err(PdfError::Encrypted),
        Ok(Err(e)) => return Err(PdfError::Parse(e.to_string())),
        Err(_) => return Err(PdfError::Parse("the parser gave up on this file".into())),
    };
    if doc.trailer.has(b"Encrypt") || doc.encryption_state.is_some() {
        return Err(PdfError::Encrypted);
    }
    Ok(doc)
}

/// Every signature field that has a value, in the order of the form's field tree.
pub fn signatures(doc: &Document) -> Vec<SignatureEntry> {
    let mut out = Vec::new();
    let Some(fields) = acroform_fields(doc) else { return out };
    let mut seen = HashSet::new();
    let mut stack: Vec<(ObjectId, String, usize)> =
        fields.iter().rev().filter_map(|o| o.as_reference().ok()).map(|id| (id, String::new(), 0)).collect();
    while let Some((id, parent, depth)) = stack.pop() {
        if depth > MAX_FIELD_DEPTH || seen.len() >= MAX_FIELDS || !seen.insert(id) {
            continue;
        }
        let Ok(field) = doc.get_dictionary(id) else { continue };
        let partial = field.get(b"T").ok().and_then(|t| t.as_str().ok()).map(decode_text).unwrap_or_default();
        let name = match (parent.is_empty(), partial.is_empty()) {
            (true, _) => partial,
            (false, true) => parent.clone(),
            (false, false) => format!("{parent}.{partial}"),
        };
        if let Ok(kids) = field.get(b"Kids").and_then(Object::as_array) {
            for kid in kids.iter().rev().filter_map(|o| o.as_reference().ok()) {
                stack.push((kid, name.clone(), depth + 1));
            }
        }
        let is_sig = field.get(b"FT").and_then(Object::as_name).map(|n| n == b"Sig").unwrap_or(false);
        if !is_sig {
            continue;
        }
        let Some(value) = field.get(b"V").ok().and_then(|v| doc.dereference(v).ok()).and_then(|(_, v)| v.as_dict().ok()) else { continue };
        out.push(entry(name, value));
    }
    out
}

fn entry(field: String, v: &Dictionary) -> SignatureEntry {
    let name = |key: &[u8]| v.get(key).and_then(Object::as_name).map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default();
    let text = |key: &[u8]| v.get(key).ok().and_then(|t| t.as_str().ok()).map(decode_text);
    SignatureEntry {
        field,
        sub_filter: name(b"SubFilter"),
        kind: name(b"Type"),
        byte_range: v
            .get(b"ByteRange")
            .and_then(Object::as_array)
            .map(|a| a.iter().map(|o| o.as_i64().unwrap_or(-1)).collect())
            .unwrap_or_default(),
        contents: v.get(b"Contents").ok().and_then(|c| c.as_str().ok()).map(<[u8]>::to_vec).unwrap_or_default(),
        signing_time: text(b"M"),
        reason: text(b"Reason"),
        location: text(b"Location"),
        name: text(b"Name"),
    }
}

/// Names of the form's top-level fields, to pick a new unique one.
pub(crate) fn field_names(doc: &Document, _root: ObjectId) -> Vec<Vec<u8>> {
    let Some(fields) = acroform_fields(doc) else { return Vec::new() };
    fields
        .iter()
        .filter_map(|f| doc.dereference(f).ok())
        .filter_map(|(_, f)| f.as_dict().ok())
        .filter_map(|d| d.get(b"T").ok().and_then(|t| t.as_str().ok()).map(<[u8]>::to_vec))
        .collect()
}

fn acroform_fields(doc: &Document) -> Option<&Vec<Object>> {
    let catalog = doc.catalog().ok()?;
    let (_, form) = doc.dereference(catalog.get(b"AcroForm").ok()?).ok()?;
    let (_, fields) = doc.dereference(form.as_dict().ok()?.get(b"Fields").ok()?).ok()?;
    fields.as_array().ok()
}

/// Decodes a PDF text string: UTF-16BE with a BOM, UTF-8 with a BOM, else PDFDocEncoding
/// (read as Latin-1, which agrees with it on the printable range).
pub(crate) fn decode_text(b: &[u8]) -> String {
    if let Some(rest) = b.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = b.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    b.iter().map(|&c| c as char).collect()
}

/// If a revision ends at `at` (just after `%%EOF` and an optional end-of-line), returns true.
pub fn revision_end(pdf: &[u8], at: usize) -> bool {
    if at > pdf.len() || at < 5 {
        return false;
    }
    let mut end = at;
    while end > 0 && matches!(pdf[end - 1], b'\r' | b'\n') && at - end < 2 {
        end -= 1;
    }
    end >= 5 && &pdf[end - 5..end] == b"%%EOF"
}

/// Width and height in points of page `page` (1-based), from its (inherited) `/MediaBox`.
pub fn page_size(doc: &Document, page: u32) -> Result<(f32, f32), PdfError> {
    let pages = doc.get_pages();
    let id = *pages.get(&page).ok_or(PdfError::NoSuchPage { page, count: pages.len() })?;
    let mut node = id;
    // /MediaBox is inheritable; walk up a bounded number of /Parent links.
    for _ in 0..MAX_FIELD_DEPTH {
        let dict = doc.get_dictionary(node).map_err(|e| PdfError::Structure(format!("page {page}: {e}")))?;
        if let Ok(media) = dict.get(b"MediaBox").and_then(|o| doc.dereference(o).map(|(_, o)| o)).and_then(Object::as_array) {
            let n: Vec<f32> = media.iter().filter_map(|o| o.as_float().ok()).collect();
            if let [x1, y1, x2, y2] = n[..] {
                return Ok(((x2 - x1).abs(), (y2 - y1).abs()));
            }
            return Err(PdfError::Structure(format!("page {page}: malformed /MediaBox")));
        }
        node = dict.get(b"Parent").and_then(Object::as_reference).map_err(|_| PdfError::Structure(format!("page {page}: no /MediaBox")))?;
    }
    Err(PdfError::Structure(format!("page {page}: /Parent chain too deep")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_ends_after_eof_marker() {
        let pdf = b"%PDF-1.7\n...%%EOF\r\nmore%%EOF";
        assert!(revision_end(pdf, 17));
        assert!(revision_end(pdf, 19));
        assert!(revision_end(pdf, pdf.len()));
        assert!(!revision_end(pdf, 21));
        assert!(!revision_end(pdf, 10));
    }

    #[test]
    fn text_strings_decode() {
        assert_eq!(decode_text(&[0xFE, 0xFF, 0x00, 0x48, 0x00, 0xE0]), "Hà");
        assert_eq!(decode_text(b"plain"), "plain");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(load(b"not a pdf"), Err(PdfError::Parse(_))));
        assert!(load(b"%PDF-1.7\n1 0 obj << /Length 99999999 >> stream\n").is_err());
    }
}
