//! Pages with little or no text, which give orientation no evidence: a photograph, a map
//! drawn in lines, a blank form of empty boxes. Whatever their content, nothing on them
//! says which way is up, so recognition must leave them as scanned.

use super::{Line, Rng};
use image::{GrayImage, Luma};

/// What a sparse page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sparse {
    /// Smooth shapes and film grain over the whole page.
    Photo,
    /// Roads, rivers and plots drawn in lines, no lettering.
    Map,
    /// A grid of empty boxes under a one-line heading.
    Form,
}

impl Sparse {
    pub const ALL: [Sparse; 3] = [Sparse::Photo, Sparse::Map, Sparse::Form];

    pub fn name(self) -> &'static str {
        match self {
            Sparse::Photo => "photo",
            Sparse::Map => "map",
            Sparse::Form => "form",
        }
    }
}

/// The printed lines of a sparse page (a form's heading; nothing otherwise).
pub(super) fn lines(kind: Sparse) -> Vec<Line> {
    match kind {
        Sparse::Form => vec![Line::header("PHIẾU THÔNG TIN")],
        _ => Vec::new(),
    }
}

/// Draws the page's picture over `page` (already printed with `lines`).
pub(super) fn draw(kind: Sparse, page: &mut GrayImage, rng: &mut Rng, dpi: u32) {
    match kind {
        Sparse::Photo => photo(page, rng),
        Sparse::Map => map(page, rng, dpi),
        Sparse::Form => form(page, rng, dpi),
    }
}

/// Overlapping soft discs of random shade, then grain.
fn photo(page: &mut GrayImage, rng: &mut Rng) {
    let (w, h) = (page.width() as f32, page.height() as f32);
    let (x0, y0, x1, y1) = (w * 0.08, h * 0.06, w * 0.92, h * rng.range(0.5, 0.94));
    let discs: Vec<(f32, f32, f32, f32)> =
        (0..40).map(|_| (rng.range(x0, x1), rng.range(y0, y1), rng.range(w * 0.03, w * 0.25), rng.range(30.0, 220.0))).collect();
    let base = rng.range(90.0, 200.0);
    for (x, y, p) in page.enumerate_pixels_mut() {
        let (xf, yf) = (x as f32, y as f32);
        if xf < x0 || xf > x1 || yf < y0 || yf > y1 {
            continue;
        }
        let mut v = base;
        for &(cx, cy, r, shade) in &discs {
            let d = ((xf - cx).powi(2) + (yf - cy).powi(2)).sqrt() / r;
            if d < 1.0 {
                let weight = 1.0 - d * d;
                v = v * (1.0 - weight * 0.6) + shade * weight * 0.6;
            }
        }
        p[0] = v.clamp(0.0, 255.0) as u8;
    }
    for (_, _, p) in page.enumerate_pixels_mut() {
        let grain = rng.range(-12.0, 12.0);
        p[0] = (f32::from(p[0]) + grain).clamp(0.0, 255.0) as u8;
    }
}

/// A line from (x0, y0) to (x1, y1), `width` pixels wide, of `shade`.
fn stroke(page: &mut GrayImage, (x0, y0): (f32, f32), (x1, y1): (f32, f32), width: f32, shade: u8) {
    let steps = ((x1 - x0).abs().max((y1 - y0).abs()) as usize).max(1);
    let r = (width / 2.0).max(0.5);
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        let (cx, cy) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
        for dy in -(r.ceil() as i32)..=(r.ceil() as i32) {
            for dx in -(r.ceil() as i32)..=(r.ceil() as i32) {
                let (x, y) = ((cx + dx as f32) as i64, (cy + dy as f32) as i64);
                if x >= 0 && y >= 0 && (x as u32) < page.width() && (y as u32) < page.height() {
                    page.put_pixel(x as u32, y as u32, Luma([shade]));
                }
            }
        }
    }
}

/// Wandering roads and rivers, and a few plots as closed polygons.
fn map(page: &mut GrayImage, rng: &mut Rng, dpi: u32) {
    let (w, h) = (page.width() as f32, page.height() as f32);
    let unit = dpi as f32 / 150.0;
    for _ in 0..(6 + rng.below(8)) {
        let (mut x, mut y) = (rng.range(0.0, w), rng.range(0.0, h));
        let mut heading = rng.range(0.0, std::f32::consts::TAU);
        let width = rng.range(1.0, 5.0) * unit;
        let shade = rng.range(10.0, 120.0) as u8;
        for _ in 0..(10 + rng.below(30)) {
            heading += rng.range(-0.5, 0.5);
            let step = rng.range(10.0, 60.0) * unit;
            let (nx, ny) = (x + heading.cos() * step, y + heading.sin() * step);
            stroke(page, (x, y), (nx, ny), width, shade);
            (x, y) = (nx, ny);
        }
    }
    for _ in 0..(3 + rng.below(6)) {
        let (cx, cy, r) = (rng.range(0.1 * w, 0.9 * w), rng.range(0.1 * h, 0.9 * h), rng.range(20.0, 90.0) * unit);
        let corners: Vec<(f32, f32)> = (0..(3 + rng.below(4)))
            .map(|i| {
                let a = i as f32 * 1.3 + rng.range(0.0, 0.8);
                (cx + a.cos() * r * rng.range(0.6, 1.2), cy + a.sin() * r * rng.range(0.6, 1.2))
            })
            .collect();
        for (i, &a) in corners.iter().enumerate() {
            stroke(page, a, corners[(i + 1) % corners.len()], unit, 40);
        }
    }
}

/// Rows of empty boxes, some split into cells, below the heading.
fn form(page: &mut GrayImage, rng: &mut Rng, dpi: u32) {
    let px = |mm: f32| mm / 25.4 * dpi as f32;
    let (left, right) = (px(25.0), page.width() as f32 - px(25.0));
    let mut top = px(45.0);
    let bottom = page.height() as f32 - px(rng.range(25.0, 120.0));
    while top + px(12.0) < bottom {
        let height = px(rng.range(8.0, 30.0)).min(bottom - top);
        let cells = 1 + rng.below(4);
        let line = rng.range(1.0, 2.5) * dpi as f32 / 150.0;
        for (a, b) in [((left, top), (right, top)), ((left, top + height), (right, top + height))] {
            stroke(page, a, b, line, 30);
        }
        for i in 0..=cells {
            let x = left + (right - left) * i as f32 / cells as f32;
            stroke(page, (x, top), (x, top + height), line, 30);
        }
        top += height + px(rng.range(2.0, 8.0));
    }
}
