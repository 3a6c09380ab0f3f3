//! The transparency log's tree nodes in SQLite. Appends run inside the caller's write
//! transaction, so a record and its leaf are stored together and appends are serialized.

use super::{corrupt, SqliteIndex, Tx};
use crate::index::LogStore;
use crate::index::Result;
use crate::tlog::{self, Hash, NodeId, NodeMap};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};

/// The records' tree; the access log's is `access_nodes`, laid out the same.
pub(super) const RECORDS: &str = "tlog_nodes";

/// Leaves in the tree: the leaves are level 0, numbered from 0 without gaps.
pub(super) async fn size(conn: &mut SqliteConnection) -> Result<u64> {
    size_of(conn, RECORDS).await
}

/// Leaves in the tree kept in `table`.
pub(super) async fn size_of(conn: &mut SqliteConnection, table: &'static str) -> Result<u64> {
    let sql = format!("SELECT COALESCE(MAX(idx) + 1, 0) FROM {table} WHERE level = 0");
    let next: i64 = sqlx::query_scalar(&sql).fetch_one(conn).await?;
    Ok(next as u64)
}

/// Nodes asked for in one statement: each is a term of an OR, and SQLite bounds the depth of
/// an expression.
const NODES_PER_QUERY: usize = 128;

/// The stored nodes among `ids`; absent ones are left out.
pub(super) async fn nodes(conn: &mut SqliteConnection, ids: &[NodeId]) -> Result<NodeMap> {
    nodes_of(conn, RECORDS, ids).await
}

/// The stored nodes among `ids` of the tree kept in `table`.
pub(super) async fn nodes_of(conn: &mut SqliteConnection, table: &'static str, ids: &[NodeId]) -> Result<NodeMap> {
    let mut out = NodeMap::with_capacity(ids.len());
    // One primary-key search per node (SQLite's multi-index OR); a proof needs about 2 log n.
    for chunk in ids.chunks(NODES_PER_QUERY) {
        let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT level, idx, hash FROM {table} WHERE "));
        let mut terms = q.separated(" OR ");
        for id in chunk {
            terms.push("(level = ").push_bind_unseparated(id.level as i64).push_unseparated(" AND idx = ");
            terms.push_bind_unseparated(id.index as i64).push_unseparated(")");
        }
        for row in q.build().fetch_all(&mut *conn).await? {
            let (level, index): (i64, i64) = (row.get("level"), row.get("idx"));
            let id = NodeId { level: level as u8, index: index as u64 };
            let bytes: Vec<u8> = row.get("hash");
            let hash: Hash = bytes.try_into().map_err(|_| corrupt(table, format!("node {id} is not 32 bytes")))?;
            out.insert(id, hash);
        }
    }
    Ok(out)
}

/// Appends `leaf` and returns its index.
pub(super) async fn append(tx: &mut Tx, leaf: Hash) -> Result<u64> {
    let index = size(tx).await?;
    let needed = nodes(tx, &tlog::append_needs(index)).await?;
    let new = tlog::append_nodes(index, leaf, &needed).map_err(|e| corrupt("tlog_nodes", e))?;
    // The leaf and the subtrees it completes, at most 64 rows, in one statement.
    let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO tlog_nodes (level, idx, hash) ");
    q.push_values(&new, |mut row, (id, hash)| {
        row.push_bind(id.level as i64).push_bind(id.index as i64).push_bind(hash.to_vec());
    });
    q.build().execute(&mut **tx).await?;
    Ok(index)
}

impl SqliteIndex {
    /// Appends records stored before the log existed, oldest first, so that every record has
    /// a leaf; does nothing once they all do.
    pub(super) async fn log_unlogged_records(&self) -> Result<()> {
        let pending: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM records WHERE log_index IS NULL)").fetch_one(&self.pool).await?;
        if !pending {
            return Ok(());
        }
        let mut tx = self.write().await?;
        let rows = sqlx::query("SELECT id, manifest_digest FROM records WHERE log_index IS NULL ORDER BY created_at, id")
            .fetch_all(&mut *tx)
            .await?;
        for row in &rows {
            let digest = crate::domain::Digest::parse(row.get::<&str, _>("manifest_digest")).map_err(|e| corrupt("records", e))?;
            let index = append(&mut tx, tlog::manifest_leaf_hash(&digest)).await?;
            sqlx::query("UPDATE records SET log_index = ? WHERE id = ?")
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
impl LogStore for SqliteIndex {
    async fn tlog_size(&self) -> Result<u64> {
        size(&mut *self.pool.acquire().await?).await
    }

    async fn tlog_nodes(&self, ids: &[NodeId]) -> Result<NodeMap> {
        nodes(&mut *self.pool.acquire().await?, ids).await
    }
}
