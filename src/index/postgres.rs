//! PostgreSQL backend: the schema (`migrations/postgres`, the twin of `migrations/sqlite` in
//! PostgreSQL's types) and a pool that several processes (replicas) share one database
//! through. What SQLite gets from its single writer is taken here with locks: every
//! read-then-write runs in one transaction on rows it locks (`FOR NO KEY UPDATE`: keys never
//! change, so inserts whose foreign keys name the row do not wait for it), workers claim
//! jobs with `FOR UPDATE SKIP LOCKED`, and the transparency log is appended under one
//! transaction-scoped advisory lock, so leaves stay in order across processes. Rows are
//! locked in one order, job, scan, component, dossier, so that transactions never wait on
//! each other in a circle.

mod audit_log;
mod batch;
mod dossiers;
mod fixity;
mod import_batches;
mod imports;
mod jobs;
mod leases;
mod lifecycle;
mod reads;
mod records;
mod results;
mod scans;
mod stats;
mod tlog;
mod tokens;

use super::*;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row, Transaction};
use std::str::FromStr;
use std::time::Duration;

type Tx = Transaction<'static, Postgres>;

pub struct PostgresIndex {
    pool: PgPool,
    /// New records, committed in groups.
    records: group::GroupCommit,
    /// Reads of records, logged in groups.
    reads: read_log::ReadLog,
}

/// Connects to the database `url` names and brings its schema up to date. Replicas starting
/// together are safe: sqlx takes an advisory lock around the migrations.
pub async fn connect(url: &str) -> Result<PgPool> {
    connect_with(url, PoolSettings::default()).await
}

/// As [`connect`], with `settings`' pool: a connection is awaited at least a tenth of a second.
pub async fn connect_with(url: &str, settings: PoolSettings) -> Result<PgPool> {
    // The server's notices ("relation _sqlx_migrations already exists, skipping" on every
    // start) would reach the operator as log lines of a command's output: warnings only.
    let options = PgConnectOptions::from_str(url)?.application_name("sohoa").options([("client_min_messages", "warning")]);
    let pool = PgPoolOptions::new()
        .max_connections(settings.size.max(1))
        .acquire_timeout(settings.acquire_timeout.max(Duration::from_millis(100)))
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(pool)
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> IndexError {
    IndexError::Corrupt { table, detail: detail.to_string() }
}

/// A change the target's state does not allow, with its stable code.
fn refused(code: &'static str, detail: String) -> IndexError {
    IndexError::Refused { code, detail }
}

impl PostgresIndex {
    /// Connects, migrates, and gives every record stored before the log existed its leaf.
    pub async fn open(url: &str) -> Result<Self> {
        PostgresIndex::open_with(url, PoolSettings::default()).await
    }

    /// As [`PostgresIndex::open`], with `settings`' pool.
    pub async fn open_with(url: &str, settings: PoolSettings) -> Result<Self> {
        let pool = connect_with(url, settings).await?;
        let records = group::GroupCommit::start(batch::Batches { pool: pool.clone() });
        let reads = read_log::ReadLog::start(reads::ReadBatches { pool: pool.clone() });
        let index = PostgresIndex { pool, records, reads };
        index.log_unlogged_records().await?;
        Ok(index)
    }

    async fn write(&self) -> Result<Tx> {
        Ok(self.pool.begin().await?)
    }
}

async fn audit(tx: &mut Tx, entry: &AuditEntry, target: &str) -> Result<()> {
    sqlx::query("INSERT INTO audit (at, actor, role, agency, action, target, request_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(now_ms())
        .bind(&entry.actor.id)
        .bind(&entry.actor.role)
        .bind(&entry.actor.agency)
        .bind(entry.action)
        .bind(target)
        .bind(&entry.actor.request_id)
        .bind(entry.detail.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The `status` column of `table` as its state enum.
fn parse_state<T>(r: &PgRow, table: &'static str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: &str = r.get("status");
    parse(text).ok_or_else(|| corrupt(table, format!("status {text}")))
}

#[async_trait]
impl Index for PostgresIndex {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
