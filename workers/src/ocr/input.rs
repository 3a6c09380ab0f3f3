//! Scans to pages for recognition, one page at a time, through the service's own page
//! reader (`sohoa::pages`), so the worker reads exactly the images the service embeds.

use super::OcrError;
use image::GrayImage;
use sohoa::intake::MediaLimits;
use sohoa::pages::{self, Want};

/// One page of a scan, as recognition reads it.
pub struct Page {
    pub gray: GrayImage,
    /// Resolution in dots per inch, from the file or guessed from an A4 page.
    pub dpi: f32,
}

/// Hands each page of `bytes` within `limits` to `each`, decoding the next only after.
pub fn for_each_page(bytes: &[u8], limits: MediaLimits, mut each: impl FnMut(Page) -> Result<(), OcrError>) -> Result<(), OcrError> {
    pages::for_each(bytes, limits, Want { pixels: true, original: false }, |page| {
        let gray = page.pixels.map(|p| p.into_luma8()).unwrap_or_default();
        each(Page { gray, dpi: page.dpi })
    })
}
