//! Page images of an image-only PDF (what scanners write), extracted with lopdf.

use super::{check_size, decode, expand_bilevel, from_pixels, inflate_limited, plausible_dpi, Original, Page, PageError, Want};
use crate::intake::{MediaError, MediaLimits};
use image::{DynamicImage, GrayImage, ImageFormat, RgbImage};
use lopdf::{Document, Object};

pub fn pages<E: From<PageError>>(
    bytes: &[u8],
    limits: MediaLimits,
    want: Want,
    mut each: impl FnMut(Page) -> Result<(), E>,
) -> Result<(), E> {
    // lopdf is not hardened against every malformed file; a panic there is a corrupt PDF.
    let loaded = std::panic::catch_unwind(|| Document::load_mem(bytes))
        .map_err(|_| PageError::from(MediaError::CorruptPdf("the parser gave up".into())))?;
    let doc = match loaded {
        Ok(doc) => doc,
        Err(lopdf::Error::Decryption(_)) => return Err(PageError::from(MediaError::EncryptedPdf).into()),
        Err(e) => return Err(PageError::from(MediaError::CorruptPdf(e.to_string())).into()),
    };
    if doc.is_encrypted() || doc.was_encrypted() {
        return Err(PageError::from(MediaError::EncryptedPdf).into());
    }
    let page_ids = doc.get_pages();
    if page_ids.is_empty() {
        return Err(PageError::from(MediaError::NoPages).into());
    }
    if page_ids.len() > limits.max_pages as usize {
        return Err(PageError::from(MediaError::TooManyPages { pages: page_ids.len() as u32, limit: limits.max_pages }).into());
    }
    for (number, id) in page_ids {
        each(page(&doc, number, id, limits, want)?)?;
    }
    Ok(())
}

fn page(doc: &Document, number: u32, id: lopdf::ObjectId, limits: MediaLimits, want: Want) -> Result<Page, PageError> {
    let images = doc.get_page_images(id).map_err(|e| MediaError::CorruptPdf(format!("page {number}: {e}")))?;
    // A scanned page is one image covering it; take the largest if there are several.
    let image = images.iter().max_by_key(|i| i.width.saturating_mul(i.height)).ok_or(PageError::PdfPageWithoutImage { page: number })?;
    let (width, height) = (u32::try_from(image.width).unwrap_or(0), u32::try_from(image.height).unwrap_or(0));
    check_size(width, height, limits)?;
    let page_width_pt = media_width(doc, id).unwrap_or(595.0);
    let dpi = plausible_dpi(Some(width as f32 / (page_width_pt / 72.0)), width, height);
    let filters: Vec<&str> = image.filters.iter().flatten().map(String::as_str).collect();
    let unsupported = |what: String| PageError::UnsupportedPdfImage { page: number, what };
    match filters.as_slice() {
        ["DCTDecode"] => {
            // The limits hold for the JPEG's own size, which the dictionary's need not match.
            let decoded = decode(image.content, ImageFormat::Jpeg, "jpeg", limits)?;
            if (decoded.width(), decoded.height()) != (width, height) {
                let (w, h) = (decoded.width(), decoded.height());
                return Err(MediaError::CorruptPdf(format!("page {number}: a {w}x{h} JPEG declared as {width}x{height}")).into());
            }
            let colors = if decoded.color().has_color() { 3 } else { 1 };
            let original = want.original.then(|| Original::Jpeg { data: image.content.to_vec(), width, height, colors });
            Ok(Page { width, height, dpi, pixels: want.pixels.then_some(decoded), original })
        }
        [] | ["FlateDecode"] => {
            let colors = colors(doc, image.origin_dict).ok_or_else(|| unsupported(format!("colour space {:?}", image.color_space)))?;
            let bits = image.bits_per_component.unwrap_or(8);
            if bits != 8 && !(bits == 1 && colors == 1) {
                return Err(unsupported(format!("{bits} bits per component")));
            }
            let row = (width as usize * colors as usize * bits as usize).div_ceil(8);
            let predicted = predictor(image.origin_dict) >= 10;
            let expected = (row + usize::from(predicted)) * height as usize;
            let raw = if filters.is_empty() { image.content.to_vec() } else { inflate_limited(image.content, expected)? };
            let samples = if predicted { unpredict(&raw, row, colors as usize * bits as usize / 8) } else { raw };
            if samples.len() < row * height as usize {
                return Err(MediaError::CorruptPdf(format!("page {number}: image data is short")).into());
            }
            let image = match (colors, bits) {
                (1, 1) => DynamicImage::ImageLuma8(expand_bilevel(&samples, width, height, false)),
                (1, _) => {
                    GrayImage::from_raw(width, height, samples).map(DynamicImage::ImageLuma8).ok_or_else(|| unsupported("size".into()))?
                }
                _ => RgbImage::from_raw(width, height, samples).map(DynamicImage::ImageRgb8).ok_or_else(|| unsupported("size".into()))?,
            };
            Ok(from_pixels(image, dpi, want))
        }
        other => Err(unsupported(format!("filter {other:?}"))),
    }
}

fn media_width(doc: &Document, page: lopdf::ObjectId) -> Option<f32> {
    let dict = doc.get_dictionary(page).ok()?;
    let boxed = dict.get(b"MediaBox").ok()?;
    let (_, boxed) = doc.dereference(boxed).ok()?;
    let nums: Vec<f32> = boxed.as_array().ok()?.iter().filter_map(|o| o.as_float().ok()).collect();
    (nums.len() == 4 && nums[2] > nums[0]).then(|| nums[2] - nums[0])
}

fn colors(doc: &Document, dict: &lopdf::Dictionary) -> Option<u8> {
    let (_, space) = doc.dereference(dict.get(b"ColorSpace").ok()?).ok()?;
    match space {
        Object::Name(n) if n == b"DeviceGray" || n == b"CalGray" => Some(1),
        Object::Name(n) if n == b"DeviceRGB" || n == b"CalRGB" => Some(3),
        Object::Array(a) if a.first().and_then(|o| o.as_name().ok()) == Some(b"ICCBased") => {
            let (_, stream) = doc.dereference(a.get(1)?).ok()?;
            match stream.as_stream().ok()?.dict.get(b"N").ok()?.as_i64().ok()? {
                1 => Some(1),
                3 => Some(3),
                _ => None,
            }
        }
        _ => None,
    }
}

fn predictor(dict: &lopdf::Dictionary) -> i64 {
    dict.get(b"DecodeParms").and_then(|p| p.as_dict()).and_then(|p| p.get(b"Predictor")).and_then(|p| p.as_i64()).unwrap_or(1)
}

/// Undoes PNG row filters (PDF predictors 10-15): each row starts with its filter byte.
fn unpredict(data: &[u8], row: usize, bpp: usize) -> Vec<u8> {
    let bpp = bpp.max(1);
    let mut out: Vec<u8> = Vec::with_capacity(data.len());
    let mut prev = vec![0u8; row];
    for chunk in data.chunks(row + 1) {
        if chunk.len() < row + 1 {
            break;
        }
        let (filter, src) = (chunk[0], &chunk[1..]);
        let mut cur = vec![0u8; row];
        for i in 0..row {
            let a = if i >= bpp { cur[i - bpp] } else { 0 };
            let b = prev[i];
            let c = if i >= bpp { prev[i - bpp] } else { 0 };
            cur[i] = src[i].wrapping_add(match filter {
                1 => a,
                2 => b,
                3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                4 => paeth(a, b, c),
                _ => 0,
            });
        }
        out.extend_from_slice(&cur);
        prev = cur;
    }
    out
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let p = i16::from(a) + i16::from(b) - i16::from(c);
    let (pa, pb, pc) = ((p - i16::from(a)).abs(), (p - i16::from(b)).abs(), (p - i16::from(c)).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}
