//! Scans to pages for recognition, one page at a time, through the service's own page
//! reader (`sohoa_protocol::pages`), so the worker reads exactly the images the service embeds.

use super::OcrError;
use image::GrayImage;
use sohoa_protocol::intake::MediaLimits;
use sohoa_protocol::pages::{self, ShownWord, TextPolicy, Want};

/// One page of a scan, as recognition reads it.
pub struct Page {
    /// Empty for a page that keeps its own text.
    pub gray: GrayImage,
    pub width: u32,
    pub height: u32,
    /// Resolution in dots per inch, from the file or guessed from an A4 page.
    pub dpi: f32,
    /// The words of a PDF page that keeps its own text under the policy: read, not recognised.
    pub own_text: Option<Vec<ShownWord>>,
    /// Why the page cannot be read, when the rest of its file can.
    pub unread: Option<String>,
}

/// Hands each page of `bytes` within `limits` to `each`, decoding the next only after.
/// A PDF page that carries text is treated as `policy` says.
pub fn for_each_page(
    bytes: &[u8],
    limits: MediaLimits,
    policy: TextPolicy,
    mut each: impl FnMut(Page) -> Result<(), OcrError>,
) -> Result<(), OcrError> {
    pages::for_each(bytes, limits, Want { pixels: true, original: false, text: Some(policy) }, |page| {
        let gray = page.pixels.map(|p| super::seal::grey(p, page.dpi)).unwrap_or_default();
        each(Page { gray, width: page.width, height: page.height, dpi: page.dpi, own_text: page.kept_text, unread: page.unread })
    })
}
