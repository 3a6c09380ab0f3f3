//! The facts the service indicators are computed from, in PostgreSQL.

use super::*;
use crate::domain::indicators::DossierFacts;

#[async_trait]
impl StatsStore for PostgresIndex {
    async fn dossier_facts(&self, agency: &AgencyCode, from_ms: i64, to_ms: i64) -> Result<Vec<DossierFacts>> {
        // A dossier is resolved when its first result is issued (the result's last change).
        let rows = sqlx::query(
            "WITH issued AS (
                 SELECT dossier, MIN(updated_at) AS at, bool_or(signatures > 0) AS signed
                 FROM results WHERE agency = $1 AND status = 'issued' GROUP BY dossier
             )
             SELECT d.received_at, d.due_at, i.at AS resolved_at, COALESCE(i.signed, FALSE) AS signed,
                 NOT EXISTS (SELECT 1 FROM components c WHERE c.dossier = d.code AND c.required
                             AND (c.status <> 'satisfied' OR c.record IS NULL)) AS digitized,
                 EXISTS (SELECT 1 FROM components c WHERE c.dossier = d.code AND c.reused) AS reused
             FROM dossiers d LEFT JOIN issued i ON i.dossier = d.code
             WHERE d.agency = $1 AND ((d.received_at >= $2 AND d.received_at < $3) OR (i.at >= $2 AND i.at < $3))",
        )
        .bind(agency.as_str())
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| DossierFacts {
                received_at_ms: r.get("received_at"),
                due_at_ms: r.get("due_at"),
                resolved_at_ms: r.get("resolved_at"),
                result_signed: r.get("signed"),
                components_digitized: r.get("digitized"),
                reused: r.get("reused"),
            })
            .collect())
    }
}
