//! Visible signature appearance: a form XObject with the official's signature image (and the
//! agency's seal image over its left third) above text lines (name, title, agency, time)
//! set in an embedded TrueType subset, all kept inside the box (see [`fit`]); and, for a
//! result, the QR code of its public verification page at the right (see [`qr`]).

mod fit;
mod qr;

use super::font::{deflate, FontUse};
use super::update::Update;
use super::PdfError;
pub(crate) use fit::clamp;
use fit::Extent;
use lopdf::{Dictionary, Object, ObjectId, Stream};

/// Largest signature image accepted, in pixels per side.
const MAX_IMAGE_SIDE: u32 = 4096;
/// Points between the QR code and the rest, and around it.
const QR_GAP: f32 = 3.0;
/// Largest PNG file accepted.
const MAX_IMAGE_BYTES: usize = 8 << 20;

/// One line of text in the appearance, at a size in points.
pub struct AppearanceText {
    pub text: String,
    pub size: f32,
}

/// Where the widget sits and what it shows.
pub struct Appearance {
    /// `[x1 y1 x2 y2]` in page space (points); signing moves it inside the page's crop box.
    pub rect: [f32; 4],
    pub lines: Vec<AppearanceText>,
    /// PNG drawn above the text (the official's hand signature), if any.
    pub image: Option<Vec<u8>>,
    /// PNG of the agency's seal, stamped over the left third of `image` (or alone).
    pub seal: Option<Vec<u8>>,
    /// The public verification page, drawn as a QR code at the right of the box.
    pub link: Option<String>,
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
        Ok(Appearance { rect, lines, image, seal: None, link: None })
    }

    /// The same appearance with the agency's seal stamped over the signature image.
    pub fn with_seal(self, seal: Option<Vec<u8>>) -> Self {
        Appearance { seal, ..self }
    }

    /// The same appearance with a QR code of `link` and a line naming its last part, the
    /// short id a person can type.
    pub fn with_link(mut self, link: Option<String>) -> Self {
        if let Some(short) = link.as_deref().and_then(|l| l.rsplit('/').next()).filter(|s| !s.is_empty()) {
            self.lines.push(AppearanceText { text: format!("Mã xác minh: {short}"), size: 8.0 });
        }
        Appearance { link, ..self }
    }

    /// Height in points that a box `width` wide needs to show `lines` at their asked sizes.
    pub fn height_for(lines: &[AppearanceText], width: f32) -> Result<f32, PdfError> {
        let font = FontUse::load()?;
        fit::height_at_asked_size(lines, width, extent(&font, lines), |t, s| font.width(t, s))
            .ok_or_else(|| PdfError::Appearance(format!("a word is wider than a {width:.1} pt box")))
    }
}

fn extent(font: &FontUse, lines: &[AppearanceText]) -> Extent {
    let all: String = lines.iter().map(|l| l.text.as_str()).collect();
    let (above, below) = font.extent(&all);
    Extent { above, below }
}

/// Writes the appearance form XObject for a widget at `rect` (already on the page) and its
/// resources; returns the form's id.
pub(crate) fn write(update: &mut Update, ap: &Appearance, rect: [f32; 4]) -> Result<ObjectId, PdfError> {
    let [x1, y1, x2, y2] = rect;
    let (w, h) = ((x2 - x1).abs(), (y2 - y1).abs());
    let mut font = FontUse::load()?;
    let decoded = |png: &Option<Vec<u8>>| png.as_deref().map(decode_png).transpose();
    let (signature, seal) = (decoded(&ap.image)?, decoded(&ap.seal)?);
    let has_images = signature.is_some() || seal.is_some();
    // the QR code takes a square at the right as tall as the box allows, the rest is as before
    let qr_side = ap.link.as_ref().map(|_| (h - 2.0 * QR_GAP).min(w * 0.4).max(0.0));
    let text_w = w - qr_side.map_or(0.0, |side| side + QR_GAP);
    let layout = fit::layout(&ap.lines, (text_w, h), has_images, extent(&font, &ap.lines), |t, s| font.width(t, s))?;

    let mut content = String::from("q\n");
    let mut resources = Dictionary::new();
    let mut xobjects = Dictionary::new();
    if let Some([ax, ay, aw, ah]) = layout.image_area {
        for (name, img, [x, y, dw, dh]) in place_images((aw, ah), signature.as_ref(), seal.as_ref()) {
            let image_id = write_image(update, img);
            content.push_str(&format!("q {dw:.2} 0 0 {dh:.2} {:.2} {:.2} cm /{name} Do Q\n", ax + x, ay + y));
            xobjects.set(name, Object::Reference(image_id));
        }
    }
    if !xobjects.is_empty() {
        resources.set("XObject", Object::Dictionary(xobjects));
    }
    if let (Some(link), Some(side)) = (&ap.link, qr_side) {
        content.push_str(&qr::draw(link, w - side, (h - side) / 2.0, side)?);
    }
    content.push_str("0 g\n");
    for line in &layout.lines {
        let glyphs = font.encode(&line.text)?;
        content.push_str(&format!("BT /F1 {:.2} Tf {:.2} {:.2} Td {glyphs} Tj ET\n", line.size, line.x, line.baseline));
    }
    content.push_str("Q\n");
    let font_id = font.write(update)?;
    resources.set("Font", Object::Dictionary(Dictionary::from_iter([("F1", Object::Reference(font_id))])));

    let mut dict = Dictionary::new();
    dict.set("Type", Object::Name(b"XObject".to_vec()));
    dict.set("Subtype", Object::Name(b"Form".to_vec()));
    dict.set("BBox", Object::Array(vec![0.into(), 0.into(), Object::Real(w), Object::Real(h)]));
    dict.set("Resources", Object::Dictionary(resources));
    let form_id = update.alloc();
    update.put(form_id, &Object::Stream(Stream::new(dict, content.into_bytes())));
    Ok(form_id)
}

/// An image's resource name, its pixels and where it goes.
type Placed<'a> = (&'static str, &'a image::RgbaImage, [f32; 4]);

/// Where the signature image and the seal go in an area of `(width, height)`, as
/// `[x, y, w, h]` from the area's bottom-left corner, in drawing order: the seal is stamped
/// over the signature, covering its left third, as a red seal is pressed on paper. Both
/// are centred as a group.
fn place_images<'a>(
    (area_w, area_h): (f32, f32),
    signature: Option<&'a image::RgbaImage>,
    seal: Option<&'a image::RgbaImage>,
) -> Vec<Placed<'a>> {
    let fit = |img: &image::RgbaImage, max_w: f32, max_h: f32| {
        let (iw, ih) = (img.width() as f32, img.height() as f32);
        let scale = (max_w / iw).min(max_h / ih);
        (iw * scale, ih * scale)
    };
    let mut out = Vec::new();
    match (signature, seal) {
        (Some(sig), Some(seal)) => {
            let (sw, sh) = fit(sig, area_w, area_h);
            let (cw, ch) = fit(seal, area_h, area_h);
            // the seal's right edge lies a third of the way into the signature
            let overlap = (sw / 3.0).min(cw);
            let group = cw + sw - overlap;
            let shrink = (area_w / group).min(1.0);
            let (sw, sh, cw, ch, overlap) = (sw * shrink, sh * shrink, cw * shrink, ch * shrink, overlap * shrink);
            let left = (area_w - (cw + sw - overlap)) / 2.0;
            out.push(("Im1", sig, [left + cw - overlap, area_h - sh, sw, sh]));
            out.push(("Im2", seal, [left, area_h - (area_h + ch) / 2.0, cw, ch]));
        }
        (Some(png), None) | (None, Some(png)) => {
            let (dw, dh) = fit(png, area_w, area_h);
            out.push(("Im1", png, [(area_w - dw) / 2.0, area_h - dh, dw, dh]));
        }
        (None, None) => {}
    }
    out
}

fn decode_png(png: &[u8]) -> Result<image::RgbaImage, PdfError> {
    if png.len() > MAX_IMAGE_BYTES {
        return Err(PdfError::Appearance(format!("image larger than {MAX_IMAGE_BYTES} bytes")));
    }
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(png), image::ImageFormat::Png);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    reader.limits(limits);
    Ok(reader.decode().map_err(|e| PdfError::Appearance(format!("signature image: {e}")))?.to_rgba8())
}

/// An RGB image XObject with the PNG's alpha channel as its soft mask (transparent ink).
fn write_image(update: &mut Update, img: &image::RgbaImage) -> ObjectId {
    let (width, height) = (img.width() as i64, img.height() as i64);
    let mut rgb = Vec::with_capacity(img.as_raw().len() / 4 * 3);
    let mut alpha = Vec::with_capacity(img.as_raw().len() / 4);
    for px in img.pixels() {
        rgb.extend_from_slice(&px.0[..3]);
        alpha.push(px.0[3]);
    }
    let image_dict = |color_space: &[u8]| {
        Dictionary::from_iter([
            ("Type", Object::Name(b"XObject".to_vec())),
            ("Subtype", Object::Name(b"Image".to_vec())),
            ("Width", Object::Integer(width)),
            ("Height", Object::Integer(height)),
            ("ColorSpace", Object::Name(color_space.to_vec())),
            ("BitsPerComponent", Object::Integer(8)),
            ("Filter", Object::Name(b"FlateDecode".to_vec())),
        ])
    };
    let mask_id = update.alloc();
    update.put(mask_id, &Object::Stream(Stream::new(image_dict(b"DeviceGray"), deflate(&alpha))));
    let mut dict = image_dict(b"DeviceRGB");
    dict.set("SMask", Object::Reference(mask_id));
    let image_id = update.alloc();
    update.put(image_id, &Object::Stream(Stream::new(dict, deflate(&rgb))));
    image_id
}
