//! Fixity runs and the objects the archive must hold, in PostgreSQL.

use super::{corrupt, PostgresIndex};
use crate::domain::Digest;
use crate::index::FixityStore;
use crate::index::{ArchivedObjects, FixityRun, Result};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
impl FixityStore for PostgresIndex {
    async fn archived_objects(&self) -> Result<ArchivedObjects> {
        let parse = |d: &str| Digest::parse(d).map_err(|e| corrupt("records", e));
        let mut blobs = Vec::new();
        let mut manifests = Vec::new();
        let rows = sqlx::query("SELECT id, digest, manifest_digest FROM records ORDER BY id").fetch_all(&self.pool).await?;
        for r in &rows {
            blobs.push(parse(r.get("digest"))?);
            manifests.push((r.get("id"), parse(r.get("manifest_digest"))?));
        }
        let rows = sqlx::query("SELECT DISTINCT digest FROM scans").fetch_all(&self.pool).await?;
        for r in &rows {
            blobs.push(Digest::parse(r.get::<&str, _>("digest")).map_err(|e| corrupt("scans", e))?);
        }
        blobs.sort();
        blobs.dedup();
        Ok(ArchivedObjects { blobs, manifests })
    }

    async fn save_fixity_run(&self, run: &FixityRun) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO fixity_runs (started_at, finished_at, checked, ok, missing, corrupt, restored, report) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(run.started_at_ms)
        .bind(run.finished_at_ms)
        .bind(run.checked as i64)
        .bind(run.ok as i64)
        .bind(run.missing as i64)
        .bind(run.corrupt as i64)
        .bind(run.restored as i64)
        .bind(run.report.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn latest_fixity_run(&self) -> Result<Option<FixityRun>> {
        let row = sqlx::query("SELECT * FROM fixity_runs ORDER BY id DESC LIMIT 1").fetch_optional(&self.pool).await?;
        row.map(|r| {
            let count = |column: &str| r.get::<i64, _>(column) as u64;
            Ok(FixityRun {
                id: r.get("id"),
                started_at_ms: r.get("started_at"),
                finished_at_ms: r.get("finished_at"),
                checked: count("checked"),
                ok: count("ok"),
                missing: count("missing"),
                corrupt: count("corrupt"),
                restored: count("restored"),
                report: serde_json::from_str(r.get("report")).map_err(|e| corrupt("fixity_runs", e))?,
            })
        })
        .transpose()
    }
}
