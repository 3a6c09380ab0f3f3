//! A second reading of an owner's id. Read with the whole page around it, a value written
//! by hand over a form's leader, or typed in a face the model knows less well, comes out
//! with figures read as marks ("033/90522257"), split or lost; read alone, as one line, the
//! same pixels often give the number. So a line whose id label is not followed by an id
//! read as printed (`sohoa_protocol::classify::id_on_line`: lost, misread past the id
//! rules, or only valid once corrected) has the rest of its line, from the label's end to
//! the page's edge and over the rows its value's ink fills (`strip`), read again in
//! single-line mode, and the new words take the old ones' place only when they give the id
//! more surely. It costs one small recognition on the pages that need it, none on the
//! others. A figure the engine doubts has its strip read again too, and unless the two
//! readings agree surely the figures model (`Engine::figures`) reads it as well, at the
//! strip's size and at three quarters of it: the readings vote (`vote`). An enterprise
//! code is read again the same way (`FIELDS`).

use super::engine::{Engine, EngineError, Word};
use image::GrayImage;

/// How a recognised line gives a field read again, as extraction reads it: the byte after
/// the field's label, how surely the line gives the value after it (`AS_PRINTED` when as
/// printed) and the value; none when the line has no such label.
type Field = fn(&str) -> Option<(usize, f32, Option<String>)>;
/// The owner's id (`classify::id_read_on_line`).
const OWNER_ID: Field = sohoa_protocol::classify::id_read_on_line;
/// The fields read again: the owner's id, then the enterprise code
/// (`classify::code_read_on_line`), whose figures are as often written by hand on a form.
const FIELDS: [Field; 2] = [OWNER_ID, sohoa_protocol::classify::code_read_on_line];

/// The strip read again reaches this far above and below the label's line, in line heights.
const PAD: f32 = 0.35;
/// ... and no further than this, however far the ink beside the label reaches.
const REACH: f32 = 0.9;
/// How far right of a label its value is looked for when measuring the strip's rows, in line
/// heights: twelve handwritten figures.
const VALUE_WIDTH: f32 = 10.0;
/// How surely a line gives an id read as printed after its label (`id_on_line`).
const AS_PRINTED: f32 = 0.95;
/// Below this confidence in any figure after an id's label, the id is read again.
const DOUBTFUL_FIGURES: f32 = 90.0;
/// The page's reading and the strip's, read by the page's model, settle an id alone only
/// when they agree, fit the page's date of birth and the engine is at least this sure of
/// every figure in both. Below it they are often the same slip twice: the Vietnamese model
/// reads some faces' 5 as 8 on the page and in the strip alike, where the figures model
/// reads it right.
const SURE_AGREEMENT: f32 = 80.0;
/// The sizes, as a share of the page's, at which the figures model reads a strip. The same
/// figures at another size are a second, partly independent look: a slip the model makes at
/// one size it seldom makes at the other.
const FIGURE_SCALES: [f32; 2] = [1.0, 0.75];
/// What each reading weighs in the vote: the page's, the strip's by the page's model, and
/// the figures model's at each of `FIGURE_SCALES`, which knows figures best.
const WEIGHTS: [f32; 4] = [1.0, 1.0, 1.5, 1.5];
/// A reading that gives its id only once the id rules corrected it weighs this share.
const CORRECTED: f32 = 0.5;

/// Reads again the rest of each line of `words` whose owner's id is not read as printed
/// after its label, or whose figures the engine doubts, in `grey` (the page as recognised)
/// and `binary` (its layout image): by the page's engine in single-line mode, and, unless
/// that reading and the page's agree surely (`agree`, `SURE_AGREEMENT`), by its figures
/// model (`Engine::figures`) at each of `FIGURE_SCALES` too; the readings vote (`vote`). A
/// second reading kept replaces the line's words after the label (the page engine's) or
/// the words its id covers (the figures model's, which reads no Vietnamese). A line with an
/// enterprise code's label is read again alike.
pub fn ids(engine: &mut Engine, grey: &GrayImage, binary: &GrayImage, dpi: u32, words: &mut Vec<Word>) -> Result<Reread, EngineError> {
    let mut reread = Reread::default();
    // the date of birth is looked for once, at the first line with an id's label
    let mut born_once: Option<Option<u16>> = None;
    let mut start = 0;
    while start < words.len() {
        let line = words[start].line;
        let end = start + words[start..].iter().take_while(|w| w.line == line).count();
        let texts: Vec<&str> = words[start..end].iter().map(|w| w.text.as_str()).collect();
        let text = texts.join(" ");
        let Some((field, (at, surely, value))) = FIELDS.iter().find_map(|field| field(&text).map(|read| (*field, read))) else {
            start = end;
            continue;
        };
        // the label's words: those that begin before `at` ("CCCD:" with its colon)
        let mut label = 0;
        let mut byte = 0;
        for t in &texts {
            if byte >= at {
                break;
            }
            byte += t.len() + 1;
            label += 1;
        }
        let doubt = least_figure_confidence(&words[start + label..end]);
        let born = *born_once.get_or_insert_with(|| born_year(words));
        let year_fits = value.as_deref().is_some_and(|v| fits(v, born));
        if label == 0 || surely >= AS_PRINTED && doubt >= DOUBTFUL_FIGURES && year_fits {
            start = end;
            continue;
        }
        let labels: Vec<Word> = words[start..start + label].to_vec();
        let page = value.map(|v| Reading { value: v, printed: surely >= AS_PRINTED, confidence: doubt, words: Vec::new() });
        let rect = strip(binary, words, &labels);
        let again = match rect {
            Some(rect) => read_strip(engine, grey, binary, dpi, rect, 1.0)?,
            None => None,
        };
        let again = again.and_then(|fresh| reading(field, &labels, &fresh).map(|r| Reading { words: fresh, ..r }));
        let sure = |r: &Reading| r.confidence >= SURE_AGREEMENT;
        let settled = page
            .as_ref()
            .zip(again.as_ref())
            .filter(|(p, a)| agree(p, a) && fits(&p.value, born) && sure(p) && sure(a))
            .map(|(p, _)| p.printed);
        let mut readings = match settled {
            // two readings agree surely: the figures model need not load; the line keeps the
            // words that give the id as printed
            Some(true) => [page, None, None, None],
            Some(false) => [None, again, None, None],
            None => {
                let mut figures = [None, None];
                // the figures model is loaded only when there is a strip to read
                if let Some(rect) = rect {
                    let model = engine.figures()?;
                    for (slot, scale) in figures.iter_mut().zip(FIGURE_SCALES) {
                        *slot = read_strip(model, grey, binary, dpi, rect, scale)?.and_then(|fresh| {
                            let (run, found) = id_words(field, &labels, &fresh)?;
                            Some(Reading { words: run.to_vec(), ..found })
                        });
                    }
                }
                let [at_size, smaller] = figures;
                [page, again, at_size, smaller]
            }
        };
        let end = match vote(&readings, born) {
            Some(1) => {
                let fresh = readings[1].take().map(|r| r.words).unwrap_or_default();
                let added = fresh.len();
                words.splice(start + label..end, fresh.into_iter().map(|w| Word { line, ..w }));
                reread.replaced.push(line);
                reread.settled.push(line);
                start + label + added
            }
            Some(n @ (2 | 3)) => {
                let run = readings[n].take().map(|r| r.words).unwrap_or_default();
                reread.replaced.push(line);
                reread.settled.push(line);
                cover(words, start + label..end, &run, line)
            }
            Some(_) => {
                reread.settled.push(line);
                end
            }
            None => end,
        };
        start = end;
    }
    Ok(reread)
}

/// What reading ids again did to a page's lines.
#[derive(Debug, Default, PartialEq)]
pub struct Reread {
    /// Lines whose words after the label a second reading replaced.
    pub replaced: Vec<u32>,
    /// Lines whose id the readings settled (replaced, or the page's own reading kept because
    /// another gave the same id or it was the surest): their figures are kept whatever the
    /// engine's confidence in them, as those of a line that gives an id as printed are.
    pub settled: Vec<u32>,
}

/// A reading of an owner's id: the id, whether as printed, the engine's least confidence in
/// its figures, and the words that carry it (none for the page's own reading).
struct Reading {
    value: String,
    printed: bool,
    confidence: f32,
    words: Vec<Word>,
}

/// Whether two readings vouch for one id: the same id, at least one of them read as printed.
/// Two readings by the same model that both needed the id rules' correction ("0337…" for
/// "0331…") show the model misreading that hand; a figure it misread where no rule looks
/// comes out the same in both, so their agreement proves less than a reading as printed.
fn agree(a: &Reading, b: &Reading) -> bool {
    a.value == b.value && (a.printed || b.printed)
}

/// Which of the readings (the page's, the strip's by the page's model, the figures model's
/// at each of `FIGURE_SCALES`) to keep: of those whose birth year is the page's date of
/// birth's (all when none is, or the page gives none), the id with the most weight behind
/// it (`WEIGHTS`, a corrected reading's by `CORRECTED`), ties going to the id read as
/// printed most confidently; the first reading that gives it.
fn vote(readings: &[Option<Reading>], born: Option<u16>) -> Option<usize> {
    let mut given: Vec<(usize, &Reading)> = readings.iter().enumerate().filter_map(|(n, r)| r.as_ref().map(|r| (n, r))).collect();
    if given.iter().any(|(_, r)| fits(&r.value, born)) {
        given.retain(|(_, r)| fits(&r.value, born));
    }
    let backing = |value: &str| {
        let alike = given.iter().filter(|(_, r)| r.value == value);
        let weight: f32 = alike.clone().map(|(n, r)| WEIGHTS[*n] * if r.printed { 1.0 } else { CORRECTED }).sum();
        let surest = alike.map(|(_, r)| (r.printed, r.confidence)).fold((false, f32::MIN), |a, b| if b > a { b } else { a });
        (weight, surest.0, surest.1)
    };
    let (_, winner) =
        given.iter().max_by(|(_, a), (_, b)| backing(&a.value).partial_cmp(&backing(&b.value)).unwrap_or(std::cmp::Ordering::Equal))?;
    given.iter().find(|(_, r)| r.value == winner.value).map(|(n, _)| *n)
}

/// The year of the date of birth `words` give, read as the fields are.
fn born_year(words: &[Word]) -> Option<u16> {
    let fields = sohoa_protocol::classify::extract(&super::engine::text_of(words));
    fields.get("date_of_birth")?.value.get(..4)?.parse().ok()
}

/// Whether `id` can be that of someone born in `born`: a citizen id encodes its owner's
/// year of birth (digits 4 to 6); a single figure misread there gives another valid id the
/// id rules cannot tell, the page's date of birth can.
fn fits(id: &str, born: Option<u16>) -> bool {
    let year = sohoa_protocol::domain::CitizenId::parse(id).ok().and_then(|id| id.birth_year());
    born.zip(year).is_none_or(|(b, y)| b == y)
}

/// The id `label` followed by `after` gives, as a reading.
fn reading(field: Field, label: &[Word], after: &[Word]) -> Option<Reading> {
    let texts: Vec<&str> = label.iter().chain(after).map(|w| w.text.as_str()).collect();
    let (_, surely, value) = field(&texts.join(" "))?;
    Some(Reading { value: value?, printed: surely >= AS_PRINTED, confidence: least_figure_confidence(after), words: Vec::new() })
}

/// The engine's least confidence in a word of `words` that holds a figure (100 when none).
fn least_figure_confidence(words: &[Word]) -> f32 {
    words.iter().filter(|w| w.text.chars().any(|c| c.is_ascii_digit())).map(|w| w.conf).fold(100.0, f32::min)
}

/// The fewest consecutive words of `after` (from a word holding a figure, at most three,
/// since readings split an id's groups) that give an id after `label`, and that reading.
/// Each word holding a figure is tried as the first in turn: the figures model reads the
/// label's last word too ("số:" as "s6:"), and a run begun there gives no id.
fn id_words<'a>(field: Field, label: &[Word], after: &'a [Word]) -> Option<(&'a [Word], Reading)> {
    let starts = (0..after.len()).filter(|&i| after[i].text.chars().any(|c| c.is_ascii_digit()));
    starts.into_iter().find_map(|first| {
        (first + 1..=(first + 3).min(after.len()))
            .find_map(|end| reading(field, label, &after[first..end]).map(|r| (&after[first..end], r)))
    })
}

/// Puts `run` in place of the words of `range` (one line's words after its label) whose
/// centre lies across `run`'s width, in reading order; returns the range's new end.
fn cover(words: &mut Vec<Word>, range: std::ops::Range<usize>, run: &[Word], line: u32) -> usize {
    let (x0, x1) = (run[0].x, run.iter().map(|w| w.x + w.w).max().unwrap_or(run[0].x));
    let centre = |w: &Word| w.x + w.w / 2;
    let kept: Vec<Word> = words[range.clone()].iter().filter(|w| !(x0..=x1).contains(&centre(w))).cloned().collect();
    let at = kept.iter().position(|w| centre(w) > x1).unwrap_or(kept.len());
    let mut line_words = kept;
    line_words.splice(at..at, run.iter().map(|w| Word { line, ..w.clone() }));
    let end = range.start + line_words.len();
    words.splice(range, line_words);
    end
}

/// The lines of `words` that give an owner's id as printed after its label. The engine is
/// sometimes unsure of such a number, as of a speck; the id rules vouch for it.
pub fn id_lines(words: &[Word]) -> Vec<u32> {
    let mut lines = Vec::new();
    for run in words.chunk_by(|a, b| a.line == b.line) {
        let text: Vec<&str> = run.iter().map(|w| w.text.as_str()).collect();
        if sohoa_protocol::classify::id_on_line(&text.join(" ")).is_some_and(|(_, surely)| surely >= AS_PRINTED) {
            lines.push(run[0].line);
        }
    }
    lines
}

/// The part of the page right of an id's label that is read again: from the label's end
/// to the page's edge; over the label's rows and `PAD` line heights above and below, and
/// further while the rows beside the label hold ink, as a value written by hand above the
/// line, larger than print or off it does, up to the first row (nearly) without ink, the
/// gap before the next line, or `REACH` line heights, and never into the words the page's
/// reading found on the lines above and below; plus a margin. None when nothing is there.
fn strip(binary: &GrayImage, words: &[Word], label: &[Word]) -> Option<Rect> {
    let (width, height) = binary.dimensions();
    let line_no = label.first()?.line;
    let top = label.iter().map(|w| w.y).min()?;
    let bottom = label.iter().map(|w| w.y + w.h).max()?.min(height);
    let x0 = label.iter().map(|w| w.x + w.w).max()? + 1;
    let line = (bottom.checked_sub(top)?) as f32;
    if width <= x0 + 8 || line < 1.0 {
        return None;
    }
    // the ink is measured where a value is written, just after the label: the leader's
    // dots, further out, fill rows as much as the figures do
    let near = x0..width.min(x0 + (line * VALUE_WIDTH) as u32);
    let ink = |y: u32| near.clone().filter(|&x| binary.get_pixel(x, y).0[0] < 128).count();
    let peak = (top..bottom).map(ink).max().unwrap_or(0);
    let inked = |y: u32| ink(y) * 8 > peak.max(16);
    // the words read on the neighbouring lines, across the strip
    let across = |w: &&Word| w.line != line_no && w.x + w.w > x0;
    let above = words.iter().filter(across).filter(|w| w.y + w.h / 2 < top).map(|w| w.y + w.h).max().unwrap_or(0).min(top);
    let below = words.iter().filter(across).filter(|w| w.y + w.h / 2 > bottom).map(|w| w.y).min().unwrap_or(height).max(bottom);
    let reach = (line * REACH).round() as u32;
    let (mut up, mut down) = (top, bottom);
    while up > top.saturating_sub(reach).max(above) && inked(up - 1) {
        up -= 1;
    }
    while down < (bottom + reach).min(below).min(height) && inked(down) {
        down += 1;
    }
    let (pad, margin) = ((line * PAD).round() as u32, (line * 0.15).round() as u32);
    let y0 = up.saturating_sub(margin).min(top.saturating_sub(pad)).max(above);
    let y1 = (down + margin).max(bottom + pad).min(below).min(height);
    let rect = Rect { x: x0, y: y0, w: width - x0, h: y1.checked_sub(y0)? };
    let holds_ink = (rect.y..rect.y + rect.h).any(|y| (rect.x..width).any(|x| binary.get_pixel(x, y).0[0] < 128));
    (rect.h > 4 && holds_ink).then_some(rect)
}

/// A piece of the page, in pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Rect {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// The words of `rect` read as one line, at `scale` times its size, in the page's pixels;
/// none when it gives none.
pub(super) fn read_strip(
    engine: &mut Engine,
    grey: &GrayImage,
    binary: &GrayImage,
    dpi: u32,
    rect: Rect,
    scale: f32,
) -> Result<Option<Vec<Word>>, EngineError> {
    use image::imageops::{crop_imm, resize, FilterType};
    let cut = |image: &GrayImage| crop_imm(image, rect.x, rect.y, rect.w, rect.h).to_image();
    let (mut g, mut b) = (cut(grey), cut(binary));
    if scale != 1.0 {
        let size = |n: u32| ((n as f32 * scale).round() as u32).max(1);
        g = resize(&g, size(rect.w), size(rect.h), FilterType::Triangle);
        b = resize(&b, size(rect.w), size(rect.h), FilterType::Triangle);
        b.pixels_mut().for_each(|p| p.0[0] = if p.0[0] < 128 { 0 } else { 255 });
    }
    let dpi = (dpi as f32 * scale).round() as u32;
    let mut words = engine.recognise_line(g.as_raw(), b.as_raw(), g.width(), g.height(), dpi)?;
    let back = |n: u32| (n as f32 / scale).round() as u32;
    for w in &mut words {
        (w.x, w.y, w.w, w.h) = (rect.x + back(w.x), rect.y + back(w.y), back(w.w), back(w.h));
    }
    Ok((!words.is_empty()).then_some(words))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
    use image::Luma;

    /// A 300 dpi strip of paper with `text` set on one line in DejaVu Sans.
    fn line(text: &str) -> GrayImage {
        line_in("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", text)
    }

    /// A 300 dpi strip of paper with `text` set on one line in the face of `font_file`.
    pub(in crate::ocr) fn line_in(font_file: &str, text: &str) -> GrayImage {
        let font = FontVec::try_from_vec(std::fs::read(font_file).unwrap()).unwrap();
        let mut page = GrayImage::from_pixel(1800, 160, Luma([250]));
        let scale = PxScale::from(54.0);
        let scaled = font.as_scaled(scale);
        let mut pen = 60.0;
        for ch in text.chars() {
            let glyph = scaled.glyph_id(ch).with_scale_and_position(scale, ab_glyph::point(pen, 100.0));
            if let Some(outlined) = font.outline_glyph(glyph) {
                let b = outlined.px_bounds();
                outlined.draw(|x, y, c| {
                    let (x, y) = (b.min.x as u32 + x, b.min.y as u32 + y);
                    let old = f32::from(page.get_pixel(x, y)[0]);
                    page.put_pixel(x, y, Luma([(old * (1.0 - c) + 15.0 * c) as u8]));
                });
            }
            pen += scaled.h_advance(scaled.glyph_id(ch));
        }
        page
    }

    pub(in crate::ocr) fn binary(grey: &GrayImage) -> GrayImage {
        GrayImage::from_fn(grey.width(), grey.height(), |x, y| Luma([if grey.get_pixel(x, y)[0] < 128 { 0 } else { 255 }]))
    }

    pub(in crate::ocr) fn texts(words: &[Word]) -> Vec<&str> {
        words.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn an_id_the_page_reading_lost_is_read_again_alone() {
        let mut engine = Engine::new("vie").unwrap();
        let grey = line("Số CCCD: 033190522257");
        let bin = binary(&grey);
        let read = engine.recognise(grey.as_raw(), bin.as_raw(), grey.width(), grey.height(), 300).unwrap();
        assert_eq!(texts(&read), ["Số", "CCCD:", "033190522257"], "the strip is read as printed");

        // the page's reading broke the value: the rest of the line is read again and replaces it
        let mut words = read.clone();
        words[2].text = "0331905".into();
        let reread = ids(&mut engine, &grey, &bin, 300, &mut words).unwrap();
        assert_eq!(reread.replaced, [read[0].line]);
        assert_eq!(reread.settled, [read[0].line]);
        assert_eq!(texts(&words), ["Số", "CCCD:", "033190522257"]);
        let value = &words[2];
        assert!(value.x > read[1].x + read[1].w && value.x + value.w <= grey.width() && value.line == read[0].line);

        // a valid id as first read is left alone, and no second reading is made
        let mut words = read.clone();
        assert_eq!(ids(&mut engine, &grey, &bin, 300, &mut words).unwrap(), Reread::default());
        assert_eq!(texts(&words), texts(&read));
    }

    #[test]
    fn an_enterprise_code_the_page_reading_broke_is_read_again() {
        let mut engine = Engine::new("vie").unwrap();
        let grey = line("Mã số doanh nghiệp: 0101234567");
        let bin = binary(&grey);
        let read = engine.recognise(grey.as_raw(), bin.as_raw(), grey.width(), grey.height(), 300).unwrap();
        assert_eq!(texts(&read).last(), Some(&"0101234567"), "the strip is read as printed: {:?}", texts(&read));
        let mut words = read.clone();
        let last = words.len() - 1;
        words[last].text = "01O12/4567".into();
        let reread = ids(&mut engine, &grey, &bin, 300, &mut words).unwrap();
        assert_eq!(reread.replaced, [read[0].line]);
        assert_eq!(texts(&words), texts(&read));
    }

    #[test]
    fn a_second_reading_that_gives_no_valid_id_changes_nothing() {
        let mut engine = Engine::new("vie").unwrap();
        // the value on paper is no id (099 is no province): the first reading stays
        let grey = line("Số CCCD: 099190522257");
        let bin = binary(&grey);
        let mut words = engine.recognise(grey.as_raw(), bin.as_raw(), grey.width(), grey.height(), 300).unwrap();
        let before = words.clone();
        assert!(ids(&mut engine, &grey, &bin, 300, &mut words).unwrap().replaced.is_empty(), "{:?}", texts(&words));
        assert_eq!(texts(&words), texts(&before));
        // nothing written after the label: nothing to read
        let grey = line("Số CCCD:");
        let bin = binary(&grey);
        let mut words = engine.recognise(grey.as_raw(), bin.as_raw(), grey.width(), grey.height(), 300).unwrap();
        assert!(ids(&mut engine, &grey, &bin, 300, &mut words).unwrap().replaced.is_empty(), "{:?}", texts(&words));
    }

    #[test]
    fn the_figures_model_reads_an_id_the_page_language_misreads() {
        let mut engine = Engine::new("vie").unwrap();
        // JetBrains Mono's flat-topped 3 reads as 5 or 6 to the Vietnamese model
        let grey = line_in("/usr/share/fonts/truetype/jetbrains-mono/JetBrainsMono-Regular.ttf", "Số CCCD: 033076581715");
        let bin = binary(&grey);
        let mut words = engine.recognise(grey.as_raw(), bin.as_raw(), grey.width(), grey.height(), 300).unwrap();
        let first = texts(&words).join(" ");
        assert!(!first.contains("033076581715"), "the page language reads the id wrong here: {first}");
        let reread = ids(&mut engine, &grey, &bin, 300, &mut words).unwrap();
        assert_eq!(reread.replaced.len(), 1, "{:?}", texts(&words));
        assert!(texts(&words).contains(&"033076581715"), "{:?}", texts(&words));
        assert!(texts(&words).starts_with(&["Số", "CCCD:"]), "the label stays: {:?}", texts(&words));
        assert!(engine.info().model.contains("+eng:"), "the figures model is named in the engine's record: {}", engine.info().model);
    }

    #[test]
    fn a_strip_read_smaller_gives_its_words_in_the_pages_pixels() {
        let mut engine = Engine::new(super::super::engine::FIGURES_MODEL).unwrap();
        let grey = line("Số CCCD: 033190522257");
        let bin = binary(&grey);
        let rect = Rect { x: 20, y: 10, w: 1780, h: 140 };
        let whole = read_strip(&mut engine, &grey, &bin, 300, rect, 1.0).unwrap().expect("a reading at the strip's size");
        let smaller = read_strip(&mut engine, &grey, &bin, 300, rect, 0.75).unwrap().expect("a reading at three quarters");
        let id = |words: &[Word]| words.iter().find(|w| w.text.contains("033190522257")).cloned();
        let (a, b) = (id(&whole).expect("the id at size"), id(&smaller).expect("the id smaller"));
        for (x, y) in [(a.x, b.x), (a.y, b.y), (a.x + a.w, b.x + b.w), (a.y + a.h, b.y + b.h)] {
            assert!(x.abs_diff(y) <= 4, "the boxes match in the page's pixels: {a:?} {b:?}");
        }
        assert!(a.x > 250 && a.x + a.w < 1800, "right of the label, on the page: {a:?}");
    }

    /// Inks `binary` over `x0..x1` × `y0..y1`, every `step`-th column only (a leader's dots).
    fn ink(binary: &mut GrayImage, (x0, x1): (u32, u32), (y0, y1): (u32, u32), step: u32) {
        for y in y0..y1 {
            for x in (x0..x1).step_by(step as usize) {
                binary.put_pixel(x, y, Luma([0]));
            }
        }
    }

    #[test]
    fn the_strip_takes_a_value_written_above_the_line_and_stops_before_the_next_one() {
        let mut page = GrayImage::from_pixel(1400, 320, Luma([255]));
        let at = |text: &str, x: u32, y: u32, w: u32, line: u32| Word { text: text.into(), conf: 90.0, x, y, w, h: 40, line };
        // the line above, the label's line and the line below, 40 pixels high, as read
        let words = [at("Ngày", 300, 10, 200, 0), at("CCCD:", 50, 100, 200, 1), at("Nơi", 300, 190, 300, 2)];
        ink(&mut page, (300, 500), (10, 50), 1);
        ink(&mut page, (50, 250), (100, 140), 1);
        ink(&mut page, (300, 600), (190, 230), 1);
        // the value written by hand, larger than print and above the line, over dots
        ink(&mut page, (270, 700), (62, 136), 1);
        ink(&mut page, (260, 1400), (140, 144), 12);
        // specks between the lines
        ink(&mut page, (800, 803), (170, 172), 1);

        let rect = strip(&page, &words, &words[1..2]).unwrap();
        assert_eq!((rect.x, rect.x + rect.w), (251, 1400), "from the label's end to the page's edge");
        let (top, bottom) = (rect.y, rect.y + rect.h);
        assert!((50..=62).contains(&top), "the value's top is in, the line above is not: {top}");
        assert!((144..=190).contains(&bottom), "the leader is in, the line below is not: {bottom}");

        // with nothing beside the label the strip is the label's rows and a third of a line
        let mut bare = GrayImage::from_pixel(1400, 320, Luma([255]));
        ink(&mut bare, (50, 250), (100, 140), 1);
        ink(&mut bare, (900, 960), (110, 130), 1);
        let rect = strip(&bare, &words, &words[1..2]).unwrap();
        assert_eq!((rect.y, rect.y + rect.h), (86, 154));
        // and none when there is no ink at all right of the label
        let mut empty = GrayImage::from_pixel(1400, 320, Luma([255]));
        ink(&mut empty, (50, 250), (100, 140), 1);
        assert_eq!(strip(&empty, &words, &words[1..2]), None);
    }

    fn word(text: &str, x: u32, w: u32) -> Word {
        Word { text: text.into(), conf: 90.0, x, y: 10, w, h: 30, line: 4 }
    }

    #[test]
    fn an_id_read_again_covers_the_words_under_it_and_keeps_the_others() {
        let mut words = vec![
            word("Số", 0, 40),
            word("CCCD:", 50, 90),
            word("05607658", 150, 160),
            word("1715", 320, 80),
            word("cấp", 420, 60),
            word("ngày", 490, 80),
        ];
        let run = [Word { line: 0, ..word("033076581715", 152, 246) }];
        let end = cover(&mut words, 2..6, &run, 4);
        assert_eq!(texts(&words), ["Số", "CCCD:", "033076581715", "cấp", "ngày"]);
        assert_eq!(end, 5);
        assert!(words.iter().all(|w| w.line == 4), "the run joins the line");
        // an id the first reading lost entirely goes after the words left of it
        let mut words = vec![word("Số", 0, 40), word("CCCD:", 50, 90), word("cấp", 420, 60)];
        let end = cover(&mut words, 2..3, &run, 4);
        assert_eq!(texts(&words), ["Số", "CCCD:", "033076581715", "cấp"]);
        assert_eq!(end, 4);
    }

    #[test]
    fn the_figures_models_reading_of_the_labels_last_word_is_passed_over() {
        let label = [word("Căn", 0, 60), word("cước", 70, 80), word("công", 160, 80), word("dân", 250, 60)];
        // "số:" read by the figures model: a run begun there gives no id, the next word does
        let after = [word("s6:", 320, 50), word("038076821711", 380, 240), word("-", 640, 10)];
        let (run, found) = id_words(OWNER_ID, &label, &after).expect("the id after the label's last word");
        assert_eq!(texts(run), ["038076821711"]);
        assert_eq!(found.value, "038076821711");
        // no word holding a figure gives an id: none
        assert!(id_words(OWNER_ID, &label, &[word("s6:", 320, 50), word("12", 380, 40)]).is_none());
    }

    fn read_as(value: &str, printed: bool, confidence: f32) -> Option<Reading> {
        Some(Reading { value: value.into(), printed, confidence, words: Vec::new() })
    }

    #[test]
    fn the_id_with_the_most_weight_behind_it_is_kept() {
        // the page's reading and the strip's agree: one figures reading does not overturn them
        let agree = [read_as("048090756822", true, 70.0), read_as("048090756822", true, 60.0), read_as("048099756822", true, 99.0), None];
        assert_eq!(vote(&agree, None), Some(0));
        // the figures model at both sizes outweighs the page's model twice (the same slip)
        let slip = [
            read_as("022089593594", true, 75.0),
            read_as("022089593594", true, 70.0),
            read_as("022059593594", true, 90.0),
            read_as("022059593594", true, 85.0),
        ];
        assert_eq!(vote(&slip, None), Some(2));
        // the strip's reading and one figures reading outweigh the page's
        let second_and_third =
            [read_as("022029593594", true, 97.0), read_as("022059593594", true, 60.0), read_as("022059593594", true, 70.0), None];
        assert_eq!(vote(&second_and_third, None), Some(1), "the page engine's words are kept over the figures model's");
        // all differ: a corrected reading weighs half, the figures model's most
        let differ = [read_as("046204718435", true, 87.0), read_as("046204718456", false, 99.0), read_as("046204718455", true, 60.0), None];
        assert_eq!(vote(&differ, None), Some(2));
        // two that both needed correcting do not outweigh one figures reading as printed
        let corrected =
            [read_as("001056661765", false, 60.0), read_as("001056661765", false, 55.0), read_as("001056661785", true, 40.0), None];
        assert_eq!(vote(&corrected, None), Some(2));
        // equal weight: the id read as printed most confidently
        let even = [read_as("001056661765", true, 60.0), read_as("001056661785", true, 90.0), None, None];
        assert_eq!(vote(&even, None), Some(1));
        let even = [read_as("001056661765", true, 60.0), read_as("001056661785", false, 90.0), None, None];
        assert_eq!(vote(&even, None), Some(0), "as printed against corrected");
        // a reading that gives no id takes no part
        assert_eq!(vote(&[None, None, None, read_as("031088607371", false, 40.0)], None), Some(3));
        assert_eq!(vote(&[None, None, None, None], None), None);
    }

    #[test]
    fn a_reading_whose_birth_year_is_the_pages_is_kept_over_two_that_agree() {
        // 048090756822 is someone born in 1990; 048098756822 in 1998
        let slip = [read_as("048098756822", true, 95.0), read_as("048098756822", true, 93.0), read_as("048090756822", true, 70.0), None];
        assert_eq!(vote(&slip, Some(1990)), Some(2));
        assert_eq!(vote(&slip, None), Some(0), "without a date of birth the weightier id wins");
        // when no reading fits the page's year (a date of birth misread), the rule is as before
        assert_eq!(vote(&slip, Some(1971)), Some(0));
        assert!(fits("048090756822", Some(1990)) && !fits("048090756822", Some(1991)) && fits("048090756822", None));
        // a legacy 9-digit card encodes no year and fits any
        assert!(fits("123456789", Some(1990)));
    }
}
