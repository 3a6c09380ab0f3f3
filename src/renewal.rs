//! Keeps archived signatures verifiable after their certificates expire: a record whose
//! newest document time-stamp is signed by a TSA certificate that expires within the margin
//! (or that has none yet) gets its validation data and a new document time-stamp appended,
//! and the result is stored as a new version of the record, with its own manifest and log
//! leaf; the earlier version stays, superseded.

use crate::archive::Archive;
use crate::domain::Digest;
use crate::index::{Actor, AuditEntry, ComponentCheck, Index, NewRecord, Record, RecordCursor, RecordFilter, RecordStatus};
use crate::registry::{self, Lineage};
use crate::sign::ltv::{self, Revocation};
use serde::Serialize;
use serde_json::json;
use std::sync::Arc;

/// Records read from the index at a time.
const PAGE: u32 = 500;

#[derive(Debug, thiserror::Error)]
pub enum RenewalError {
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    #[error(transparent)]
    Sign(#[from] crate::sign::SignError),
}

impl From<registry::RegistryError> for RenewalError {
    fn from(e: registry::RegistryError) -> Self {
        match e {
            registry::RegistryError::Archive(e) => RenewalError::Archive(e),
            registry::RegistryError::Index(e) => RenewalError::Index(e),
        }
    }
}

impl RenewalError {
    pub fn code(&self) -> &'static str {
        match self {
            RenewalError::Index(_) => "index_unavailable",
            RenewalError::Archive(e) => e.code(),
            RenewalError::Sign(e) => e.code(),
        }
    }
}

/// What a renewal pass does: where time-stamps come from, how long before expiry it acts.
pub struct Renewal {
    pub tsa_url: String,
    pub margin: std::time::Duration,
    pub revocation: Revocation,
}

/// One pass: records looked at, renewed (old id, new id) and failed (id, code, message).
#[derive(Debug, Default, Serialize)]
pub struct RenewalReport {
    pub checked: usize,
    pub due: Vec<String>,
    pub renewed: Vec<(String, String)>,
    pub failed: Vec<(String, &'static str, String)>,
}

/// Whether a PDF needs a new document time-stamp by `now`: it has none, or the newest one's
/// TSA certificate expires within `margin`.
pub fn due(pdf: &[u8], margin: std::time::Duration, now: chrono::DateTime<chrono::Utc>) -> bool {
    match crate::verify::newest_timestamp_expiry(pdf) {
        Some(expiry) => expiry - chrono::Duration::from_std(margin).unwrap_or(chrono::Duration::MAX) <= now,
        None => true,
    }
}

/// Renews every active record that is due; with `dry_run`, only lists them.
pub async fn run(index: &Arc<dyn Index>, archive: &Archive, renewal: &Renewal, dry_run: bool) -> Result<RenewalReport, RenewalError> {
    let mut report = RenewalReport::default();
    let now = chrono::Utc::now();
    let mut after: Option<RecordCursor> = None;
    loop {
        let filter = RecordFilter { after: after.clone(), limit: PAGE, ..Default::default() };
        let page = index.find_records(&filter).await?;
        let Some(last) = page.last() else { break };
        after = Some(RecordCursor { created_at_ms: last.created_at_ms, id: last.id.clone() });
        for record in page.iter().filter(|r| r.status == RecordStatus::Active) {
            report.checked += 1;
            let content = archive.get_blob(&record.digest).await?;
            if !content.starts_with(b"%PDF-") || !due(&content, renewal.margin, now) {
                continue;
            }
            report.due.push(record.id.clone());
            if dry_run {
                continue;
            }
            match renew(index, archive, renewal, record, content.to_vec()).await {
                Ok(new) => {
                    tracing::info!(record = %record.id, renewed = %new.id, "record renewed");
                    report.renewed.push((record.id.clone(), new.id));
                }
                Err(e) => {
                    tracing::warn!(record = %record.id, code = e.code(), error = %e, "renewal failed");
                    report.failed.push((record.id.clone(), e.code(), e.to_string()));
                }
            }
        }
        if page.len() < PAGE as usize {
            break;
        }
    }
    Ok(report)
}

/// Appends validation data and a document time-stamp to the record's content and stores
/// the result as the record's new version.
async fn renew(index: &Arc<dyn Index>, archive: &Archive, renewal: &Renewal, old: &Record, pdf: Vec<u8>) -> Result<Record, RenewalError> {
    let extended = ltv::extend_bytes(pdf, &renewal.revocation, Some(&renewal.tsa_url)).await?;
    let size = extended.len() as u64;
    let digest = archive.put_blob(extended.into()).await?;
    let mut summary = old.summary.clone();
    summary["renews"] = json!(old.id);
    let kind = match old.kind.as_str() {
        "result" => "result",
        "backfile" => "backfile",
        _ => "digitized_copy",
    };
    let record = NewRecord {
        id: crate::domain::random_hex(16),
        kind,
        agency: old.agency.clone(),
        dossier: old.dossier.clone(),
        component: old.component.clone(),
        scan: None,
        owner_id: old.owner_id.clone(),
        doc_type: old.doc_type.clone(),
        number: old.number.clone(),
        issue_date: old.issue_date,
        valid_from: old.valid_from,
        valid_until: old.valid_until,
        digest,
        size,
        manifest_digest: Digest::of(b""),
        summary,
    };
    let flags: Vec<String> = old.summary.get("flags").and_then(|f| serde_json::from_value(f.clone()).ok()).unwrap_or_default();
    let check = ComponentCheck::from_flags(flags);
    let audit = AuditEntry {
        actor: Actor::system_for("renewal", &old.agency),
        action: "record.renew",
        target: String::new(),
        detail: json!({"replaces": old.id, "digest": record.digest.prefixed()}),
    };
    Ok(registry::store(index.as_ref(), archive, record, check, audit, Lineage::Renews { old: old.id.clone() }).await?)
}
