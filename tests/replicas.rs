//! Two `sohoa serve` replicas on one PostgreSQL database and one archive, as processes of the
//! built binaries (the topology of `compose.yaml`): scans uploaded through one replica are
//! recognised by a remote worker (`sohoa-worker --api`) taking its jobs from the other,
//! sealed once, visible through both, logged in one gap-free log; exactly one replica holds
//! each singleton duty, and the other takes it over when the holder is killed outright.
//! Needs `SOHOA_TEST_POSTGRES_URL` (`make test` starts the server); without it the test says
//! so and is left out.

mod common;

use common::postgres::{scratch_database, server, Scratch};
use common::served::{call, policies, reqwest, sigkill, SOHOA};
use common::unique_page;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The duty lease of the replicas, in seconds: a killed holder's duty is taken over within it
/// (and a third of it, the other replica's next ask).
const DUTY_LEASE_SECONDS: u64 = 3;

fn report(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// The settings every replica shares: one database, one archive, the same keys; workers are
/// remote (none supervised), fixity every two seconds.
pub fn replica_config(dir: &Path, index_url: &str) -> String {
    format!(
        "data_dir = \"{d}/data\"\nindex_url = \"{index_url}\"\narchive_url = \"file://{d}/archive\"\npolicies_dir = \"{p}\"\n\
         workers = 0\ntlog_key = \"{d}/data/tlog.key\"\nfixity_interval = \"2s\"\nduty_lease_seconds = {DUTY_LEASE_SECONDS}\n\
         lease_seconds = 10\nretry_base_seconds = 1\n",
        d = dir.display(),
        p = policies().display(),
    )
}

struct Replica {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Replica {
    /// `sohoa serve` on the shared config, on a port of its own (`SOHOA_LISTEN`).
    fn start(dir: &Path, name: &str) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = dir.join(format!("serve-{name}.log"));
        let child = Command::new(SOHOA)
            .arg("--config")
            .arg(dir.join("sohoa.toml"))
            .arg("serve")
            .env("SOHOA_LISTEN", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let replica = Replica { child, base: format!("http://127.0.0.1:{port}"), log };
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::blocking_get(&format!("{}/healthz", replica.base)).is_err() {
            assert!(Instant::now() < deadline, "replica {name} did not come up: {}", replica.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
        replica
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// What this replica's `/metrics` says of the fixity duty: 1 held, 0 not, None not yet asked.
    fn holds_fixity(&self, operator: &str) -> Option<f64> {
        let url = format!("{}/metrics", self.base);
        let text = reqwest::runtime()
            .block_on(async { ::reqwest::Client::new().get(&url).bearer_auth(operator).send().await.unwrap().text().await.unwrap() });
        text.lines().find_map(|l| l.strip_prefix("sohoa_duty_held{duty=\"fixity\"} ")).map(|v| v.trim().parse().unwrap())
    }
}

/// A process killed outright when dropped, a failing test's included.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tokens(dir: &Path) -> std::collections::HashMap<String, String> {
    let text = std::fs::read_to_string(dir.join("data/tokens.txt")).unwrap();
    text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_lowercase(), v.to_owned())).collect()
}

/// The fixity lease as the database has it: (holder, expires at).
fn fixity_lease(pool: &sqlx::PgPool) -> Option<(String, i64)> {
    let q = sqlx::query_as("SELECT holder, expires_at FROM leases WHERE name = 'fixity'").fetch_optional(pool);
    reqwest::runtime().block_on(q).unwrap()
}

/// The process id in a default holder name (`<host>:<pid>:<random>`).
fn holder_pid(holder: &str) -> u32 {
    holder.split(':').nth(1).and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("holder {holder:?} names no process"))
}

fn replica(i: usize, replicas: &[Option<Replica>; 2]) -> &Replica {
    replicas[i].as_ref().expect("the replica is running")
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The checkpoint a replica serves, saved, and `sohoa tlog verify` run on it with the log's
/// key: (origin, size and root lines).
fn verified_checkpoint(dir: &Path, replica: &Replica, name: &str, consumer: &str) -> String {
    let url = format!("{}/api/v1/tlog/checkpoint", replica.base);
    let text = reqwest::runtime()
        .block_on(async { ::reqwest::Client::new().get(&url).bearer_auth(consumer).send().await.unwrap().text().await.unwrap() });
    let file = dir.join(format!("checkpoint-{name}.txt"));
    std::fs::write(&file, &text).unwrap();
    let out = Command::new(SOHOA)
        .args(["tlog", "verify", "--checkpoint"])
        .arg(&file)
        .arg("--key")
        .arg(dir.join("data/tlog.pub"))
        .output()
        .unwrap();
    assert!(out.status.success(), "the checkpoint of replica {name} does not verify: {}\n{text}", String::from_utf8_lossy(&out.stderr));
    text.lines().take(3).collect::<Vec<_>>().join("\n")
}

fn postgres() -> Option<Scratch> {
    let Some(url) = server() else {
        report("\nWARNING: SOHOA_TEST_POSTGRES_URL is not set: the two-replica test did NOT run (scripts/postgres-start.sh)\n");
        return None;
    };
    Some(reqwest::runtime().block_on(scratch_database(&url)))
}

#[test]
fn two_replicas_share_one_database_one_log_and_one_holder_of_each_duty() {
    let Some(db) = postgres() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("sohoa.toml"), replica_config(d, &db.url)).unwrap();
    let init = Command::new(SOHOA).arg("--config").arg(d.join("sohoa.toml")).arg("init").output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let tokens = tokens(d);
    let (scanner, consumer, operator) = (&tokens["scanner"], &tokens["consumer"], &tokens["operator"]);

    let a = Replica::start(d, "a");
    let b = Replica::start(d, "b");
    let mut replicas = [Some(a), Some(b)];

    // A worker on "another host": it knows replica B only.
    let token_file = d.join("worker.token");
    std::fs::write(&token_file, &tokens["worker"]).unwrap();
    let worker = Command::new(common::worker_binary())
        .arg("--api")
        .arg(&replica(1, &replicas).base)
        .arg("--token-file")
        .arg(&token_file)
        .arg("--id")
        .arg("remote")
        .env("OMP_THREAD_LIMIT", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(d.join("worker.log")).unwrap())
        .spawn()
        .unwrap();
    let worker = Killed(worker);

    // Scans uploaded through replica A, one dossier each.
    let uploads = 4;
    let began = Instant::now();
    let mut codes = Vec::new();
    for n in 0..uploads {
        let base = &replica(0, &replicas).base;
        let body = json!({"procedure": "criminal-record-certificate", "applicant": {"kind": "citizen", "id": "079086000123", "name": format!("Trần Văn Bình {n}")}});
        let (status, dossier) =
            call("POST", &format!("{base}/api/v1/dossiers"), scanner, Some(("application/json", body.to_string().into_bytes())));
        assert_eq!(status, 201, "{dossier}");
        let code = dossier["code"].as_str().unwrap().to_owned();
        let url = format!("{base}/api/v1/dossiers/{code}/components/identity_card/scans");
        let (status, accepted) = call("POST", &url, scanner, Some(("image/png", unique_page(n + 1))));
        assert_eq!(status, 202, "{accepted}");
        codes.push(code);
    }
    // Sealed, as replica B sees it.
    let mut records = Vec::new();
    for code in &codes {
        let deadline = Instant::now() + Duration::from_secs(180);
        let record = loop {
            let (_, dossier) = call("GET", &format!("{}/api/v1/dossiers/{code}", replica(1, &replicas).base), scanner, None);
            if dossier["scans"][0]["status"] == "sealed" {
                let components = dossier["checklist"].as_array().cloned().unwrap_or_default();
                let record = components.iter().find_map(|c| c["record"].as_str().map(str::to_owned));
                break record.unwrap_or_else(|| panic!("a sealed scan's component names its record: {dossier}"));
            }
            assert!(dossier["scans"][0]["status"] != "failed", "{dossier}");
            assert!(Instant::now() < deadline, "not sealed in time: {dossier}\n{}", std::fs::read_to_string(d.join("worker.log")).unwrap());
            std::thread::sleep(Duration::from_millis(200));
        };
        records.push(record);
    }
    let pipeline = began.elapsed();
    drop(worker);

    // Each record the same through both replicas, its leaf one of 0..n with no gap.
    let mut leaves = BTreeSet::new();
    for id in &records {
        let seen: Vec<Value> = (0..2)
            .map(|i| {
                let (status, record) =
                    call("GET", &format!("{}/api/v1/records/{id}?purpose=1.001193", replica(i, &replicas).base), consumer, None);
                assert_eq!(status, 200, "record {id} through replica {i}: {record}");
                record
            })
            .collect();
        assert_eq!(seen[0], seen[1], "record {id} reads the same through both replicas");
        leaves.insert(seen[0]["log_index"].as_u64().unwrap());
    }
    assert_eq!(leaves, (0..uploads as u64).collect::<BTreeSet<_>>(), "one gap-free log");
    let checkpoints =
        [verified_checkpoint(d, replica(0, &replicas), "a", consumer), verified_checkpoint(d, replica(1, &replicas), "b", consumer)];
    assert_eq!(checkpoints[0], checkpoints[1], "both replicas serve the same tree");
    assert_eq!(checkpoints[0].lines().nth(1), Some(uploads.to_string().as_str()), "{}", checkpoints[0]);

    // Exactly one replica holds the fixity duty: the database and both replicas agree.
    let pool = reqwest::runtime().block_on(sqlx::PgPool::connect(&db.url)).unwrap();
    wait_for("both replicas to ask for the fixity lease", Duration::from_secs(10), || {
        (0..2).all(|i| replica(i, &replicas).holds_fixity(operator).is_some())
    });
    let (holder, _) = fixity_lease(&pool).expect("a replica took the fixity lease");
    let pids = [replica(0, &replicas).child.id(), replica(1, &replicas).child.id()];
    let held = pids.iter().position(|p| *p == holder_pid(&holder)).unwrap_or_else(|| panic!("holder {holder} is neither {pids:?}"));
    let said: Vec<f64> = (0..2).map(|i| replica(i, &replicas).holds_fixity(operator).unwrap()).collect();
    let mut expected = [0.0, 0.0];
    expected[held] = 1.0;
    assert_eq!(said, expected, "only the holder ({holder}) says it holds the fixity duty");
    let other = 1 - held;
    assert!(!replica(other, &replicas).log_text().contains("took the duty's lease"), "the other replica never held a duty");
    // The holder runs the fixity schedule: passes keep coming, every two seconds.
    let passes = |pool: &sqlx::PgPool| -> i64 {
        reqwest::runtime().block_on(sqlx::query_scalar("SELECT COUNT(*) FROM fixity_runs").fetch_one(pool)).unwrap()
    };
    wait_for("a scheduled fixity pass", Duration::from_secs(10), || passes(&pool) >= 1);

    // The holder killed outright: the other replica takes the duty over within the lease.
    let killed_at = Instant::now();
    sigkill(pids[held]);
    let _ = replicas[held].take();
    let limit = Duration::from_secs(DUTY_LEASE_SECONDS) + Duration::from_secs(DUTY_LEASE_SECONDS) / 3 + Duration::from_secs(2);
    wait_for("the other replica to take the fixity lease over", limit, || {
        fixity_lease(&pool).is_some_and(|(h, _)| holder_pid(&h) == pids[other])
    });
    let takeover = killed_at.elapsed();
    assert_eq!(replica(other, &replicas).holds_fixity(operator), Some(1.0));
    let before = passes(&pool);
    wait_for("a fixity pass by the new holder", Duration::from_secs(10), || passes(&pool) > before);
    report(&format!(
        "two replicas on PostgreSQL: {uploads} scans uploaded through A, recognised by a worker on B, sealed in {:.1}s; \
         log of {uploads} leaves, one checkpoint from both; fixity lease taken over {:.2}s after kill -9 of its holder (lease {DUTY_LEASE_SECONDS}s)",
        pipeline.as_secs_f64(),
        takeover.as_secs_f64()
    ));
}
