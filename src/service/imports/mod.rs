//! Back-file imports: documents issued before the installation, scanned in batches with a
//! metadata sheet, each sealed as a record of kind `backfile` in the issuing agency's name and
//! stored through the registry like any other record. Progress is kept in the index by batch
//! and line, so that a stopped batch resumes where it stopped and nothing is imported twice.

mod copy;
pub mod ocr;
pub mod posted;
mod register;
pub mod report;
pub mod sheet;
mod split;

use crate::archive::Archive;
use crate::domain::import::{ImportItem, ImportOutcome};
use crate::domain::{random_hex, vietnam_offset, vietnam_today, AgencyCode, Digest};
use crate::index::{Actor, AuditEntry, ComponentCheck, Index, NewRecord};
use crate::intake::MediaLimits;
use crate::policy::{validity_window, Catalog};
use crate::registry::{self, Lineage};
use crate::seal::{seal_pdf, AgencySeal};
use crate::sign::certificate_subject;
use report::Outcome;
use serde_json::json;
use sha2::{Digest as _, Sha256};
use sheet::{Row, RowError};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

pub use copy::CopyError;
pub use register::{check_row as register_row, Book, RegisterError};
pub use split::split;

/// The record kind of a document issued before the installation and digitized later.
pub const KIND: &str = "backfile";
/// Flags of a document left for review.
pub const OWNER_ID_MISSING: &str = "owner_id_missing";
pub const TYPE_UNKNOWN: &str = "type_unknown";

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}: not a path inside the batch directory")]
    Outside(String),
    #[error("{path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error(transparent)]
    Copy(#[from] CopyError),
    #[error("no seal of agency {0} is installed")]
    NoSealKey(AgencyCode),
    #[error(transparent)]
    Seal(#[from] crate::seal::SealError),
    #[error(transparent)]
    Store(#[from] registry::RegistryError),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    #[error(transparent)]
    Ocr(#[from] ocr::OcrError),
    #[error(transparent)]
    Register(#[from] RegisterError),
}

impl ImportError {
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Outside(_) => "file_outside_batch",
            ImportError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => "file_not_found",
            ImportError::Read { .. } => "file_unreadable",
            ImportError::Copy(e) => e.code(),
            ImportError::NoSealKey(_) => crate::seal::NO_SEAL_KEY,
            ImportError::Seal(e) => e.code(),
            ImportError::Store(registry::RegistryError::Archive(e)) | ImportError::Archive(e) => e.code(),
            ImportError::Store(registry::RegistryError::Index(_)) | ImportError::Index(_) => "index_unavailable",
            ImportError::Ocr(e) => e.code(),
            ImportError::Register(e) => e.code(),
        }
    }
}

/// A batch: a directory of scans and the rows that say what they are, named by the digest of
/// both so that running it again resumes it.
pub struct Batch {
    pub id: String,
    pub dir: PathBuf,
    pub rows: Vec<Result<Row, RowError>>,
}

impl Batch {
    /// The batch of `dir` described by `rows`, each row's files checked (inside the directory,
    /// readable, the PDF pages it names there) before anything is imported. The id hashes
    /// `sheet` (the sheet's bytes, or the file list when there is none), the default agency
    /// and every named file's size.
    pub fn check(dir: &Path, sheet: &[u8], agency: &AgencyCode, rows: Vec<Result<Row, RowError>>) -> Batch {
        let mut hash = Sha256::new();
        hash.update(b"sohoa import batch 1\n");
        hash.update(agency.as_str().as_bytes());
        hash.update(b"\n");
        hash.update(sheet);
        let named: BTreeSet<&str> = rows.iter().flatten().flat_map(|r| r.files.iter().map(String::as_str)).collect();
        for file in named {
            let size = inside(dir, file).ok().and_then(|p| std::fs::metadata(p).ok()).map_or(0, |m| m.len());
            hash.update(format!("\n{file}\0{size}").as_bytes());
        }
        let id = hex::encode(hash.finalize())[..32].to_owned();
        let rows = rows.into_iter().map(|row| row.and_then(|row| check_files(dir, row))).collect();
        Batch { id, dir: dir.to_owned(), rows }
    }
}

/// A row whose files are not there, or whose pages are not in its PDF, is refused now.
fn check_files(dir: &Path, row: Row) -> Result<Row, RowError> {
    let refuse = |code: &'static str, detail: String| RowError { line: row.line, file: row.files.join(";"), code, detail };
    for file in &row.files {
        let path = inside(dir, file).map_err(|e| refuse(e.code(), e.to_string()))?;
        if !path.is_file() {
            return Err(refuse("file_not_found", format!("{file}: no such file in the batch directory")));
        }
        if let Some((_, to)) = row.pages {
            let bytes = std::fs::read(&path).map_err(|e| refuse("file_unreadable", format!("{file}: {e}")))?;
            let count = copy::page_count(&bytes).map_err(|e| refuse(e.code(), format!("{file}: {e}")))?;
            if to > count {
                return Err(refuse("pages_out_of_range", format!("{file} has {count} pages, the row names up to page {to}")));
            }
        }
    }
    Ok(row)
}

/// `file` inside `dir`, refused when it could name anything outside.
fn inside(dir: &Path, file: &str) -> Result<PathBuf, ImportError> {
    let path = Path::new(file);
    if path.components().all(|c| matches!(c, Component::Normal(_))) {
        Ok(dir.join(path))
    } else {
        Err(ImportError::Outside(file.to_owned()))
    }
}

/// Who digitizes, with what, and whether anything is written.
/// A sealed copy in the archive.
struct Sealed {
    digest: Digest,
    size: u64,
    signing_time: chrono::DateTime<chrono::FixedOffset>,
    /// The seal as the record's summary lists it.
    signature: serde_json::Value,
}

pub struct Importer<'a> {
    pub index: &'a dyn Index,
    pub archive: &'a Archive,
    pub catalog: &'a Catalog,
    pub seals: &'a BTreeMap<AgencyCode, AgencySeal>,
    pub limits: MediaLimits,
    /// The person or team who digitized the batch, named in each record.
    pub by: String,
    /// Shows what would happen and writes nothing.
    pub dry_run: bool,
    /// Reads what a row leaves out from its pages; without it, such a row is flagged.
    pub reader: Option<ocr::Reader<'a>>,
    /// The batch's pages are civil-status register pages of this book: each entry is a record.
    pub register: Option<Book>,
    /// What earlier documents of this run claimed: a later one with the same content or
    /// number is their duplicate even before they are stored.
    claims: Mutex<Claims>,
}

#[derive(Default)]
struct Claims {
    content: HashMap<Digest, u32>,
    numbers: HashMap<(AgencyCode, String, String), u32>,
    /// The first row naming the same files and pages, claimed before any row runs.
    sources: HashMap<Source, u32>,
}

/// A row's files and pages: two rows that name the same are the same document.
type Source = (Vec<String>, Option<(u32, u32)>);

impl<'a> Importer<'a> {
    pub fn new(
        index: &'a dyn Index,
        archive: &'a Archive,
        catalog: &'a Catalog,
        seals: &'a BTreeMap<AgencyCode, AgencySeal>,
        limits: MediaLimits,
        by: String,
    ) -> Importer<'a> {
        Importer { index, archive, catalog, seals, limits, by, dry_run: false, reader: None, register: None, claims: Mutex::default() }
    }

    /// Claims each type and number of `batch`, and each set of files and pages, for its first
    /// row, so that the first of two rows with the same number or the same pages is the one
    /// imported, whichever runs first when rows run at once.
    pub fn claim_first_rows(&self, batch: &Batch) {
        let mut claims = self.claims.lock().unwrap_or_else(|e| e.into_inner());
        for row in batch.rows.iter().flatten() {
            if let Some(number) = number_of(row) {
                claims.numbers.entry(number).or_insert(row.line);
            }
            claims.sources.entry((row.files.clone(), row.pages)).or_insert(row.line);
        }
    }

    /// What the index holds of the batch from earlier runs, by line.
    pub async fn progress(&self, batch: &str) -> Result<HashMap<u32, ImportItem>, ImportError> {
        Ok(self.index.import_items(batch).await?.into_iter().map(|i| (i.line, i)).collect())
    }

    /// Imports one row of `batch`, unless an earlier run settled it (`earlier`); refused rows
    /// come back as failed and are not kept.
    pub async fn import(&self, batch: &Batch, row: &Result<Row, RowError>, earlier: Option<&ImportItem>) -> Outcome {
        let row = match row {
            Ok(row) => row,
            Err(refused) => return Outcome::refused(refused),
        };
        if let Some(item) = earlier.filter(|i| i.outcome.is_settled()) {
            return Outcome::of(row, item.outcome, item.reason.clone(), item.record.clone()).earlier();
        }
        // A record named before a stop is in the index, or was never stored at all.
        if let Some(started) = earlier.filter(|i| i.outcome == ImportOutcome::Started).and_then(|i| i.record.as_ref()) {
            match self.index.record(started).await {
                Ok(Some(record)) => return self.settle(batch, row, ImportOutcome::Imported, None, Some(record.id), None).await,
                Ok(None) => {}
                Err(e) => return Outcome::of(row, ImportOutcome::Failed, Some(reason(&e.into())), None),
            }
        }
        match self.try_import(batch, row).await {
            Ok(outcome) => outcome,
            Err((e, source)) => {
                tracing::warn!(batch = %batch.id, line = row.line, code = e.code(), error = %e, "document not imported");
                self.settle(batch, row, ImportOutcome::Failed, Some(reason(&e)), None, source).await
            }
        }
    }

    async fn try_import(&self, batch: &Batch, row: &Row) -> Result<Outcome, (ImportError, Option<Digest>)> {
        let copy = self.copy_of(batch, row).await.map_err(|e| (e, None))?;
        let source = Digest::of(&copy.pdf);
        let at = |e: ImportError| (e, Some(source.clone()));

        if let Some(duplicate) = self.duplicate(row, &source).await.map_err(at)? {
            return Ok(self.settle(batch, row, ImportOutcome::Duplicate, Some(duplicate), None, Some(source)).await.pages(copy.pages));
        }
        let mut row = Cow::Borrowed(row);
        let mut read = None;
        let incomplete = row.owner_id.is_none() || row.doc_type.is_none();
        if let Some(reader) = self.reader.as_ref().filter(|_| incomplete && !self.dry_run) {
            let reading = reader.read(&batch.id, row.line, &row.agency, &copy.pdf, self.catalog).await.map_err(|e| at(e.into()))?;
            let (filled, flags) = reading.fill(row.to_mut(), vietnam_today());
            if !flags.is_empty() {
                let flags = Some(flags.join(";"));
                return Ok(self.settle(batch, &row, ImportOutcome::Flagged, flags, None, Some(source)).await.pages(copy.pages));
            }
            // the type and number read may be those of a document already kept
            if let Some(duplicate) = self.duplicate(&row, &source).await.map_err(at)? {
                let outcome = ImportOutcome::Duplicate;
                return Ok(self.settle(batch, &row, outcome, Some(duplicate), None, Some(source)).await.pages(copy.pages));
            }
            let mut source = reading.source.clone();
            source["read"] = json!(filled);
            source["classification"] = json!({"doc_type": reading.doc_type, "confidence": reading.confidence});
            read = Some(source);
        }
        let row = row.as_ref();
        let flags: Vec<&str> = [(row.owner_id.is_none(), OWNER_ID_MISSING), (row.doc_type.is_none(), TYPE_UNKNOWN)]
            .into_iter()
            .filter_map(|(missing, flag)| missing.then_some(flag))
            .collect();
        if !flags.is_empty() {
            let flags = Some(flags.join(";"));
            return Ok(self.settle(batch, row, ImportOutcome::Flagged, flags, None, Some(source)).await.pages(copy.pages));
        }
        let seal = self.seals.get(&row.agency).ok_or_else(|| at(ImportError::NoSealKey(row.agency.clone())))?;
        if self.dry_run {
            return Ok(Outcome::of(row, ImportOutcome::Imported, None, None).pages(copy.pages));
        }
        let id = random_hex(16);
        let started = self.item(batch, row, ImportOutcome::Started, None, Some(id.clone()), Some(source.clone()));
        self.index.put_import_item(&started).await.map_err(|e| at(e.into()))?;
        let pages = copy.pages;
        let record = self.store((batch, row), seal, id, &source, copy, read).await.map_err(at)?;
        Ok(self.settle(batch, row, ImportOutcome::Imported, None, Some(record), Some(source)).await.pages(pages))
    }

    /// The unsealed copy of the row's pages.
    async fn copy_of(&self, batch: &Batch, row: &Row) -> Result<copy::Copy, ImportError> {
        let mut inputs = Vec::with_capacity(row.files.len());
        for file in &row.files {
            let path = inside(&batch.dir, file)?;
            let bytes = tokio::fs::read(&path).await.map_err(|source| ImportError::Read { path: file.clone(), source })?;
            inputs.push(bytes);
        }
        let (pages, limits) = (row.pages, self.limits);
        let copy = tokio::task::spawn_blocking(move || copy::unsealed(inputs, pages, limits))
            .await
            .map_err(|e| CopyError::Stopped(e.to_string()))??;
        Ok(copy)
    }

    /// The earlier record, or earlier line of this run, that the document repeats.
    async fn duplicate(&self, row: &Row, source: &Digest) -> Result<Option<String>, ImportError> {
        {
            let mut claims = self.claims.lock().unwrap_or_else(|e| e.into_inner());
            // a number read by OCR is claimed by the first row that reads it
            if let Some(line) = number_of(row).map(|n| *claims.numbers.entry(n).or_insert(row.line)).filter(|l| *l != row.line) {
                return Ok(Some(format!("same_number: line {line}")));
            }
            // Two rows naming the same pages: the first row is imported, the other is its duplicate.
            let first = claims.sources.get(&(row.files.clone(), row.pages)).copied().unwrap_or(row.line);
            if first != row.line {
                return Ok(Some(format!("same_content: line {first}")));
            }
            // Two rows with the same pages under other names: the first sealed is imported.
            if let Some(line) = claims.content.get(source).filter(|l| **l != row.line) {
                return Ok(Some(format!("same_content: line {line}")));
            }
            claims.content.insert(source.clone(), row.line);
        }
        let doc_type = row.doc_type.as_deref().unwrap_or_default();
        let found = self.index.import_duplicate(&row.agency, doc_type, row.number.as_deref(), source).await?;
        Ok(found.map(|d| format!("{}: record {}", d.why, d.record)))
    }

    /// Seals the copy in the issuing agency's name and stores it through the registry, with
    /// what OCR read of it (`read`) in its summary.
    async fn store(
        &self,
        (batch, row): (&Batch, &Row),
        seal: &AgencySeal,
        id: String,
        source: &Digest,
        copy: copy::Copy,
        read: Option<serde_json::Value>,
    ) -> Result<String, ImportError> {
        let Sealed { digest, size, signing_time, signature: sealed_with } = self.seal_and_put(seal, copy.pdf).await?;
        let validity = row.doc_type.as_deref().and_then(|t| self.catalog.doc_type(t)).map(|t| t.validity);
        let (valid_from, valid_until) = validity_window(validity, row.issue_date, None);
        let when = signing_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        let summary = json!({
            "signatures": [sealed_with],
            // who digitized the paper and when; the paper's own date is the issue date
            "digitized": { "by": self.by, "at": when, "batch": batch.id, "line": row.line },
            "source": { "files": row.files, "pages": row.pages.map(|(a, b)| format!("{a}-{b}")), "page_count": copy.pages, "digest": source.prefixed() },
            "flags": [],
        });
        let mut summary = summary;
        if let Some(read) = read {
            // what the sheet left out and OCR read, and who read it with what
            summary["ocr"] = read;
        }
        let record = NewRecord {
            id,
            kind: KIND,
            agency: row.agency.clone(),
            dossier: None,
            component: None,
            scan: None,
            owner_id: row.owner_id.clone(),
            doc_type: row.doc_type.clone().unwrap_or_default(),
            number: row.number.clone(),
            issue_date: row.issue_date,
            valid_from,
            valid_until,
            digest,
            size,
            manifest_digest: Digest::of(b""),
            summary,
        };
        let detail = json!({"batch": batch.id, "line": row.line, "doc_type": record.doc_type});
        self.store_record(record, &batch.id, detail).await
    }

    /// Seals `pdf` in the agency's name of `seal` and archives it.
    async fn seal_and_put(&self, seal: &AgencySeal, pdf: Vec<u8>) -> Result<Sealed, ImportError> {
        let signer = seal.signer.clone();
        let agency_name = seal.name.clone();
        let signing_time = chrono::Utc::now().with_timezone(&vietnam_offset());
        let sealed = tokio::task::spawn_blocking(move || seal_pdf(&pdf, signer.as_ref(), &agency_name, signing_time))
            .await
            .map_err(|e| CopyError::Stopped(e.to_string()))??;
        crate::metrics::count("sohoa_signatures_total", &[("kind", "seal")], 1);
        let size = sealed.len() as u64;
        let digest = self.archive.put_blob(sealed.into()).await?;
        let signature = json!({
            "kind": "seal",
            "signer": certificate_subject(seal.signer.certificate()),
            "certificate_sha256": Digest::of(seal.signer.certificate()).as_str(),
            "signing_time": signing_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            "level": "B-B",
        });
        Ok(Sealed { digest, size, signing_time, signature })
    }

    /// Stores `record` through the registry, audited as imported by this importer's `by` in
    /// batch `batch` with `detail`.
    async fn store_record(&self, record: NewRecord, batch: &str, detail: serde_json::Value) -> Result<String, ImportError> {
        let actor = Actor {
            id: format!("import:{}", self.by),
            role: "operator".into(),
            agency: record.agency.to_string(),
            request_id: batch.to_owned(),
        };
        let audit = AuditEntry { actor, action: "record.import", target: String::new(), detail };
        let stored = registry::store(self.index, self.archive, record, ComponentCheck::satisfied(), audit, Lineage::New).await?;
        Ok(stored.id)
    }

    /// Keeps what became of the row (unless this is a dry run) and says so.
    async fn settle(
        &self,
        batch: &Batch,
        row: &Row,
        outcome: ImportOutcome,
        reason: Option<String>,
        record: Option<String>,
        source: Option<Digest>,
    ) -> Outcome {
        let said = Outcome::of(row, outcome, reason.clone(), record.clone());
        if self.dry_run {
            return said;
        }
        let item = self.item(batch, row, outcome, reason, record, source);
        match self.index.put_import_item(&item).await {
            Ok(()) => said,
            // Not kept: the next run does the row again, and finds its record if it was stored.
            Err(e) => {
                tracing::warn!(batch = %batch.id, line = row.line, error = %e, "cannot keep an import's progress");
                said.unkept()
            }
        }
    }

    fn item(
        &self,
        batch: &Batch,
        row: &Row,
        outcome: ImportOutcome,
        reason: Option<String>,
        record: Option<String>,
        source: Option<Digest>,
    ) -> ImportItem {
        ImportItem { batch: batch.id.clone(), line: row.line, outcome, record, source, reason }
    }
}

/// The issuing agency, type and number that name a document, when the row gives them.
fn number_of(row: &Row) -> Option<(AgencyCode, String, String)> {
    Some((row.agency.clone(), row.doc_type.clone()?, row.number.clone()?))
}

fn reason(e: &ImportError) -> String {
    format!("{}: {e}", e.code())
}
