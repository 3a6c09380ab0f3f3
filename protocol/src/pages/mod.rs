//! The pages of a scan (PNG, JPEG, multi-page TIFF, image-only PDF), one at a time: each
//! page's original encoding, for the searchable copy, and on request its pixels, for
//! recognition. The worker and the service read pages through this one module, so the
//! copy the service assembles shows exactly the pages the worker read.

mod pdf;
mod preview;
mod text;

pub use pdf::{Frame, TextLayer};
pub use preview::{frames, preview};
pub use text::ShownWord;

use crate::intake::{MediaError, MediaLimits};
use image::{DynamicImage, GrayImage, ImageFormat, ImageReader, Limits};
use std::io::{Cursor, Read};

/// Pages smaller than this on either side cannot hold a line of text.
pub(crate) const MIN_SIDE: u32 = 16;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("a {width}x{height} image is too small to hold text")]
    TooSmall { width: u32, height: u32 },
    #[error("page {page} of the PDF holds an image that cannot be read: {what}")]
    UnsupportedPdfImage { page: u32, what: String },
    #[error("compressed image data expands past {limit} bytes")]
    Bomb { limit: usize },
}

impl PageError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            PageError::Media(e) => e.code(),
            PageError::TooSmall { .. } => "image_too_small",
            PageError::UnsupportedPdfImage { .. } => "unsupported_pdf_image",
            PageError::Bomb { .. } => "decompression_bomb",
        }
    }
}

/// What to produce for each page besides its size and resolution.
#[derive(Debug, Clone, Copy)]
pub struct Want {
    /// The decoded pixels (recognition needs them; assembling a copy does not).
    pub pixels: bool,
    /// The original encoding, as the searchable copy embeds it.
    pub original: bool,
    /// For a PDF page that carries text: the words it keeps under this policy, read from
    /// the page; such a page is not drawn for its pixels.
    pub text: Option<TextPolicy>,
}

/// What a PDF page that already carries text gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextPolicy {
    /// The page keeps its text (visible or not) and gets no layer; its words are read from it.
    #[default]
    Keep,
    /// An invisible layer is replaced by the recognised words; visible text is kept, read
    /// from the page, and the page gets no layer.
    Redo,
    /// A page with text becomes its rendering, with the recognised words over it.
    Force,
}

/// One page of a scan.
pub struct Page {
    pub width: u32,
    pub height: u32,
    /// Resolution in dots per inch, from the file or guessed from an A4 page.
    pub dpi: f32,
    pub pixels: Option<DynamicImage>,
    pub original: Option<Original>,
    /// The words of the page's own text it keeps, when `Want::text` asked and the page has
    /// text that reads (its glyphs map to characters): the page is read, not recognised.
    pub kept_text: Option<Vec<ShownWord>>,
    /// Why the page cannot be read, when the others of its file can: it is kept in the copy
    /// as it is, with no pixels and no words.
    pub unread: Option<String>,
}

/// The page image as it goes into the PDF, without re-encoding where the format allows.
pub enum Original {
    /// JPEG bytes, embedded as DCTDecode.
    Jpeg { data: Vec<u8>, width: u32, height: u32, colors: u8 },
    /// zlib data of an 8-bit non-interlaced PNG, embedded as FlateDecode with PNG predictors.
    Png { idat: Vec<u8>, width: u32, height: u32, colors: u8 },
    /// 8-bit gray or RGB samples, compressed when the PDF is written.
    Raw { data: Vec<u8>, width: u32, height: u32, colors: u8 },
    /// A black-and-white page, CCITT Group 4 coded (black is 0), as archives keep them:
    /// an eighth of its 8-bit size before any compression.
    Bilevel { g4: Vec<u8>, width: u32, height: u32 },
    /// A page of a PDF scan: the copy keeps the page itself, as it is.
    Pdf(Frame),
}

impl Original {
    pub fn from_image(image: &DynamicImage) -> Original {
        let (width, height) = (image.width(), image.height());
        if let DynamicImage::ImageLuma8(gray) = image {
            if let Some(g4) = g4(gray) {
                return Original::Bilevel { g4, width, height };
            }
        }
        if image.color().has_color() {
            Original::Raw { data: image.to_rgb8().into_raw(), width, height, colors: 3 }
        } else {
            Original::Raw { data: image.to_luma8().into_raw(), width, height, colors: 1 }
        }
    }
}

/// CCITT Group 4 coding of a page whose pixels are all black (0) or white (255); none for
/// other pages or sides too long for the code.
fn g4(gray: &GrayImage) -> Option<Vec<u8>> {
    use fax::{encoder::Encoder, Color, VecWriter};
    let width = u16::try_from(gray.width()).ok()?;
    if !gray.as_raw().iter().all(|&v| v == 0 || v == 255) {
        return None;
    }
    let mut encoder = Encoder::new(VecWriter::new());
    for row in gray.rows() {
        let pels = row.map(|p| if p.0[0] == 0 { Color::Black } else { Color::White });
        encoder.encode_line(pels, width).ok()?;
    }
    Some(encoder.finish().ok()?.finish())
}

/// Reads every page of `bytes` within `limits`, handing each to `each` before the next is
/// decoded, so that only one page's pixels are held at a time.
pub fn for_each<E: From<PageError>>(
    bytes: &[u8],
    limits: MediaLimits,
    want: Want,
    mut each: impl FnMut(Page) -> Result<(), E>,
) -> Result<(), E> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        each(png_page(bytes, limits, want)?)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        each(jpeg_page(bytes, limits, want)?)
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        tiff_pages(bytes, limits, want, each)
    } else if is_pdf(bytes) {
        pdf::pages(bytes, limits, want, each)
    } else {
        Err(PageError::from(MediaError::Unsupported).into())
    }
}

/// Whether `bytes` is a PDF (its header within the first kilobyte, as readers accept).
pub fn is_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-")
}

/// Page `page` of a scan (from 1), `width` x `height`, within the limits.
fn check_size(page: u32, width: u32, height: u32, limits: MediaLimits) -> Result<(), PageError> {
    if width == 0 || height == 0 {
        return Err(MediaError::NoPages.into());
    }
    if u64::from(width) * u64::from(height) > limits.max_decoded_pixels() {
        return Err(MediaError::TooManyPixels { page, width, height, limit: limits.max_decoded_pixels() }.into());
    }
    if width < MIN_SIDE || height < MIN_SIDE {
        return Err(PageError::TooSmall { width, height });
    }
    Ok(())
}

fn corrupt(format: &'static str) -> impl Fn(image::ImageError) -> PageError {
    move |e| MediaError::CorruptImage { format, reason: e.to_string() }.into()
}

fn dimensions(bytes: &[u8], format: ImageFormat, name: &'static str, limits: MediaLimits) -> Result<(u32, u32), PageError> {
    // Decoders conceal a cut file (a JPEG's lost rows come out grey): its structure is
    // walked to its end first, whether or not the pixels are decoded.
    crate::intake::whole_image(bytes, format)?;
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(corrupt(name))?;
    check_size(1, width, height, limits)?;
    Ok((width, height))
}

/// Decodes an image held to the limits by its own header's size (a PDF's dictionary may
/// claim another).
fn decode(bytes: &[u8], format: ImageFormat, name: &'static str, limits: MediaLimits) -> Result<DynamicImage, PageError> {
    dimensions(bytes, format, name, limits)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut l = Limits::default();
    l.max_alloc = Some(limits.max_decoded_pixels().saturating_mul(4));
    reader.limits(l);
    // image's decoders are not hardened against every malformed file (zune-jpeg 0.5.15 indexes
    // out of bounds on some JPEGs); a panic there is a corrupt image.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.decode()))
        .map_err(|_| MediaError::CorruptImage { format: name, reason: "the decoder gave up".into() })?;
    decoded.map_err(corrupt(name))
}

/// Resolution to use: the file's when plausible, else that of an A4 page of this size.
pub fn plausible_dpi(declared: Option<f32>, width: u32, height: u32) -> f32 {
    match declared {
        Some(d) if (70.0..=1200.0).contains(&d) => d,
        _ => (width.max(height) as f32 / 11.69).clamp(70.0, 1200.0),
    }
}

/// A resolution a file records, per axis, in dots per inch.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Density {
    x: f32,
    y: f32,
}

impl Density {
    fn square(dpi: f32) -> Density {
        Density { x: dpi, y: dpi }
    }

    /// From a resolution unit code shared by TIFF, EXIF (2 inch, 3 centimetre) and JFIF
    /// (1 inch, 2 centimetre) as `per_cm` says.
    fn scaled(x: f32, y: f32, per_cm: bool) -> Density {
        let k = if per_cm { 2.54 } else { 1.0 };
        Density { x: x * k, y: y * k }
    }
}

/// The page an image file's `width` x `height` pixels make: its physical size from the
/// recorded density (both axes plausible, else an A4 guess for both), recognised at the
/// higher of the two resolutions, so that an image scanned at 200 x 100 dpi is read with
/// square pixels and keeps its aspect.
fn image_page(
    width: u32,
    height: u32,
    declared: Option<Density>,
    pixels: Option<DynamicImage>,
    original: Option<Original>,
    max_pixels: u64,
) -> Page {
    let density = match declared {
        Some(d) if [d.x, d.y].iter().all(|v| (70.0..=1200.0).contains(v)) => d,
        _ => Density::square(plausible_dpi(None, width, height)),
    };
    let mut dpi = density.x.max(density.y);
    let size = |dpi: f32| (((width as f32) * dpi / density.x).round().max(1.0), ((height as f32) * dpi / density.y).round().max(1.0));
    let (w, h) = size(dpi);
    // squaring the pixels must not take the page past the limit the file itself was held to
    if (w * h) as u64 > max_pixels {
        dpi *= (max_pixels as f32 / (w * h)).sqrt() * 0.999;
    }
    let (w, h) = size(dpi);
    let (w, h) = (w as u32, h as u32);
    let pixels = pixels.map(|image| {
        if (w, h) == (image.width(), image.height()) {
            image
        } else {
            image.resize_exact(w, h, image::imageops::FilterType::Triangle)
        }
    });
    Page { width: w, height: h, dpi, pixels, original, kept_text: None, unread: None }
}

fn png_page(bytes: &[u8], limits: MediaLimits, want: Want) -> Result<Page, PageError> {
    let (width, height) = dimensions(bytes, ImageFormat::Png, "png", limits)?;
    let chunks = png_chunks(bytes);
    // The pixels are decoded only when they are wanted or the PNG cannot go in as it is; its
    // structure was walked whole by `dimensions`, and an upload was decoded whole at intake.
    let passthrough = chunks.idat.is_some();
    let pixels = if want.pixels || !passthrough { Some(decode(bytes, ImageFormat::Png, "png", limits)?) } else { None };
    let original = match (want.original, chunks.idat, &pixels) {
        (false, _, _) => None,
        (true, Some((idat, colors)), _) => Some(Original::Png { idat, width, height, colors }),
        (true, None, Some(image)) => Some(Original::from_image(image)),
        (true, None, None) => None,
    };
    Ok(image_page(width, height, chunks.density, pixels.filter(|_| want.pixels), original, limits.max_pixels))
}

struct PngChunks {
    /// IDAT data and colour count, when the PNG can go into a PDF as it is.
    idat: Option<(Vec<u8>, u8)>,
    density: Option<Density>,
}

/// Reads IHDR, pHYs and IDAT; the pixels are checked by decoding.
fn png_chunks(bytes: &[u8]) -> PngChunks {
    let mut out = PngChunks { idat: None, density: None };
    let mut idat = Vec::new();
    let mut colors = None;
    let mut pos = 8;
    while pos + 12 <= bytes.len() {
        let len = u32::from_be_bytes([bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]]) as usize;
        let kind = &bytes[pos + 4..pos + 8];
        let Some(data) = bytes.get(pos + 8..pos + 8 + len) else { break };
        match kind {
            // 8-bit gray (0) or RGB (2), not interlaced: the PDF predictor reads it directly.
            b"IHDR" if data.len() == 13 => {
                colors = match (data[8], data[9], data[12]) {
                    (8, 0, 0) => Some(1),
                    (8, 2, 0) => Some(3),
                    _ => None,
                }
            }
            b"pHYs" if data.len() == 9 && data[8] == 1 => {
                let x = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
                let y = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
                out.density = Some(Density { x: x as f32 * 0.0254, y: y as f32 * 0.0254 });
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        pos += 12 + len;
    }
    out.idat = colors.map(|c| (idat, c));
    out
}

fn jpeg_page(bytes: &[u8], limits: MediaLimits, want: Want) -> Result<Page, PageError> {
    let (width, height) = dimensions(bytes, ImageFormat::Jpeg, "jpeg", limits)?;
    let info = jpeg_info(bytes);
    // Gray and YCbCr go in untouched; CMYK and odd layouts are re-encoded from the pixels.
    let passthrough = matches!(info.components, Some(1 | 3));
    let pixels = if want.pixels || !passthrough { Some(decode(bytes, ImageFormat::Jpeg, "jpeg", limits)?) } else { None };
    let original = match (want.original, info.components, &pixels) {
        (false, _, _) => None,
        (true, Some(c @ (1 | 3)), _) => Some(Original::Jpeg { data: bytes.to_vec(), width, height, colors: c }),
        (true, _, Some(image)) => Some(Original::from_image(image)),
        (true, _, None) => None,
    };
    Ok(image_page(width, height, info.density, pixels.filter(|_| want.pixels), original, limits.max_pixels))
}

struct JpegInfo {
    components: Option<u8>,
    /// From JFIF, else from EXIF.
    density: Option<Density>,
}

/// Walks the JPEG markers up to the first frame header for JFIF density and components.
fn jpeg_info(bytes: &[u8]) -> JpegInfo {
    let mut info = JpegInfo { components: None, density: None };
    let mut exif = None;
    let mut pos = 2;
    while pos + 4 <= bytes.len() && bytes[pos] == 0xFF {
        let marker = bytes[pos + 1];
        let len = u16::from_be_bytes([bytes[pos + 2], bytes[pos + 3]]) as usize;
        let Some(seg) = bytes.get(pos + 4..pos + 2 + len) else { break };
        match marker {
            0xE0 if seg.len() >= 12 && seg.starts_with(b"JFIF\0") => {
                let (x, y) = (u16::from_be_bytes([seg[8], seg[9]]) as f32, u16::from_be_bytes([seg[10], seg[11]]) as f32);
                info.density = match seg[7] {
                    1 => Some(Density::scaled(x, y, false)),
                    2 => Some(Density::scaled(x, y, true)),
                    _ => None,
                };
            }
            0xE1 if seg.starts_with(b"Exif\0\0") => exif = exif_density(&seg[6..]),
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                info.components = seg.get(5).copied();
                break;
            }
            _ => {}
        }
        pos += 2 + len;
    }
    info.density = info.density.or(exif);
    info
}

/// XResolution, YResolution and ResolutionUnit from the first IFD of EXIF's TIFF structure.
fn exif_density(tiff: &[u8]) -> Option<Density> {
    let big = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at =
        |at: usize| tiff.get(at..at + 2).map(|b| if big { u16::from_be_bytes([b[0], b[1]]) } else { u16::from_le_bytes([b[0], b[1]]) });
    let u32_at = |at: usize| {
        tiff.get(at..at + 4).map(|b| {
            if big {
                u32::from_be_bytes([b[0], b[1], b[2], b[3]])
            } else {
                u32::from_le_bytes([b[0], b[1], b[2], b[3]])
            }
        })
    };
    let ifd = u32_at(4)? as usize;
    let (mut x, mut y, mut per_cm) = (None, None, false);
    for i in 0..usize::from(u16_at(ifd)?).min(256) {
        let entry = ifd + 2 + 12 * i;
        let rational = || {
            let at = u32_at(entry + 8)? as usize;
            let (n, d) = (u32_at(at)?, u32_at(at + 4)?);
            (d != 0).then(|| n as f32 / d as f32)
        };
        match u16_at(entry)? {
            0x011A => x = rational(),
            0x011B => y = rational(),
            0x0128 => per_cm = u16_at(entry + 8)? == 3,
            _ => {}
        }
    }
    let x = x?;
    Some(Density::scaled(x, y.unwrap_or(x), per_cm))
}

fn tiff_pages<E: From<PageError>>(
    bytes: &[u8],
    limits: MediaLimits,
    want: Want,
    mut each: impl FnMut(Page) -> Result<(), E>,
) -> Result<(), E> {
    use tiff::decoder::{Decoder, DecodingResult, Limits as TiffLimits};
    use tiff::tags::Tag;
    use tiff::ColorType;
    let bad = |e: tiff::TiffError| PageError::from(MediaError::CorruptImage { format: "tiff", reason: e.to_string() });
    let mut tiff_limits = TiffLimits::default();
    let alloc = usize::try_from(limits.max_decoded_pixels().saturating_mul(4)).unwrap_or(usize::MAX);
    tiff_limits.decoding_buffer_size = alloc;
    tiff_limits.intermediate_buffer_size = alloc;
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(bad)?.with_limits(tiff_limits);
    let mut count = 0u32;
    loop {
        if count >= limits.max_pages {
            return Err(PageError::from(MediaError::TooManyPages { pages: count + 1, limit: limits.max_pages }).into());
        }
        count += 1;
        let (width, height) = decoder.dimensions().map_err(bad)?;
        check_size(count, width, height, limits)?;
        crate::intake::whole_tiff_page(&mut decoder, bytes.len()).map_err(PageError::from)?;
        // resolutions are RATIONAL: the decoder's float accessor does not read them
        let mut rational = |tag: Tag| match decoder.get_tag(tag).ok()? {
            tiff::decoder::ifd::Value::Rational(n, d) if d != 0 => Some(n as f32 / d as f32),
            other => other.into_f32().ok(),
        };
        let declared = rational(Tag::XResolution).map(|x| {
            let y = rational(Tag::YResolution).unwrap_or(x);
            (x, y)
        });
        let declared = declared.map(|(x, y)| Density::scaled(x, y, decoder.get_tag_u32(Tag::ResolutionUnit).unwrap_or(2) == 3));
        let color = decoder.colortype().map_err(bad)?;
        let samples = match decoder.read_image().map_err(bad)? {
            DecodingResult::U8(v) => v,
            _ => {
                return Err(PageError::from(MediaError::CorruptImage {
                    format: "tiff",
                    reason: "only 8-bit and bilevel pages are read".into(),
                })
                .into())
            }
        };
        let image = match color {
            ColorType::Gray(8) => GrayImage::from_raw(width, height, samples).map(DynamicImage::ImageLuma8),
            // the decoder has made WhiteIsZero pages BlackIsZero: a set bit is white
            ColorType::Gray(1) => Some(DynamicImage::ImageLuma8(expand_bilevel(&samples, width, height))),
            ColorType::RGB(8) => image::RgbImage::from_raw(width, height, samples).map(DynamicImage::ImageRgb8),
            ColorType::RGBA(8) => image::RgbaImage::from_raw(width, height, samples).map(DynamicImage::ImageRgba8),
            other => {
                return Err(PageError::from(MediaError::CorruptImage {
                    format: "tiff",
                    reason: format!("unsupported colour type {other:?}"),
                })
                .into())
            }
        };
        let image = image.ok_or_else(|| PageError::from(MediaError::CorruptImage { format: "tiff", reason: "short page data".into() }))?;
        each(from_pixels(image, declared, want, limits.max_pixels))?;
        if !decoder.more_images() {
            return Ok(());
        }
        decoder.next_image().map_err(bad)?;
    }
}

/// A page known only by its decoded pixels: its original is the pixels themselves.
fn from_pixels(image: DynamicImage, declared: Option<Density>, want: Want, max_pixels: u64) -> Page {
    let original = want.original.then(|| Original::from_image(&image));
    image_page(image.width(), image.height(), declared, want.pixels.then_some(image), original, max_pixels)
}

/// 1-bit rows (padded to bytes) to 8-bit gray, a set bit white (BlackIsZero).
fn expand_bilevel(bits: &[u8], width: u32, height: u32) -> GrayImage {
    let row_bytes = width.div_ceil(8) as usize;
    GrayImage::from_fn(width, height, |x, y| {
        let byte = bits.get(y as usize * row_bytes + x as usize / 8).copied().unwrap_or(0);
        let set = byte & (0x80 >> (x % 8)) != 0;
        image::Luma([if set { 255 } else { 0 }])
    })
}

/// Inflates zlib data, refusing to produce more than `limit` bytes (decompression bombs).
fn inflate_limited(data: &[u8], limit: usize) -> Result<Vec<u8>, PageError> {
    let mut out = Vec::new();
    let mut reader = flate2::read::ZlibDecoder::new(data).take(limit as u64 + 1);
    reader.read_to_end(&mut out).map_err(|e| PageError::from(MediaError::CorruptPdf(format!("image data: {e}"))))?;
    if out.len() > limit {
        return Err(PageError::Bomb { limit });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: MediaLimits = MediaLimits { max_pixels: 4_000_000, max_pages: 3, max_scan_pixels: 8_000_000 };
    const BOTH: Want = Want { pixels: true, original: true, text: None };

    fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn pages(bytes: &[u8], want: Want) -> Result<Vec<Page>, PageError> {
        let mut out = Vec::new();
        for_each(bytes, LIMITS, want, |p| {
            out.push(p);
            Ok::<_, PageError>(())
        })?;
        Ok(out)
    }

    #[test]
    fn png_and_jpeg_keep_their_encoding() {
        let gray = DynamicImage::ImageLuma8(GrayImage::from_fn(120, 80, |x, _| image::Luma([(x * 2) as u8])));
        let page = &pages(&encode(&gray, ImageFormat::Png), BOTH).unwrap()[0];
        assert!(matches!(page.original, Some(Original::Png { colors: 1, width: 120, height: 80, .. })));
        let rgb = DynamicImage::ImageRgb8(gray.to_rgb8());
        let jpeg = encode(&rgb, ImageFormat::Jpeg);
        let page = &pages(&jpeg, BOTH).unwrap()[0];
        assert!(matches!(page.original, Some(Original::Jpeg { colors: 3, .. })));
        assert_eq!(page.pixels.as_ref().unwrap().width(), 120);
        let copy = &pages(&jpeg, Want { pixels: false, original: true, text: None }).unwrap()[0];
        assert!(copy.pixels.is_none() && matches!(&copy.original, Some(Original::Jpeg { data, .. }) if *data == jpeg));
    }

    #[test]
    fn tiny_images_bombs_and_strangers_are_refused() {
        let one = DynamicImage::ImageLuma8(GrayImage::new(1, 1));
        assert_eq!(pages(&encode(&one, ImageFormat::Png), BOTH).err().unwrap().code(), "image_too_small");
        let big = DynamicImage::ImageLuma8(GrayImage::new(2900, 2800));
        assert_eq!(pages(&encode(&big, ImageFormat::Png), BOTH).err().unwrap().code(), "too_many_pixels");
        // over the limit but within twice it: recognised from a smaller copy, the file kept
        let large = DynamicImage::ImageLuma8(GrayImage::from_fn(2400, 2000, |x, _| image::Luma([(x % 256) as u8])));
        let page = &pages(&encode(&large, ImageFormat::Png), BOTH).unwrap()[0];
        let pixels = page.pixels.as_ref().unwrap();
        assert!(u64::from(pixels.width()) * u64::from(pixels.height()) <= LIMITS.max_pixels, "{}x{}", pixels.width(), pixels.height());
        assert_eq!((page.width, page.height), (pixels.width(), pixels.height()));
        assert!(matches!(page.original, Some(Original::Png { width: 2400, height: 2000, .. })));
        assert_eq!(pages(b"plain text", BOTH).err().unwrap().code(), "unsupported_media_type");
        let zeros = vec![0u8; 10_000_000];
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut z, &zeros).unwrap();
        assert_eq!(inflate_limited(&z.finish().unwrap(), 1_000_000).err().unwrap().code(), "decompression_bomb");
    }

    #[test]
    fn truncated_scans_are_corrupt() {
        let gray = DynamicImage::ImageLuma8(GrayImage::from_fn(300, 200, |x, y| image::Luma([((x * 13 + y * 7) % 251) as u8])));
        for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Tiff] {
            let whole = encode(&gray, format);
            assert_eq!(pages(&whole, BOTH).unwrap().len(), 1);
            let cut = &whole[..whole.len() * 7 / 10];
            assert_eq!(pages(cut, BOTH).err().unwrap().code(), "corrupt_image", "{format:?}");
            assert_eq!(pages(cut, Want { pixels: false, original: true, text: None }).err().unwrap().code(), "corrupt_image", "{format:?}");
        }
    }

    #[test]
    fn black_and_white_pages_stay_black_and_white() {
        let page = GrayImage::from_fn(301, 97, |x, y| image::Luma([if (x / 7 + y / 5) % 3 == 0 { 0 } else { 255 }]));
        let Original::Bilevel { g4, width, height } = Original::from_image(&DynamicImage::ImageLuma8(page.clone())) else {
            panic!("a black-and-white page kept as grey")
        };
        assert_eq!((width, height), (301, 97));
        assert!(g4.len() * 8 < page.as_raw().len(), "{} bytes", g4.len());
        let mut rows = Vec::new();
        fax::decoder::decode_g4(g4.iter().copied(), 301, Some(97), |line| {
            rows.extend(fax::decoder::pels(line, 301).map(|c| if c == fax::Color::Black { 0u8 } else { 255 }))
        });
        assert_eq!(rows, page.into_raw(), "the code gives the page back");
        let grey = GrayImage::from_fn(40, 40, |x, _| image::Luma([x as u8 * 6]));
        assert!(matches!(Original::from_image(&DynamicImage::ImageLuma8(grey)), Original::Raw { colors: 1, .. }));
    }

    #[test]
    fn density_comes_from_jfif_exif_phys_or_tiff_per_axis() {
        let gray = DynamicImage::ImageLuma8(GrayImage::from_fn(400, 300, |x, y| image::Luma([((x + y) % 256) as u8])));
        // JFIF units 0 (aspect only) and EXIF in centimetres: 78.74 dots per cm is 200 dpi
        let mut jpeg = encode(&gray, ImageFormat::Jpeg);
        let mut exif = b"Exif\0\0II*\0\x08\0\0\0\x02\0".to_vec();
        let entry = |tag: u16, kind: u16, value: u32| {
            [tag.to_le_bytes().as_slice(), &kind.to_le_bytes(), &1u32.to_le_bytes(), &value.to_le_bytes()].concat()
        };
        exif.extend(entry(0x011A, 5, 38));
        exif.extend(entry(0x0128, 3, 3));
        exif.extend(0u32.to_le_bytes());
        exif.extend(7874u32.to_le_bytes());
        exif.extend(100u32.to_le_bytes());
        let mut app1 = vec![0xFF, 0xE1];
        app1.extend(((exif.len() + 2) as u16).to_be_bytes());
        app1.extend(exif);
        jpeg.splice(2..2, app1);
        let page = &pages(&jpeg, BOTH).unwrap()[0];
        assert!((page.dpi - 200.0).abs() < 0.1, "{}", page.dpi);
        assert_eq!((page.width, page.height), (400, 300));
        // a PNG scanned at 200 x 100 dpi is read with square pixels at 200 dpi
        let mut png = encode(&gray, ImageFormat::Png);
        let mut phys = b"pHYs".to_vec();
        phys.extend(7874u32.to_be_bytes());
        phys.extend(3937u32.to_be_bytes());
        phys.push(1);
        let crc = crc32(&phys);
        let mut chunk = 9u32.to_be_bytes().to_vec();
        chunk.extend(phys);
        chunk.extend(crc.to_be_bytes());
        png.splice(33..33, chunk);
        let page = &pages(&png, BOTH).unwrap()[0];
        assert_eq!((page.width, page.height, page.dpi.round()), (400, 600, 200.0));
        assert_eq!(page.pixels.as_ref().map(|p| (p.width(), p.height())), Some((400, 600)));
        assert!(matches!(page.original, Some(Original::Png { width: 400, height: 300, .. })), "the file's own pixels are kept");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn dpi_comes_from_the_file_or_an_a4_guess() {
        assert_eq!(plausible_dpi(Some(300.0), 10, 10), 300.0);
        assert!((plausible_dpi(None, 1240, 1754) - 150.0).abs() < 1.0);
        assert!((plausible_dpi(Some(1.0), 2480, 3508) - 300.0).abs() < 1.0);
    }
}
