//! A page of a PDF drawn small for a person to look at (the signing desk shows the result it
//! signs): the renderer and the guards that recognition uses, at the width asked for.

use super::pdf::{frame, guard_streams, interpreter_settings, largest_image_dpi, render};
use super::{Frame, PageError};
use crate::intake::{MediaError, MediaLimits};
use hayro::hayro_syntax::Pdf;
use hayro::RenderCache;
use image::DynamicImage;

/// The most pixels a preview holds, whatever width is asked: a tall page is drawn narrower.
const MAX_PREVIEW_PIXELS: u64 = 4_000_000;

/// The pages of a PDF as shown (visible box, /Rotate, UserUnit), first page first.
pub fn frames(bytes: &[u8], limits: MediaLimits) -> Result<Vec<Frame>, PageError> {
    let (doc, pdf) = open(bytes, limits)?;
    let ids = doc.get_pages();
    ids.into_iter()
        .zip(pdf.pages().iter())
        .map(|((number, id), page)| frame(number, page, &doc, id).ok_or_else(|| empty_box(number)))
        .collect()
}

/// Page `number` (from 1) of a PDF drawn `width` pixels wide (narrower when the page is so
/// tall that it would pass the preview's pixel limit), with its frame.
pub fn preview(bytes: &[u8], number: u32, width: u32, limits: MediaLimits) -> Result<(Frame, DynamicImage), PageError> {
    let (doc, pdf) = open(bytes, limits)?;
    let ids = doc.get_pages();
    let id = *ids.get(&number).ok_or(MediaError::NoPages)?;
    let page = pdf.pages().get(number as usize - 1).ok_or(MediaError::NoPages)?;
    let frame = frame(number, page, &doc, id).ok_or_else(|| empty_box(number))?;
    largest_image_dpi(&doc, id, &frame, limits, number)?;
    guard_streams(&doc, id, number, limits)?;
    let (w_pt, h_pt) = frame.shown_size();
    let mut width = width.max(1);
    let height_of = |w: u32| ((w as f32) * h_pt / w_pt).round().max(1.0) as u32;
    let cap = MAX_PREVIEW_PIXELS.min(limits.max_pixels);
    while u64::from(width) * u64::from(height_of(width)) > cap && width > 1 {
        width = (width as f32 * 0.9) as u32;
    }
    let height = height_of(width);
    if height > u32::from(u16::MAX) {
        return Err(MediaError::TooManyPixels { page: number, width, height, limit: cap }.into());
    }
    let settings = interpreter_settings();
    let cache = RenderCache::new();
    let image = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| render(page, &cache, &settings, width, height)))
        .map_err(|_| MediaError::CorruptPdf(format!("page {number}: the renderer gave up")))?;
    Ok((frame, image))
}

fn open(bytes: &[u8], limits: MediaLimits) -> Result<(lopdf::Document, Pdf), PageError> {
    let doc = crate::intake::load_pdf(bytes)?;
    let count = doc.get_pages().len();
    if count == 0 {
        return Err(MediaError::NoPages.into());
    }
    if count > limits.max_pages as usize {
        return Err(MediaError::TooManyPages { pages: count as u32, limit: limits.max_pages }.into());
    }
    let pdf = std::panic::catch_unwind(|| Pdf::new(bytes.to_vec()))
        .map_err(|_| MediaError::CorruptPdf("the renderer gave up".into()))?
        .map_err(|e| MediaError::CorruptPdf(format!("{e:?}")))?;
    if pdf.pages().len() != count {
        return Err(MediaError::CorruptPdf(format!("{count} pages in the page tree, {} drawable", pdf.pages().len())).into());
    }
    Ok((doc, pdf))
}

fn empty_box(number: u32) -> PageError {
    MediaError::CorruptPdf(format!("page {number}: its page box is empty")).into()
}
