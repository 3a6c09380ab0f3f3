//! The job queue as workers and admins reach it: claims, a leased job's input and output,
//! heartbeats, completion (an OCR result checked against the scan before it counts),
//! failure, dead letters, counts. The workflow of each step is `jobs`'.

use super::{jobs, Result, ServiceError};
use crate::archive::Archive;
use crate::custody::{self, ScanResult, WorkerIdentity};
use crate::domain::{AgencyCode, Digest};
use crate::index::{AuditEntry, Finish, Index};
use crate::intake::MediaLimits;
use crate::queue::{Failure, Job, JobKind, JobState, OcrPayload, RetryPolicy};
use bytes::Bytes;
use sohoa_protocol::job::Completion;

/// Why a worker's completion was not accepted.
pub enum Refusal {
    /// The output does not show the scan: audited, and the job went back to the queue.
    Mismatch(String),
    /// Otherwise unusable, with its stable code.
    Invalid { code: &'static str, detail: String },
}

pub struct Queue<'a> {
    pub index: &'a dyn Index,
    pub archive: &'a Archive,
    pub retry: RetryPolicy,
    pub media_limits: MediaLimits,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn ocr_payload(job: &Job) -> Result<OcrPayload> {
    serde_json::from_value(job.payload.clone()).map_err(|e| ServiceError::Internal { context: "bad ocr payload", detail: e.to_string() })
}

impl Queue<'_> {
    pub async fn job(&self, id: i64) -> Result<Option<Job>> {
        Ok(self.index.job(id).await?)
    }

    /// The oldest ready job of `kinds` (of `agency` when given), leased to `lease`.
    pub async fn claim(&self, kinds: &[JobKind], agency: Option<&AgencyCode>, lease: &str) -> Result<Option<Job>> {
        let lease_ms = self.retry.lease.as_millis() as i64;
        Ok(jobs::claim(self.index, kinds, agency, lease, lease_ms, now_ms()).await?)
    }

    /// A worker's token was seen now.
    pub async fn seen(&self, token: i64) -> Result<()> {
        Ok(self.index.touch_token(token, now_ms()).await?)
    }

    /// A leased OCR job's scan, verified against its digest: (media type, bytes).
    pub async fn input(&self, job: &Job) -> Result<(String, Bytes)> {
        let payload = ocr_payload(job)?;
        let bytes = self.archive.get_blob(&payload.digest).await?;
        Ok((payload.media_type, bytes))
    }

    /// Stores a job's output by its digest.
    pub async fn store_output(&self, bytes: Bytes) -> Result<Digest> {
        Ok(self.archive.put_blob(bytes).await?)
    }

    /// Extends `lease` on job `id`; the new end, or None when the lease is not held.
    pub async fn heartbeat(&self, id: i64, lease: &str) -> Result<Option<i64>> {
        let until = now_ms() + self.retry.lease.as_millis() as i64;
        Ok(self.index.heartbeat(id, lease, until).await?.then_some(until))
    }

    /// An OCR job's result from a worker's completion: the service assembles the searchable
    /// copy from the stored scan and the worker's words. Output that does not show the scan
    /// fails the job under `lease` with `audit` and is refused.
    pub async fn accept_ocr(
        &self,
        job: &Job,
        lease: &str,
        completion: &Completion,
        worker: WorkerIdentity,
        audit: impl FnOnce(&custody::AcceptError) -> AuditEntry,
    ) -> Result<std::result::Result<ScanResult, Refusal>> {
        let payload = ocr_payload(job)?;
        match custody::accept(self.archive, &payload.digest, completion, worker, self.media_limits).await {
            Ok(result) => Ok(Ok(result)),
            Err(custody::AcceptError::Archive(e)) => Err(e.into()),
            Err(e) if e.is_mismatch() => {
                tracing::warn!(job = job.id, error = %e, "worker output refused");
                let failure = Failure { code: e.code().to_owned(), message: e.to_string(), permanent: false };
                jobs::fail(self.index, job.id, lease, &failure, self.retry, audit(&e)).await?;
                Ok(Err(Refusal::Mismatch(e.to_string())))
            }
            Err(e) => Ok(Err(Refusal::Invalid { code: e.code(), detail: e.to_string() })),
        }
    }

    pub async fn complete(&self, id: i64, lease: &str, result: serde_json::Value, audit: AuditEntry) -> Result<Finish> {
        Ok(jobs::complete(self.index, id, lease, result, audit).await?)
    }

    pub async fn fail(&self, id: i64, lease: &str, failure: &Failure, audit: AuditEntry) -> Result<Finish> {
        Ok(jobs::fail(self.index, id, lease, failure, self.retry, audit).await?)
    }

    /// Queues a dead job again; false when it is not dead.
    pub async fn requeue(&self, id: i64, audit: AuditEntry) -> Result<bool> {
        Ok(jobs::requeue(self.index, id, audit).await?)
    }

    pub async fn in_state(&self, state: JobState, agency: Option<&AgencyCode>, limit: u32) -> Result<Vec<Job>> {
        Ok(self.index.jobs_in_state(state, agency, limit).await?)
    }

    /// Jobs by kind and state.
    pub async fn counts(&self, agency: Option<&AgencyCode>) -> Result<Vec<(JobKind, JobState, u64)>> {
        Ok(self.index.job_counts(agency).await?)
    }
}
