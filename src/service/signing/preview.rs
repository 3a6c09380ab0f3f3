//! What the signing desk shows of a result: the size of each page as shown, with the map back
//! to the page's own coordinates (where a signature box is placed), and a page drawn as a PNG
//! of a bounded width.

use super::Signing;
use crate::index::ResultDoc;
use crate::intake::MediaLimits;
use crate::service::{preview, Result};
use serde::Serialize;

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

impl Signing<'_> {
    /// Each page of the result's current version as shown.
    pub async fn pages(&self, result: &ResultDoc, limits: MediaLimits) -> Result<Vec<PageBox>> {
        let frames = preview::frames(self.archive, &result.digest, limits).await?;
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
        preview::png(self.archive, &result.digest, page, width, limits).await
    }
}
