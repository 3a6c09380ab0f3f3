//! What a page's pixels say about the scan: resolution, sharpness, skew, ink, paper and
//! contrast, and marks cut by an edge. Pure and bounded: every measure is taken on a gray
//! copy of at most `MAX_PIXELS` pixels, brought down to about `COPY_DPI`.

use image::{DynamicImage, GrayImage};

/// Pixels of the copy a page is measured on, at most.
const MAX_PIXELS: u64 = 3_000_000;
/// Resolution the copy is brought down to, by whole factors: enough for strokes and edges
/// of body text.
const COPY_DPI: f32 = 100.0;
/// A pixel this much darker than its paper is a mark of some kind (ink, faint or not).
const FAINT: i32 = 16;
/// A pixel this much darker than its paper is ink, whatever the page's contrast.
const INK: i32 = 48;
/// Points the skew search projects at most.
const SKEW_POINTS: usize = 20_000;

/// The measures of one page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measures {
    /// Resolution of the scan: the file's, or that of an A4 page of this size when higher.
    pub dpi: f32,
    /// Share of the page darker than its paper by a visible amount (0-1), inside its outer
    /// twentieths.
    pub marks: f32,
    /// Brightness of the paper (0-255), the median of its regions' light levels.
    pub paper: f32,
    /// How much darker the marks are than their paper (0-255), on the darker marks.
    pub contrast: f32,
    /// Width of the page's edges as a Gaussian blur radius, in millimetres.
    pub blur_mm: Option<f32>,
    /// Degrees the text lines lean from the nearest quarter turn, when lines are evident.
    pub skew: Option<f32>,
    /// Marks cut by each edge: left, top, right, bottom.
    pub cut_marks: [u32; 4],
}

/// Measures `image`, a page scanned at `dpi` (as `sohoa::pages` reports it).
pub fn measure(image: &DynamicImage, dpi: f32) -> Measures {
    let (w, h) = (image.width().max(1), image.height().max(1));
    // A resolution the file understates (cameras write 72) is corrected by the page's size.
    let a4 = w.max(h) as f32 / 11.69;
    let dpi = dpi.max(a4).max(1.0);
    let pixels = u64::from(w) * u64::from(h);
    let mut factor = ((dpi / COPY_DPI).floor() as u32).max(1);
    while pixels / u64::from(factor * factor) > MAX_PIXELS {
        factor += 1;
    }
    let factor = factor.min(w).min(h);
    let gray = shrink(&image.to_luma8(), factor);
    let at = f64::from(dpi) / f64::from(factor);
    let page = Page::new(&gray);
    let (marks, contrast) = page.marks();
    let ink_level = INK.max((contrast / 2.0) as i32);
    Measures {
        dpi,
        marks,
        paper: page.paper_level,
        contrast,
        blur_mm: page.blur_px().map(|px| (px * 25.4 / at) as f32),
        skew: page.skew(ink_level),
        cut_marks: page.cut_marks(ink_level, at),
    }
}

/// The mean of each `factor` x `factor` block; a partial block at the right or bottom is
/// left out. Plain loops: this runs on every page of every upload.
fn shrink(gray: &GrayImage, factor: u32) -> GrayImage {
    if factor <= 1 {
        return gray.clone();
    }
    let (w, h, f) = (gray.width() as usize, gray.height() as usize, factor as usize);
    let (ow, oh) = ((w / f).max(1), (h / f).max(1));
    let raw = gray.as_raw();
    let mut sums = vec![0u32; ow];
    let mut out = Vec::with_capacity(ow * oh);
    let area = (f * f) as u32;
    for oy in 0..oh {
        sums.iter_mut().for_each(|s| *s = 0);
        for y in oy * f..((oy + 1) * f).min(h) {
            let row = &raw[y * w..y * w + ow * f];
            for (x, &v) in row.iter().enumerate() {
                sums[x / f] += u32::from(v);
            }
        }
        out.extend(sums.iter().map(|&s| (s / area) as u8));
    }
    GrayImage::from_raw(ow as u32, oh as u32, out).unwrap_or_else(|| gray.clone())
}

/// A gray copy with its paper level per region.
struct Page<'a> {
    gray: &'a GrayImage,
    width: usize,
    height: usize,
    /// How much darker than its paper each pixel is, row by row.
    depths: Vec<i16>,
    paper_level: f32,
}

impl<'a> Page<'a> {
    fn new(gray: &'a GrayImage) -> Page<'a> {
        let (width, height) = (gray.width() as usize, gray.height() as usize);
        // Tiles of about 16 mm at 125 dpi: light falls off slowly across a page.
        let tile = 80.min(width.max(height)).max(1);
        let (tiles_x, tiles_y) = (width.div_ceil(tile), height.div_ceil(tile));
        let raw = gray.as_raw();
        let mut light = vec![0u8; tiles_x * tiles_y];
        for ty in 0..tiles_y {
            for tx in 0..tiles_x {
                let mut hist = [0u32; 256];
                let mut n = 0u32;
                for y in ty * tile..((ty + 1) * tile).min(height) {
                    let row = &raw[y * width..(y + 1) * width];
                    for &v in &row[tx * tile..((tx + 1) * tile).min(width)] {
                        hist[v as usize] += 1;
                        n += 1;
                    }
                }
                light[ty * tiles_x + tx] = percentile(&hist, n, 0.9);
            }
        }
        // A tile covered by a picture or a shadow takes its neighbours' paper.
        let mut paper = vec![0u8; light.len()];
        for ty in 0..tiles_y {
            for tx in 0..tiles_x {
                let mut near = Vec::with_capacity(9);
                for ny in ty.saturating_sub(1)..(ty + 2).min(tiles_y) {
                    for nx in tx.saturating_sub(1)..(tx + 2).min(tiles_x) {
                        near.push(light[ny * tiles_x + nx]);
                    }
                }
                near.sort_unstable();
                paper[ty * tiles_x + tx] = near[near.len() / 2];
            }
        }
        let mut depths = vec![0i16; width * height];
        for (y, (row, out)) in raw.chunks_exact(width).zip(depths.chunks_exact_mut(width)).enumerate() {
            let papers = &paper[(y / tile) * tiles_x..(y / tile + 1) * tiles_x];
            for (x, (v, d)) in row.iter().zip(out.iter_mut()).enumerate() {
                *d = i16::from(papers[x / tile]) - i16::from(*v);
            }
        }
        paper.sort_unstable();
        let paper_level = f32::from(paper[paper.len() / 2]);
        Page { gray, width, height, depths, paper_level }
    }

    /// How much darker than its paper the pixel at (x, y) is.
    fn depth(&self, x: usize, y: usize) -> i32 {
        i32::from(self.depths[y * self.width + x])
    }

    /// Share of pixels that are marks, and the contrast of the darker marks, inside the
    /// page's outer twentieths (where a lid's shadow and the glass's edge fall).
    fn marks(&self) -> (f32, f32) {
        let mut hist = [0u32; 256];
        let (mut n, mut all) = (0u32, 0u32);
        let (x0, x1) = (self.width / 20, self.width - self.width / 20);
        for y in self.height / 20..self.height - self.height / 20 {
            for &d in &self.depths[y * self.width + x0..y * self.width + x1] {
                all += 1;
                if i32::from(d) >= FAINT {
                    hist[d.min(255) as usize] += 1;
                    n += 1;
                }
            }
        }
        let share = n as f32 / all.max(1) as f32;
        let contrast = if n == 0 { 0.0 } else { f32::from(percentile(&hist, n, 0.9)) };
        (share, contrast)
    }

    /// Edge width in pixels of this copy, from the energy of the Laplacian against that of
    /// the gradient where the edges are; `None` without edges to judge.
    fn blur_px(&self) -> Option<f64> {
        let (w, h) = (self.width, self.height);
        if w < 5 || h < 5 {
            return None;
        }
        let g = self.gray.as_raw();
        // Gradient magnitudes (central differences, halved) first, for the edge threshold.
        let mut hist = [0u32; 256];
        let mut grads = vec![0u8; w * h];
        for y in 1..h - 1 {
            let (up, row, down) = (&g[(y - 1) * w..y * w], &g[y * w..(y + 1) * w], &g[(y + 1) * w..(y + 2) * w]);
            for x in 1..w - 1 {
                let gx = i32::from(row[x + 1]) - i32::from(row[x - 1]);
                let gy = i32::from(down[x]) - i32::from(up[x]);
                let m = (((gx * gx + gy * gy) as f32).sqrt() / 2.0).min(255.0) as u8;
                grads[y * w + x] = m;
                hist[m as usize] += 1;
            }
        }
        let n = ((w - 2) * (h - 2)) as u32;
        let strong = percentile(&hist, n, 0.995);
        // Where the page has marks but no edge stands out, the edges are the widest: judge
        // the faint ones.
        let threshold = (u32::from(strong) * 3 / 10).max(2) as u8;
        let (mut lap2, mut grad2, mut count) = (0u64, 0u64, 0usize);
        for y in 1..h - 1 {
            let (up, row, down) = (&g[(y - 1) * w..y * w], &g[y * w..(y + 1) * w], &g[(y + 1) * w..(y + 2) * w]);
            let grads = &grads[y * w..(y + 1) * w];
            for x in 1..w - 1 {
                let m = grads[x];
                if m < threshold {
                    continue;
                }
                let lap = i32::from(row[x + 1]) + i32::from(row[x - 1]) + i32::from(up[x]) + i32::from(down[x]) - 4 * i32::from(row[x]);
                lap2 += (lap * lap) as u64;
                grad2 += u64::from(m) * u64::from(m);
                count += 1;
            }
        }
        if count < 200 {
            return None;
        }
        // A Gaussian edge of radius s gives lap^2 / grad^2 of about 1 / (2 s^2).
        Some((grad2 as f64 / (2.0 * lap2.max(1) as f64)).sqrt())
    }

    /// Skew of the text lines in degrees from the nearest quarter turn: the angle whose
    /// projection of the ink is most peaked, near horizontal or near vertical; `None`
    /// when no angle stands out (pictures, sparse pages).
    fn skew(&self, ink: i32) -> Option<f32> {
        let mut points = Vec::new();
        for (i, &d) in self.depths.iter().enumerate() {
            if i32::from(d) >= ink {
                points.push(((i % self.width) as f32, (i / self.width) as f32));
            }
        }
        if points.len() < 500 {
            return None;
        }
        let stride = points.len().div_ceil(SKEW_POINTS);
        let points: Vec<(f32, f32)> = points.into_iter().step_by(stride).collect();
        let diagonal = ((self.width * self.width + self.height * self.height) as f32).sqrt();
        let bins = 2 * diagonal as usize + 3;
        let mut hist = vec![0u32; bins];
        let mut score = |degrees: f32| {
            hist.iter_mut().for_each(|b| *b = 0);
            let (s, c) = degrees.to_radians().sin_cos();
            for &(x, y) in &points {
                let d = y * c - x * s + diagonal + 1.0;
                hist[d as usize] += 1;
            }
            hist.iter().map(|&b| u64::from(b) * u64::from(b)).sum::<u64>() as f64
        };
        let mut coarse = Vec::new();
        for base in [0.0f32, 90.0] {
            for step in -12..=12 {
                let a = base + 2.0 * step as f32;
                coarse.push((a, score(a)));
            }
        }
        let mut sorted: Vec<f64> = coarse.iter().map(|c| c.1).collect();
        sorted.sort_by(f64::total_cmp);
        let typical = sorted[sorted.len() / 2];
        let (mut best, mut best_score) = coarse.iter().copied().fold((0.0, 0.0), |b, c| if c.1 > b.1 { c } else { b });
        if typical <= 0.0 || best_score / typical < 1.4 {
            return None;
        }
        for step in [0.5f32, 0.1] {
            let around = best;
            for k in -4..=4 {
                let a = around + k as f32 * step;
                let s = score(a);
                if s > best_score {
                    (best, best_score) = (a, s);
                }
            }
        }
        let skew = if best > 45.0 { best - 90.0 } else { best };
        Some(skew)
    }

    /// Marks that touch each edge (left, top, right, bottom), reach more than a millimetre
    /// into the page and run along the edge between 0.5 and 8 mm: pieces of letters cut by
    /// the edge. A shadow or a frame runs far longer; dust is smaller.
    fn cut_marks(&self, ink: i32, dpi: f64) -> [u32; 4] {
        let mm = |v: f64| v * dpi / 25.4;
        let band = mm(0.6).round().max(2.0) as usize;
        let deep = mm(1.2).round().max(3.0) as usize;
        let (shortest, longest) = (mm(0.5), mm(8.0));
        let (w, h) = (self.width, self.height);
        if w <= 2 * (band + deep) || h <= 2 * (band + deep) {
            return [0; 4];
        }
        // For each place along an edge: ink at the edge, and ink further in beside it.
        let along = |len: usize, hit: &dyn Fn(usize, usize) -> bool| -> Vec<bool> {
            let edge: Vec<bool> = (0..len).map(|i| (0..band).any(|d| hit(i, d))).collect();
            let inner: Vec<bool> = (0..len).map(|i| (deep..deep + band).any(|d| hit(i, d))).collect();
            (0..len).map(|i| edge[i] && inner[i.saturating_sub(1)..(i + 2).min(len)].iter().any(|&v| v)).collect()
        };
        let edges = [
            along(h, &|y, d| self.depth(d, y) >= ink),
            along(w, &|x, d| self.depth(x, d) >= ink),
            along(h, &|y, d| self.depth(w - 1 - d, y) >= ink),
            along(w, &|x, d| self.depth(x, h - 1 - d) >= ink),
        ];
        edges.map(|line| {
            let mut count = 0;
            let mut run = 0usize;
            for &on in line.iter().chain(std::iter::once(&false)) {
                if on {
                    run += 1;
                } else {
                    if run > 0 && (run as f64) >= shortest && (run as f64) <= longest {
                        count += 1;
                    }
                    run = 0;
                }
            }
            count
        })
    }
}

/// The value below which `q` of the `n` counted values in `hist` fall.
fn percentile(hist: &[u32; 256], n: u32, q: f64) -> u8 {
    let target = (f64::from(n) * q).ceil() as u64;
    let mut seen = 0u64;
    for (v, &c) in hist.iter().enumerate() {
        seen += u64::from(c);
        if seen >= target.max(1) {
            return v as u8;
        }
    }
    255
}
