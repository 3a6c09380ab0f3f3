//! Lines of letters the page's reading left out. The engine's layout analysis now and then
//! drops a short line standing alone in larger, bolder type (a title such as "BẢN ÁN"), or a
//! few lines around it, though it reads them well once shown them alone. So the letter-sized
//! marks of the layout image that lie in no word read are gathered into rows, and each row
//! of a few letters is read again alone, in single-line mode; a reading that gives
//! Vietnamese words joins the page's words as the line it stands on or as a line of its own,
//! in reading order. Pages whose ink was all read cost one pass over the image.

use super::engine::{Engine, EngineError, Word};
use super::leaders::{specks, Speck};
use super::reread::{read_strip, Rect};
use image::GrayImage;

/// Marks of letters, in millimetres high: smaller ones are specks and diacritics, larger
/// ones rules, frames and pictures (as `prep::unread_letters` counts them).
const LETTER_MM: (f32, f32) = (1.2, 8.0);
/// Letters of a bold face run together on a poor scan: a mark of letters' height counts
/// as many letters as it is heights wide, up to this many millimetres.
const MAX_RUN_MM: f32 = 60.0;
/// A row read again holds at least this many letters left unread.
const MIN_LETTERS: usize = 3;
/// Letters of one row lie no further apart than this many of their heights.
const GAP: f32 = 3.0;
/// Rows read again on a page, at most, the highest first (titles stand near the top).
const MAX_ROWS: usize = 3;
/// The strip read reaches this far around the row's letters, in letter heights.
const PAD: f32 = 0.5;
/// A row's reading is kept when the confidence-weighted letters of its well-formed
/// syllables are at least this share of all its letters, and at least `MIN_SYLLABLE_LETTERS`.
const TEXT_SHARE: f32 = 0.6;
const MIN_SYLLABLE_LETTERS: f32 = 3.0;

/// Reads again, in `grey` and `binary` (the page as recognised at `dpi` and its layout
/// image), the rows of letters of `binary` that no word of `words` covers, and adds the
/// words of each reading that reads as Vietnamese, those the engine is at least `unsure`
/// sure of, to `words`: on the line whose words stand level with them, or as a new line
/// before the first line below them (later lines renumbered). Returns the lines that got
/// words.
pub fn lines(
    engine: &mut Engine,
    grey: &GrayImage,
    binary: &GrayImage,
    dpi: u32,
    unsure: f32,
    words: &mut Vec<Word>,
) -> Result<Vec<u32>, EngineError> {
    let mm = |v: f32| v / 25.4 * dpi as f32;
    let (low, high) = (mm(LETTER_MM.0), mm(LETTER_MM.1));
    let covered = |s: &Speck| {
        let (cx, cy) = ((s.x0 + s.x1) / 2, (s.y0 + s.y1) / 2);
        words.iter().any(|w| (w.x..=w.x + w.w).contains(&cx) && (w.y..=w.y + w.h).contains(&cy))
    };
    let unread: Vec<Speck> = specks(binary, mm(MAX_RUN_MM) as u32)
        .into_iter()
        .filter(|s| (low..=high).contains(&((s.y1 - s.y0 + 1) as f32)) && !covered(s))
        .collect();
    let mut added = Vec::new();
    for rect in rows(unread, binary.width(), binary.height()).into_iter().take(MAX_ROWS) {
        let Some(fresh) = read_strip(engine, grey, binary, dpi, rect, 1.0)? else { continue };
        let fresh: Vec<Word> = fresh.into_iter().filter(|w| w.conf >= unsure).collect();
        if !reads_as_text(&fresh) {
            continue;
        }
        let (line, new) = insert(words, fresh);
        if new {
            // lines already given words that now come after it
            added.iter_mut().filter(|l| **l >= line).for_each(|l| *l += 1);
        }
        added.push(line);
    }
    Ok(added)
}

/// The rows that unread letters make, each as the part of the page it takes with `PAD`
/// around it within the page of `width` x `height`, top first; only rows of `MIN_LETTERS`
/// or more.
fn rows(mut letters: Vec<Speck>, width: u32, height: u32) -> Vec<Rect> {
    letters.sort_by_key(|s| (s.y0 + s.y1, s.x0));
    // each row: its box and its letters
    let mut rows: Vec<([u32; 4], usize)> = Vec::new();
    for s in letters {
        let (cy, height) = ((s.y0 + s.y1) / 2, s.y1 - s.y0 + 1);
        let reach = (GAP * height as f32) as u32;
        let row = rows.iter_mut().rev().take(8).find(|(b, _)| {
            let level = (b[1]..=b[3]).contains(&cy) && (s.y0..=s.y1).contains(&((b[1] + b[3]) / 2));
            level && s.x0 <= b[2] + reach && b[0] <= s.x1 + reach
        });
        match row {
            Some((b, n)) => {
                *b = [b[0].min(s.x0), b[1].min(s.y0), b[2].max(s.x1), b[3].max(s.y1)];
                *n += letters_in(&s);
            }
            None => rows.push(([s.x0, s.y0, s.x1, s.y1], letters_in(&s))),
        }
    }
    let mut kept: Vec<Rect> = rows
        .into_iter()
        .filter(|(_, n)| *n >= MIN_LETTERS)
        .map(|(b, _)| {
            let pad = (PAD * (b[3] - b[1] + 1) as f32) as u32;
            let (x, y) = (b[0].saturating_sub(pad), b[1].saturating_sub(pad));
            Rect { x, y, w: (b[2] + pad).min(width) - x, h: (b[3] + pad).min(height) - y }
        })
        .collect();
    kept.sort_by_key(|r| r.y);
    kept
}

/// How many letters a mark of letters' height holds: one, or as many as it is heights wide.
fn letters_in(s: &Speck) -> usize {
    ((s.x1 - s.x0 + 1) / (s.y1 - s.y0 + 1)).max(1) as usize
}

/// Whether words read alone give Vietnamese: enough of their letters in well-formed
/// syllables, weighed by the engine's confidence.
fn reads_as_text(words: &[Word]) -> bool {
    let (syllables, letters) = super::orient::syllable_letters(words);
    syllables >= MIN_SYLLABLE_LETTERS && syllables >= TEXT_SHARE * letters as f32
}

/// Puts `fresh` (one row's words, left to right) among `words` in reading order: on the
/// line whose words stand level with the row's middle, else as a line of its own before the
/// first line whose words lie below it. Returns the line they are on, and whether it is new.
fn insert(words: &mut Vec<Word>, fresh: Vec<Word>) -> (u32, bool) {
    let top = fresh.iter().map(|w| w.y).min().unwrap_or(0);
    let bottom = fresh.iter().map(|w| w.y + w.h).max().unwrap_or(0);
    let middle = (top + bottom) / 2;
    if let Some(line) = words.iter().find(|w| (w.y..=w.y + w.h).contains(&middle)).map(|w| w.line) {
        let at = words.iter().position(|w| w.line == line).unwrap_or(0);
        let end = at + words[at..].iter().take_while(|w| w.line == line).count();
        let mut on_line: Vec<Word> = words.drain(at..end).chain(fresh.into_iter().map(|w| Word { line, ..w })).collect();
        on_line.sort_by_key(|w| w.x);
        words.splice(at..at, on_line);
        return (line, false);
    }
    let below = words.iter().position(|w| w.y + w.h / 2 > bottom).unwrap_or(words.len());
    // from the start of that word's line
    let at = words.get(below).map_or(below, |b| words.iter().position(|w| w.line == b.line).unwrap_or(below));
    let line = words.get(at).map_or_else(|| words.last().map_or(0, |w| w.line + 1), |w| w.line);
    for w in &mut words[at..] {
        w.line += 1;
    }
    words.splice(at..at, fresh.into_iter().map(|w| Word { line, ..w }));
    (line, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::reread::tests::{binary, line_in, texts};

    const BOLD: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";
    const REGULAR: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

    /// The strips of paper one under the other.
    fn stack(strips: &[GrayImage]) -> GrayImage {
        let height = strips.iter().map(GrayImage::height).sum();
        let mut page = GrayImage::from_pixel(strips[0].width(), height, image::Luma([250]));
        let mut y = 0;
        for strip in strips {
            image::imageops::replace(&mut page, strip, 0, i64::from(y));
            y += strip.height();
        }
        page
    }

    #[test]
    fn a_line_the_reading_left_out_is_read_and_put_in_its_place() {
        let mut engine = Engine::new("vie").unwrap();
        let grey = stack(&[line_in(REGULAR, "Số: 503/2024"), line_in(BOLD, "BẢN ÁN"), line_in(REGULAR, "Họ và tên: Trần Thị Nam")]);
        let bin = binary(&grey);
        let read = engine.recognise(grey.as_raw(), bin.as_raw(), grey.width(), grey.height(), 300).unwrap();
        assert_eq!(texts(&read), ["Số:", "503/2024", "BẢN", "ÁN", "Họ", "và", "tên:", "Trần", "Thị", "Nam"]);

        // the layout analysis dropped the title: it is read alone and comes back between the
        // lines around it, the lines after it renumbered
        let title = read[2].line;
        let mut words: Vec<Word> = read
            .iter()
            .filter(|w| w.line != title)
            .map(|w| Word { line: if w.line > title { w.line - 1 } else { w.line }, ..w.clone() })
            .collect();
        let added = lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap();
        assert_eq!(added, [title]);
        assert_eq!(texts(&words), texts(&read));
        assert_eq!(words.iter().map(|w| w.line).collect::<Vec<_>>(), read.iter().map(|w| w.line).collect::<Vec<_>>());
        assert!(words[2].y > words[1].y + words[1].h && words[2].y + words[2].h < words[4].y, "{:?}", words[2]);

        // a word dropped from a line that was read joins that line, in its place
        let mut words = read.clone();
        words.remove(7);
        assert_eq!(lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap(), [read[7].line]);
        assert_eq!(texts(&words), texts(&read));

        // all ink read: nothing is read again
        let mut words = read.clone();
        assert!(lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap().is_empty());
        assert_eq!(words, read);
    }

    #[test]
    fn a_scribble_or_a_few_marks_are_not_taken_for_a_line() {
        let mut engine = Engine::new("vie").unwrap();
        // a zigzag like a signature, and two dots the size of letters
        let mut grey = stack(&[line_in(REGULAR, "Họ và tên: Trần Thị Nam"), GrayImage::from_pixel(1800, 200, image::Luma([250]))]);
        for x in 300..700u32 {
            let y = 230 + (x % 60).abs_diff(30);
            for t in 0..5 {
                grey.put_pixel(x, y + t, image::Luma([20]));
            }
        }
        for (cx, cy) in [(1000u32, 250u32), (1300, 250)] {
            for y in cy..cy + 25 {
                for x in cx..cx + 25 {
                    grey.put_pixel(x, y, image::Luma([20]));
                }
            }
        }
        let bin = binary(&grey);
        let read = engine.recognise(grey.as_raw(), bin.as_raw(), grey.width(), grey.height(), 300).unwrap();
        let mut words: Vec<Word> = read.iter().filter(|w| w.text.chars().any(char::is_alphabetic)).cloned().collect();
        let before = words.clone();
        assert!(lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap().is_empty());
        assert_eq!(words, before);
    }

    #[test]
    fn unread_letters_make_rows_of_a_few_letters_each() {
        let mark = |x0: u32, y0: u32, w: u32| Speck { x0, y0, x1: x0 + w - 1, y1: y0 + 29, cx: 0.0, cy: 0.0 };
        // three letters in a row, a word of letters run together, and a letter alone
        let letters =
            vec![mark(100, 100, 20), mark(130, 102, 20), mark(160, 98, 20), mark(100, 300, 120), mark(900, 300, 20), mark(400, 600, 20)];
        let found = rows(letters, 1000, 700);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].x <= 100 && found[0].x + found[0].w >= 180 && found[0].y < 98 && found[0].y + found[0].h > 130);
        // the run of four letters' widths, not the letter 780 pixels off it
        assert!(found[1].y < 300 && found[1].x + found[1].w < 900, "{:?}", found[1]);
        // a row at the page's edge ends there
        let edge = rows(vec![mark(940, 650, 20), mark(970, 650, 20), mark(975, 655, 25)], 1000, 700);
        assert_eq!(edge.len(), 1);
        assert_eq!((edge[0].x + edge[0].w, edge[0].y + edge[0].h), (1000, 700));
    }
}
