//! The audit log in PostgreSQL.

use super::*;

#[async_trait]
impl AuditStore for PostgresIndex {
    async fn audit_log(&self, agency: Option<&AgencyCode>, target: Option<&str>, limit: u32) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM audit WHERE ($1::text IS NULL OR agency = $1) AND ($2::text IS NULL OR target = $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(agency.map(|a| a.as_str()))
        .bind(target)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| AuditRecord {
                id: r.get("id"),
                at_ms: r.get("at"),
                actor: r.get("actor"),
                role: r.get("role"),
                agency: r.get("agency"),
                action: r.get("action"),
                target: r.get("target"),
                request_id: r.get("request_id"),
                detail: serde_json::from_str(&r.get::<String, _>("detail")).unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }
}
