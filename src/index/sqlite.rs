//! SQLite backend: one file in WAL mode. Every write goes through one connection, so that
//! writers queue in the process instead of on the file lock and that connection's page cache
//! stays valid between transactions; reads run on a pool beside it. Writers
//! still take the lock up front (`BEGIN IMMEDIATE`) for other processes on the same file.

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
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteIndex {
    /// Reads.
    pool: SqlitePool,
    /// Writes: one connection.
    writer: SqlitePool,
    /// New records, committed in groups on the writer.
    records: group::GroupCommit,
    /// Reads of records, logged in groups on the writer.
    reads: read_log::ReadLog,
}

/// Connections for reads.
const READERS: u32 = 8;
/// The writer's page cache, in KiB (a negative `cache_size`): the indexes a record touches.
const WRITER_CACHE_KIB: &str = "-32768";

type Tx = Transaction<'static, Sqlite>;

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

impl SqliteIndex {
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| IndexError::Database(sqlx::Error::Io(e)))?;
            }
        }
        // A local file has no connection to lose: no round trip to test one before each use.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone().pragma("cache_size", WRITER_CACHE_KIB))
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let pool = SqlitePoolOptions::new().max_connections(READERS).test_before_acquire(false).connect_with(options).await?;
        let records = group::GroupCommit::start(batch::Batches { writer: writer.clone() });
        let reads = read_log::ReadLog::start(reads::ReadBatches { writer: writer.clone() });
        let index = SqliteIndex { pool, writer, records, reads };
        index.log_unlogged_records().await?;
        Ok(index)
    }

    async fn write(&self) -> Result<Tx> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }
}

async fn audit(tx: &mut Tx, entry: &AuditEntry, target: &str) -> Result<()> {
    sqlx::query("INSERT INTO audit (at, actor, role, agency, action, target, request_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
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
fn parse_state<T>(r: &SqliteRow, table: &'static str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: &str = r.get("status");
    parse(text).ok_or_else(|| corrupt(table, format!("status {text}")))
}

#[async_trait]
impl Index for SqliteIndex {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
