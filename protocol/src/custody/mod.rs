//! Chain of custody from scan to seal. A worker reads the stored scan and reports what it
//! recognised: the words and where they lie, nothing else. The service assembles the
//! searchable copy itself, from the stored scan's own page images and those words, so the
//! copy it seals shows exactly the pages that were uploaded and carries exactly the text it
//! classifies. A report that does not fit the scan (other pages, other sizes, words off
//! the page, a text that is not its words) is refused as `output_mismatch`.

mod searchable;
mod shown;

use crate::domain::hidden_character;
use crate::intake::{MediaError, MediaLimits};
use crate::pages::{self, Original, PageError, Want};
use serde::{Deserialize, Serialize};

pub use crate::pages::TextPolicy;
use searchable::{PageRead, Writer};
pub use shown::{ShownBox, ShownPage};

/// What the service does with a PDF page that carries text when it assembles a copy: an
/// uploader's invisible layer is replaced, visible text kept. Workers read pages so too.
pub const SERVICE_POLICY: TextPolicy = TextPolicy::Redo;

/// A recognised word: its text (NFC), confidence 0-100 and box in the pixels of its page
/// turned upright and deskewed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Word {
    pub text: String,
    pub conf: f32,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// Line number on the page, in reading order, for rebuilding lines.
    pub line: u32,
}

/// What recognition found on one page, in the page's original pixel coordinates turned
/// upright and deskewed as `quarter_turns` and `skew` say.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PageText {
    pub page: u32,
    pub width: u32,
    pub height: u32,
    pub dpi: f32,
    /// Clockwise quarter turns applied to make the page upright.
    pub quarter_turns: u8,
    /// Skew removed, in degrees.
    pub skew: f32,
    /// Mean word confidence, 0-100.
    pub confidence: f32,
    /// True when the page holds no recognisable text (blank paper, a photo).
    pub no_text: bool,
    pub text: String,
    pub words: Vec<Word>,
    /// How `quarter_turns` was decided, and on what evidence; results from before it was
    /// recorded read as `unrecorded`.
    #[serde(default)]
    pub orientation: Orientation,
    /// Where the words come from: recognised from the pixels, or read from the text the
    /// PDF page already carries.
    #[serde(default, skip_serializing_if = "TextSource::is_recognised")]
    pub source: TextSource,
    /// Why the page could not be read (`code: message`), when the rest of its file could;
    /// such a page has no words and is kept in the copy as it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unread: Option<String>,
    /// Lines (`words[].line`) with words from a second reading of a strip of the page
    /// alone, one line in Tesseract's single-line mode: after an owner's id label (the first
    /// reading gave no valid id there, the second did), a word the first reading gave
    /// without confidence between words it was sure of, or a line of letters its layout
    /// analysis left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reread: Vec<u32>,
}

/// Where a page's words come from.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TextSource {
    #[default]
    Recognised,
    /// The page's own text, kept: read from its content, not recognised again.
    Page,
}

impl TextSource {
    fn is_recognised(&self) -> bool {
        *self == TextSource::Recognised
    }
}

impl PageText {
    /// Page `number` (`width` x `height` at `dpi`) with no words yet, as scanned.
    pub fn empty(number: u32, width: u32, height: u32, dpi: f32) -> PageText {
        PageText {
            page: number,
            width,
            height,
            dpi,
            quarter_turns: 0,
            skew: 0.0,
            confidence: 0.0,
            no_text: true,
            text: String::new(),
            words: Vec::new(),
            orientation: Orientation::default(),
            source: TextSource::Recognised,
            unread: None,
            reread: Vec::new(),
        }
    }

    /// Page `number`, whose words are the text it carries.
    pub fn of_own_text(number: u32, width: u32, height: u32, dpi: f32, shown: &[pages::ShownWord]) -> PageText {
        let words: Vec<Word> =
            shown.iter().map(|w| Word { text: w.text.clone(), conf: 100.0, x: w.x, y: w.y, w: w.w, h: w.h, line: w.line }).collect();
        PageText {
            confidence: if words.is_empty() { 0.0 } else { 100.0 },
            no_text: words.is_empty(),
            text: text_of(&words),
            words,
            orientation: Orientation { method: OrientationMethod::Text, ..Orientation::default() },
            source: TextSource::Page,
            ..PageText::empty(number, width, height, dpi)
        }
    }

    /// Page `number`, which cannot be read for `why`.
    pub fn unread(number: u32, width: u32, height: u32, dpi: f32, why: String) -> PageText {
        PageText { unread: Some(why), ..PageText::empty(number, width, height, dpi) }
    }
}

/// The evidence for a page's orientation. The line geometry of the page suggests a turn;
/// a suggested turn is applied only when lines read in that orientation beat the page as
/// scanned by a clear margin, so an upright page is never turned on weak evidence.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Orientation {
    pub method: OrientationMethod,
    /// Clockwise quarter turns the line geometry suggested (0 to 3).
    pub suggested: u8,
    /// Each orientation tried and its reading score (letters of well-formed Vietnamese
    /// syllables, weighted by the engine's confidence); empty when nothing was read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub readings: Vec<Reading>,
}

/// The reading of a sample of the page in one orientation.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Reading {
    /// Clockwise quarter turns from the page as scanned.
    pub turns: u8,
    pub score: f32,
}

/// What decided a page's orientation.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OrientationMethod {
    /// Recognised before the evidence was recorded.
    #[default]
    Unrecorded,
    /// Blank paper: left as scanned.
    Blank,
    /// Text lines run along the rows and read upright as scanned: no turn suggested.
    Lines,
    /// Decided by reading: a suggested turn kept as scanned because the page reads as text
    /// so, or the orientations read (after a suggested turn, or for a page the lines took for
    /// upright whose reading was not text) and the best won by the margin, or none did and the
    /// page was left as scanned.
    Reading,
    /// A PDF page read from its own text, shown as its /Rotate says: never turned.
    Text,
}

/// The recognition engine a worker ran, as it reports it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EngineInfo {
    pub name: String,
    pub version: String,
    pub language: String,
    /// SHA-256 of the language model file.
    pub model: String,
}

/// What a worker stores as the output of an `ocr` job (`POST /jobs/{id}/output`), in JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recognition {
    /// Digest (`sha256:<hex>`) of the scan the worker read.
    pub input: String,
    pub engine: EngineInfo,
    pub pages: Vec<PageText>,
    /// The entries of register pages, when the job's payload asked for them
    /// (`OcrPayload.register`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<Vec<crate::register::Entry>>,
}

/// Skew a worker may report: deskewing straightens scans, it does not turn them.
const MAX_SKEW: f32 = 45.0;
/// Words on one page, far above any printed page.
const MAX_WORDS: usize = 50_000;

#[derive(Debug, thiserror::Error)]
pub enum CustodyError {
    #[error(transparent)]
    Page(#[from] PageError),
    #[error("the recognition does not fit the scan: {0}")]
    Mismatch(String),
    #[error("cannot write the PDF: {0}")]
    Write(String),
}

impl CustodyError {
    pub fn code(&self) -> &'static str {
        match self {
            CustodyError::Page(e) => e.code(),
            CustodyError::Mismatch(_) => "output_mismatch",
            CustodyError::Write(_) => "pdf_write_failed",
        }
    }
}

impl From<MediaError> for CustodyError {
    fn from(e: MediaError) -> Self {
        CustodyError::Page(e.into())
    }
}

/// The text of a page as its words give it: words of a line joined by spaces, lines by
/// newlines. The service classifies this text, so it is the text layer's, nothing else.
pub fn text_of(words: &[Word]) -> String {
    let mut text = String::new();
    for (i, word) in words.iter().enumerate() {
        if i > 0 {
            text.push(if words[i - 1].line == word.line { ' ' } else { '\n' });
        }
        text.push_str(&word.text);
    }
    text
}

/// The searchable copy of the scan `inputs` (pages in order, across inputs) with the words
/// of `pages` as its invisible text layer. Every page image is the scan's own; the pages
/// must be the scan's, one for one, each as large as its image, with its words inside it
/// and its text the words' text.
/// A PDF page that already carries text is treated as `policy` says.
pub fn assemble(inputs: &[&[u8]], pages: &[PageText], limits: MediaLimits, policy: TextPolicy) -> Result<Vec<u8>, CustodyError> {
    let mut writer = Writer::new();
    let mut number = 0usize;
    for bytes in inputs {
        let imported = if pages::is_pdf(bytes) { Some(writer.import(crate::intake::load_pdf(bytes)?)) } else { None };
        let want = Want { pixels: policy == TextPolicy::Force && imported.is_some(), original: true, text: Some(policy) };
        pages::for_each(bytes, limits, want, |page| {
            number += 1;
            let text =
                pages.get(number - 1).ok_or_else(|| mismatch(format!("the scan has more pages than the {} recognised", pages.len())))?;
            check_page(text, number, page.width, page.height)?;
            check_source(text, number, &page)?;
            let original = page.original.ok_or_else(|| CustodyError::Write(format!("page {number} has no image to embed")))?;
            let added = match (original, &imported) {
                (Original::Pdf(frame), Some(imported)) => {
                    let raster = page.pixels.as_ref().map(Original::from_image);
                    let read = PageRead { text, width: page.width, height: page.height, dpi: page.dpi };
                    writer.add_pdf_page(imported, frame, read, policy, raster)
                }
                (original, _) => writer.add_page(original, page.width, page.height, text, page.dpi),
            };
            added.map_err(|e| CustodyError::Write(e.to_string()))
        })?;
    }
    if number != pages.len() {
        return Err(mismatch(format!("{} pages recognised, the scan has {number}", pages.len())));
    }
    writer.finish().map_err(|e| CustodyError::Write(e.to_string()))
}

fn mismatch(why: String) -> CustodyError {
    CustodyError::Mismatch(why)
}

/// A page that keeps its own text must be reported with exactly that text, read again
/// here; any other page must be recognised.
fn check_source(text: &PageText, number: usize, page: &pages::Page) -> Result<(), CustodyError> {
    match (&page.unread, &text.unread) {
        (Some(ours), Some(theirs)) if ours == theirs && text.words.is_empty() && text.source == TextSource::Recognised => return Ok(()),
        (None, None) => {}
        _ => return Err(mismatch(format!("page {number}: said to be read or not read other than the page is"))),
    }
    match (&page.kept_text, text.source) {
        (Some(own), _) => {
            let expected = PageText::of_own_text(number as u32, page.width, page.height, page.dpi, own);
            if text.source != TextSource::Page || text.words != expected.words || text.quarter_turns != 0 || text.skew != 0.0 {
                return Err(mismatch(format!("page {number}: its words are not the text the page carries")));
            }
            Ok(())
        }
        (None, TextSource::Page) => {
            Err(mismatch(format!("page {number}: reported as read from the page's own text, which it does not keep")))
        }
        (None, TextSource::Recognised) => Ok(()),
    }
}

/// Whether `text` can be page `number` of the scan, whose image is `width` x `height`.
fn check_page(text: &PageText, number: usize, width: u32, height: u32) -> Result<(), CustodyError> {
    let at = |why: String| mismatch(format!("page {number}: {why}"));
    if text.page as usize != number {
        return Err(at(format!("reported as page {}", text.page)));
    }
    if (text.width, text.height) != (width, height) {
        return Err(at(format!("recognised at {}x{}, the scan's image is {width}x{height}", text.width, text.height)));
    }
    if text.quarter_turns > 3 || !text.skew.is_finite() || text.skew.abs() > MAX_SKEW {
        return Err(at(format!("turned by {} quarters and {} degrees", text.quarter_turns, text.skew)));
    }
    if text.words.len() > MAX_WORDS {
        return Err(at(format!("{} words", text.words.len())));
    }
    let (up_w, up_h) = if text.quarter_turns % 2 == 1 { (height, width) } else { (width, height) };
    let outside = text.words.iter().find(|w| {
        w.text.is_empty()
            || w.text.contains(['\t', '\n', '\r'])
            || hidden_character(&w.text).is_some()
            || w.x.saturating_add(w.w) > up_w
            || w.y.saturating_add(w.h) > up_h
    });
    if let Some(word) = outside {
        return Err(at(format!(
            "the word {:?} at {},{} ({}x{}) is not a word on the {up_w}x{up_h} page",
            word.text, word.x, word.y, word.w, word.h
        )));
    }
    if text.text != text_of(&text.words) {
        return Err(at("its text is not the text of its words".into()));
    }
    if text.no_text && !text.words.is_empty() {
        return Err(at("said to hold no text, with words".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(words: Vec<Word>) -> PageText {
        PageText {
            page: 1,
            width: 100,
            height: 50,
            dpi: 300.0,
            quarter_turns: 0,
            skew: 0.0,
            confidence: 90.0,
            no_text: words.is_empty(),
            text: text_of(&words),
            words,
            orientation: Orientation::default(),
            source: TextSource::Recognised,
            unread: None,
            reread: Vec::new(),
        }
    }

    fn word(text: &str, x: u32, line: u32) -> Word {
        Word { text: text.into(), conf: 90.0, x, y: 10 * line, w: 20, h: 8, line }
    }

    #[test]
    fn a_result_from_before_orientation_evidence_still_reads() {
        let mut json = serde_json::to_value(page(vec![word("Số", 0, 0)])).unwrap();
        assert_eq!(json["orientation"]["method"], "unrecorded");
        json.as_object_mut().unwrap().remove("orientation");
        let old: PageText = serde_json::from_value(json).unwrap();
        assert_eq!(old.orientation, Orientation::default());
        let checked = Orientation { method: OrientationMethod::Reading, suggested: 2, readings: vec![Reading { turns: 0, score: 150.0 }] };
        let json = serde_json::to_value(PageText { orientation: checked.clone(), ..old }).unwrap();
        assert_eq!(json["orientation"]["readings"][0]["score"], 150.0);
        assert_eq!(serde_json::from_value::<PageText>(json).unwrap().orientation, checked);
    }

    #[test]
    fn a_page_fits_its_image_only_as_read() {
        let good = page(vec![word("Số", 0, 0), word("định", 30, 0), word("danh", 0, 1)]);
        assert_eq!(good.text, "Số định\ndanh");
        assert!(check_page(&good, 1, 100, 50).is_ok());
        assert!(check_page(&good, 2, 100, 50).is_err(), "another page number");
        assert!(check_page(&good, 1, 50, 100).is_err(), "another image size");
        let mut sideways = good.clone();
        sideways.quarter_turns = 1;
        assert!(check_page(&sideways, 1, 50, 100).is_err(), "turned, its width is the image's height");
        sideways.width = 50;
        sideways.height = 100;
        assert!(check_page(&sideways, 1, 50, 100).is_ok(), "a word box 10..30 fits the 100x50 upright page");
        let mut lying = good.clone();
        lying.text = "Số định\ndanh 001099000001".into();
        assert_eq!(check_page(&lying, 1, 100, 50).unwrap_err().code(), "output_mismatch");
        let off = page(vec![word("Số", 90, 0)]);
        assert!(check_page(&off, 1, 100, 50).is_err(), "a word past the right edge");
        let mut skewed = good;
        skewed.skew = f32::NAN;
        assert!(check_page(&skewed, 1, 100, 50).is_err());
    }

    const TEXT_PAGE: &[u8] = include_bytes!("../../../tests/vectors/scanned/text-layer.pdf");
    const LIMITS: MediaLimits = MediaLimits { max_pixels: 40_000_000, max_pages: 10, max_scan_pixels: u64::MAX };

    /// What the page reader keeps of the one page of `pdf` under `policy`.
    fn own_text(pdf: &[u8], policy: TextPolicy) -> PageText {
        let mut found = None;
        pages::for_each(pdf, LIMITS, Want { pixels: false, original: false, text: Some(policy) }, |p| {
            found = Some(PageText::of_own_text(1, p.width, p.height, p.dpi, p.kept_text.as_deref().unwrap_or_default()));
            Ok::<_, PageError>(())
        })
        .unwrap();
        found.unwrap()
    }

    #[test]
    fn a_page_that_keeps_its_text_must_be_reported_with_that_text() {
        let own = own_text(TEXT_PAGE, SERVICE_POLICY);
        assert_eq!(own.source, TextSource::Page);
        assert!(own.text.starts_with("THÔNG BÁO KẾT QUẢ GIẢI QUYẾT\nHồ sơ của ông Phan Văn Trị"), "{}", own.text);
        assert!(assemble(&[TEXT_PAGE], std::slice::from_ref(&own), LIMITS, SERVICE_POLICY).is_ok());

        // the same words claimed as recognised, another word, a turned page: refused
        let recognised = PageText { source: TextSource::Recognised, ..own.clone() };
        let mut other = own.clone();
        other.words[1].text = "BẢN".into();
        other.text = text_of(&other.words);
        let turned = PageText { quarter_turns: 2, ..own.clone() };
        for (lie, why) in [(recognised, "recognised"), (other, "a word changed"), (turned, "turned")] {
            let e = assemble(&[TEXT_PAGE], &[lie], LIMITS, SERVICE_POLICY).unwrap_err();
            assert_eq!(e.code(), "output_mismatch", "{why}: {e}");
        }
        // forced, the page is recognised: its own text is no answer
        assert_eq!(assemble(&[TEXT_PAGE], &[own], LIMITS, TextPolicy::Force).unwrap_err().code(), "output_mismatch");
    }
}
