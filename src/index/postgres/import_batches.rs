//! Back-file batches posted to the service, in PostgreSQL.

use super::*;
use crate::domain::import_batch::{BatchState, ImportBatch};

fn batch_row(r: &PgRow) -> Result<ImportBatch> {
    let agency: String = r.get("agency");
    let spec: String = r.get("spec");
    let state: String = r.get("state");
    Ok(ImportBatch {
        id: r.get("id"),
        agency: AgencyCode::parse(&agency).map_err(|e| corrupt("import_batches", e))?,
        by: r.get("by_name"),
        spec: serde_json::from_str(&spec).map_err(|e| corrupt("import_batches", e))?,
        state: BatchState::parse(&state).ok_or_else(|| corrupt("import_batches", format!("state {state}")))?,
        report: r.get("report"),
        error: r.get("error"),
        created_at_ms: r.get("created_at"),
        updated_at_ms: r.get("updated_at"),
    })
}

#[async_trait]
impl ImportBatchStore for PostgresIndex {
    async fn create_import_batch(&self, batch: &ImportBatch) -> Result<Option<ImportBatch>> {
        let spec = serde_json::to_string(&batch.spec).map_err(|e| corrupt("import_batches", e))?;
        let now = now_ms();
        let kept = sqlx::query(
            "INSERT INTO import_batches (id, agency, by_name, spec, state, report, error, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&batch.id)
        .bind(batch.agency.as_str())
        .bind(&batch.by)
        .bind(spec)
        .bind(batch.state.as_str())
        .bind(&batch.report)
        .bind(&batch.error)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if kept.rows_affected() == 1 {
            return Ok(None);
        }
        let row = sqlx::query("SELECT * FROM import_batches WHERE id = $1").bind(&batch.id).fetch_one(&self.pool).await?;
        batch_row(&row).map(Some)
    }

    async fn import_batch(&self, id: &str) -> Result<Option<ImportBatch>> {
        let row = sqlx::query("SELECT * FROM import_batches WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(batch_row).transpose()
    }

    async fn running_import_batches(&self) -> Result<Vec<ImportBatch>> {
        let rows =
            sqlx::query("SELECT * FROM import_batches WHERE state = 'running' ORDER BY created_at, id").fetch_all(&self.pool).await?;
        rows.iter().map(batch_row).collect()
    }

    async fn set_import_batch_state(&self, id: &str, state: BatchState, report: Option<&str>, error: Option<&str>) -> Result<bool> {
        let done = sqlx::query("UPDATE import_batches SET state = $1, report = $2, error = $3, updated_at = $4 WHERE id = $5")
            .bind(state.as_str())
            .bind(report)
            .bind(error)
            .bind(now_ms())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
