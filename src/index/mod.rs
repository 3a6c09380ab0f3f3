//! The index: dossiers, scans, tokens, the job queue and the audit log, behind one trait
//! with a backend per database engine. The URL scheme picks the backend.

mod group;
pub mod postgres;
mod read_log;
mod sqlite;
mod store;

use crate::domain::{AgencyCode, ComponentStatus, Digest, DossierCode, DossierStatus, Role, ScanStatus};
use crate::queue::{Failure, Job, JobKind, JobState, Priority, RetryPolicy};
use crate::tlog::{NodeId, NodeMap};
use async_trait::async_trait;
use chrono::NaiveDate;
use serde::Serialize;
use std::sync::Arc;

pub use crate::domain::access::{Scope, TokenInfo, TokenListing};
pub use crate::domain::audit::{Actor, AuditEntry, AuditFilter, AuditRecord};
pub use crate::domain::desk::{Applicant, ComponentState, Dossier, DossierFilter, NewDossier, NewScan, Scan};
pub use crate::domain::import::{Duplicate, ImportItem, ImportOutcome};
pub use crate::domain::import_batch::{BatchFile, BatchSpec, BatchState, ImportBatch};
pub use crate::domain::reads::{NewRead, ReadEntry, ReadFilter};
pub use crate::domain::record::{
    ComponentCheck, Correction, Disposal, Hold, NewRecord, Record, RecordCursor, RecordFilter, RecordStatus, RetentionCutoff, StatusChange,
};
pub use crate::domain::result::{NewResult, NewSession, NewVersion, ResultDoc, ResultVersion, SigningSession};
pub use crate::domain::Finish;
pub use postgres::PostgresIndex;
pub use sqlite::SqliteIndex;
pub use store::{
    AuditStore, DossierStore, FixityStore, ImportBatchStore, ImportStore, JobStore, LeaseStore, LifecycleStore, LogStore, ReadLogStore,
    RecordStore, ResultStore, ScanStore, StatsStore, TokenStore,
};

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("unsupported index url {0:?}: use sqlite://PATH or postgres://USER@HOST/DATABASE")]
    UnsupportedUrl(String),
    #[error("index database: {0}")]
    Database(sqlx::Error),
    /// The database cannot be reached, is restarting, or has no connection free in time:
    /// nothing was changed, and the same request may succeed shortly.
    #[error("index database unavailable: {0}")]
    Unavailable(sqlx::Error),
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
            _ if unreachable(&e) => IndexError::Unavailable(e),
            _ => IndexError::Database(e),
        }
    }
}

/// Whether `e` says the database server is out of reach rather than that the statement is
/// wrong: the connection failed or was lost, none was free in time, or the server is
/// shutting down, starting up or full (SQLSTATE classes 08 and 57P, and 53300).
fn unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300"),
        _ => false,
    }
}

pub type Result<T, E = IndexError> = std::result::Result<T, E>;

/// How a process shares a PostgreSQL server (SQLite has one writer and ignores these).
#[derive(Debug, Clone, Copy)]
pub struct PoolSettings {
    /// Connections at most.
    pub size: u32,
    /// How long a statement waits for a connection before the index is unavailable.
    pub acquire_timeout: std::time::Duration,
}

impl PoolSettings {
    pub fn of(config: &crate::config::Config) -> PoolSettings {
        PoolSettings { size: config.index_pool_size, acquire_timeout: config.index_acquire_timeout.0 }
    }
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings::of(&crate::config::Config::default())
    }
}

/// Opens the index named by `url` and brings its schema up to date.
pub async fn open(url: &str) -> Result<Arc<dyn Index>> {
    open_with(url, PoolSettings::default()).await
}

/// As [`open`], with the pool a PostgreSQL index is given.
pub async fn open_with(url: &str, pool: PoolSettings) -> Result<Arc<dyn Index>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteIndex::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresIndex::open_with(url, pool).await?))
    } else {
        Err(IndexError::UnsupportedUrl(url.to_owned()))
    }
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
    /// Claimed before every job of a later priority, whatever their ages.
    pub priority: Priority,
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
    pub attempts: Attempts,
    pub scan: Option<ScanStep>,
    pub enqueue: Option<NewJob>,
}

/// What a step does to the job's count of attempts (a claim counts one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempts {
    Kept,
    /// A fresh set: the job was dead and is queued again.
    Reset,
    /// The attempt just made is given back: it failed for the service's outage, not the job.
    Refunded,
}

impl Attempts {
    /// How the step's SQL reads it: (start from zero, attempts to give back).
    pub fn sql(self) -> (bool, i64) {
        (self == Attempts::Reset, i64::from(self == Attempts::Refunded))
    }
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
    + ReadLogStore
    + FixityStore
    + LeaseStore
    + AuditStore
    + StatsStore
    + ImportStore
    + ImportBatchStore
{
    async fn ping(&self) -> Result<()>;
}
