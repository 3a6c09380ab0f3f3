//! Where a recognised word lies on the page a person is shown. Words (and the field boxes
//! made of them) are given in the pixels of the page turned upright and deskewed; the copy of
//! an image scan shows that page, the copy of a PDF scan keeps the page as scanned, which
//! the words reach back through the inverse of the turn and skew that drew it upright.

use super::searchable::{invert, placement};
use super::PageText;
use serde::Serialize;

/// Which page the box is wanted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShownPage {
    /// The page turned upright and deskewed, as the copy of an image scan shows it.
    Upright,
    /// The page as scanned, as the copy of a PDF scan keeps it.
    AsScanned,
}

/// A box on a page as shown, in fractions of its width and height from its top left corner.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct ShownBox {
    /// The page (from 1).
    pub page: u32,
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl PageText {
    /// The box `x, y, w, h` of this page turned upright and deskewed (pixels) on the page
    /// `shown`: the box around its corners, cut to the page; none when the page's turn and
    /// skew do not make a map (a page of no size).
    pub fn shown_box(&self, x: u32, y: u32, w: u32, h: u32, shown: ShownPage) -> Option<ShownBox> {
        let (up_w, up_h) = if self.quarter_turns % 2 == 1 { (self.height, self.width) } else { (self.width, self.height) };
        let (up_w, up_h) = (up_w as f32, up_h as f32);
        if up_w < 1.0 || up_h < 1.0 {
            return None;
        }
        let to_fraction: Box<dyn Fn(f32, f32) -> (f32, f32)> = match shown {
            ShownPage::Upright => Box::new(move |px, py| (px / up_w, py / up_h)),
            ShownPage::AsScanned => {
                // `placement` draws the scan's unit square (row 0 at the top, y up) onto the
                // upright page's points (y up); its inverse takes an upright point back
                let back = invert(placement(self.width, self.height, self.quarter_turns, self.skew, 1.0))?;
                Box::new(move |px, py| {
                    let (u, v) = (px, up_h - py);
                    let [a, b, c, d, e, f] = back;
                    (a * u + c * v + e, 1.0 - (b * u + d * v + f))
                })
            }
        };
        let (x0, y0, x1, y1) = (x as f32, y as f32, x.saturating_add(w) as f32, y.saturating_add(h) as f32);
        let corners = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)].map(|(px, py)| to_fraction(px, py));
        let cut = |v: f32| v.clamp(0.0, 1.0);
        let left = cut(corners.iter().map(|c| c.0).fold(f32::INFINITY, f32::min));
        let right = cut(corners.iter().map(|c| c.0).fold(f32::NEG_INFINITY, f32::max));
        let top = cut(corners.iter().map(|c| c.1).fold(f32::INFINITY, f32::min));
        let bottom = cut(corners.iter().map(|c| c.1).fold(f32::NEG_INFINITY, f32::max));
        Some(ShownBox { page: self.page, x: left, y: top, w: right - left, h: bottom - top })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(width: u32, height: u32, quarter_turns: u8, skew: f32) -> PageText {
        PageText { quarter_turns, skew, ..PageText::empty(1, width, height, 300.0) }
    }

    fn near(found: ShownBox, want: [f32; 4]) -> bool {
        [found.x, found.y, found.w, found.h].iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-3)
    }

    #[test]
    fn on_the_upright_page_a_box_is_scaled_to_it() {
        // a 200x100 scan turned a quarter is read as a 100x200 page
        let b = page(200, 100, 1, 2.0).shown_box(10, 20, 30, 5, ShownPage::Upright).unwrap();
        assert!(near(b, [0.1, 0.1, 0.3, 0.025]), "{b:?}");
    }

    #[test]
    fn on_the_page_as_scanned_a_box_is_turned_back() {
        // turned a quarter clockwise to read: the scan's pixel (px, py) is the upright page's
        // (100 - py, px), so the upright box 10..40 x 20..25 is the scan's 20..25 x 60..90
        let b = page(200, 100, 1, 0.0).shown_box(10, 20, 30, 5, ShownPage::AsScanned).unwrap();
        assert!(near(b, [0.1, 0.6, 0.025, 0.3]), "{b:?}");
        // upside down: mirrored on both axes
        let b = page(200, 100, 2, 0.0).shown_box(10, 20, 30, 5, ShownPage::AsScanned).unwrap();
        assert!(near(b, [0.8, 0.75, 0.15, 0.05]), "{b:?}");
        // three quarters: the scan's pixel (px, py) is the upright page's (py, 200 - px)
        let b = page(200, 100, 3, 0.0).shown_box(10, 20, 30, 5, ShownPage::AsScanned).unwrap();
        assert!(near(b, [0.875, 0.1, 0.025, 0.3]), "{b:?}");
        // as read: nothing moves
        let b = page(200, 100, 0, 0.0).shown_box(10, 20, 30, 5, ShownPage::AsScanned).unwrap();
        assert!(near(b, [0.05, 0.2, 0.15, 0.05]), "{b:?}");
    }

    #[test]
    fn a_skewed_page_gives_the_box_around_the_turned_word() {
        // deskewed by 3 degrees about the centre: the centre stays, a box there widens a little
        let b = page(1000, 800, 0, 3.0).shown_box(400, 380, 200, 40, ShownPage::AsScanned).unwrap();
        let (cx, cy) = (b.x + b.w / 2.0, b.y + b.h / 2.0);
        assert!((cx - 0.5).abs() < 1e-3 && (cy - 0.5).abs() < 1e-3, "{b:?}");
        let (w, h) = (b.w * 1000.0, b.h * 800.0);
        let (s, c) = 3f32.to_radians().sin_cos();
        assert!((w - (200.0 * c + 40.0 * s)).abs() < 0.5 && (h - (40.0 * c + 200.0 * s)).abs() < 0.5, "{w} x {h}");
        // the upright page's corner lies past the scan's edge: its box is cut to the page
        let b = page(1000, 800, 0, 3.0).shown_box(0, 0, 60, 60, ShownPage::AsScanned).unwrap();
        assert!(b.x == 0.0 && b.y >= 0.0 && b.x + b.w <= 1.0 && b.y + b.h <= 1.0 && b.w < 0.06, "{b:?}");
    }
}
