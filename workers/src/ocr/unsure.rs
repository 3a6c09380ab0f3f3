//! A second reading of a word the engine doubted beside a word it is sure of. On a poor scan
//! the first word of a title line often comes out right but at confidence 0 ("CĂN CƯỚC
//! CÔNG DÂN", "TRÍCH LỤC KHAI SINH"), a speck or a stroke before it taken into the word;
//! dropped with the other unsure words, the line loses the word that tells one title from
//! another. A word that mixes letters and figures ("BÁ0", "b1IẤY") is as doubtful, and so is a
//! word in capitals, read not quite surely, that is no Vietnamese syllable ("TỪ KHATI" for
//! TỜ KHAI: two slips in a short title are more than it is matched with), and so is a word's
//! worth of ink read as marks alone ("GIẤY PHÉP ” DỰNG": XÂY lost). Such a
//! line is read again alone, in single-line mode, and each word takes the word the second
//! reading gives in its place when the engine is surer of it there. Lines without such a
//! word cost nothing.

use super::engine::{Engine, EngineError, Word};
use super::reread::{read_strip, Rect};
use image::GrayImage;

/// A line is read again only when at least this many of its words have letters read at
/// this confidence or more: a line the engine read, not specks. A word mixing letters and
/// figures read under this confidence is doubtful.
const SURE_WORDS: usize = 1;
const SURE: f32 = 80.0;
/// ... or when its words of letters were read at least this surely on average.
const FAIRLY: f32 = 60.0;
/// Lines read again on a page, at most, first in reading order (titles stand near the top).
const MAX_LINES: usize = 4;
/// The line is read again at this share of its size: at the page's size the engine reads it
/// as it did, smaller it takes the strokes anew (as the figures model reads an id,
/// `reread::FIGURE_SCALES`).
const SCALE: f32 = 0.75;
/// A word the engine was sure enough of in the first reading takes the second only when
/// the engine is `SURE` of it there and this much surer than of the first.
const MARGIN: f32 = 20.0;
/// The strip read again reaches this far around the line's words, in line heights.
const PAD: f32 = 0.3;

/// Reads again, in `grey` and `binary` (the page as recognised and its layout image), each
/// line of `words` that holds a doubtful word (two letters or more read under `unsure`
/// confidence; letters and figures, or three capitals or more that are no syllable, read
/// under `SURE`; marks alone at least half the line's height both ways, read under `SURE`)
/// beside `SURE_WORDS` words read surely, or among words read `FAIRLY` surely on average,
/// `MAX_LINES` at most; a doubtful word takes the text, confidence and box of the one word
/// the second reading gives over it when that word holds letters or figures, is no longer
/// doubtful and is surer, any other word only when the second is `SURE` and `MARGIN` surer.
/// Returns the lines whose words changed.
pub fn lines(
    engine: &mut Engine,
    grey: &GrayImage,
    binary: &GrayImage,
    dpi: u32,
    unsure: f32,
    words: &mut [Word],
) -> Result<Vec<u32>, EngineError> {
    let doubtful = |w: &Word| {
        let letters = w.text.chars().filter(|c| c.is_alphabetic()).count();
        let figures = w.text.chars().filter(char::is_ascii_digit).count();
        w.conf < unsure && letters >= 2
            || w.conf < SURE && letters >= 1 && figures >= 1 && letters + figures >= 3
            || w.conf < SURE && figures == 0 && letters >= 3 && capitals_only(&w.text) && super::syllable::letters(&w.text).is_none()
    };
    let sure = |w: &Word| w.conf >= SURE && w.text.chars().any(char::is_alphabetic);
    let mut changed = Vec::new();
    let mut read = 0;
    let mut start = 0;
    while start < words.len() && read < MAX_LINES {
        let line = words[start].line;
        let end = start + words[start..].iter().take_while(|w| w.line == line).count();
        let run = &words[start..end];
        let line_h = line_height(run);
        // a word's worth of ink read as marks alone ("GIẤY PHÉP ” DỰNG"): letters lost
        let lost = |w: &Word| w.conf < SURE && !w.text.chars().any(char::is_alphanumeric) && w.h * 2 >= line_h && w.w * 2 >= line_h;
        let doubtful = |w: &Word| doubtful(w) || lost(w);
        if !run.iter().any(doubtful) || run.iter().filter(|w| sure(w)).count() < SURE_WORDS && !fairly_read(run) {
            start = end;
            continue;
        }
        read += 1;
        let Some(rect) = around(run, grey.width(), grey.height()) else {
            start = end;
            continue;
        };
        let fresh = read_strip(engine, grey, binary, dpi, rect, SCALE)?.unwrap_or_default();
        let mut touched = false;
        let old: Vec<Word> = words[start..end].to_vec();
        for word in words[start..end].iter_mut() {
            let Some(again) = counterpart(word, &fresh, &old) else { continue };
            let better = if doubtful(word) {
                again.conf >= unsure && again.conf > word.conf && !doubtful(again) && again.text.chars().any(char::is_alphanumeric)
            } else {
                again.conf >= SURE && again.conf >= word.conf + MARGIN
            };
            if better {
                *word = Word { line, ..again.clone() };
                touched = true;
            }
        }
        if touched {
            changed.push(line);
        }
        start = end;
    }
    Ok(changed)
}

/// The median height of a line's words that hold letters (0 when none does).
fn line_height(run: &[Word]) -> u32 {
    median(run.iter().filter(|w| w.text.chars().any(char::is_alphabetic)).map(|w| w.h)).unwrap_or(0)
}

/// The middle value (the upper one of an even count); none of no values.
fn median(values: impl Iterator<Item = u32>) -> Option<u32> {
    let mut values: Vec<u32> = values.collect();
    values.sort_unstable();
    values.get(values.len() / 2).copied()
}

/// Whether the engine read a line's words of letters `FAIRLY` surely on the whole, a line
/// of text though none of them is sure.
fn fairly_read(run: &[Word]) -> bool {
    let confs: Vec<f32> = run.iter().filter(|w| w.text.chars().any(char::is_alphabetic)).map(|w| w.conf).collect();
    !confs.is_empty() && confs.iter().sum::<f32>() >= FAIRLY * confs.len() as f32
}

/// Whether every letter of `text` is a capital.
fn capitals_only(text: &str) -> bool {
    text.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase)
}

/// The part of the page a line's words take, and `PAD` line heights around it, within the
/// page of `width` x `height`; none when the words take no room. Top and bottom are the
/// words' middle ones: on a poor scan one word's box can reach into the next line, and a
/// strip holding two lines is no line.
fn around(run: &[Word], width: u32, height: u32) -> Option<Rect> {
    let line = median(run.iter().map(|w| w.h))?;
    let pad = (line as f32 * PAD).round() as u32;
    let x0 = run.iter().map(|w| w.x).min()?.saturating_sub(pad);
    let y0 = median(run.iter().map(|w| w.y))?.saturating_sub(pad);
    let x1 = (run.iter().map(|w| w.x + w.w).max()? + pad).min(width);
    let y1 = (median(run.iter().map(|w| w.y + w.h))? + pad).min(height);
    (x1 > x0 + 4 && y1 > y0 + 4).then_some(Rect { x: x0, y: y0, w: x1 - x0, h: y1 - y0 })
}

/// The one word of `fresh` over `word` that lies over no other word of `old` (the line's
/// words as first read, `word` among them): a word read as one word both times.
fn counterpart<'a>(word: &Word, fresh: &'a [Word], old: &[Word]) -> Option<&'a Word> {
    let over = |a: &Word, b: &Word| overlap(a, b) * 2 > a.w.min(b.w);
    let mut found = fresh.iter().filter(|f| over(word, f));
    let again = found.next()?;
    let alone = found.next().is_none() && old.iter().filter(|o| over(o, again)).count() == 1;
    alone.then_some(again)
}

/// How many columns two words share.
fn overlap(a: &Word, b: &Word) -> u32 {
    (a.x + a.w).min(b.x + b.w).saturating_sub(a.x.max(b.x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::reread::tests::{binary, line_in, texts};

    const BOLD: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

    #[test]
    fn a_word_read_without_confidence_between_sure_words_is_read_again() {
        let mut engine = Engine::new("vie").unwrap();
        let grey = line_in(BOLD, "CĂN CƯỚC CÔNG DÂN");
        let bin = binary(&grey);
        let read = engine.recognise(grey.as_raw(), bin.as_raw(), grey.width(), grey.height(), 300).unwrap();
        assert_eq!(texts(&read), ["CĂN", "CƯỚC", "CÔNG", "DÂN"]);
        assert!(read.iter().all(|w| w.conf >= SURE), "{read:?}");

        // the first word as a poor scan gives it: right, but at confidence 0
        let mut words = read.clone();
        words[0].conf = 0.0;
        let changed = lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap();
        assert_eq!(changed, [read[0].line]);
        assert_eq!(texts(&words), texts(&read));
        assert!(words[0].conf >= 20.0, "{:?}", words[0]);
        assert!(words[0].x + words[0].w > read[0].x && words[0].x < read[0].x + read[0].w, "in the first word's place: {:?}", words[0]);

        // a word the engine misread but was fairly sure of takes the second reading only
        // when that one is much surer
        let mut words = read.clone();
        words[0].conf = 0.0;
        words[2] = Word { text: "CÔN6".into(), conf: 50.0, ..words[2].clone() };
        lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap();
        assert_eq!(texts(&words), texts(&read));
    }

    #[test]
    fn a_word_in_capitals_that_is_no_syllable_read_unsurely_is_read_again() {
        let mut engine = Engine::new("vie").unwrap();
        let grey = line_in(BOLD, "TỜ KHAI ĐĂNG KÝ");
        let bin = binary(&grey);
        let read = engine.recognise(grey.as_raw(), bin.as_raw(), grey.width(), grey.height(), 300).unwrap();
        assert_eq!(texts(&read), ["TỜ", "KHAI", "ĐĂNG", "KÝ"]);

        // "KHATI" for KHAI, read at 59: no Vietnamese syllable, so doubtful
        let mut words = read.clone();
        words[1] = Word { text: "KHATI".into(), conf: 59.0, ..words[1].clone() };
        let changed = lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap();
        assert_eq!(changed, [read[1].line]);
        assert_eq!(texts(&words), texts(&read));

        // no word of the line read surely, but all fairly: still a line of text
        let mut words = read.clone();
        for w in &mut words {
            w.conf = 65.0;
        }
        words[1].text = "KHATI".into();
        assert_eq!(lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap(), [read[1].line]);
        assert_eq!(words[1].text, "KHAI");

        // read surely, or a syllable, or not in capitals: left as read
        for (text, conf) in [("KHATI", 85.0), ("KHÁI", 59.0), ("Khati", 59.0)] {
            let mut words = read.clone();
            words[1] = Word { text: text.into(), conf, ..words[1].clone() };
            assert!(lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap().is_empty(), "{text} {conf}");
            assert_eq!(words[1].text, text);
        }
    }

    #[test]
    fn a_words_worth_of_ink_read_as_marks_is_read_again_within_its_line() {
        let mut engine = Engine::new("vie").unwrap();
        let regular = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
        let (title, next) = (line_in(BOLD, "GIẤY PHÉP XÂY DỰNG"), line_in(regular, "Họ và tên: Nguyễn Đức Hùng"));
        let mut grey = GrayImage::new(title.width(), title.height() + next.height());
        image::imageops::replace(&mut grey, &title, 0, 0);
        image::imageops::replace(&mut grey, &next, 0, i64::from(title.height()));
        let bin = binary(&grey);
        let read = engine.recognise(grey.as_raw(), bin.as_raw(), grey.width(), grey.height(), 300).unwrap();
        assert_eq!(texts(&read[..4]), ["GIẤY", "PHÉP", "XÂY", "DỰNG"]);
        assert!(read[4..].iter().all(|w| w.line != read[0].line), "{read:?}");

        // XÂY read as a quotation mark the size of a word, and the last word's box reaching
        // into the next line, as a poor scan gives them
        let mut words = read.clone();
        words[2] = Word { text: "\u{201d}".into(), conf: 66.0, ..words[2].clone() };
        words[3].h += next.height() - 20;
        let changed = lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap();
        assert_eq!(changed, [read[0].line]);
        assert_eq!(texts(&words[..4]), texts(&read[..4]));

        // a mark of a mark's size is no lost word
        let mut words = read.clone();
        let dash = Word { text: "-".into(), conf: 50.0, x: words[3].x + words[3].w + 20, w: 14, h: 5, ..words[3].clone() };
        words.insert(4, dash);
        assert!(lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap().is_empty());
    }

    #[test]
    fn lines_read_surely_or_not_at_all_are_not_read_again() {
        let mut engine = Engine::new("vie").unwrap();
        let grey = line_in(BOLD, "TRÍCH LỤC KHAI SINH");
        let bin = binary(&grey);
        let read = engine.recognise(grey.as_raw(), bin.as_raw(), grey.width(), grey.height(), 300).unwrap();

        // every word sure: nothing to read again
        let mut words = read.clone();
        assert!(lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap().is_empty());
        assert_eq!(words, read);

        // a line of specks (no sure word) is not read again, nor a one-letter speck
        let mut words = read.clone();
        for w in &mut words {
            w.conf = 5.0;
        }
        assert!(lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap().is_empty());
        let mut words = read.clone();
        words.push(Word { text: "z".into(), conf: 0.0, x: 1700, w: 10, ..read[0].clone() });
        assert!(lines(&mut engine, &grey, &bin, 300, 20.0, &mut words).unwrap().is_empty());
    }

    #[test]
    fn a_word_split_or_joined_by_the_second_reading_has_no_counterpart() {
        let at = |x: u32, w: u32| Word { text: "x".into(), conf: 0.0, x, y: 0, w, h: 20, line: 0 };
        let old = [at(0, 40), at(50, 40)];
        // one fresh word over both old words
        assert!(counterpart(&old[0], &[at(0, 90)], &old).is_none());
        // two fresh words over one old word
        assert!(counterpart(&old[0], &[at(0, 18), at(20, 20)], &old).is_none());
        let fresh = [at(2, 36), at(52, 38)];
        assert_eq!(counterpart(&old[1], &fresh, &old), Some(&fresh[1]));
    }
}
