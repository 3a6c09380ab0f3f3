//! The job queue's workflow: what claiming, completing, failing and requeuing a job does to
//! the job, to the scan it processes and to that scan's component, and which job follows.
//! The index persists each step only while the job is as this module found it.

use crate::domain::{ComponentStatus, JobState, ScanEvent, ScanStatus};
use crate::index::{Attempts, AuditEntry, Finish, Index, IndexError, JobStep, NewJob, ScanStep};
use crate::queue::{Failure, Job, JobKind, OcrPayload, Priority, RetryPolicy, SealPayload};
use serde_json::Value;

type Result<T> = std::result::Result<T, IndexError>;

/// The step `event` makes a scan take, from every state that allows it.
pub fn scan_step(event: ScanEvent, error: Option<Failure>, result: Option<Value>) -> ScanStep {
    let from = ScanStatus::sources(event);
    // Every event leads to one state, whichever it starts from.
    let to = from.first().and_then(|s| s.on(event).ok()).unwrap_or(ScanStatus::Failed);
    ScanStep { from, to, component: ComponentStatus::after_scan(event), flags: None, error, result }
}

fn illegal(e: crate::domain::IllegalTransition) -> IndexError {
    IndexError::Refused { code: e.code(), detail: e.to_string() }
}

fn step(job: &Job, to: JobState) -> JobStep {
    JobStep {
        job: job.id,
        from: job.state,
        lease: job.lease.clone(),
        expired_before: None,
        to,
        result: None,
        last_error: None,
        run_after_ms: None,
        release: false,
        attempts: Attempts::Kept,
        scan: None,
        enqueue: None,
    }
}

fn holds(job: &Job, lease: &str) -> bool {
    job.state == JobState::Running && job.lease.as_deref() == Some(lease)
}

/// Hands the oldest ready job of `kinds` to `lease`'s holder; first buries the jobs whose
/// holder vanished with no attempt left.
pub async fn claim(
    index: &dyn Index,
    kinds: &[JobKind],
    agency: Option<&crate::domain::AgencyCode>,
    lease: &str,
    lease_ms: i64,
    now_ms: i64,
) -> Result<Option<Job>> {
    for job in index.expired_jobs(now_ms).await? {
        // an earlier attempt's own error is the likelier cause: keep it in view
        let earlier = job.last_error.as_ref().map(|e| format!("; before that: {e}")).unwrap_or_default();
        let failure = Failure {
            code: "lease_expired".into(),
            message: format!("no worker finished the job in {} attempts{earlier}", job.attempts),
            permanent: true,
        };
        let mut bury = step(&job, job.state.bury().map_err(illegal)?);
        bury.lease = None;
        bury.expired_before = Some(now_ms);
        bury.last_error = Some(format!("{}: {}", failure.code, failure.message));
        bury.scan = Some(scan_step(ScanEvent::Failed, Some(failure), None));
        index.step_job(bury, None).await?;
    }
    index.claim_job(kinds, agency, lease, lease_ms, now_ms, &scan_step(ScanEvent::Claimed, None, None)).await
}

/// The lease holder's result: the job is done, its scan recognised (its component
/// digitized), and the scan's seal job queued. Completing twice under one lease answers as
/// the first time did.
pub async fn complete(index: &dyn Index, id: i64, lease: &str, result: Value, audit: AuditEntry) -> Result<Finish> {
    let Some(job) = index.job(id).await? else { return Ok(Finish::NotLeaseHolder) };
    if !holds(&job, lease) {
        return Ok(repeated(&job, lease));
    }
    let mut done = step(&job, job.state.complete().map_err(illegal)?);
    if job.kind == JobKind::Ocr {
        let payload: OcrPayload = serde_json::from_value(job.payload.clone())
            .map_err(|e| IndexError::Corrupt { table: "jobs", detail: format!("ocr payload of job {id}: {e}") })?;
        // A recognised desk scan is sealed next, by the service itself; an imported
        // document's importer reads the job's result and seals it.
        if let Some(scan) = payload.scan {
            let seal =
                serde_json::to_string(&SealPayload { scan }).map_err(|e| IndexError::Corrupt { table: "jobs", detail: e.to_string() })?;
            done.enqueue = Some(NewJob {
                kind: JobKind::Seal,
                agency: job.agency.clone(),
                payload: seal,
                max_attempts: job.max_attempts,
                key: format!("seal:scan:{scan}"),
                priority: Priority::Desk,
            });
            done.scan = Some(scan_step(ScanEvent::Recognised, None, Some(result.clone())));
        }
    }
    done.result = Some(result);
    if index.step_job(done, Some(audit)).await? {
        return Ok(Finish::Done);
    }
    // Another request of the same holder finished it in between, or the lease was lost.
    Ok(match index.job(id).await? {
        Some(job) => repeated(&job, lease),
        None => Finish::NotLeaseHolder,
    })
}

fn repeated(job: &Job, lease: &str) -> Finish {
    if job.state == JobState::Done && job.lease.as_deref() == Some(lease) {
        Finish::Done
    } else {
        Finish::NotLeaseHolder
    }
}

/// The lease holder's failure: queued again after a backoff, or dead (its scan and
/// component failed) when permanent or out of attempts. A failure the service's own outage
/// caused (its archive or index unreachable) is queued again after the first backoff and
/// gives its attempt back: however long the outage, it buries no job.
pub async fn fail(index: &dyn Index, id: i64, lease: &str, failure: &Failure, policy: RetryPolicy, audit: AuditEntry) -> Result<Finish> {
    let Some(job) = index.job(id).await? else { return Ok(Finish::NotLeaseHolder) };
    if !holds(&job, lease) {
        return Ok(Finish::NotLeaseHolder);
    }
    let last_error = Some(format!("{}: {}", failure.code, failure.message));
    let outage = failure.is_outage();
    let (next, finish) = if !outage && (failure.permanent || job.attempts >= job.max_attempts) {
        let mut bury = step(&job, job.state.bury().map_err(illegal)?);
        bury.scan = Some(scan_step(ScanEvent::Failed, Some(failure.clone()), None));
        (bury, Finish::Dead)
    } else {
        let mut retry = step(&job, job.state.retry().map_err(illegal)?);
        // An outage's failure is not the job's: its attempt is given back and the wait
        // stays the first one, so the job runs soon after the service is whole again.
        let tries = if outage { 1 } else { job.attempts };
        retry.attempts = if outage { Attempts::Refunded } else { Attempts::Kept };
        retry.run_after_ms = Some(chrono::Utc::now().timestamp_millis() + policy.backoff(tries).as_millis() as i64);
        retry.release = true;
        retry.scan = Some(scan_step(ScanEvent::Retrying, Some(failure.clone()), None));
        (retry, Finish::Retrying)
    };
    let next = JobStep { last_error, ..next };
    Ok(if index.step_job(next, Some(audit)).await? { finish } else { Finish::NotLeaseHolder })
}

/// Puts a dead job back in the queue with a fresh set of attempts, its scan queued and its
/// component pending; `false` when the job is not dead.
pub async fn requeue(index: &dyn Index, id: i64, audit: AuditEntry) -> Result<bool> {
    let Some(job) = index.job(id).await? else { return Ok(false) };
    let Ok(to) = job.state.requeue() else { return Ok(false) };
    let mut again = step(&job, to);
    again.lease = None;
    again.release = true;
    again.attempts = Attempts::Reset;
    again.run_after_ms = Some(chrono::Utc::now().timestamp_millis());
    again.scan = Some(scan_step(ScanEvent::Requeued, None, None));
    index.step_job(again, Some(audit)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scan_step_starts_where_the_state_machine_allows() {
        let claimed = scan_step(ScanEvent::Claimed, None, None);
        assert_eq!(
            (claimed.from, claimed.to, claimed.component),
            (vec![ScanStatus::Queued, ScanStatus::Processing], ScanStatus::Processing, None)
        );
        let done = scan_step(ScanEvent::Recognised, None, None);
        assert_eq!(
            (done.from, done.to, done.component),
            (vec![ScanStatus::Processing], ScanStatus::Done, Some(ComponentStatus::Digitized))
        );
        let dead = scan_step(ScanEvent::Failed, None, None);
        assert_eq!((dead.to, dead.component), (ScanStatus::Failed, Some(ComponentStatus::Failed)));
        let again = scan_step(ScanEvent::Requeued, None, None);
        assert_eq!((again.from, again.to, again.component), (vec![ScanStatus::Failed], ScanStatus::Queued, Some(ComponentStatus::Pending)));
    }
}
