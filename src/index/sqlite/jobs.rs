//! The job queue in SQLite.

use super::scans::{apply_scan_step, ScanOf};
use super::*;

fn job_row(r: &SqliteRow) -> Result<Job> {
    let kind: String = r.get("kind");
    let state: String = r.get("state");
    let payload: String = r.get("payload");
    let agency: String = r.get("agency");
    Ok(Job {
        id: r.get("id"),
        kind: JobKind::parse(&kind).ok_or_else(|| corrupt("jobs", format!("kind {kind}")))?,
        agency: AgencyCode::parse(&agency).map_err(|e| corrupt("jobs", e))?,
        payload: serde_json::from_str(&payload).map_err(|e| corrupt("jobs", e))?,
        state: JobState::parse(&state).ok_or_else(|| corrupt("jobs", format!("state {state}")))?,
        attempts: r.get::<i64, _>("attempts") as u32,
        max_attempts: r.get::<i64, _>("max_attempts") as u32,
        lease: r.get("lease_owner"),
        lease_until_ms: r.get("lease_until"),
        last_error: r.get("last_error"),
        queued_at_ms: r.get("created_at"),
    })
}

/// Queues a job; a job with the same key already queued or done is kept, not doubled.
pub(super) async fn enqueue(tx: &mut Tx, job: &NewJob) -> Result<i64> {
    let now = now_ms();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (kind, agency, payload, state, max_attempts, run_after, idempotency_key, created_at, updated_at, priority) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (idempotency_key) DO UPDATE SET updated_at = jobs.updated_at RETURNING id",
    )
    .bind(job.kind.as_str())
    .bind(job.agency.as_str())
    .bind(&job.payload)
    .bind(JobState::Queued.as_str())
    .bind(job.max_attempts as i64)
    .bind(now)
    .bind(&job.key)
    .bind(now)
    .bind(now)
    .bind(job.priority.rank())
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

#[async_trait]
impl JobStore for SqliteIndex {
    async fn queue_job(&self, job: NewJob) -> Result<i64> {
        let mut tx = self.write().await?;
        let id = enqueue(&mut tx, &job).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn claim_job(
        &self,
        kinds: &[JobKind],
        agency: Option<&AgencyCode>,
        lease: &str,
        lease_ms: i64,
        now: i64,
        scan: &ScanStep,
    ) -> Result<Option<Job>> {
        let kinds = serde_json::to_string(&kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>()).map_err(|e| corrupt("jobs", e))?;
        let mut tx = self.write().await?;
        // A job whose lease ran out is taken again only while it has attempts left; the
        // service buries the others (`expired_jobs`).
        let row = sqlx::query(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?, lease_until = ?, updated_at = ? \
             WHERE id = (SELECT id FROM jobs WHERE kind IN (SELECT value FROM json_each(?)) \
                 AND (? IS NULL OR agency = ?) \
                 AND ((state = 'queued' AND run_after <= ?) \
                     OR (state = 'running' AND lease_until < ? AND attempts < max_attempts)) \
                 ORDER BY priority, run_after, id LIMIT 1) \
             RETURNING *",
        )
        .bind(lease)
        .bind(now + lease_ms)
        .bind(now)
        .bind(&kinds)
        .bind(agency.map(|a| a.as_str()))
        .bind(agency.map(|a| a.as_str()))
        .bind(now)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let job = row.as_ref().map(job_row).transpose()?;
        if let Some(job) = &job {
            apply_scan_step(&mut tx, ScanOf::Job(job.id), scan).await?;
        }
        tx.commit().await?;
        Ok(job)
    }

    async fn expired_jobs(&self, now: i64) -> Result<Vec<Job>> {
        let rows = sqlx::query("SELECT * FROM jobs WHERE state = 'running' AND lease_until < ? AND attempts >= max_attempts ORDER BY id")
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_row).collect()
    }

    async fn heartbeat(&self, job: i64, lease: &str, until_ms: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE jobs SET lease_until = ?, updated_at = ? WHERE id = ? AND state = 'running' AND lease_owner = ?")
            .bind(until_ms)
            .bind(now_ms())
            .bind(job)
            .bind(lease)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn step_job(&self, step: JobStep, entry: Option<AuditEntry>) -> Result<bool> {
        let mut tx = self.write().await?;
        let now = now_ms();
        let updated = sqlx::query(
            "UPDATE jobs SET state = ?, result = COALESCE(?, result), last_error = COALESCE(?, last_error), \
                 run_after = COALESCE(?, run_after), attempts = CASE WHEN ? THEN 0 ELSE MAX(attempts - ?, 0) END, \
                 lease_owner = CASE WHEN ? THEN NULL ELSE lease_owner END, lease_until = NULL, updated_at = ? \
             WHERE id = ? AND state = ? AND (? IS NULL OR lease_owner = ?) AND (? IS NULL OR lease_until < ?)",
        )
        .bind(step.to.as_str())
        .bind(step.result.as_ref().map(|r| r.to_string()))
        .bind(&step.last_error)
        .bind(step.run_after_ms)
        .bind(step.attempts.sql().0)
        .bind(step.attempts.sql().1)
        .bind(step.release)
        .bind(now)
        .bind(step.job)
        .bind(step.from.as_str())
        .bind(&step.lease)
        .bind(&step.lease)
        .bind(step.expired_before)
        .bind(step.expired_before)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(scan) = &step.scan {
            apply_scan_step(&mut tx, ScanOf::Job(step.job), scan).await?;
        }
        if let Some(job) = &step.enqueue {
            enqueue(&mut tx, job).await?;
        }
        if let Some(entry) = entry {
            audit(&mut tx, &entry, &format!("job:{}", step.job)).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn job(&self, id: i64) -> Result<Option<Job>> {
        let row = sqlx::query("SELECT * FROM jobs WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(job_row).transpose()
    }

    async fn job_result(&self, id: i64) -> Result<Option<serde_json::Value>> {
        let text: Option<Option<String>> =
            sqlx::query_scalar("SELECT result FROM jobs WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        text.flatten().map(|t| serde_json::from_str(&t).map_err(|e| corrupt("jobs", e))).transpose()
    }

    async fn job_counts(&self, agency: Option<&AgencyCode>) -> Result<Vec<(JobKind, JobState, u64)>> {
        let rows = sqlx::query(
            "SELECT kind, state, COUNT(*) AS n FROM jobs WHERE (?1 IS NULL OR agency = ?1) GROUP BY kind, state ORDER BY kind, state",
        )
        .bind(agency.map(|a| a.as_str()))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (kind, state): (String, String) = (r.get("kind"), r.get("state"));
                let kind = JobKind::parse(&kind).ok_or_else(|| corrupt("jobs", format!("kind {kind}")))?;
                let state = JobState::parse(&state).ok_or_else(|| corrupt("jobs", format!("state {state}")))?;
                Ok((kind, state, r.get::<i64, _>("n") as u64))
            })
            .collect()
    }

    async fn jobs_in_state(&self, state: JobState, agency: Option<&AgencyCode>, limit: u32) -> Result<Vec<Job>> {
        let rows = sqlx::query("SELECT * FROM jobs WHERE state = ? AND (? IS NULL OR agency = ?) ORDER BY id LIMIT ?")
            .bind(state.as_str())
            .bind(agency.map(|a| a.as_str()))
            .bind(agency.map(|a| a.as_str()))
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_row).collect()
    }

    /// Every write goes through this process's one writer: the service's own signal covers it.
    async fn wake_on_queued(&self, _queued: Arc<tokio::sync::Notify>) -> Result<()> {
        Ok(())
    }
}
