//! Scans in PostgreSQL, and the steps of their state machine as a service decided them.

use super::jobs::enqueue;
use super::*;
use crate::queue::{OcrPayload, Priority};

/// Which scan a step applies to.
#[derive(Clone, Copy)]
pub(super) enum ScanOf {
    Id(i64),
    /// The scan a job processes, if the job has one.
    Job(i64),
}

/// Applies a step a service decided to a scan and its component, refusing it when the scan is
/// not in a state the step starts from. The scan's row stays locked from the check to the
/// commit.
pub(super) async fn apply_scan_step(tx: &mut Tx, of: ScanOf, step: &ScanStep) -> Result<bool> {
    let row: Option<(i64, String, String, String)> = match of {
        ScanOf::Id(id) => sqlx::query_as("SELECT id, status, dossier, component FROM scans WHERE id = $1 FOR NO KEY UPDATE").bind(id),
        ScanOf::Job(job) => sqlx::query_as("SELECT id, status, dossier, component FROM scans WHERE job = $1 FOR NO KEY UPDATE").bind(job),
    }
    .fetch_optional(&mut **tx)
    .await?;
    let Some((id, status, dossier, component)) = row else { return Ok(false) };
    let status = ScanStatus::parse(&status).ok_or_else(|| corrupt("scans", format!("status {status}")))?;
    if !step.from.contains(&status) {
        return Err(refused("illegal_transition", format!("scan {id} is {status}; it cannot become {}", step.to)));
    }
    sqlx::query("UPDATE scans SET status = $1, error_code = $2, error = $3, result = COALESCE($4, result), updated_at = $5 WHERE id = $6")
        .bind(step.to.as_str())
        .bind(step.error.as_ref().map(|f| f.code.as_str()))
        .bind(step.error.as_ref().map(|f| f.message.as_str()))
        .bind(step.result.as_ref().map(|r| r.to_string()))
        .bind(now_ms())
        .bind(id)
        .execute(&mut **tx)
        .await?;
    if let Some(to) = step.component {
        let flags = step.flags.as_ref().map(serde_json::to_string).transpose().map_err(|e| corrupt("components", e))?;
        sqlx::query("UPDATE components SET status = $1, flags = COALESCE($2, flags) WHERE dossier = $3 AND component = $4")
            .bind(to.as_str())
            .bind(flags)
            .bind(&dossier)
            .bind(&component)
            .execute(&mut **tx)
            .await?;
    }
    Ok(true)
}

pub(super) fn scan_row(r: &PgRow) -> Result<Scan> {
    let dossier: String = r.get("dossier");
    let digest: String = r.get("digest");
    Ok(Scan {
        id: r.get("id"),
        dossier: DossierCode::parse(&dossier).map_err(|e| corrupt("scans", e))?,
        component: r.get("component"),
        digest: Digest::parse(&digest).map_err(|e| corrupt("scans", e))?,
        media_type: r.get("media_type"),
        size: r.get::<i64, _>("size") as u64,
        pages: r.get::<i64, _>("pages") as u32,
        status: parse_state(r, "scans", ScanStatus::parse)?,
        error_code: r.get("error_code"),
        error: r.get("error"),
        job: r.get("job"),
        created_at_ms: r.get("created_at"),
        quality: match r.get::<Option<String>, _>("quality") {
            Some(text) => Some(serde_json::from_str(&text).map_err(|e| corrupt("scans", e))?),
            None => None,
        },
    })
}

#[async_trait]
impl ScanStore for PostgresIndex {
    async fn scan_by_idempotency_key(&self, key: &str) -> Result<Option<Scan>> {
        let row = sqlx::query("SELECT * FROM scans WHERE idempotency_key = $1").bind(key).fetch_optional(&self.pool).await?;
        row.as_ref().map(scan_row).transpose()
    }

    async fn create_scan(&self, s: NewScan, kind: JobKind, policy: RetryPolicy, entry: AuditEntry) -> Result<Scan> {
        let mut tx = self.write().await?;
        let now = now_ms();
        // The job's key names the scan, whose id is not known before the insert: it is taken
        // from the column's sequence, which never hands the same number to two transactions.
        let scan_id: i64 = sqlx::query_scalar("SELECT nextval(pg_get_serial_sequence('scans', 'id'))").fetch_one(&mut *tx).await?;
        let payload =
            OcrPayload { scan: Some(scan_id), import: None, digest: s.digest.clone(), media_type: s.media_type.clone(), register: false };
        let payload = serde_json::to_string(&payload).map_err(|e| corrupt("jobs", e))?;
        let key = format!("{}:scan:{scan_id}:{}", kind.as_str(), s.digest);
        let job = NewJob { kind, agency: s.dossier.agency(), payload, max_attempts: policy.max_attempts, key, priority: Priority::Desk };
        let job = enqueue(&mut tx, &job).await?;
        let quality = s.quality.as_ref().map(serde_json::to_string).transpose().map_err(|e| corrupt("scans", e))?;
        let row = sqlx::query(
            "INSERT INTO scans (id, dossier, component, digest, media_type, size, pages, status, job, idempotency_key, quality, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *",
        )
        .bind(scan_id)
        .bind(s.dossier.as_str())
        .bind(&s.component)
        .bind(s.digest.as_str())
        .bind(&s.media_type)
        .bind(s.size as i64)
        .bind(s.pages as i64)
        .bind(ScanStatus::INITIAL.as_str())
        .bind(job)
        .bind(s.idempotency_key.as_deref())
        .bind(quality)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        // An upload makes its component wait for the new scan, whatever it was before.
        sqlx::query("UPDATE components SET status = $1 WHERE dossier = $2 AND component = $3")
            .bind(ComponentStatus::Pending.as_str())
            .bind(s.dossier.as_str())
            .bind(&s.component)
            .execute(&mut *tx)
            .await?;
        audit(&mut tx, &entry, &format!("scan:{scan_id}")).await?;
        let scan = scan_row(&row)?;
        tx.commit().await?;
        Ok(scan)
    }

    async fn scan(&self, id: i64) -> Result<Option<Scan>> {
        let row = sqlx::query("SELECT * FROM scans WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(scan_row).transpose()
    }

    async fn scan_result(&self, id: i64) -> Result<Option<serde_json::Value>> {
        let text: Option<Option<String>> =
            sqlx::query_scalar("SELECT result FROM scans WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        match text.flatten() {
            Some(t) => serde_json::from_str(&t).map(Some).map_err(|e| corrupt("scans", e)),
            None => Ok(None),
        }
    }

    async fn step_scan(&self, scan: i64, step: ScanStep, entry: AuditEntry) -> Result<()> {
        let mut tx = self.write().await?;
        if !apply_scan_step(&mut tx, ScanOf::Id(scan), &step).await? {
            return Err(refused("scan_not_found", format!("no scan {scan}")));
        }
        audit(&mut tx, &entry, &format!("scan:{scan}")).await?;
        tx.commit().await?;
        Ok(())
    }
}
