//! The unsealed copy of a back-file document: its pages, from image files or a range of a
//! PDF's pages, assembled by the same code that assembles a desk scan's copy, with no text
//! layer yet (recognition is a later step) and every page kept as scanned.

use crate::custody::{assemble, CustodyError, PageText, SERVICE_POLICY};
use crate::intake::{load_pdf, MediaError, MediaLimits};
use crate::pages::{self, PageError, Want};

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Page(#[from] PageError),
    #[error(transparent)]
    Custody(#[from] CustodyError),
    #[error("pages name the pages of a PDF file; this file is an image")]
    NotPdf,
    #[error("the PDF has {count} pages, the row names up to page {to}")]
    PagesOutOfRange { count: u32, to: u32 },
    #[error("cannot write the PDF: {0}")]
    Write(String),
    #[error("the copy stopped: {0}")]
    Stopped(String),
}

impl CopyError {
    pub fn code(&self) -> &'static str {
        match self {
            CopyError::Media(e) => e.code(),
            CopyError::Page(e) => e.code(),
            CopyError::Custody(e) => e.code(),
            CopyError::NotPdf => "pages_need_pdf",
            CopyError::PagesOutOfRange { .. } => "pages_out_of_range",
            CopyError::Write(_) => "pdf_write_failed",
            CopyError::Stopped(_) => "internal",
        }
    }
}

/// A document's copy and its number of pages.
pub struct Copy {
    pub pdf: Vec<u8>,
    pub pages: u32,
}

/// The pages of a PDF file.
pub fn page_count(bytes: &[u8]) -> Result<u32, CopyError> {
    if !pages::is_pdf(bytes) {
        return Err(CopyError::NotPdf);
    }
    Ok(load_pdf(bytes)?.get_pages().len() as u32)
}

/// The copy of `inputs` (pages in order across files), or of pages `range` of one PDF file.
pub fn unsealed(inputs: Vec<Vec<u8>>, range: Option<(u32, u32)>, limits: MediaLimits) -> Result<Copy, CopyError> {
    let inputs = match (range, inputs.as_slice()) {
        (Some((from, to)), [pdf]) => vec![pages_of(pdf, from, to)?],
        _ => inputs,
    };
    let mut texts = Vec::new();
    let want = Want { pixels: false, original: false, text: Some(SERVICE_POLICY) };
    for bytes in &inputs {
        pages::for_each(bytes, limits, want, |page| {
            let number = texts.len() as u32 + 1;
            // no words yet: a page keeps the text it carries, an unreadable one stays as it is
            texts.push(match (&page.unread, &page.kept_text) {
                (Some(why), _) => PageText::unread(number, page.width, page.height, page.dpi, why.clone()),
                (None, Some(own)) => PageText::of_own_text(number, page.width, page.height, page.dpi, own),
                (None, None) => PageText::empty(number, page.width, page.height, page.dpi),
            });
            Ok::<_, PageError>(())
        })?;
    }
    let refs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let pdf = assemble(&refs, &texts, limits, SERVICE_POLICY)?;
    Ok(Copy { pdf, pages: texts.len() as u32 })
}

/// Pages `from` to `to` of `pdf`, as a PDF of their own.
fn pages_of(pdf: &[u8], from: u32, to: u32) -> Result<Vec<u8>, CopyError> {
    let mut doc = load_pdf(pdf)?;
    let count = doc.get_pages().len() as u32;
    if to > count {
        return Err(CopyError::PagesOutOfRange { count, to });
    }
    let others: Vec<u32> = (1..=count).filter(|p| *p < from || *p > to).collect();
    doc.delete_pages(&others);
    doc.prune_objects();
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(|e| CopyError::Write(e.to_string()))?;
    Ok(out)
}
