//! Each entry's own image: its row cut from the page's copy, so that an entry's record shows
//! the one person it is about and not the page's other entries.

use super::RegisterError;
use crate::custody::{PageText, ShownPage};
use crate::intake::MediaLimits;
use crate::pages::{self, Want};
use sohoa_protocol::register::Entry;

/// Each entry's row cut from its page as scanned (a PNG at the page's resolution): the page's
/// copy is drawn once and each row's region, given on the page turned upright and deskewed,
/// taken back to it. An entry on no page of the copy, or off its page, is refused.
pub(super) fn entry_images(pdf: &[u8], texts: &[PageText], entries: &[Entry], limits: MediaLimits) -> Result<Vec<Vec<u8>>, RegisterError> {
    for (i, e) in entries.iter().enumerate() {
        let outside = |detail: String| RegisterError::Outside { entry: i + 1, detail };
        let text = texts.get(e.page as usize - 1).filter(|_| e.page >= 1).ok_or_else(|| outside(format!("page {}", e.page)))?;
        let (up_w, up_h) = if text.quarter_turns % 2 == 1 { (text.height, text.width) } else { (text.width, text.height) };
        let r = e.region;
        if r.w == 0 || r.h == 0 || r.x.saturating_add(r.w) > up_w || r.y.saturating_add(r.h) > up_h || text.unread.is_some() {
            return Err(outside(format!("{}x{} at {},{} on a {up_w}x{up_h} page", r.w, r.h, r.x, r.y)));
        }
    }
    let mut images = vec![Vec::new(); entries.len()];
    let mut number = 0u32;
    let want = Want { pixels: true, original: false, text: None };
    pages::for_each(pdf, limits, want, |page| {
        number += 1;
        let Some(pixels) = page.pixels.as_ref() else { return Ok::<_, RegisterError>(()) };
        let pixels = pixels.to_luma8();
        let (w, h) = pixels.dimensions();
        let text = &texts[number as usize - 1];
        for (i, e) in entries.iter().enumerate().filter(|(_, e)| e.page == number) {
            let r = e.region;
            let shown = text
                .shown_box(r.x, r.y, r.w, r.h, ShownPage::AsScanned)
                .ok_or_else(|| RegisterError::Outside { entry: i + 1, detail: "the page's turn and skew make no map".into() })?;
            let x = ((shown.x * w as f32).floor() as u32).min(w - 1);
            let y = ((shown.y * h as f32).floor() as u32).min(h - 1);
            let cw = ((shown.w * w as f32).ceil() as u32).clamp(1, w - x);
            let ch = ((shown.h * h as f32).ceil() as u32).clamp(1, h - y);
            let row = image::imageops::crop_imm(&pixels, x, y, cw, ch).to_image();
            images[i] = png_at(&row, page.dpi)?;
        }
        Ok(())
    })?;
    if let Some(i) = images.iter().position(Vec::is_empty) {
        return Err(RegisterError::Outside { entry: i + 1, detail: "its page was not drawn".into() });
    }
    Ok(images)
}

/// `image` as a PNG that says its resolution (`pHYs`), so that its copy has the row's size.
fn png_at(image: &image::GrayImage, dpi: f32) -> Result<Vec<u8>, RegisterError> {
    let mut png = std::io::Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).map_err(|e| RegisterError::Image(e.to_string()))?;
    let mut png = png.into_inner();
    let per_metre = (dpi / 0.0254).round() as u32;
    let mut chunk = b"pHYs".to_vec();
    chunk.extend(per_metre.to_be_bytes());
    chunk.extend(per_metre.to_be_bytes());
    chunk.push(1);
    let mut crc = flate2::Crc::new();
    crc.update(&chunk);
    let mut phys = 9u32.to_be_bytes().to_vec();
    phys.extend(chunk);
    phys.extend(crc.sum().to_be_bytes());
    // after the signature (8 bytes) and the header chunk (25)
    png.splice(33..33, phys);
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pages::PageError;

    #[test]
    fn a_row_image_says_its_resolution() {
        let row = image::GrayImage::from_pixel(300, 40, image::Luma([200]));
        let png = png_at(&row, 300.0).unwrap();
        let mut seen = None;
        let limits = MediaLimits { max_pixels: 60_000_000, max_pages: 10, max_scan_pixels: u64::MAX };
        pages::for_each(&png, limits, Want { pixels: false, original: false, text: None }, |page| {
            seen = Some((page.width, page.height, page.dpi.round()));
            Ok::<_, PageError>(())
        })
        .unwrap();
        assert_eq!(seen, Some((300, 40, 300.0)));
    }
}
