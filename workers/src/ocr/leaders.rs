//! Dotted leaders erased before recognition. Forms print a row of dots (or typed full
//! stops) after each label for the value to be written on; Tesseract reads such a row as
//! noise and often drops the whole line with it, label and value included. A leader is a
//! run of small specks of ink on one baseline at an even pitch: at least `MIN_DOTS` of
//! them, none larger than `MAX_DOT_MM`, `MIN_PITCH_MM` to `MAX_PITCH_MM` apart (a short run
//! on a leader's row at its pitch belongs to it: the dots before a value). Text has no
//! such runs (the dots below Vietnamese vowels stand a letter or more apart, unevenly), and
//! a dot a written stroke touches is part of the stroke and stays.

use image::GrayImage;

/// Largest speck, across and high.
const MAX_DOT_MM: f32 = 0.9;
/// Dots of a leader stand this far apart, centre to centre.
const MIN_PITCH_MM: f32 = 0.55;
const MAX_PITCH_MM: f32 = 3.2;
/// How far a dot's centre may stray from its neighbour's row.
const ROW_MM: f32 = 0.4;
/// Dots in a run for it to be a leader.
const MIN_DOTS: usize = 8;
/// Dots in a run on a leader's row, at its pitch, for it to be part of it.
const MIN_SHORT: usize = 3;
/// Every pitch of a leader lies within these fractions of its median pitch.
const PITCH_SPREAD: (f32, f32) = (0.6, 1.6);

/// A connected speck of ink: its box and its centre.
#[derive(Clone, Copy)]
pub(super) struct Speck {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
    pub cx: f32,
    pub cy: f32,
}

/// Connected components (8-connected) of the ink (0) of `binary` no larger than `max`
/// pixels across and high, found over runs of ink row by row.
pub(super) fn specks(binary: &GrayImage, max: u32) -> Vec<Speck> {
    let (w, h) = (binary.width() as usize, binary.height() as usize);
    let raw = binary.as_raw();
    // runs of ink: (row, first x, last x)
    let mut runs: Vec<(u32, u32, u32)> = Vec::new();
    let mut row_start = Vec::with_capacity(h + 1);
    for y in 0..h {
        row_start.push(runs.len());
        let row = &raw[y * w..(y + 1) * w];
        let mut x = 0;
        while x < w {
            if row[x] == 0 {
                let start = x;
                while x < w && row[x] == 0 {
                    x += 1;
                }
                runs.push((y as u32, start as u32, x as u32 - 1));
            } else {
                x += 1;
            }
        }
    }
    row_start.push(runs.len());
    let mut parent: Vec<u32> = (0..runs.len() as u32).collect();
    fn root(parent: &mut [u32], mut i: u32) -> u32 {
        while parent[i as usize] != i {
            parent[i as usize] = parent[parent[i as usize] as usize];
            i = parent[i as usize];
        }
        i
    }
    for y in 1..h {
        let (above, here) = (row_start[y - 1]..row_start[y], row_start[y]..row_start[y + 1]);
        let mut j = above.start;
        for i in here {
            let (_, a, b) = runs[i];
            while j < above.end && runs[j].2 + 1 < a {
                j += 1;
            }
            let mut k = j;
            while k < above.end && runs[k].1 <= b + 1 {
                let (ri, rk) = (root(&mut parent, i as u32), root(&mut parent, k as u32));
                if ri != rk {
                    parent[ri.max(rk) as usize] = ri.min(rk);
                }
                k += 1;
            }
        }
    }
    // box and ink of each component, by root
    let mut boxes: Vec<Option<Extent>> = Vec::new();
    boxes.resize_with(runs.len(), || None);
    for (i, &(y, a, b)) in runs.iter().enumerate() {
        let r = root(&mut parent, i as u32);
        let n = (b - a + 1) as f32;
        let e = boxes[r as usize].get_or_insert(Extent { x0: a, y0: y, x1: b, y1: y, sx: 0.0, sy: 0.0, n: 0.0 });
        (e.x0, e.y0, e.x1, e.y1) = (e.x0.min(a), e.y0.min(y), e.x1.max(b), e.y1.max(y));
        e.sx += n * (a + b) as f32 / 2.0;
        e.sy += n * y as f32;
        e.n += n;
    }
    boxes
        .into_iter()
        .flatten()
        .filter(|e| e.x1 - e.x0 < max && e.y1 - e.y0 < max)
        .map(|e| Speck { x0: e.x0, y0: e.y0, x1: e.x1, y1: e.y1, cx: e.sx / e.n, cy: e.sy / e.n })
        .collect()
}

/// A component's box and the sums of its ink's coordinates.
struct Extent {
    x0: u32,
    y0: u32,
    x1: u32,
    y1: u32,
    sx: f32,
    sy: f32,
    n: f32,
}

/// Runs of specks that are leaders: each a list of specks, left to right.
fn leaders(mut specks: Vec<Speck>, dpi: u32) -> Vec<Vec<Speck>> {
    let mm = dpi as f32 / 25.4;
    let (min_pitch, max_pitch, row) = (MIN_PITCH_MM * mm, MAX_PITCH_MM * mm, (ROW_MM * mm).max(1.5));
    specks.sort_by(|a, b| a.cx.total_cmp(&b.cx));
    // chains being built, and those closed (no speck can follow any more)
    let mut open: Vec<Vec<Speck>> = Vec::new();
    let mut closed: Vec<Vec<Speck>> = Vec::new();
    for s in specks {
        let (still, done): (Vec<_>, Vec<_>) = open.into_iter().partition(|c| s.cx - c.last().map_or(0.0, |l| l.cx) <= max_pitch);
        open = still;
        closed.extend(done.into_iter().filter(|c| c.len() >= MIN_SHORT));
        let best = open
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                let last = c.last().expect("chains are never empty");
                s.cx - last.cx >= min_pitch && (s.cy - last.cy).abs() <= row
            })
            .min_by(|(_, a), (_, b)| {
                let d = |c: &Vec<Speck>| (s.cy - c.last().map_or(0.0, |l| l.cy)).abs();
                d(a).total_cmp(&d(b))
            })
            .map(|(i, _)| i);
        match best {
            Some(i) => open[i].push(s),
            None => open.push(vec![s]),
        }
    }
    closed.extend(open.into_iter().filter(|c| c.len() >= MIN_SHORT));
    // split at uneven pitches into even runs
    let mut runs: Vec<Vec<Speck>> = Vec::new();
    for chain in closed {
        let mut piece: Vec<Speck> = vec![chain[0]];
        if chain.len() > 1 {
            let median = median_pitch(&chain);
            for pair in chain.windows(2) {
                let pitch = pair[1].cx - pair[0].cx;
                if pitch < median * PITCH_SPREAD.0 || pitch > median * PITCH_SPREAD.1 {
                    runs.push(std::mem::take(&mut piece));
                }
                piece.push(pair[1]);
            }
        }
        runs.push(piece);
    }
    // the long runs are leaders; a short one is too on a leader's row at its pitch (the
    // dots between a label and the value written over the rest)
    let (long, short): (Vec<_>, Vec<_>) = runs.into_iter().filter(|r| r.len() >= MIN_SHORT).partition(|r| r.len() >= MIN_DOTS);
    let mean_row = |r: &Vec<Speck>| r.iter().map(|s| s.cy).sum::<f32>() / r.len() as f32;
    let rows: Vec<(f32, f32)> = long.iter().map(|r| (mean_row(r), median_pitch(r))).collect();
    let kept: Vec<Vec<Speck>> = short
        .into_iter()
        .filter(|r| {
            let (cy, pitch) = (mean_row(r), median_pitch(r));
            rows.iter().any(|(row_y, row_pitch)| (cy - row_y).abs() <= row && pitch >= row_pitch * 0.75 && pitch <= row_pitch * 1.33)
        })
        .collect();
    long.into_iter().chain(kept).collect()
}

fn median_pitch(run: &[Speck]) -> f32 {
    let mut pitches: Vec<f32> = run.windows(2).map(|p| p[1].cx - p[0].cx).collect();
    if pitches.is_empty() {
        return 0.0;
    }
    pitches.sort_by(f32::total_cmp);
    pitches[pitches.len() / 2]
}

/// Erases the dotted leaders of a page from its grey image (painted the paper around each
/// dot) and from its binary images (found on the first); returns the dots erased.
pub fn clear(grey: &mut GrayImage, binaries: &mut [&mut GrayImage], dpi: u32) -> usize {
    if binaries.is_empty() || binaries.iter().any(|b| b.dimensions() != grey.dimensions()) {
        return 0;
    }
    let max = ((MAX_DOT_MM * dpi as f32 / 25.4).round() as u32).max(2);
    let found = leaders(specks(binaries[0], max), dpi);
    let (w, h) = grey.dimensions();
    let mut erased = 0;
    for dot in found.iter().flatten() {
        // the paper: the lightest grey just around the dot
        let (x0, y0) = (dot.x0.saturating_sub(2), dot.y0.saturating_sub(2));
        let (x1, y1) = ((dot.x1 + 2).min(w - 1), (dot.y1 + 2).min(h - 1));
        let mut paper = 0u8;
        for y in y0..=y1 {
            for x in x0..=x1 {
                paper = paper.max(grey.get_pixel(x, y)[0]);
            }
        }
        for y in dot.y0.saturating_sub(1)..=(dot.y1 + 1).min(h - 1) {
            for x in dot.x0.saturating_sub(1)..=(dot.x1 + 1).min(w - 1) {
                let p = grey.get_pixel_mut(x, y);
                p[0] = p[0].max(paper);
                if (dot.x0..=dot.x1).contains(&x) && (dot.y0..=dot.y1).contains(&y) {
                    for binary in binaries.iter_mut() {
                        binary.get_pixel_mut(x, y)[0] = 255;
                    }
                }
            }
        }
        erased += 1;
    }
    erased
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn blob(img: &mut GrayImage, x: u32, y: u32, size: u32) {
        for dy in 0..size {
            for dx in 0..size {
                img.put_pixel(x + dx, y + dy, Luma([0]));
            }
        }
    }

    #[test]
    fn a_row_of_even_dots_is_erased_and_text_marks_stay() {
        // 165 dpi: 6.5 pixels a millimetre
        let mut binary = GrayImage::from_pixel(600, 120, Luma([255]));
        // a leader: 30 dots 8 px apart on one row
        for i in 0..30 {
            blob(&mut binary, 100 + 8 * i, 40, 3);
        }
        // on its row, before the value written over it: three dots at its pitch
        for i in 0..3 {
            blob(&mut binary, 40 + 8 * i, 41, 3);
        }
        // dots below letters: uneven, and a letter's stroke between them
        for x in [20, 31, 58, 66, 97] {
            blob(&mut binary, x, 90, 3);
        }
        // a letter's stroke on the leader's row, a dot touching it
        for y in 30..44 {
            blob(&mut binary, 60, y, 2);
        }
        blob(&mut binary, 62, 44, 2);
        // full stops of a sentence, far apart
        for x in [300, 420, 540] {
            blob(&mut binary, x, 100, 3);
        }
        let mut grey = binary.clone();
        let before = binary.clone();
        assert_eq!(clear(&mut grey, &mut [&mut binary], 165), 33);
        for i in 0..30 {
            assert_eq!(binary.get_pixel(101 + 8 * i, 41)[0], 255);
            assert_eq!(grey.get_pixel(101 + 8 * i, 41)[0], 255);
        }
        for (x, y) in [(21, 91), (98, 91), (61, 35), (301, 101), (541, 101)] {
            assert_eq!(binary.get_pixel(x, y), before.get_pixel(x, y));
            assert_eq!(binary.get_pixel(x, y)[0], 0, "({x}, {y})");
        }
    }

    #[test]
    fn seven_dots_or_uneven_ones_are_no_leader() {
        let mut binary = GrayImage::from_pixel(400, 60, Luma([255]));
        for i in 0..7 {
            blob(&mut binary, 10 + 8 * i, 20, 3);
        }
        let mut x = 200;
        for i in 0..12 {
            blob(&mut binary, x, 20, 3);
            x += if i % 2 == 0 { 5 } else { 14 };
        }
        let mut grey = binary.clone();
        assert_eq!(clear(&mut grey, &mut [&mut binary], 165), 0);
    }
}
