//! Back-file batches posted to the service (`POST /imports`): staged and checked as they
//! arrive, stored whole (files in the archive, the batch in the index) before anything runs,
//! then imported in the background by the replica holding the `imports` lease, through the
//! same [`Importer`](super::Importer) as `sohoa import`.

mod run;
mod stage;

pub use run::Runner;
pub use stage::{check_name, Limits, Staged};

use super::report::Totals;
use super::sheet::{self, Row, RowError, Rules};
use super::Batch;
use crate::archive::Archive;
use crate::domain::import::ImportOutcome;
use crate::domain::import_batch::{BatchFile, BatchSpec, BatchState, ImportBatch};
use crate::domain::{vietnam_today, AgencyCode};
use crate::index::Index;
use crate::policy::Catalog;
use crate::service::{Result, ServiceError};
use serde::{Deserialize, Serialize};

/// The lease of the duty that runs posted batches.
pub const LEASE: &str = "imports";

/// What the poster chose, as `sohoa import`'s flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    pub split_at_blank: bool,
    pub dry_run: bool,
    pub no_ocr: bool,
}

/// A batch as posted: newly stored, or the one stored earlier under the same id.
pub struct Submitted {
    pub batch: ImportBatch,
    pub created: bool,
    /// Stored earlier, ended with failures, and running again to retry them.
    pub restarted: bool,
}

/// The documents' outcomes so far.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Counts {
    pub imported: usize,
    pub duplicates: usize,
    pub flagged: usize,
    pub failed: usize,
}

impl From<Totals> for Counts {
    fn from(t: Totals) -> Counts {
        Counts { imported: t.imported, duplicates: t.duplicates, flagged: t.flagged, failed: t.failed }
    }
}

/// A batch with its counts and, once done, its report.
pub struct BatchView {
    pub batch: ImportBatch,
    pub counts: Counts,
    pub report: Option<serde_json::Value>,
}

/// Posted batches over the installation's index, archive and catalog.
pub struct Posted<'a> {
    pub index: &'a dyn Index,
    pub archive: &'a Archive,
    pub catalog: &'a Catalog,
}

fn invalid(code: &'static str, detail: String) -> ServiceError {
    ServiceError::Invalid { code, detail }
}

/// The rows of a batch: the sheet's, each checked, or a document a file without one. A row
/// naming an agency other than the poster's is refused: an agency imports its own papers.
pub(super) fn rows_of(
    sheet: Option<&[u8]>,
    names: &[String],
    agency: &AgencyCode,
    catalog: &Catalog,
) -> Result<Vec<Result<Row, RowError>>> {
    let Some(bytes) = sheet else {
        let mut names = names.to_vec();
        names.sort();
        return Ok(names.into_iter().enumerate().map(|(i, f)| Ok(sheet::bare(i as u32 + 1, f, agency))).collect());
    };
    let text = std::str::from_utf8(bytes).map_err(|e| invalid("sheet_not_utf8", format!("the sheet is not UTF-8: {e}")))?;
    let rules = Rules { catalog, agency, today: vietnam_today() };
    let rows = sheet::read(text, &rules).map_err(|e| invalid(e.code(), e.to_string()))?;
    Ok(rows
        .into_iter()
        .map(|row| match row {
            Ok(r) if &r.agency != agency => Err(RowError {
                line: r.line,
                file: r.files.join(";"),
                code: "agency_not_own",
                detail: format!("agency {} is not the poster's ({agency}): an agency imports its own documents", r.agency),
            }),
            row => row,
        })
        .collect())
}

impl Posted<'_> {
    /// Stores a staged batch whole (its files, then the batch) and leaves it to the runner; a
    /// batch stored before under the same id is answered instead, and run again when
    /// documents of it failed (as running `sohoa import` again retries them).
    pub async fn submit(&self, staged: Staged, agency: AgencyCode, by: String, options: Options) -> Result<Submitted> {
        if staged.files.is_empty() {
            return Err(invalid("batch_empty", "a batch holds at least one file".into()));
        }
        let sheet = match &staged.sheet {
            Some(s) => Some(tokio::fs::read(staged.path_of(s)).await.map_err(|e| internal(e.to_string()))?),
            None => None,
        };
        let names: Vec<String> = staged.files.iter().map(|f| f.name.clone()).collect();
        let rows = rows_of(sheet.as_deref(), &names, &agency, self.catalog)?;
        let id = batch_id(&staged, sheet.as_deref(), &agency, options, rows).await?;
        if let Some(earlier) = self.index.import_batch(&id).await? {
            return self.again(earlier).await;
        }
        let mut files = Vec::with_capacity(staged.files.len());
        for file in &staged.files {
            let stored = self.archive.put_file(&staged.path_of(file)).await?;
            files.push(BatchFile { name: file.name.clone(), digest: stored.digest, size: stored.size });
        }
        let sheet = match &staged.sheet {
            Some(s) => Some(self.archive.put_file(&staged.path_of(s)).await?.digest),
            None => None,
        };
        let spec = BatchSpec { files, sheet, split_at_blank: options.split_at_blank, dry_run: options.dry_run, no_ocr: options.no_ocr };
        let batch =
            ImportBatch { id, agency, by, spec, state: BatchState::Running, report: None, error: None, created_at_ms: 0, updated_at_ms: 0 };
        match self.index.create_import_batch(&batch).await? {
            None => {
                tracing::info!(batch = %batch.id, agency = %batch.agency, files = batch.spec.files.len(), "back-file batch stored");
                let batch = self.index.import_batch(&batch.id).await?.unwrap_or(batch);
                Ok(Submitted { batch, created: true, restarted: false })
            }
            // posted twice at once: the other request stored it first
            Some(earlier) => self.again(earlier).await,
        }
    }

    /// A batch posted again runs again when it could not run or documents of it failed in
    /// import (a timeout, an outage); a row its sheet refused would only fail again.
    async fn again(&self, earlier: ImportBatch) -> Result<Submitted> {
        let retry = match earlier.state {
            BatchState::Running => false,
            BatchState::Failed => true,
            BatchState::Done => self.index.import_items(&earlier.id).await?.iter().any(|i| !i.outcome.is_settled()),
        };
        if !retry {
            return Ok(Submitted { batch: earlier, created: false, restarted: false });
        }
        self.index.set_import_batch_state(&earlier.id, BatchState::Running, None, None).await?;
        tracing::info!(batch = %earlier.id, "back-file batch posted again: running it again");
        let batch = self.index.import_batch(&earlier.id).await?.unwrap_or(earlier);
        Ok(Submitted { batch, created: false, restarted: true })
    }

    /// `agency`'s batch `id` with its counts so far; another agency's is absent.
    pub async fn batch(&self, agency: &AgencyCode, id: &str) -> Result<Option<BatchView>> {
        let Some(batch) = self.index.import_batch(id).await?.filter(|b| &b.agency == agency) else { return Ok(None) };
        let report: Option<serde_json::Value> = batch.report.as_deref().and_then(|r| serde_json::from_str(r).ok());
        let counts = match counts_of_report(batch.report.as_deref()) {
            Some(counts) => counts,
            None => {
                let mut counts = Counts::default();
                for item in self.index.import_items(id).await? {
                    match item.outcome {
                        ImportOutcome::Imported => counts.imported += 1,
                        ImportOutcome::Duplicate => counts.duplicates += 1,
                        ImportOutcome::Flagged => counts.flagged += 1,
                        ImportOutcome::Failed => counts.failed += 1,
                        ImportOutcome::Started => {}
                    }
                }
                counts
            }
        };
        Ok(Some(BatchView { batch, counts, report }))
    }
}

fn internal(detail: String) -> ServiceError {
    ServiceError::Internal { context: "cannot read a staged batch", detail }
}

/// The totals a stored report gives.
fn counts_of_report(report: Option<&str>) -> Option<Counts> {
    #[derive(serde::Deserialize)]
    struct Stored {
        totals: Counts,
    }
    serde_json::from_str::<Stored>(report?).ok().map(|r| r.totals)
}

/// The importer's batch id over what `sohoa import` hashes (the sheet, or the file list,
/// the agency and each named file's size), with the options that change what the batch does
/// and every file's digest: a batch posted again with other content is another batch.
async fn batch_id(
    staged: &Staged,
    sheet: Option<&[u8]>,
    agency: &AgencyCode,
    options: Options,
    rows: Vec<Result<Row, RowError>>,
) -> Result<String> {
    let mut named = match sheet {
        Some(bytes) => bytes.to_vec(),
        None => {
            let mut names: Vec<&str> = staged.files.iter().map(|f| f.name.as_str()).collect();
            names.sort();
            names.join("\n").into_bytes()
        }
    };
    if options.split_at_blank {
        named.extend_from_slice(b"\nsplit at blank pages");
    }
    if options.dry_run {
        named.extend_from_slice(b"\ndry run");
    }
    let mut files: Vec<_> = staged.files.iter().map(|f| format!("\n{}\0{}", f.name, f.digest.as_str())).collect();
    files.sort();
    named.extend(files.concat().into_bytes());
    let (dir, agency) = (staged.dir().to_owned(), agency.clone());
    let batch = tokio::task::spawn_blocking(move || Batch::check(&dir, &named, &agency, rows))
        .await
        .map_err(|e| ServiceError::Internal { context: "cannot check a posted batch", detail: e.to_string() })?;
    Ok(batch.id)
}
