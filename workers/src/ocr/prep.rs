//! Page preprocessing before recognition: orientation (quarter turns) and skew within ±5°,
//! found on a small binarised (Sauvola) copy; then the grey page turned upright and
//! deskewed, and its binary form for layout analysis. The engine gets both: Tesseract's
//! layout analysis segments the binary page (thresholded locally, for uneven lighting),
//! its line recogniser reads the grey edges of blurred, low-resolution strokes that a
//! threshold cuts (see `engine`).

use image::GrayImage;
use std::borrow::Cow;

/// Largest skew corrected, in degrees.
const MAX_SKEW: f32 = 5.0;
/// Below this fraction of ink pixels a page is blank paper, unless its ink forms a line
/// of text (`holds_a_line`): a page that only says it was left blank has less.
const BLANK_INK: f32 = 0.0008;
/// A line of text is at least this many marks of letter size side by side.
const LINE_MARKS: usize = 5;

/// What the page's lines say before anything is read: blank paper, the clockwise quarter
/// turns they suggest (0 to 3) and the skew.
pub struct Survey {
    pub blank: bool,
    pub suggested_turns: u8,
    /// Skew of the page as scanned, in degrees; the image is rotated by its opposite.
    pub skew: f32,
    /// The skew of lines along the rows as scanned (`skew` unless a quarter turn is
    /// suggested).
    pub skew_as_scanned: f32,
}

/// A page turned and deskewed, and the image to recognise.
pub struct Prepared {
    /// Grey image, turned and deskewed.
    pub image: GrayImage,
    /// Clockwise quarter turns applied (0 to 3).
    pub quarter_turns: u8,
    /// Skew removed, in degrees.
    pub skew: f32,
    /// Pixels of `image` per pixel of the page as scanned (below 1 for fine scans).
    pub scale: f32,
}

/// Finer scans are read at this resolution: as accurate for printed text, and faster.
const READ_DPI: f32 = 165.0;

/// Orientation and skew are found on a binary copy at about this resolution: cheap, and
/// enough for text lines and diacritics.
const FIND_DPI: f32 = 150.0;

/// Blank paper, the turn the lines suggest and the skew, from a small binary copy.
pub fn survey(gray: &GrayImage, dpi: f32) -> Survey {
    let small = binarise(&shrink(gray, dpi / FIND_DPI), 7);
    let small_dpi = dpi * small.width() as f32 / gray.width().max(1) as f32;
    if ink_fraction(&small) < BLANK_INK && !holds_a_line(&small, small_dpi) {
        return Survey { blank: true, suggested_turns: 0, skew: 0.0, skew_as_scanned: 0.0 };
    }
    let (suggested_turns, skew) = orientation_and_skew(&small);
    let skew_as_scanned = if suggested_turns % 2 == 0 { skew } else { skew_as_scanned(&small) };
    Survey { blank: false, suggested_turns, skew, skew_as_scanned }
}

/// The page turned clockwise by `quarter_turns`, deskewed and shrunk to the reading
/// resolution.
pub fn straighten(gray: &GrayImage, dpi: f32, quarter_turns: u8, skew: f32) -> Prepared {
    let scale = if dpi > READ_DPI * 1.2 { READ_DPI / dpi } else { 1.0 };
    let skewed = skew.abs() >= 0.1;
    let image = if quarter_turns == 0 && skewed {
        // one pass shrinks and deskews
        rotate_scaled(gray, -skew, scale)
    } else {
        let gray = if scale < 1.0 { shrink(gray, 1.0 / scale) } else { Cow::Borrowed(gray) };
        let upright = if quarter_turns == 0 { gray } else { Cow::Owned(turn(&gray, quarter_turns)) };
        if skewed {
            rotate(&upright, -skew)
        } else {
            upright.into_owned()
        }
    };
    Prepared { image, quarter_turns, skew, scale }
}

/// The page `by` times smaller: box averages for whole factors, bilinear otherwise.
fn shrink(gray: &GrayImage, by: f32) -> Cow<'_, GrayImage> {
    let whole = by.round();
    if by < 1.2 {
        Cow::Borrowed(gray)
    } else if (by - whole).abs() < 0.05 {
        Cow::Owned(downscale(gray, whole as u32))
    } else {
        let size = |v: u32| ((v as f32 / by).round() as u32).max(1);
        Cow::Owned(resample(gray, size(gray.width()), size(gray.height())))
    }
}

fn ink_fraction(binary: &GrayImage) -> f32 {
    let ink = binary.as_raw().iter().filter(|&&p| p == 0).count();
    ink as f32 / binary.as_raw().len().max(1) as f32
}

/// Whether the ink of a nearly empty binary page (at `dpi`) holds a line of text:
/// `LINE_MARKS` or more marks of letter size (1.2 to 8 mm high) in a row, each within a
/// few letter heights of the next. Specks are smaller than letters, and dust, a punched
/// hole or a scanner's shadow does not line up in a row of them.
fn holds_a_line(binary: &GrayImage, dpi: f32) -> bool {
    let mm = |v: f32| v / 25.4 * dpi;
    let letters: Vec<[u32; 4]> = super::leaders::specks(binary, mm(25.0) as u32)
        .into_iter()
        .map(|s| [s.x0, s.y0, s.x1, s.y1])
        .filter(|&[_, y0, _, y1]| (mm(1.2)..=mm(8.0)).contains(&((y1 - y0 + 1) as f32)))
        .collect();
    if letters.len() < LINE_MARKS {
        return false;
    }
    // marks side by side: overlapping by half the shorter one's height, with a gap under
    // three letter heights
    let mut group: Vec<usize> = (0..letters.len()).collect();
    fn root(group: &mut [usize], mut i: usize) -> usize {
        while group[i] != i {
            group[i] = group[group[i]];
            i = group[i];
        }
        i
    }
    for i in 0..letters.len() {
        for j in i + 1..letters.len() {
            let ([ax0, ay0, ax1, ay1], [bx0, by0, bx1, by1]) = (letters[i], letters[j]);
            let overlap = ay1.min(by1) as i64 - ay0.max(by0) as i64 + 1;
            let shorter = (ay1 - ay0).min(by1 - by0) as i64 + 1;
            let taller = (ay1 - ay0).max(by1 - by0) as i64 + 1;
            let gap = ax0.max(bx0) as i64 - ax1.min(bx1) as i64;
            if overlap * 2 >= shorter && gap <= 3 * taller {
                let (a, b) = (root(&mut group, i), root(&mut group, j));
                group[a] = b;
            }
        }
    }
    let mut sizes = vec![0usize; letters.len()];
    for i in 0..letters.len() {
        let r = root(&mut group, i);
        sizes[r] += 1;
    }
    sizes.into_iter().any(|n| n >= LINE_MARKS)
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

/// Sauvola thresholding over a (2r+1)² window, for finding orientation and skew.
pub fn binarise(gray: &GrayImage, radius: u32) -> GrayImage {
    let [binary] = sauvola(gray, radius, [0.3]);
    binary
}

/// The binary page that Tesseract's layout analysis segments: Sauvola with Tesseract's own
/// window (a third of an inch) and factor.
pub fn layout(gray: &GrayImage, dpi: u32) -> GrayImage {
    let [binary] = sauvola(gray, window(dpi), [LAYOUT_K]);
    binary
}

/// The layout binary image and, from the same pass, a looser one that keeps thin, light
/// strokes whole and lets more specks through.
pub fn layouts(gray: &GrayImage, dpi: u32) -> (GrayImage, GrayImage) {
    let [strict, loose] = sauvola(gray, window(dpi), [LAYOUT_K, LOOSE_K]);
    (strict, loose)
}

const LAYOUT_K: f32 = 0.34;
const LOOSE_K: f32 = 0.2;

/// Tesseract's own thresholding window: a third of an inch.
fn window(dpi: u32) -> u32 {
    ((dpi as f32 * 0.33 / 2.0) as u32).max(3)
}

/// The share of the letter-sized marks of `binary` (at `dpi`) whose centre lies in no
/// word of `words`; 0 on a page without such marks.
pub fn unread_letters(binary: &GrayImage, dpi: u32, words: &[super::Word]) -> f32 {
    let mm = |v: f32| v / 25.4 * dpi as f32;
    let letters: Vec<(u32, u32)> = super::leaders::specks(binary, mm(8.0) as u32)
        .into_iter()
        .filter(|s| (mm(1.2)..=mm(8.0)).contains(&((s.y1 - s.y0 + 1) as f32)))
        .map(|s| ((s.x0 + s.x1) / 2, (s.y0 + s.y1) / 2))
        .collect();
    if letters.is_empty() {
        return 0.0;
    }
    let read = words.iter().filter(|w| w.conf >= super::MIN_WORD_CONF);
    let boxes: Vec<[u32; 4]> = read.map(|w| [w.x, w.y, w.x + w.w, w.y + w.h]).collect();
    let outside = letters.iter().filter(|&&(x, y)| !boxes.iter().any(|b| (b[0]..=b[2]).contains(&x) && (b[1]..=b[3]).contains(&y))).count();
    outside as f32 / letters.len() as f32
}

/// Sauvola thresholding (0 ink, 255 paper) over a (2r+1)² window, one image per factor in
/// `ks` from one pass, streamed with running column sums so that memory stays at a few rows
/// whatever the page size.
fn sauvola<const N: usize>(gray: &GrayImage, radius: u32, ks: [f32; N]) -> [GrayImage; N] {
    const R: f32 = 128.0;
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let mut outs: [GrayImage; N] = std::array::from_fn(|_| GrayImage::from_pixel(gray.width(), gray.height(), image::Luma([255])));
    if w == 0 || h == 0 {
        return outs;
    }
    let r = radius as usize;
    let src = gray.as_raw();
    let row = |y: usize| &src[y * w..(y + 1) * w];
    // sums over the window's rows, per column
    let mut col_sum = vec![0u64; w];
    let mut col_sq = vec![0u64; w];
    let slide = |sum: &mut [u64], sq: &mut [u64], y: usize, add: bool| {
        for ((s, q), &p) in sum.iter_mut().zip(sq.iter_mut()).zip(row(y)) {
            let p = u64::from(p);
            if add {
                (*s, *q) = (*s + p, *q + p * p);
            } else {
                (*s, *q) = (*s - p, *q - p * p);
            }
        }
    };
    for y in 0..=r.min(h - 1) {
        slide(&mut col_sum, &mut col_sq, y, true);
    }
    let mut pre_sum = vec![0u64; w + 1];
    let mut pre_sq = vec![0u64; w + 1];
    for y in 0..h {
        let rows = ((y + r).min(h - 1) + 1 - y.saturating_sub(r)) as u64;
        for x in 0..w {
            pre_sum[x + 1] = pre_sum[x] + col_sum[x];
            pre_sq[x + 1] = pre_sq[x] + col_sq[x];
        }
        for (x, &p) in row(y).iter().enumerate() {
            let (lo, hi) = (x.saturating_sub(r), (x + r).min(w - 1) + 1);
            let n = (hi - lo) as u64 * rows;
            let sum = pre_sum[hi] - pre_sum[lo];
            // paper (nothing 8 levels darker than its surroundings) needs no deviation
            if sum <= (u64::from(p) + 8) * n {
                continue;
            }
            let n = n as f32;
            let mean = sum as f32 / n;
            let deviation = ((pre_sq[hi] - pre_sq[lo]) as f32 / n - mean * mean).max(0.0).sqrt();
            for (out, k) in outs.iter_mut().zip(ks) {
                if f32::from(p) < mean * (1.0 + k * (deviation / R - 1.0)) {
                    out.as_mut()[y * w + x] = 0;
                }
            }
        }
        // slide the window down one row
        if y + r + 1 < h {
            slide(&mut col_sum, &mut col_sq, y + r + 1, true);
        }
        if y >= r {
            slide(&mut col_sum, &mut col_sq, y - r, false);
        }
    }
    outs
}

/// Clockwise quarter turns.
pub fn turn(image: &GrayImage, quarter_turns: u8) -> GrayImage {
    match quarter_turns % 4 {
        1 => image::imageops::rotate90(image),
        2 => image::imageops::rotate180(image),
        3 => image::imageops::rotate270(image),
        _ => image.clone(),
    }
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
    let (w, h) = (small.width() as usize, small.height() as usize);
    let across = ink_points(small);
    // the same ink on the page turned a quarter clockwise
    let along: Vec<(f32, f32)> = across.iter().map(|&(x, y)| ((h - 1) as f32 - y, x)).collect();
    let (across_skew, across_energy) = coarse_skew(&across, (w, h));
    let (along_skew, along_energy) = coarse_skew(&along, (h, w));
    let (base, ink, size, coarse) =
        if along_energy > across_energy * 1.3 { (1, &along, (h, w), along_skew) } else { (0, &across, (w, h), across_skew) };
    let skew = fine_skew(ink, size, coarse);
    if top_heavy(&profile(ink, size, skew)) >= 0.0 {
        (base, skew)
    } else {
        (base + 2, skew)
    }
}

/// The skew of the lines along the rows of the page as scanned, whatever turn the lines
/// suggest: to read the page as scanned first.
fn skew_as_scanned(small: &GrayImage) -> f32 {
    let ink = ink_points(small);
    let size = (small.width() as usize, small.height() as usize);
    fine_skew(&ink, size, coarse_skew(&ink, size).0)
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

/// Rows of ink, counted along lines at `degrees` (sheared coordinates, padded so that no
/// point falls outside).
fn profile(ink: &[(f32, f32)], (width, height): (usize, usize), degrees: f32) -> Vec<u32> {
    let t = degrees.to_radians().tan();
    let offset = (width as f32 * t.abs()).ceil();
    let mut bins = vec![0u32; height + 2 * offset as usize + 2];
    for &(x, y) in ink {
        if let Some(bin) = bins.get_mut((y + x * t + offset) as usize) {
            *bin += 1;
        }
    }
    bins
}

/// The angle from `from` to `to` in steps of `step` that best lines ink up into rows.
fn best_angle(ink: &[(f32, f32)], size: (usize, usize), from: f32, to: f32, step: f32) -> (f32, f64) {
    let mut best = (0.0f32, f64::MIN);
    let mut a = from;
    while a <= to + 1e-4 {
        let energy = line_energy(&profile(ink, size, a));
        if energy > best.1 {
            best = (a, energy);
        }
        a += step;
    }
    best
}

/// The skew within ±5° to half a degree, and how well it lines ink up: every fourth ink
/// pixel is enough to rank angles that far apart.
fn coarse_skew(ink: &[(f32, f32)], size: (usize, usize)) -> (f32, f64) {
    let sample: Vec<(f32, f32)> = ink.iter().step_by(4).copied().collect();
    best_angle(&sample, size, -MAX_SKEW, MAX_SKEW, 0.5)
}

/// The skew to a twentieth of a degree within half a degree of `coarse`, from every ink pixel.
fn fine_skew(ink: &[(f32, f32)], size: (usize, usize), coarse: f32) -> f32 {
    best_angle(ink, size, coarse - 0.5, coarse + 0.5, 0.05).0
}

/// Coordinates of the ink pixels of a binary image.
fn ink_points(binary: &GrayImage) -> Vec<(f32, f32)> {
    let w = binary.width() as usize;
    binary.as_raw().iter().enumerate().filter(|(_, &p)| p == 0).map(|(i, _)| ((i % w) as f32, (i / w) as f32)).collect()
}

/// The skew, in degrees, that best lines ink up into rows, and how well it does: a coarse
/// then a fine search.
#[cfg(test)]
fn skew_search(small: &GrayImage) -> (f32, f64) {
    let (ink, size) = (ink_points(small), (small.width() as usize, small.height() as usize));
    let (coarse, energy) = coarse_skew(&ink, size);
    (fine_skew(&ink, size, coarse), energy)
}

/// Rotates by `degrees` (counter-clockwise as seen) with bilinear sampling, keeping the
/// canvas and filling with white.
pub fn rotate(gray: &GrayImage, degrees: f32) -> GrayImage {
    rotate_scaled(gray, degrees, 1.0)
}

/// `rotate`, scaling by `scale` (at most 1) in the same pass: the canvas shrinks with it.
/// Bilinear taps are enough to shrink by under 2.
fn rotate_scaled(gray: &GrayImage, degrees: f32, scale: f32) -> GrayImage {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    let size = |v: usize| ((v as f32 * scale).round() as usize).max(1);
    let (ow, oh) = (size(w), size(h));
    if w == 0 || h == 0 {
        return gray.clone();
    }
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (ocx, ocy) = (ow as f32 / 2.0, oh as f32 / 2.0);
    let (s, c) = degrees.to_radians().sin_cos();
    let (s, c) = (s / scale, c / scale);
    let src = gray.as_raw();
    let mut out = vec![255u8; ow * oh];
    // Source coordinates in 16.16 fixed point: along an output row they advance by (c, s).
    const ONE: f32 = 65536.0;
    let (step_x, step_y) = ((c * ONE) as i64, (s * ONE) as i64);
    let (max_x, max_y) = (((w - 1) as i64) << 16, ((h - 1) as i64) << 16);
    for (y, row) in out.chunks_exact_mut(ow).enumerate() {
        // an output pixel's centre comes from the input point rotated the other way about
        // the centre
        let (dx, dy) = (0.5 - ocx, y as f32 + 0.5 - ocy);
        let (mut sx, mut sy) = (((cx - 0.5 + dx * c - dy * s) * ONE) as i64, ((cy - 0.5 + dx * s + dy * c) * ONE) as i64);
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
    GrayImage::from_raw(ow as u32, oh as u32, out).unwrap_or_else(|| gray.clone())
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
    fn shrinking_while_deskewing_matches_doing_both_apart() {
        let page = text_page();
        let one_pass = rotate_scaled(&page, 2.0, 0.6);
        let apart = rotate(&resample(&page, 360, 240), 2.0);
        assert_eq!(one_pass.dimensions(), (360, 240));
        let diff: u64 = one_pass.as_raw().iter().zip(apart.as_raw()).map(|(&a, &b)| u64::from(a.abs_diff(b))).sum();
        let mean = diff as f64 / one_pass.as_raw().len() as f64;
        assert!(mean < 4.0, "mean difference {mean}");
        let ink = |img: &GrayImage| img.as_raw().iter().filter(|&&p| p < 128).count() as f64;
        assert!((ink(&one_pass) / ink(&apart) - 1.0).abs() < 0.05);
    }

    #[test]
    fn blank_paper_is_blank() {
        let paper = GrayImage::from_fn(400, 600, |x, y| Luma([200 + ((x + y) % 7) as u8]));
        assert!(survey(&paper, 150.0).blank);
        assert!(!survey(&text_page(), 150.0).blank);
    }

    /// An A4 page at 150 dpi with `blobs` (x, y, width, height) inked.
    fn sheet(blobs: &[(u32, u32, u32, u32)]) -> GrayImage {
        let mut page = GrayImage::from_pixel(1240, 1754, Luma([235]));
        for &(x0, y0, w, h) in blobs {
            for y in y0..y0 + h {
                for x in x0..x0 + w {
                    page.put_pixel(x, y, Luma([25]));
                }
            }
        }
        page
    }

    #[test]
    fn letters_outside_the_words_read_are_counted_and_specks_are_not() {
        // two lines of 20 letters, and specks too small to be letters
        let mut marks: Vec<_> = (0..40).map(|i| (200 + (i % 20) * 14, 400 + (i / 20) * 40, 7, 12)).collect();
        marks.extend((0..30).map(|i| (100 + i * 30, 1200, 2, 2)));
        let binary = binarise(&sheet(&marks), 7);
        let word = |y: u32, conf: f32| super::super::Word { text: "chữ".into(), conf, x: 195, y, w: 290, h: 25, line: 0 };
        assert_eq!(unread_letters(&binary, 150, &[]), 1.0);
        assert!((unread_letters(&binary, 150, &[word(395, 90.0)]) - 0.5).abs() < 0.01, "one line of two read");
        assert_eq!(unread_letters(&binary, 150, &[word(395, 90.0), word(435, 90.0)]), 0.0);
        // a word the engine is not sure of is not text read
        assert!((unread_letters(&binary, 150, &[word(395, 90.0), word(435, 5.0)]) - 0.5).abs() < 0.01);
        assert_eq!(unread_letters(&binarise(&sheet(&[]), 7), 150, &[]), 0.0, "blank paper has nothing unread");
    }

    #[test]
    fn one_short_line_is_not_blank_paper_but_specks_and_dust_are() {
        // "Trang này để trống." at 12 pt: about 18 letters 9-16 px high, 3-5 px apart
        let line: Vec<_> = (0..18).map(|i| (500 + i * 12, 800 + (i % 3) * 2, 6, 10 + (i % 2) * 5)).collect();
        let page = sheet(&line);
        assert!(ink_fraction(&binarise(&page, 7)) < BLANK_INK, "the line alone is under the ink threshold");
        assert!(!survey(&page, 150.0).blank);
        // specks of one or two pixels all over, more ink than the line
        let mut seed = 11u32;
        let mut next = |n: u32| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 8) % n
        };
        let specks: Vec<_> = (0..600).map(|_| (next(1230), next(1740), 1 + next(2), 1 + next(2))).collect();
        // dust of letter size, scattered rather than lined up, and a punched hole
        let mut dust: Vec<_> = (0..8).map(|_| (next(1200), next(1700), 6 + next(5), 8 + next(5))).collect();
        dust.push((40, 600, 24, 24));
        for (what, marks) in [("specks", specks), ("dust", dust)] {
            let page = sheet(&marks);
            let ink = ink_fraction(&binarise(&page, 7));
            assert!(ink > BLANK_INK / 2.0 && ink < BLANK_INK, "{what}: ink {ink}");
            assert!(survey(&page, 150.0).blank, "{what}");
        }
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
