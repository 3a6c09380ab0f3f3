//! What an uploaded scan is: the format from its bytes (never from its name or header),
//! and whether it is whole and within the size, pixel and page limits.

mod whole;

use image::{ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// Limits applied to every upload.
#[derive(Debug, Clone, Copy)]
pub struct MediaLimits {
    pub max_pixels: u64,
    pub max_pages: u32,
    /// All pages of one scan together, so that a scan within the page and pixel limits still
    /// fits a worker's time.
    pub max_scan_pixels: u64,
}

impl MediaLimits {
    /// The largest page decoded: pages up to twice `max_pixels` are read and recognised from
    /// a copy scaled down to `max_pixels`, the original kept; larger ones are refused.
    pub fn max_decoded_pixels(&self) -> u64 {
        self.max_pixels.saturating_mul(2)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaInfo {
    pub media_type: &'static str,
    pub pages: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("the content is not PNG, JPEG, TIFF or PDF")]
    Unsupported,
    #[error("the {format} image cannot be decoded: {reason}")]
    CorruptImage { format: &'static str, reason: String },
    #[error("the PDF cannot be read: {0}")]
    CorruptPdf(String),
    #[error("the PDF is encrypted")]
    EncryptedPdf,
    #[error("the file has no pages")]
    NoPages,
    #[error("{pages} pages is more than the limit of {limit}")]
    TooManyPages { pages: u32, limit: u32 },
    #[error("page {page} is {width}x{height} pixels, more than the limit of {limit}")]
    TooManyPixels { page: u32, width: u32, height: u32, limit: u64 },
    #[error("the pages hold {pixels} pixels together, more than the limit of {limit} for one scan")]
    ScanTooLarge { pixels: u64, limit: u64 },
}

impl MediaError {
    /// Stable machine code for the API and job failures.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::Unsupported => "unsupported_media_type",
            MediaError::CorruptImage { .. } => "corrupt_image",
            MediaError::CorruptPdf(_) => "corrupt_pdf",
            MediaError::EncryptedPdf => "encrypted_pdf",
            MediaError::NoPages => "no_pages",
            MediaError::TooManyPages { .. } => "too_many_pages",
            MediaError::TooManyPixels { .. } => "too_many_pixels",
            MediaError::ScanTooLarge { .. } => "scan_too_large",
        }
    }
}

/// Sniffs the format and checks the whole file. CPU-bound: call off the async threads.
pub fn inspect(bytes: &[u8], limits: MediaLimits) -> Result<MediaInfo, MediaError> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        image_pages(bytes, ImageFormat::Png, "image/png", limits)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        image_pages(bytes, ImageFormat::Jpeg, "image/jpeg", limits)
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        tiff_pages(bytes, limits)
    } else if bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
        pdf_pages(bytes, limits)
    } else {
        Err(MediaError::Unsupported)
    }
}

/// Refuses a PNG or JPEG whose data does not run whole to its end marker, which its
/// decoder might conceal; other formats pass.
pub fn whole_image(bytes: &[u8], format: ImageFormat) -> Result<(), MediaError> {
    let (name, checked) = match format {
        ImageFormat::Png => ("png", whole::png(bytes)),
        ImageFormat::Jpeg => ("jpeg", whole::jpeg(bytes)),
        _ => return Ok(()),
    };
    checked.map_err(|reason| MediaError::CorruptImage { format: name, reason })
}

/// Refuses a TIFF page whose strips or tiles do not all lie inside the file.
pub fn whole_tiff_page(decoder: &mut tiff::decoder::Decoder<Cursor<&[u8]>>, file_len: usize) -> Result<(), MediaError> {
    whole::tiff_page(decoder, file_len).map_err(|reason| MediaError::CorruptImage { format: "tiff", reason })
}

/// Page `page` of a scan (from 1), `width` x `height`, within the limits.
fn check_pixels(page: u32, width: u32, height: u32, limits: MediaLimits) -> Result<(), MediaError> {
    if width == 0 || height == 0 {
        return Err(MediaError::NoPages);
    }
    if u64::from(width) * u64::from(height) > limits.max_decoded_pixels() {
        return Err(MediaError::TooManyPixels { page, width, height, limit: limits.max_decoded_pixels() });
    }
    Ok(())
}

/// `total` with a `width` x `height` page added, within the scan's limit.
fn add_pixels(total: u64, width: u32, height: u32, limits: MediaLimits) -> Result<u64, MediaError> {
    let total = total.saturating_add(u64::from(width) * u64::from(height));
    if total > limits.max_scan_pixels {
        return Err(MediaError::ScanTooLarge { pixels: total, limit: limits.max_scan_pixels });
    }
    Ok(total)
}

fn decoder_limits(limits: MediaLimits) -> Limits {
    let mut l = Limits::default();
    // Four bytes a pixel covers RGBA8; 16-bit scans are rare at desks and refused here.
    l.max_alloc = Some(limits.max_decoded_pixels().saturating_mul(4));
    l
}

fn image_pages(bytes: &[u8], format: ImageFormat, media_type: &'static str, limits: MediaLimits) -> Result<MediaInfo, MediaError> {
    let name = media_type.trim_start_matches("image/");
    let corrupt = |e: image::ImageError| MediaError::CorruptImage { format: name, reason: e.to_string() };
    whole_image(bytes, format)?;
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(corrupt)?;
    check_pixels(1, width, height, limits)?;
    add_pixels(0, width, height, limits)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits(limits));
    // Decoding the whole image is the only way to find truncated or damaged data. image's
    // decoders are not hardened against every malformed file (zune-jpeg 0.5.15 indexes out of
    // bounds on some JPEGs); a panic there is a corrupt image.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.decode()))
        .map_err(|_| MediaError::CorruptImage { format: name, reason: "the decoder gave up".into() })?
        .map_err(corrupt)?;
    Ok(MediaInfo { media_type, pages: 1 })
}

fn tiff_pages(bytes: &[u8], limits: MediaLimits) -> Result<MediaInfo, MediaError> {
    use tiff::decoder::{Decoder, Limits as TiffLimits};
    let corrupt = |e: tiff::TiffError| MediaError::CorruptImage { format: "tiff", reason: e.to_string() };
    let mut tiff_limits = TiffLimits::default();
    let alloc = usize::try_from(limits.max_decoded_pixels().saturating_mul(4)).unwrap_or(usize::MAX);
    tiff_limits.decoding_buffer_size = alloc;
    tiff_limits.intermediate_buffer_size = alloc;
    let mut decoder = Decoder::new(Cursor::new(bytes)).map_err(corrupt)?.with_limits(tiff_limits);
    let (mut pages, mut total) = (0u32, 0u64);
    loop {
        pages += 1;
        if pages > limits.max_pages {
            return Err(MediaError::TooManyPages { pages, limit: limits.max_pages });
        }
        let (width, height) = decoder.dimensions().map_err(corrupt)?;
        check_pixels(pages, width, height, limits)?;
        total = add_pixels(total, width, height, limits)?;
        whole_tiff_page(&mut decoder, bytes.len())?;
        decoder.read_image().map_err(corrupt)?;
        if !decoder.more_images() {
            break;
        }
        decoder.next_image().map_err(corrupt)?;
    }
    Ok(MediaInfo { media_type: "image/tiff", pages })
}

/// Parses a PDF scan: encrypted files refused, parser panics turned into `corrupt_pdf`.
/// Intake, the page reader and the copy's writer all load scans through it.
pub fn load_pdf(bytes: &[u8]) -> Result<lopdf::Document, MediaError> {
    // lopdf is not hardened against every malformed file; a panic there is a corrupt PDF.
    let loaded =
        std::panic::catch_unwind(|| lopdf::Document::load_mem(bytes)).map_err(|_| MediaError::CorruptPdf("the parser gave up".into()))?;
    let doc = match loaded {
        Ok(doc) => doc,
        Err(lopdf::Error::Decryption(_)) => return Err(MediaError::EncryptedPdf),
        Err(e) => return Err(MediaError::CorruptPdf(e.to_string())),
    };
    if doc.is_encrypted() || doc.was_encrypted() {
        return Err(MediaError::EncryptedPdf);
    }
    Ok(doc)
}

fn pdf_pages(bytes: &[u8], limits: MediaLimits) -> Result<MediaInfo, MediaError> {
    let doc = load_pdf(bytes)?;
    let pages = u32::try_from(doc.get_pages().len()).unwrap_or(u32::MAX);
    if pages == 0 {
        return Err(MediaError::NoPages);
    }
    if pages > limits.max_pages {
        return Err(MediaError::TooManyPages { pages, limit: limits.max_pages });
    }
    // Each page's largest image, as the worker reads it; the images themselves are decoded
    // by the worker, one page at a time.
    let mut total = 0u64;
    for page in doc.get_pages().into_values() {
        let largest = doc.get_page_images(page).ok().into_iter().flatten().map(|i| (i.width.max(0) as u32, i.height.max(0) as u32));
        if let Some((width, height)) = largest.max_by_key(|(w, h)| u64::from(*w) * u64::from(*h)) {
            total = add_pixels(total, width, height, limits)?;
        }
    }
    Ok(MediaInfo { media_type: "application/pdf", pages })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, Luma};

    const LIMITS: MediaLimits = MediaLimits { max_pixels: 1_000_000, max_pages: 5, max_scan_pixels: 3_000_000 };

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = GrayImage::from_fn(width, height, |x, y| Luma([((x * 7 + y * 3) % 255) as u8]));
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn a_scan_whose_pages_together_pass_the_limit_is_refused() {
        // three 800 x 1000 pages: each within the page limit, 2.4 M pixels together
        let page = image::DynamicImage::ImageLuma8(GrayImage::from_pixel(800, 1000, Luma([200])));
        let mut tiff = Cursor::new(Vec::new());
        {
            let mut encoder = tiff::encoder::TiffEncoder::new(&mut tiff).unwrap();
            for _ in 0..3 {
                encoder.write_image::<tiff::encoder::colortype::Gray8>(800, 1000, page.as_bytes()).unwrap();
            }
        }
        let tight = MediaLimits { max_scan_pixels: 2_000_000, ..LIMITS };
        assert_eq!(inspect(tiff.get_ref(), tight).unwrap_err().code(), "scan_too_large");
        assert_eq!(inspect(tiff.get_ref(), LIMITS).unwrap().pages, 3);
    }

    #[test]
    fn a_page_over_the_pixel_limit_is_named() {
        // the second of three TIFF pages holds more pixels than twice the page limit
        let small = GrayImage::from_pixel(100, 100, Luma([200]));
        let big = GrayImage::from_pixel(1500, 1400, Luma([200]));
        let mut tiff = Cursor::new(Vec::new());
        {
            let mut encoder = tiff::encoder::TiffEncoder::new(&mut tiff).unwrap();
            for page in [&small, &big, &small] {
                encoder.write_image::<tiff::encoder::colortype::Gray8>(page.width(), page.height(), page.as_raw()).unwrap();
            }
        }
        let roomy = MediaLimits { max_scan_pixels: u64::MAX, ..LIMITS };
        let e = inspect(tiff.get_ref(), roomy).unwrap_err();
        assert_eq!(e.code(), "too_many_pixels");
        assert!(e.to_string().starts_with("page 2 is 1500x1400 pixels"), "{e}");
        let e = crate::pages::for_each(tiff.get_ref(), roomy, crate::pages::Want { pixels: true, original: true, text: None }, |_| {
            Ok::<_, crate::pages::PageError>(())
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("page 2 is"), "{e}");
    }

    #[test]
    fn sniffs_by_content() {
        assert_eq!(inspect(&png(40, 30), LIMITS).unwrap(), MediaInfo { media_type: "image/png", pages: 1 });
        let mut jpeg = Cursor::new(Vec::new());
        GrayImage::new(20, 20).write_to(&mut jpeg, ImageFormat::Jpeg).unwrap();
        assert_eq!(inspect(jpeg.get_ref(), LIMITS).unwrap().media_type, "image/jpeg");
        let mut tif = Cursor::new(Vec::new());
        GrayImage::new(20, 20).write_to(&mut tif, ImageFormat::Tiff).unwrap();
        assert_eq!(inspect(tif.get_ref(), LIMITS).unwrap().media_type, "image/tiff");
    }

    #[test]
    fn rejects_text_truncation_and_pixel_bombs() {
        assert_eq!(inspect(b"hello, I am a PNG", LIMITS), Err(MediaError::Unsupported));
        let whole = png(200, 200);
        let truncated = &whole[..whole.len() / 2];
        assert_eq!(inspect(truncated, LIMITS).unwrap_err().code(), "corrupt_image");
        assert!(inspect(&png(1001, 1000), LIMITS).is_ok(), "within twice the limit: read from a smaller copy");
        assert_eq!(inspect(&png(2001, 1000), LIMITS).unwrap_err().code(), "too_many_pixels");
    }

    #[test]
    fn truncated_jpeg_and_tiff_are_corrupt_even_where_the_decoder_would_conceal_it() {
        let img = GrayImage::from_fn(300, 200, |x, y| Luma([((x * 13 + y * 7) % 251) as u8]));
        for format in [ImageFormat::Jpeg, ImageFormat::Tiff, ImageFormat::Png] {
            let mut out = Cursor::new(Vec::new());
            img.write_to(&mut out, format).unwrap();
            let whole = out.into_inner();
            assert_eq!(inspect(&whole, LIMITS).unwrap().pages, 1);
            for cut in [whole.len() * 7 / 10, whole.len() - 2] {
                let err = inspect(&whole[..cut], LIMITS).unwrap_err();
                assert_eq!(err.code(), "corrupt_image", "{format:?} cut at {cut}: {err}");
            }
        }
    }

    #[test]
    fn a_jpeg_that_makes_the_decoder_panic_is_corrupt() {
        // found by the intake_jpeg fuzz target: zune-jpeg 0.5.15 panics in its 1x1 IDCT
        let crash = include_bytes!("../../../tests/vectors/fuzz/zune-jpeg-idct-panic.jpg");
        assert_eq!(inspect(crash, LIMITS).unwrap_err().code(), "corrupt_image");
    }

    #[test]
    fn reads_pdf_pages_and_rejects_broken_pdfs() {
        let mut doc = lopdf::Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        let page = doc.add_object(
            lopdf::dictionary! { "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()] },
        );
        doc.objects.insert(
            pages_id,
            lopdf::Object::Dictionary(lopdf::dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
        );
        let catalog = doc.add_object(lopdf::dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        doc.trailer.set("Root", catalog);
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        assert_eq!(inspect(&bytes, LIMITS).unwrap(), MediaInfo { media_type: "application/pdf", pages: 1 });
        assert!(matches!(inspect(b"%PDF-1.7\ngarbage", LIMITS).unwrap_err().code(), "corrupt_pdf" | "no_pages"));
    }
}
