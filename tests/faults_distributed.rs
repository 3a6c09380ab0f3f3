//! The fault trial on the distributed setup, loopback only: two `sohoa serve` replicas on a
//! PostgreSQL instance and a Garage of the test's own (so that stopping them disturbs no
//! other test), two remote workers (`sohoa-worker --api`, one per replica), and uploads
//! spread over both replicas, each retried with its Idempotency-Key until acknowledged.
//! Meanwhile, in rounds: `kill -9` of a replica (started again), `kill -9` of a worker
//! (started again), PostgreSQL stopped outright and started, Garage killed and started.
//! While a dependency is down every answer is 503 with a stable code, never another 5xx
//! nor a hang; at the end no acknowledged upload is lost or doubled, each scan is sealed
//! once, and the log's checkpoint after is consistent with the one before (RFC 9162).
//! `make test` runs one round over 120 uploads; `make soak` runs SOHOA_FAULT_UPLOADS and
//! SOHOA_FAULT_ROUNDS at full size. Without PostgreSQL or Garage installed the test says so.

mod common;

use common::cluster::{OwnGarage, OwnPostgres, Replica};
use common::served::{call, policies, reqwest, SOHOA};
use serde_json::{json, Value};
use sohoa::domain::Digest;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "faults_distributed/trial.rs"]
mod trial;
use common::unique_page;
use trial::Uploads;

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn report(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) -> Duration {
    let began = Instant::now();
    while !done() {
        assert!(began.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
    began.elapsed()
}

/// Like [`wait_for`], giving up quietly: whether `done` came true in time.
fn wait_for_some(timeout: Duration, mut done: impl FnMut() -> bool) -> bool {
    let began = Instant::now();
    while !done() {
        if began.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    true
}

/// How long a dependency stays down: longer than the service waits for it, so that clients
/// are answered 503 meanwhile.
const DOWN: Duration = Duration::from_secs(4);

fn config(dir: &Path, pg: &OwnPostgres, garage: &OwnGarage) -> String {
    format!(
        "data_dir = \"{d}/data\"\nindex_url = \"{url}\"\nindex_acquire_timeout = \"2s\"\n{archive}s3_retry_timeout = \"2s\"\n\
         policies_dir = \"{p}\"\nworkers = 0\ntlog_key = \"{d}/data/tlog.key\"\nfixity_interval = \"0\"\nduty_lease_seconds = 3\n\
         lease_seconds = 3\nretry_base_seconds = 1\n",
        d = dir.display(),
        url = pg.url(),
        archive = garage.archive_config(),
        p = policies().display(),
    )
}

/// A remote worker taking its jobs from `base`; killed outright when dropped.
struct Worker(Child);

impl Worker {
    fn start(dir: &Path, base: &str, name: &str, run: usize) -> Worker {
        let child = Command::new(common::worker_binary())
            .arg("--api")
            .arg(base)
            .arg("--token-file")
            .arg(dir.join("worker.token"))
            .arg("--id")
            .arg(name)
            .env("OMP_THREAD_LIMIT", "1")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join(format!("worker-{name}-{run}.log"))).unwrap())
            .spawn()
            .unwrap();
        Worker(child)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The shared database, read by the test for what the API does not list.
struct Db(sqlx::PgPool);

impl Db {
    fn scans(&self) -> Vec<(i64, String, String)> {
        reqwest::runtime().block_on(sqlx::query_as("SELECT id, digest, status FROM scans").fetch_all(&self.0)).unwrap()
    }
    fn records(&self) -> HashMap<i64, i64> {
        let q = sqlx::query_as("SELECT scan, COUNT(*) FROM records WHERE scan IS NOT NULL GROUP BY scan").fetch_all(&self.0);
        reqwest::runtime().block_on(q).unwrap().into_iter().collect()
    }
    fn running_ocr(&self) -> Vec<i64> {
        let q = sqlx::query_scalar("SELECT id FROM jobs WHERE kind = 'ocr' AND state = 'running'").fetch_all(&self.0);
        reqwest::runtime().block_on(q).unwrap_or_default()
    }
    fn done(&self, jobs: &[i64]) -> bool {
        let q = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE id = ANY($1) AND state = 'done'").bind(jobs).fetch_one(&self.0);
        reqwest::runtime().block_on(q).is_ok_and(|n: i64| n as usize == jobs.len())
    }
    fn jobs(&self) -> Vec<(i64, String, String, i64, Option<String>)> {
        let q =
            sqlx::query_as("SELECT id, kind, state, attempts, last_error FROM jobs WHERE state <> 'done' ORDER BY id").fetch_all(&self.0);
        reqwest::runtime().block_on(q).unwrap_or_default()
    }
}

/// Both replicas ready (index and archive reachable): how long after `since`.
fn ready(replicas: &[Replica], since: Instant) -> Duration {
    wait_for("both replicas ready", Duration::from_secs(60), || {
        replicas.iter().all(|r| reqwest::blocking_get(&format!("{}/readyz", r.base)).is_ok_and(|r| r.status() == 200))
    });
    since.elapsed()
}

/// A request through each replica while a dependency is down: answered 503 with `code`
/// within `limit`, and a `Retry-After`.
fn probe_unavailable(replicas: &[Replica], token: &str, upload: &dyn Fn(&str) -> ::reqwest::RequestBuilder, code: &str, limit: Duration) {
    for r in replicas {
        let began = Instant::now();
        let answer = reqwest::runtime().block_on(async { upload(&r.base).bearer_auth(token).send().await }).unwrap();
        let took = began.elapsed();
        let status = answer.status().as_u16();
        let retry_after = answer.headers().contains_key("retry-after");
        let body: Value = reqwest::runtime().block_on(answer.json()).unwrap_or(Value::Null);
        assert_eq!((status, body["code"].as_str()), (503, Some(code)), "while a dependency is down: {body}");
        assert!(retry_after, "a 503 says when to try again");
        assert!(took < limit, "answered in {took:?}, more than {limit:?}");
    }
}

#[test]
fn replicas_workers_postgres_and_garage_killed_during_uploads_lose_and_double_nothing() {
    let (pg, garage) = match (OwnPostgres::start(), OwnGarage::start()) {
        (Ok(pg), Ok(garage)) => (pg, garage),
        (pg, garage) => {
            let why = [pg.err(), garage.err()].into_iter().flatten().collect::<Vec<_>>().join("; ");
            report(&format!("\nWARNING: the distributed fault trial needs PostgreSQL and Garage installed: NOT run ({why})\n"));
            return;
        }
    };
    let pages = env_count("SOHOA_FAULT_UPLOADS", 120);
    let rounds = env_count("SOHOA_FAULT_ROUNDS", 1);
    let pace = env_count("SOHOA_FAULT_PACE", 4).max(1);
    let began = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("sohoa.toml"), config(d, &pg, &garage)).unwrap();
    let init = Command::new(SOHOA).arg("--config").arg(d.join("sohoa.toml")).arg("init").output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let tokens: HashMap<String, String> = std::fs::read_to_string(d.join("data/tokens.txt"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_lowercase(), v.to_owned()))
        .collect();
    let (scanner, consumer) = (tokens["scanner"].clone(), tokens["consumer"].clone());
    std::fs::write(d.join("worker.token"), &tokens["worker"]).unwrap();
    let db = Db(reqwest::runtime().block_on(sqlx::PgPool::connect(&pg.url())).unwrap());

    let mut replicas = vec![Replica::start(d, "a"), Replica::start(d, "b")];
    let bases: Vec<String> = replicas.iter().map(|r| r.base.clone()).collect();
    let mut workers = [Worker::start(d, &bases[0], "wa", 1), Worker::start(d, &bases[1], "wb", 1)];
    let codes: Vec<String> = (0..pages.div_ceil(10).max(2))
        .map(|n| {
            let body = json!({"procedure": "criminal-record-certificate", "applicant": {"kind": "citizen", "id": "079086000123", "name": format!("Phạm Thị Lan {n}")}});
            let url = format!("{}/api/v1/dossiers", bases[n % 2]);
            let (status, dossier) = call("POST", &url, &scanner, Some(("application/json", body.to_string().into_bytes())));
            assert_eq!(status, 201, "{dossier}");
            dossier["code"].as_str().unwrap().to_owned()
        })
        .collect();

    let uploads = Uploads::start(bases.clone(), scanner.clone(), codes.clone(), pages, pace);
    // The checkpoint before: once some records are logged.
    wait_for("the first sealed records", Duration::from_secs(180), || db.records().len() >= 2);
    let before = trial::checkpoint(d, &bases[1], &consumer, "before");

    let mut recovery: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let faults = 4 * rounds;
    let probe = Arc::new(AtomicUsize::new(0));
    let probe_upload = |base: &str| {
        let n = pages + 1000 + probe.fetch_add(1, Ordering::SeqCst);
        let url = format!("{base}/api/v1/dossiers/{}/components/identity_card/scans", codes[0]);
        ::reqwest::Client::new()
            .post(url)
            .timeout(Duration::from_secs(30))
            .header("Idempotency-Key", format!("probe-{n}"))
            .body(unique_page(n))
    };
    let probe_read =
        |base: &str| ::reqwest::Client::new().get(format!("{base}/api/v1/dossiers/{}", codes[1])).timeout(Duration::from_secs(30));
    for f in 0..faults {
        wait_for("uploads before the fault", Duration::from_secs(600), || uploads.acked() >= pages * (f + 1) / (faults + 1));
        let round = f / 4 + 1;
        match f % 4 {
            0 => {
                let which = round % 2;
                replicas[which].kill();
                std::thread::sleep(Duration::from_secs(1));
                let back = Instant::now();
                replicas[which].restart();
                recovery.entry("replica killed".into()).or_default().push(ready(&replicas, back).as_secs_f64());
            }
            1 => {
                let which = round % 2;
                // Killed while recognising: once a job is running (the other worker may hold it).
                let _ = wait_for_some(Duration::from_secs(30), || !db.running_ocr().is_empty());
                let held = db.running_ocr();
                let _ = workers[which].0.kill();
                let _ = workers[which].0.wait();
                let killed = Instant::now();
                std::thread::sleep(Duration::from_secs(1));
                workers[which] = Worker::start(d, &bases[which], ["wa", "wb"][which], round + 1);
                wait_for("the killed worker's jobs done by another", Duration::from_secs(120), || db.done(&held));
                recovery.entry("worker killed".into()).or_default().push(killed.elapsed().as_secs_f64());
            }
            2 => {
                pg.kill_server().unwrap();
                let down = Instant::now();
                probe_unavailable(&replicas, &scanner, &probe_read, "index_unavailable", Duration::from_secs(10));
                std::thread::sleep(DOWN.saturating_sub(down.elapsed()));
                let back = Instant::now();
                pg.start_server().unwrap_or_else(|e| panic!("{e}\n{}", pg.log()));
                recovery.entry("postgres restarted".into()).or_default().push(ready(&replicas, back).as_secs_f64());
            }
            _ => {
                garage.kill_server();
                let down = Instant::now();
                probe_unavailable(&replicas, &scanner, &probe_upload, "archive_unavailable", Duration::from_secs(10));
                std::thread::sleep(DOWN.saturating_sub(down.elapsed()));
                let back = Instant::now();
                garage.start_server().unwrap();
                recovery.entry("garage restarted".into()).or_default().push(ready(&replicas, back).as_secs_f64());
            }
        }
    }
    wait_for("every upload acknowledged", Duration::from_secs(600), || uploads.acked() == pages);
    let sealed = wait_for("every scan sealed", Duration::from_secs(180 + pages as u64), || {
        db.scans().iter().all(|(_, _, status)| status == "sealed")
    });

    let scans = db.scans();
    let records = db.records();
    let acks = uploads.acks();
    let by_id: HashMap<i64, &str> = scans.iter().map(|(id, digest, _)| (*id, digest.as_str())).collect();
    let digests: Vec<String> = (0..pages).map(|n| Digest::of(&unique_page(n)).as_str().to_owned()).collect();
    let lost = (0..pages).filter(|&n| acks[n].and_then(|id| by_id.get(&id)).is_none_or(|d| *d != digests[n])).count();
    let mut per_digest: HashMap<&str, usize> = HashMap::new();
    scans.iter().for_each(|(_, digest, _)| *per_digest.entry(digest.as_str()).or_default() += 1);
    let duplicated = per_digest.values().map(|n| n - 1).sum::<usize>();
    let sealed_once = scans.iter().filter(|(id, _, _)| records.get(id) == Some(&1)).count();
    let after = trial::checkpoint(d, &bases[0], &consumer, "after");
    let consistent = trial::consistent(d, &bases[0], &consumer, &before, &after);

    let seen = uploads.seen.lock().unwrap().clone();
    let recovery: Vec<String> =
        recovery.iter().map(|(k, v)| format!("{k} {}", v.iter().map(|s| format!("{s:.1}s")).collect::<Vec<_>>().join("/"))).collect();
    report(&format!(
        "fault trial, distributed (2 replicas, 2 remote workers, own PostgreSQL and Garage): uploads {pages} ({pace}/s, 8 at a time), \
         rounds {rounds} (replica, worker, PostgreSQL, Garage), acknowledged {}, lost {lost}, duplicated {duplicated}, \
         sealed once {sealed_once}/{}, log {} -> {} leaves, consistency {}, answers {seen:?}, ready again after: {}, last scan sealed {:.1}s after the last acknowledgement, time {:.1}s",
        acks.iter().flatten().count(),
        scans.len(),
        before.size,
        after.size,
        if consistent { "verified" } else { "FAILED" },
        recovery.join(", "),
        sealed.as_secs_f64(),
        began.elapsed().as_secs_f64()
    ));
    if lost + duplicated > 0 || sealed_once != pages {
        report(&format!("jobs not done: {:?}\n{}", db.jobs(), replicas.iter().map(Replica::logs).collect::<String>()));
    }
    assert_eq!((lost, duplicated), (0, 0));
    assert_eq!(scans.len(), pages);
    assert_eq!(sealed_once, pages);
    assert_eq!(after.size as usize, records.values().sum::<i64>() as usize, "every record logged once");
    assert!(consistent, "the checkpoint after extends the one before");
    let other_5xx: usize = seen.iter().filter(|(s, _)| s.starts_with('5') && !s.starts_with("503")).map(|(_, n)| n).sum();
    assert_eq!(other_5xx, 0, "only 503s while a dependency was down: {seen:?}");
    assert_eq!(seen.get("timeout").copied().unwrap_or(0), 0, "no upload was held: {seen:?}");
    drop(workers);
    drop(replicas);
}
