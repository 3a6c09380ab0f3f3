//! What the scanning desk shows of a recognised scan: each page of its searchable copy (drawn
//! on request by the renderer the signing desk uses) and the fields of the record standing for
//! it, each with the boxes of the words it was read from on those pages as shown.

use super::Desk;
use crate::custody::{ScanResult, ShownBox, ShownPage};
use crate::domain::Digest;
use crate::index::Scan;
use crate::service::{preview, Result, ServiceError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The pages of a scan's copy and where its record's fields lie on them.
#[derive(Debug, Clone, Serialize)]
pub struct ScanPages {
    /// The record now standing for the scan; none before it is sealed.
    pub record: Option<String>,
    pub pages: Vec<PageSize>,
    pub fields: Vec<ShownField>,
}

/// A page of the copy as shown, in points.
#[derive(Debug, Clone, Serialize)]
pub struct PageSize {
    pub page: u32,
    pub width: f32,
    pub height: f32,
}

/// A field of the record and the boxes, in fractions of the page as shown, of the words it
/// was read from (none for a value read from text alone or added by the desk).
#[derive(Debug, Clone, Serialize)]
pub struct ShownField {
    pub name: String,
    pub value: String,
    /// Given by the desk rather than read by the machine.
    pub corrected: bool,
    pub boxes: Vec<ShownBox>,
}

/// A field as the record's summary keeps it.
#[derive(Deserialize)]
struct StoredField {
    value: String,
    #[serde(default)]
    corrected: bool,
    #[serde(default)]
    boxes: Vec<StoredBox>,
}

/// A word's box in the pixels of its page turned upright and deskewed.
#[derive(Deserialize)]
struct StoredBox {
    page: u32,
    x: u32,
    y: u32,
    w: u32,
    h: u32,
}

impl Desk<'_> {
    /// The pages of the recognised `scan`'s copy and its record's fields upon them.
    pub async fn scan_pages(&self, scan: &Scan, result: &ScanResult) -> Result<ScanPages> {
        let frames = preview::frames(self.archive, &copy_of(scan, result)?, self.media_limits).await?;
        let pages = frames
            .iter()
            .map(|f| {
                let (width, height) = f.shown_size();
                PageSize { page: f.number, width, height }
            })
            .collect();
        let record = self.latest_record(scan.id).await?;
        let stored: BTreeMap<String, Value> =
            record.as_ref().and_then(|r| r.summary.get("fields")).and_then(|f| serde_json::from_value(f.clone()).ok()).unwrap_or_default();
        // the copy of a PDF scan keeps its pages as scanned; an image's is drawn upright
        let shown = if scan.media_type == "application/pdf" { ShownPage::AsScanned } else { ShownPage::Upright };
        let fields = stored
            .into_iter()
            .filter_map(|(name, field)| {
                let field: StoredField = serde_json::from_value(field).ok()?;
                let boxes = field
                    .boxes
                    .iter()
                    .filter_map(|b| result.pages.iter().find(|p| p.page == b.page)?.shown_box(b.x, b.y, b.w, b.h, shown))
                    .collect();
                Some(ShownField { name, value: field.value, corrected: field.corrected, boxes })
            })
            .collect();
        Ok(ScanPages { record: record.map(|r| r.id), pages, fields })
    }

    /// Page `page` (from 1) of the recognised `scan`'s copy drawn `width` pixels wide, as PNG.
    pub async fn scan_preview(&self, scan: &Scan, result: &ScanResult, page: u32, width: u32) -> Result<Vec<u8>> {
        preview::png(self.archive, &copy_of(scan, result)?, page, width, self.media_limits).await
    }
}

fn copy_of(scan: &Scan, result: &ScanResult) -> Result<Digest> {
    result.pdf_digest().ok_or_else(|| ServiceError::Internal { context: "scan result without a copy", detail: scan.id.to_string() })
}
