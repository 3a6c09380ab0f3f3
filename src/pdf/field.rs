//! The signature field, its widget and the signature dictionary with a zero-filled
//! `/Contents` placeholder, added as one incremental update.

use super::appearance::{self, Appearance};
use super::file::{PdfFile, Revision};
use super::update::Update;
use super::{pdf_date, read, PdfError, MAX_PDF_BYTES};
use lopdf::{Dictionary, Object, ObjectId};
use sha2::{Digest, Sha256};
use std::io::{Read, Seek};

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
    /// Make a certification signature with this DocMDP `/P`: 1 no changes, 2 form filling
    /// and signing, 3 also annotations.
    pub certify: Option<u8>,
    /// A document time-stamp (`/Type /DocTimeStamp`, `/SubFilter /ETSI.RFC3161`): the
    /// `/Contents` will be an RFC 3161 token over the byte ranges, not a CMS signature.
    pub doc_timestamp: bool,
}

/// The revision to append, with the placeholder in place, waiting for its CMS.
pub struct Prepared {
    /// Length of the original file, which the revision follows.
    original_len: u64,
    appended: Vec<u8>,
    byte_range: [usize; 4],
    digest: [u8; 32],
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

    /// Length of the original file; the signed PDF is that file followed by the revision.
    pub fn original_len(&self) -> u64 {
        self.original_len
    }

    /// Bytes of CMS the placeholder can hold.
    pub fn room(&self) -> usize {
        (self.byte_range[2] - self.byte_range[1] - 2) / 2
    }

    /// The signed parts of the appended revision: before and after the `/Contents` hex
    /// string. The signed content is the original file followed by these.
    pub fn signed_parts(&self) -> [&[u8]; 2] {
        let [_, lt, after_gt, _] = self.byte_range;
        let base = self.original_len as usize;
        [&self.appended[..lt - base], &self.appended[after_gt - base..]]
    }

    /// SHA-256 over the two signed ranges.
    pub fn digest(&self) -> [u8; 32] {
        self.digest
    }

    /// Writes the CMS into the placeholder (upper-case hex, zero padded) and returns the
    /// revision to append to the original file.
    pub fn finish(mut self, cms: &[u8]) -> Result<Vec<u8>, PdfError> {
        let room = self.room();
        if cms.len() > room {
            return Err(PdfError::ContentsTooSmall { needed: cms.len(), room });
        }
        let start = self.byte_range[1] + 1 - self.original_len as usize;
        let hex = hex::encode_upper(cms);
        self.appended[start..start + hex.len()].copy_from_slice(hex.as_bytes());
        Ok(self.appended)
    }
}

/// Adds a signature field and its placeholder to the PDF in `source` as an incremental
/// update. Reads only the objects it changes, then hashes the file once, streaming.
pub fn prepare<R: Read + Seek>(source: R, spec: FieldSpec) -> Result<Prepared, PdfError> {
    let file = PdfFile::open(source)?;
    let rev = file.latest()?;
    let pages = read::pages(&rev)?;
    let page_id = *spec
        .page
        .checked_sub(1)
        .and_then(|i| pages.get(i as usize))
        .ok_or(PdfError::NoSuchPage { page: spec.page, count: pages.len() })?;
    let (root_id, mut catalog) = rev.catalog()?;
    if !spec.doc_timestamp {
        // A document time-stamp is validation data, allowed whatever the certification says.
        check_permissions(&rev, spec.certify)?;
    }
    let mut update = Update::new(&rev)?;

    let sig_id = update.alloc();
    let widget_id = update.alloc();
    let field_name = unique_field_name(&rev);

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
            // The widget stays on the visible page, whatever page space the file uses.
            let rect = appearance::clamp(ap.rect, read::crop_box(&rev, page_id, spec.page)?)?;
            widget.set("Rect", Object::Array(rect.iter().map(|v| Object::Real(*v)).collect()));
            let form_id = appearance::write(&mut update, ap, rect)?;
            widget.set("AP", Object::Dictionary(Dictionary::from_iter([("N", Object::Reference(form_id))])));
        }
        None => widget.set("Rect", Object::Array(vec![Object::Integer(0); 4])),
    }
    update.put(widget_id, &Object::Dictionary(widget));

    add_to_page(&mut update, &rev, page_id, widget_id)?;
    let mut catalog_changed = add_to_acroform(&mut update, &rev, &mut catalog, widget_id)?;
    if spec.certify.is_some() {
        catalog.set("Perms", Object::Dictionary(Dictionary::from_iter([("DocMDP", Object::Reference(sig_id))])));
        catalog_changed = true;
    }
    if catalog_changed {
        update.put(root_id, &Object::Dictionary(catalog));
    }

    let (body, br_at, contents_at) = signature_dictionary(&spec);
    update.put_raw(sig_id, body);
    let written = update.finish();
    let original_len = file.len();
    let sig_body = written.body_offsets[&sig_id] as usize;
    let mut appended = written.bytes;
    let lt = sig_body + contents_at;
    let after_gt = lt + 2 * spec.contents_room + 2;
    let total = original_len as usize + appended.len();
    if total > MAX_PDF_BYTES {
        return Err(PdfError::TooLarge);
    }
    let byte_range = [0, lt, after_gt, total - after_gt];
    let numbers = format!("0 {} {} {}", byte_range[1], byte_range[2], byte_range[3]);
    let slot = sig_body + br_at - original_len as usize;
    appended[slot..slot + BYTE_RANGE_SLOT.len()].copy_from_slice(format!("{numbers:<width$}", width = BYTE_RANGE_SLOT.len()).as_bytes());

    let mut prepared = Prepared { original_len, appended, byte_range, digest: [0; 32], field_name };
    let mut hasher = Sha256::new();
    file.for_each_chunk(0, original_len, |chunk| hasher.update(chunk))?;
    for part in prepared.signed_parts() {
        hasher.update(part);
    }
    prepared.digest = hasher.finalize().into();
    Ok(prepared)
}

/// Refuses to sign what an existing certification forbids (DocMDP P=1), and to certify a
/// document that is already signed (certification must come first).
fn check_permissions<R: Read + Seek>(rev: &Revision<R>, certify: Option<u8>) -> Result<(), PdfError> {
    let existing = read::signatures(rev);
    if existing.iter().any(|e| e.docmdp == Some(1)) {
        return Err(PdfError::Forbidden(
            "the document is certified with no changes permitted (DocMDP P=1); it cannot be signed again".into(),
        ));
    }
    match certify {
        Some(p) if !(1..=3).contains(&p) => Err(PdfError::Forbidden(format!("certification level {p} is not 1, 2 or 3"))),
        Some(_) if !existing.is_empty() => {
            Err(PdfError::Forbidden("the document is already signed; a certification signature must be the first".into()))
        }
        _ => Ok(()),
    }
}

/// The signature dictionary body, with the offsets of the ByteRange slot and of `<`.
fn signature_dictionary(spec: &FieldSpec) -> (Vec<u8>, usize, usize) {
    let mut s = if spec.doc_timestamp {
        String::from("<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161")
    } else {
        let mut s = String::from("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached");
        s.push_str(&format!(" /M {}", literal(&pdf_date(spec.signing_time))));
        s
    };
    if let Some(p) = spec.certify {
        s.push_str(&format!(
            " /Reference [<< /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P {p} /V /1.2 >> >>]"
        ));
    }
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

fn add_to_page<R: Read + Seek>(update: &mut Update, rev: &Revision<R>, page_id: ObjectId, widget_id: ObjectId) -> Result<(), PdfError> {
    let mut page = rev.dictionary(&Object::Reference(page_id), "the page object")?;
    match page.get(b"Annots") {
        Ok(Object::Reference(arr_id)) => {
            let arr_id = *arr_id;
            let Object::Array(mut arr) = rev.object(arr_id)? else {
                return Err(PdfError::Structure("page /Annots is not an array".into()));
            };
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

/// Adds the widget to the form's fields; returns whether `catalog` changed (a form held
/// directly in it, or a new one) and must be written.
fn add_to_acroform<R: Read + Seek>(
    update: &mut Update,
    rev: &Revision<R>,
    catalog: &mut Dictionary,
    widget_id: ObjectId,
) -> Result<bool, PdfError> {
    let (mut form, form_id) = match catalog.get(b"AcroForm") {
        Ok(Object::Reference(id)) => (rev.dictionary(&Object::Reference(*id), "/AcroForm")?, Some(*id)),
        Ok(Object::Dictionary(d)) => (d.clone(), None),
        _ => (Dictionary::new(), None),
    };
    match form.get(b"Fields") {
        Ok(Object::Reference(fid)) => {
            let fid = *fid;
            let Object::Array(mut arr) = rev.object(fid)? else {
                return Err(PdfError::Structure("/Fields is not an array".into()));
            };
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
        Some(id) => {
            update.put(id, &Object::Dictionary(form));
            Ok(false)
        }
        None => {
            catalog.set("AcroForm", Object::Dictionary(form));
            Ok(true)
        }
    }
}

/// `Signature1`, `Signature2`, …: the first name no top-level field uses yet.
fn unique_field_name<R: Read + Seek>(rev: &Revision<R>) -> String {
    let taken: Vec<Vec<u8>> = read::field_names(rev);
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
