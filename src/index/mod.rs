//! The index: dossiers, scans, tokens, the job queue and the audit log, behind one trait
//! with a backend per database engine. The URL scheme picks the backend.

mod group;
pub mod postgres;
mod sqlite;
mod store;

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
pub use postgres::PostgresIndex;
pub use sqlite::SqliteIndex;
pub use store::{
    AuditStore, DossierStore, FixityStore, JobStore, LeaseStore, LifecycleStore, LogStore, RecordStore, ResultStore, ScanStore, StatsStore,
    TokenStore,
};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("unsupported index url {0:?}: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
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
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresIndex::open(url).await?))
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

/// Which audit entries to return; every field left empty matches all.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub agency: Option<AgencyCode>,
    pub target: Option<String>,
    /// An action (`token.create`) or a family of actions (`token`).
    pub action: Option<String>,
    /// `token:<id>` or `system`.
    pub actor: Option<String>,
    /// `[from_ms, to_ms)`.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub limit: u32,
}

/// A token as an administrator sees it: never its secret nor its hash.
#[derive(Debug, Clone, Serialize)]
pub struct TokenListing {
    pub id: i64,
    pub role: Role,
    pub agency: AgencyCode,
    pub label: String,
    pub scope: Scope,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    /// For a worker: when it last claimed a job or renewed a lease.
    pub last_seen_at_ms: Option<i64>,
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

/// A lease on a singleton duty as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lease {
    pub name: String,
    pub holder: String,
    pub acquired_at_ms: i64,
    pub expires_at_ms: i64,
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

/// Storage for everything the service indexes: the traits of each concern together, so that
/// callers hold one `Arc<dyn Index>`.
#[async_trait]
pub trait Index:
    TokenStore
    + DossierStore
    + ScanStore
    + JobStore
    + RecordStore
    + LifecycleStore
    + ResultStore
    + LogStore
    + FixityStore
    + LeaseStore
    + AuditStore
    + StatsStore
{
    async fn ping(&self) -> Result<()>;
}
