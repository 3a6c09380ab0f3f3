//! Where an official's signature shows on a result and what it looks like.

use super::invalid;
use crate::pdf::Appearance;
use crate::service::Result;
use crate::sign::SignOptions;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The visible signature box: bottom right of the page, above the margin (points).
const BOX: (f32, f32, f32) = (230.0, 90.0, 56.0);

/// Where and how the signature shows, as asked; kept with a deferred session so the same
/// field is prepared again when the signature comes back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    /// Page number, 1-based; the last page by default.
    pub page: Option<u32>,
    /// `[x, y, width, height]` in points from the bottom left; bottom right by default.
    pub rect: Option<[f32; 4]>,
    pub reason: Option<String>,
    pub location: Option<String>,
}

/// The signature field spec, resolved against the document.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    page: u32,
    rect: [f32; 4],
    reason: Option<String>,
    location: Option<String>,
    signing_time: DateTime<FixedOffset>,
    /// The public verification page the appearance's QR code and short id lead to.
    #[serde(default)]
    link: Option<String>,
}

impl Placement {
    /// The field on `pdf`: on one of its pages, inside it.
    pub fn resolve(self, pdf: &[u8], signing_time: DateTime<FixedOffset>, link: String) -> Result<Spec> {
        let text_ok = |t: &Option<String>| t.as_ref().is_none_or(|t| t.chars().count() <= 200);
        if !text_ok(&self.reason) || !text_ok(&self.location) {
            return Err(invalid("invalid_request", "reason and location have at most 200 characters"));
        }
        let count = crate::pdf::page_count(pdf).map_err(|e| invalid("pdf_unreadable", e.to_string()))? as u32;
        let page = self.page.unwrap_or(count);
        let (width, height) = crate::pdf::page_size(pdf, page).map_err(|_| invalid("invalid_page", format!("page {page} of {count}")))?;
        let rect = match self.rect {
            Some([x, y, w, h]) => {
                let inside = [x, y, w, h].iter().all(|v| v.is_finite()) && x >= 0.0 && y >= 0.0 && w >= 20.0 && h >= 10.0;
                if !inside || x + w > width || y + h > height {
                    return Err(invalid("invalid_rect", format!("the box must lie on the {width}x{height} page")));
                }
                [x, y, x + w, y + h]
            }
            None => {
                let (w, h, margin) = BOX;
                let x2 = (width - margin).max(w);
                [x2 - w, margin.min(height - h).max(0.0), x2, margin.min(height - h).max(0.0) + h]
            }
        };
        Ok(Spec { page, rect, reason: self.reason, location: self.location, signing_time, link: Some(link) })
    }
}

impl Spec {
    /// The visible signature: the official's image when one is held (`<label>.png`), with the
    /// agency's red seal (`seal.png` in the officials' directory) over its left third, and the
    /// QR code of the result's public verification page at the right.
    pub(super) fn options(&self, officials_dir: &Path, certificate: &[u8], image: Option<Vec<u8>>) -> Result<SignOptions> {
        let seal = std::fs::read(officials_dir.join("seal.png")).ok();
        let appearance = Appearance::for_signer(self.rect, certificate, self.signing_time, image)
            .map_err(|e| invalid("invalid_certificate", e.to_string()))?
            .with_seal(seal)
            .with_link(self.link.clone());
        Ok(SignOptions {
            page: self.page,
            appearance: Some(appearance),
            reason: self.reason.clone(),
            location: self.location.clone(),
            signing_time: self.signing_time,
            timestamp: false,
            certify: None,
        })
    }
}
