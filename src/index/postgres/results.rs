//! Result documents in PostgreSQL: versions, deferred-signing sessions, issue. A signature
//! is added under the result's row lock, so concurrent signers take versions in turn.

use super::{audit, corrupt, now_ms, refused, PostgresIndex};
use crate::domain::{AgencyCode, Digest, DossierCode, ResultStatus};
use crate::index::ResultStore;
use crate::index::{AuditEntry, NewResult, NewSession, NewVersion, Result, ResultDoc, ResultVersion, SigningSession};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::Row;

fn digest(r: &PgRow, table: &'static str, column: &str) -> Result<Digest> {
    Digest::parse(r.get::<&str, _>(column)).map_err(|e| corrupt(table, e))
}

fn version_row(r: &PgRow) -> Result<ResultVersion> {
    Ok(ResultVersion {
        seq: r.get::<i64, _>("seq") as u32,
        digest: digest(r, "result_versions", "digest")?,
        size: r.get::<i64, _>("size") as u64,
        event: r.get("event"),
        actor: r.get("actor"),
        signer: r.get("signer"),
        at_ms: r.get("at"),
    })
}

fn session_row(r: &PgRow) -> Result<SigningSession> {
    let used: Option<i64> = r.get("used_at");
    Ok(SigningSession {
        id: r.get("id"),
        result: r.get("result"),
        base: digest(r, "signing_sessions", "base_digest")?,
        certificate: r.get("certificate"),
        spec: serde_json::from_str(r.get("spec")).map_err(|e| corrupt("signing_sessions", e))?,
        signed_attributes: r.get("signed_attributes"),
        actor: r.get("actor"),
        expires_at_ms: r.get("expires_at"),
        used: used.is_some(),
    })
}

impl PostgresIndex {
    async fn load_result(&self, id: &str) -> Result<Option<ResultDoc>> {
        let Some(r) = sqlx::query("SELECT * FROM results WHERE id = $1").bind(id).fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        self.result_row(&r).await.map(Some)
    }

    async fn result_row(&self, r: &PgRow) -> Result<ResultDoc> {
        let id: &str = r.get("id");
        let signers: Option<&str> = r.get("signers");
        let signers: Vec<String> = match signers {
            Some(text) => serde_json::from_str(text).map_err(|e| corrupt("results", e))?,
            None => Vec::new(),
        };
        let versions = sqlx::query("SELECT * FROM result_versions WHERE result = $1 ORDER BY seq").bind(id).fetch_all(&self.pool).await?;
        Ok(ResultDoc {
            id: r.get("id"),
            agency: AgencyCode::parse(r.get::<&str, _>("agency")).map_err(|e| corrupt("results", e))?,
            dossier: DossierCode::parse(r.get::<&str, _>("dossier")).map_err(|e| corrupt("results", e))?,
            doc_type: r.get("doc_type"),
            number: r.get("number"),
            digest: digest(r, "results", "digest")?,
            size: r.get::<i64, _>("size") as u64,
            signatures: r.get::<i64, _>("signatures") as u32,
            status: super::parse_state(r, "results", ResultStatus::parse)?,
            record: r.get("record"),
            created_at_ms: r.get("created_at"),
            versions: versions.iter().map(version_row).collect::<Result<_>>()?,
            signers,
        })
    }
}

#[async_trait]
impl ResultStore for PostgresIndex {
    async fn create_result_signed_by(&self, new: NewResult, signers: &[String], entry: AuditEntry) -> Result<ResultDoc> {
        let mut tx = self.write().await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO results (id, agency, dossier, doc_type, number, digest, size, status, signers, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&new.id)
        .bind(new.agency.as_str())
        .bind(new.dossier.as_str())
        .bind(&new.doc_type)
        .bind(&new.number)
        .bind(new.digest.as_str())
        .bind(new.size as i64)
        .bind(ResultStatus::INITIAL.as_str())
        .bind((!signers.is_empty()).then(|| serde_json::Value::from(signers.to_vec()).to_string()))
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO result_versions (result, seq, digest, size, event, actor, at) VALUES ($1, 1, $2, $3, 'attached', $4, $5)")
            .bind(&new.id)
            .bind(new.digest.as_str())
            .bind(new.size as i64)
            .bind(&entry.actor.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        audit(&mut tx, &entry, &format!("result:{}", new.id)).await?;
        tx.commit().await?;
        self.load_result(&new.id).await?.ok_or_else(|| corrupt("results", "inserted result vanished"))
    }

    async fn add_result_version(&self, id: &str, v: NewVersion, entry: AuditEntry) -> Result<ResultDoc> {
        let mut tx = self.write().await?;
        // Locked until commit: the state and digest checked here are those the version
        // builds on, and the next `seq` is this transaction's alone.
        let row =
            sqlx::query("SELECT digest, status FROM results WHERE id = $1 FOR NO KEY UPDATE").bind(id).fetch_optional(&mut *tx).await?;
        let Some(row) = row else { return Err(refused("result_not_found", format!("no result {id}"))) };
        let status: &str = row.get("status");
        if ResultStatus::parse(status).ok_or_else(|| corrupt("results", format!("status {status}")))?.sign().is_err() {
            return Err(refused("result_issued", format!("result {id} is issued; it cannot be signed again")));
        }
        if row.get::<&str, _>("digest") != v.base.as_str() {
            return Err(refused("result_changed", format!("result {id} changed since this signature was prepared")));
        }
        if let Some(session) = &v.session {
            let done = sqlx::query("UPDATE signing_sessions SET used_at = $1 WHERE id = $2 AND result = $3 AND used_at IS NULL")
                .bind(now_ms())
                .bind(session)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() != 1 {
                return Err(refused("session_used", format!("signing session {session} was used already")));
            }
        }
        let now = now_ms();
        sqlx::query(
            "INSERT INTO result_versions (result, seq, digest, size, event, actor, signer, at) \
             SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7 FROM result_versions WHERE result = $1",
        )
        .bind(id)
        .bind(v.digest.as_str())
        .bind(v.size as i64)
        .bind(v.event)
        .bind(&entry.actor.id)
        .bind(&v.signer)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE results SET digest = $1, size = $2, signatures = signatures + 1, updated_at = $3 WHERE id = $4")
            .bind(v.digest.as_str())
            .bind(v.size as i64)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit(&mut tx, &entry, &format!("result:{id}")).await?;
        tx.commit().await?;
        self.load_result(id).await?.ok_or_else(|| corrupt("results", "signed result vanished"))
    }

    async fn create_signing_session(&self, s: NewSession, entry: AuditEntry) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO signing_sessions (id, result, base_digest, certificate, spec, signed_attributes, actor, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&s.id)
        .bind(&s.result)
        .bind(s.base.as_str())
        .bind(&s.certificate)
        .bind(s.spec.to_string())
        .bind(&s.signed_attributes)
        .bind(&entry.actor.id)
        .bind(now_ms())
        .bind(s.expires_at_ms)
        .execute(&mut *tx)
        .await?;
        audit(&mut tx, &entry, &format!("result:{}", s.result)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn signing_session(&self, id: &str) -> Result<Option<SigningSession>> {
        let row = sqlx::query("SELECT * FROM signing_sessions WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(session_row).transpose()
    }

    async fn issue_result(&self, id: &str, record: &str, entry: AuditEntry) -> Result<ResultDoc> {
        let mut tx = self.write().await?;
        // Only a draft is issued: the state it leaves is read under the row's lock.
        let (from, to) = (ResultStatus::Draft, ResultStatus::Draft.issue().map_err(|e| refused(e.code(), e.to_string()))?);
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM results WHERE id = $1 FOR NO KEY UPDATE").bind(id).fetch_optional(&mut *tx).await?;
        if status.as_deref() != Some(from.as_str()) {
            return Err(refused("result_issued", format!("result {id} is issued already")));
        }
        sqlx::query("UPDATE results SET status = $1, record = $2, updated_at = $3 WHERE id = $4")
            .bind(to.as_str())
            .bind(record)
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit(&mut tx, &entry, &format!("result:{id}")).await?;
        tx.commit().await?;
        self.load_result(id).await?.ok_or_else(|| corrupt("results", "issued result vanished"))
    }

    async fn result(&self, id: &str) -> Result<Option<ResultDoc>> {
        self.load_result(id).await
    }

    async fn draft_results(&self, agency: &AgencyCode, limit: u32) -> Result<Vec<ResultDoc>> {
        let rows = sqlx::query("SELECT * FROM results WHERE agency = $1 AND status = $2 ORDER BY created_at, id LIMIT $3")
            .bind(agency.as_str())
            .bind(ResultStatus::Draft.as_str())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(self.result_row(r).await?);
        }
        Ok(out)
    }
}
