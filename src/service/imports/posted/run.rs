//! Runs posted batches: each one's files fetched from the archive into a directory of its
//! own, its rows read as `sohoa import` reads them, and its documents imported by the same
//! [`Importer`]. Progress is the importer's (by batch and line in the index), so a batch cut
//! off by a stop or a crash resumes where it stopped when a replica next runs it.

use super::rows_of;
use crate::archive::Archive;
use crate::domain::import_batch::{BatchState, ImportBatch};
use crate::domain::AgencyCode;
use crate::index::Index;
use crate::intake::MediaLimits;
use crate::policy::Catalog;
use crate::seal::AgencySeal;
use crate::service::imports::ocr::Reader;
use crate::service::imports::report::{Outcome, Report, Totals};
use crate::service::imports::{split, Batch, Importer};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Documents of a batch worked on at a time, as `sohoa import`'s default.
const JOBS: usize = 4;

/// Why a batch could not be run; `transient` ones are tried again at the next pass.
struct RunError {
    code: &'static str,
    detail: String,
}

impl RunError {
    fn transient(&self) -> bool {
        matches!(self.code, "index_unavailable" | "archive_unavailable")
    }
}

impl From<crate::archive::ArchiveError> for RunError {
    fn from(e: crate::archive::ArchiveError) -> Self {
        RunError { code: e.code(), detail: e.to_string() }
    }
}

impl From<crate::index::IndexError> for RunError {
    fn from(e: crate::index::IndexError) -> Self {
        RunError { code: "index_unavailable", detail: e.to_string() }
    }
}

impl From<crate::service::ServiceError> for RunError {
    fn from(e: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError as S;
        let code = match &e {
            S::Invalid { code, .. } | S::Conflict { code, .. } | S::NotFound { code, .. } | S::BadRequest { code, .. } => *code,
            S::Unavailable { code, .. } | S::Forbidden { code, .. } | S::TooLarge { code, .. } | S::Unsupported { code, .. } => *code,
            S::Index(_) => "index_unavailable",
            S::Archive(a) => a.code(),
            S::Internal { .. } => "internal",
        };
        RunError { code, detail: e.to_string() }
    }
}

fn stopped(e: tokio::task::JoinError) -> RunError {
    RunError { code: "internal", detail: e.to_string() }
}

/// What the imports duty runs with: the installation's stores, catalog and seals.
pub struct Runner {
    pub index: Arc<dyn Index>,
    pub archive: Archive,
    pub catalog: Arc<Catalog>,
    pub seals: Arc<BTreeMap<AgencyCode, AgencySeal>>,
    pub limits: MediaLimits,
    /// Attempts of an OCR job, for the importer to tell a dead job from a waiting one.
    pub max_attempts: u32,
    /// How long documents may wait for a worker to read them.
    pub ocr_timeout: Duration,
}

impl Runner {
    /// Runs every batch still running, oldest first, until none is left.
    pub async fn pass(&self) {
        let batches = match self.index.running_import_batches().await {
            Ok(b) => b,
            Err(e) => return tracing::warn!(error = %e, "cannot list the running back-file batches"),
        };
        for batch in batches {
            let started = Instant::now();
            let (state, report, error) = match self.run(&batch).await {
                Ok(report) => (BatchState::Done, Some(report), None),
                Err(e) if e.transient() => {
                    tracing::warn!(batch = %batch.id, code = e.code, error = %e.detail, "back-file batch not run now: tried again at the next pass");
                    continue;
                }
                Err(e) => {
                    tracing::error!(batch = %batch.id, code = e.code, error = %e.detail, "back-file batch cannot be run");
                    (BatchState::Failed, None, Some(format!("{}: {}", e.code, e.detail)))
                }
            };
            match self.index.set_import_batch_state(&batch.id, state, report.as_deref(), error.as_deref()).await {
                Ok(_) => {
                    tracing::info!(batch = %batch.id, state = state.as_str(), seconds = started.elapsed().as_secs_f64(), "back-file batch ended")
                }
                // still running in the index: the next pass runs it again, every document settled
                Err(e) => tracing::warn!(batch = %batch.id, error = %e, "cannot keep a back-file batch's end"),
            }
        }
    }

    /// Imports `posted`'s documents; its end report in JSON.
    async fn run(&self, posted: &ImportBatch) -> Result<String, RunError> {
        let dir = tempfile::Builder::new()
            .prefix("sohoa-import-")
            .tempdir()
            .map_err(|e| RunError { code: "internal", detail: format!("cannot make a directory for the batch: {e}") })?;
        for file in &posted.spec.files {
            self.archive.get_blob_to_file(&file.digest, &dir.path().join(&file.name)).await?;
        }
        let sheet = match &posted.spec.sheet {
            Some(digest) => Some(self.archive.get_blob(digest).await?),
            None => None,
        };
        let names: Vec<String> = posted.spec.files.iter().map(|f| f.name.clone()).collect();
        let mut rows = rows_of(sheet.as_deref(), &names, &posted.agency, &self.catalog)?;
        if posted.spec.split_at_blank {
            let (path, limits, catalog, bare) = (dir.path().to_owned(), self.limits, self.catalog.clone(), sheet.is_none());
            rows = tokio::task::spawn_blocking(move || split(&path, rows, bare, limits, &catalog.scan_quality)).await.map_err(stopped)?;
        }
        let (path, agency) = (dir.path().to_owned(), posted.agency.clone());
        // the rows as the poster's request checked them; the id is the one stored
        let mut batch = tokio::task::spawn_blocking(move || Batch::check(&path, b"", &agency, rows)).await.map_err(stopped)?;
        batch.id = posted.id.clone();

        let mut importer = Importer::new(self.index.as_ref(), &self.archive, &self.catalog, &self.seals, self.limits, posted.by.clone());
        importer.dry_run = posted.spec.dry_run;
        if !posted.spec.no_ocr {
            importer.reader = Some(Reader::new(self.index.as_ref(), &self.archive, self.max_attempts, self.ocr_timeout));
        }
        importer.claim_first_rows(&batch);
        let progress = importer.progress(&batch.id).await.map_err(|e| RunError { code: e.code(), detail: e.to_string() })?;
        let started = Instant::now();
        // the documents' futures made before any is polled: a closure held across the awaits
        // would keep this future from being sent between threads
        let documents: Vec<_> =
            batch.rows.iter().map(|row| importer.import(&batch, row, row.as_ref().ok().and_then(|r| progress.get(&r.line)))).collect();
        let mut outcomes: Vec<Outcome> = futures::stream::iter(documents).buffer_unordered(JOBS).collect().await;
        outcomes.sort_by_key(|o| o.line);
        let report = Report {
            batch: &batch.id,
            dry_run: posted.spec.dry_run,
            interrupted: false,
            totals: Totals::of(&outcomes),
            seconds: started.elapsed().as_secs_f64(),
            documents: &outcomes,
        };
        Ok(report.to_json())
    }
}
