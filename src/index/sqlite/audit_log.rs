//! The audit log in SQLite.

use super::*;

#[async_trait]
impl AuditStore for SqliteIndex {
    async fn audit_log(&self, agency: Option<&AgencyCode>, target: Option<&str>, limit: u32) -> Result<Vec<AuditRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM audit WHERE (?1 IS NULL OR agency = ?1) AND (?2 IS NULL OR target = ?2) \
             ORDER BY id DESC LIMIT ?3",
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
            "SELECT * FROM audit WHERE (?1 IS NULL OR agency = ?1) AND (?2 IS NULL OR target = ?2) \
             AND (?3 IS NULL OR action = ?3 OR substr(action, 1, length(?3) + 1) = ?3 || '.') \
             AND (?4 IS NULL OR actor = ?4) AND (?5 IS NULL OR at >= ?5) AND (?6 IS NULL OR at < ?6) \
             ORDER BY id DESC LIMIT ?7",
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

fn entry(r: &SqliteRow) -> AuditRecord {
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
