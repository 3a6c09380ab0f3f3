//! Status changes of records in PostgreSQL: the end of a record's life (revocation,
//! supersession, legal holds, disposal after retention). A disposal and a hold on the same
//! record or dossier take turns on its row lock, so a record is never disposed of under a
//! hold placed while the disposal was being checked.

use super::records::record_row;
use super::{audit, corrupt, now_ms, refused, PostgresIndex, Tx};
use crate::domain::AgencyCode;
use crate::index::LifecycleStore;
use crate::index::{AuditEntry, Disposal, Hold, Record, Result, RetentionCutoff, StatusChange};
use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::Row;

fn hold_row(r: &PgRow) -> Result<Hold> {
    Ok(Hold {
        id: r.get("id"),
        agency: AgencyCode::parse(r.get::<&str, _>("agency")).map_err(|e| corrupt("holds", e))?,
        target: r.get("target"),
        reason: r.get("reason"),
        placed_by: r.get("placed_by"),
        placed_at_ms: r.get("placed_at"),
        released_by: r.get("released_by"),
        released_at_ms: r.get("released_at"),
    })
}

/// The day a record's retention counts from: its issue date, else the day it was archived
/// (UTC+7, as the desk reckons days), as `YYYY-MM-DD` text like the stored dates.
const RETENTION_DATE: &str = "COALESCE(issue_date, to_char(to_timestamp(created_at / 1000 + 25200) AT TIME ZONE 'UTC', 'YYYY-MM-DD'))";

/// Whether a hold is in force on the record or on its dossier. The caller holds the record's
/// row lock; the dossier's is taken here (shared: disposals in one dossier do not wait on
/// each other, a hold on it does).
async fn held(tx: &mut Tx, record: &Record) -> Result<bool> {
    if let Some(dossier) = &record.dossier {
        sqlx::query("SELECT 1 FROM dossiers WHERE code = $1 FOR SHARE").bind(dossier.as_str()).fetch_optional(&mut **tx).await?;
    }
    let dossier = record.dossier.as_ref().map(|d| format!("dossier:{d}"));
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM holds WHERE released_at IS NULL AND (target = $1 OR target = $2)")
        .bind(format!("record:{}", record.id))
        .bind(dossier)
        .fetch_one(&mut **tx)
        .await?;
    Ok(n > 0)
}

#[async_trait]
impl LifecycleStore for PostgresIndex {
    async fn change_record_status(&self, id: &str, change: StatusChange, entry: AuditEntry) -> Result<Option<Record>> {
        let mut tx = self.write().await?;
        let Some(row) = sqlx::query("SELECT * FROM records WHERE id = $1 FOR NO KEY UPDATE").bind(id).fetch_optional(&mut *tx).await?
        else {
            return Ok(None);
        };
        let record = record_row(&row)?;
        let to = record
            .status
            .end(change.status)
            .map_err(|_| refused("record_not_active", format!("record {id} is {}, not active", record.status.as_str())))?;
        if let Some(newer) = &change.superseded_by {
            // The successor stays active until this commits.
            let found: Option<String> = sqlx::query_scalar("SELECT agency FROM records WHERE id = $1 AND status = 'active' FOR SHARE")
                .bind(newer)
                .fetch_optional(&mut *tx)
                .await?;
            if newer == id || found.as_deref() != Some(record.agency.as_str()) {
                return Err(refused(
                    "successor_not_found",
                    format!("no active record {newer} of agency {} to supersede with", record.agency),
                ));
            }
        }
        let row = sqlx::query(
            "UPDATE records SET status = $1, status_reason = $2, status_by = $3, status_at = $4, superseded_by = $5 WHERE id = $6 RETURNING *",
        )
        .bind(to.as_str())
        .bind(&change.reason)
        .bind(&change.by)
        .bind(now_ms())
        .bind(&change.superseded_by)
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
        audit(&mut tx, &entry, &format!("record:{id}")).await?;
        let record = record_row(&row)?;
        tx.commit().await?;
        Ok(Some(record))
    }

    async fn place_hold(&self, agency: &AgencyCode, target: &str, reason: &str, entry: AuditEntry) -> Result<Hold> {
        let mut tx = self.write().await?;
        // The target's row is locked until the hold is stored: a disposal checking it waits.
        let exists = match target.split_once(':') {
            Some(("record", id)) => {
                sqlx::query("SELECT 1 FROM records WHERE id = $1 AND agency = $2 FOR NO KEY UPDATE")
                    .bind(id)
                    .bind(agency.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
            }
            Some(("dossier", code)) => {
                sqlx::query("SELECT 1 FROM dossiers WHERE code = $1 AND agency = $2 FOR NO KEY UPDATE")
                    .bind(code)
                    .bind(agency.as_str())
                    .fetch_optional(&mut *tx)
                    .await?
            }
            _ => None,
        };
        if exists.is_none() {
            return Err(refused("hold_target_not_found", format!("agency {agency} has no {target}")));
        }
        let row = sqlx::query("INSERT INTO holds (agency, target, reason, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5) RETURNING *")
            .bind(agency.as_str())
            .bind(target)
            .bind(reason)
            .bind(&entry.actor.id)
            .bind(now_ms())
            .fetch_one(&mut *tx)
            .await?;
        audit(&mut tx, &entry, target).await?;
        let hold = hold_row(&row)?;
        tx.commit().await?;
        Ok(hold)
    }

    async fn release_hold(&self, agency: &AgencyCode, id: i64, entry: AuditEntry) -> Result<Option<Hold>> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "UPDATE holds SET released_by = $1, released_at = $2 WHERE id = $3 AND agency = $4 AND released_at IS NULL RETURNING *",
        )
        .bind(&entry.actor.id)
        .bind(now_ms())
        .bind(id)
        .bind(agency.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let hold = hold_row(&row)?;
        audit(&mut tx, &entry, &hold.target).await?;
        tx.commit().await?;
        Ok(Some(hold))
    }

    async fn holds(&self, agency: &AgencyCode, in_force: bool, limit: u32) -> Result<Vec<Hold>> {
        let rows = sqlx::query("SELECT * FROM holds WHERE agency = $1 AND (NOT $2 OR released_at IS NULL) ORDER BY id DESC LIMIT $3")
            .bind(agency.as_str())
            .bind(in_force)
            .bind(limit.clamp(1, 1000) as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(hold_row).collect()
    }

    async fn disposal_candidates(&self, agency: &AgencyCode, rules: &[RetentionCutoff], limit: u32) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        for rule in rules {
            let sql = format!(
                "SELECT * FROM records r WHERE agency = $1 AND doc_type = $2 AND status <> 'disposed' AND {RETENTION_DATE} <= $3 \
                 AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.released_at IS NULL \
                     AND (h.target = 'record:' || r.id OR h.target = 'dossier:' || r.dossier)) \
                 ORDER BY created_at, id LIMIT $4"
            );
            let rows = sqlx::query(&sql)
                .bind(agency.as_str())
                .bind(&rule.doc_type)
                .bind(rule.cutoff.format("%Y-%m-%d").to_string())
                .bind(limit.clamp(1, 1000) as i64)
                .fetch_all(&self.pool)
                .await?;
            for row in &rows {
                out.push(record_row(row)?);
            }
        }
        out.sort_by(|a, b| (a.created_at_ms, &a.id).cmp(&(b.created_at_ms, &b.id)));
        out.truncate(limit as usize);
        Ok(out)
    }

    async fn dispose_record(&self, id: &str, rule: &RetentionCutoff, reason: &str, entry: AuditEntry) -> Result<Option<Disposal>> {
        let mut tx = self.write().await?;
        let sql = format!("SELECT *, {RETENTION_DATE} <= $1 AS due FROM records WHERE id = $2 FOR NO KEY UPDATE");
        let Some(row) = sqlx::query(&sql).bind(rule.cutoff.format("%Y-%m-%d").to_string()).bind(id).fetch_optional(&mut *tx).await? else {
            return Ok(None);
        };
        let record = record_row(&row)?;
        let to = record.status.dispose().map_err(|_| refused("record_disposed", format!("record {id} was disposed of already")))?;
        if record.doc_type != rule.doc_type || !row.get::<bool, _>("due") {
            return Err(refused("retention_not_over", format!("record {id} is still within its retention period")));
        }
        if held(&mut tx, &record).await? {
            return Err(refused("legal_hold", format!("record {id} or its dossier is under a legal hold")));
        }
        let row =
            sqlx::query("UPDATE records SET status = $1, status_reason = $2, status_by = $3, status_at = $4 WHERE id = $5 RETURNING *")
                .bind(to.as_str())
                .bind(reason)
                .bind(&entry.actor.id)
                .bind(now_ms())
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        let shared: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM records WHERE digest = $1 AND id <> $2 AND status <> 'disposed'")
            .bind(record.digest.as_str())
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        audit(&mut tx, &entry, &format!("record:{id}")).await?;
        let record = record_row(&row)?;
        tx.commit().await?;
        Ok(Some(Disposal { record, content_shared: shared > 0 }))
    }
}
