//! PDF helpers for signing: a signature field with a `/Contents` placeholder written as an
//! incremental update, the byte ranges it covers, and reading signatures back. Signing and
//! verifying read the file lazily ([`PdfFile`]): the cross-reference chain and the few
//! objects they touch, never the page content.

mod appearance;
pub mod dss;
mod field;
mod file;
mod font;
mod read;
mod syntax;
mod update;
mod xref;

pub use appearance::{Appearance, AppearanceText};
pub use field::{prepare, FieldSpec, Prepared};
pub use file::{PdfFile, Revision};
pub(crate) use read::decode_text;
pub use read::{load, revision_end, signatures, FieldLock, SignatureEntry};

use std::io::Cursor;

/// Number of pages of the PDF in `pdf`.
pub fn page_count(pdf: &[u8]) -> Result<usize, PdfError> {
    let file = PdfFile::open(Cursor::new(pdf))?;
    Ok(read::pages(&file.latest()?)?.len())
}

/// Width and height in points of page `page` (1-based), from its (inherited) `/MediaBox`.
pub fn page_size(pdf: &[u8], page: u32) -> Result<(f32, f32), PdfError> {
    let file = PdfFile::open(Cursor::new(pdf))?;
    read::page_size(&file.latest()?, page)
}

/// The visible area of page `page` (1-based) as `[x1 y1 x2 y2]` in page space: its (inherited)
/// `/CropBox` cut to its `/MediaBox`, else the `/MediaBox`; it need not start at the origin.
pub fn crop_box(pdf: &[u8], page: u32) -> Result<[f32; 4], PdfError> {
    let file = PdfFile::open(Cursor::new(pdf))?;
    let rev = file.latest()?;
    read::crop_box(&rev, read::page_id(&rev, page)?, page)
}

/// Object numbers in use in `older` (an earlier revision) that `newer` places elsewhere or
/// frees: the only objects whose bytes may differ between the two.
pub(crate) fn changed_since<R: std::io::Read + std::io::Seek>(newer: &Revision<R>, older: &Revision<R>) -> Vec<u32> {
    newer.xref().changed_since(older.xref())
}

/// Object numbers that `older` marks free and `newer` puts back in use.
pub(crate) fn reused_since<R: std::io::Read + std::io::Seek>(newer: &Revision<R>, older: &Revision<R>) -> Vec<u32> {
    newer.xref().reused_since(older.xref())
}

/// Largest PDF sohoa signs or verifies (1 GiB), so offsets fit in the 10-digit ByteRange slots.
pub const MAX_PDF_BYTES: usize = 1 << 30;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("cannot parse the PDF: {0}")]
    Parse(String),
    #[error("the PDF is encrypted; sohoa signs and verifies only unencrypted PDFs")]
    Encrypted,
    #[error("the PDF has no page {page} (it has {count})")]
    NoSuchPage { page: u32, count: usize },
    #[error("malformed PDF structure: {0}")]
    Structure(String),
    #[error("the signature needs {needed} bytes but the placeholder holds {room}")]
    ContentsTooSmall { needed: usize, room: usize },
    #[error("the PDF is larger than {MAX_PDF_BYTES} bytes")]
    TooLarge,
    #[error("appearance: {0}")]
    Appearance(String),
    #[error("cannot read the PDF: {0}")]
    Read(String),
    #[error("{0}")]
    Forbidden(String),
}

impl PdfError {
    /// Stable machine code for APIs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            PdfError::Parse(_) => "pdf_unreadable",
            PdfError::Encrypted => "pdf_encrypted",
            PdfError::NoSuchPage { .. } => "pdf_no_such_page",
            PdfError::Structure(_) => "pdf_malformed",
            PdfError::ContentsTooSmall { .. } => "signature_too_large",
            PdfError::TooLarge => "pdf_too_large",
            PdfError::Appearance(_) => "appearance_invalid",
            PdfError::Read(_) => "file_unreadable",
            PdfError::Forbidden(_) => "certification_forbids",
        }
    }
}

/// A PDF date string in Vietnam time, e.g. `D:20261124093000+07'00'`.
pub fn pdf_date(t: chrono::DateTime<chrono::FixedOffset>) -> String {
    let off = t.offset().local_minus_utc();
    let sign = if off < 0 { '-' } else { '+' };
    let off = off.abs();
    format!("D:{}{}{:02}'{:02}'", t.format("%Y%m%d%H%M%S"), sign, off / 3600, (off % 3600) / 60)
}

/// Parses a PDF date (`D:YYYYMMDDHHmmSS+HH'mm'`, trailing parts optional) into UTC.
pub fn parse_pdf_date(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() < 4 {
        return None;
    }
    let field = |from: usize, len: usize, default: u32| -> Option<u32> {
        if digits.len() >= from + len {
            digits[from..from + len].parse().ok()
        } else {
            Some(default)
        }
    };
    let year: i32 = digits[0..4].parse().ok()?;
    let (mo, d, h, mi, se) = (field(4, 2, 1)?, field(6, 2, 1)?, field(8, 2, 0)?, field(10, 2, 0)?, field(12, 2, 0)?);
    let rest = &s[digits.len()..];
    let offset_secs = match rest.chars().next() {
        Some(c @ ('+' | '-')) => {
            let nums: Vec<i32> =
                rest[1..].split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty()).filter_map(|p| p.parse().ok()).collect();
            let secs = nums.first().copied().unwrap_or(0) * 3600 + nums.get(1).copied().unwrap_or(0) * 60;
            if c == '-' {
                -secs
            } else {
                secs
            }
        }
        _ => 0,
    };
    let offset = chrono::FixedOffset::east_opt(offset_secs)?;
    let naive = chrono::NaiveDate::from_ymd_opt(year, mo, d)?.and_hms_opt(h, mi, se)?;
    Some(naive.and_local_timezone(offset).single()?.with_timezone(&chrono::Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_round_trip_with_the_vietnam_offset() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-24T09:30:00+07:00").unwrap();
        assert_eq!(pdf_date(t), "D:20261124093000+07'00'");
        assert_eq!(parse_pdf_date("D:20261124093000+07'00'").unwrap().to_rfc3339(), "2026-11-24T02:30:00+00:00");
        assert_eq!(parse_pdf_date("D:20261124093000Z").unwrap().to_rfc3339(), "2026-11-24T09:30:00+00:00");
        assert!(parse_pdf_date("garbage").is_none());
        assert!(parse_pdf_date("D:2026139").is_none());
    }
}
