//! What the signing desk shows of a result: the size of each page as shown, with the map back
//! to the page's own coordinates (where a signature box is placed), and a page drawn as a PNG
//! of a bounded width.

use super::{internal, invalid, Signing};
use crate::index::ResultDoc;
use crate::intake::MediaLimits;
use crate::service::{Result, ServiceError};
use serde::Serialize;

/// Narrowest and widest preview drawn, in pixels.
pub const MIN_PREVIEW_WIDTH: u32 = 100;
pub const MAX_PREVIEW_WIDTH: u32 = 1600;

/// A page as shown, in points.
#[derive(Debug, Clone, Serialize)]
pub struct PageBox {
    pub number: u32,
    pub width: f32,
    pub height: f32,
    /// The affine map `[a b c d e f]` from the page as shown (points, origin bottom left) to
    /// the page's user space, where a signature's `rect` lies.
    pub to_user: [f32; 6],
}

fn unreadable(e: crate::pages::PageError) -> ServiceError {
    invalid(e.code(), e.to_string())
}

impl Signing<'_> {
    /// Each page of the result's current version as shown.
    pub async fn pages(&self, result: &ResultDoc, limits: MediaLimits) -> Result<Vec<PageBox>> {
        let pdf = self.archive.get_blob(&result.digest).await?;
        let frames = tokio::task::spawn_blocking(move || crate::pages::frames(&pdf, limits))
            .await
            .map_err(|e| internal("page reading stopped", e))?
            .map_err(unreadable)?;
        Ok(frames
            .iter()
            .map(|f| {
                let (width, height) = f.shown_size();
                PageBox { number: f.number, width, height, to_user: f.shown_to_user() }
            })
            .collect())
    }

    /// Page `page` (from 1) of the result's current version drawn `width` pixels wide, as PNG.
    pub async fn preview(&self, result: &ResultDoc, page: u32, width: u32, limits: MediaLimits) -> Result<Vec<u8>> {
        if !(MIN_PREVIEW_WIDTH..=MAX_PREVIEW_WIDTH).contains(&width) {
            return Err(invalid("invalid_width", format!("a preview is {MIN_PREVIEW_WIDTH} to {MAX_PREVIEW_WIDTH} pixels wide")));
        }
        let pdf = self.archive.get_blob(&result.digest).await?;
        tokio::task::spawn_blocking(move || {
            let count = crate::pdf::page_count(&pdf).map_err(|e| invalid("pdf_unreadable", e.to_string()))?;
            if page == 0 || page as usize > count {
                return Err(ServiceError::NotFound { code: "page_not_found", detail: format!("page {page} of {count}") });
            }
            let (_, image) = crate::pages::preview(&pdf, page, width, limits).map_err(unreadable)?;
            let mut png = Vec::new();
            image.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).map_err(|e| internal("preview png", e))?;
            Ok(png)
        })
        .await
        .map_err(|e| internal("preview stopped", e))?
    }
}
