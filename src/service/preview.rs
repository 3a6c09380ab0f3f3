//! Pages of stored PDFs drawn for a person to look at (the result an official signs, the
//! copy of a scan at the desk): the renderer recognition uses, at a bounded width and size.

use super::{Result, ServiceError};
use crate::archive::Archive;
use crate::domain::Digest;
use crate::intake::MediaLimits;

/// Narrowest and widest preview drawn, in pixels.
pub const MIN_PREVIEW_WIDTH: u32 = 100;
pub const MAX_PREVIEW_WIDTH: u32 = 1600;

/// Page `page` (from 1) of the stored PDF `digest` drawn `width` pixels wide, as PNG.
pub async fn png(archive: &Archive, digest: &Digest, page: u32, width: u32, limits: MediaLimits) -> Result<Vec<u8>> {
    if !(MIN_PREVIEW_WIDTH..=MAX_PREVIEW_WIDTH).contains(&width) {
        let detail = format!("a preview is {MIN_PREVIEW_WIDTH} to {MAX_PREVIEW_WIDTH} pixels wide");
        return Err(ServiceError::Invalid { code: "invalid_width", detail });
    }
    let pdf = archive.get_blob(digest).await?;
    tokio::task::spawn_blocking(move || {
        let count = crate::pdf::page_count(&pdf).map_err(|e| ServiceError::Invalid { code: "pdf_unreadable", detail: e.to_string() })?;
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

/// Each page of the stored PDF `digest` as shown.
pub async fn frames(archive: &Archive, digest: &Digest, limits: MediaLimits) -> Result<Vec<crate::pages::Frame>> {
    let pdf = archive.get_blob(digest).await?;
    tokio::task::spawn_blocking(move || crate::pages::frames(&pdf, limits))
        .await
        .map_err(|e| internal("page reading stopped", e))?
        .map_err(unreadable)
}

fn unreadable(e: crate::pages::PageError) -> ServiceError {
    ServiceError::Invalid { code: e.code(), detail: e.to_string() }
}

fn internal(context: &'static str, detail: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal { context, detail: detail.to_string() }
}
