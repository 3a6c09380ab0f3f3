//! Finding signature fields and pages in a revision, and loading whole PDFs defensively
//! where every object is wanted.

use super::file::{PdfFile, Revision};
use super::{PdfError, MAX_PDF_BYTES};
use lopdf::{Dictionary, Document, Object, ObjectId};
use std::collections::HashSet;
use std::io::{Read, Seek};

/// Deepest field hierarchy followed; real forms nest a few levels.
const MAX_FIELD_DEPTH: usize = 32;
/// Most fields visited, so a hostile form cannot make verification walk forever.
const MAX_FIELDS: usize = 10_000;
/// Most pages followed in a page tree.
const MAX_PAGES: usize = 1 << 20;
/// Largest stream lopdf may inflate while loading (object and xref streams).
const MAX_DECOMPRESSED: usize = 64 << 20;

/// One signature field with a value: what a verifier needs from the PDF.
#[derive(Debug, Clone, Default)]
pub struct SignatureEntry {
    pub field: String,
    /// Why the value could not be read (it does not parse, or is no dictionary); the other
    /// members are then empty.
    pub unreadable: Option<String>,
    /// `/P` of a DocMDP transform in `/Reference`: this is a certification signature.
    pub docmdp: Option<i64>,
    /// The fields a FieldMDP transform in `/Reference` locks.
    pub locks: Option<FieldLock>,
    /// Found only in an earlier revision: the newest one no longer holds this signature.
    pub removed: bool,
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

/// Which fields a signature locks (FieldMDP, ISO 32000-1 §12.8.2.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldLock {
    All,
    Include(Vec<String>),
    Exclude(Vec<String>),
}

impl FieldLock {
    /// Whether the field with fully qualified name `name` is locked.
    pub fn locks(&self, name: &str) -> bool {
        match self {
            FieldLock::All => true,
            FieldLock::Include(names) => names.iter().any(|n| n == name),
            FieldLock::Exclude(names) => !names.iter().any(|n| n == name),
        }
    }
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
    if doc.trailer.get(b"Encrypt").is_ok_and(|e| !matches!(e, Object::Null)) || doc.encryption_state.is_some() {
        return Err(PdfError::Encrypted);
    }
    Ok(doc)
}

/// Every signature field that has a value, in the order of the form's field tree; fields
/// that do not resolve are passed over.
pub fn signatures<R: Read + Seek>(rev: &Revision<R>) -> Vec<SignatureEntry> {
    let mut out = Vec::new();
    let Some(fields) = acroform_fields(rev) else { return out };
    let mut seen = HashSet::new();
    let mut stack: Vec<(ObjectId, String, usize)> =
        fields.iter().rev().filter_map(|o| o.as_reference().ok()).map(|id| (id, String::new(), 0)).collect();
    while let Some((id, parent, depth)) = stack.pop() {
        if depth > MAX_FIELD_DEPTH || seen.len() >= MAX_FIELDS || !seen.insert(id) {
            continue;
        }
        let Ok(Object::Dictionary(field)) = rev.object(id) else { continue };
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
        let Ok(value) = field.get(b"V") else { continue };
        match rev.resolve(value) {
            Ok(Object::Dictionary(value)) => out.push(entry(name, &value, rev)),
            // An empty field waiting for a signature.
            Ok(Object::Null) => {}
            Ok(_) => out.push(SignatureEntry { field: name, unreadable: Some("/V is not a dictionary".into()), ..Default::default() }),
            Err(e) => out.push(SignatureEntry { field: name, unreadable: Some(e.to_string()), ..Default::default() }),
        }
    }
    out
}

/// The DocMDP `/P` and FieldMDP locks named in a signature's `/Reference` array.
fn references<R: Read + Seek>(v: &Dictionary, rev: &Revision<R>) -> (Option<i64>, Option<FieldLock>) {
    let (mut docmdp, mut locks) = (None, None);
    let refs = match v.get(b"Reference").ok().and_then(|r| rev.resolve(r).ok()) {
        Some(Object::Array(a)) => a,
        _ => return (None, None),
    };
    for r in refs.iter().take(16) {
        let Ok(r) = rev.dictionary(r, "a signature reference") else { continue };
        let params = r.get(b"TransformParams").ok().and_then(|p| rev.dictionary(p, "transform parameters").ok()).unwrap_or_default();
        match r.get(b"TransformMethod").and_then(Object::as_name) {
            // /P defaults to 2 (ISO 32000-1 Table 254).
            Ok(b"DocMDP") => docmdp = Some(params.get(b"P").and_then(Object::as_i64).unwrap_or(2)),
            Ok(b"FieldMDP") => {
                let names = || -> Vec<String> {
                    match params.get(b"Fields").ok().and_then(|f| rev.resolve(f).ok()) {
                        Some(Object::Array(a)) => a.iter().filter_map(|n| n.as_str().ok()).map(decode_text).collect(),
                        _ => Vec::new(),
                    }
                };
                locks = match params.get(b"Action").and_then(Object::as_name) {
                    Ok(b"Include") => Some(FieldLock::Include(names())),
                    Ok(b"Exclude") => Some(FieldLock::Exclude(names())),
                    _ => Some(FieldLock::All),
                };
            }
            _ => {}
        }
    }
    (docmdp, locks)
}

fn entry<R: Read + Seek>(field: String, v: &Dictionary, rev: &Revision<R>) -> SignatureEntry {
    let name = |key: &[u8]| v.get(key).and_then(Object::as_name).map(|n| String::from_utf8_lossy(n).into_owned()).unwrap_or_default();
    let text = |key: &[u8]| v.get(key).ok().and_then(|t| t.as_str().ok()).map(decode_text);
    let (docmdp, locks) = references(v, rev);
    SignatureEntry {
        field,
        unreadable: None,
        docmdp,
        locks,
        removed: false,
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
pub(crate) fn field_names<R: Read + Seek>(rev: &Revision<R>) -> Vec<Vec<u8>> {
    let Some(fields) = acroform_fields(rev) else { return Vec::new() };
    fields
        .iter()
        .take(MAX_FIELDS)
        .filter_map(|f| rev.resolve(f).ok())
        .filter_map(|f| f.as_dict().ok().and_then(|d| d.get(b"T").ok()).and_then(|t| t.as_str().ok()).map(<[u8]>::to_vec))
        .collect()
}

fn acroform_fields<R: Read + Seek>(rev: &Revision<R>) -> Option<Vec<Object>> {
    let (_, catalog) = rev.catalog().ok()?;
    let form = rev.resolve(catalog.get(b"AcroForm").ok()?).ok()?;
    match rev.resolve(form.as_dict().ok()?.get(b"Fields").ok()?).ok()? {
        Object::Array(fields) => Some(fields),
        _ => None,
    }
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
pub fn revision_end<R: Read + Seek>(file: &PdfFile<R>, at: u64) -> bool {
    if at > file.len() || at < 5 {
        return false;
    }
    let from = at.saturating_sub(7);
    file.read_at(from, (at - from) as usize, at).is_ok_and(|tail| ends_revision(&tail))
}

/// Whether `tail` ends with `%%EOF` and at most two end-of-line bytes.
fn ends_revision(tail: &[u8]) -> bool {
    let mut end = tail.len();
    while end > 0 && matches!(tail[end - 1], b'\r' | b'\n') && tail.len() - end < 2 {
        end -= 1;
    }
    end >= 5 && &tail[end - 5..end] == b"%%EOF"
}

/// The page objects in order, from the catalog's page tree.
pub(crate) fn pages<R: Read + Seek>(rev: &Revision<R>) -> Result<Vec<ObjectId>, PdfError> {
    let (_, catalog) = rev.catalog()?;
    let root = catalog.get(b"Pages").and_then(Object::as_reference).map_err(|_| PdfError::Structure("the catalog has no /Pages".into()))?;
    let mut pages = Vec::new();
    let mut seen = HashSet::new();
    let mut stack = vec![(root, 0usize)];
    while let Some((id, depth)) = stack.pop() {
        if depth > MAX_FIELD_DEPTH || !seen.insert(id) || pages.len() >= MAX_PAGES {
            continue;
        }
        let Ok(Object::Dictionary(node)) = rev.object(id) else { continue };
        let is_page = node.get(b"Type").and_then(Object::as_name).is_ok_and(|t| t == b"Page");
        match node.get(b"Kids").and_then(Object::as_array) {
            Ok(kids) if !is_page => stack.extend(kids.iter().rev().filter_map(|k| k.as_reference().ok()).map(|k| (k, depth + 1))),
            _ => pages.push(id),
        }
    }
    Ok(pages)
}

/// Width and height in points of page `page` (1-based), from its (inherited) `/MediaBox`.
pub(crate) fn page_size<R: Read + Seek>(rev: &Revision<R>, page: u32) -> Result<(f32, f32), PdfError> {
    let (media, _) = page_boxes(rev, page_id(rev, page)?, page)?;
    Ok((media[2] - media[0], media[3] - media[1]))
}

/// The object of page `page` (1-based).
pub(crate) fn page_id<R: Read + Seek>(rev: &Revision<R>, page: u32) -> Result<ObjectId, PdfError> {
    let pages = pages(rev)?;
    page.checked_sub(1).and_then(|i| pages.get(i as usize)).copied().ok_or(PdfError::NoSuchPage { page, count: pages.len() })
}

/// The visible area of a page in page space, `[x1 y1 x2 y2]` with `x1 < x2`, `y1 < y2`: its
/// `/CropBox` cut to its `/MediaBox`, else the `/MediaBox`. Neither need start at the origin.
pub(crate) fn crop_box<R: Read + Seek>(rev: &Revision<R>, page_id: ObjectId, page: u32) -> Result<[f32; 4], PdfError> {
    let (media, crop) = page_boxes(rev, page_id, page)?;
    Ok(crop.and_then(|c| intersect(c, media)).unwrap_or(media))
}

/// The page's `/MediaBox` and `/CropBox`, each inherited through `/Parent` when the page has
/// none. A malformed `/CropBox` counts as absent, as viewers then show the media box.
fn page_boxes<R: Read + Seek>(rev: &Revision<R>, page_id: ObjectId, page: u32) -> Result<([f32; 4], Option<[f32; 4]>), PdfError> {
    let (mut media, mut crop) = (None, None);
    let mut node = Some(page_id);
    // Walk up a bounded number of /Parent links.
    for _ in 0..MAX_FIELD_DEPTH {
        let Some(id) = node else { break };
        let dict = rev.dictionary(&Object::Reference(id), &format!("page {page}"))?;
        if media.is_none() {
            if let Ok(b) = dict.get(b"MediaBox") {
                media = Some(normalized(&rev.resolve(b)?).ok_or_else(|| PdfError::Structure(format!("page {page}: malformed /MediaBox")))?);
            }
        }
        if crop.is_none() {
            crop = dict.get(b"CropBox").ok().map(|b| rev.resolve(b)).transpose()?.map(|b| normalized(&b));
        }
        if media.is_some() && crop.is_some() {
            break;
        }
        node = dict.get(b"Parent").and_then(Object::as_reference).ok();
    }
    let media = media.ok_or_else(|| PdfError::Structure(format!("page {page}: no /MediaBox")))?;
    Ok((media, crop.flatten()))
}

/// A PDF rectangle as `[x1 y1 x2 y2]` with the lower-left corner first, if it has four finite
/// numbers and an area.
fn normalized(o: &Object) -> Option<[f32; 4]> {
    let n: Vec<f32> = o.as_array().ok()?.iter().filter_map(|o| o.as_float().ok()).collect();
    let [a, b, c, d] = n[..] else { return None };
    let r = [a.min(c), b.min(d), a.max(c), b.max(d)];
    (r.iter().all(|v| v.is_finite()) && r[0] < r[2] && r[1] < r[3]).then_some(r)
}

/// The overlap of two rectangles, if they overlap.
fn intersect(a: [f32; 4], b: [f32; 4]) -> Option<[f32; 4]> {
    let r = [a[0].max(b[0]), a[1].max(b[1]), a[2].min(b[2]), a[3].min(b[3])];
    (r[0] < r[2] && r[1] < r[3]).then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_ends_after_eof_marker() {
        let pdf = PdfFile::open(std::io::Cursor::new(&b"%PDF-1.7\n...%%EOF\r\nmore%%EOF"[..])).unwrap();
        assert!(revision_end(&pdf, 17));
        assert!(revision_end(&pdf, 19));
        assert!(revision_end(&pdf, pdf.len()));
        assert!(!revision_end(&pdf, 21));
        assert!(!revision_end(&pdf, 10));
    }

    #[test]
    fn text_strings_decode() {
        assert_eq!(decode_text(&[0xFE, 0xFF, 0x00, 0x48, 0x00, 0xE0]), "Hà");
        assert_eq!(decode_text(b"plain"), "plain");
    }

    #[test]
    fn crop_box_is_inherited_cut_to_the_media_box_and_may_sit_off_the_origin() {
        use lopdf::dictionary;
        let mut doc = Document::with_version("1.7");
        let tree = doc.new_object_id();
        let boxed = |v: [i64; 4]| Object::Array(v.iter().map(|&n| n.into()).collect());
        let plain = doc.add_object(dictionary! { "Type" => "Page", "Parent" => tree });
        let cropped = doc.add_object(dictionary! { "Type" => "Page", "Parent" => tree, "CropBox" => boxed([-50, 700, 900, 300]) });
        let broken = doc.add_object(dictionary! { "Type" => "Page", "Parent" => tree, "CropBox" => boxed([10, 10, 10, 500]) });
        doc.objects.insert(
            tree,
            Object::Dictionary(dictionary! { "Type" => "Pages", "Count" => 3, "MediaBox" => boxed([0, 200, 595, 1042]),
            "Kids" => vec![plain.into(), cropped.into(), broken.into()] }),
        );
        let root = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => tree });
        doc.trailer.set("Root", root);
        let mut pdf = Vec::new();
        doc.save_to(&mut pdf).unwrap();
        let file = PdfFile::open(std::io::Cursor::new(&pdf)).unwrap();
        let rev = file.latest().unwrap();
        let crop = |page| crop_box(&rev, page_id(&rev, page).unwrap(), page).unwrap();
        assert_eq!(crop(1), [0.0, 200.0, 595.0, 1042.0], "the inherited media box, off the origin");
        assert_eq!(crop(2), [0.0, 300.0, 595.0, 700.0], "corners in any order, cut to the media box");
        assert_eq!(crop(3), [0.0, 200.0, 595.0, 1042.0], "an empty crop box is passed over");
        assert_eq!(page_size(&rev, 2).unwrap(), (595.0, 842.0));
        assert!(matches!(page_id(&rev, 4), Err(PdfError::NoSuchPage { page: 4, count: 3 })));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(load(b"not a pdf"), Err(PdfError::Parse(_))));
        assert!(load(b"%PDF-1.7\n1 0 obj << /Length 99999999 >> stream\n").is_err());
    }
}
