//! Tokens in SQLite.

use super::*;

#[async_trait]
impl TokenStore for SqliteIndex {
    async fn create_token(&self, role: Role, agency: &AgencyCode, label: &str, scope: &Scope, hash: &str) -> Result<i64> {
        let scope = serde_json::to_string(scope).map_err(|e| corrupt("tokens", e))?;
        let id =
            sqlx::query_scalar("INSERT INTO tokens (hash, role, agency, label, scope, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id")
                .bind(hash)
                .bind(role.as_str())
                .bind(agency.as_str())
                .bind(label)
                .bind(scope)
                .bind(now_ms())
                .fetch_one(&self.writer)
                .await?;
        Ok(id)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenInfo>> {
        let row = sqlx::query("SELECT id, role, agency, label, scope FROM tokens WHERE hash = ? AND revoked_at IS NULL")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else { return Ok(None) };
        let role: String = r.get("role");
        let agency: String = r.get("agency");
        Ok(Some(TokenInfo {
            id: r.get("id"),
            role: Role::parse(&role).ok_or_else(|| corrupt("tokens", format!("role {role}")))?,
            agency: AgencyCode::parse(&agency).map_err(|e| corrupt("tokens", e))?,
            label: r.get("label"),
            scope: serde_json::from_str(r.get("scope")).map_err(|e| corrupt("tokens", e))?,
        }))
    }

    async fn revoke_token(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE tokens SET revoked_at = ? WHERE id = ?").bind(now_ms()).bind(id).execute(&self.writer).await?;
        Ok(())
    }

    async fn create_token_audited(
        &self,
        role: Role,
        agency: &AgencyCode,
        label: &str,
        scope: &Scope,
        hash: &str,
        entry: AuditEntry,
    ) -> Result<i64> {
        let scope = serde_json::to_string(scope).map_err(|e| corrupt("tokens", e))?;
        let mut tx = self.write().await?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO tokens (hash, role, agency, label, scope, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id")
                .bind(hash)
                .bind(role.as_str())
                .bind(agency.as_str())
                .bind(label)
                .bind(scope)
                .bind(now_ms())
                .fetch_one(&mut *tx)
                .await?;
        audit(&mut tx, &entry, &format!("token:{id}")).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn list_tokens(&self, agency: Option<&AgencyCode>, role: Option<Role>) -> Result<Vec<TokenListing>> {
        let rows = sqlx::query(
            "SELECT * FROM tokens WHERE (?1 IS NULL OR agency = ?1) \
             AND (?2 IS NULL OR role = ?2) ORDER BY id DESC",
        )
        .bind(agency.map(|a| a.as_str()))
        .bind(role.map(|r| r.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(listing).collect()
    }

    async fn revoke_agency_token(&self, id: i64, agency: &AgencyCode, entry: AuditEntry) -> Result<Option<TokenListing>> {
        let mut tx = self.write().await?;
        let changed = sqlx::query("UPDATE tokens SET revoked_at = ? WHERE id = ? AND agency = ? AND revoked_at IS NULL")
            .bind(now_ms())
            .bind(id)
            .bind(agency.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 1 {
            audit(&mut tx, &entry, &format!("token:{id}")).await?;
        }
        let row =
            sqlx::query("SELECT * FROM tokens WHERE id = ? AND agency = ?").bind(id).bind(agency.as_str()).fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        row.as_ref().map(listing).transpose()
    }

    async fn touch_token(&self, id: i64, now: i64) -> Result<()> {
        sqlx::query("UPDATE tokens SET last_seen_at = ? WHERE id = ?").bind(now).bind(id).execute(&self.writer).await?;
        Ok(())
    }
}

fn listing(r: &SqliteRow) -> Result<TokenListing> {
    let role: String = r.get("role");
    let agency: String = r.get("agency");
    Ok(TokenListing {
        id: r.get("id"),
        role: Role::parse(&role).ok_or_else(|| corrupt("tokens", format!("role {role}")))?,
        agency: AgencyCode::parse(&agency).map_err(|e| corrupt("tokens", e))?,
        label: r.get("label"),
        scope: serde_json::from_str(r.get("scope")).map_err(|e| corrupt("tokens", e))?,
        created_at_ms: r.get("created_at"),
        revoked_at_ms: r.get("revoked_at"),
        last_seen_at_ms: r.get("last_seen_at"),
    })
}
