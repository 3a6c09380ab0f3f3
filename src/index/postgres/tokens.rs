//! Tokens in PostgreSQL.

use super::*;

#[async_trait]
impl TokenStore for PostgresIndex {
    async fn create_token(&self, role: Role, agency: &AgencyCode, label: &str, scope: &Scope, hash: &str) -> Result<i64> {
        let scope = serde_json::to_string(scope).map_err(|e| corrupt("tokens", e))?;
        let id = sqlx::query_scalar(
            "INSERT INTO tokens (hash, role, agency, label, scope, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(hash)
        .bind(role.as_str())
        .bind(agency.as_str())
        .bind(label)
        .bind(scope)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<TokenInfo>> {
        let row = sqlx::query("SELECT id, role, agency, label, scope FROM tokens WHERE hash = $1 AND revoked_at IS NULL")
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
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2").bind(now_ms()).bind(id).execute(&self.pool).await?;
        Ok(())
    }
}
