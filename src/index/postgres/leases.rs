//! Leases on singleton duties, in PostgreSQL. One statement: two holders inserting at once conflict on the key, and the second
//! waits for the first's row and evaluates the condition on it, so only one gets the lease.

use super::PostgresIndex;
use crate::index::{Lease, LeaseStore, Result};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
impl LeaseStore for PostgresIndex {
    async fn acquire_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool> {
        let taken: Option<String> = sqlx::query_scalar(
            "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, \
               acquired_at = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > $3 THEN leases.acquired_at ELSE excluded.acquired_at END \
             WHERE leases.holder = excluded.holder OR leases.expires_at <= $3 \
             RETURNING holder",
        )
        .bind(name)
        .bind(holder)
        .bind(now_ms)
        .bind(now_ms.saturating_add(ttl_ms))
        .fetch_optional(&self.pool)
        .await?;
        Ok(taken.is_some())
    }

    async fn renew_lease(&self, name: &str, holder: &str, now_ms: i64, ttl_ms: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE leases SET expires_at = $1 WHERE name = $2 AND holder = $3 AND expires_at > $4")
            .bind(now_ms.saturating_add(ttl_ms))
            .bind(name)
            .bind(holder)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2").bind(name).bind(holder).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }

    async fn lease(&self, name: &str) -> Result<Option<Lease>> {
        let row = sqlx::query("SELECT name, holder, acquired_at, expires_at FROM leases WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| Lease {
            name: r.get("name"),
            holder: r.get("holder"),
            acquired_at_ms: r.get("acquired_at"),
            expires_at_ms: r.get("expires_at"),
        }))
    }
}
