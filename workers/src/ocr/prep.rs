//! Page preprocessing before recognition: orientation (quarter turns) and skew within ±5°,
//! found on a small binarised (Sauvola) copy; then the grey page turned upright and
//! deskewed. The engine gets grey, not binary, pixels: its line recogniser reads the grey
//! edges of blurred, low-resolution strokes that a threshold cuts, and its layout analysis
//! thresholds locally (Sauvola) for uneven lighting (see `engine`).

use image::GrayImage;

/// Largest skew corrected, in degrees.
const MAX_SKEW: f32 = 5.0;
/// Below this fraction of ink pixels a page is blank paper.
const BLANK_INK: f32 = 0.0008;

/// What preprocessing did to a page, and the image to recognise.
pub struct Prepared {
    /// Grey image, upright and deskewed.
    pub image: GrayImage,
    /// Clockwise quarter turns applied to make the page upright (0 to 3).
    pub quarter_turns: u8,
    /// Skew of the page as scanned, in degrees; the image is rotated by its opposite.
    pub skew: f32,
    pub blank: bool,
    /// Pixels of `image` per pixel of the page as scanned (below 1 for fine scans).
    pub scale: f32,
}

/// Finer scans are read at this resolution: as accurate for printed text, and faster.
const READ_DPI: f32 = 200.0;

pub fn prepare(gray: &GrayImage, dpi: f32) -> Prepared {
    // Orientation and skew are found on a ~150 dpi copy: cheap, and enough resolution for
    // text lines and diacritics.
    let factor = (dpi / 150.0).round().max(1.0) as u32;
    let small = binarise(&downscale(gray, factor), 7);
    let ink = ink_fraction(&small);
    if ink < BLANK_INK {
        return Prepared { image: gray.clone(), quarter_turns: 0, skew: 0.0, blank: true, scale: 1.0 };
    }
    let (quarter_turns, skew) = orientation_and_skew(&small);
    let scale = if dpi > READ_DPI * 1.2 { READ_DPI / dpi } else { 1.0 };
    let resized;
    let gray = if scale < 1.0 {
        let (w, h) = (((gray.width() as f32 * scale).round() as u32).max(1), ((gray.height() as f32 * scale).round() as u32).max(1));
        resized = resample(gray, w, h);
        &resized
    } else {
        gray
    };
    let upright = if quarter_turns == 0 { gray.clone() } else { turn(gray, quarter_turns) };
    let image = if skew.abs() >= 0.1 { rotate(&upright, -skew) } else { upright };
    Prepared { image, quarter_turns, skew, blank: false, scale }
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
    let (w, h) = ((gray.width() / factor).max(1), (gray.height() / factor).max(1));
    let f = factor as usize;
    let stride = gray.width() as usize;
    let src = gray.as_raw();
    let mut out = vec![0u8; (w * h) as usize];
    let mut sums = vec![0u32; w as usize];
    for y in 0..h as usize {
        sums.iter_mut().for_each(|v| *v = 0);
        for row in src[y * f * stride..].chunks(stride).take(f) {
            for (x, sum) in sums.iter_mut().enumerate() {
                *sum += row[x * f..x * f + f].iter().map(|&p| u32::from(p)).sum::<u32>();
            }
        }
        for (x, sum) in sums.iter().enumerate() {
            out[y * w as usize + x] = (sum / (factor * factor)) as u8;
        }
    }
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| gray.clone())
}

/// Bilinear resampling to `w` x `h`: two taps a side are enough to shrink by under 2.
fn resample(gray: &GrayImage, w: u32, h: u32) -> GrayImage {
    let (sw, sh) = (gray.width() as usize, gray.height() as usize);
    let (fx, fy) = (sw as f32 / w as f32, sh as f32 / h as f32);
    let src = gray.as_raw();
    // horizontal taps are the same for every row
    let taps: Vec<(usize, usize, u32)> = (0..w as usize)
        .map(|x| {
            let pos = ((x as f32 + 0.5) * fx - 0.5).max(0.0);
            let x0 = (pos as usize).min(sw - 1);
            (x0, (x0 + 1).min(sw - 1), ((pos - x0 as f32) * 256.0) as u32)
        })
        .collect();
    let mut out = vec![0u8; (w * h) as usize];
    for y in 0..h as usize {
        let pos = ((y as f32 + 0.5) * fy - 0.5).max(0.0);
        let y0 = (pos as usize).min(sh - 1);
        let y1 = (y0 + 1).min(sh - 1);
        let wy = ((pos - y0 as f32) * 256.0) as u32;
        let (r0, r1) = (&src[y0 * sw..(y0 + 1) * sw], &src[y1 * sw..(y1 + 1) * sw]);
        for (x, &(x0, x1, wx)) in taps.iter().enumerate() {
            let top = u32::from(r0[x0]) * (256 - wx) + u32::from(r0[x1]) * wx;
            let bottom = u32::from(r1[x0]) * (256 - wx) + u32::from(r1[x1]) * wx;
            out[y * w as usize + x] = ((top * (256 - wy) + bottom * wy) >> 16) as u8;
        }
    }
    GrayImage::from_raw(w, h, out).unwrap_or_else(|| gray.clone())
}

/// Sauvola thresholding over a (2r+1)² window, streamed with running column sums so that
/// memory stays at a few rows whatever the page size.
pub fn binarise(gray: &GrayImage, radius: u32) -> GrayImage {
    const K: f32 = 0.3;
    const R: f32 = 128.0;
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
        let row = &gray.as_raw()[y * w..(y + 1) * w];
        let out_row = &mut out.as_mut()[y * w..(y + 1) * w];
        for x in 0..w {
            let (lo, hi) = (x.saturating_sub(r), (x + r).min(w - 1) + 1);
            let n = ((hi - lo) * rows) as f32;
            let mean = (pre_sum[hi] - pre_sum[lo]) as f32 / n;
            let value = f32::from(row[x]);
            // paper: nothing darker than its surroundings, no need for the deviation
            let ink = mean - value > 8.0 && {
                let var = ((pre_sq[hi] - pre_sq[lo]) as f32 / n - mean * mean).max(0.0);
                value < mean * (1.0 + K * (var.sqrt() / R - 1.0))
            };
            out_row[x] = if ink { 0 } else { 255 };
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

/// `rotate` for a binary image, by nearest neighbour.
fn rotate_binary(binary: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = (binary.width() as usize, binary.height() as usize);
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (s, c) = degrees.to_radians().sin_cos();
    let src = binary.as_raw();
    let mut out = vec![255u8; src.len()];
    for y in 0..h {
        let dy = y as f32 - cy;
        // walk along the output row: the source point advances by (c, s) per pixel
        let (mut sx, mut sy) = (cx - cx * c - dy * s, cy - cx * s + dy * c);
        for px in &mut out[y * w..(y + 1) * w] {
            let (ix, iy) = (sx.round(), sy.round());
            if ix >= 0.0 && iy >= 0.0 && (ix as usize) < w && (iy as usize) < h {
                *px = src[iy as usize * w + ix as usize];
            }
            sx += c;
            sy += s;
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| binary.clone())
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
    let level = if skew.abs() >= 0.1 { rotate_binary(&upright, -skew) } else { upright };
    if top_heavy(&row_profile(&level)) >= 0.0 {
        (base, skew)
    } else {
        (base + 2, skew)
    }
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
    let w = small.width() as usize;
    let ink: Vec<(f32, f32)> =
        small.as_raw().iter().enumerate().filter(|(_, &p)| p == 0).map(|(i, _)| ((i % w) as f32, (i / w) as f32)).collect();
    // the coarse pass sees every fourth ink pixel: enough to rank angles a half degree apart
    let sample: Vec<(f32, f32)> = ink.iter().step_by(4).copied().collect();
    let height = small.height() as f32;
    let width = small.width() as f32;
    let score = |ink: &[(f32, f32)], deg: f32| {
        let t = deg.to_radians().tan();
        let offset = (width * t.abs()).ceil();
        let mut bins = vec![0u32; (height + 2.0 * offset) as usize + 2];
        for &(x, y) in ink {
            let b = (y + x * t + offset) as usize;
            if let Some(bin) = bins.get_mut(b) {
                *bin += 1;
            }
        }
        line_energy(&bins)
    };
    let best = |ink: &[(f32, f32)], from: f32, to: f32, step: f32| {
        let mut best = (0.0f32, f64::MIN);
        let mut a = from;
        while a <= to + 1e-4 {
            let s = score(ink, a);
            if s > best.1 {
                best = (a, s);
            }
            a += step;
        }
        best
    };
    let (coarse, coarse_energy) = best(&sample, -MAX_SKEW, MAX_SKEW, 0.5);
    let (fine, _) = best(&ink, coarse - 0.5, coarse + 0.5, 0.05);
    (fine, coarse_energy)
}

/// Rotates by `degrees` (counter-clockwise as seen) with bilinear sampling, keeping the
/// canvas and filling with white.
pub fn rotate(gray: &GrayImage, degrees: f32) -> GrayImage {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    if w == 0 || h == 0 {
        return gray.clone();
    }
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (s, c) = degrees.to_radians().sin_cos();
    let src = gray.as_raw();
    let mut out = vec![255u8; src.len()];
    // Source coordinates in 16.16 fixed point: along an output row they advance by (c, s).
    const ONE: f32 = 65536.0;
    let (step_x, step_y) = ((c * ONE) as i64, (s * ONE) as i64);
    let (max_x, max_y) = (((w - 1) as i64) << 16, ((h - 1) as i64) << 16);
    for (y, row) in out.chunks_exact_mut(w).enumerate() {
        let dy = y as f32 - cy;
        // an output point comes from the input point rotated the other way
        let (mut sx, mut sy) = (((cx - cx * c - dy * s) * ONE) as i64, ((cy - cx * s + dy * c) * ONE) as i64);
        for px in row.iter_mut() {
            if (0..=max_x).contains(&sx) && (0..=max_y).contains(&sy) {
                let (x0, y0) = ((sx >> 16) as usize, (sy >> 16) as usize);
                let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
                // 8-bit weights
                let (fx, fy) = (((sx >> 8) & 0xff) as u32, ((sy >> 8) & 0xff) as u32);
                let p = |xx: usize, yy: usize| u32::from(src[yy * w + xx]);
                let top = p(x0, y0) * (256 - fx) + p(x1, y0) * fx;
                let bottom = p(x0, y1) * (256 - fx) + p(x1, y1) * fx;
                *px = ((top * (256 - fy) + bottom * fy + (1 << 15)) >> 16) as u8;
            }
            sx += step_x;
            sy += step_y;
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| gray.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

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
