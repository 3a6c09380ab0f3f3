//! What the desk shows: dossiers, scans and their recognition, the searchable copy,
//! corrections made and the month's figures.

use super::Desk;
use crate::custody::ScanResult;
use crate::domain::desk::{Dossier, DossierFilter, Scan};
use crate::domain::indicators::DossierFacts;
use crate::domain::record::Correction;
use crate::domain::{AgencyCode, DossierCode};
use crate::service::{Result, ServiceError};
use bytes::Bytes;

impl Desk<'_> {
    pub async fn dossier(&self, code: &DossierCode) -> Result<Option<Dossier>> {
        Ok(self.index.dossier(code).await?)
    }

    pub async fn dossiers(&self, filter: &DossierFilter) -> Result<Vec<Dossier>> {
        Ok(self.index.list_dossiers(filter).await?)
    }

    pub async fn scan(&self, id: i64) -> Result<Option<Scan>> {
        Ok(self.index.scan(id).await?)
    }

    /// What recognising scan `id` gave; 409 `scan_not_digitized` before it is recognised.
    pub async fn scan_result(&self, id: i64) -> Result<ScanResult> {
        let result = self.index.scan_result(id).await?.ok_or_else(|| ServiceError::Conflict {
            code: "scan_not_digitized",
            detail: format!("scan {id} has no recognition result yet"),
        })?;
        ScanResult::from_value(result)
            .map_err(|e| ServiceError::Internal { context: "a scan result that does not read", detail: format!("scan {id}: {e}") })
    }

    /// The searchable copy of a recognised scan, re-hashed on the way out: (digest, bytes).
    pub async fn searchable_copy(&self, id: i64, result: &ScanResult) -> Result<(crate::domain::Digest, Bytes)> {
        let digest = result
            .pdf_digest()
            .ok_or_else(|| ServiceError::Internal { context: "scan result without a pdf digest", detail: id.to_string() })?;
        let bytes = self.archive.get_blob(&digest).await?;
        Ok((digest, bytes))
    }

    pub async fn corrections(&self, agency: &AgencyCode, limit: u32) -> Result<Vec<Correction>> {
        Ok(self.index.corrections(agency, limit).await?)
    }

    /// The agency's dossiers received or resolved in `[from_ms, to_ms)`, for Decision 766.
    pub async fn facts(&self, agency: &AgencyCode, from_ms: i64, to_ms: i64) -> Result<Vec<DossierFacts>> {
        Ok(self.index.dossier_facts(agency, from_ms, to_ms).await?)
    }
}
