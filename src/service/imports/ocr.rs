//! What a back-file document's sheet row leaves out (its type, its owner's id, its number
//! or issue date), read from its pages by the desk's workers: the document's unsealed copy
//! is stored in the archive as a scan is, an `ocr` job of import priority is queued for it
//! (keyed by batch and line, so that a resumed batch finds it again rather than queue it
//! twice), and the importer waits for the job's result, then classifies the text and
//! extracts its fields as the desk does.

use super::sheet::{self, Row};
use crate::archive::Archive;
use crate::classify::{extract, Classifier, UNKNOWN};
use crate::custody::{Recognition, ScanResult};
use crate::domain::{AgencyCode, Digest, JobState};
use crate::index::{Index, IndexError, NewJob};
use crate::policy::Catalog;
use crate::queue::{ImportDocument, JobKind, OcrPayload, Priority};
use chrono::NaiveDate;
use serde_json::{json, Value};
use sohoa_protocol::register::Entry;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Flags of a document OCR could not settle.
pub const LOW_CONFIDENCE: &str = "low_confidence";
/// How often the importer looks at its jobs.
const POLL: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("no worker read the batch's documents for {}s{} (are workers running? `--ocr-timeout` waits longer)", .waited.as_secs(), .job.map(|j| format!("; job {j} stays queued")).unwrap_or_default())]
    NoWorker { job: Option<i64>, waited: Duration },
    #[error("the document's OCR job {job} failed for good: {reason} (requeue it, then run the batch again)")]
    Failed { job: i64, reason: String },
    #[error("the document's OCR job {job} left a result that does not read: {reason}")]
    Result { job: i64, reason: String },
    #[error("cannot serialize the job's payload: {0}")]
    Payload(String),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
}

impl OcrError {
    pub fn code(&self) -> &'static str {
        match self {
            OcrError::NoWorker { .. } => "ocr_timeout",
            OcrError::Failed { .. } => "ocr_failed",
            OcrError::Result { .. } | OcrError::Payload(_) => "ocr_result_invalid",
            OcrError::Index(_) => "index_unavailable",
            OcrError::Archive(e) => e.code(),
        }
    }
}

/// Queues documents for the workers and waits for what they read.
pub struct Reader<'a> {
    pub index: &'a dyn Index,
    pub archive: &'a Archive,
    pub max_attempts: u32,
    /// How long the documents may wait with no sign of a worker before the batch gives up.
    pub timeout: Duration,
    /// The last sign of a worker at the import's jobs, and how many jobs are waited on: one
    /// for the whole import, so that with no worker at all the batch stops after one wait,
    /// not one wait a document.
    watch: Mutex<(Instant, usize)>,
    /// Set once no worker came: the documents after are not queued, nor waited for.
    stalled: AtomicBool,
}

/// What the workers read of register pages: the job, its result (the pages' words, turns
/// and sizes) and the entries of the pages' ruled rows.
pub struct RegisterReading {
    pub job: i64,
    pub result: ScanResult,
    pub entries: Vec<Entry>,
}

/// What the workers read of a document, classified and its fields extracted.
pub struct Reading {
    pub job: i64,
    pub doc_type: String,
    pub confidence: f32,
    pub owner_id: Option<String>,
    pub number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    /// Who read it with what, for the record's summary.
    pub source: Value,
}

impl<'a> Reader<'a> {
    pub fn new(index: &'a dyn Index, archive: &'a Archive, max_attempts: u32, timeout: Duration) -> Reader<'a> {
        Reader { index, archive, max_attempts, timeout, watch: Mutex::new((Instant::now(), 0)), stalled: AtomicBool::new(false) }
    }

    /// The document `pdf` of `batch`'s `line`, read by a worker. Its job is queued once
    /// however often this is asked; a job done before a stop is read, not run again.
    pub async fn read(&self, batch: &str, line: u32, agency: &AgencyCode, pdf: &[u8], catalog: &Catalog) -> Result<Reading, OcrError> {
        let (id, result) = self.recognised(batch, line, agency, pdf, false).await?;
        Ok(reading(id, &result, catalog))
    }

    /// The register pages `pdf` of `batch`'s `line`, read by a worker as [`Reader::read`]
    /// reads a document: their words, and the entries of their ruled rows.
    pub async fn read_register(&self, batch: &str, line: u32, agency: &AgencyCode, pdf: &[u8]) -> Result<RegisterReading, OcrError> {
        let (job, result) = self.recognised(batch, line, agency, pdf, true).await?;
        let invalid = |reason: String| OcrError::Result { job, reason };
        let digest = Digest::parse(&result.recognition).map_err(|e| invalid(e.to_string()))?;
        let stored = self.archive.get_blob(&digest).await?;
        let recognition: Recognition = serde_json::from_slice(&stored).map_err(|e| invalid(e.to_string()))?;
        let entries =
            recognition.register.ok_or_else(|| invalid("the worker read no register entries (a worker older than the service?)".into()))?;
        Ok(RegisterReading { job, result, entries })
    }

    /// The job reading `pdf` queued (once) and its result once a worker read it.
    async fn recognised(
        &self,
        batch: &str,
        line: u32,
        agency: &AgencyCode,
        pdf: &[u8],
        register: bool,
    ) -> Result<(i64, ScanResult), OcrError> {
        if self.stalled.load(Ordering::SeqCst) {
            return Err(OcrError::NoWorker { job: None, waited: self.timeout });
        }
        let digest = self.archive.put_blob(pdf.to_vec().into()).await?;
        let payload = OcrPayload {
            scan: None,
            import: Some(ImportDocument { batch: batch.to_owned(), line }),
            digest: digest.clone(),
            media_type: "application/pdf".into(),
            register,
        };
        let job = NewJob {
            kind: JobKind::Ocr,
            agency: agency.clone(),
            payload: serde_json::to_string(&payload).map_err(|e| OcrError::Payload(e.to_string()))?,
            max_attempts: self.max_attempts,
            key: format!("ocr:import:{batch}:{line}"),
            priority: Priority::Import,
        };
        let id = self.index.queue_job(job).await?;
        self.waiting(1);
        let result = self.wait(id).await;
        self.waiting(-1);
        let result = ScanResult::from_value(result?).map_err(|e| OcrError::Result { job: id, reason: e.to_string() })?;
        if Digest::parse(&result.input).ok() != Some(digest) {
            return Err(OcrError::Result { job: id, reason: format!("it read {}, not the document", result.input) });
        }
        Ok((id, result))
    }

    /// Counts a job waited on; the first of a quiet spell starts the clock again.
    fn waiting(&self, change: isize) {
        let mut watch = self.watch.lock().unwrap_or_else(|e| e.into_inner());
        if watch.1 == 0 && change > 0 {
            watch.0 = Instant::now();
        }
        watch.1 = watch.1.saturating_add_signed(change);
    }

    fn sign(&self) {
        self.watch.lock().unwrap_or_else(|e| e.into_inner()).0 = Instant::now();
    }

    fn quiet_for(&self) -> Duration {
        self.watch.lock().unwrap_or_else(|e| e.into_inner()).0.elapsed()
    }

    /// The job's result once done. A job under a live lease, or one that moved since last
    /// looked at, is a sign that workers are at the import's jobs.
    async fn wait(&self, id: i64) -> Result<Value, OcrError> {
        let mut seen = None;
        loop {
            let Some(job) = self.index.job(id).await? else {
                return Err(OcrError::Result { job: id, reason: "the job is gone".into() });
            };
            match job.state {
                JobState::Done => {
                    self.sign();
                    let result = self.index.job_result(id).await?;
                    return result.ok_or_else(|| OcrError::Result { job: id, reason: "the job is done with no result".into() });
                }
                JobState::Dead => {
                    return Err(OcrError::Failed { job: id, reason: job.last_error.unwrap_or_else(|| "no reason given".into()) });
                }
                _ => {}
            }
            let now = chrono::Utc::now().timestamp_millis();
            let now_seen = (job.state, job.attempts, job.lease_until_ms);
            if seen.is_some_and(|s| s != now_seen) || (job.state == JobState::Running && job.lease_until_ms.is_some_and(|u| u > now)) {
                self.sign();
            }
            seen = Some(now_seen);
            let waited = self.quiet_for();
            if waited > self.timeout {
                self.stalled.store(true, Ordering::SeqCst);
                return Err(OcrError::NoWorker { job: Some(id), waited: self.timeout });
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

/// The document's type, classified as the desk classifies a scan, and the fields extracted
/// from its text; an owner's id that fails the id rules is left out.
fn reading(job: i64, result: &ScanResult, catalog: &Catalog) -> Reading {
    let texts = result.texts();
    let classification = Classifier::new(catalog).classify(&texts);
    let fields = extract(&texts.join("\n"));
    let field = |name: &str| fields.get(name).map(|f| f.value.clone());
    let owner_id = field("owner_id").or_else(|| field("enterprise_code")).and_then(|id| sheet::owner(&id));
    let issue_date = field("issue_date").and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
    Reading {
        job,
        doc_type: classification.doc_type,
        confidence: classification.confidence,
        owner_id,
        number: field("document_number"),
        issue_date,
        source: json!({
            "job": job,
            "recognition": result.recognition,
            "worker": result.worker,
            "engine": result.engine,
        }),
    }
}

impl Reading {
    /// Fills what `row` leaves out with what was read (the sheet's values always win), and
    /// names what is still missing: a type the classifier was unsure of (`low_confidence`)
    /// or found no evidence for (`type_unknown`), an owner's id not read or not valid.
    pub fn fill(&self, row: &mut Row, today: NaiveDate) -> (Vec<&'static str>, Vec<&'static str>) {
        let (mut filled, mut flags) = (Vec::new(), Vec::new());
        if row.doc_type.is_none() {
            if self.doc_type != UNKNOWN {
                row.doc_type = Some(self.doc_type.clone());
                filled.push("doc_type");
            } else if self.confidence > 0.0 {
                flags.push(LOW_CONFIDENCE);
            } else {
                flags.push(super::TYPE_UNKNOWN);
            }
        }
        if row.owner_id.is_none() {
            match &self.owner_id {
                Some(id) => {
                    row.owner_id = Some(id.clone());
                    filled.push("owner_id");
                }
                None => flags.push(super::OWNER_ID_MISSING),
            }
        }
        if row.number.is_none() && self.number.is_some() {
            row.number = self.number.clone();
            filled.push("number");
        }
        if row.issue_date.is_none() && self.issue_date.is_some_and(|d| d <= today) {
            row.issue_date = self.issue_date;
            filled.push("issue_date");
        }
        (filled, flags)
    }
}
