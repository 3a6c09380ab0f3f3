//! Fault trials on the built binaries: `kill -9` of a worker during OCR, and of `sohoa serve`
//! during concurrent uploads, then a restart. `make test` runs a bounded sample; `make soak`
//! runs the full counts (SOHOA_FAULT_WORKER_KILLS, SOHOA_FAULT_UPLOADS, SOHOA_FAULT_SERVE_KILLS,
//! SOHOA_FAULT_CONCURRENCY) and prints the figures.

mod common;

use common::served::{call, reqwest, sigkill, Served, SOHOA};
use common::unique_page;
use serde_json::{json, Value};
use sohoa::archive::Archive;
use sohoa::domain::Digest;
use std::collections::HashMap;
use std::io::Write;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// Short leases so that a killed worker's job is taken again within seconds.
const TRIAL_CONFIG: &str = "lease_seconds = 3\nretry_base_seconds = 1\nmax_attempts = 20\n";

fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Straight to stderr, past the test harness's capture: the figures are the point.
fn report(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// The service's index, for what the API does not list.
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// Runs `$query` (a `sqlx::query_as` with its binds, on `pool`) on whichever engine `$db` is.
macro_rules! on {
    ($db:expr, |$pool:ident| $query:expr) => {
        match $db {
            Db::Sqlite($pool) => reqwest::runtime().block_on($query),
            Db::Postgres($pool) => reqwest::runtime().block_on($query),
        }
        .unwrap()
    };
}

impl Db {
    fn open(served: &Served) -> Db {
        let url = &served.index_url;
        let runtime = reqwest::runtime();
        if url.starts_with("sqlite:") {
            Db::Sqlite(runtime.block_on(sqlx::SqlitePool::connect(&format!("{url}?mode=ro"))).unwrap())
        } else {
            Db::Postgres(runtime.block_on(sqlx::PgPool::connect(url)).unwrap())
        }
    }

    fn job(&self, id: i64) -> (String, i64) {
        on!(self, |pool| sqlx::query_as("SELECT state, attempts FROM jobs WHERE id = $1").bind(id).fetch_one(pool))
    }

    /// Every job, for a report when a trial times out: (id, kind, state, attempts, last error).
    fn jobs(&self) -> Vec<(i64, String, String, i64, Option<String>)> {
        on!(self, |pool| sqlx::query_as("SELECT id, kind, state, attempts, last_error FROM jobs ORDER BY id").fetch_all(pool))
    }

    /// Every scan: (id, digest, status).
    fn scans(&self) -> Vec<(i64, String, String)> {
        on!(self, |pool| sqlx::query_as("SELECT id, digest, status FROM scans").fetch_all(pool))
    }

    /// Records per scan.
    fn records(&self) -> HashMap<i64, i64> {
        let rows: Vec<(i64, i64)> =
            on!(self, |pool| sqlx::query_as("SELECT scan, COUNT(*) FROM records WHERE scan IS NOT NULL GROUP BY scan").fetch_all(pool));
        rows.into_iter().collect()
    }
}

fn dossier(served: &Served, scanner: &str, n: usize) -> String {
    let body = json!({"procedure": "criminal-record-certificate", "applicant": {"kind": "citizen", "id": "079086000123", "name": format!("Trần Văn Bình {n}")}});
    let (status, dossier) =
        call("POST", &format!("{}/api/v1/dossiers", served.base), scanner, Some(("application/json", body.to_string().into_bytes())));
    assert_eq!(status, 201, "{dossier}");
    dossier["code"].as_str().unwrap().to_owned()
}

fn scans_url(served: &Served, code: &str) -> String {
    format!("{}/api/v1/dossiers/{code}/components/identity_card/scans", served.base)
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serve_killed_outright_takes_its_workers_and_their_token_with_it() {
    let mut served = Served::start(2);
    wait_for("two workers", Duration::from_secs(20), || served.workers().len() == 2);
    let old = served.workers();
    let token = std::fs::read_to_string(served.dir.path().join("data/worker.token")).unwrap().trim().to_owned();
    let (status, _) = call("GET", &format!("{}/api/v1/procedures", served.base), &token, None);
    assert_eq!(status, 200);

    served.kill();
    wait_for("the workers to die with serve", Duration::from_secs(5), || served.all_workers().is_empty());
    served.restart();
    let (status, _) = call("GET", &format!("{}/api/v1/procedures", served.base), &token, None);
    assert_eq!(status, 401, "the previous run's worker token is revoked at start");
    wait_for("two new workers", Duration::from_secs(20), || served.workers().len() == 2);
    let now = served.all_workers();
    assert_eq!(now.len(), 2, "never more workers than configured: {now:?}");
    assert!(now.iter().all(|(pid, parent)| *parent == served.child.id() && !old.contains(pid)), "{now:?}");
    assert!(served.stop().success());
}

#[test]
fn a_worker_killed_during_ocr_is_retried_and_the_scan_sealed_once() {
    let kills = env_count("SOHOA_FAULT_WORKER_KILLS", 5);
    let began = Instant::now();
    let served = Served::start_with(1, TRIAL_CONFIG);
    let scanner = served.token("scanner");
    let db = Db::open(&served);
    let (mut killed, mut missed, mut sealed_once, mut most_workers) = (0usize, 0usize, 0usize, 0usize);
    let mut trial = 0;
    while killed < kills {
        trial += 1;
        // A worker killed within 3 s of its start looks to the supervisor like one that cannot
        // start, and is restarted with a growing backoff: kill only workers past that age.
        wait_for("a worker", Duration::from_secs(60), || served.workers().len() == 1);
        let worker = served.workers()[0];
        let seen = Instant::now();
        while served.workers() == [worker] && seen.elapsed() < Duration::from_millis(3200) {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(missed <= kills + 10, "{missed} kills came after the job had finished");
        let code = dossier(&served, &scanner, trial);
        let (status, body) = call("POST", &scans_url(&served, &code), &scanner, Some(("image/png", common::sample_scan())));
        assert_eq!(status, 202, "{body}");
        let (scan, job) = (body["scan"]["id"].as_i64().unwrap(), body["job"].as_i64().unwrap());
        wait_for("the OCR job to be claimed", Duration::from_secs(60), || db.job(job).0 == "running");
        // Kills land at different points of the job: fetching, recognising, posting the output.
        std::thread::sleep(Duration::from_millis((trial as u64 * 53) % 400));
        let workers = served.workers();
        most_workers = most_workers.max(workers.len());
        workers.iter().for_each(|pid| sigkill(*pid));

        let deadline = Instant::now() + Duration::from_secs(120);
        while !db.records().contains_key(&scan) {
            // what the queue held is what the next look at a timeout needs
            assert!(Instant::now() < deadline, "scan {scan} was not sealed; workers {:?}; jobs {:?}", served.all_workers(), db.jobs());
            std::thread::sleep(Duration::from_millis(20));
        }
        let (state, attempts) = db.job(job);
        assert_eq!(state, "done");
        if attempts >= 2 {
            killed += 1;
        } else {
            missed += 1;
        }
        let records = db.records()[&scan];
        sealed_once += usize::from(records == 1);
        assert_eq!(records, 1, "scan {scan} sealed {records} times");
        let stray = served.all_workers().into_iter().filter(|(_, parent)| *parent != served.child.id()).count();
        assert_eq!(stray, 0, "a killed worker left a process behind");
    }
    report(&format!(
        "fault trial, worker kills: trials {killed} (kills after the job finished, not counted: {missed}), retried {killed}, sealed once {sealed_once}/{trial}, most workers alive {most_workers} (configured 1), time {:.1}s",
        began.elapsed().as_secs_f64()
    ));
    assert!(most_workers <= 1);
    assert!(served.stop().success());
}

/// What the client saw of one upload: the scan id of its acknowledgement.
type Acks = Arc<Mutex<Vec<Option<i64>>>>;

/// What the uploading client counted.
#[derive(Default)]
struct Client {
    acked: AtomicUsize,
    /// Uploads sent more than once (no answer, or a 5xx).
    retried: AtomicUsize,
    /// Acknowledgements that were replays: the first attempt was stored but never answered.
    replayed: AtomicUsize,
}

/// Uploads `pages` from `concurrency` tasks, each retried with its Idempotency-Key until it
/// is acknowledged; 4xx answers other than a replay are errors.
fn upload_all(base: String, scanner: String, codes: Vec<String>, pages: usize, concurrency: usize) -> (Acks, Arc<Client>) {
    let acks: Acks = Arc::new(Mutex::new(vec![None; pages]));
    let counts = Arc::new(Client::default());
    let next = Arc::new(AtomicUsize::new(0));
    let client = ::reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    for _ in 0..concurrency {
        let (acks, counts, next, client, base, scanner, codes) =
            (acks.clone(), counts.clone(), next.clone(), client.clone(), base.clone(), scanner.clone(), codes.clone());
        reqwest::runtime().spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= pages {
                    return;
                }
                let url = format!("{base}/api/v1/dossiers/{}/components/identity_card/scans", codes[n % codes.len()]);
                let page = unique_page(n);
                for attempt in 0.. {
                    let sent = client
                        .post(&url)
                        .bearer_auth(&scanner)
                        .header("Idempotency-Key", format!("fault-{n}"))
                        .body(page.clone())
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().as_u16() == 202 => {
                            let replay = r.headers().contains_key("idempotent-replayed");
                            let body: Value = r.json().await.unwrap_or(Value::Null);
                            acks.lock().unwrap()[n] = body["scan"]["id"].as_i64();
                            counts.retried.fetch_add(usize::from(attempt > 0), Ordering::SeqCst);
                            counts.replayed.fetch_add(usize::from(replay), Ordering::SeqCst);
                            counts.acked.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        Ok(r) if r.status().is_client_error() => {
                            let status = r.status();
                            panic!("upload {n}: {status} {}", r.text().await.unwrap_or_default());
                        }
                        _ => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            }
        });
    }
    (acks, counts)
}

/// Files a crash could leave in the archive, planted to show that the next start removes them.
fn plant_leftovers(served: &Served, k: usize) {
    let archive = served.dir.path().join("data/archive");
    std::fs::create_dir_all(archive.join("tmp")).unwrap();
    std::fs::write(archive.join(format!("tmp/planted{k}")), b"half an upload").unwrap();
    let staged = archive.join("blobs/sha256/00/00");
    std::fs::create_dir_all(&staged).unwrap();
    std::fs::write(staged.join(format!("{}#{k}", "0".repeat(64))), b"half a blob").unwrap();
}

#[test]
fn serve_killed_during_uploads_loses_nothing_duplicates_nothing_and_seals_each_scan_once() {
    let pages = env_count("SOHOA_FAULT_UPLOADS", 100);
    let serve_kills = env_count("SOHOA_FAULT_SERVE_KILLS", 2);
    let concurrency = env_count("SOHOA_FAULT_CONCURRENCY", 8);
    let workers = 2;
    let began = Instant::now();
    let mut served = Served::start_with(workers, TRIAL_CONFIG);
    let scanner = served.token("scanner");
    let codes: Vec<String> = (0..pages.div_ceil(10)).map(|n| dossier(&served, &scanner, n)).collect();
    let (acks, client) = upload_all(served.base.clone(), scanner.clone(), codes, pages, concurrency);

    let (mut orphans, mut leftovers, mut most_workers, mut revoked) = (0usize, 0usize, 0usize, 0usize);
    for k in 1..=serve_kills {
        wait_for("uploads before the kill", Duration::from_secs(600), || {
            client.acked.load(Ordering::SeqCst) >= pages * k / (serve_kills + 1)
        });
        let token = std::fs::read_to_string(served.dir.path().join("data/worker.token")).unwrap().trim().to_owned();
        served.kill();
        // The workers die with serve; any still alive after a few seconds is an orphan.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !served.all_workers().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let left = served.all_workers();
        orphans += left.len();
        left.iter().for_each(|(pid, _)| sigkill(*pid));
        plant_leftovers(&served, k);
        let restart = SystemTime::now();
        served.restart();
        let url = format!("file://{}", served.dir.path().join("data/archive").display());
        let archive = Archive::open_url(&url, &sohoa::config::Config::default()).unwrap();
        leftovers += reqwest::runtime().block_on(archive.leftovers(restart)).unwrap().len();
        let (status, _) = call("GET", &format!("{}/api/v1/procedures", served.base), &token, None);
        revoked += usize::from(status == 401);
        wait_for("the workers to start again", Duration::from_secs(20), || served.workers().len() == workers);
        let now = served.all_workers();
        most_workers = most_workers.max(now.len());
        orphans += now.iter().filter(|(_, parent)| *parent != served.child.id()).count();
    }
    wait_for("every upload acknowledged", Duration::from_secs(600), || client.acked.load(Ordering::SeqCst) == pages);
    let db = Db::open(&served);
    wait_for("every scan sealed", Duration::from_secs(120 + pages as u64), || {
        most_workers = most_workers.max(served.all_workers().len());
        db.scans().iter().all(|(_, _, status)| status == "sealed")
    });

    let scans = db.scans();
    let records = db.records();
    let acks = acks.lock().unwrap().clone();
    let by_id: HashMap<i64, &str> = scans.iter().map(|(id, digest, _)| (*id, digest.as_str())).collect();
    let mut per_digest: HashMap<&str, usize> = HashMap::new();
    scans.iter().for_each(|(_, digest, _)| *per_digest.entry(digest.as_str()).or_default() += 1);
    let digests: Vec<String> = (0..pages).map(|n| Digest::of(&unique_page(n)).as_str().to_owned()).collect();
    let lost = (0..pages).filter(|&n| acks[n].and_then(|id| by_id.get(&id)).is_none_or(|d| *d != digests[n])).count();
    let duplicated = scans.len().saturating_sub(digests.iter().filter(|d| per_digest.contains_key(d.as_str())).count());
    let sealed_once = scans.iter().filter(|(id, _, _)| records.get(id) == Some(&1)).count();

    let out = Command::new(SOHOA).arg("--config").arg(served.config_file()).args(["archive", "fixity", "--json"]).output().unwrap();
    let fixity: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    report(&format!(
        "fault trial, serve kills: uploads {pages} ({concurrency} at a time), serve kills {serve_kills}, acknowledged {} (sent again {}, of which stored before the kill {}), lost {lost}, duplicated {duplicated}, sealed once {sealed_once}/{}, orphan workers {orphans}, most workers alive {most_workers} (configured {workers}), old tokens revoked {revoked}/{serve_kills}, leftovers after restart {leftovers}, fixity orphans {}, time {:.1}s",
        acks.iter().flatten().count(),
        client.retried.load(Ordering::SeqCst),
        client.replayed.load(Ordering::SeqCst),
        scans.len(),
        fixity["orphans"],
        began.elapsed().as_secs_f64()
    ));
    assert_eq!((lost, duplicated, orphans, leftovers), (0, 0, 0, 0));
    assert_eq!(scans.len(), pages);
    assert_eq!(sealed_once, pages);
    assert_eq!(revoked, serve_kills);
    assert!(most_workers <= workers, "{most_workers} workers alive at once");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fixity["orphans"], 0, "{fixity}");
    assert!(served.stop().success());
}
