//! The claim -> process -> complete loop, with heartbeats and graceful shutdown.

use crate::client::{Client, Job, Leased};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::sync::watch;

/// How long one claim waits on the server for work.
const CLAIM_WAIT: Duration = Duration::from_secs(20);

/// What processing a job came to.
enum Outcome {
    Done(Value),
    Failed { code: &'static str, message: String, permanent: bool },
    LeaseLost,
}

/// Runs `threads` claim loops until `stop` turns true; a job in hand is finished first.
pub async fn run(client: Client, worker: String, threads: usize, stop: watch::Receiver<bool>) {
    let mut loops = tokio::task::JoinSet::new();
    for n in 0..threads.max(1) {
        let name = if threads > 1 { format!("{worker}.{n}") } else { worker.clone() };
        loops.spawn(claim_loop(client.clone(), name, stop.clone()));
    }
    while loops.join_next().await.is_some() {}
}

async fn claim_loop(client: Client, worker: String, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(250);
    while !*stop.borrow() {
        let claimed = tokio::select! {
            claimed = client.claim(&["ocr"], CLAIM_WAIT) => claimed,
            _ = stop.changed() => break,
        };
        match claimed {
            Ok(Some(job)) => {
                backoff = Duration::from_millis(250);
                handle(&client, &worker, job).await;
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(worker = %worker, error = %format!("{e:#}"), "cannot reach the api");
                tokio::select! { _ = tokio::time::sleep(backoff) => {}, _ = stop.changed() => break }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
    tracing::info!(worker = %worker, "worker loop stopped");
}

/// Processes one job while a heartbeat keeps its lease, then reports the outcome.
async fn handle(client: &Client, worker: &str, job: Job) {
    tracing::info!(worker, job = job.id, kind = %job.kind, attempt = job.attempts, "job started");
    let (lost_tx, mut lost_rx) = watch::channel(false);
    let heartbeat = tokio::spawn(keep_lease(client.clone(), job.clone(), lost_tx));
    let outcome = tokio::select! {
        outcome = process(client, &job) => outcome,
        _ = lost_rx.wait_for(|lost| *lost) => Outcome::LeaseLost,
    };
    heartbeat.abort();
    let reported = match outcome {
        Outcome::Done(result) => client.complete(&job, result).await,
        Outcome::Failed { code, message, permanent } => client.fail(&job, code, &message, permanent).await,
        Outcome::LeaseLost => Ok(Leased::Lost),
    };
    match reported {
        Ok(Leased::Ok(answer)) => tracing::info!(worker, job = job.id, state = %answer["state"], "job reported"),
        Ok(Leased::Lost) => tracing::warn!(worker, job = job.id, "lease lost, result dropped"),
        Err(e) => tracing::warn!(worker, job = job.id, error = %format!("{e:#}"), "cannot report job, its lease will expire"),
    }
}

/// Extends the lease at a third of its length; flags `lost` if the server says it is gone.
async fn keep_lease(client: Client, job: Job, lost: watch::Sender<bool>) {
    let now = now_ms();
    let period = Duration::from_millis(((job.lease_until_ms - now) / 3).clamp(200, 60_000) as u64);
    loop {
        tokio::time::sleep(period).await;
        match client.heartbeat(&job).await {
            Ok(Leased::Ok(_)) => {}
            Ok(Leased::Lost) => {
                let _ = lost.send(true);
                return;
            }
            Err(e) => tracing::warn!(job = job.id, error = %format!("{e:#}"), "heartbeat failed"),
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

async fn process(client: &Client, job: &Job) -> Outcome {
    if job.kind != "ocr" {
        return Outcome::Failed { code: "unknown_kind", message: format!("this worker cannot do {} jobs", job.kind), permanent: true };
    }
    let bytes = match client.input(job).await {
        Ok(Leased::Ok(bytes)) => bytes,
        Ok(Leased::Lost) => return Outcome::LeaseLost,
        Err(e) => return Outcome::Failed { code: "input_unavailable", message: format!("{e:#}"), permanent: false },
    };
    // Recognition comes with the OCR engine; until then the worker proves it holds the
    // exact stored bytes by hashing them.
    let size = bytes.len();
    let digest = tokio::task::spawn_blocking(move || hex::encode(Sha256::digest(&bytes))).await;
    match digest {
        Ok(hex) => Outcome::Done(json!({ "digest": format!("sha256:{hex}"), "size": size })),
        Err(e) => Outcome::Failed { code: "worker_crash", message: e.to_string(), permanent: false },
    }
}
