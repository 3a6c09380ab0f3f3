//! The signature field, its widget and the signature dictionary with a zero-filled
//! `/Contents` placeholder, added as one incremental update.

use super::appearance::{self, Appearance};
use super::update::Update;
use super::{pdf_date, read, PdfError};
use lopdf::{Dictionary, Object, ObjectId};
use sha2::{Digest, Sha256};

/// What the new signature field looks like and says.
pub struct FieldSpec {
    /// 1-based page that holds the widget.
    pub page: u32,
    /// Visible appearance; `None` makes an invisible signature (`/Rect [0 0 0 0]`).
    pub appearance: Option<Appearance>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub name: Option<String>,
    /// The claimed signing time, written as `/M`.
    pub signing_time: chrono::DateTime<chrono::FixedOffset>,
    /// Bytes reserved for the CMS (the hex string holds twice as many digits).
    pub contents_room: usize,
}

/// A PDF with the placeholder in place, waiting for its CMS.
pub struct Prepared {
    bytes: Vec<u8>,
    byte_range: [usize; 4],
    field_name: String,
}

const BYTE_RANGE_SLOT: &str = "0 0000000000 0000000000 0000000000";

impl Prepared {
    /// `[0, a, b, c]`: the two signed ranges around the `/Contents` hex string.
    pub fn byte_range(&self) -> [usize; 4] {
        self.byte_range
    }

    pub fn field_name(&self) -> &str {
        &self.field_name
    }

    /// Bytes of CMS the placeholder can hold.
    pub fn room(&self) -> usize {
        (self.byte_range[2] - self.byte_range[1] - 2) / 2
    }

    /// The two signed ranges: everything but the `/Contents` hex string.
    pub fn signed_ranges(&self) -> [&[u8]; 2] {
        let [a, b, c, d] = self.byte_range;
        [&self.bytes[a..a + b], &self.bytes[c..c + d]]
    }

    /// SHA-256 over the two signed ranges.
    pub fn digest(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        for range in self.signed_ranges() {
            h.update(range);
        }
        h.finalize().into()
    }

    /// Writes the CMS into the placeholder (upper-case hex, zero padded) and returns the PDF.
    pub fn finish(mut self, cms: &[u8]) -> Result<Vec<u8>, PdfError> {
        let room = self.room();
        if cms.len() > room {
            return Err(PdfError::ContentsTooSmall { needed: cms.len(), room });
        }
        let start = self.byte_range[1] + 1;
        let hex = hex::encode_upper(cms);
        self.bytes[start..start + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(self.bytes)
    }
}

/// Adds a signature field and its placeholder to `pdf` as an incremental update.
pub fn prepare(pdf: &[u8], spec: FieldSpec) -> Result<Prepared, PdfError> {
    let doc = read::load(pdf)?;
    let pages = doc.get_pages();
    let page_id = *pages.get(&spec.page).ok_or(PdfError::NoSuchPage { page: spec.page, count: pages.len() })?;
    let root_id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| PdfError::Structure("trailer /Root is not a reference".into()))?;
    let mut update = Update::new(pdf, &doc);

    let sig_id = update.alloc();
    let widget_id = update.alloc();
    let field_name = unique_field_name(&doc, root_id);

    let mut widget = Dictionary::new();
    widget.set("Type", Object::Name(b"Annot".to_vec()));
    widget.set("Subtype", Object::Name(b"Widget".to_vec()));
    widget.set("FT", Object::Name(b"Sig".to_vec()));
    widget.set("T", Object::String(text_bytes(&field_name), lopdf::StringFormat::Literal));
    widget.set("V", Object::Reference(sig_id));
    // Print + Locked: the widget prints and cannot be moved by a viewer.
    widget.set("F", Object::Integer(132));
    widget.set("P", Object::Reference(page_id));
    match &spec.appearance {
        Some(ap) => {
            widget.set("Rect", Object::Array(ap.rect.iter().map(|v| Object::Real(*v)).collect()));
            let form_id = appearance::write(&mut update, &doc, ap)?;
            widget.set("AP", Object::Dictionary(Dictionary::from_iter([("N", Object::Reference(form_id))])));
        }
        None => widget.set("Rect", Object::Array(vec![Object::Integer(0); 4])),
    }
    update.put(widget_id, &Object::Dictionary(widget));

    add_to_page(&mut update, &doc, page_id, widget_id)?;
    add_to_acroform(&mut update, &doc, root_id, widget_id)?;

    let (body, br_at, contents_at) = signature_dictionary(&spec);
    update.put_raw(sig_id, body);
    let written = update.finish()?;
    let sig_body = written.body_offsets[&sig_id];
    let mut bytes = written.bytes;
    let lt = sig_body + contents_at;
    let after_gt = lt + 2 * spec.contents_room + 2;
    let byte_range = [0, lt, after_gt, bytes.len() - after_gt];
    let numbers = format!("0 {} {} {}", byte_range[1], byte_range[2], byte_range[3]);
    let slot = sig_body + br_at;
    bytes[slot..slot + BYTE_RANGE_SLOT.len()].copy_from_slice(format!("{numbers:<width$}", width = BYTE_RANGE_SLOT.len()).as_bytes());
    Ok(Prepared { bytes, byte_range, field_name })
}

/// The signature dictionary body, with the offsets of the ByteRange slot and of `<`.
fn signature_dictionary(spec: &FieldSpec) -> (Vec<u8>, usize, usize) {
    let mut s = String::from("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached");
    s.push_str(&format!(" /M {}", literal(&pdf_date(spec.signing_time))));
    for (key, value) in [("Reason", &spec.reason), ("Location", &spec.location), ("Name", &spec.name)] {
        if let Some(v) = value {
            s.push_str(&format!(" /{key} {}", text_string(v)));
        }
    }
    s.push_str(" /ByteRange [");
    let br_at = s.len();
    s.push_str(BYTE_RANGE_SLOT);
    s.push_str("] /Contents ");
    let contents_at = s.len();
    s.push('<');
    s.push_str(&"0".repeat(2 * spec.contents_room));
    s.push_str("> >>");
    (s.into_bytes(), br_at, contents_at)
}

fn add_to_page(update: &mut Update, doc: &lopdf::Document, page_id: ObjectId, widget_id: ObjectId) -> Result<(), PdfError> {
    let mut page = doc.get_dictionary(page_id).map_err(|e| PdfError::Structure(format!("page object: {e}")))?.clone();
    match page.get(b"Annots") {
        Ok(Object::Reference(arr_id)) => {
            let arr_id = *arr_id;
            let mut arr =
                doc.get_object(arr_id).and_then(Object::as_array).map_err(|e| PdfError::Structure(format!("page /Annots: {e}")))?.clone();
            arr.push(Object::Reference(widget_id));
            update.put(arr_id, &Object::Array(arr));
            return Ok(());
        }
        Ok(Object::Array(arr)) => {
            let mut arr = arr.clone();
            arr.push(Object::Reference(widget_id));
            page.set("Annots", Object::Array(arr));
        }
        _ => page.set("Annots", Object::Array(vec![Object::Reference(widget_id)])),
    }
    update.put(page_id, &Object::Dictionary(page));
    Ok(())
}

fn add_to_acroform(update: &mut Update, doc: &lopdf::Document, root_id: ObjectId, widget_id: ObjectId) -> Result<(), PdfError> {
    let mut catalog = doc.get_dictionary(root_id).map_err(|e| PdfError::Structure(format!("catalog: {e}")))?.clone();
    let (mut form, form_id) = match catalog.get(b"AcroForm") {
        Ok(Object::Reference(id)) => {
            (doc.get_dictionary(*id).map_err(|e| PdfError::Structure(format!("/AcroForm: {e}")))?.clone(), Some(*id))
        }
        Ok(Object::Dictionary(d)) => (d.clone(), None),
        _ => (Dictionary::new(), None),
    };
    match form.get(b"Fields") {
        Ok(Object::Reference(fid)) => {
            let fid = *fid;
            let mut arr = doc.get_object(fid).and_then(Object::as_array).map_err(|e| PdfError::Structure(format!("/Fields: {e}")))?.clone();
            arr.push(Object::Reference(widget_id));
            update.put(fid, &Object::Array(arr));
        }
        Ok(Object::Array(arr)) => {
            let mut arr = arr.clone();
            arr.push(Object::Reference(widget_id));
            form.set("Fields", Object::Array(arr));
        }
        _ => form.set("Fields", Object::Array(vec![Object::Reference(widget_id)])),
    }
    // SignaturesExist | AppendOnly: viewers must save later changes incrementally.
    form.set("SigFlags", Object::Integer(3));
    match form_id {
        Some(id) => update.put(id, &Object::Dictionary(form)),
        None => {
            catalog.set("AcroForm", Object::Dictionary(form));
            update.put(root_id, &Object::Dictionary(catalog));
        }
    }
    Ok(())
}

/// `Signature1`, `Signature2`, …: the first name no top-level field uses yet.
fn unique_field_name(doc: &lopdf::Document, root_id: ObjectId) -> String {
    let taken: Vec<Vec<u8>> = read::field_names(doc, root_id);
    (1..).map(|n| format!("Signature{n}")).find(|n| !taken.iter().any(|t| t == n.as_bytes())).unwrap_or_default()
}

/// A PDF text string: literal for printable ASCII, UTF-16BE with a BOM in hex otherwise.
pub(crate) fn text_string(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        literal(s)
    } else {
        let mut hex = String::from("<FEFF");
        for unit in s.encode_utf16() {
            hex.push_str(&format!("{unit:04X}"));
        }
        hex.push('>');
        hex
    }
}

fn text_bytes(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn literal(s: &str) -> String {
    let mut out = String::from("(");
    for c in s.chars() {
        if matches!(c, '(' | ')' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(')');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_strings_escape_or_use_utf16() {
        assert_eq!(text_string("a(b)c\\"), "(a\\(b\\)c\\\\)");
        assert_eq!(text_string("Hà"), "<FEFF004800E0>");
    }
}
