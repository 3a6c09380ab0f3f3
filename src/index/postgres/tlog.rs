//! The transparency log's tree nodes in PostgreSQL. An append runs inside the caller's
//! transaction under one transaction-scoped advisory lock, held until that transaction ends:
//! appends from every process take leaves one after another, each reading the size the last
//! one committed, so the leaves have no gaps and a record and its leaf are stored together.

use super::{corrupt, PostgresIndex, Tx};
use crate::index::LogStore;
use crate::index::Result;
use crate::tlog::{self, Hash, NodeId, NodeMap};
use async_trait::async_trait;
use sqlx::{PgConnection, Row};

/// The advisory lock appends take: one key for the one log of a database.
const APPEND_LOCK: i64 = 0x736f_686f_615f_6c67; // "sohoa_lg"

/// Takes the log's append lock for the rest of the transaction. Taking it again in the same
/// transaction is harmless; a transaction that appends takes it before reading what the
/// append depends on.
pub(super) async fn lock(tx: &mut Tx) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(APPEND_LOCK).execute(&mut **tx).await?;
    Ok(())
}

/// The records' tree; the access log's is `access_nodes`, laid out the same.
pub(super) const RECORDS: &str = "tlog_nodes";

/// Leaves in the tree: the leaves are level 0, numbered from 0 without gaps.
pub(super) async fn size(conn: &mut PgConnection) -> Result<u64> {
    size_of(conn, RECORDS).await
}

/// Leaves in the tree kept in `table`.
pub(super) async fn size_of(conn: &mut PgConnection, table: &'static str) -> Result<u64> {
    let sql = format!("SELECT COALESCE(MAX(idx) + 1, 0) FROM {table} WHERE level = 0");
    let next: i64 = sqlx::query_scalar(&sql).fetch_one(conn).await?;
    Ok(next as u64)
}

/// The stored nodes among `ids`; absent ones are left out.
pub(super) async fn nodes(conn: &mut PgConnection, ids: &[NodeId]) -> Result<NodeMap> {
    nodes_of(conn, RECORDS, ids).await
}

/// The stored nodes among `ids` of the tree kept in `table`.
pub(super) async fn nodes_of(conn: &mut PgConnection, table: &'static str, ids: &[NodeId]) -> Result<NodeMap> {
    let mut out = NodeMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(out);
    }
    let levels: Vec<i64> = ids.iter().map(|id| id.level as i64).collect();
    let indexes: Vec<i64> = ids.iter().map(|id| id.index as i64).collect();
    // One primary-key search per pair; a proof needs about 2 log n.
    let sql = format!(
        "SELECT n.level, n.idx, n.hash FROM UNNEST($1::bigint[], $2::bigint[]) AS want (level, idx) \
         JOIN {table} n ON n.level = want.level AND n.idx = want.idx"
    );
    let rows = sqlx::query(&sql).bind(&levels).bind(&indexes).fetch_all(conn).await?;
    for row in rows {
        let (level, index): (i64, i64) = (row.get("level"), row.get("idx"));
        let id = NodeId { level: level as u8, index: index as u64 };
        let bytes: Vec<u8> = row.get("hash");
        let hash: Hash = bytes.try_into().map_err(|_| corrupt(table, format!("node {id} is not 32 bytes")))?;
        out.insert(id, hash);
    }
    Ok(out)
}

/// Appends `leaf` and returns its index.
pub(super) async fn append(tx: &mut Tx, leaf: Hash) -> Result<u64> {
    lock(tx).await?;
    let index = size(tx).await?;
    let needed = nodes(tx, &tlog::append_needs(index)).await?;
    let new = tlog::append_nodes(index, leaf, &needed).map_err(|e| corrupt("tlog_nodes", e))?;
    // The leaf and the subtrees it completes, at most 64 rows.
    insert_nodes(tx, &new).await?;
    Ok(index)
}

/// Stores new nodes of the log's tree in one statement.
pub(super) async fn insert_nodes(tx: &mut Tx, nodes: &[(NodeId, Hash)]) -> Result<()> {
    insert_nodes_of(tx, RECORDS, nodes).await
}

/// Stores new nodes of the tree kept in `table` in one statement.
pub(super) async fn insert_nodes_of(tx: &mut Tx, table: &'static str, nodes: &[(NodeId, Hash)]) -> Result<()> {
    let levels: Vec<i64> = nodes.iter().map(|(id, _)| id.level as i64).collect();
    let indexes: Vec<i64> = nodes.iter().map(|(id, _)| id.index as i64).collect();
    let hashes: Vec<Vec<u8>> = nodes.iter().map(|(_, hash)| hash.to_vec()).collect();
    let sql = format!("INSERT INTO {table} (level, idx, hash) SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bytea[])");
    sqlx::query(&sql).bind(&levels).bind(&indexes).bind(&hashes).execute(&mut **tx).await?;
    Ok(())
}

impl PostgresIndex {
    /// Appends records stored before the log existed, oldest first, so that every record has
    /// a leaf; does nothing once they all do. Replicas opening together append each once:
    /// the records are read again under the append lock.
    pub(super) async fn log_unlogged_records(&self) -> Result<()> {
        let pending: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM records WHERE log_index IS NULL)").fetch_one(&self.pool).await?;
        if !pending {
            return Ok(());
        }
        let mut tx = self.write().await?;
        lock(&mut tx).await?;
        let rows = sqlx::query("SELECT id, manifest_digest FROM records WHERE log_index IS NULL ORDER BY created_at, id")
            .fetch_all(&mut *tx)
            .await?;
        for row in &rows {
            let digest = crate::domain::Digest::parse(row.get::<&str, _>("manifest_digest")).map_err(|e| corrupt("records", e))?;
            let index = append(&mut tx, tlog::manifest_leaf_hash(&digest)).await?;
            sqlx::query("UPDATE records SET log_index = $1 WHERE id = $2")
                .bind(index as i64)
                .bind(row.get::<&str, _>("id"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        tracing::info!(records = rows.len(), "appended earlier records to the transparency log");
        Ok(())
    }
}

#[async_trait]
impl LogStore for PostgresIndex {
    async fn tlog_size(&self) -> Result<u64> {
        size(&mut *self.pool.acquire().await?).await
    }

    async fn tlog_nodes(&self, ids: &[NodeId]) -> Result<NodeMap> {
        nodes(&mut *self.pool.acquire().await?, ids).await
    }
}
