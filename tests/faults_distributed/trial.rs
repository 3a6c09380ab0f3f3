//! The trial's client: paced uploads spread over the replicas, each retried with its
//! Idempotency-Key until acknowledged, counting every answer; and the log's checkpoints.

use super::common::served::{reqwest, SOHOA};
use super::common::unique_page;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Uploads in flight at once.
const CONCURRENCY: usize = 8;
/// A request unanswered this long counts as held: a fault the trial must not see.
const HELD: Duration = Duration::from_secs(20);

/// The uploads under way: the scan id each acknowledgement named, and every answer seen
/// (`202`, `503 index_unavailable`, `refused`, `timeout`...) with its count.
pub struct Uploads {
    acks: Arc<Mutex<Vec<Option<i64>>>>,
    acked: Arc<AtomicUsize>,
    pub seen: Arc<Mutex<BTreeMap<String, usize>>>,
}

impl Uploads {
    /// Upload `n` starts `n / pace` seconds in, through replica `n % 2` first, then through
    /// each in turn until one acknowledges it.
    pub fn start(bases: Vec<String>, scanner: String, codes: Vec<String>, pages: usize, pace: usize) -> Uploads {
        let uploads = Uploads {
            acks: Arc::new(Mutex::new(vec![None; pages])),
            acked: Arc::new(AtomicUsize::new(0)),
            seen: Arc::new(Mutex::new(BTreeMap::new())),
        };
        let next = Arc::new(AtomicUsize::new(0));
        let client = ::reqwest::Client::builder().timeout(HELD).build().unwrap();
        let began = tokio::time::Instant::now();
        for _ in 0..CONCURRENCY {
            let (acks, acked, seen, next, client) =
                (uploads.acks.clone(), uploads.acked.clone(), uploads.seen.clone(), next.clone(), client.clone());
            let (bases, scanner, codes) = (bases.clone(), scanner.clone(), codes.clone());
            reqwest::runtime().spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    if n >= pages {
                        return;
                    }
                    tokio::time::sleep_until(began + Duration::from_millis((n * 1000 / pace) as u64)).await;
                    let page = unique_page(n);
                    for attempt in 0.. {
                        let base = &bases[(n + attempt) % bases.len()];
                        let url = format!("{base}/api/v1/dossiers/{}/components/identity_card/scans", codes[n % codes.len()]);
                        let sent = client
                            .post(&url)
                            .bearer_auth(&scanner)
                            .header("Idempotency-Key", format!("trial-{n}"))
                            .body(page.clone())
                            .send()
                            .await;
                        let answer = match sent {
                            Ok(r) => {
                                let status = r.status().as_u16();
                                let body: Value = r.json().await.unwrap_or(Value::Null);
                                if status == 202 {
                                    acks.lock().unwrap()[n] = body["scan"]["id"].as_i64();
                                    acked.fetch_add(1, Ordering::SeqCst);
                                    *seen.lock().unwrap().entry("202".into()).or_default() += 1;
                                    break;
                                }
                                assert!(status >= 500, "upload {n}: {status} {body}");
                                format!("{status} {}", body["code"].as_str().unwrap_or("-"))
                            }
                            Err(e) if e.is_timeout() => "timeout".into(),
                            Err(_) => "refused".into(),
                        };
                        *seen.lock().unwrap().entry(answer).or_default() += 1;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            });
        }
        uploads
    }

    pub fn acked(&self) -> usize {
        self.acked.load(Ordering::SeqCst)
    }

    pub fn acks(&self) -> Vec<Option<i64>> {
        self.acks.lock().unwrap().clone()
    }
}

/// A signed checkpoint as served, kept in a file and checked with `sohoa tlog verify`.
pub struct Checkpoint {
    pub file: PathBuf,
    pub size: u64,
}

fn get_text(url: &str, token: &str) -> String {
    let started = Instant::now();
    loop {
        let answer = reqwest::runtime().block_on(async { ::reqwest::Client::new().get(url).bearer_auth(token).send().await });
        match answer {
            Ok(r) if r.status() == 200 => return reqwest::runtime().block_on(r.text()).unwrap(),
            other => assert!(started.elapsed() < Duration::from_secs(30), "GET {url}: {other:?}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn verify(dir: &Path, args: &[&Path]) -> std::process::Output {
    let mut cmd = Command::new(SOHOA);
    cmd.args(["tlog", "verify", "--key"]).arg(dir.join("data/tlog.pub"));
    for pair in args.chunks(2) {
        cmd.arg(pair[0]).arg(pair[1]);
    }
    cmd.output().unwrap()
}

pub fn checkpoint(dir: &Path, base: &str, token: &str, name: &str) -> Checkpoint {
    let text = get_text(&format!("{base}/api/v1/tlog/checkpoint"), token);
    let file = dir.join(format!("checkpoint-{name}.txt"));
    std::fs::write(&file, &text).unwrap();
    let out = verify(dir, &[Path::new("--checkpoint"), &file]);
    assert!(out.status.success(), "checkpoint {name} does not verify: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    let size = text.lines().nth(1).and_then(|l| l.parse().ok()).unwrap_or_else(|| panic!("no size in checkpoint {name}: {text}"));
    Checkpoint { file, size }
}

/// Whether the consistency proof the service gives from `old` to `new` verifies.
pub fn consistent(dir: &Path, base: &str, token: &str, old: &Checkpoint, new: &Checkpoint) -> bool {
    let proof = get_text(&format!("{base}/api/v1/tlog/consistency?from={}&to={}", old.size, new.size), token);
    let file = dir.join("consistency.json");
    std::fs::write(&file, proof).unwrap();
    let flags = [Path::new("--checkpoint"), &new.file, Path::new("--old-checkpoint"), &old.file, Path::new("--consistency"), &file];
    let out = verify(dir, &flags);
    if !out.status.success() {
        eprintln!("consistency: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }
    out.status.success()
}
