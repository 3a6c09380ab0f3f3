//! The claim -> process -> complete loop, with heartbeats and graceful shutdown.

use crate::client::{Client, Job, Leased, Outage};
use crate::ocr::register::Entry;
use crate::ocr::{self, Engine, EngineInfo, OcrError, PageText};
use sha2::{Digest, Sha256};
use sohoa_protocol::custody::Recognition;
use sohoa_protocol::intake::MediaLimits;
use sohoa_protocol::job::{Completion, JobKind};
use std::time::Duration;
use tokio::sync::{oneshot, watch};

/// How long one claim waits on the server for work.
const CLAIM_WAIT: Duration = Duration::from_secs(20);

/// How long a job in hand waits, its lease kept, for the service's archive or index to come
/// back before it is handed back: a short outage costs no claim, a long one holds no job.
const OUTAGE_PATIENCE: Duration = Duration::from_secs(30);

/// What processing a job came to.
enum Outcome {
    Done(Completion),
    Failed { code: String, message: String, permanent: bool },
    LeaseLost,
}

/// Limits the worker applies to its input, whatever the service let through.
pub const LIMITS: MediaLimits = MediaLimits { max_pixels: 60_000_000, max_pages: 200, max_scan_pixels: 4_000_000_000 };

/// The words of a job's pages and, for register pages, their entries.
type Read = (Vec<PageText>, Option<Vec<Entry>>);
type Reply = oneshot::Sender<Result<Read, OcrError>>;

/// A thread owning one Tesseract engine, loaded once and reused for every job.
struct OcrThread {
    jobs: std::sync::mpsc::Sender<(bytes::Bytes, bool, Reply)>,
    info: EngineInfo,
}

impl OcrThread {
    fn start(lang: &str) -> Result<OcrThread, ocr::EngineError> {
        let (jobs, inbox) = std::sync::mpsc::channel::<(bytes::Bytes, bool, Reply)>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let lang = lang.to_owned();
        std::thread::spawn(move || {
            let mut engine = match Engine::new(&lang) {
                Ok(engine) => {
                    let _ = ready_tx.send(Ok(engine.info().clone()));
                    engine
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            for (input, register, reply) in inbox {
                let read = if register {
                    ocr::register::read(&mut engine, &[&input], LIMITS).map(|(pages, entries)| (pages, Some(entries)))
                } else {
                    ocr::recognise(&mut engine, &[&input], LIMITS, ocr::SERVICE_POLICY).map(|pages| (pages, None))
                };
                let _ = reply.send(read);
            }
        });
        match ready_rx.recv() {
            Ok(Ok(info)) => Ok(OcrThread { jobs, info }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(ocr::EngineError::Init(String::from("engine thread died"))),
        }
    }

    /// The input's words and, when `register`, the entries of its register pages.
    async fn recognise(&self, input: bytes::Bytes, register: bool) -> Result<Read, OcrError> {
        let (tx, rx) = oneshot::channel();
        let died = || OcrError::Engine(ocr::EngineError::Page("the engine thread stopped".into()));
        self.jobs.send((input, register, tx)).map_err(|_| died())?;
        rx.await.map_err(|_| died())?
    }
}

/// Runs `threads` claim loops, each with its own engine, until `stop` turns true; a job
/// in hand is finished first.
pub async fn run(client: Client, worker: String, threads: usize, lang: String, stop: watch::Receiver<bool>) {
    let mut loops = tokio::task::JoinSet::new();
    for n in 0..threads.max(1) {
        let name = if threads > 1 { format!("{worker}.{n}") } else { worker.clone() };
        let engine = match OcrThread::start(&lang) {
            Ok(engine) => engine,
            Err(e) => {
                tracing::error!(worker = %name, error = %e, "cannot start the ocr engine");
                return;
            }
        };
        loops.spawn(claim_loop(client.clone(), name, engine, stop.clone()));
    }
    while loops.join_next().await.is_some() {}
}

async fn claim_loop(client: Client, worker: String, engine: OcrThread, mut stop: watch::Receiver<bool>) {
    let mut backoff = Duration::from_millis(250);
    while !*stop.borrow() {
        let claimed = tokio::select! {
            claimed = client.claim(&[JobKind::Ocr], CLAIM_WAIT) => claimed,
            _ = stop.changed() => break,
        };
        match claimed {
            Ok(Some(job)) => {
                backoff = Duration::from_millis(250);
                handle(&client, &worker, &engine, job).await;
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
async fn handle(client: &Client, worker: &str, engine: &OcrThread, job: Job) {
    tracing::info!(worker, job = job.id, kind = job.kind.as_str(), attempt = job.attempts, "job started");
    let (lost_tx, mut lost_rx) = watch::channel(false);
    let heartbeat = tokio::spawn(keep_lease(client.clone(), job.clone(), lost_tx));
    let outcome = tokio::select! {
        outcome = process(client, engine, &job) => outcome,
        _ = lost_rx.wait_for(|lost| *lost) => Outcome::LeaseLost,
    };
    heartbeat.abort();
    let reported = match outcome {
        Outcome::Done(result) => client.complete(&job, result).await,
        Outcome::Failed { code, message, permanent } => client.fail(&job, &code, &message, permanent).await,
        Outcome::LeaseLost => Ok(Leased::Lost),
    };
    match reported {
        Ok(Leased::Ok(answer)) => tracing::info!(worker, job = job.id, state = answer.state.as_str(), "job reported"),
        Ok(Leased::Lost) => tracing::warn!(worker, job = job.id, "lease lost, result dropped"),
        Ok(Leased::Unavailable(outage)) => {
            tracing::warn!(worker, job = job.id, code = outage.code, "cannot report job, its lease will expire")
        }
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
            Ok(Leased::Unavailable(outage)) => tracing::warn!(job = job.id, code = outage.code, "heartbeat failed"),
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

/// Calls `call` again while the service answers 503, as it asks (at least a second apart,
/// doubling to 8 s), for `patience` at most; then the outage is the answer.
async fn patiently<T, F, Fut>(patience: Duration, mut call: F) -> anyhow::Result<Leased<T>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Leased<T>>>,
{
    let give_up = tokio::time::Instant::now() + patience;
    let mut pause = Duration::from_secs(1);
    loop {
        match call().await? {
            Leased::Unavailable(outage) if tokio::time::Instant::now() + pause < give_up => {
                tracing::info!(code = outage.code, "the service is unavailable, asking again");
                tokio::time::sleep(pause.max(outage.retry_after)).await;
                pause = (pause * 2).min(Duration::from_secs(8));
            }
            answer => return Ok(answer),
        }
    }
}

/// A job the service's outage stopped: reported with the service's own code, so the service
/// queues it again without using up an attempt.
fn outage(what: &str, outage: Outage) -> Outcome {
    let message = format!("the service could not {what}: {} for {} s", outage.code, OUTAGE_PATIENCE.as_secs());
    Outcome::Failed { code: outage.code, message, permanent: false }
}

async fn process(client: &Client, engine: &OcrThread, job: &Job) -> Outcome {
    if job.kind != JobKind::Ocr {
        return Outcome::Failed {
            code: "unknown_kind".into(),
            message: format!("this worker cannot do {} jobs", job.kind.as_str()),
            permanent: true,
        };
    }
    let bytes = match patiently(OUTAGE_PATIENCE, || client.input(job)).await {
        Ok(Leased::Ok(bytes)) => bytes,
        Ok(Leased::Lost) => return Outcome::LeaseLost,
        Ok(Leased::Unavailable(o)) => return outage("hand out the input", o),
        Err(e) => return Outcome::Failed { code: "input_unavailable".into(), message: format!("{e:#}"), permanent: false },
    };
    let input = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    let (pages, register) = match engine.recognise(bytes, job.wants_register()).await {
        Ok(read) => read,
        Err(e) => return Outcome::Failed { code: e.code().into(), message: e.to_string(), permanent: e.permanent() },
    };
    // The words go to the archive as an object; the service assembles the searchable copy
    // from the stored scan and these words itself.
    let recognition = Recognition { input: input.clone(), engine: engine.info.clone(), pages, register };
    let body = match serde_json::to_vec(&recognition) {
        Ok(body) => body,
        Err(e) => return Outcome::Failed { code: "output_unwritable".into(), message: e.to_string(), permanent: false },
    };
    match patiently(OUTAGE_PATIENCE, || client.output(job, body.clone())).await {
        Ok(Leased::Ok(recognition)) => Outcome::Done(Completion { input, recognition }),
        Ok(Leased::Lost) => Outcome::LeaseLost,
        Ok(Leased::Unavailable(o)) => outage("store the output", o),
        Err(e) => Outcome::Failed { code: "output_unavailable".into(), message: format!("{e:#}"), permanent: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn down() -> Leased<u8> {
        Leased::Unavailable(Outage { code: "archive_unavailable".into(), retry_after: Duration::from_millis(10) })
    }

    #[tokio::test]
    async fn a_503_is_asked_again_until_answered_and_given_up_after_the_patience() {
        let calls = AtomicUsize::new(0);
        let answer = patiently(Duration::from_secs(5), || async {
            Ok(if calls.fetch_add(1, Ordering::SeqCst) < 1 { down() } else { Leased::Ok(7) })
        })
        .await
        .unwrap();
        assert_eq!((answer, calls.load(Ordering::SeqCst)), (Leased::Ok(7), 2), "back once the service is");

        let calls = AtomicUsize::new(0);
        let began = std::time::Instant::now();
        let answer = patiently(Duration::from_millis(1500), || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Ok(down())
        })
        .await
        .unwrap();
        assert_eq!(answer, down(), "the outage is the answer once the patience is spent");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "asked again a second later, not in a tight loop");
        assert!(began.elapsed() < Duration::from_secs(3));
    }
}
