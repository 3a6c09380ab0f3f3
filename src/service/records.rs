//! Records as readers reach them: looked up, their manifests and content read from the
//! archive (re-hashed there), their status changed, held and disposed of. Whether a caller
//! may read a record is the handler's to say; this module says what the record is.

use super::{Result, ServiceError};
use crate::archive::Archive;
use crate::domain::record::{Disposal, Hold, Record, RecordFilter, RetentionCutoff, StatusChange};
use crate::domain::{AgencyCode, Digest};
use crate::index::{AuditEntry, Index};
use bytes::Bytes;

/// The registry's records over the index and the archive.
pub struct Records<'a> {
    pub index: &'a dyn Index,
    pub archive: &'a Archive,
}

impl Records<'_> {
    pub async fn find(&self, filter: &RecordFilter) -> Result<Vec<Record>> {
        Ok(self.index.find_records(filter).await?)
    }

    pub async fn get(&self, id: &str) -> Result<Option<Record>> {
        Ok(self.index.record(id).await?)
    }

    /// The record an issued result's short id or a record's id names; a draft result names none.
    pub async fn issued(&self, short: &str) -> Result<Option<Record>> {
        let id = match self.index.result(short).await? {
            Some(result) => match result.record {
                Some(id) => id,
                None => return Ok(None),
            },
            None => short.to_owned(),
        };
        Ok(self.index.record(&id).await?)
    }

    /// The records whose content is exactly the file of `digest`.
    pub async fn with_content(&self, digest: &Digest) -> Result<Vec<Record>> {
        Ok(self.index.records_with_content(digest).await?)
    }

    /// The record's canonical manifest, as archived.
    pub async fn manifest(&self, record: &Record) -> Result<Bytes> {
        Ok(self.archive.get_manifest(&record.id, &record.manifest_digest).await?)
    }

    /// The record's sealed or signed PDF, as archived.
    pub async fn content(&self, record: &Record) -> Result<Bytes> {
        Ok(self.archive.get_blob(&record.digest).await?)
    }

    /// Revokes or supersedes record `id`; None when there is no such record.
    pub async fn change_status(&self, id: &str, change: StatusChange, audit: AuditEntry) -> Result<Option<Record>> {
        Ok(self.index.change_record_status(id, change, audit).await?)
    }

    pub async fn place_hold(&self, agency: &AgencyCode, target: &str, reason: &str, audit: AuditEntry) -> Result<Hold> {
        Ok(self.index.place_hold(agency, target, reason, audit).await?)
    }

    /// None when no such hold is in force.
    pub async fn release_hold(&self, agency: &AgencyCode, id: i64, audit: AuditEntry) -> Result<Option<Hold>> {
        Ok(self.index.release_hold(agency, id, audit).await?)
    }

    pub async fn holds(&self, agency: &AgencyCode, in_force: bool, limit: u32) -> Result<Vec<Hold>> {
        Ok(self.index.holds(agency, in_force, limit).await?)
    }

    /// Records past their retention period and under no hold.
    pub async fn disposal_candidates(&self, agency: &AgencyCode, rules: &[RetentionCutoff], limit: u32) -> Result<Vec<Record>> {
        Ok(self.index.disposal_candidates(agency, rules, limit).await?)
    }

    /// Disposes of record `id` under `rule`: the index first, then the content, unless
    /// another record shares it. A failure after the first step leaves an object kept too
    /// long, never a record pointing at nothing it should have.
    pub async fn dispose(&self, id: &str, rule: &RetentionCutoff, reason: &str, audit: AuditEntry) -> Result<Record> {
        let disposal: Disposal = self
            .index
            .dispose_record(id, rule, reason, audit)
            .await?
            .ok_or_else(|| ServiceError::NotFound { code: "record_not_found", detail: format!("no record {id}") })?;
        if !disposal.content_shared {
            self.archive.delete_blob(&disposal.record.digest).await?;
        }
        Ok(disposal.record)
    }
}
