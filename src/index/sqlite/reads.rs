//! The access log in SQLite: reads committed in groups on the writer connection, each
//! entry's leaf appended to `access_nodes` in the same transaction.

use super::{corrupt, tlog, SqliteIndex, Tx};
use crate::domain::reads::{NewRead, ReadEntry, ReadFilter, ReadKind, Reader};
use crate::domain::AgencyCode;
use crate::index::read_log::{numbered, CommitFuture, ReadCommitter};
use crate::index::{ReadLogStore, Result};
use crate::tlog::{NodeId, NodeMap};
use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqlitePool};

/// The access log's tree.
const NODES: &str = "access_nodes";
/// SQLite's bound on a statement's values.
const BINDS: usize = 32_766;

/// Commits groups of reads on the writer connection.
pub(super) struct ReadBatches {
    pub writer: SqlitePool,
}

impl ReadCommitter for ReadBatches {
    fn commit<'a>(&'a self, reads: &'a [NewRead]) -> CommitFuture<'a> {
        Box::pin(async move {
            let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
            let first = append(&mut tx, reads).await?;
            tx.commit().await?;
            Ok(first)
        })
    }
}

/// Stores `reads` after the log's last entry, with their leaves; the first one's number.
async fn append(tx: &mut Tx, reads: &[NewRead]) -> Result<u64> {
    let size = tlog::size_of(tx, NODES).await?;
    let entries = numbered(size, reads);
    let leaves: Vec<crate::tlog::Hash> = entries.iter().map(|(_, leaf)| *leaf).collect();
    let needed = tlog::nodes_of(tx, NODES, &crate::tlog::append_batch_needs(size, leaves.len() as u64)).await?;
    let nodes = crate::tlog::append_batch(size, &leaves, &needed).map_err(|e| corrupt(NODES, e))?;
    for chunk in nodes.chunks(BINDS / 3) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO access_nodes (level, idx, hash) ");
        q.push_values(chunk, |mut row, (id, hash)| {
            row.push_bind(id.level as i64).push_bind(id.index as i64).push_bind(hash.to_vec());
        });
        q.build().execute(&mut **tx).await?;
    }
    for chunk in entries.chunks(BINDS / 12) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO access_log (seq, at, token_id, token_label, role, agency, record_id, record_agency, owner_id, read, \
             purpose, request_id) ",
        );
        q.push_values(chunk, |mut row, (entry, _)| {
            let e = &entry.entry;
            row.push_bind(entry.seq as i64)
                .push_bind(e.at_ms)
                .push_bind(e.reader.token_id)
                .push_bind(e.reader.label.clone())
                .push_bind(e.reader.role.clone())
                .push_bind(e.reader.agency.clone())
                .push_bind(e.record.clone())
                .push_bind(e.record_agency.as_str().to_owned())
                .push_bind(e.owner_id.clone())
                .push_bind(e.read.as_str())
                .push_bind(e.purpose.clone())
                .push_bind(e.reader.request_id.clone());
        });
        q.build().execute(&mut **tx).await?;
    }
    Ok(size)
}

fn entry(r: &SqliteRow) -> Result<ReadEntry> {
    let seq: i64 = r.get("seq");
    let read: &str = r.get("read");
    let agency: &str = r.get("record_agency");
    Ok(ReadEntry {
        seq: seq as u64,
        entry: NewRead {
            at_ms: r.get("at"),
            reader: Reader {
                token_id: r.get("token_id"),
                label: r.get("token_label"),
                role: r.get("role"),
                agency: r.get("agency"),
                request_id: r.get("request_id"),
            },
            record: r.get("record_id"),
            record_agency: AgencyCode::parse(agency).map_err(|e| corrupt("access_log", e))?,
            owner_id: r.get("owner_id"),
            read: ReadKind::parse(read).ok_or_else(|| corrupt("access_log", format!("read {read:?} of entry {seq}")))?,
            purpose: r.get("purpose"),
        },
    })
}

#[async_trait]
impl ReadLogStore for SqliteIndex {
    async fn log_reads(&self, reads: Vec<NewRead>) -> Result<Vec<u64>> {
        self.reads.log(reads).await
    }

    async fn reads_of_owner(&self, f: &ReadFilter) -> Result<Vec<ReadEntry>> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT * FROM access_log WHERE owner_id = ");
        q.push_bind(f.owner_id.clone());
        if let Some(agency) = &f.record_agency {
            q.push(" AND record_agency = ").push_bind(agency.as_str().to_owned());
        }
        if let Some(before) = f.before {
            q.push(" AND seq < ").push_bind(before as i64);
        }
        q.push(" ORDER BY seq DESC LIMIT ").push_bind(f.limit as i64);
        q.build().fetch_all(&self.pool).await?.iter().map(entry).collect()
    }

    async fn read_entries(&self, from: u64, limit: u32) -> Result<Vec<ReadEntry>> {
        let rows = sqlx::query("SELECT * FROM access_log WHERE seq >= ? ORDER BY seq LIMIT ?")
            .bind(from as i64)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(entry).collect()
    }

    async fn access_size(&self) -> Result<u64> {
        tlog::size_of(&mut *self.pool.acquire().await?, NODES).await
    }

    async fn access_nodes(&self, ids: &[NodeId]) -> Result<NodeMap> {
        tlog::nodes_of(&mut *self.pool.acquire().await?, NODES, ids).await
    }
}
