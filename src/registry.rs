//! The one path by which a record is stored, whatever made it: sealing a scan, issuing a
//! result, correcting a record, renewing one. Its canonical manifest goes to the archive
//! first, then the index takes the record with its log leaf in one transaction; so no
//! record is ever indexed without its manifest, and every maker writes the same manifest.

use crate::archive::{Archive, ArchiveError};
use crate::index::{AuditEntry, ComponentCheck, Index, IndexError, NewRecord, Record};
use crate::seal::manifest;
use serde_json::Value;

/// What the new record stands in for.
pub enum Lineage {
    /// A record of its own (a sealed scan, an issued result).
    New,
    /// The corrected version of record `old`, made from `scan`, with the desk's `label`.
    Corrects { old: String, scan: i64, label: Value },
    /// The renewed version of record `old` (validation data and a newer time-stamp appended).
    Renews { old: String },
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Writes `record`'s manifest to the archive and stores the record as `lineage` says, with
/// `check` for its component and `audit` in the same transaction.
pub async fn store(
    index: &dyn Index,
    archive: &Archive,
    mut record: NewRecord,
    check: ComponentCheck,
    audit: AuditEntry,
    lineage: Lineage,
) -> Result<Record, RegistryError> {
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    record.manifest_digest = archive.put_manifest(&record.id, manifest::canonical(&record, &created_at).into()).await?;
    let stored = match lineage {
        Lineage::New => index.create_record(record, check, audit).await?,
        Lineage::Corrects { old, scan, label } => index.correct_record(&old, record, check, scan, label, audit).await?,
        Lineage::Renews { old } => index.renew_record(&old, record, check, audit).await?,
    };
    Ok(stored)
}
