//! Documents separated by blank pages: a PDF holding several documents, a blank sheet
//! scanned between each two, is split into page ranges, the blank pages left out. A page is
//! blank as the desk's scan quality gate judges it (`min_marks` on paper no darker than
//! `min_paper`), so the operator's separators and the desk's blank pages are one notion.

use super::copy::CopyError;
use super::sheet::{Row, RowError};
use crate::intake::MediaLimits;
use crate::pages::{self, PageError, Want};
use crate::policy::ScanQuality;
use crate::quality::measure;
use std::collections::HashMap;
use std::path::Path;

/// The page ranges of the documents in `pdf`, in order.
pub fn documents(pdf: &[u8], limits: MediaLimits, quality: &ScanQuality) -> Result<Vec<(u32, u32)>, CopyError> {
    if !pages::is_pdf(pdf) {
        return Err(CopyError::NotPdf);
    }
    let mut blank = Vec::new();
    let want = Want { pixels: true, original: false, text: None };
    pages::for_each(pdf, limits, want, |page| {
        let is_blank = page.pixels.as_ref().is_some_and(|image| {
            let m = measure(image, page.dpi);
            m.paper >= quality.min_paper && m.marks < quality.min_marks
        });
        blank.push(is_blank);
        Ok::<_, PageError>(())
    })?;
    Ok(ranges(&blank))
}

/// Runs of pages that are not blank, numbered from 1.
fn ranges(blank: &[bool]) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in blank.iter().chain([&true]).enumerate() {
        let page = i as u32 + 1;
        match (b, start) {
            (false, None) => start = Some(page),
            (true, Some(from)) => {
                out.push((from, page - 1));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The rows with their PDF split at blank pages: the rows of a sheet that name the same PDF
/// and no pages take its documents in turn; a row with no file of its own (`bare`, a batch
/// without a sheet) becomes one row per document, lines numbered anew in order. Documents no
/// row takes are reported as a refused row of line 0.
pub fn split(
    dir: &Path,
    rows: Vec<Result<Row, RowError>>,
    bare: bool,
    limits: MediaLimits,
    quality: &ScanQuality,
) -> Vec<Result<Row, RowError>> {
    let mut found: HashMap<String, Result<Vec<(u32, u32)>, RowError>> = HashMap::new();
    let mut taken: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for row in rows {
        let Ok(row) = row else {
            out.push(row);
            continue;
        };
        let [file] = row.files.as_slice() else {
            out.push(Ok(row));
            continue;
        };
        if row.pages.is_some() || !file.to_ascii_lowercase().ends_with(".pdf") {
            out.push(Ok(row));
            continue;
        }
        let file = file.clone();
        let docs = found.entry(file.clone()).or_insert_with(|| {
            let refuse = |code: &'static str, detail: String| RowError { line: row.line, file: file.clone(), code, detail };
            let bytes = super::inside(dir, &file)
                .map_err(|e| refuse(e.code(), e.to_string()))
                .and_then(|p| std::fs::read(p).map_err(|e| refuse("file_unreadable", format!("{file}: {e}"))))?;
            documents(&bytes, limits, quality).map_err(|e| refuse(e.code(), format!("{file}: {e}")))
        });
        let docs = match docs {
            Ok(docs) => docs.clone(),
            Err(e) => {
                out.push(Err(RowError { line: row.line, ..e.clone() }));
                continue;
            }
        };
        if bare {
            out.extend(docs.iter().map(|&pages| Ok(Row { pages: Some(pages), ..row.clone() })));
            continue;
        }
        let k = taken.entry(file.clone()).or_default();
        match docs.get(*k) {
            Some(&pages) => out.push(Ok(Row { pages: Some(pages), ..row })),
            None => out.push(Err(RowError {
                line: row.line,
                file: file.clone(),
                code: "separator_no_document",
                detail: format!("{file} holds {} documents between blank pages; this row would take document {}", docs.len(), *k + 1),
            })),
        }
        *k += 1;
    }
    for (file, docs) in &found {
        let (Ok(docs), Some(&k)) = (docs, taken.get(file)) else { continue };
        if docs.len() > k {
            let detail = format!("{file} holds {} documents between blank pages; rows name {k}", docs.len());
            out.push(Err(RowError { line: 0, file: file.clone(), code: "separator_documents_unnamed", detail }));
        }
    }
    if bare {
        for (i, row) in out.iter_mut().enumerate() {
            match row {
                Ok(row) => row.line = i as u32 + 1,
                Err(e) if e.line > 0 => e.line = i as u32 + 1,
                Err(_) => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_between_blank_pages_are_documents_and_blank_pages_are_left_out() {
        assert_eq!(ranges(&[false, false, true, false, true, true, false]), [(1, 2), (4, 4), (7, 7)]);
        assert_eq!(ranges(&[true, false, false]), [(2, 3)]);
        assert_eq!(ranges(&[true, true]), []);
        assert_eq!(ranges(&[]), []);
    }
}
