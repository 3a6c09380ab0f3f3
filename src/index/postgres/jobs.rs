//! The job queue in PostgreSQL: workers of every replica claim with `FOR UPDATE SKIP LOCKED`,
//! so two never take the same job and none waits behind another's claim; a job queued by
//! one replica wakes the idle workers of every other through `NOTIFY`.

use super::scans::{apply_scan_step, ScanOf};
use super::*;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;

/// The channel a queued job is announced on; the payload is the job's kind.
const QUEUED_CHANNEL: &str = "sohoa_jobs_queued";

fn job_row(r: &PgRow) -> Result<Job> {
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

/// Announces a queued job of `kind` to every listening process when the transaction commits.
async fn announce(tx: &mut Tx, kind: &str) -> Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)").bind(QUEUED_CHANNEL).bind(kind).execute(&mut **tx).await?;
    Ok(())
}

/// Queues a job; a job with the same key already queued or done is kept, not doubled.
pub(super) async fn enqueue(tx: &mut Tx, job: &NewJob) -> Result<i64> {
    announce(tx, job.kind.as_str()).await?;
    let now = now_ms();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (kind, agency, payload, state, max_attempts, run_after, idempotency_key, created_at, updated_at, priority) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
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
impl JobStore for PostgresIndex {
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
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let mut tx = self.write().await?;
        // A job whose lease ran out is taken again only while it has attempts left; the
        // service buries the others (`expired_jobs`). A row another claimer holds is passed
        // over, not waited for.
        let row = sqlx::query(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1, lease_until = $2, updated_at = $3 \
             WHERE id = (SELECT id FROM jobs WHERE kind = ANY($4) \
                 AND ($5::text IS NULL OR agency = $5) \
                 AND ((state = 'queued' AND run_after <= $6) \
                     OR (state = 'running' AND lease_until < $6 AND attempts < max_attempts)) \
                 ORDER BY priority, run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING *",
        )
        .bind(lease)
        .bind(now + lease_ms)
        .bind(now)
        .bind(&kinds)
        .bind(agency.map(|a| a.as_str()))
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
        let rows = sqlx::query("SELECT * FROM jobs WHERE state = 'running' AND lease_until < $1 AND attempts >= max_attempts ORDER BY id")
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_row).collect()
    }

    async fn heartbeat(&self, job: i64, lease: &str, until_ms: i64) -> Result<bool> {
        let done =
            sqlx::query("UPDATE jobs SET lease_until = $1, updated_at = $2 WHERE id = $3 AND state = 'running' AND lease_owner = $4")
                .bind(until_ms)
                .bind(now_ms())
                .bind(job)
                .bind(lease)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn step_job(&self, step: JobStep, entry: Option<AuditEntry>) -> Result<bool> {
        let mut tx = self.write().await?;
        let now = now_ms();
        // The job is checked and changed under its row lock: a step racing this one waits
        // for it, then checks its conditions against the state this one left.
        let current = sqlx::query(
            "SELECT id FROM jobs WHERE id = $1 AND state = $2 AND ($3::text IS NULL OR lease_owner = $3) \
             AND ($4::bigint IS NULL OR lease_until < $4) FOR NO KEY UPDATE",
        )
        .bind(step.job)
        .bind(step.from.as_str())
        .bind(&step.lease)
        .bind(step.expired_before)
        .fetch_optional(&mut *tx)
        .await?;
        if current.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE jobs SET state = $1, result = COALESCE($2, result), last_error = COALESCE($3, last_error), \
                 run_after = COALESCE($4, run_after), attempts = CASE WHEN $5 THEN 0 ELSE GREATEST(attempts - $9, 0) END, \
                 lease_owner = CASE WHEN $6 THEN NULL ELSE lease_owner END, lease_until = NULL, updated_at = $7 \
             WHERE id = $8",
        )
        .bind(step.to.as_str())
        .bind(step.result.as_ref().map(|r| r.to_string()))
        .bind(&step.last_error)
        .bind(step.run_after_ms)
        .bind(step.attempts.sql().0)
        .bind(step.release)
        .bind(now)
        .bind(step.job)
        .bind(step.attempts.sql().1)
        .execute(&mut *tx)
        .await?;
        if let Some(scan) = &step.scan {
            apply_scan_step(&mut tx, ScanOf::Job(step.job), scan).await?;
        }
        if step.to == JobState::Queued {
            announce(&mut tx, "").await?;
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
        let row = sqlx::query("SELECT * FROM jobs WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(job_row).transpose()
    }

    async fn job_result(&self, id: i64) -> Result<Option<serde_json::Value>> {
        let text: Option<Option<String>> =
            sqlx::query_scalar("SELECT result FROM jobs WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        text.flatten().map(|t| serde_json::from_str(&t).map_err(|e| corrupt("jobs", e))).transpose()
    }

    async fn job_counts(&self, agency: Option<&AgencyCode>) -> Result<Vec<(JobKind, JobState, u64)>> {
        let rows = sqlx::query(
            "SELECT kind, state, COUNT(*) AS n FROM jobs WHERE ($1::text IS NULL OR agency = $1) GROUP BY kind, state ORDER BY kind, state",
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
        let rows = sqlx::query("SELECT * FROM jobs WHERE state = $1 AND ($2::text IS NULL OR agency = $2) ORDER BY id LIMIT $3")
            .bind(state.as_str())
            .bind(agency.map(|a| a.as_str()))
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_row).collect()
    }

    async fn wake_on_queued(&self, queued: Arc<Notify>) -> Result<()> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(QUEUED_CHANNEL).await?;
        // The task holds the signal weakly: it ends once the service has let go of it.
        let queued = Arc::downgrade(&queued);
        tokio::spawn(async move {
            loop {
                let heard = listener.try_recv().await;
                let Some(queued) = queued.upgrade() else { return };
                match heard {
                    Ok(Some(_)) => queued.notify_waiters(),
                    // The connection was lost and is made again at the next call; what was
                    // announced meanwhile is missed, so the waiters look for themselves.
                    Ok(None) => queued.notify_waiters(),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot hear queued jobs announced by other processes");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(())
    }
}
