//! Scans to searchable PDFs: decode, preprocess, recognise with Tesseract, and lay the
//! recognised words as invisible text over the original page images.

mod engine;
mod input;
mod pdf;
mod pdf_input;
mod prep;

pub use engine::{Engine, EngineError, Word};
pub use input::{pages, Page};
pub use prep::rotate;
use serde::Serialize;
use sohoa::intake::{MediaError, MediaLimits};

/// Words below this confidence are noise (specks, stamps, photos), not text.
const MIN_WORD_CONF: f32 = 20.0;
/// A page whose kept words average below this says it has no text.
const MIN_PAGE_CONF: f32 = 40.0;

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("a {width}x{height} image is too small to hold text")]
    TooSmall { width: u32, height: u32 },
    #[error("page {page} of the PDF has no image")]
    PdfPageWithoutImage { page: u32 },
    #[error("page {page} of the PDF holds an image this worker cannot read: {what}")]
    UnsupportedPdfImage { page: u32, what: String },
    #[error("compressed image data expands past {limit} bytes")]
    Bomb { limit: usize },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("cannot write the PDF: {0}")]
    Pdf(String),
}

impl OcrError {
    /// Stable machine code, shown on the component when a job fails.
    pub fn code(&self) -> &'static str {
        match self {
            OcrError::Media(e) => e.code(),
            OcrError::TooSmall { .. } => "image_too_small",
            OcrError::PdfPageWithoutImage { .. } => "pdf_page_without_image",
            OcrError::UnsupportedPdfImage { .. } => "unsupported_pdf_image",
            OcrError::Bomb { .. } => "decompression_bomb",
            OcrError::Engine(EngineError::Init(_)) => "ocr_engine_unavailable",
            OcrError::Engine(EngineError::Page(_)) => "ocr_failed",
            OcrError::Pdf(_) => "pdf_write_failed",
        }
    }

    /// Whether another try could succeed: bad input never does.
    pub fn permanent(&self) -> bool {
        !matches!(self, OcrError::Engine(EngineError::Init(_)) | OcrError::Pdf(_))
    }
}

/// What recognition found on one page, in the page's original pixel coordinates turned
/// upright and deskewed as `quarter_turns` and `skew` say.
#[derive(Debug, Clone, Serialize)]
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
}

/// A searchable PDF and the text of each page.
pub struct Recognised {
    pub pdf: Vec<u8>,
    pub pages: Vec<PageText>,
}

impl Recognised {
    pub fn text(&self) -> String {
        self.pages.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("\n\n")
    }
}

/// Recognises every page of every input and writes one PDF holding them all.
pub fn recognise(engine: &mut Engine, inputs: &[&[u8]], limits: MediaLimits) -> Result<Recognised, OcrError> {
    let mut writer = pdf::Writer::new();
    let mut pages = Vec::new();
    for bytes in inputs {
        for page in input::pages(bytes, limits)? {
            let number = pages.len() as u32 + 1;
            if number > limits.max_pages {
                return Err(MediaError::TooManyPages { pages: number, limit: limits.max_pages }.into());
            }
            let text = recognise_page(engine, &page, number)?;
            writer.add_page(page.original, &text).map_err(|e| OcrError::Pdf(e.to_string()))?;
            pages.push(text);
        }
    }
    let pdf = writer.finish().map_err(|e| OcrError::Pdf(e.to_string()))?;
    Ok(Recognised { pdf, pages })
}

fn recognise_page(engine: &mut Engine, page: &Page, number: u32) -> Result<PageText, OcrError> {
    let prepared = prep::prepare(&page.gray, page.dpi);
    let (width, height) = page.gray.dimensions();
    let mut text = PageText {
        page: number,
        width,
        height,
        dpi: page.dpi,
        quarter_turns: prepared.quarter_turns,
        skew: prepared.skew,
        confidence: 0.0,
        no_text: true,
        text: String::new(),
        words: Vec::new(),
    };
    if prepared.blank {
        return Ok(text);
    }
    let image = &prepared.image;
    if let Some(dir) = std::env::var_os("SOHOA_OCR_DEBUG_DIR") {
        // what the engine saw, for tuning preprocessing on real scans
        let _ = image.save(std::path::Path::new(&dir).join(format!("page-{number}.png")));
    }
    let read_dpi = (page.dpi * prepared.scale).round() as u32;
    let layout = prep::layout(image, read_dpi);
    let mut words = engine.recognise(image.as_raw(), layout.as_raw(), image.width(), image.height(), read_dpi)?;
    if prepared.scale < 1.0 {
        // back to the page's own pixels, which the PDF and the desk use
        let up = |v: u32| (v as f32 / prepared.scale).round() as u32;
        for w in &mut words {
            (w.x, w.y, w.w, w.h) = (up(w.x), up(w.y), up(w.w), up(w.h));
        }
    }
    let words: Vec<Word> = words.into_iter().filter(|w| w.conf >= MIN_WORD_CONF).collect();
    let confidence = if words.is_empty() { 0.0 } else { words.iter().map(|w| w.conf).sum::<f32>() / words.len() as f32 };
    if words.len() >= 2 && confidence >= MIN_PAGE_CONF {
        text.confidence = confidence;
        text.no_text = false;
        text.text = engine::text_of(&words);
        text.words = words;
    }
    Ok(text)
}
