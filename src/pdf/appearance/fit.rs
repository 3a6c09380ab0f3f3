//! Keeping an appearance on the page: the box moved inside the page's crop box, and its text
//! wrapped and set smaller until every line lies inside the box, never clipped.

use super::AppearanceText;
use crate::pdf::PdfError;

/// Smallest font size text is reduced to; below it the text is unreadable on a printed page.
pub(crate) const MIN_FONT_SIZE: f32 = 4.0;
/// Space between the box's edge and its content.
pub(crate) const PADDING: f32 = 3.0;
/// Baseline-to-baseline distance as a multiple of the font size.
const LEADING: f32 = 1.2;
/// Share of the inner height the images keep when there are any: text that needs more is set
/// smaller, and text that needs more even at [`MIN_FONT_SIZE`] takes the whole box.
const IMAGE_SHARE: f32 = 0.4;
/// Each try sets the text this much smaller than the last, as a fraction of its asked size.
const STEP: f32 = 0.02;
/// Slack for float rounding when comparing a measure with the room for it.
const EPSILON: f32 = 1e-3;
/// Largest box side accepted (200 inches, the PDF page size limit).
const MAX_SIDE: f32 = 14400.0;

/// How far the font's ink reaches above and below the baseline, in ems (both positive).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extent {
    pub above: f32,
    pub below: f32,
}

/// One text line as drawn: left edge and baseline from the box's lower-left corner.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlacedLine {
    pub text: String,
    pub size: f32,
    pub x: f32,
    pub baseline: f32,
}

/// The box's content: text lines, and the area `[x, y, w, h]` left to the images (if they are
/// drawn; `None` when there are none or they had to give way to the text).
#[derive(Debug)]
pub(crate) struct Layout {
    pub lines: Vec<PlacedLine>,
    pub image_area: Option<[f32; 4]>,
}

/// `rect` (`[x1 y1 x2 y2]`, corners in any order) moved inside `crop` keeping its size; a side
/// longer than the crop box's is cut to it. Refuses boxes that are empty or not finite.
pub(crate) fn clamp(rect: [f32; 4], crop: [f32; 4]) -> Result<[f32; 4], PdfError> {
    let [x1, y1, x2, y2] = rect;
    let (w, h) = ((x2 - x1).abs(), (y2 - y1).abs());
    if !(w > 0.0 && h > 0.0 && w < MAX_SIDE && h < MAX_SIDE) {
        return Err(PdfError::Appearance(format!("the box {w} x {h} pt is empty or too large")));
    }
    let (x1, x2) = clamp_span(x1.min(x2), w, crop[0], crop[2]);
    let (y1, y2) = clamp_span(y1.min(y2), h, crop[1], crop[3]);
    Ok([x1, y1, x2, y2])
}

/// A span of length `len` starting at `start`, moved (and cut) to lie within `[min, max]`.
fn clamp_span(start: f32, len: f32, min: f32, max: f32) -> (f32, f32) {
    let len = len.min(max - min);
    // `f32::clamp` would panic if rounding put `max - len` a hair below `min`.
    let start = start.min(max - len).max(min);
    (start, (start + len).min(max))
}

/// Lays out `lines` in a `width` x `height` box: text at the asked sizes if it fits, else
/// uniformly smaller down to [`MIN_FONT_SIZE`]. With images the text sits at the bottom and
/// the images keep the space above it (at least [`IMAGE_SHARE`]); if the text does not fit
/// beside them, they are dropped; without images the text starts at the top.
pub(crate) fn layout(
    lines: &[AppearanceText],
    (width, height): (f32, f32),
    has_images: bool,
    extent: Extent,
    measure: impl Fn(&str, f32) -> f32,
) -> Result<Layout, PdfError> {
    let (inner_w, inner_h) = (width - 2.0 * PADDING, height - 2.0 * PADDING);
    if has_images {
        if let Some(block) = fit(lines, inner_w, inner_h * (1.0 - IMAGE_SHARE), extent, &measure) {
            let image_area = [PADDING, PADDING + block.height, inner_w, inner_h - block.height];
            let top = PADDING + block.height;
            return Ok(Layout { lines: block.place(top), image_area: Some(image_area) });
        }
    }
    match fit(lines, inner_w, inner_h, extent, &measure) {
        Some(block) => Ok(Layout { lines: block.place(height - PADDING), image_area: None }),
        None => Err(PdfError::Appearance(format!(
            "the text does not fit a {width:.1} x {height:.1} pt box even at {MIN_FONT_SIZE} pt; make the box larger"
        ))),
    }
}

/// The height a box `width` wide needs to hold `lines` at their asked sizes, or `None` when a
/// word is wider than the box.
pub(crate) fn height_at_asked_size(
    lines: &[AppearanceText],
    width: f32,
    extent: Extent,
    measure: impl Fn(&str, f32) -> f32,
) -> Option<f32> {
    let sizes: Vec<f32> = lines.iter().map(|l| l.size).collect();
    let wrapped = wrap(lines, &sizes, width - 2.0 * PADDING, &measure)?;
    Some(block_height(&wrapped, extent) + 2.0 * PADDING)
}

/// Wrapped lines at their sizes and the height they take, top of the ink to its bottom.
struct Block {
    lines: Vec<(String, f32)>,
    height: f32,
    extent: Extent,
}

impl Block {
    /// The lines placed so that the block's top lies at `top`.
    fn place(self, top: f32) -> Vec<PlacedLine> {
        let mut out: Vec<PlacedLine> = Vec::with_capacity(self.lines.len());
        for (text, size) in self.lines {
            let baseline = match out.last() {
                Some(above) => above.baseline - pitch(above.size, size, self.extent),
                None => top - self.extent.above * size,
            };
            out.push(PlacedLine { text, size, x: PADDING, baseline });
        }
        out
    }
}

/// Baseline-to-baseline distance from a line at `upper` points to the next at `lower`: the
/// leading, or more where the ink of the two would otherwise touch.
fn pitch(upper: f32, lower: f32, e: Extent) -> f32 {
    (lower * LEADING).max(upper * e.below + lower * e.above)
}

fn block_height(lines: &[(String, f32)], e: Extent) -> f32 {
    let (Some(first), Some(last)) = (lines.first(), lines.last()) else { return 0.0 };
    let between: f32 = lines.windows(2).map(|w| pitch(w[0].1, w[1].1, e)).sum();
    first.1 * e.above + between + last.1 * e.below
}

/// The largest uniform reduction of the asked sizes (down to the floor) at which the wrapped
/// text fits `width` x `height`.
fn fit(lines: &[AppearanceText], width: f32, height: f32, extent: Extent, measure: &impl Fn(&str, f32) -> f32) -> Option<Block> {
    if width <= 0.0 || height <= 0.0 {
        return None;
    }
    let smallest = lines.iter().map(|l| l.size).fold(f32::INFINITY, f32::min);
    // Text asked below the floor keeps its size; it is never enlarged.
    let floor = if smallest.is_finite() && smallest > 0.0 { (MIN_FONT_SIZE / smallest).min(1.0) } else { 1.0 };
    let steps = ((1.0 - floor) / STEP).ceil() as usize;
    (0..=steps).map(|k| (1.0 - k as f32 * STEP).max(floor)).find_map(|scale| {
        // Sizes are rounded down to what the content stream writes, so measure and drawing agree.
        let sizes: Vec<f32> = lines.iter().map(|l| ((l.size * scale * 100.0).floor() / 100.0).max(l.size.min(MIN_FONT_SIZE))).collect();
        let wrapped = wrap(lines, &sizes, width, measure)?;
        let h = block_height(&wrapped, extent);
        (h <= height + EPSILON).then_some(Block { lines: wrapped, height: h, extent })
    })
}

/// Breaks each line at spaces so that it fits `width`; `None` if a word alone is wider.
fn wrap(lines: &[AppearanceText], sizes: &[f32], width: f32, measure: &impl Fn(&str, f32) -> f32) -> Option<Vec<(String, f32)>> {
    let mut out = Vec::new();
    for (line, &size) in lines.iter().zip(sizes) {
        let mut current = String::new();
        for word in line.text.split(' ') {
            let candidate = if current.is_empty() { word.to_string() } else { format!("{current} {word}") };
            if measure(&candidate, size) <= width + EPSILON {
                current = candidate;
            } else if current.is_empty() || measure(word, size) > width + EPSILON {
                return None;
            } else {
                out.push((std::mem::take(&mut current), size));
                current = word.to_string();
            }
        }
        out.push((current, size));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character half an em wide; ink from 0.9 em above to 0.25 em below the baseline.
    fn measure(text: &str, size: f32) -> f32 {
        text.chars().count() as f32 * size * 0.5
    }
    const EXTENT: Extent = Extent { above: 0.9, below: 0.25 };

    fn lines(spec: &[(&str, f32)]) -> Vec<AppearanceText> {
        spec.iter().map(|(t, s)| AppearanceText { text: t.to_string(), size: *s }).collect()
    }

    /// Every line's ink within the box's padding, left to right and top to bottom.
    fn assert_inside(layout: &Layout, (w, h): (f32, f32)) {
        for l in &layout.lines {
            assert!(l.x >= PADDING - EPSILON && l.x + measure(&l.text, l.size) <= w - PADDING + EPSILON, "{l:?} wider than {w}");
            assert!(l.baseline + EXTENT.above * l.size <= h - PADDING + EPSILON, "{l:?} above the top of {h}");
            assert!(l.baseline - EXTENT.below * l.size >= PADDING - EPSILON, "{l:?} below the bottom");
        }
    }

    fn signer_lines() -> Vec<AppearanceText> {
        lines(&[
            ("Ký bởi: Nguyễn Văn An", 9.0),
            ("Chức vụ: Chủ tịch", 8.0),
            ("Cơ quan: UBND phường Dịch Vọng", 8.0),
            ("Thời gian ký: 2026-11-24T09:30:00+07:00", 8.0),
        ])
    }

    #[test]
    fn a_box_partly_off_the_page_moves_inside_keeping_its_size() {
        let crop = [0.0, 0.0, 595.0, 842.0];
        assert_eq!(clamp([500.0, 820.0, 620.0, 860.0], crop).unwrap(), [475.0, 802.0, 595.0, 842.0]);
        assert_eq!(clamp([-30.0, -10.0, 90.0, 30.0], crop).unwrap(), [0.0, 0.0, 120.0, 40.0]);
        assert_eq!(clamp([90.0, 30.0, -30.0, -10.0], crop).unwrap(), [0.0, 0.0, 120.0, 40.0], "corners in any order");
        assert_eq!(clamp([60.0, 60.0, 180.0, 100.0], crop).unwrap(), [60.0, 60.0, 180.0, 100.0], "a box inside stays");
    }

    #[test]
    fn a_box_follows_a_crop_box_off_the_origin_and_is_cut_when_larger() {
        let crop = [100.0, 300.0, 400.0, 500.0];
        assert_eq!(clamp([60.0, 60.0, 180.0, 100.0], crop).unwrap(), [100.0, 300.0, 220.0, 340.0]);
        assert_eq!(clamp([0.0, 0.0, 1000.0, 50.0], crop).unwrap(), [100.0, 300.0, 400.0, 350.0]);
        assert!(clamp([10.0, 10.0, 10.0, 50.0], crop).is_err(), "an empty box");
        assert!(clamp([f32::NAN, 10.0, 10.0, 50.0], crop).is_err());
    }

    #[test]
    fn text_that_fits_keeps_its_sizes_and_starts_at_the_top_without_images() {
        let layout = layout(&lines(&[("Bản sao điện tử", 10.0), ("12:00", 10.0)]), (220.0, 46.0), false, EXTENT, measure).unwrap();
        assert_eq!(layout.lines.len(), 2);
        assert!(layout.lines.iter().all(|l| l.size == 10.0));
        assert!((layout.lines[0].baseline - (46.0 - PADDING - 9.0)).abs() < EPSILON);
        assert_inside(&layout, (220.0, 46.0));
    }

    #[test]
    fn a_40pt_box_sets_the_signer_lines_smaller_and_keeps_the_first_line_inside() {
        let asked = signer_lines();
        let layout = layout(&asked, (120.0, 40.0), false, EXTENT, measure).unwrap();
        assert_eq!(layout.lines[0].text, "Ký bởi: Nguyễn Văn An");
        let ratio = layout.lines[0].size / 9.0;
        assert!(ratio < 1.0 && layout.lines.iter().all(|l| l.size >= MIN_FONT_SIZE), "{:?}", layout.lines);
        assert!(layout.lines[1..].iter().all(|l| (l.size - 8.0 * ratio).abs() < 0.02), "uniform: {:?}", layout.lines);
        let words = |t: Vec<&str>| t.join(" ").split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(words(layout.lines.iter().map(|l| l.text.as_str()).collect()), words(asked.iter().map(|l| l.text.as_str()).collect()));
        assert_inside(&layout, (120.0, 40.0));
    }

    #[test]
    fn lines_wrap_at_spaces_before_the_text_is_set_smaller() {
        let layout = layout(&lines(&[("Cơ quan: UBND phường Dịch Vọng", 8.0)]), (80.0, 100.0), false, EXTENT, measure).unwrap();
        let texts: Vec<&str> = layout.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["Cơ quan: UBND", "phường Dịch Vọng"]);
        assert!(layout.lines.iter().all(|l| l.size == 8.0));
        assert_inside(&layout, (80.0, 100.0));
    }

    #[test]
    fn images_keep_the_space_above_the_text() {
        let layout = layout(&lines(&[("Ký bởi: An", 9.0)]), (200.0, 80.0), true, EXTENT, measure).unwrap();
        let [x, y, w, h] = layout.image_area.unwrap();
        let line = &layout.lines[0];
        assert_eq!((x, w), (PADDING, 200.0 - 2.0 * PADDING));
        assert!((y - (line.baseline + EXTENT.above * 9.0)).abs() < EPSILON, "the images start where the text ends");
        assert!((y + h - (80.0 - PADDING)).abs() < EPSILON);
        assert_eq!(line.size, 9.0);
        assert_inside(&layout, (200.0, 80.0));
    }

    #[test]
    fn images_give_way_before_the_text_is_refused() {
        let layout = layout(&signer_lines(), (120.0, 30.0), true, EXTENT, measure).unwrap();
        assert!(layout.image_area.is_none());
        assert!(layout.lines[0].size > MIN_FONT_SIZE, "the text takes the whole box: {:?}", layout.lines);
        assert_inside(&layout, (120.0, 30.0));
        let err = super::layout(&signer_lines(), (120.0, 12.0), true, EXTENT, measure).unwrap_err();
        assert_eq!(err.code(), "appearance_invalid");
        assert!(err.to_string().contains("120.0 x 12.0 pt"), "{err}");
    }

    #[test]
    fn a_word_wider_than_the_box_at_the_floor_is_refused_not_clipped() {
        let long = lines(&[("2026-11-24T09:30:00+07:00", 8.0)]);
        assert!(layout(&long, (40.0, 200.0), false, EXTENT, measure).is_err());
        let fitted = layout(&long, (60.0, 200.0), false, EXTENT, measure).unwrap();
        assert_inside(&fitted, (60.0, 200.0));
    }

    #[test]
    fn the_asked_height_grows_with_wrapped_lines() {
        let one = height_at_asked_size(&lines(&[("a b c d", 10.0)]), 100.0, EXTENT, measure).unwrap();
        let two = height_at_asked_size(&lines(&[("a b c d", 10.0)]), 25.0, EXTENT, measure).unwrap();
        assert!((one - (11.5 + 2.0 * PADDING)).abs() < EPSILON);
        assert!((two - one - 12.0).abs() < EPSILON, "{one} {two}");
        assert!(height_at_asked_size(&lines(&[("abcdefgh", 10.0)]), 20.0, EXTENT, measure).is_none());
    }
}
