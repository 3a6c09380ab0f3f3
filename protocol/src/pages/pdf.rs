//! Pages of a PDF, rendered. A scanned PDF's page may hold an image in any codec a scanner
//! or archive writes (JPEG, JPEG 2000, JBIG2, CCITT fax, Flate with predictors, palettes,
//! ICC, CMYK and Lab colour, /Decode arrays, soft masks, 16-bit samples), several images,
//! or vector content: each page is drawn as a viewer shows it (CropBox, /Rotate, UserUnit)
//! by `hayro`, at the resolution of its largest image. The copy keeps the page itself
//! (`Original::Pdf`); only the rendering is recognised.

use super::{check_size, inflate_limited, Original, Page, PageError, ShownWord, TextPolicy, Want};
use crate::intake::{MediaError, MediaLimits};
use hayro::hayro_interpret::font::{FontData, FontQuery, StandardFont};
use hayro::hayro_interpret::InterpreterSettings;
use hayro::hayro_syntax::page::Rotation;
use hayro::hayro_syntax::Pdf;
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use hayro::{RenderCache, RenderSettings};
use image::{DynamicImage, GrayImage, RgbImage};
use lopdf::{Document, Object};
use std::sync::{Arc, OnceLock};

/// Resolution for a page that holds no image (vector content only).
const VECTOR_DPI: f32 = 300.0;
/// A page is rendered at its largest image's resolution within these bounds.
const MIN_DPI: f32 = 100.0;
const MAX_DPI: f32 = 2400.0;
/// The highest resolution recognition is told a page has.
const RECOGNITION_DPI: f32 = 1200.0;
/// Largest side the renderer draws, in pixels.
const MAX_SIDE: f32 = 30_000.0;
/// Decoded content streams of one page, far above any real page.
const MAX_CONTENT: usize = 64 << 20;

/// Where a page's pixels lie on its PDF page: the copy keeps the page as it is and lays the
/// recognised words over it through this frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    /// The page's number in its file, from 1.
    pub number: u32,
    /// The visible box (CropBox within MediaBox) in default user space: x0, y0, x1, y1.
    pub visible: [f32; 4],
    /// Clockwise /Rotate: 0, 90, 180 or 270.
    pub rotate: u16,
    pub user_unit: f32,
    /// The text the page already shows or hides.
    pub text: TextLayer,
}

/// Text a PDF page already carries in its content (its own or a form's it draws).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextLayer {
    None,
    /// Only invisible text (render mode 3), as recognisers lay over scans.
    Invisible,
    /// Text a reader sees.
    Visible,
}

impl Frame {
    /// The page as shown, in points (UserUnit applied, sides swapped by a quarter /Rotate).
    pub fn shown_size(&self) -> (f32, f32) {
        let [x0, y0, x1, y1] = self.visible;
        let (w, h) = ((x1 - x0) * self.user_unit, (y1 - y0) * self.user_unit);
        if self.rotate % 180 == 90 {
            (h, w)
        } else {
            (w, h)
        }
    }

    /// The affine map [a b c d e f] from the page as shown (points, origin bottom left) to
    /// the page's default user space.
    pub fn shown_to_user(&self) -> [f32; 6] {
        let [x0, y0, x1, y1] = self.visible;
        let u = 1.0 / self.user_unit;
        let (w, h) = (x1 - x0, y1 - y0);
        // shown (X, Y) -> unrotated box (x', y') in user units -> user space (x0 + x', y0 + y')
        let [a, b, c, d, e, f] = match self.rotate {
            // 90 clockwise: X = y', Y = w - x'  =>  x' = w - Y, y' = X
            90 => [0.0, u, -u, 0.0, w, 0.0],
            180 => [-u, 0.0, 0.0, -u, w, h],
            // 270: X = h - y', Y = x'  =>  x' = Y, y' = h - X
            270 => [0.0, -u, u, 0.0, 0.0, h],
            _ => [u, 0.0, 0.0, u, 0.0, 0.0],
        };
        [a, b, c, d, e + x0, f + y0]
    }
}

/// Pixel size and resolution at which a page of `frame` is rendered: its largest image's
/// resolution (`image_dpi`), bounded, and lowered until the page fits `max_pixels`.
fn render_size(frame: &Frame, image_dpi: Option<f32>, max_pixels: u64) -> (u32, u32, f32) {
    let (w_pt, h_pt) = frame.shown_size();
    let mut dpi = image_dpi.map_or(VECTOR_DPI, |d| d.clamp(MIN_DPI, MAX_DPI));
    let side = w_pt.max(h_pt) / 72.0 * dpi;
    if side > MAX_SIDE {
        dpi *= MAX_SIDE / side;
    }
    let pixels = |dpi: f32| ((w_pt / 72.0 * dpi).round().max(1.0), (h_pt / 72.0 * dpi).round().max(1.0));
    let (w, h) = pixels(dpi);
    if (w * h) as u64 > max_pixels {
        dpi *= (max_pixels as f32 / (w * h)).sqrt() * 0.999;
    }
    let (w, h) = pixels(dpi);
    (w as u32, h as u32, dpi)
}

pub fn pages<E: From<PageError>>(
    bytes: &[u8],
    limits: MediaLimits,
    want: Want,
    mut each: impl FnMut(Page) -> Result<(), E>,
) -> Result<(), E> {
    let doc = crate::intake::load_pdf(bytes).map_err(PageError::from)?;
    let page_ids = doc.get_pages();
    if page_ids.is_empty() {
        return Err(PageError::from(MediaError::NoPages).into());
    }
    if page_ids.len() > limits.max_pages as usize {
        return Err(PageError::from(MediaError::TooManyPages { pages: page_ids.len() as u32, limit: limits.max_pages }).into());
    }
    // hayro renders; lopdf, which writes the copy, must see the same pages.
    let pdf = std::panic::catch_unwind(|| Pdf::new(bytes.to_vec()))
        .map_err(|_| PageError::from(MediaError::CorruptPdf("the renderer gave up".into())))?
        .map_err(|e| PageError::from(MediaError::CorruptPdf(format!("{e:?}"))))?;
    let shown = pdf.pages();
    if shown.len() != page_ids.len() {
        let why = format!("{} pages in the page tree, {} drawable", page_ids.len(), shown.len());
        return Err(PageError::from(MediaError::CorruptPdf(why)).into());
    }
    let settings = interpreter_settings();
    let several = page_ids.len() > 1;
    for ((number, id), hayro_page) in page_ids.into_iter().zip(shown.iter()) {
        let at = |why: String| PageError::from(MediaError::CorruptPdf(format!("page {number}: {why}")));
        let frame = frame(number, hayro_page, &doc, id).ok_or_else(|| at("its page box is empty".into()))?;
        let image_dpi = match largest_image_dpi(&doc, id, &frame, limits, number) {
            Ok(dpi) => dpi,
            // an image too large to decode refuses its page alone: the copy keeps the page as
            // it is, the file's other pages are read (a file of one page is refused)
            Err(e) if several => {
                let (width, height, dpi) = render_size(&frame, None, limits.max_pixels);
                check_size(number, width, height, limits)?;
                let original = want.original.then_some(Original::Pdf(frame));
                let unread = Some(format!("{}: {e}", e.code()));
                each(Page { width, height, dpi: dpi.min(RECOGNITION_DPI), pixels: None, original, kept_text: None, unread })?;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        guard_streams(&doc, id, number, limits)?;
        if let Some(jpeg) = sole_jpeg(&doc, id, &frame, limits) {
            // what scanners write: the page is one JPEG filling it, read as it is
            let (width, height) = jpeg.size;
            let dpi = width as f32 / ((frame.visible[2] - frame.visible[0]) / 72.0);
            let pixels = if want.pixels { Some(super::decode(jpeg.data, image::ImageFormat::Jpeg, "jpeg", limits)?) } else { None };
            let original = want.original.then_some(Original::Pdf(frame));
            each(Page { width, height, dpi: dpi.min(RECOGNITION_DPI), pixels, original, kept_text: None, unread: None })?;
            continue;
        }
        let (width, height, dpi) = render_size(&frame, image_dpi, limits.max_pixels);
        check_size(number, width, height, limits)?;
        let kept_text = match want.text {
            Some(policy) if frame.text != TextLayer::None && policy != TextPolicy::Force => {
                let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    super::text::words(hayro_page, &settings, page_transform(hayro_page, width, height), width, height)
                }))
                .map_err(|_| at("the interpreter gave up".into()))?;
                kept(read, policy)
            }
            _ => None,
        };
        let pixels = if want.pixels && kept_text.is_none() {
            // a cache per page: what one page decoded is not held through the next
            let cache = RenderCache::new();
            let rendered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render(hayro_page, &cache, &settings, width, height)))
                .map_err(|_| at("the renderer gave up".into()))?;
            Some(rendered)
        } else {
            None
        };
        let original = want.original.then_some(Original::Pdf(frame));
        // the rendering keeps the image's own pixels; recognition is told at most what a scan
        // plausibly has, as for image files, so that a 2400 dpi page is not read shrunk
        each(Page { width, height, dpi: dpi.min(RECOGNITION_DPI), pixels, original, kept_text, unread: None })?;
    }
    Ok(())
}

/// The words a page keeps under `policy`: all its text under `Keep`; under `Redo` its
/// visible text, the invisible layer being replaced. None when there are none to keep.
fn kept(words: Option<Vec<ShownWord>>, policy: TextPolicy) -> Option<Vec<ShownWord>> {
    let words = words?;
    let kept: Vec<ShownWord> = match policy {
        TextPolicy::Keep => words,
        TextPolicy::Redo => words.into_iter().filter(|w| w.visible).collect(),
        TextPolicy::Force => return None,
    };
    (!kept.is_empty()).then_some(kept)
}

/// A page's only drawing when it is one JPEG filling the page upright.
struct SoleJpeg<'a> {
    data: &'a [u8],
    size: (u32, u32),
}

/// The JPEG a page consists of, when its content is nothing but that image drawn over the
/// whole visible box of an unrotated page at square pixels within the pixel limit: decoding
/// it is what drawing the page would give, at a fraction of the memory and time. Any other
/// page is drawn.
fn sole_jpeg<'a>(doc: &'a Document, id: lopdf::ObjectId, frame: &Frame, limits: MediaLimits) -> Option<SoleJpeg<'a>> {
    if frame.rotate != 0 || frame.user_unit != 1.0 || frame.text != TextLayer::None {
        return None;
    }
    let content = doc.get_page_content_with_limit(id, MAX_CONTENT).ok()?;
    let ops = lopdf::content::Content::decode(&content).ok()?.operations;
    let drawing: Vec<_> = ops.iter().filter(|op| !matches!(op.operator.as_str(), "q" | "Q")).collect();
    let [cm, draw] = drawing.as_slice() else { return None };
    if cm.operator != "cm" || draw.operator != "Do" {
        return None;
    }
    let m: Vec<f32> = cm.operands.iter().filter_map(|o| o.as_float().ok()).collect();
    let [x0, y0, x1, y1] = frame.visible;
    let near = |a: f32, b: f32| (a - b).abs() <= 0.5;
    if m.len() != 6 || m[1] != 0.0 || m[2] != 0.0 || !near(m[4], x0) || !near(m[5], y0) || !near(m[0], x1 - x0) || !near(m[3], y1 - y0) {
        return None;
    }
    let name = draw.operands.first()?.as_name().ok()?;
    let (resources, _) = doc.get_page_resources(id).ok()?;
    let xobjects = resources?.get(b"XObject").ok().and_then(|x| doc.dereference(x).ok())?.1.as_dict().ok()?;
    let image = doc.dereference(xobjects.get(name).ok()?).ok()?.1.as_stream().ok()?;
    let dict = &image.dict;
    let plain = ["SMask", "Mask", "Decode", "ImageMask"].iter().all(|k| !dict.has(k.as_bytes()));
    let space = dict.get(b"ColorSpace").ok().and_then(|c| c.as_name().ok());
    let filter = dict.get(b"Filter").ok().and_then(|f| match f {
        Object::Name(n) => Some(n.as_slice()),
        Object::Array(a) if a.len() == 1 => a[0].as_name().ok(),
        _ => None,
    });
    if !plain || !matches!(space, Some(b"DeviceGray" | b"DeviceRGB")) || filter != Some(b"DCTDecode") {
        return None;
    }
    let (w, h) =
        (u32::try_from(dict.get(b"Width").ok()?.as_i64().ok()?).ok()?, u32::try_from(dict.get(b"Height").ok()?.as_i64().ok()?).ok()?);
    // square pixels, or the page is drawn to make them square
    let (sx, sy) = (w as f32 / (x1 - x0), h as f32 / (y1 - y0));
    if (sx / sy - 1.0).abs() > 0.01 || u64::from(w) * u64::from(h) > limits.max_pixels || w < super::MIN_SIDE || h < super::MIN_SIDE {
        return None;
    }
    Some(SoleJpeg { data: &image.content, size: (w, h) })
}

pub(super) fn frame(number: u32, page: &hayro::hayro_syntax::page::Page<'_>, doc: &Document, id: lopdf::ObjectId) -> Option<Frame> {
    let visible = page.intersected_crop_box();
    let visible = [visible.x0 as f32, visible.y0 as f32, visible.x1 as f32, visible.y1 as f32];
    if !(visible[2] - visible[0] >= 1.0 && visible[3] - visible[1] >= 1.0) || visible.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let rotate = match page.rotation() {
        Rotation::None => 0,
        Rotation::Horizontal => 90,
        Rotation::Flipped => 180,
        Rotation::FlippedHorizontal => 270,
    };
    let user_unit = doc
        .get_dictionary(id)
        .ok()
        .and_then(|d| d.get(b"UserUnit").ok())
        .and_then(|u| u.as_float().ok())
        .filter(|u| u.is_finite() && (0.01..=100.0).contains(u))
        .unwrap_or(1.0);
    Some(Frame { number, visible, rotate, user_unit, text: text_layer(doc, id) })
}

/// Whether the page's content, or a form it draws, shows text, and whether any of it is
/// visible. Content that cannot be read counts as having none.
fn text_layer(doc: &Document, id: lopdf::ObjectId) -> TextLayer {
    let mut found = TextLayer::None;
    let Ok(content) = doc.get_page_content_with_limit(id, MAX_CONTENT) else { return found };
    let resources = doc
        .get_dictionary(id)
        .ok()
        .and_then(|d| d.get(b"Resources").ok())
        .and_then(|r| doc.dereference(r).ok())
        .and_then(|(_, r)| r.as_dict().ok());
    let mut budget = 64usize;
    scan_text(doc, &content, resources, &mut found, &mut budget, 0);
    found
}

fn scan_text(doc: &Document, content: &[u8], resources: Option<&lopdf::Dictionary>, found: &mut TextLayer, budget: &mut usize, depth: u8) {
    let Ok(ops) = lopdf::content::Content::decode(content) else { return };
    let mut mode = 0i64;
    for op in ops.operations {
        match op.operator.as_str() {
            "Tr" => mode = op.operands.first().and_then(|o| o.as_i64().ok()).unwrap_or(0),
            "Tj" | "TJ" | "'" | "\"" => {
                if mode == 3 {
                    *found = TextLayer::Invisible.max_with(*found);
                } else {
                    *found = TextLayer::Visible;
                    return;
                }
            }
            "Do" if depth < 4 && *budget > 0 => {
                *budget -= 1;
                let Some(name) = op.operands.first().and_then(|o| o.as_name().ok()) else { continue };
                let form = resources
                    .and_then(|r| r.get(b"XObject").ok())
                    .and_then(|x| doc.dereference(x).ok())
                    .and_then(|(_, x)| x.as_dict().ok())
                    .and_then(|x| x.get(name).ok())
                    .and_then(|f| doc.dereference(f).ok())
                    .and_then(|(_, f)| f.as_stream().ok())
                    .filter(|f| f.dict.get(b"Subtype").and_then(|s| s.as_name()).ok() == Some(b"Form"));
                if let Some(form) = form {
                    let Ok(inner) = form.get_plain_content_with_limit(MAX_CONTENT) else { continue };
                    let own = form.dict.get(b"Resources").ok().and_then(|r| doc.dereference(r).ok()).and_then(|(_, r)| r.as_dict().ok());
                    scan_text(doc, &inner, own.or(resources), found, budget, depth + 1);
                    if *found == TextLayer::Visible {
                        return;
                    }
                }
            }
            _ => {}
        }
    }
}

impl TextLayer {
    fn max_with(self, other: TextLayer) -> TextLayer {
        match (self, other) {
            (TextLayer::Visible, _) | (_, TextLayer::Visible) => TextLayer::Visible,
            (TextLayer::Invisible, _) | (_, TextLayer::Invisible) => TextLayer::Invisible,
            _ => TextLayer::None,
        }
    }
}

/// The resolution of the page's largest image as if it covered the page; none for a page
/// without images. Each image's declared size is held to the pixel limit.
pub(super) fn largest_image_dpi(
    doc: &Document,
    id: lopdf::ObjectId,
    frame: &Frame,
    limits: MediaLimits,
    number: u32,
) -> Result<Option<f32>, PageError> {
    let images = doc.get_page_images(id).unwrap_or_default();
    let Some(largest) = images.iter().max_by_key(|i| i.width.saturating_mul(i.height)) else {
        return Ok(None);
    };
    let (w, h) = (u64::try_from(largest.width).unwrap_or(0), u64::try_from(largest.height).unwrap_or(0));
    // an image is decoded whole before it is drawn smaller: its own pixels are bounded
    if w.saturating_mul(h) > limits.max_decoded_pixels() {
        return Err(PageError::UnsupportedPdfImage { page: number, what: format!("a {w}x{h} image") });
    }
    let (sw, sh) = frame.shown_size();
    let long_side_in = sw.max(sh) / 72.0;
    Ok((w.max(h) > 0).then(|| w.max(h) as f32 / long_side_in))
}

/// Checks the page's content and image streams before the renderer, which bounds neither
/// decompression nor a JPEG's claimed size, decodes them: Flate data is inflated within
/// bounds (a decompression bomb is refused here), sample data must be as long as its image
/// and a JPEG as large as its dictionary says.
pub(super) fn guard_streams(doc: &Document, id: lopdf::ObjectId, number: u32, limits: MediaLimits) -> Result<(), PageError> {
    let mut streams: Vec<&lopdf::Stream> = Vec::new();
    if let Ok(contents) = doc.get_dictionary(id).and_then(|d| d.get(b"Contents")) {
        let refs: Vec<&Object> = match contents {
            Object::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        for r in refs {
            if let Ok((_, Object::Stream(s))) = doc.dereference(r) {
                streams.push(s);
            }
        }
    }
    let mut content_total = 0usize;
    for s in streams {
        content_total += flate_size(s, MAX_CONTENT)?;
        if content_total > MAX_CONTENT {
            return Err(PageError::Bomb { limit: MAX_CONTENT });
        }
    }
    for image in doc.get_page_images(id).unwrap_or_default() {
        // the fewest samples per pixel the colour space allows, so that no image is called short
        // for a colour space read too simply
        let components = match image.color_space.as_deref() {
            Some("DeviceCMYK") => 4,
            Some("DeviceRGB" | "CalRGB" | "Lab") => 3,
            _ => 1,
        };
        let bits = image.bits_per_component.unwrap_or(8).clamp(1, 16) as usize;
        let (width, height) = (u32::try_from(image.width).unwrap_or(0), u32::try_from(image.height).unwrap_or(0));
        let row = (width as usize * components * bits).div_ceil(8);
        let short = || MediaError::CorruptPdf(format!("page {number}: image data is short"));
        let filters: Vec<&str> = image.filters.iter().flatten().map(String::as_str).collect();
        match filters.as_slice() {
            // sample data as it is, or deflated (with a predictor byte per row at most)
            [] if image.content.len() < row * height as usize => return Err(short().into()),
            ["FlateDecode"] => {
                // the most a colour space allows (four 16-bit samples a pixel), a predictor byte a row
                let most = ((width as usize * 64).div_ceil(8) + 1).saturating_mul(height as usize).saturating_add(1024);
                let inflated = inflate_limited(image.content, most).map_err(|e| match e {
                    PageError::Bomb { .. } => e,
                    _ => PageError::UnsupportedPdfImage { page: number, what: "its Flate data cannot be inflated".into() },
                })?;
                if inflated.len() < row * height as usize {
                    return Err(short().into());
                }
            }
            // a JPEG is held to the limits by its own frame header, which must match
            ["DCTDecode"] => {
                let (w, h) = super::dimensions(image.content, image::ImageFormat::Jpeg, "jpeg", limits)?;
                if (w, h) != (width, height) {
                    return Err(MediaError::CorruptPdf(format!("page {number}: a {w}x{h} JPEG declared as {width}x{height}")).into());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn flate_size(s: &lopdf::Stream, limit: usize) -> Result<usize, PageError> {
    let flate = match s.dict.get(b"Filter") {
        Ok(Object::Name(n)) => n == b"FlateDecode",
        Ok(Object::Array(a)) => a.first().and_then(|o| o.as_name().ok()) == Some(b"FlateDecode"),
        _ => false,
    };
    if flate {
        // a bomb is refused; data that does not inflate is left to the renderer, which draws
        // what it can of a damaged content stream
        match inflate_limited(&s.content, limit) {
            Ok(inflated) => Ok(inflated.len()),
            Err(e @ PageError::Bomb { .. }) => Err(e),
            Err(_) => Ok(s.content.len()),
        }
    } else {
        Ok(s.content.len())
    }
}

/// From the page's default user space to the pixels of a `width` x `height` rendering of it
/// as shown (CropBox, /Rotate, UserUnit), y down.
fn page_transform(page: &hayro::hayro_syntax::page::Page<'_>, width: u32, height: u32) -> hayro::kurbo::Affine {
    use hayro::hayro_interpret::util::TransformExt;
    let (w_pt, h_pt) = page.render_dimensions();
    hayro::kurbo::Affine::scale_non_uniform(f64::from(width) / f64::from(w_pt), f64::from(height) / f64::from(h_pt))
        * page.initial_transform(true).to_kurbo()
}

pub(super) fn render<'a>(
    page: &'a hayro::hayro_syntax::page::Page<'a>,
    cache: &RenderCache<'a>,
    settings: &InterpreterSettings,
    width: u32,
    height: u32,
) -> DynamicImage {
    let (w16, h16) = (width.min(u16::MAX as u32) as u16, height.min(u16::MAX as u32) as u16);
    let mut ctx = RenderContext::new(w16, h16);
    let transform = page_transform(page, width, height);
    hayro::render_into(page, cache, settings, &RenderSettings::default(), &mut ctx, transform);
    ctx.flush();
    let mut pixmap = Pixmap::new(w16, h16);
    ctx.render_with(
        &mut pixmap,
        &mut Resources::default(),
        RasterizerSettings { target_init: TargetInit::Clear(WHITE), ..Default::default() },
    );
    // drawn over opaque white: every pixel is opaque, premultiplied or not
    let rgba = pixmap.data_as_u8_slice();
    let gray = rgba.chunks_exact(4).all(|p| p[0] == p[1] && p[1] == p[2]);
    if gray {
        let data: Vec<u8> = rgba.chunks_exact(4).map(|p| p[0]).collect();
        GrayImage::from_raw(u32::from(w16), u32::from(h16), data).map(DynamicImage::ImageLuma8)
    } else {
        let data: Vec<u8> = rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
        RgbImage::from_raw(u32::from(w16), u32::from(h16), data).map(DynamicImage::ImageRgb8)
    }
    .unwrap_or_else(|| DynamicImage::ImageLuma8(GrayImage::from_pixel(u32::from(w16), u32::from(h16), image::Luma([255]))))
}

/// The standard fonts a PDF may name without embedding, from the metric-compatible
/// Liberation family when the system has it; text in other missing fonts is not drawn.
pub(super) fn interpreter_settings() -> InterpreterSettings {
    InterpreterSettings { font_resolver: Arc::new(resolve_font), ..Default::default() }
}

fn resolve_font(query: &FontQuery) -> Option<(FontData, u32)> {
    let standard = match query {
        FontQuery::Standard(s) => *s,
        FontQuery::Fallback(f) => f.pick_standard_font(),
    };
    let file = match standard {
        StandardFont::Helvetica => "LiberationSans-Regular.ttf",
        StandardFont::HelveticaBold => "LiberationSans-Bold.ttf",
        StandardFont::HelveticaOblique => "LiberationSans-Italic.ttf",
        StandardFont::HelveticaBoldOblique => "LiberationSans-BoldItalic.ttf",
        StandardFont::Courier => "LiberationMono-Regular.ttf",
        StandardFont::CourierBold => "LiberationMono-Bold.ttf",
        StandardFont::CourierOblique => "LiberationMono-Italic.ttf",
        StandardFont::CourierBoldOblique => "LiberationMono-BoldItalic.ttf",
        StandardFont::TimesRoman => "LiberationSerif-Regular.ttf",
        StandardFont::TimesBold => "LiberationSerif-Bold.ttf",
        StandardFont::TimesItalic => "LiberationSerif-Italic.ttf",
        StandardFont::TimesBoldItalic => "LiberationSerif-BoldItalic.ttf",
        StandardFont::ZapfDingBats | StandardFont::Symbol => return None,
    };
    static FONTS: OnceLock<std::sync::Mutex<std::collections::HashMap<&'static str, Option<FontData>>>> = OnceLock::new();
    let fonts = FONTS.get_or_init(Default::default);
    let mut fonts = fonts.lock().unwrap_or_else(|e| e.into_inner());
    let data = fonts.entry(file).or_insert_with(|| {
        ["/usr/share/fonts/truetype/liberation", "/usr/share/fonts/truetype/liberation2"]
            .iter()
            .find_map(|dir| std::fs::read(format!("{dir}/{file}")).ok())
            .map(|bytes| -> FontData { Arc::new(bytes) })
    });
    data.clone().map(|d| (d, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(m: [f32; 6], x: f32, y: f32) -> (f32, f32) {
        (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])
    }

    #[test]
    fn the_shown_page_maps_back_to_user_space() {
        let frame = Frame { number: 1, visible: [10.0, 20.0, 110.0, 220.0], rotate: 0, user_unit: 1.0, text: TextLayer::None };
        assert_eq!(frame.shown_size(), (100.0, 200.0));
        assert_eq!(apply(frame.shown_to_user(), 0.0, 0.0), (10.0, 20.0));
        // turned a quarter clockwise: the shown page is 200 wide, 100 high; its bottom left
        // corner is the box's bottom right
        let turned = Frame { rotate: 90, ..frame };
        assert_eq!(turned.shown_size(), (200.0, 100.0));
        assert_eq!(apply(turned.shown_to_user(), 0.0, 0.0), (110.0, 20.0));
        assert_eq!(apply(turned.shown_to_user(), 200.0, 100.0), (10.0, 220.0));
        let upside_down = Frame { rotate: 180, ..frame };
        assert_eq!(apply(upside_down.shown_to_user(), 0.0, 0.0), (110.0, 220.0));
        let three = Frame { rotate: 270, ..frame };
        assert_eq!(apply(three.shown_to_user(), 0.0, 0.0), (10.0, 220.0));
        let big = Frame { user_unit: 2.0, ..frame };
        assert_eq!(big.shown_size(), (200.0, 400.0));
        assert_eq!(apply(big.shown_to_user(), 200.0, 400.0), (110.0, 220.0));
    }

    #[test]
    fn text_filled_stroked_or_both_is_read_once() {
        use lopdf::{dictionary, Stream};
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
        // filled, then only stroked (an outlined title), then filled and stroked
        let text = b"BT /F1 24 Tf 0 Tr 72 700 Td (Plain) Tj ET BT /F1 24 Tf 1 Tr 72 600 Td (Outline) Tj ET \
                     BT /F1 24 Tf 2 Tr 72 500 Td (Both) Tj ET";
        let content = doc.add_object(Stream::new(dictionary! {}, text.to_vec()));
        let page = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()], "Contents" => content,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } } });
        doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }));
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        let limits = MediaLimits { max_pixels: 60_000_000, max_pages: 3, max_scan_pixels: u64::MAX };
        let mut words = Vec::new();
        let want = Want { pixels: false, original: false, text: Some(TextPolicy::Keep) };
        pages(&bytes, limits, want, |p| {
            words = p.kept_text.unwrap_or_default().into_iter().map(|w| w.text).collect();
            Ok::<_, PageError>(())
        })
        .unwrap();
        assert_eq!(words, ["Plain", "Outline", "Both"]);
    }

    #[test]
    fn a_content_stream_that_inflates_past_its_bound_is_a_bomb() {
        use lopdf::{dictionary, Stream};
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut z, &vec![b' '; MAX_CONTENT + 1024]).unwrap();
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let content = doc.add_object(Stream::new(dictionary! { "Filter" => "FlateDecode" }, z.finish().unwrap()));
        let page = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()], "Contents" => content });
        doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }));
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        let limits = MediaLimits { max_pixels: 60_000_000, max_pages: 3, max_scan_pixels: u64::MAX };
        let read = pages(&bytes, limits, Want { pixels: false, original: true, text: None }, |_| Ok::<_, PageError>(()));
        assert_eq!(read.unwrap_err().code(), "decompression_bomb");
    }

    #[test]
    fn a_page_renders_at_its_image_resolution_within_the_pixel_limit() {
        let a4 = Frame { number: 1, visible: [0.0, 0.0, 595.0, 842.0], rotate: 0, user_unit: 1.0, text: TextLayer::None };
        let (w, h, dpi) = render_size(&a4, Some(300.0), 60_000_000);
        assert_eq!((w, h, dpi), (2479, 3508, 300.0));
        assert_eq!(render_size(&a4, None, 60_000_000).2, VECTOR_DPI);
        let (w, h, dpi) = render_size(&a4, Some(2400.0), 4_000_000);
        assert!(u64::from(w) * u64::from(h) <= 4_000_000 && dpi < 300.0, "{w}x{h} at {dpi}");
    }
}
