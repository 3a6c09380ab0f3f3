//! Exports for auditors and other archives: a BagIt 1.0 bag (RFC 8493, SHA-256 manifests)
//! of a dossier's records or of a query's, with each record's content, manifest, metadata
//! and inclusion proof, and the signed checkpoint the proofs lead to. The bag is built
//! beside the target and renamed into place, so a failed export leaves nothing behind.

use crate::archive::{Archive, ArchiveError};
use crate::domain::{vietnam_today, Digest, DossierCode};
use crate::index::{Index, IndexError, Record, RecordCursor, RecordFilter, RecordStatus};
use crate::tlog::{self, Checkpoint, InclusionProof, MerkleError, SignerKey};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0} exists: choose a new directory for the bag")]
    TargetExists(PathBuf),
    #[error("no records match {0}")]
    Empty(String),
    #[error("cannot write the bag at {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("transparency log: {0}")]
    Log(String),
}

impl From<MerkleError> for ExportError {
    fn from(e: MerkleError) -> Self {
        ExportError::Log(e.to_string())
    }
}

impl ExportError {
    pub fn code(&self) -> &'static str {
        match self {
            ExportError::TargetExists(_) => "export_target_exists",
            ExportError::Empty(_) => "export_empty",
            ExportError::Write { .. } => "export_write_failed",
            ExportError::Index(_) => "index_unavailable",
            ExportError::Archive(ArchiveError::Corrupt { .. }) => "archive_corrupt",
            ExportError::Archive(ArchiveError::Missing { .. }) => "archive_missing",
            ExportError::Archive(_) => "archive_unavailable",
            ExportError::Log(_) => "tlog_damaged",
        }
    }
}

/// Which records go in the bag.
#[derive(Debug, Clone)]
pub enum Selection {
    /// The records made for the dossier and those it reused.
    Dossier(DossierCode),
    Owner {
        owner_id: String,
        doc_type: Option<String>,
    },
}

impl Selection {
    fn describe(&self) -> String {
        match self {
            Selection::Dossier(code) => format!("dossier {code}"),
            Selection::Owner { owner_id, doc_type: Some(t) } => format!("owner {owner_id}, type {t}"),
            Selection::Owner { owner_id, doc_type: None } => format!("owner {owner_id}"),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagSummary {
    pub records: usize,
    pub files: usize,
    pub bytes: u64,
}

const PAGE: u32 = 500;

async fn select(index: &dyn Index, selection: &Selection) -> Result<Vec<Record>, ExportError> {
    let mut filter = match selection {
        Selection::Dossier(code) => RecordFilter { dossier: Some(code.clone()), ..Default::default() },
        Selection::Owner { owner_id, doc_type } => {
            RecordFilter { owner_id: Some(owner_id.clone()), doc_type: doc_type.clone(), ..Default::default() }
        }
    };
    filter.limit = PAGE;
    let mut out = Vec::new();
    loop {
        let page = index.find_records(&filter).await?;
        let full = page.len() as u32 == PAGE;
        filter.after = page.last().map(|r| RecordCursor { created_at_ms: r.created_at_ms, id: r.id.clone() });
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

/// Payload files of the bag, relative to `data/`, with their digests.
struct Payload {
    dir: PathBuf,
    entries: Vec<(String, Digest, u64)>,
}

impl Payload {
    fn add(&mut self, rel: &str, bytes: &[u8]) -> Result<(), ExportError> {
        let path = self.dir.join("data").join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ExportError::Write { path: parent.to_owned(), source })?;
        }
        std::fs::write(&path, bytes).map_err(|source| ExportError::Write { path, source })?;
        self.entries.push((format!("data/{rel}"), Digest::of(bytes), bytes.len() as u64));
        Ok(())
    }
}

fn write_tag(dir: &Path, name: &str, text: &str) -> Result<Digest, ExportError> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|source| ExportError::Write { path, source })?;
    Ok(Digest::of(text.as_bytes()))
}

/// Writes the bag of `selection` at `target`, which must not exist yet. With the log's key,
/// the bag carries `data/checkpoint.txt`, signed, for the tree the proofs are made against.
pub async fn bagit(
    index: &dyn Index,
    archive: &Archive,
    log_key: Option<&SignerKey>,
    selection: &Selection,
    target: &Path,
) -> Result<BagSummary, ExportError> {
    bagit_reporting(index, archive, log_key, selection, target, &|_, _| {}).await
}

/// As [`bagit`], telling `progress` the records written so far and the records to write.
pub async fn bagit_reporting(
    index: &dyn Index,
    archive: &Archive,
    log_key: Option<&SignerKey>,
    selection: &Selection,
    target: &Path,
    progress: crate::archive::Progress<'_>,
) -> Result<BagSummary, ExportError> {
    if target.exists() {
        return Err(ExportError::TargetExists(target.to_owned()));
    }
    let records = select(index, selection).await?;
    if records.is_empty() {
        return Err(ExportError::Empty(selection.describe()));
    }
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "bag".into());
    let partial = target.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    let result = fill(index, archive, log_key, selection, &records, &partial, progress).await;
    match result {
        Ok(summary) => {
            std::fs::rename(&partial, target).map_err(|source| ExportError::Write { path: target.to_owned(), source })?;
            Ok(summary)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            Err(e)
        }
    }
}

async fn fill(
    index: &dyn Index,
    archive: &Archive,
    log_key: Option<&SignerKey>,
    selection: &Selection,
    records: &[Record],
    dir: &Path,
    progress: crate::archive::Progress<'_>,
) -> Result<BagSummary, ExportError> {
    let mut payload = Payload { dir: dir.to_owned(), entries: Vec::new() };
    let size = index.tlog_size().await?;
    if let Some(key) = log_key {
        let root = tlog::root(size, &index.tlog_nodes(&tlog::root_needs(size)).await?)?;
        let text = Checkpoint::new(key.name(), size, root).sign(key).map_err(|e| ExportError::Log(e.to_string()))?;
        payload.add("checkpoint.txt", text.as_bytes())?;
    }
    for (done, record) in records.iter().enumerate() {
        progress(done as u64, records.len() as u64);
        if let Some(leaf_index) = record.log_index.filter(|i| *i < size) {
            let nodes = index.tlog_nodes(&tlog::inclusion_needs(leaf_index, size)?).await?;
            let proof = InclusionProof {
                record: record.id.clone(),
                leaf_hash: tlog::manifest_leaf_hash(&record.manifest_digest),
                manifest: record.manifest_digest.clone(),
                leaf_index,
                tree_size: size,
                hashes: tlog::inclusion_proof(leaf_index, size, &nodes)?,
                checkpoint: None,
            };
            let json = serde_json::to_vec_pretty(&proof).map_err(|e| ExportError::Write { path: dir.to_owned(), source: e.into() })?;
            payload.add(&format!("records/{}/proof.json", record.id), &json)?;
        }
        let base = format!("records/{}", record.id);
        let metadata = serde_json::to_vec_pretty(record).map_err(|e| ExportError::Write { path: dir.to_owned(), source: e.into() })?;
        payload.add(&format!("{base}/record.json"), &metadata)?;
        payload.add(&format!("{base}/manifest.json"), &archive.get_manifest(&record.id, &record.manifest_digest).await?)?;
        // A disposed record's content is gone by design; its manifest and metadata remain.
        if record.status != RecordStatus::Disposed {
            payload.add(&format!("{base}/content.pdf"), &archive.get_blob(&record.digest).await?)?;
        }
    }
    progress(records.len() as u64, records.len() as u64);
    let mut manifest = String::new();
    for (path, digest, _) in &payload.entries {
        let _ = writeln!(manifest, "{}  {path}", digest.as_str());
    }
    let octets: u64 = payload.entries.iter().map(|e| e.2).sum();
    let agencies: std::collections::BTreeSet<&str> = records.iter().map(|r| r.agency.as_str()).collect();
    let mut info = String::new();
    let _ = writeln!(info, "Source-Organization: {}", agencies.into_iter().collect::<Vec<_>>().join(", "));
    let _ = writeln!(info, "Bagging-Date: {}", vietnam_today());
    let _ = writeln!(info, "Payload-Oxum: {octets}.{}", payload.entries.len());
    let _ = writeln!(info, "External-Description: sohoa records of {}", selection.describe());
    if let Selection::Dossier(code) = selection {
        let _ = writeln!(info, "External-Identifier: {code}");
    }
    let _ = writeln!(info, "Bag-Software-Agent: sohoa {}", env!("CARGO_PKG_VERSION"));
    let tags = [
        ("bagit.txt", write_tag(dir, "bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")?),
        ("bag-info.txt", write_tag(dir, "bag-info.txt", &info)?),
        ("manifest-sha256.txt", write_tag(dir, "manifest-sha256.txt", &manifest)?),
    ];
    let mut tagmanifest = String::new();
    for (name, digest) in &tags {
        let _ = writeln!(tagmanifest, "{}  {name}", digest.as_str());
    }
    write_tag(dir, "tagmanifest-sha256.txt", &tagmanifest)?;
    Ok(BagSummary { records: records.len(), files: payload.entries.len(), bytes: octets })
}
