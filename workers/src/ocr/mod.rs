//! Scans to searchable PDFs: decode, preprocess, recognise with Tesseract, and lay the
//! recognised words as invisible text over the original page images.

mod engine;
mod input;
mod leaders;
mod missed;
mod orient;
mod prep;
pub mod register;
mod reread;
mod seal;
mod syllable;
mod unsure;

pub use engine::{Engine, EngineError, EngineInfo, Word};
pub use input::Page;
pub use prep::rotate;
use sohoa_protocol::custody::CustodyError;
pub use sohoa_protocol::custody::{Orientation, OrientationMethod, PageText, TextPolicy, TextSource, SERVICE_POLICY};
use sohoa_protocol::intake::{MediaError, MediaLimits};
use sohoa_protocol::pages::PageError;

/// Words below this confidence are noise (specks, stamps, photos), not text.
const MIN_WORD_CONF: f32 = 20.0;
/// A page whose kept words average below this says it has no text.
const MIN_PAGE_CONF: f32 = 40.0;
/// Share of a page's letter-sized marks outside every word read above which the page is
/// read again on a looser layout threshold.
const UNREAD_LETTERS: f32 = 0.3;

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error(transparent)]
    Page(#[from] PageError),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Pdf(#[from] CustodyError),
}

impl From<MediaError> for OcrError {
    fn from(e: MediaError) -> Self {
        OcrError::Page(e.into())
    }
}

impl OcrError {
    /// Stable machine code, shown on the component when a job fails.
    pub fn code(&self) -> &'static str {
        match self {
            OcrError::Page(e) => e.code(),
            OcrError::Engine(EngineError::Init(_)) => "ocr_engine_unavailable",
            OcrError::Engine(EngineError::Page(_)) => "ocr_failed",
            OcrError::Pdf(e) => e.code(),
        }
    }

    /// Whether another try could succeed: bad input never does.
    pub fn permanent(&self) -> bool {
        !matches!(self, OcrError::Engine(EngineError::Init(_)) | OcrError::Pdf(CustodyError::Write(_)))
    }
}

/// Recognises every page of every input, one page in memory at a time. A PDF page that
/// keeps its own text under `policy` is read from it instead.
pub fn recognise(engine: &mut Engine, inputs: &[&[u8]], limits: MediaLimits, policy: TextPolicy) -> Result<Vec<PageText>, OcrError> {
    recognise_with(engine, inputs, limits, policy, |_, _, _| Ok(()))
}

/// As [`recognise`], each page read upright also handed to `also` with its number, before its
/// words are taken: what else is read of a page is read from the same reading.
fn recognise_with(
    engine: &mut Engine,
    inputs: &[&[u8]],
    limits: MediaLimits,
    policy: TextPolicy,
    mut also: impl FnMut(&mut Engine, &Read, u32) -> Result<(), OcrError>,
) -> Result<Vec<PageText>, OcrError> {
    let (mut pages, mut pixels) = (Vec::new(), 0u64);
    for bytes in inputs {
        input::for_each_page(bytes, limits, policy, |page| {
            let number = pages.len() as u32 + 1;
            if number > limits.max_pages {
                return Err(MediaError::TooManyPages { pages: number, limit: limits.max_pages }.into());
            }
            pixels = pixels.saturating_add(u64::from(page.width) * u64::from(page.height));
            if pixels > limits.max_scan_pixels {
                return Err(MediaError::ScanTooLarge { pixels, limit: limits.max_scan_pixels }.into());
            }
            pages.push(match (&page.unread, &page.own_text) {
                (Some(why), _) => PageText::unread(number, page.width, page.height, page.dpi, why.clone()),
                (None, Some(words)) => PageText::of_own_text(number, page.width, page.height, page.dpi, words),
                (None, None) => recognise_page(engine, &page, number, &mut also)?,
            });
            Ok(())
        })?;
    }
    Ok(pages)
}

/// The orientation of every page of every input, as `recognise` decides it: the quarter
/// turns applied and the evidence.
pub fn orientations(engine: &mut Engine, inputs: &[&[u8]], limits: MediaLimits) -> Result<Vec<(u8, Orientation)>, OcrError> {
    let mut found = Vec::new();
    for bytes in inputs {
        input::for_each_page(bytes, limits, TextPolicy::Force, |page| {
            if page.unread.is_some() {
                found.push((0, Orientation::default()));
                return Ok(());
            }
            let (read, orientation) = read_upright(engine, &page)?;
            found.push((read.map_or(0, |r| r.prepared.quarter_turns), orientation));
            Ok(())
        })?;
    }
    Ok(found)
}

/// The reading score of the first page of `bytes` in each of the four orientations from
/// the page as scanned, whatever its lines suggest: the margin the orientation check relies
/// on, measured.
pub fn reading_scores(engine: &mut Engine, bytes: &[u8], limits: MediaLimits) -> Result<Vec<sohoa_protocol::custody::Reading>, OcrError> {
    let mut scores = Vec::new();
    input::for_each_page(bytes, limits, TextPolicy::Force, |page| {
        if scores.is_empty() && page.unread.is_none() {
            let survey = prep::survey(&page.gray, page.dpi);
            let turned = prep::straighten(&page.gray, page.dpi, survey.suggested_turns, survey.skew);
            let as_scanned = prep::turn(&turned.image, (4 - survey.suggested_turns) % 4);
            scores = orient::read_all(engine, &as_scanned, (page.dpi * turned.scale).round() as u32)?;
        }
        Ok(())
    })?;
    Ok(scores)
}

/// The page turned upright as `survey` suggests and deskewed, and why it was turned so.
fn turn_upright(engine: &mut Engine, page: &Page, survey: &prep::Survey) -> Result<(prep::Prepared, Orientation), OcrError> {
    let suggested = survey.suggested_turns;
    let mut prepared = prep::straighten(&page.gray, page.dpi, suggested, survey.skew);
    if suggested == 0 {
        return Ok((prepared, Orientation { method: OrientationMethod::Lines, ..Orientation::default() }));
    }
    let dpi = (page.dpi * prepared.scale).round() as u32;
    let (turns, orientation) = orient::check(engine, &prepared.image, dpi, suggested)?;
    if turns != suggested {
        prepared.image = prep::turn(&prepared.image, (turns + 4 - suggested) % 4);
        prepared.quarter_turns = turns;
    }
    Ok((prepared, orientation))
}

/// A page read upright: the image the engine read and the words it found (in the image's
/// pixels).
struct Read {
    prepared: prep::Prepared,
    /// The binary image the engine laid the page out on, and the resolution it read at.
    layout: image::GrayImage,
    dpi: u32,
    words: Vec<Word>,
}

/// The page turned upright and read (none for blank paper), and why it was turned so. A
/// page the line geometry takes for upright is read as it is; when that reading is not
/// Vietnamese text (a page upside down that ruled lines or a fold made look upright), the
/// orientations are checked by reading as for a suggested turn, and the page is read again
/// if one of them wins.
fn read_upright(engine: &mut Engine, page: &Page) -> Result<(Option<Read>, Orientation), OcrError> {
    let survey = prep::survey(&page.gray, page.dpi);
    if survey.blank {
        return Ok((None, Orientation { method: OrientationMethod::Blank, ..Orientation::default() }));
    }
    let suggested = survey.suggested_turns;
    if suggested != 0 {
        // most pages are upright, and the lines suggest a turn where a dark lid, a fold or a
        // stamp misleads them: a page that reads as text as scanned is not turned, and costs
        // no check
        let mut prepared = prep::straighten(&page.gray, page.dpi, 0, survey.skew_as_scanned);
        let dpi = (page.dpi * prepared.scale).round() as u32;
        let (words, layout) = read_prepared(engine, &mut prepared, dpi)?;
        if orient::reads_as_text(&words) {
            let readings = vec![sohoa_protocol::custody::Reading { turns: 0, score: orient::text_score(&words) }];
            let read = Read { prepared, layout, dpi, words };
            return Ok((Some(read), Orientation { method: OrientationMethod::Reading, suggested, readings }));
        }
    }
    let (mut prepared, mut orientation) = turn_upright(engine, page, &survey)?;
    let dpi = (page.dpi * prepared.scale).round() as u32;
    let (mut words, mut layout) = read_prepared(engine, &mut prepared, dpi)?;
    if orientation.method == OrientationMethod::Lines && !orient::reads_as_text(&words) {
        let (turns, checked) = orient::check(engine, &prepared.image, dpi, 0)?;
        orientation = checked;
        if turns != 0 {
            prepared.image = prep::turn(&prepared.image, turns);
            prepared.quarter_turns = turns;
            (words, layout) = read_prepared(engine, &mut prepared, dpi)?;
        }
    }
    Ok((Some(Read { prepared, layout, dpi, words }), orientation))
}

/// The words of a prepared page, rows of dots erased first, and the binary image the engine
/// laid the page out on.
fn read_prepared(engine: &mut Engine, prepared: &mut prep::Prepared, dpi: u32) -> Result<(Vec<Word>, image::GrayImage), OcrError> {
    let (mut layout, mut loose) = prep::layouts(&prepared.image, dpi);
    // rows of dots after a form's labels make the engine drop the line they are on
    leaders::clear(&mut prepared.image, &mut [&mut layout, &mut loose], dpi);
    let image = &prepared.image;
    let words = engine.recognise(image.as_raw(), layout.as_raw(), image.width(), image.height(), dpi)?;
    // thin, light strokes break apart under the layout's threshold and whole lines go unread:
    // a page whose letters lie outside the words read is read again on a looser threshold
    let unread = prep::unread_letters(&loose, dpi, &words);
    if unread > UNREAD_LETTERS {
        let again = engine.recognise(image.as_raw(), loose.as_raw(), image.width(), image.height(), dpi)?;
        if reading_score(&again) > reading_score(&words) {
            return Ok((again, loose));
        }
    }
    Ok((words, layout))
}

/// What a reading gives: letters of Vietnamese syllables and digits, each weighed by the
/// confidence of its word.
fn reading_score(words: &[Word]) -> f32 {
    words
        .iter()
        .filter(|w| w.conf >= MIN_WORD_CONF)
        .map(|w| {
            let digits = w.text.chars().filter(char::is_ascii_digit).count();
            (syllable::letters(&w.text).unwrap_or(0) + digits) as f32 * w.conf / 100.0
        })
        .sum()
}

/// The searchable PDF of `inputs` with the words of `pages`, assembled as the service
/// assembles the copy it seals.
pub fn searchable_pdf(inputs: &[&[u8]], pages: &[PageText], limits: MediaLimits, policy: TextPolicy) -> Result<Vec<u8>, OcrError> {
    Ok(sohoa_protocol::custody::assemble(inputs, pages, limits, policy)?)
}

/// The text of all pages, pages apart by a blank line.
pub fn text(pages: &[PageText]) -> String {
    pages.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("\n\n")
}

fn recognise_page(
    engine: &mut Engine,
    page: &Page,
    number: u32,
    also: &mut impl FnMut(&mut Engine, &Read, u32) -> Result<(), OcrError>,
) -> Result<PageText, OcrError> {
    let (read, orientation) = read_upright(engine, page)?;
    if let Some(read) = &read {
        also(engine, read, number)?;
    }
    let (width, height) = page.gray.dimensions();
    let mut text = PageText {
        quarter_turns: read.as_ref().map_or(0, |r| r.prepared.quarter_turns),
        orientation,
        ..PageText::empty(number, width, height, page.dpi)
    };
    let Some(Read { prepared, layout, dpi, mut words }) = read else { return Ok(text) };
    text.skew = prepared.skew;
    if let Some(dir) = std::env::var_os("SOHOA_OCR_DEBUG_DIR") {
        // what the engine saw, for tuning preprocessing on real scans
        let _ = prepared.image.save(std::path::Path::new(&dir).join(format!("page-{number}.png")));
        let _ = layout.save(std::path::Path::new(&dir).join(format!("page-{number}-layout.png")));
    }
    // lines the layout analysis left out, words read without confidence between words read
    // surely, and an owner's id the page's reading did not give: each read again alone
    let mut read_again = missed::lines(engine, &prepared.image, &layout, dpi, MIN_WORD_CONF, &mut words)?;
    read_again.extend(unsure::lines(engine, &prepared.image, &layout, dpi, MIN_WORD_CONF, &mut words)?);
    let reread = reread::ids(engine, &prepared.image, &layout, dpi, &mut words)?;
    read_again.extend(&reread.replaced);
    read_again.sort_unstable();
    read_again.dedup();
    if prepared.scale < 1.0 {
        // back to the page's own pixels, which the PDF and the desk use
        let up = |v: u32| (v as f32 / prepared.scale).round() as u32;
        for w in &mut words {
            (w.x, w.y, w.w, w.h) = (up(w.x), up(w.y), up(w.w), up(w.h));
        }
    }
    // rounding must not carry a box past the page the service checks it against
    let (up_w, up_h) = if prepared.quarter_turns % 2 == 1 { (height, width) } else { (width, height) };
    for w in &mut words {
        (w.x, w.y) = (w.x.min(up_w - 1), w.y.min(up_h - 1));
        (w.w, w.h) = (w.w.min(up_w - w.x), w.h.min(up_h - w.y));
    }
    let mut vouched = reread::id_lines(&words);
    vouched.extend(&reread.settled);
    let words: Vec<Word> = words
        .into_iter()
        .filter(|w| w.conf >= MIN_WORD_CONF || vouched.contains(&w.line) && w.text.chars().filter(char::is_ascii_digit).count() >= 9)
        .collect();
    let confidence = if words.is_empty() { 0.0 } else { words.iter().map(|w| w.conf).sum::<f32>() / words.len() as f32 };
    if words.len() >= 2 && confidence >= MIN_PAGE_CONF {
        text.confidence = confidence;
        text.no_text = false;
        text.text = engine::text_of(&words);
        text.words = words;
        text.reread = read_again;
    }
    Ok(text)
}
