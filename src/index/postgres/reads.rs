//! The access log in PostgreSQL: reads committed in groups, each entry's leaf appended to
//! `access_nodes` in the same transaction under the access log's own advisory lock, so
//! replicas' groups take turns and the entries stay numbered without gaps.

use super::{corrupt, tlog, PostgresIndex, Tx};
use crate::domain::reads::{NewRead, ReadEntry, ReadFilter, ReadKind, Reader};
use crate::domain::AgencyCode;
use crate::index::read_log::{numbered, CommitFuture, ReadCommitter};
use crate::index::{ReadLogStore, Result};
use crate::tlog::{NodeId, NodeMap};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, QueryBuilder, Row};

/// The access log's tree.
const NODES: &str = "access_nodes";
/// PostgreSQL's bound on a statement's values.
const BINDS: usize = 65_535;
/// The advisory lock appends to the access log take ("sohoa_ac"); the records' log has its own.
const APPEND_LOCK: i64 = 0x736f_686f_615f_6163;

/// Commits groups of reads.
pub(super) struct ReadBatches {
    pub pool: PgPool,
}

impl ReadCommitter for ReadBatches {
    fn commit<'a>(&'a self, reads: &'a [NewRead]) -> CommitFuture<'a> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(APPEND_LOCK).execute(&mut *tx).await?;
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
    tlog::insert_nodes_of(tx, NODES, &nodes).await?;
    for chunk in entries.chunks(BINDS / 12) {
        let mut q = QueryBuilder::<Postgres>::new(
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

fn entry(r: &PgRow) -> Result<ReadEntry> {
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
impl ReadLogStore for PostgresIndex {
    async fn log_reads(&self, reads: Vec<NewRead>) -> Result<Vec<u64>> {
        self.reads.log(reads).await
    }

    async fn reads_of_owner(&self, f: &ReadFilter) -> Result<Vec<ReadEntry>> {
        let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM access_log WHERE owner_id = ");
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
        let rows = sqlx::query("SELECT * FROM access_log WHERE seq >= $1 ORDER BY seq LIMIT $2")
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
