//! Records in PostgreSQL. Every transaction that stores a record takes the log's append
//! lock first: records and their leaves are stored one transaction after another, in
//! leaf order, whichever process stores them.

use super::{audit, corrupt, now_ms, refused, tlog, PostgresIndex, Tx};
use crate::domain::{AgencyCode, ComponentStatus, Digest, DossierCode, DossierStatus, ScanStatus};
use crate::index::group::NewEntry;
use crate::index::RecordStore;
use crate::index::{AuditEntry, ComponentCheck, Correction, NewRecord, Record, RecordFilter, RecordStatus, Result};
use async_trait::async_trait;
use chrono::NaiveDate;
use sqlx::postgres::PgRow;
use sqlx::{Postgres, QueryBuilder, Row};

fn date(r: &PgRow, column: &str) -> Result<Option<NaiveDate>> {
    let text: Option<String> = r.get(column);
    text.map(|t| NaiveDate::parse_from_str(&t, "%Y-%m-%d").map_err(|e| corrupt("records", format!("{column}: {e}")))).transpose()
}

pub(super) fn record_row(r: &PgRow) -> Result<Record> {
    let parse_digest = |column: &str| Digest::parse(r.get::<&str, _>(column)).map_err(|e| corrupt("records", e));
    let status: String = r.get("status");
    let dossier: Option<String> = r.get("dossier");
    let log_index: Option<i64> = r.get("log_index");
    Ok(Record {
        id: r.get("id"),
        kind: r.get("kind"),
        agency: AgencyCode::parse(r.get::<&str, _>("agency")).map_err(|e| corrupt("records", e))?,
        dossier: dossier.map(|d| DossierCode::parse(&d).map_err(|e| corrupt("records", e))).transpose()?,
        component: r.get("component"),
        scan: r.get("scan"),
        owner_id: r.get("owner_id"),
        doc_type: r.get("doc_type"),
        number: r.get("number"),
        issue_date: date(r, "issue_date")?,
        valid_from: date(r, "valid_from")?,
        valid_until: date(r, "valid_until")?,
        digest: parse_digest("digest")?,
        size: r.get::<i64, _>("size") as u64,
        manifest_digest: parse_digest("manifest_digest")?,
        summary: serde_json::from_str(r.get("summary")).map_err(|e| corrupt("records", e))?,
        log_index: log_index.map(|i| i as u64),
        status: RecordStatus::parse(&status).ok_or_else(|| corrupt("records", format!("status {status}")))?,
        status_reason: r.get("status_reason"),
        status_by: r.get("status_by"),
        superseded_by: r.get("superseded_by"),
        created_at_ms: r.get("created_at"),
    })
}

fn day(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

/// Why an active record is replaced by a newer one.
enum Replacement {
    /// The desk corrected the type or fields of `scan`; `label` is kept as labelled data.
    Correction { scan: i64, label: serde_json::Value },
    /// The content was extended to keep its signatures verifiable.
    Renewal,
}

impl PostgresIndex {
    async fn replace_record(
        &self,
        old: &str,
        rec: NewRecord,
        check: ComponentCheck,
        why: Replacement,
        entry: AuditEntry,
    ) -> Result<Record> {
        let mut tx = self.write().await?;
        // The log's lock before the old record's: every transaction that stores a record
        // takes them in this order.
        tlog::lock(&mut tx).await?;
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM records WHERE id = $1 FOR NO KEY UPDATE").bind(old).fetch_optional(&mut *tx).await?;
        let not_active = || refused("record_not_active", format!("record {old} is not active"));
        let to = status
            .as_deref()
            .and_then(RecordStatus::parse)
            .ok_or_else(not_active)?
            .end(RecordStatus::Superseded)
            .map_err(|_| not_active())?;
        let row = store_record(&mut tx, &rec, &check).await?;
        let reason = match why {
            Replacement::Correction { .. } => "corrected by the desk",
            Replacement::Renewal => "renewed: validation data and a new document time-stamp",
        };
        sqlx::query("UPDATE records SET status = $1, status_reason = $2, status_by = $3, status_at = $4, superseded_by = $5 WHERE id = $6")
            .bind(to.as_str())
            .bind(reason)
            .bind(&entry.actor.id)
            .bind(now_ms())
            .bind(&rec.id)
            .bind(old)
            .execute(&mut *tx)
            .await?;
        if let Replacement::Correction { scan, label } = why {
            sqlx::query(
                "INSERT INTO corrections (agency, scan, old_record, new_record, label, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(rec.agency.as_str())
            .bind(scan)
            .bind(old)
            .bind(&rec.id)
            .bind(label.to_string())
            .bind(&entry.actor.id)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        audit(&mut tx, &entry, &format!("record:{old}")).await?;
        let record = record_row(&row)?;
        tx.commit().await?;
        Ok(record)
    }
}

/// Inserts the record with its log leaf, marks its scan sealed and its component by
/// `check`, inside the caller's transaction; returns the stored row.
pub(super) async fn store_record(tx: &mut Tx, rec: &NewRecord, check: &ComponentCheck) -> Result<PgRow> {
    // The record's leaf goes into the log in the same transaction as the record.
    let log_index = tlog::append(tx, crate::tlog::manifest_leaf_hash(&rec.manifest_digest)).await?;
    let row = sqlx::query(
        "INSERT INTO records (id, kind, agency, dossier, component, scan, owner_id, doc_type, number, issue_date, \
             valid_from, valid_until, digest, size, manifest_digest, summary, log_index, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING *",
    )
    .bind(&rec.id)
    .bind(rec.kind)
    .bind(rec.agency.as_str())
    .bind(rec.dossier.as_ref().map(|d| d.as_str().to_owned()))
    .bind(&rec.component)
    .bind(rec.scan)
    .bind(&rec.owner_id)
    .bind(&rec.doc_type)
    .bind(&rec.number)
    .bind(day(rec.issue_date))
    .bind(day(rec.valid_from))
    .bind(day(rec.valid_until))
    .bind(rec.digest.as_str())
    .bind(rec.size as i64)
    .bind(rec.manifest_digest.as_str())
    .bind(rec.summary.to_string())
    .bind(log_index as i64)
    .bind(RecordStatus::Active.as_str())
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await?;
    if let Some(scan) = rec.scan {
        sqlx::query("UPDATE scans SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(ScanStatus::Sealed.as_str())
            .bind(now_ms())
            .bind(scan)
            .execute(&mut **tx)
            .await?;
    }
    if let (Some(dossier), Some(component)) = (&rec.dossier, &rec.component) {
        let flags = serde_json::to_string(&check.flags).map_err(|e| corrupt("components", e))?;
        sqlx::query("UPDATE components SET status = $1, flags = $2, record = $3 WHERE dossier = $4 AND component = $5")
            .bind(check.status.as_str())
            .bind(flags)
            .bind(&rec.id)
            .bind(dossier.as_str())
            .bind(component)
            .execute(&mut **tx)
            .await?;
        mark_complete(tx, dossier).await?;
    }
    Ok(row)
}

/// A dossier is complete once no required component is left unsatisfied
/// ([`DossierStatus::settle`]). The dossier's row is locked first, so two transactions
/// settling the same dossier take turns, each reading the components the other left.
pub(super) async fn mark_complete(tx: &mut Tx, dossier: &DossierCode) -> Result<()> {
    let status: String = sqlx::query_scalar("SELECT status FROM dossiers WHERE code = $1 FOR NO KEY UPDATE")
        .bind(dossier.as_str())
        .fetch_one(&mut **tx)
        .await?;
    let statuses: Vec<String> = sqlx::query_scalar("SELECT status FROM components WHERE dossier = $1 AND required")
        .bind(dossier.as_str())
        .fetch_all(&mut **tx)
        .await?;
    let all_satisfied = statuses.iter().all(|s| ComponentStatus::parse(s).is_some_and(ComponentStatus::is_satisfied));
    let from = DossierStatus::parse(&status).ok_or_else(|| corrupt("dossiers", format!("status {status}")))?;
    let to = from.settle(all_satisfied);
    if to != from {
        sqlx::query("UPDATE dossiers SET status = $1 WHERE code = $2").bind(to.as_str()).bind(dossier.as_str()).execute(&mut **tx).await?;
    }
    Ok(())
}

#[async_trait]
impl RecordStore for PostgresIndex {
    async fn create_record(&self, rec: NewRecord, check: ComponentCheck, audit: AuditEntry) -> Result<Record> {
        self.records.store(NewEntry { rec, check, audit }).await
    }

    async fn reuse_record(&self, dossier: &DossierCode, component: &str, record: &str, entry: AuditEntry) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("UPDATE components SET status = $1, flags = '[]', record = $2, reused = TRUE WHERE dossier = $3 AND component = $4")
            .bind(ComponentStatus::Satisfied.as_str())
            .bind(record)
            .bind(dossier.as_str())
            .bind(component)
            .execute(&mut *tx)
            .await?;
        mark_complete(&mut tx, dossier).await?;
        audit(&mut tx, &entry, &format!("dossier:{dossier}")).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Only the filter's conditions go into the statement, so that each query is planned on
    /// the index it can use (owner and type, agency and time, or dossier).
    async fn find_records(&self, f: &RecordFilter) -> Result<Vec<Record>> {
        let mut q = QueryBuilder::<Postgres>::new("SELECT * FROM records WHERE TRUE");
        if !f.agencies.is_empty() {
            let agencies: Vec<String> = f.agencies.iter().map(|a| a.as_str().to_owned()).collect();
            q.push(" AND agency = ANY(").push_bind(agencies).push(")");
        }
        if !f.doc_types.is_empty() {
            q.push(" AND doc_type = ANY(").push_bind(f.doc_types.clone()).push(")");
        }
        if let Some(owner) = &f.owner_id {
            q.push(" AND owner_id = ").push_bind(owner.clone());
        }
        if let Some(doc_type) = &f.doc_type {
            q.push(" AND doc_type = ").push_bind(doc_type.clone());
        }
        if let Some(at) = day(f.valid_at) {
            q.push(" AND status = 'active' AND (valid_from IS NULL OR valid_from <= ").push_bind(at.clone());
            q.push(") AND (valid_until IS NULL OR valid_until >= ").push_bind(at).push(")");
        }
        if let Some(after) = &f.after {
            q.push(" AND (created_at, id) > (").push_bind(after.created_at_ms).push(", ").push_bind(after.id.clone()).push(")");
        }
        if let Some(dossier) = &f.dossier {
            let code = dossier.as_str().to_owned();
            q.push(" AND (dossier = ").push_bind(code.clone());
            q.push(" OR id IN (SELECT record FROM components WHERE dossier = ").push_bind(code).push("))");
        }
        q.push(" ORDER BY created_at, id LIMIT ").push_bind(f.limit.clamp(1, 1000) as i64);
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(record_row).collect()
    }

    async fn corrections(&self, agency: &AgencyCode, limit: u32) -> Result<Vec<Correction>> {
        let rows = sqlx::query("SELECT * FROM corrections WHERE agency = $1 ORDER BY id DESC LIMIT $2")
            .bind(agency.as_str())
            .bind(limit.clamp(1, 1000) as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Correction {
                    scan: r.get("scan"),
                    old_record: r.get("old_record"),
                    new_record: r.get("new_record"),
                    label: serde_json::from_str(r.get("label")).map_err(|e| corrupt("corrections", e))?,
                    actor: r.get("actor"),
                    at_ms: r.get("at"),
                })
            })
            .collect()
    }

    async fn records_with_content(&self, digest: &Digest) -> Result<Vec<Record>> {
        let rows = sqlx::query("SELECT * FROM records WHERE digest = $1 ORDER BY created_at, id")
            .bind(digest.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(record_row).collect()
    }

    async fn record(&self, id: &str) -> Result<Option<Record>> {
        let row = sqlx::query("SELECT * FROM records WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(record_row).transpose()
    }

    async fn record_for_scan(&self, scan: i64) -> Result<Option<Record>> {
        let row = sqlx::query("SELECT * FROM records WHERE scan = $1").bind(scan).fetch_optional(&self.pool).await?;
        row.as_ref().map(record_row).transpose()
    }

    async fn correct_record(
        &self,
        old: &str,
        record: NewRecord,
        check: ComponentCheck,
        scan: i64,
        label: serde_json::Value,
        entry: AuditEntry,
    ) -> Result<Record> {
        self.replace_record(old, record, check, Replacement::Correction { scan, label }, entry).await
    }

    async fn renew_record(&self, old: &str, record: NewRecord, check: ComponentCheck, entry: AuditEntry) -> Result<Record> {
        self.replace_record(old, record, check, Replacement::Renewal, entry).await
    }
}
