//! Visible signature appearance: a form XObject with text lines and an optional image.

use super::update::Update;
use super::PdfError;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

/// One line of text in the appearance, at a size in points.
pub struct AppearanceText {
    pub text: String,
    pub size: f32,
}

/// Where the widget sits and what it shows.
pub struct Appearance {
    /// `[x1 y1 x2 y2]` in page space (points).
    pub rect: [f32; 4],
    pub lines: Vec<AppearanceText>,
    /// PNG drawn behind the text (the official's hand signature), if any.
    pub image: Option<Vec<u8>>,
}

impl Appearance {
    /// The official's appearance: name, title, agency (from the certificate subject) and the
    /// signing time in ISO 8601 with the Vietnam offset.
    pub fn for_signer(
        rect: [f32; 4],
        certificate: &[u8],
        time: chrono::DateTime<chrono::FixedOffset>,
        image: Option<Vec<u8>>,
    ) -> Result<Self, PdfError> {
        let (_, cert) =
            x509_parser::parse_x509_certificate(certificate).map_err(|e| PdfError::Appearance(format!("signer certificate: {e}")))?;
        let subject = cert.subject();
        let first =
            |oid: &x509_parser::der_parser::oid::Oid| subject.iter_by_oid(oid).next().and_then(|a| a.as_str().ok()).map(str::to_string);
        let name = first(&x509_parser::oid_registry::OID_X509_COMMON_NAME).unwrap_or_default();
        let title = first(&x509_parser::oid_registry::OID_X509_TITLE);
        let org = first(&x509_parser::oid_registry::OID_X509_ORGANIZATION_NAME);
        let mut lines = vec![AppearanceText { text: format!("Ký bởi: {name}"), size: 9.0 }];
        if let Some(t) = title {
            lines.push(AppearanceText { text: format!("Chức vụ: {t}"), size: 8.0 });
        }
        if let Some(o) = org {
            lines.push(AppearanceText { text: format!("Cơ quan: {o}"), size: 8.0 });
        }
        lines.push(AppearanceText {
            text: format!("Thời gian ký: {}", time.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)),
            size: 8.0,
        });
        Ok(Appearance { rect, lines, image })
    }
}

/// Writes the appearance form XObject and its resources; returns the form's id.
pub(crate) fn write(update: &mut Update, _doc: &Document, ap: &Appearance) -> Result<ObjectId, PdfError> {
    let [x1, y1, x2, y2] = ap.rect;
    let (w, h) = ((x2 - x1).abs(), (y2 - y1).abs());
    if !(w > 0.0 && h > 0.0 && w < 14400.0 && h < 14400.0) {
        return Err(PdfError::Appearance(format!("rectangle {w}x{h} is empty or too large")));
    }
    let mut content = String::from("q\n");
    let mut y = h - 4.0;
    for line in &ap.lines {
        y -= line.size;
        let ascii: String = line.text.chars().map(|c| if c.is_ascii() && c != '(' && c != ')' && c != '\\' { c } else { '?' }).collect();
        content.push_str(&format!("BT /F1 {} Tf 4 {y:.2} Td ({ascii}) Tj ET\n", line.size));
        y -= line.size * 0.25;
    }
    content.push_str("Q\n");
    let font_id = update.alloc();
    let mut font = Dictionary::new();
    font.set("Type", Object::Name(b"Font".to_vec()));
    font.set("Subtype", Object::Name(b"Type1".to_vec()));
    font.set("BaseFont", Object::Name(b"Helvetica".to_vec()));
    update.put(font_id, &Object::Dictionary(font));
    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"XObject".to_vec()));
    dict.set("Subtype", Object::Name(b"Form".to_vec()));
    dict.set("BBox", Object::Array(vec![0.into(), 0.into(), Object::Real(w), Object::Real(h)]));
    let fonts = Dictionary::from_iter([("F1", Object::Reference(font_id))]);
    dict.set("Resources", Object::Dictionary(Dictionary::from_iter([("Font", Object::Dictionary(fonts))])));
    let form_id = update.alloc();
    update.put(form_id, &Object::Stream(Stream::new(dict, content.into_bytes())));
    Ok(form_id)
}
