//! Whether to apply the turn that a page's line geometry suggests. Geometry alone (lines
//! along the rows, more ink above each line than below) is fooled by blur, noise and low
//! resolution, and by pages with little text. So a suggested turn is checked by reading:
//! a square of the page, where its ink is densest, is recognised as scanned and in the
//! three quarter turns, and each reading is scored by the letters of well-formed
//! Vietnamese syllables it holds, weighted by the engine's confidence. Upside-down or
//! sideways text reads as fragments that are seldom syllables. The page is turned only when
//! a turned reading is long enough and beats the page as scanned by a clear factor. Geometry
//! can also miss a turn (a table's rules or a fold beside each line make an upside-down page
//! look upright), so a page it leaves as scanned is checked the same way when the reading of
//! the whole page is not text (`reads_as_text`).

use super::engine::Engine;
use super::prep;
use super::syllable;
use super::EngineError;
use image::GrayImage;
use sohoa_protocol::custody::{Orientation, OrientationMethod, Reading};

/// A turned reading needs this many confidence-weighted syllable letters, a few words. On
/// the tuning pages (poor scans, five faces) a right reading scored at least 48, a wrong one
/// at most 26, and a page with little or no text at most 12 in any orientation.
const MIN_SCORE: f32 = 30.0;
/// ... and this many times the score of the page as scanned: there, no wrong reading
/// reached a sixth of the right one.
const MARGIN: f32 = 3.0;
/// A page reads as text when confidence-weighted syllable letters are at least this share
/// of all the letters read on it.
const TEXT_SHARE: f32 = 0.5;
/// Side of the square read in each orientation, as a fraction of the page's shorter side.
const SAMPLE_SIDE: f32 = 0.35;

/// The quarter turns to apply to `image` (the page already turned by `suggested`, 0 when a
/// reading of the page as scanned was not text), counted from the page as scanned, and the
/// evidence.
pub fn check(engine: &mut Engine, image: &GrayImage, dpi: u32, suggested: u8) -> Result<(u8, Orientation), EngineError> {
    let sample = densest_square(image);
    // the page as scanned first, then the suggested turn and the two others: the geometry
    // can take a page upside down for one lying on its side (or for one upright)
    let others = (1..4).filter(|&t| t != suggested);
    let candidates: Vec<u8> = [0].into_iter().chain((suggested != 0).then_some(suggested)).chain(others).collect();
    let mut readings = Vec::with_capacity(candidates.len());
    for &turns in &candidates {
        let view = prep::turn(&sample, (turns + 4 - suggested) % 4);
        readings.push(Reading { turns, score: score(engine, &view, dpi)? });
    }
    let as_scanned = readings[0].score;
    let best = readings[1..].iter().copied().fold(Reading::default(), |a, b| if b.score > a.score { b } else { a });
    let turns = if best.score >= MIN_SCORE && best.score >= MARGIN * as_scanned { best.turns } else { 0 };
    Ok((turns, Orientation { method: OrientationMethod::Reading, suggested, readings }))
}

/// Whether the words read on a page are Vietnamese text: most of the letters read with
/// some confidence belong to well-formed syllables (on the tuning pages, upright pages
/// scored 0.87 or more of their letters, pages upside down 0.07 or less). Text read upside down or sideways is
/// fragments, and text read down the page stands on end; a page with too few letters to
/// tell is not text either (nothing is lost by
/// checking it: the check leaves a page as scanned without a clear reading).
pub fn reads_as_text(words: &[super::Word]) -> bool {
    let (syllables, letters, standing) = tally(words);
    syllables >= MIN_SCORE && syllables >= TEXT_SHARE * letters as f32 && !standing
}

/// The confidence-weighted syllable letters of the words read on a page.
pub fn text_score(words: &[super::Word]) -> f32 {
    tally(words).0
}

/// Confidence-weighted letters of well-formed syllables, and all letters, of the words
/// read with some confidence (at least `MIN_WORD_CONF`).
pub(super) fn syllable_letters(words: &[super::Word]) -> (f32, usize) {
    let (syllables, letters, _) = tally(words);
    (syllables, letters)
}

/// Confidence-weighted syllable letters, all letters read with some confidence, and
/// whether most words of three letters or more stand taller than wide.
fn tally(words: &[super::Word]) -> (f32, usize, bool) {
    let (mut syllables, mut letters, mut long, mut standing) = (0.0f32, 0usize, 0usize, 0usize);
    for w in words.iter().filter(|w| w.conf >= super::MIN_WORD_CONF) {
        let all = w.text.chars().filter(|c| c.is_alphabetic()).count();
        letters += all;
        if let Some(n) = syllable::letters(&w.text) {
            syllables += n as f32 * w.conf / 100.0;
        }
        if all >= 3 {
            long += 1;
            standing += usize::from(w.h > w.w);
        }
    }
    // the engine reads lines running down the page too: words that stand taller than wide
    // are a page lying on its side, however well they read
    (syllables, letters, long > 0 && standing * 2 >= long)
}

/// The reading score of `image` (deskewed, as scanned) in each of the four orientations,
/// for measuring the margin between right and wrong turns.
pub fn read_all(engine: &mut Engine, image: &GrayImage, dpi: u32) -> Result<Vec<Reading>, EngineError> {
    let sample = densest_square(image);
    (0..4).map(|turns| Ok(Reading { turns, score: score(engine, &prep::turn(&sample, turns), dpi)? })).collect()
}

/// Confidence-weighted letters of the well-formed syllables read in `view`.
fn score(engine: &mut Engine, view: &GrayImage, dpi: u32) -> Result<f32, EngineError> {
    let layout = prep::layout(view, dpi);
    let words = engine.recognise_block(view.as_raw(), layout.as_raw(), view.width(), view.height(), dpi)?;
    Ok(words
        .iter()
        .filter_map(|w| {
            let letters = syllable::letters(&w.text)?;
            (letters >= 2).then(|| letters as f32 * w.conf / 100.0)
        })
        .fold(0.0, |a, b| a + b))
}

/// The square of side `SAMPLE_SIDE` of the shorter side where the page has most ink (by a
/// local threshold, so that a scanner's dark lid beyond the paper is not ink), on a grid of
/// eighths.
fn densest_square(image: &GrayImage) -> GrayImage {
    let binary = prep::binarise(image, 7);
    let (w, h) = image.dimensions();
    let side = ((w.min(h) as f32 * SAMPLE_SIDE) as u32).max(1).min(w.min(h));
    let cell = (side / 8).max(1);
    let (cols, rows) = ((w / cell) as usize, (h / cell) as usize);
    // ink (darkness below paper) per cell
    let mut ink = vec![0u64; cols * rows];
    for (y, row) in binary.as_raw().chunks_exact(w as usize).enumerate().take(rows * cell as usize) {
        for (x, &p) in row.iter().enumerate().take(cols * cell as usize) {
            if p == 0 {
                ink[(y / cell as usize) * cols + x / cell as usize] += 1;
            }
        }
    }
    let span = (side / cell) as usize;
    let mut best = (0, 0, 0u64);
    for r in 0..=rows.saturating_sub(span) {
        for c in 0..=cols.saturating_sub(span) {
            let sum: u64 =
                (r..(r + span).min(rows)).map(|rr| ink[rr * cols + c..(c + span).min(cols) + rr * cols].iter().sum::<u64>()).sum();
            if sum > best.2 {
                best = (c, r, sum);
            }
        }
    }
    let (x, y) = ((best.0 as u32 * cell).min(w - side), (best.1 as u32 * cell).min(h - side));
    image::imageops::crop_imm(image, x, y, side, side).to_image()
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    fn words(texts: &str, standing: bool) -> Vec<super::super::Word> {
        texts
            .split(' ')
            .enumerate()
            .map(|(i, t)| {
                let (w, h) = if standing { (20, 60) } else { (60, 20) };
                super::super::Word { text: t.into(), conf: 90.0, x: 10, y: 30 * i as u32, w, h, line: i as u32 }
            })
            .collect()
    }

    #[test]
    fn text_reads_as_text_fragments_and_words_on_end_do_not() {
        let text = "Cộng hòa xã hội chủ nghĩa Việt Nam Độc lập Tự do Hạnh phúc giấy khai sinh họ và tên ngày tháng năm sinh";
        assert!(reads_as_text(&words(text, false)));
        assert!(!reads_as_text(&words(text, true)), "read down the page");
        assert!(
            !reads_as_text(&words("ɥuᴉs ᴉɐɥʞ ʎɐᴉƃ uǝʇ ɐʌ ọɥ ɯɐu ƃuɐɥʇ ʎɐƃu qu ưư rtx ggk ppq lmn zzt qwrt vbnm", false)),
            "upside down"
        );
        assert!(!reads_as_text(&words("Cộng hòa", false)), "too little to tell");
    }

    #[test]
    fn the_sample_is_where_the_ink_is_not_on_the_scanners_lid() {
        let mut page = GrayImage::from_pixel(400, 600, Luma([250]));
        // the lid beyond the paper's left edge, dark all the way down
        for y in 0..600 {
            for x in 0..40 {
                page.put_pixel(x, y, Luma([20]));
            }
        }
        // lines of text: dark rows four pixels high, four apart
        for y in (420..520).filter(|y| (y / 4) % 2 == 0) {
            for x in 250..380 {
                page.put_pixel(x, y, Luma([20]));
            }
        }
        let sample = densest_square(&page);
        assert_eq!(sample.dimensions(), (140, 140));
        let dark = sample.as_raw().iter().filter(|&&p| p < 128).count();
        assert!((50 * 130 * 9 / 10..=50 * 130).contains(&dark), "{dark}");
    }
}
