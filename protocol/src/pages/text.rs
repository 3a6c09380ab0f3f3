//! The text a PDF page already carries, as words with boxes: what the page shows (or hides,
//! for a recogniser's invisible layer), read from its content through the same interpreter
//! that draws it, placed in the pixels of the page's rendering. A page whose text is kept
//! is read from it rather than recognised again.

use hayro::hayro_interpret::font::GlyphRun;
use hayro::hayro_interpret::kurbo::{Affine, BezPath, Point, Rect, Vec2};
use hayro::hayro_interpret::{
    interpret_page, BlendMode, ClipPath, Context, Device, DrawMode, DrawProps, Image, ImageDrawProps, InterpreterCache,
    InterpreterSettings, SoftMask,
};
use unicode_normalization::UnicodeNormalization;

/// Glyphs read from one page at most; a page with more is recognised instead.
const MAX_GLYPHS: usize = 200_000;
/// Share of a page's glyphs that must map to characters for its text to be read.
const MIN_MAPPED: f32 = 0.9;
/// A gap wider than this share of the font size between two glyphs parts two words.
const WORD_GAP: f64 = 0.2;
/// Glyph extent below and above the baseline, in thousandths of the font size.
const DESCENT: f64 = -220.0;
const ASCENT: f64 = 900.0;

/// A word of a page's own text, in the pixels of the page's rendering (y down).
#[derive(Debug, Clone, PartialEq)]
pub struct ShownWord {
    /// NFC, without control or direction characters.
    pub text: String,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// Line number on the page, in the order the content shows them.
    pub line: u32,
    /// Drawn for a reader to see (false: render mode 3, a recogniser's layer).
    pub visible: bool,
}

/// One glyph as drawn: its characters and where it lies.
struct Shown {
    text: String,
    visible: bool,
    /// Baseline start and end, and the font size, in device pixels.
    origin: Point,
    end: Point,
    size: f64,
    bbox: Rect,
}

/// Collects the glyphs a page draws; draws nothing.
#[derive(Default)]
struct Collector {
    glyphs: Vec<Shown>,
    unmapped: usize,
    overflow: bool,
    /// The last run filled: its glyph count and first glyph's placement, so that the
    /// stroke of the same run (render mode 2) is not taken twice.
    last_fill: Option<(usize, [f64; 6])>,
}

impl<'a> Device<'a> for Collector {
    fn draw_path(&mut self, _: &BezPath, _: DrawProps<'a>, _: &DrawMode) {}
    fn push_clip_path(&mut self, _: &ClipPath) {}
    fn push_transparency_group(&mut self, _: f32, _: Option<SoftMask<'a>>, _: BlendMode) {}
    fn draw_image(&mut self, _: Image<'a, '_>, _: ImageDrawProps<'a>) {}
    fn pop_clip(&mut self) {}
    fn pop_transparency_group(&mut self) {}

    fn draw_glyph_run(&mut self, run: &GlyphRun<'_, 'a>, props: DrawProps<'a>, mode: &DrawMode) {
        // a fill and a stroke of the same run are one text; a run only stroked is text
        let key = run.glyphs().first().map(|g| (run.glyphs().len(), (props.transform * g.transform()).as_coeffs()));
        let stroke_of_last_fill = matches!(mode, DrawMode::Stroke(_)) && key.is_some() && key == self.last_fill;
        self.last_fill = if matches!(mode, DrawMode::Fill(_)) { key } else { None };
        if stroke_of_last_fill {
            return;
        }
        let visible = !matches!(mode, DrawMode::Invisible);
        for glyph in run.glyphs() {
            if self.glyphs.len() >= MAX_GLYPHS {
                self.overflow = true;
                return;
            }
            let t: Affine = props.transform * glyph.transform();
            let text = match glyph.as_unicode() {
                Some(hayro::hayro_interpret::hayro_cmap::BfString::Char(c)) => c.to_string(),
                Some(hayro::hayro_interpret::hayro_cmap::BfString::String(s)) => s,
                None => String::new(),
            };
            let text: String = text.chars().filter(|c| !hidden(*c)).collect();
            if text.is_empty() || text.contains('\u{FFFD}') {
                self.unmapped += 1;
                continue;
            }
            let advance = match &**glyph {
                hayro::hayro_interpret::font::Glyph::Outline(g) => g.advance_width(),
                hayro::hayro_interpret::font::Glyph::Type3(g) => g.advance_width(),
            }
            .filter(|a| a.is_finite())
            .unwrap_or(500.0);
            let origin = t * Point::ZERO;
            let end = t * Point::new(f64::from(advance), 0.0);
            let size = (t * Point::new(0.0, 1000.0) - origin).hypot();
            let corners = [(0.0, DESCENT), (f64::from(advance), DESCENT), (0.0, ASCENT), (f64::from(advance), ASCENT)]
                .map(|(x, y)| t * Point::new(x, y));
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for p in corners {
                (x0, y0, x1, y1) = (x0.min(p.x), y0.min(p.y), x1.max(p.x), y1.max(p.y));
            }
            if ![x0, y0, x1, y1, size].iter().all(|v| v.is_finite()) {
                self.unmapped += 1;
                continue;
            }
            self.glyphs.push(Shown { text, visible, origin, end, size, bbox: Rect::new(x0, y0, x1, y1) });
        }
    }
}

/// Control and direction characters: never part of a word.
fn hidden(c: char) -> bool {
    c.is_control()
        || ('\u{202A}'..='\u{202E}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{FEFF}' | '\u{AD}')
}

/// The words of `page` as drawn by `transform` (page space to the pixels of a `width` x
/// `height` rendering); none when the page shows no text, when too few of its glyphs map
/// to characters for the text to be trusted, or when it holds more glyphs than any page.
pub(super) fn words<'a>(
    page: &'a hayro::hayro_syntax::page::Page<'a>,
    settings: &InterpreterSettings,
    transform: Affine,
    width: u32,
    height: u32,
) -> Option<Vec<ShownWord>> {
    let cache = InterpreterCache::new();
    let target = Rect::new(0.0, 0.0, f64::from(width), f64::from(height));
    let mut context = Context::new(transform, target, &cache, page.xref(), settings.clone());
    let mut collector = Collector::default();
    interpret_page(page, &mut context, &mut collector);
    let total = collector.glyphs.len() + collector.unmapped;
    if collector.overflow || collector.glyphs.is_empty() || (collector.glyphs.len() as f32) < MIN_MAPPED * total as f32 {
        return None;
    }
    Some(group(&collector.glyphs, width, height))
}

/// Glyphs in the order drawn, into words and lines: a glyph off the current baseline, or
/// back before the previous one, starts a line; a space, a gap or a change between visible
/// and hidden text starts a word.
fn group(glyphs: &[Shown], width: u32, height: u32) -> Vec<ShownWord> {
    let mut words: Vec<ShownWord> = Vec::new();
    let mut current: Option<(String, Rect, bool)> = None;
    let mut line = 0u32;
    let mut previous: Option<&Shown> = None;
    let page = Rect::new(0.0, 0.0, f64::from(width), f64::from(height));
    let flush = |current: &mut Option<(String, Rect, bool)>, words: &mut Vec<ShownWord>, line: u32| {
        if let Some((text, bbox, visible)) = current.take() {
            let text: String = text.nfc().collect();
            if !text.trim().is_empty() {
                words.push(placed(text, bbox, line, visible, width, height));
            }
        }
    };
    for glyph in glyphs {
        if !glyph.bbox.overlaps(page) {
            continue;
        }
        if let Some(p) = previous {
            let size = p.size.max(glyph.size).max(1e-6);
            // along and across the previous glyph's baseline, whichever way the text runs
            let run = p.end - p.origin;
            let along = if run.hypot() > 1e-6 { run / run.hypot() } else { Vec2::new(1.0, 0.0) };
            let across = Vec2::new(-along.y, along.x);
            let off_line = (glyph.origin - p.origin).dot(across).abs() > 0.5 * size;
            let back = (glyph.origin - p.origin).dot(along) < -0.5 * size;
            if off_line || back {
                flush(&mut current, &mut words, line);
                if words.last().is_some_and(|w| w.line == line) {
                    line += 1;
                }
            } else if (glyph.origin - p.end).dot(along) > WORD_GAP * size || glyph.visible != p.visible {
                flush(&mut current, &mut words, line);
            }
        }
        previous = Some(glyph);
        for c in glyph.text.chars() {
            if c.is_whitespace() {
                flush(&mut current, &mut words, line);
                continue;
            }
            match &mut current {
                Some((text, bbox, _)) => {
                    text.push(c);
                    *bbox = bbox.union(glyph.bbox);
                }
                None => current = Some((c.to_string(), glyph.bbox, glyph.visible)),
            }
        }
    }
    flush(&mut current, &mut words, line);
    words
}

/// A word's box in whole pixels within the page.
fn placed(text: String, bbox: Rect, line: u32, visible: bool, width: u32, height: u32) -> ShownWord {
    let clamp = |v: f64, max: u32| v.round().clamp(0.0, f64::from(max)) as u32;
    let (x0, x1) = (clamp(bbox.x0, width.saturating_sub(1)), clamp(bbox.x1, width));
    let (y0, y1) = (clamp(bbox.y0, height.saturating_sub(1)), clamp(bbox.y1, height));
    ShownWord {
        text,
        x: x0,
        y: y0,
        w: x1.saturating_sub(x0).max(1).min(width - x0),
        h: y1.saturating_sub(y0).max(1).min(height - y0),
        line,
        visible,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A glyph `text` at `x`, `y` (baseline, pixels) advancing `advance` at `size`.
    fn glyph(text: &str, x: f64, y: f64, advance: f64, size: f64, visible: bool) -> Shown {
        let origin = Point::new(x, y);
        let end = Point::new(x + advance, y);
        Shown { text: text.into(), visible, origin, end, size, bbox: Rect::new(x, y - 0.9 * size, x + advance, y + 0.22 * size) }
    }

    fn texts(words: &[ShownWord]) -> Vec<(&str, u32)> {
        words.iter().map(|w| (w.text.as_str(), w.line)).collect()
    }

    #[test]
    fn glyphs_make_words_at_spaces_and_gaps_and_lines_at_baselines() {
        let mut glyphs = Vec::new();
        // "Số 12" with a space glyph, then "ab" placed apart without one, on one line
        for (i, t) in ["S", "ố", " ", "1", "2"].iter().enumerate() {
            glyphs.push(glyph(t, 100.0 + 10.0 * i as f64, 200.0, 10.0, 20.0, true));
        }
        glyphs.push(glyph("a", 160.0, 200.0, 10.0, 20.0, true));
        glyphs.push(glyph("b", 170.0, 200.0, 10.0, 20.0, true));
        // the next line, and an invisible word following on it
        glyphs.push(glyph("c", 100.0, 240.0, 10.0, 20.0, true));
        glyphs.push(glyph("d", 110.0, 240.0, 10.0, 20.0, false));
        let words = group(&glyphs, 1000, 1000);
        assert_eq!(texts(&words), [("Số", 0), ("12", 0), ("ab", 0), ("c", 1), ("d", 1)]);
        assert_eq!((words[0].x, words[0].w), (100, 20));
        assert!(!words[4].visible && words[3].visible);
    }

    #[test]
    fn a_mark_drawn_apart_joins_its_letter_in_nfc() {
        // "e" then a combining circumflex and acute drawn over it, as some producers write
        let glyphs = [glyph("e", 100.0, 200.0, 10.0, 20.0, true), glyph("\u{302}\u{301}", 100.0, 200.0, 0.0, 20.0, true)];
        let words = group(&glyphs, 1000, 1000);
        assert_eq!(texts(&words), [("ế", 0)]);
    }

    #[test]
    fn text_running_down_the_page_keeps_its_words() {
        // a line turned a quarter: each glyph below the last
        let glyphs: Vec<Shown> = ["H", "à", " ", "N", "ộ", "i"]
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let y = 100.0 + 10.0 * i as f64;
                Shown {
                    text: (*t).into(),
                    visible: true,
                    origin: Point::new(500.0, y),
                    end: Point::new(500.0, y + 10.0),
                    size: 20.0,
                    bbox: Rect::new(482.0, y, 504.0, y + 10.0),
                }
            })
            .collect();
        assert_eq!(texts(&group(&glyphs, 1000, 1000)), [("Hà", 0), ("Nội", 0)]);
    }

    #[test]
    fn words_off_the_page_are_left_out_and_boxes_stay_inside() {
        let glyphs = [glyph("x", -500.0, 200.0, 10.0, 20.0, true), glyph("y", 995.0, 200.0, 10.0, 20.0, true)];
        let words = group(&glyphs, 1000, 1000);
        assert_eq!(texts(&words), [("y", 0)]);
        assert!(words[0].x + words[0].w <= 1000);
    }
}
