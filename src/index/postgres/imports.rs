//! The progress of back-file imports, in PostgreSQL.

use super::*;
use crate::domain::import::{Duplicate, ImportItem, ImportOutcome};

fn item_row(r: &PgRow) -> Result<ImportItem> {
    let outcome: String = r.get("outcome");
    let source: Option<String> = r.get("source_digest");
    Ok(ImportItem {
        batch: r.get("batch"),
        line: r.get::<i64, _>("line") as u32,
        outcome: ImportOutcome::parse(&outcome).ok_or_else(|| corrupt("import_items", format!("outcome {outcome}")))?,
        record: r.get("record"),
        source: source.map(|s| Digest::parse(&s).map_err(|e| corrupt("import_items", e))).transpose()?,
        reason: r.get("reason"),
    })
}

#[async_trait]
impl ImportStore for PostgresIndex {
    async fn import_items(&self, batch: &str) -> Result<Vec<ImportItem>> {
        let rows = sqlx::query("SELECT * FROM import_items WHERE batch = $1 ORDER BY line").bind(batch).fetch_all(&self.pool).await?;
        rows.iter().map(item_row).collect()
    }

    async fn put_import_item(&self, item: &ImportItem) -> Result<()> {
        sqlx::query(
            "INSERT INTO import_items (batch, line, outcome, record, source_digest, reason, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (batch, line) DO UPDATE SET outcome = excluded.outcome, record = excluded.record, \
             source_digest = excluded.source_digest, reason = excluded.reason, updated_at = excluded.updated_at",
        )
        .bind(&item.batch)
        .bind(item.line as i64)
        .bind(item.outcome.as_str())
        .bind(&item.record)
        .bind(item.source.as_ref().map(|d| d.as_str().to_owned()))
        .bind(&item.reason)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn import_duplicate(
        &self,
        agency: &AgencyCode,
        doc_type: &str,
        number: Option<&str>,
        source: &Digest,
    ) -> Result<Option<Duplicate>> {
        let same: Option<String> =
            sqlx::query_scalar("SELECT record FROM import_items WHERE source_digest = $1 AND outcome = 'imported' LIMIT 1")
                .bind(source.as_str())
                .fetch_optional(&self.pool)
                .await?;
        if let Some(record) = same {
            return Ok(Some(Duplicate { record, why: "same_content" }));
        }
        let Some(number) = number else { return Ok(None) };
        let same: Option<String> =
            sqlx::query_scalar("SELECT id FROM records WHERE agency = $1 AND doc_type = $2 AND number = $3 AND status = 'active' LIMIT 1")
                .bind(agency.as_str())
                .bind(doc_type)
                .bind(number)
                .fetch_optional(&self.pool)
                .await?;
        Ok(same.map(|record| Duplicate { record, why: "same_number" }))
    }
}
