//! Scan upload: sniff, check limits, measure the pages' quality, store content-addressed,
//! queue the OCR job.

use super::Desk;
use crate::domain::Digest;
use crate::index::{Actor, AuditEntry, Dossier, IndexError, NewScan, Scan};
use crate::intake::{self, MediaError};
use crate::quality;
use crate::queue::JobKind;
use crate::service::{Result, ServiceError};
use bytes::Bytes;
use serde_json::json;

/// An upload as stored, or the first one of the same idempotency key.
pub struct Upload {
    pub scan: Scan,
    pub replayed: bool,
}

fn media_error(e: MediaError) -> ServiceError {
    match e {
        MediaError::Unsupported => ServiceError::Unsupported { code: e.code(), detail: e.to_string() },
        _ => ServiceError::Invalid { code: e.code(), detail: e.to_string() },
    }
}

/// The same key again: the same answer if it is the same upload, an error if not.
fn replay(existing: Scan, dossier: &Dossier, component: &str, digest: &Digest) -> Result<Upload> {
    if existing.dossier == dossier.code && existing.component == component && &existing.digest == digest {
        Ok(Upload { scan: existing, replayed: true })
    } else {
        Err(ServiceError::Invalid { code: "idempotency_key_reused", detail: "this Idempotency-Key was used for a different upload".into() })
    }
}

impl Desk<'_> {
    /// The scan a key (already scoped to the agency) stored, replayed if `bytes` are the same
    /// upload.
    pub async fn replayed_upload(&self, dossier: &Dossier, component: &str, key: &str, bytes: &[u8]) -> Result<Option<Upload>> {
        match self.index.scan_by_idempotency_key(key).await? {
            Some(existing) => replay(existing, dossier, component, &Digest::of(bytes)).map(Some),
            None => Ok(None),
        }
    }

    /// Stores `bytes` as a scan of `component` and queues its recognition; `key` (scoped to
    /// the agency) makes a repeated upload answer as the first did.
    pub async fn upload(&self, actor: Actor, dossier: &Dossier, component: &str, key: Option<String>, bytes: Bytes) -> Result<Upload> {
        if !dossier.components.iter().any(|c| c.component == component) {
            return Err(ServiceError::NotFound {
                code: "component_not_found",
                detail: format!("dossier {} has no component {component:?}", dossier.code),
            });
        }
        let digest = Digest::of(&bytes);
        if let Some(key) = &key {
            if let Some(upload) = self.replayed_upload(dossier, component, key, &bytes).await? {
                return Ok(upload);
            }
        }
        let limits = self.media_limits;
        let gate = self.catalog.scan_quality;
        let inspected = bytes.clone();
        // The quality gate measures the pages only once intake has accepted them whole.
        let (info, quality) = tokio::task::spawn_blocking(move || {
            intake::inspect(&inspected, limits).map(|info| (info, quality::assess(&inspected, limits, &gate)))
        })
        .await
        .map_err(|e| ServiceError::Internal { context: "upload inspection crashed", detail: e.to_string() })?
        .map_err(media_error)?;

        let stored = self.archive.put_blob(bytes.clone()).await?;
        let new = NewScan {
            dossier: dossier.code.clone(),
            component: component.to_owned(),
            digest: stored,
            media_type: info.media_type.to_owned(),
            size: bytes.len() as u64,
            pages: info.pages,
            idempotency_key: key.clone(),
            quality: Some(quality),
        };
        let audit = AuditEntry {
            actor,
            action: "scan.upload",
            target: String::new(),
            detail: json!({"dossier": dossier.code, "component": component, "digest": digest.prefixed(), "media_type": info.media_type}),
        };
        let scan = match self.index.create_scan(new, JobKind::Ocr, self.retry, audit).await {
            Ok(scan) => scan,
            // A concurrent request with the same key won the race.
            Err(IndexError::Conflict) => {
                let internal = |context: &'static str| ServiceError::Internal { context, detail: dossier.code.to_string() };
                let key = key.ok_or_else(|| internal("scan conflict without a key"))?;
                let existing =
                    self.index.scan_by_idempotency_key(&key).await?.ok_or_else(|| internal("idempotency conflict without a row"))?;
                return replay(existing, dossier, component, &digest);
            }
            Err(e) => return Err(e.into()),
        };
        let rescan = scan.quality.as_ref().is_some_and(|q| q.rescan_advised);
        tracing::info!(dossier = %dossier.code, scan = scan.id, job = scan.job, media_type = info.media_type, rescan_advised = rescan, "scan queued");
        Ok(Upload { scan, replayed: false })
    }
}
