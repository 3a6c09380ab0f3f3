//! SQLite backend: one file in WAL mode. Every write goes through one connection, so that
//! writers queue in the process instead of on the file lock and that connection's page cache
//! stays valid between transactions; reads run on a pool beside it. Writers
//! still take the lock up front (`BEGIN IMMEDIATE`) for other processes on the same file.

mod fixity;
mod lifecycle;
mod records;
mod results;
mod tlog;

use super::*;
use crate::queue::OcrPayload;
use records::Replacement;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{Row, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteIndex {
    /// Reads.
    pool: SqlitePool,
    /// Writes: one connection.
    writer: SqlitePool,
}

/// Connections for reads.
const READERS: u32 = 8;
/// The writer's page cache, in KiB (a negative `cache_size`): the indexes a record touches.
const WRITER_CACHE_KIB: &str = "-32768";

type Tx = Transaction<'static, Sqlite>;

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn corrupt(table: &'static str, detail: impl std::fmt::Display) -> IndexError {
    IndexError::Corrupt { table, detail: detail.to_string() }
}

/// A change the target's state does not allow, with its stable code.
fn refused(code: &'static str, detail: String) -> IndexError {
    IndexError::Refused { code, detail }
}

impl SqliteIndex {
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        if let Some(parent) = options.get_filename().parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| IndexError::Database(sqlx::Error::Io(e)))?;
            }
        }
        // A local file has no connection to lose: no round trip to test one before each use.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone().pragma("cache_size", WRITER_CACHE_KIB))
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let pool = SqlitePoolOptions::new().max_connections(READERS).test_before_acquire(false).connect_with(options).await?;
        let index = SqliteIndex { pool, writer };
        index.log_unlogged_records().await?;
        Ok(index)
    }

    async fn write(&self) -> Result<Tx> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }

    async fn components(&self, code: &str) -> Result<Vec<ComponentState>> {
        let rows =
            sqlx::query("SELECT component, required, status, flags, record, reused FROM components WHERE dossier = ? ORDER BY position")
                .bind(code)
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                Ok(ComponentState {
                    component: r.get("component"),
                    required: r.get("required"),
                    status: parse_state(r, "components", ComponentStatus::parse)?,
                    flags: serde_json::from_str(r.get("flags")).map_err(|e| corrupt("components", e))?,
                    record: r.get("record"),
                    reused: r.get("reused"),
                })
            })
            .collect()
    }

    async fn scans_of(&self, code: &str) -> Result<Vec<Scan>> {
        let rows = sqlx::query("SELECT * FROM scans WHERE dossier = ? ORDER BY id").bind(code).fetch_all(&self.pool).await?;
        rows.iter().map(scan_row).collect()
    }
}

async fn audit(tx: &mut Tx, entry: &AuditEntry, target: &str) -> Result<()> {
    sqlx::query("INSERT INTO audit (at, actor, role, agency, action, target, request_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        .bind(now_ms())
        .bind(&entry.actor.id)
        .bind(&entry.actor.role)
        .bind(&entry.actor.agency)
        .bind(entry.action)
        .bind(target)
        .bind(&entry.actor.request_id)
        .bind(entry.detail.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Which scan a step applies to.
#[derive(Clone, Copy)]
enum ScanOf {
    Id(i64),
    /// The scan a job processes, if the job has one.
    Job(i64),
}

/// Applies a step a service decided to a scan and its component, refusing it when the scan is
/// not in a state the step starts from.
async fn apply_scan_step(tx: &mut Tx, of: ScanOf, step: &ScanStep) -> Result<bool> {
    let row: Option<(i64, String, String, String)> = match of {
        ScanOf::Id(id) => sqlx::query_as("SELECT id, status, dossier, component FROM scans WHERE id = ?").bind(id),
        ScanOf::Job(job) => sqlx::query_as("SELECT id, status, dossier, component FROM scans WHERE job = ?").bind(job),
    }
    .fetch_optional(&mut **tx)
    .await?;
    let Some((id, status, dossier, component)) = row else { return Ok(false) };
    let status = ScanStatus::parse(&status).ok_or_else(|| corrupt("scans", format!("status {status}")))?;
    if !step.from.contains(&status) {
        return Err(refused("illegal_transition", format!("scan {id} is {status}; it cannot become {}", step.to)));
    }
    sqlx::query("UPDATE scans SET status = ?, error_code = ?, error = ?, result = COALESCE(?, result), updated_at = ? WHERE id = ?")
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
        sqlx::query("UPDATE components SET status = ?, flags = COALESCE(?, flags) WHERE dossier = ? AND component = ?")
            .bind(to.as_str())
            .bind(flags)
            .bind(&dossier)
            .bind(&component)
            .execute(&mut **tx)
            .await?;
    }
    Ok(true)
}

fn scan_row(r: &SqliteRow) -> Result<Scan> {
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

/// The `status` column of `table` as its state enum.
fn parse_state<T>(r: &SqliteRow, table: &'static str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let text: &str = r.get("status");
    parse(text).ok_or_else(|| corrupt(table, format!("status {text}")))
}

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

fn dossier_row(r: &SqliteRow) -> Result<Dossier> {
    let code: String = r.get("code");
    let agency: String = r.get("agency");
    Ok(Dossier {
        code: DossierCode::parse(&code).map_err(|e| corrupt("dossiers", e))?,
        agency: AgencyCode::parse(&agency).map_err(|e| corrupt("dossiers", e))?,
        procedure: r.get("procedure"),
        applicant: Applicant { kind: r.get("applicant_kind"), id: r.get("applicant_id"), name: r.get("applicant_name") },
        status: parse_state(r, "dossiers", DossierStatus::parse)?,
        received_at_ms: r.get("received_at"),
        due_at_ms: r.get("due_at"),
        components: Vec::new(),
        scans: Vec::new(),
    })
}

/// Queues a job; a job with the same key already queued or done is kept, not doubled.
async fn enqueue(tx: &mut Tx, job: &NewJob) -> Result<i64> {
    let now = now_ms();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (kind, agency, payload, state, max_attempts, run_after, idempotency_key, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
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
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

#[async_trait]
impl Index for SqliteIndex {
    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

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

    async fn create_dossier(&self, d: NewDossier, entry: AuditEntry) -> Result<DossierCode> {
        let mut tx = self.write().await?;
        let day = d.day.format("%Y-%m-%d").to_string();
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO dossier_counters (agency, day, last) VALUES (?, ?, 1) \
             ON CONFLICT (agency, day) DO UPDATE SET last = last + 1 RETURNING last",
        )
        .bind(d.agency.as_str())
        .bind(&day)
        .fetch_one(&mut *tx)
        .await?;
        let exhausted = || IndexError::SequenceExhausted { agency: d.agency.clone(), day: d.day };
        let seq = u32::try_from(seq).map_err(|_| exhausted())?;
        let code = DossierCode::new(&d.agency, d.day, seq).map_err(|_| exhausted())?;
        sqlx::query(
            "INSERT INTO dossiers (code, agency, procedure, applicant_kind, applicant_id, applicant_name, status, received_at, due_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(code.as_str())
        .bind(d.agency.as_str())
        .bind(&d.procedure)
        .bind(&d.applicant.kind)
        .bind(&d.applicant.id)
        .bind(&d.applicant.name)
        .bind(DossierStatus::INITIAL.as_str())
        .bind(d.received_at_ms)
        .bind(d.due_at_ms)
        .execute(&mut *tx)
        .await?;
        for (position, (component, required)) in d.components.iter().enumerate() {
            sqlx::query("INSERT INTO components (dossier, component, position, required, status) VALUES (?, ?, ?, ?, ?)")
                .bind(code.as_str())
                .bind(component)
                .bind(position as i64)
                .bind(required)
                .bind(ComponentStatus::INITIAL.as_str())
                .execute(&mut *tx)
                .await?;
        }
        audit(&mut tx, &entry, code.as_str()).await?;
        tx.commit().await?;
        Ok(code)
    }

    async fn dossier(&self, code: &DossierCode) -> Result<Option<Dossier>> {
        let row = sqlx::query("SELECT * FROM dossiers WHERE code = ?").bind(code.as_str()).fetch_optional(&self.pool).await?;
        let Some(row) = row else { return Ok(None) };
        let mut dossier = dossier_row(&row)?;
        dossier.components = self.components(code.as_str()).await?;
        dossier.scans = self.scans_of(code.as_str()).await?;
        Ok(Some(dossier))
    }

    async fn list_dossiers(&self, f: &DossierFilter) -> Result<Vec<Dossier>> {
        let rows = sqlx::query(
            "SELECT * FROM dossiers WHERE (?1 IS NULL OR agency = ?1) AND (?2 IS NULL OR status = ?2) \
             AND (?3 IS NULL OR received_at >= ?3) AND (?4 IS NULL OR received_at < ?4) \
             ORDER BY received_at DESC, code DESC LIMIT ?5",
        )
        .bind(f.agency.as_ref().map(|a| a.as_str()))
        .bind(f.status.as_deref())
        .bind(f.from_ms)
        .bind(f.to_ms)
        .bind(f.limit as i64)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let mut d = dossier_row(row)?;
            d.components = self.components(d.code.as_str()).await?;
            out.push(d);
        }
        Ok(out)
    }

    async fn scan_by_idempotency_key(&self, key: &str) -> Result<Option<Scan>> {
        let row = sqlx::query("SELECT * FROM scans WHERE idempotency_key = ?").bind(key).fetch_optional(&self.pool).await?;
        row.as_ref().map(scan_row).transpose()
    }

    async fn create_scan(&self, s: NewScan, kind: JobKind, policy: RetryPolicy, entry: AuditEntry) -> Result<Scan> {
        let mut tx = self.write().await?;
        let now = now_ms();
        // The scan id is not known before the insert; the job's key uses a fresh row id.
        let scan_id: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM scans").fetch_one(&mut *tx).await?;
        let payload = OcrPayload { scan: scan_id, digest: s.digest.clone(), media_type: s.media_type.clone() };
        let payload = serde_json::to_string(&payload).map_err(|e| corrupt("jobs", e))?;
        let key = format!("{}:scan:{scan_id}:{}", kind.as_str(), s.digest);
        let job = NewJob { kind, agency: s.dossier.agency(), payload, max_attempts: policy.max_attempts, key };
        let job = enqueue(&mut tx, &job).await?;
        let quality = s.quality.as_ref().map(serde_json::to_string).transpose().map_err(|e| corrupt("scans", e))?;
        let row = sqlx::query(
            "INSERT INTO scans (id, dossier, component, digest, media_type, size, pages, status, job, idempotency_key, quality, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
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
        sqlx::query("UPDATE components SET status = ? WHERE dossier = ? AND component = ?")
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

    async fn scan_result(&self, id: i64) -> Result<Option<serde_json::Value>> {
        let text: Option<Option<String>> =
            sqlx::query_scalar("SELECT result FROM scans WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        match text.flatten() {
            Some(t) => serde_json::from_str(&t).map(Some).map_err(|e| IndexError::Corrupt { table: "scans", detail: e.to_string() }),
            None => Ok(None),
        }
    }

    async fn scan(&self, id: i64) -> Result<Option<Scan>> {
        let row = sqlx::query("SELECT * FROM scans WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(scan_row).transpose()
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
                 ORDER BY run_after, id LIMIT 1) \
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
                 run_after = COALESCE(?, run_after), attempts = CASE WHEN ? THEN 0 ELSE attempts END, \
                 lease_owner = CASE WHEN ? THEN NULL ELSE lease_owner END, lease_until = NULL, updated_at = ? \
             WHERE id = ? AND state = ? AND (? IS NULL OR lease_owner = ?) AND (? IS NULL OR lease_until < ?)",
        )
        .bind(step.to.as_str())
        .bind(step.result.as_ref().map(|r| r.to_string()))
        .bind(&step.last_error)
        .bind(step.run_after_ms)
        .bind(step.reset_attempts)
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

    async fn job_counts(&self) -> Result<Vec<(JobKind, JobState, u64)>> {
        let rows = sqlx::query("SELECT kind, state, COUNT(*) AS n FROM jobs GROUP BY kind, state ORDER BY kind, state")
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

    async fn create_record(&self, record: NewRecord, check: ComponentCheck, entry: AuditEntry) -> Result<Record> {
        self.insert_record(record, check, entry).await
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

    async fn reuse_record(&self, dossier: &DossierCode, component: &str, record: &str, entry: AuditEntry) -> Result<()> {
        self.link_record(dossier, component, record, entry).await
    }

    async fn record(&self, id: &str) -> Result<Option<Record>> {
        self.record_by("id", id.to_owned()).await
    }

    async fn record_for_scan(&self, scan: i64) -> Result<Option<Record>> {
        self.record_by("scan", scan.to_string()).await
    }

    async fn tlog_size(&self) -> Result<u64> {
        tlog::size(&mut *self.pool.acquire().await?).await
    }

    async fn tlog_nodes(&self, ids: &[NodeId]) -> Result<NodeMap> {
        tlog::nodes(&mut *self.pool.acquire().await?, ids).await
    }

    async fn find_records(&self, filter: &RecordFilter) -> Result<Vec<Record>> {
        self.select_records(filter).await
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

    async fn corrections(&self, agency: &AgencyCode, limit: u32) -> Result<Vec<Correction>> {
        self.select_corrections(agency, limit).await
    }

    async fn set_dossier_status(&self, code: &DossierCode, from: DossierStatus, to: DossierStatus, entry: AuditEntry) -> Result<bool> {
        let mut tx = self.write().await?;
        let done = sqlx::query("UPDATE dossiers SET status = ? WHERE code = ? AND status = ?")
            .bind(to.as_str())
            .bind(code.as_str())
            .bind(from.as_str())
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        audit(&mut tx, &entry, &format!("dossier:{code}")).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn change_record_status(&self, id: &str, change: StatusChange, entry: AuditEntry) -> Result<Option<Record>> {
        self.update_record_status(id, change, entry).await
    }

    async fn place_hold(&self, agency: &AgencyCode, target: &str, reason: &str, entry: AuditEntry) -> Result<Hold> {
        self.insert_hold(agency, target, reason, entry).await
    }

    async fn release_hold(&self, agency: &AgencyCode, id: i64, entry: AuditEntry) -> Result<Option<Hold>> {
        self.end_hold(agency, id, entry).await
    }

    async fn holds(&self, agency: &AgencyCode, in_force: bool, limit: u32) -> Result<Vec<Hold>> {
        self.select_holds(agency, in_force, limit).await
    }

    async fn disposal_candidates(&self, agency: &AgencyCode, rules: &[RetentionCutoff], limit: u32) -> Result<Vec<Record>> {
        self.select_disposal_candidates(agency, rules, limit).await
    }

    async fn dispose_record(&self, id: &str, rule: &RetentionCutoff, reason: &str, entry: AuditEntry) -> Result<Option<Disposal>> {
        self.mark_disposed(id, rule, reason, entry).await
    }

    async fn create_result(&self, result: NewResult, entry: AuditEntry) -> Result<ResultDoc> {
        self.insert_result(result, entry).await
    }

    async fn result(&self, id: &str) -> Result<Option<ResultDoc>> {
        self.get_result(id).await
    }

    async fn add_result_version(&self, id: &str, version: NewVersion, entry: AuditEntry) -> Result<ResultDoc> {
        self.append_result_version(id, version, entry).await
    }

    async fn create_signing_session(&self, session: NewSession, entry: AuditEntry) -> Result<()> {
        self.insert_session(session, entry).await
    }

    async fn signing_session(&self, id: &str) -> Result<Option<SigningSession>> {
        self.get_session(id).await
    }

    async fn issue_result(&self, id: &str, record: &str, entry: AuditEntry) -> Result<ResultDoc> {
        self.set_result_issued(id, record, entry).await
    }

    async fn archived_objects(&self) -> Result<ArchivedObjects> {
        self.select_archived_objects().await
    }

    async fn save_fixity_run(&self, run: &FixityRun) -> Result<i64> {
        self.insert_fixity_run(run).await
    }

    async fn latest_fixity_run(&self) -> Result<Option<FixityRun>> {
        self.select_latest_fixity_run().await
    }

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
        Ok(rows
            .iter()
            .map(|r| AuditRecord {
                id: r.get("id"),
                at_ms: r.get("at"),
                actor: r.get("actor"),
                role: r.get("role"),
                agency: r.get("agency"),
                action: r.get("action"),
                target: r.get("target"),
                request_id: r.get("request_id"),
                detail: serde_json::from_str(&r.get::<String, _>("detail")).unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }
}
