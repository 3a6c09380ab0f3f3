//! Fixity: re-hash everything the archive holds, find what is missing, and restore corrupt
//! or missing objects from a replica whose copy still verifies.

use super::{blob_key, manifest_key, Archive, ArchiveError, Result, Spooled};
use crate::domain::Digest;
use crate::index::{FixityRun, Index, IndexError};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet};
use std::time::SystemTime;

/// Problems listed one by one in a report; past this only the counts grow.
const MAX_PROBLEMS: usize = 1000;

/// A scheduled or command-line pass reports as orphans the leftovers of interrupted writes
/// last written this long before it began, so that an upload under way is not one of them.
pub const LEFTOVER_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

/// What one fixity pass found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixityReport {
    /// Objects looked at: blobs listed, blobs expected but absent, manifests.
    pub checked: u64,
    pub ok: u64,
    pub missing: u64,
    pub corrupt: u64,
    /// Missing or corrupt objects replaced by a verified copy from the replica.
    pub restored: u64,
    /// Leftovers of interrupted writes (under `tmp/`, or a file archive's staging files);
    /// the next start of the service removes them.
    #[serde(default)]
    pub orphans: u64,
    /// Whether record manifests were checked against the index's digests.
    pub manifests_checked: bool,
    /// The replica's URL, when one was configured.
    pub replica: Option<String>,
    /// The first problems, each with its object key.
    pub problems: Vec<FixityProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixityProblem {
    pub key: String,
    /// `missing`, `corrupt` or `orphan`.
    pub kind: String,
    pub restored: bool,
}

impl FixityReport {
    /// Whether nothing was missing or corrupt (orphans hold no archived content: they are
    /// reported, not counted against the archive's integrity).
    pub fn clean(&self) -> bool {
        self.missing == 0 && self.corrupt == 0
    }

    fn problem(&mut self, key: &ObjectPath, kind: &str, restored: bool) {
        match kind {
            "missing" => self.missing += 1,
            _ => self.corrupt += 1,
        }
        self.restored += u64::from(restored);
        self.list(key.to_string(), kind, restored);
    }

    fn list(&mut self, key: String, kind: &str, restored: bool) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(FixityProblem { key, kind: kind.to_owned(), restored });
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FixityError {
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

impl FixityError {
    pub fn code(&self) -> &'static str {
        match self {
            FixityError::Index(_) => "index_unavailable",
            FixityError::Archive(e) => e.code(),
        }
    }
}

/// Re-hashes every blob in `archive`; blobs only in the replica count as missing. Corrupt
/// and missing blobs are restored from `replica` when its copy verifies.
pub async fn fixity(archive: &Archive, replica: Option<&Archive>) -> Result<FixityReport> {
    fixity_with(archive, replica, &[], None, None).await
}

/// As [`fixity`], and also: `expected` blobs must be there, each `(record id, digest)`
/// manifest must hash to the digest the index holds, and leftovers of interrupted writes
/// last written before `orphans_before` are reported as orphans.
pub async fn fixity_with(
    archive: &Archive,
    replica: Option<&Archive>,
    expected: &[Digest],
    manifests: Option<&[(String, Digest)]>,
    orphans_before: Option<SystemTime>,
) -> Result<FixityReport> {
    fixity_reporting(archive, replica, expected, manifests, orphans_before, &|_, _| {}).await
}

/// Told the objects checked so far and the objects to check, after each one.
pub type Progress<'a> = &'a (dyn Fn(u64, u64) + Send + Sync);

/// As [`fixity_with`], telling `progress` how far the pass is.
pub async fn fixity_reporting(
    archive: &Archive,
    replica: Option<&Archive>,
    expected: &[Digest],
    manifests: Option<&[(String, Digest)]>,
    orphans_before: Option<SystemTime>,
    progress: Progress<'_>,
) -> Result<FixityReport> {
    let mut report =
        FixityReport { manifests_checked: manifests.is_some(), replica: replica.map(|r| r.url().to_owned()), ..Default::default() };
    if let Some(before) = orphans_before {
        for leftover in archive.leftovers(before).await? {
            tracing::warn!(key = %leftover.key, "fixity: leftover of an interrupted write");
            report.orphans += 1;
            report.list(leftover.key, "orphan", false);
        }
    }
    // Listed before anything is restored, so that no object is counted twice.
    let listed: Vec<_> = archive.list_blobs().try_collect().await?;
    let present: HashSet<Digest> = listed.iter().map(|b| b.digest.clone()).collect();
    let mut absent: BTreeSet<Digest> = expected.iter().filter(|d| !present.contains(*d)).cloned().collect();
    if let Some(replica) = replica {
        let mut theirs = replica.list_blobs();
        while let Some(blob) = theirs.try_next().await? {
            if !present.contains(&blob.digest) {
                absent.insert(blob.digest);
            }
        }
    }
    let total = (listed.len() + absent.len() + manifests.map_or(0, <[_]>::len)) as u64;
    for blob in &listed {
        progress(report.checked, total);
        report.checked += 1;
        let key = blob_key(&blob.digest);
        match verify_blob(archive, &blob.digest).await {
            Ok(()) => report.ok += 1,
            Err(e @ (ArchiveError::Corrupt { .. } | ArchiveError::Missing { .. })) => {
                let kind = if matches!(e, ArchiveError::Corrupt { .. }) { "corrupt" } else { "missing" };
                tracing::error!(key = %key, error = %e, "fixity problem");
                let restored = restore_blob(archive, replica, &blob.digest).await?;
                report.problem(&key, kind, restored);
            }
            Err(e) => return Err(e),
        }
    }
    for digest in absent {
        progress(report.checked, total);
        report.checked += 1;
        let key = blob_key(&digest);
        tracing::error!(key = %key, "fixity problem: missing");
        let restored = restore_blob(archive, replica, &digest).await?;
        report.problem(&key, "missing", restored);
    }
    for (id, digest) in manifests.unwrap_or_default() {
        progress(report.checked, total);
        report.checked += 1;
        match archive.get_manifest(id, digest).await {
            Ok(_) => report.ok += 1,
            Err(e @ (ArchiveError::Corrupt { .. } | ArchiveError::Missing { .. })) => {
                let kind = if matches!(e, ArchiveError::Corrupt { .. }) { "corrupt" } else { "missing" };
                tracing::error!(record = %id, error = %e, "fixity problem");
                let restored = restore_manifest(archive, replica, id, digest).await?;
                report.problem(&manifest_key(id)?, kind, restored);
            }
            Err(e) => return Err(e),
        }
    }
    progress(report.checked, total);
    Ok(report)
}

/// One pass over everything the index says the archive holds, recorded in the index.
pub async fn audit(index: &dyn Index, archive: &Archive, replica: Option<&Archive>) -> Result<FixityReport, FixityError> {
    audit_reporting(index, archive, replica, &|_, _| {}).await
}

/// As [`audit`], telling `progress` how far the pass is.
pub async fn audit_reporting(
    index: &dyn Index,
    archive: &Archive,
    replica: Option<&Archive>,
    progress: Progress<'_>,
) -> Result<FixityReport, FixityError> {
    let started_at_ms = chrono::Utc::now().timestamp_millis();
    let orphans_before = SystemTime::now().checked_sub(LEFTOVER_GRACE);
    let objects = index.archived_objects().await?;
    let report = fixity_reporting(archive, replica, &objects.blobs, Some(&objects.manifests), orphans_before, progress).await?;
    let run = FixityRun {
        id: 0,
        started_at_ms,
        finished_at_ms: chrono::Utc::now().timestamp_millis(),
        checked: report.checked,
        ok: report.ok,
        missing: report.missing,
        corrupt: report.corrupt,
        restored: report.restored,
        report: serde_json::to_value(&report).unwrap_or_default(),
    };
    index.save_fixity_run(&run).await?;
    tracing::info!(
        checked = report.checked,
        ok = report.ok,
        missing = report.missing,
        corrupt = report.corrupt,
        restored = report.restored,
        orphans = report.orphans,
        "fixity pass finished"
    );
    Ok(report)
}

/// Streams a blob through its hash check, keeping nothing.
async fn verify_blob(archive: &Archive, digest: &Digest) -> Result<()> {
    let mut stream = archive.get_blob_stream(digest).await?;
    while let Some(chunk) = stream.next().await {
        chunk?;
    }
    Ok(())
}

/// Replaces a blob with the replica's copy; false when there is no replica or its copy is
/// missing or corrupt too (then nothing here changes).
async fn restore_blob(archive: &Archive, replica: Option<&Archive>, digest: &Digest) -> Result<bool> {
    let Some(replica) = replica else { return Ok(false) };
    let key = blob_key(digest);
    let theirs = match replica.get_blob_stream(digest).await {
        Ok(s) => s,
        Err(e @ (ArchiveError::Missing { .. } | ArchiveError::Corrupt { .. })) => {
            tracing::error!(key = %key, error = %e, "cannot restore: the replica has no good copy");
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    // The replica's stream fails before its last chunk when its copy is corrupt, so a bad
    // copy never finishes uploading here.
    let spooled = match archive.spool(theirs.map(|r| r.map_err(std::io::Error::other))).await {
        Ok(s) => s,
        Err(ArchiveError::Input(e)) => {
            tracing::error!(key = %key, error = %e, "cannot restore: the replica's copy failed");
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    let store_err = |source| ArchiveError::store(key.to_string(), source);
    match spooled {
        Spooled::Small { bytes, .. } => {
            archive.store.put(&key, PutPayload::from_bytes(bytes)).await.map_err(store_err)?;
        }
        Spooled::Large { tmp, .. } => {
            let copied = archive.store.copy(&tmp, &key).await.map_err(store_err);
            archive.remove_tmp(&tmp).await;
            copied?;
        }
    }
    let verified = verify_blob(archive, digest).await;
    tracing::info!(key = %key, ok = verified.is_ok(), "restored from the replica");
    Ok(verified.is_ok())
}

async fn restore_manifest(archive: &Archive, replica: Option<&Archive>, id: &str, digest: &Digest) -> Result<bool> {
    let Some(replica) = replica else { return Ok(false) };
    let key = manifest_key(id)?;
    let bytes: Bytes = match replica.get_manifest(id, digest).await {
        Ok(b) => b,
        Err(e @ (ArchiveError::Missing { .. } | ArchiveError::Corrupt { .. })) => {
            tracing::error!(key = %key, error = %e, "cannot restore: the replica has no good copy");
            return Ok(false);
        }
        Err(e) => return Err(e),
    };
    archive.store.put(&key, PutPayload::from_bytes(bytes)).await.map_err(|source| ArchiveError::store(key.to_string(), source))?;
    Ok(archive.get_manifest(id, digest).await.is_ok())
}
