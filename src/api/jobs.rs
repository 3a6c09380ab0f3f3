//! The queue over HTTP for `sohoa-worker` processes, and dead-letter handling for admins.

use super::body::JsonBody;
use super::{ApiError, AppState, Principal};
use crate::custody::{Recognition, WorkerIdentity};
use crate::domain::audit::{Actor, AuditEntry};
use crate::domain::Finish;
use crate::domain::Role;
use crate::queue::{Job, JobKind, JobState};
use crate::service::queue::Refusal;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;
use serde_json::{json, Value};
use sohoa_protocol::job::{ClaimRequest, CompleteBody, Completion, FailBody, LeaseBody, LeaseExtended, Reported, Settled, StoredOutput};
use std::sync::Arc;
use std::time::Duration;

/// Who runs jobs: an agency's workers, and the operator's shared ones.
const WORKERS: &[Role] = &[Role::Worker, Role::Operator];

/// Longest a claim waits for work before answering 204.
const MAX_WAIT: Duration = Duration::from_secs(30);

fn new_lease() -> String {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes).expect("the system random generator works");
    hex::encode(bytes)
}

/// A job of the caller's agency (any agency's for the operator); another agency's job is
/// answered as absent.
async fn own_job(state: &AppState, who: &Principal, id: i64) -> Result<Job, ApiError> {
    let job = state.queue().job(id).await?.filter(|j| who.agency_scope().is_none_or(|a| *a == j.agency));
    job.ok_or_else(|| ApiError::not_found("job_not_found", format!("no job {id}")))
}

/// Who acted on `job`, entered in the job's agency's audit log whoever's token it was.
fn actor_for(who: &Principal, job: &Job) -> Actor {
    Actor { agency: job.agency.to_string(), ..who.actor() }
}

fn lease_lost(id: i64) -> ApiError {
    ApiError::conflict("lease_lost", format!("job {id} is not leased to this worker (expired, finished or taken over)"))
}

pub async fn claim(
    State(state): State<Arc<AppState>>,
    who: Principal,
    JsonBody(req): JsonBody<ClaimRequest>,
) -> Result<Response, ApiError> {
    who.require(WORKERS)?;
    if req.kinds.is_empty() {
        return Err(ApiError::unprocessable("invalid_request", "kinds must name at least one job kind"));
    }
    if let Some(kind) = req.kinds.iter().find(|k| !k.for_workers()) {
        return Err(ApiError::unprocessable("invalid_request", format!("{} jobs are run by the service, not by workers", kind.as_str())));
    }
    seen(&state, &who).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(req.wait_ms).min(MAX_WAIT);
    let mut stopping = state.stopping.subscribe();
    loop {
        // Register interest before looking, so a job queued in between still wakes us.
        let queued = state.jobs_queued.notified();
        if let Some(job) = state.queue().claim(&req.kinds, who.agency_scope(), &new_lease()).await? {
            tracing::info!(job = job.id, kind = job.kind.as_str(), attempt = job.attempts, "job claimed");
            return Ok(Json(job).into_response());
        }
        let now = tokio::time::Instant::now();
        if now >= deadline || *stopping.borrow() {
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        // Retries and expired leases become ready without a notification: look again soon.
        let pause = (deadline - now).min(Duration::from_secs(1));
        tokio::select! {
            _ = tokio::time::timeout(pause, queued) => {}
            _ = stopping.changed() => {}
        }
    }
}

/// A worker's last sign of life, for the operator's list of workers.
async fn seen(state: &AppState, who: &Principal) -> Result<(), ApiError> {
    if who.role == Role::Worker {
        state.queue().seen(who.token_id).await?;
    }
    Ok(())
}

#[derive(Deserialize)]
pub struct LeaseQuery {
    lease: String,
}

async fn leased(state: &AppState, who: &Principal, id: i64, lease: &str) -> Result<Job, ApiError> {
    let job = own_job(state, who, id).await?;
    if job.state != JobState::Running || job.lease.as_deref() != Some(lease) {
        return Err(lease_lost(id));
    }
    Ok(job)
}

/// The stored input of a leased job, verified against its digest.
pub async fn input(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<i64>,
    Query(q): Query<LeaseQuery>,
) -> Result<Response, ApiError> {
    who.require(WORKERS)?;
    let job = leased(&state, &who, id, &q.lease).await?;
    let (media_type, bytes) = state.queue().input(&job).await?;
    Ok(([(header::CONTENT_TYPE, media_type)], bytes).into_response())
}

/// Stores what a leased job produced (an `ocr` job's recognition, JSON) in the archive, by
/// digest; the completion then names it. Outputs are content-addressed, so a retry stores
/// nothing new, and go to the archive rather than through a JSON body limit.
pub async fn output(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<i64>,
    Query(q): Query<LeaseQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Json<StoredOutput>, ApiError> {
    who.require(WORKERS)?;
    leased(&state, &who, id, &q.lease).await?;
    // Words and boxes of every page: room for a scan at the page limit.
    let bytes = super::scans::read_body(body, &headers, state.max_upload_bytes.saturating_mul(2)).await?;
    if serde_json::from_slice::<Recognition>(&bytes).is_err() {
        return Err(ApiError::unprocessable("invalid_output", "the output of an ocr job is its recognition: {input, engine, pages}"));
    }
    let size = bytes.len();
    let digest = state.queue().store_output(bytes).await?;
    tracing::info!(job = id, digest = %digest.prefixed(), size, "job output stored");
    Ok(Json(StoredOutput { digest: digest.prefixed(), size: size as u64 }))
}

pub async fn heartbeat(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<LeaseBody>,
) -> Result<Json<LeaseExtended>, ApiError> {
    who.require(WORKERS)?;
    own_job(&state, &who, id).await?;
    let until = state.queue().heartbeat(id, &body.lease).await?.ok_or_else(|| lease_lost(id))?;
    seen(&state, &who).await?;
    Ok(Json(LeaseExtended { lease_until_ms: until }))
}

/// The service reads any result, then the one of the job's kind.
type CompleteAny = CompleteBody<Value>;

pub async fn complete(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<CompleteAny>,
) -> Result<Json<Reported>, ApiError> {
    who.require(WORKERS)?;
    let job = own_job(&state, &who, id).await?;
    if job.state == JobState::Done && job.lease.as_deref() == Some(body.lease.as_str()) {
        // A repeated completion by the holder is answered as the first one was.
        return Ok(Json(Reported { job: id, state: Settled::Done }));
    }
    let result = match job.kind {
        JobKind::Ocr => accept_ocr(&state, &who, &job, &body).await?,
        JobKind::Seal => return Err(ApiError::forbidden("service_job", "seal jobs are completed by the service")),
    };
    let pages = result.pages.len();
    let result = result.to_value();
    let audit =
        AuditEntry { actor: actor_for(&who, &job), action: "job.complete", target: String::new(), detail: json!({"kind": job.kind}) };
    let finish = state.queue().complete(id, &body.lease, result, audit).await?;
    let answer = reported(id, &finish)?;
    tracing::info!(job = id, "job done");
    crate::metrics::count("sohoa_ocr_pages_total", &[], pages as u64);
    crate::metrics::job_ended(job.kind.as_str(), answer.state.as_str(), job.queued_at_ms);
    // The seal stage waits on the same signal for the job this completion queued.
    state.jobs_queued.notify_waiters();
    Ok(answer)
}

/// The scan's result from a worker's completion: the service assembles the searchable copy
/// from the stored scan and the worker's words. Output that does not show the scan is
/// refused (`output_mismatch`), audited, and the job goes back to the queue.
async fn accept_ocr(state: &AppState, who: &Principal, job: &Job, body: &CompleteAny) -> Result<crate::custody::ScanResult, ApiError> {
    leased(state, who, job.id, &body.lease).await?;
    let completion: Completion = serde_json::from_value(body.result.clone())
        .map_err(|e| ApiError::unprocessable("invalid_result", format!("result must be {{input, recognition}}: {e}")))?;
    let worker = WorkerIdentity { token: who.token_id, label: who.label.clone(), role: who.role.as_str().to_owned() };
    let audit = |e: &crate::custody::AcceptError| {
        let detail = json!({"code": e.code(), "reason": e.to_string(), "token": who.token_id, "label": who.label});
        AuditEntry { actor: actor_for(who, job), action: "job.output_refused", target: String::new(), detail }
    };
    match state.queue().accept_ocr(job, &body.lease, &completion, worker, audit).await? {
        Ok(result) => Ok(result),
        Err(Refusal::Mismatch(reason)) => {
            tracing::warn!(job = job.id, token = who.token_id, "worker output refused");
            state.jobs_queued.notify_waiters();
            Err(ApiError::unprocessable("output_mismatch", reason))
        }
        Err(Refusal::Invalid { code, detail }) => Err(ApiError::unprocessable(code, detail)),
    }
}

pub async fn fail(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<FailBody>,
) -> Result<Json<Reported>, ApiError> {
    who.require(WORKERS)?;
    let job = own_job(&state, &who, id).await?;
    let audit = AuditEntry {
        actor: actor_for(&who, &job),
        action: "job.fail",
        target: String::new(),
        detail: json!({"code": body.failure.code, "permanent": body.failure.permanent}),
    };
    let finish = state.queue().fail(id, &body.lease, &body.failure, audit).await?;
    let answer = reported(id, &finish)?;
    tracing::warn!(job = id, code = %body.failure.code, state = answer.state.as_str(), "job failed");
    crate::metrics::job_ended(job.kind.as_str(), answer.state.as_str(), job.queued_at_ms);
    Ok(answer)
}

/// The answer to a report the lease holder made.
fn reported(id: i64, finish: &Finish) -> Result<Json<Reported>, ApiError> {
    let state = match finish {
        Finish::Done => Settled::Done,
        Finish::Retrying => Settled::Queued,
        Finish::Dead => Settled::Dead,
        Finish::NotLeaseHolder => return Err(lease_lost(id)),
    };
    Ok(Json(Reported { job: id, state }))
}

#[derive(Deserialize)]
pub struct ListQuery {
    state: String,
    limit: Option<u32>,
}

/// The agency's jobs in one state; `state=dead` lists the dead letters.
pub async fn list(State(state): State<Arc<AppState>>, who: Principal, Query(q): Query<ListQuery>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin, Role::Auditor, Role::Operator])?;
    let job_state = JobState::parse(&q.state)
        .ok_or_else(|| ApiError::bad_request("invalid_query", "state must be queued, running, done, failed or dead"))?;
    let jobs = state.queue().in_state(job_state, who.agency_scope(), q.limit.unwrap_or(100).clamp(1, 1000)).await?;
    let jobs: Vec<Job> = jobs.into_iter().map(|j| Job { lease: None, ..j }).collect();
    Ok(Json(json!({ "jobs": jobs })))
}

/// `GET /jobs/depth`: how many jobs of each kind are queued, running and dead.
pub async fn depth(State(state): State<Arc<AppState>>, who: Principal) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin, Role::Auditor, Role::Operator])?;
    let mut kinds: Vec<(JobKind, Value)> = Vec::new();
    for (kind, job_state, n) in state.queue().counts(who.agency_scope()).await? {
        let at = match kinds.iter().position(|(k, _)| *k == kind) {
            Some(at) => at,
            None => {
                kinds.push((kind, json!({"kind": kind.as_str(), "queued": 0, "running": 0, "dead": 0})));
                kinds.len() - 1
            }
        };
        if matches!(job_state, JobState::Queued | JobState::Running | JobState::Dead) {
            kinds[at].1[job_state.as_str()] = json!(n);
        }
    }
    Ok(Json(json!({ "depth": kinds.into_iter().map(|(_, v)| v).collect::<Vec<_>>() })))
}

pub async fn requeue(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<i64>) -> Result<Json<Reported>, ApiError> {
    who.require(&[Role::Admin, Role::Operator])?;
    let job = own_job(&state, &who, id).await?;
    let audit = AuditEntry { actor: actor_for(&who, &job), action: "job.requeue", target: String::new(), detail: json!({}) };
    if !state.queue().requeue(id, audit).await? {
        return Err(ApiError::conflict("not_dead", format!("job {id} is not a dead letter")));
    }
    state.jobs_queued.notify_waiters();
    Ok(Json(Reported { job: id, state: Settled::Queued }))
}
