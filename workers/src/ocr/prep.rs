//! Page preprocessing before recognition: orientation (quarter turns), deskew within ±5°,
//! adaptive (Sauvola) binarisation that survives uneven lighting, and despeckling.

use image::{GrayImage, Luma};

/// Largest skew corrected, in degrees.
const MAX_SKEW: f32 = 5.0;
/// Below this fraction of ink pixels a page is blank paper.
const BLANK_INK: f32 = 0.0008;

/// What preprocessing did to a page, and the image to recognise.
pub struct Prepared {
    /// Binary image (0 ink, 255 paper), upright and deskewed.
    pub image: GrayImage,
    /// Clockwise quarter turns applied to make the page upright (0 to 3).
    pub quarter_turns: u8,
    /// Skew of the page as scanned, in degrees; the image is rotated by its opposite.
    pub skew: f32,
    pub blank: bool,
}

pub fn prepare(gray: &GrayImage, dpi: f32) -> Prepared {
    // Orientation and skew are found on a ~150 dpi copy: cheap, and enough resolution for
    // text lines and diacritics.
    let factor = (dpi / 150.0).round().max(1.0) as u32;
    let small = binarise(&downscale(gray, factor), 7);
    let ink = ink_fraction(&small);
    if ink < BLANK_INK {
        return Prepared { image: gray.clone(), quarter_turns: 0, skew: 0.0, blank: true };
    }
    let (quarter_turns, skew) = orientation_and_skew(&small);
    let upright = turn(gray, quarter_turns);
    let straight = if skew.abs() >= 0.1 { rotate(&upright, -skew) } else { upright };
    let radius = (dpi / 20.0).round().clamp(7.0, 40.0) as u32;
    let mut image = binarise(&straight, radius);
    despeckle(&mut image);
    Prepared { image, quarter_turns, skew, blank: false }
}

fn ink_fraction(binary: &GrayImage) -> f32 {
    let ink = binary.as_raw().iter().filter(|&&p| p == 0).count();
    ink as f32 / binary.as_raw().len().max(1) as f32
}

/// Box-averages `factor` x `factor` cells.
fn downscale(gray: &GrayImage, factor: u32) -> GrayImage {
    if factor <= 1 {
        return gray.clone();
    }
    let (w, h) = (gray.width() / factor, gray.height() / factor);
    let area = factor * factor;
    GrayImage::from_fn(w.max(1), h.max(1), |x, y| {
        let mut sum = 0u32;
        for dy in 0..factor {
            for dx in 0..factor {
                sum += u32::from(gray.get_pixel((x * factor + dx).min(gray.width() - 1), (y * factor + dy).min(gray.height() - 1))[0]);
            }
        }
        Luma([(sum / area) as u8])
    })
}

/// Sauvola thresholding over a (2r+1)² window, streamed with running column sums so that
/// memory stays at a few rows whatever the page size.
pub fn binarise(gray: &GrayImage, radius: u32) -> GrayImage {
    const K: f64 = 0.3;
    const R: f64 = 128.0;
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let r = radius as usize;
    let px = |x: usize, y: usize| u64::from(gray.as_raw()[y * w + x]);
    let mut col_sum = vec![0u64; w];
    let mut col_sq = vec![0u64; w];
    for y in 0..=r.min(h - 1) {
        for x in 0..w {
            col_sum[x] += px(x, y);
            col_sq[x] += px(x, y) * px(x, y);
        }
    }
    let mut out = GrayImage::new(gray.width(), gray.height());
    let mut pre_sum = vec![0u64; w + 1];
    let mut pre_sq = vec![0u64; w + 1];
    for y in 0..h {
        let rows = (y + r).min(h - 1) + 1 - y.saturating_sub(r);
        for x in 0..w {
            pre_sum[x + 1] = pre_sum[x] + col_sum[x];
            pre_sq[x + 1] = pre_sq[x] + col_sq[x];
        }
        for x in 0..w {
            let (lo, hi) = (x.saturating_sub(r), (x + r).min(w - 1) + 1);
            let n = ((hi - lo) * rows) as f64;
            let mean = (pre_sum[hi] - pre_sum[lo]) as f64 / n;
            let var = ((pre_sq[hi] - pre_sq[lo]) as f64 / n - mean * mean).max(0.0);
            let threshold = mean * (1.0 + K * (var.sqrt() / R - 1.0));
            let ink = (px(x, y) as f64) < threshold && mean - (px(x, y) as f64) > 8.0;
            out.as_mut()[y * w + x] = if ink { 0 } else { 255 };
        }
        // slide the window down one row
        if y + r + 1 < h {
            for x in 0..w {
                let v = px(x, y + r + 1);
                col_sum[x] += v;
                col_sq[x] += v * v;
            }
        }
        if y >= r {
            for x in 0..w {
                let v = px(x, y - r);
                col_sum[x] -= v;
                col_sq[x] -= v * v;
            }
        }
    }
    out
}

/// Clears ink pixels with at most one ink neighbour: scanner dust, not strokes or diacritics.
fn despeckle(binary: &mut GrayImage) {
    let (w, h) = (binary.width() as i64, binary.height() as i64);
    let src = binary.clone();
    let ink = |x: i64, y: i64| x >= 0 && y >= 0 && x < w && y < h && src.as_raw()[(y * w + x) as usize] == 0;
    for y in 0..h {
        for x in 0..w {
            if !ink(x, y) {
                continue;
            }
            let neighbours = [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)]
                .iter()
                .filter(|(dx, dy)| ink(x + dx, y + dy))
                .count();
            if neighbours <= 1 {
                binary.as_mut()[(y * w + x) as usize] = 255;
            }
        }
    }
}

/// Clockwise quarter turns.
fn turn(image: &GrayImage, quarter_turns: u8) -> GrayImage {
    match quarter_turns % 4 {
        1 => image::imageops::rotate90(image),
        2 => image::imageops::rotate180(image),
        3 => image::imageops::rotate270(image),
        _ => image.clone(),
    }
}

fn row_profile(binary: &GrayImage) -> Vec<u32> {
    binary.rows().map(|row| row.filter(|p| p[0] == 0).count() as u32).collect()
}

/// How strongly ink gathers into lines along the rows: text lines give alternating full and
/// empty rows, so adjacent-row differences are large.
fn line_energy(profile: &[u32]) -> f64 {
    let total: f64 = profile.iter().map(|&v| f64::from(v)).sum::<f64>().max(1.0);
    profile.windows(2).map(|p| (f64::from(p[1]) - f64::from(p[0])).powi(2)).sum::<f64>() / total
}

/// Clockwise quarter turns that make text upright, and the skew: text lines must run
/// along the rows once levelled, and Vietnamese (like Latin) text carries more ink above
/// the x-height band (ascenders, diacritics) than below it (descenders).
fn orientation_and_skew(small: &GrayImage) -> (u8, f32) {
    let (across_skew, across) = skew_search(small);
    let turned = image::imageops::rotate90(small);
    let (along_skew, along) = skew_search(&turned);
    let (base, skew, upright) = if along > across * 1.3 { (1, along_skew, turned) } else { (0, across_skew, small.clone()) };
    let level = if skew.abs() >= 0.1 { threshold(&rotate(&upright, -skew)) } else { upright };
    if top_heavy(&row_profile(&level)) >= 0.0 {
        (base, skew)
    } else {
        (base + 2, skew)
    }
}

fn threshold(gray: &GrayImage) -> GrayImage {
    GrayImage::from_fn(gray.width(), gray.height(), |x, y| Luma([if gray.get_pixel(x, y)[0] < 128 { 0 } else { 255 }]))
}

/// Positive when ink sits above the core of each text line, negative when below.
fn top_heavy(profile: &[u32]) -> f64 {
    let mut balance = 0.0;
    let mut start = None;
    for (y, &v) in profile.iter().chain(std::iter::once(&0)).enumerate() {
        match (start, v > 0) {
            (None, true) => start = Some(y),
            (Some(s), false) => {
                let band = &profile[s..y];
                if band.len() >= 4 {
                    let peak = *band.iter().max().unwrap_or(&0);
                    let core: Vec<usize> = (0..band.len()).filter(|&i| band[i] * 2 >= peak).collect();
                    if let (Some(&top), Some(&bottom)) = (core.first(), core.last()) {
                        let above: u32 = band[..top].iter().sum();
                        let below: u32 = band[bottom + 1..].iter().sum();
                        balance += f64::from(above) - f64::from(below);
                    }
                }
                start = None;
            }
            _ => {}
        }
    }
    balance
}

/// The skew, in degrees, that best lines ink up into rows, and how well it does: a coarse
/// then a fine search of the row profile of sheared ink coordinates.
fn skew_search(small: &GrayImage) -> (f32, f64) {
    let ink: Vec<(f32, f32)> = small.enumerate_pixels().filter(|(_, _, p)| p[0] == 0).map(|(x, y, _)| (x as f32, y as f32)).collect();
    let height = small.height() as f32;
    let width = small.width() as f32;
    let score = |deg: f32| {
        let t = deg.to_radians().tan();
        let offset = (width * t.abs()).ceil();
        let mut bins = vec![0u32; (height + 2.0 * offset) as usize + 2];
        for &(x, y) in &ink {
            let b = (y + x * t + offset) as usize;
            if let Some(bin) = bins.get_mut(b) {
                *bin += 1;
            }
        }
        line_energy(&bins)
    };
    let best = |from: f32, to: f32, step: f32| {
        let mut best = (0.0f32, f64::MIN);
        let mut a = from;
        while a <= to + 1e-4 {
            let s = score(a);
            if s > best.1 {
                best = (a, s);
            }
            a += step;
        }
        best
    };
    let (coarse, _) = best(-MAX_SKEW, MAX_SKEW, 0.5);
    best(coarse - 0.5, coarse + 0.5, 0.05)
}

/// Rotates by `degrees` (counter-clockwise as seen) with bilinear sampling, keeping the
/// canvas and filling with white.
pub fn rotate(gray: &GrayImage, degrees: f32) -> GrayImage {
    let data = rotate_samples(gray.as_raw(), gray.width(), gray.height(), 1, degrees);
    GrayImage::from_raw(gray.width(), gray.height(), data).unwrap_or_else(|| gray.clone())
}

/// `rotate` over interleaved 8-bit samples with `channels` per pixel.
pub fn rotate_samples(src: &[u8], width: u32, height: u32, channels: usize, degrees: f32) -> Vec<u8> {
    let (w, h) = (width as f32, height as f32);
    let (cx, cy) = (w / 2.0, h / 2.0);
    let (s, c) = degrees.to_radians().sin_cos();
    let stride = width as usize * channels;
    let mut out = vec![255u8; src.len()];
    for y in 0..height as usize {
        for x in 0..width as usize {
            // an output point comes from the input point rotated the other way
            let (dx, dy) = (x as f32 - cx, y as f32 - cy);
            let (sx, sy) = (cx + dx * c - dy * s, cy + dx * s + dy * c);
            if sx < 0.0 || sy < 0.0 || sx > w - 1.0 || sy > h - 1.0 {
                continue;
            }
            let (x0, y0) = (sx.floor() as usize, sy.floor() as usize);
            let (x1, y1) = ((x0 + 1).min(width as usize - 1), (y0 + 1).min(height as usize - 1));
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            for ch in 0..channels {
                let p = |xx: usize, yy: usize| f32::from(src[yy * stride + xx * channels + ch]);
                let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
                let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
                out[y * stride + x * channels + ch] = (top * (1.0 - fy) + bottom * fy).round() as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of "words" of varying widths: an x-height block with ascender marks above,
    /// like printed text.
    fn text_page() -> GrayImage {
        let mut img = GrayImage::from_pixel(600, 400, Luma([230]));
        let mut seed = 7u32;
        let mut next = |n: u32| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) % n
        };
        for line in 0..8 {
            let top = 30 + line * 45;
            let mut left = 30 + next(20);
            while left < 520 {
                let width = 15 + next(50);
                for x in left..left + width {
                    for y in top + 8..top + 20 {
                        img.put_pixel(x, y, Luma([20]));
                    }
                    if next(9) == 0 {
                        for y in top..top + 8 {
                            img.put_pixel(x, y, Luma([20]));
                        }
                    }
                }
                left += width + 8 + next(10);
            }
        }
        img
    }

    #[test]
    fn blank_paper_is_blank() {
        let paper = GrayImage::from_fn(400, 600, |x, y| Luma([200 + ((x + y) % 7) as u8]));
        assert!(prepare(&paper, 150.0).blank);
        assert!(!prepare(&text_page(), 150.0).blank);
    }

    #[test]
    fn finds_quarter_turns() {
        let page = binarise(&text_page(), 7);
        assert_eq!(orientation_and_skew(&page).0, 0);
        assert_eq!(orientation_and_skew(&turn(&page, 2)).0, 2, "upside down needs a half turn");
        assert_eq!(orientation_and_skew(&turn(&page, 1)).0, 3, "a page turned clockwise turns back three quarters");
        assert_eq!(orientation_and_skew(&turn(&page, 3)).0, 1);
        let skewed = binarise(&rotate(&turn(&text_page(), 1), 3.0), 7);
        let (turns, skew) = orientation_and_skew(&skewed);
        assert_eq!(turns, 3, "a skewed, turned page");
        assert!((skew - 3.0).abs() <= 0.25, "{skew}");
    }

    #[test]
    fn measures_skew_within_a_quarter_degree() {
        let page = text_page();
        for angle in [-4.0f32, -1.5, 2.0, 4.5] {
            let skewed = binarise(&rotate(&page, angle), 7);
            let (found, _) = skew_search(&skewed);
            assert!((found - angle).abs() <= 0.25, "rotated {angle}, found {found}");
        }
    }

    #[test]
    fn sauvola_keeps_text_under_uneven_light() {
        // left half dim, right half bright; text in both
        let page = text_page();
        let lit = GrayImage::from_fn(600, 400, |x, y| {
            let light = 0.45 + 0.55 * (x as f32 / 600.0);
            Luma([(f32::from(page.get_pixel(x, y)[0]) * light) as u8])
        });
        let binary = binarise(&lit, 10);
        let ink_left = (0..300).flat_map(|x| (0..400).map(move |y| (x, y))).filter(|&(x, y)| binary.get_pixel(x, y)[0] == 0).count();
        let ink_right = (300..600).flat_map(|x| (0..400).map(move |y| (x, y))).filter(|&(x, y)| binary.get_pixel(x, y)[0] == 0).count();
        let truth = (0..300).flat_map(|x| (0..400).map(move |y| (x, y))).filter(|&(x, y)| page.get_pixel(x, y)[0] < 100).count();
        assert!((ink_left as f64 - truth as f64).abs() / (truth as f64) < 0.1, "left {ink_left} vs {truth}");
        assert!((ink_right as f64 - truth as f64).abs() / (truth as f64) < 0.1, "right {ink_right} vs {truth}");
    }
}
