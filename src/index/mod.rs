//! The index: dossiers, scans, tokens, the job queue and the audit log, behind one trait
//! with a backend per database engine. The URL scheme picks the backend.

mod sqlite;

use crate::domain::{AgencyCode, ComponentStatus, Digest, DossierCode, DossierStatus, Role, ScanStatus};
use crate::queue::{Failure, Job, JobKind, JobState, RetryPolicy};
use crate::tlog::{NodeId, NodeMap};
use async_trait::async_trait;
use chrono::NaiveDate;
use serde::Serialize;
use std::sync::Arc;

pub use crate::domain::desk::{Applicant, ComponentState, Dossier, DossierFilter, NewDossier, NewScan, Scan};
pub use crate::domain::record::{
    ComponentCheck, Correction, Disposal, Hold, NewRecord, Record, RecordCursor, RecordFilter, RecordStatus, RetentionCutoff, StatusChange,
};
pub use crate::domain::result::{NewResult, NewSession, NewVersion, ResultDoc, ResultVersion, SigningSession};
pub use sqlite::SqliteIndex;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("unsupported index url {0:?}: use sqlite://PATH")]
    UnsupportedUrl(String),
    #[error("index database: {0}")]
    Database(sqlx::Error),
    #[error("index migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("no dossier numbers left for agency {agency} on {day}")]
    SequenceExhausted { agency: AgencyCode, day: NaiveDate },
    #[error("a row with the same unique key exists")]
    Conflict,
    /// The change is not allowed in the target's present state; `code` is stable.
    #[error("{detail}")]
    Refused { code: &'static str, detail: String },
    #[error("corrupt index row in {table}: {detail}")]
    Corrupt { table: &'static str, detail: String },
}

impl From<sqlx::Error> for IndexError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => IndexError::Conflict,
            _ => IndexError::Database(e),
        }
    }
}

pub type Result<T, E = IndexError> = std::result::Result<T, E>;

/// Opens the index named by `url` and brings its schema up to date.
pub async fn open(url: &str) -> Result<Arc<dyn Index>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteIndex::open(url).await?))
    } else {
        Err(IndexError::UnsupportedUrl(url.to_owned()))
    }
}

/// A token as stored: only the SHA-256 of its secret is kept.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: i64,
    pub role: Role,
    pub agency: AgencyCode,
    pub label: String,
    pub scope: Scope,
}

/// What a consumer token (another system) may read besides its own agency's records: the
/// records of `agencies`, and only records of `doc_types` when that list is not empty; and
/// whether a worker token runs every agency's jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agencies: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub doc_types: Vec<String>,
    /// For a worker: the installation's shared worker, which runs every agency's jobs (the
    /// service proves what it reports before sealing, see `custody`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub every_agency: bool,
}

/// Who did something, for the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    /// `token:<id>` or `system`.
    pub id: String,
    pub role: String,
    pub agency: String,
    pub request_id: String,
}

impl Actor {
    /// The service itself, for no agency in particular: seen by no agency's auditor.
    pub fn system(what: &str) -> Actor {
        Actor { id: "system".into(), role: "system".into(), agency: "-".into(), request_id: what.into() }
    }

    /// The service itself, acting on what belongs to `agency`: that agency's auditors see it.
    pub fn system_for(what: &str, agency: &AgencyCode) -> Actor {
        Actor { agency: agency.to_string(), ..Actor::system(what) }
    }
}

/// One audit log line to write in the same transaction as the change it describes.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: Actor,
    pub action: &'static str,
    pub target: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub role: String,
    pub agency: String,
    pub action: String,
    pub target: String,
    pub request_id: String,
    pub detail: serde_json::Value,
}

/// Objects the index refers to, which the archive must hold.
#[derive(Debug, Clone, Default)]
pub struct ArchivedObjects {
    pub blobs: Vec<Digest>,
    /// (record id, manifest digest).
    pub manifests: Vec<(String, Digest)>,
}

/// One fixity pass as kept: the counts, and the whole report as JSON.
#[derive(Debug, Clone)]
pub struct FixityRun {
    /// Given by the index; ignored when saving.
    pub id: i64,
    pub started_at_ms: i64,
    pub finished_at_ms: i64,
    pub checked: u64,
    pub ok: u64,
    pub missing: u64,
    pub corrupt: u64,
    pub restored: u64,
    pub report: serde_json::Value,
}

/// What a step of a job does to the scan it processes, as a service decided it: the scan
/// goes to `to` if it is in one of `from` (else the step is refused, `illegal_transition`),
/// and its component to `component`.
#[derive(Debug, Clone)]
pub struct ScanStep {
    pub from: Vec<ScanStatus>,
    pub to: ScanStatus,
    pub component: Option<ComponentStatus>,
    /// The component's flags, replaced when given.
    pub flags: Option<Vec<String>>,
    /// The failure the scan shows; `None` clears an earlier one.
    pub error: Option<Failure>,
    /// What recognising the scan gave, kept with it.
    pub result: Option<serde_json::Value>,
}

/// A job to queue; a job with the same key already queued or done is kept, not doubled.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: JobKind,
    pub agency: AgencyCode,
    /// The payload as JSON text.
    pub payload: String,
    pub max_attempts: u32,
    pub key: String,
}

/// A step of a job as a service decided it. It applies only while the job is as the service
/// found it (`from`, under `lease`, its lease run out before `expired_before`), with its
/// scan's step and the job it queues, in one transaction.
#[derive(Debug, Clone)]
pub struct JobStep {
    pub job: i64,
    pub from: JobState,
    pub lease: Option<String>,
    pub expired_before: Option<i64>,
    pub to: JobState,
    pub result: Option<serde_json::Value>,
    /// Replaces the last error when given.
    pub last_error: Option<String>,
    pub run_after_ms: Option<i64>,
    /// Forgets the lease holder (the job is queued again); a done or dead job keeps its name.
    pub release: bool,
    pub reset_attempts: bool,
    pub scan: Option<ScanStep>,
    pub enqueue: Option<NewJob>,
}

/// Outcome of finishing a job as its lease holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Done,
    /// Failed and queued again for another try.
    Retrying,
    Dead,
    /// The caller does not hold the job's lease (expired, or another worker has it).
    NotLeaseHolder,
}

/// Storage for everything the service indexes. Implementations must make each method
/// atomic: a method either applies all its writes (audit entry included) or none.
#[async_trait]
pub trait Index: Send + Sync {
    async fn ping(&self) -> Result<()>;

    async fn create_token(&self, role: Role, agency: &AgencyCode, label: &str, scope: &Scope, hash: &str) -> Result<i64>;
    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenInfo>>;
    async fn revoke_token(&self, id: i64) -> Result<()>;

    /// Allocates the next code of the agency's day and stores the dossier with its checklist.
    async fn create_dossier(&self, dossier: NewDossier, audit: AuditEntry) -> Result<DossierCode>;
    async fn dossier(&self, code: &DossierCode) -> Result<Option<Dossier>>;
    async fn list_dossiers(&self, filter: &DossierFilter) -> Result<Vec<Dossier>>;

    async fn scan_by_idempotency_key(&self, key: &str) -> Result<Option<Scan>>;
    /// Stores the scan, queues its job and marks the component pending, in one transaction.
    async fn create_scan(&self, scan: NewScan, kind: JobKind, policy: RetryPolicy, audit: AuditEntry) -> Result<Scan>;
    async fn scan(&self, id: i64) -> Result<Option<Scan>>;
    /// What the worker reported for a finished scan: the searchable PDF and page texts.
    async fn scan_result(&self, id: i64) -> Result<Option<serde_json::Value>>;

    /// Hands the oldest ready job of `kinds` (of `agency` when given) to a worker under a new
    /// lease, with `scan` applied to the scan it processes; a job whose lease ran out is ready
    /// again while it has attempts left.
    async fn claim_job(
        &self,
        kinds: &[JobKind],
        agency: Option<&AgencyCode>,
        lease: &str,
        lease_ms: i64,
        now_ms: i64,
        scan: &ScanStep,
    ) -> Result<Option<Job>>;
    /// Running jobs whose lease ran out before `now_ms` with no attempt left.
    async fn expired_jobs(&self, now_ms: i64) -> Result<Vec<Job>>;
    async fn heartbeat(&self, job: i64, lease: &str, until_ms: i64) -> Result<bool>;
    /// Applies `step` with `audit`; `false`, writing nothing, when the job is no longer as the
    /// step expects.
    async fn step_job(&self, step: JobStep, audit: Option<AuditEntry>) -> Result<bool>;
    async fn job(&self, id: i64) -> Result<Option<Job>>;
    /// Jobs by kind and state, over every agency: the queue's depth.
    async fn job_counts(&self) -> Result<Vec<(JobKind, JobState, u64)>>;
    /// Jobs in `state` (of `agency` when given), oldest first.
    async fn jobs_in_state(&self, state: JobState, agency: Option<&AgencyCode>, limit: u32) -> Result<Vec<Job>>;

    /// Stores a sealed record and appends its manifest to the transparency log, marks its
    /// scan `sealed` and its component by `check`, and the dossier `complete` when every
    /// required component is satisfied. A scan has at most one record: sealing it again
    /// returns the first.
    async fn create_record(&self, record: NewRecord, check: ComponentCheck, audit: AuditEntry) -> Result<Record>;
    /// Applies `step` to scan `scan` (a recognised scan left unsealed) with the audit entry.
    async fn step_scan(&self, scan: i64, step: ScanStep, audit: AuditEntry) -> Result<()>;
    /// Links an existing record to a component instead of a new scan: the component is
    /// satisfied and counted as reused; the dossier may become complete.
    async fn reuse_record(&self, dossier: &DossierCode, component: &str, record: &str, audit: AuditEntry) -> Result<()>;
    async fn record(&self, id: &str) -> Result<Option<Record>>;
    async fn record_for_scan(&self, scan: i64) -> Result<Option<Record>>;
    /// Oldest first, after the cursor.
    async fn find_records(&self, filter: &RecordFilter) -> Result<Vec<Record>>;

    /// Replaces an active record by its corrected version in one transaction: the new record
    /// (with its log leaf) takes the component, checked by `check`; the old one is
    /// superseded; `label` (`{"doc_type", "fields"}`) is kept for `scan` as labelled data.
    async fn correct_record(
        &self,
        old: &str,
        record: NewRecord,
        check: ComponentCheck,
        scan: i64,
        label: serde_json::Value,
        audit: AuditEntry,
    ) -> Result<Record>;
    /// Replaces an active record by a renewed version of its content (the same document with
    /// validation data and a newer document time-stamp appended) in one transaction: the new
    /// record (with its log leaf) takes the component with the old one's check; the old one is
    /// superseded and stays, content, manifest and leaf.
    async fn renew_record(&self, old: &str, record: NewRecord, check: ComponentCheck, audit: AuditEntry) -> Result<Record>;
    /// The agency's corrections, newest first.
    async fn corrections(&self, agency: &AgencyCode, limit: u32) -> Result<Vec<Correction>>;
    /// Moves the dossier from `from` to `to`; `false`, writing nothing, when it is not in `from`.
    async fn set_dossier_status(&self, code: &DossierCode, from: DossierStatus, to: DossierStatus, audit: AuditEntry) -> Result<bool>;
    /// Revokes or supersedes an active record; its content, manifest and log leaf stay.
    /// `None` when there is no such record.
    async fn change_record_status(&self, id: &str, change: StatusChange, audit: AuditEntry) -> Result<Option<Record>>;
    /// Places a legal hold on `target` (`record:<id>` or `dossier:<code>` of `agency`).
    async fn place_hold(&self, agency: &AgencyCode, target: &str, reason: &str, audit: AuditEntry) -> Result<Hold>;
    /// Releases a hold in force; `None` when the agency has no such hold in force.
    async fn release_hold(&self, agency: &AgencyCode, id: i64, audit: AuditEntry) -> Result<Option<Hold>>;
    /// The agency's holds, newest first; with `in_force`, only those not released.
    async fn holds(&self, agency: &AgencyCode, in_force: bool, limit: u32) -> Result<Vec<Hold>>;
    /// The agency's records past retention, not disposed of and not under a hold, oldest first.
    async fn disposal_candidates(&self, agency: &AgencyCode, rules: &[RetentionCutoff], limit: u32) -> Result<Vec<Record>>;
    /// Marks a record disposed of, checking in the same transaction that it is past `rule`
    /// and under no hold. `None` when there is no such record.
    async fn dispose_record(&self, id: &str, rule: &RetentionCutoff, reason: &str, audit: AuditEntry) -> Result<Option<Disposal>>;

    /// Attaches a result document (version 1) to a dossier.
    async fn create_result(&self, result: NewResult, audit: AuditEntry) -> Result<ResultDoc>;
    async fn result(&self, id: &str) -> Result<Option<ResultDoc>>;
    /// Adds a signed version if the result is still a draft at `version.base`, marking the
    /// deferred-signing session used in the same transaction.
    async fn add_result_version(&self, id: &str, version: NewVersion, audit: AuditEntry) -> Result<ResultDoc>;
    async fn create_signing_session(&self, session: NewSession, audit: AuditEntry) -> Result<()>;
    async fn signing_session(&self, id: &str) -> Result<Option<SigningSession>>;
    /// Marks a draft result issued as `record` (already stored).
    async fn issue_result(&self, id: &str, record: &str, audit: AuditEntry) -> Result<ResultDoc>;

    /// Leaves in the transparency log: every record has one (`Record::log_index`),
    /// appended in the transaction that stores the record.
    async fn tlog_size(&self) -> Result<u64>;
    /// The stored log nodes among `ids`; absent ones are left out. Nodes never change once
    /// written, so proofs may be computed from a size read earlier.
    async fn tlog_nodes(&self, ids: &[NodeId]) -> Result<NodeMap>;

    /// What the archive must hold: every record's content and scan (blobs), and every
    /// record's manifest with the digest recorded when it was sealed.
    async fn archived_objects(&self) -> Result<ArchivedObjects>;
    /// Keeps a fixity pass's report; returns its id.
    async fn save_fixity_run(&self, run: &FixityRun) -> Result<i64>;
    async fn latest_fixity_run(&self) -> Result<Option<FixityRun>>;

    /// Newest first; with `agency`, that agency's entries only (the service's own entries
    /// carry the agency of what they concern).
    async fn audit_log(&self, agency: Option<&AgencyCode>, target: Option<&str>, limit: u32) -> Result<Vec<AuditRecord>>;
}
