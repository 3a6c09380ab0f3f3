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
        Ok(rows.iter().map(entry).collect())
    }

    async fn search_audit(&self, f: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM audit WHERE ($1::text IS NULL OR agency = $1) AND ($2::text IS NULL OR target = $2) \
             AND ($3::text IS NULL OR action = $3 OR left(action, length($3) + 1) = $3 || '.') \
             AND ($4::text IS NULL OR actor = $4) AND ($5::bigint IS NULL OR at >= $5) AND ($6::bigint IS NULL OR at < $6) \
             ORDER BY id DESC LIMIT $7",
        )
        .bind(f.agency.as_ref().map(|a| a.as_str()))
        .bind(f.target.as_deref())
        .bind(f.action.as_deref())
        .bind(f.actor.as_deref())
        .bind(f.from_ms)
        .bind(f.to_ms)
        .bind(f.limit as i64)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(entry).collect())
    }
}

fn entry(r: &PgRow) -> AuditRecord {
    AuditRecord {
        id: r.get("id"),
        at_ms: r.get("at"),
        actor: r.get("actor"),
        role: r.get("role"),
        agency: r.get("agency"),
        action: r.get("action"),
        target: r.get("target"),
        request_id: r.get("request_id"),
        detail: serde_json::from_str(&r.get::<String, _>("detail")).unwrap_or(serde_json::Value::Null),
    }
}
