//! `sohoa serve` as a child process in a temp dir, as an operator runs it: configured, set up
//! with `sohoa init`, stopped with SIGTERM or killed outright, and started again.

use super::worker_binary;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const SOHOA: &str = env!("CARGO_BIN_EXE_sohoa");

pub fn policies() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/policies"))
}

/// `sohoa serve` in a temp dir, killed when dropped. Its index is the SQLite file in the temp
/// dir, or with `SOHOA_TEST_INDEX=postgres` a PostgreSQL database of its own.
pub struct Served {
    pub child: Child,
    pub base: String,
    pub dir: tempfile::TempDir,
    pub index_url: String,
    /// Serve runs so far: each run logs to `serve-<n>.log` in the temp dir.
    runs: usize,
    /// Dropped after serve is killed (`Drop::drop` runs before the fields are dropped).
    _database: Option<super::postgres::Scratch>,
}

impl Served {
    pub fn start(workers: usize) -> Served {
        Served::start_with(workers, "")
    }

    /// As [`Served::start`], with more lines of `sohoa.toml`.
    pub fn start_with(workers: usize, extra_config: &str) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let database = reqwest::runtime().block_on(super::postgres_index());
        let index_url = database.as_ref().map_or_else(|| format!("sqlite://{}/data/sohoa.db", dir.path().display()), |d| d.url.clone());
        let config = format!(
            "listen = \"127.0.0.1:{port}\"\ndata_dir = \"{d}/data\"\nindex_url = \"{index_url}\"\narchive_url = \"file://{d}/data/archive\"\npolicies_dir = \"{p}\"\nworkers = {workers}\nworker_binary = \"{w}\"\ntlog_key = \"{d}/data/tlog.key\"\n{extra_config}",
            d = dir.path().display(),
            p = policies().display(),
            w = worker_binary().display(),
        );
        std::fs::write(dir.path().join("sohoa.toml"), config).unwrap();
        let init = Command::new(SOHOA).arg("--config").arg(dir.path().join("sohoa.toml")).arg("init").output().unwrap();
        assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
        assert!(String::from_utf8_lossy(&init.stdout).contains("SCANNER=sohoa_"));
        let child = spawn_serve(dir.path(), 1);
        let served = Served { child, base: format!("http://127.0.0.1:{port}"), dir, index_url, runs: 1, _database: database };
        served.wait_until_up();
        served
    }

    fn wait_until_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::blocking_get(&format!("{}/healthz", self.base)).is_err() {
            assert!(Instant::now() < deadline, "sohoa serve did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("sohoa.toml")
    }

    /// Another serve on the same config, once the last one has exited.
    pub fn restart(&mut self) {
        assert!(self.child.try_wait().unwrap().is_some(), "serve is still running");
        self.runs += 1;
        self.child = spawn_serve(self.dir.path(), self.runs);
        self.wait_until_up();
    }

    /// `kill -9` of serve, reaped.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn token(&self, role: &str) -> String {
        let tokens = std::fs::read_to_string(self.dir.path().join("data/tokens.txt")).unwrap();
        let prefix = format!("{}=", role.to_uppercase());
        tokens.lines().find_map(|l| l.strip_prefix(&prefix)).unwrap().to_owned()
    }

    /// Live child processes of serve; children are listed under the thread that spawned them.
    pub fn workers(&self) -> Vec<u32> {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id())).into_iter().flatten().flatten();
        let mut pids: Vec<u32> = tasks
            .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
            .flat_map(|text| text.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<u32>>())
            .filter(|pid| !is_zombie(*pid))
            .collect();
        pids.sort();
        pids
    }

    /// Live `sohoa-worker` processes started for this temp dir (their token file is in it),
    /// whatever their parent: (pid, parent pid).
    pub fn all_workers(&self) -> Vec<(u32, u32)> {
        let mine = self.dir.path().to_string_lossy().into_owned();
        let procs = std::fs::read_dir("/proc").into_iter().flatten().flatten();
        procs
            .filter_map(|p| p.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let cmdline = String::from_utf8_lossy(&cmdline);
                cmdline.split('\0').next().is_some_and(|exe| exe.ends_with("sohoa-worker")) && cmdline.contains(&mine)
            })
            .filter(|pid| !is_zombie(*pid))
            .filter_map(|pid| Some((pid, parent_of(pid)?)))
            .collect()
    }

    pub fn stop(mut self) -> std::process::ExitStatus {
        sigterm(self.child.id());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "sohoa serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_serve(dir: &Path, run: usize) -> Child {
    let log = std::fs::File::create(dir.join(format!("serve-{run}.log"))).unwrap();
    Command::new(SOHOA).arg("--config").arg(dir.join("sohoa.toml")).arg("serve").stdout(Stdio::null()).stderr(log).spawn().unwrap()
}

pub fn sigterm(pid: u32) {
    let status = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().unwrap();
    assert!(status.success());
}

pub fn sigkill(pid: u32) {
    let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
}

pub fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| stat_field(&s, 2) == Some("Z"))
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat_field(&stat, 3)?.parse().ok()
}

/// A field of /proc/PID/stat, counted from 0, past the command name (which may hold spaces).
fn stat_field(stat: &str, n: usize) -> Option<&str> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(n - 2)
}

/// A tiny blocking HTTP client over the async one, for plain `#[test]`s.
pub mod reqwest {
    pub use ::reqwest::*;
    pub fn blocking_get(url: &str) -> Result<Response> {
        runtime().block_on(async { Client::new().get(url).timeout(std::time::Duration::from_secs(5)).send().await })
    }
    pub fn runtime() -> &'static tokio::runtime::Runtime {
        static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
        RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap())
    }
}

/// One request with a bearer token and an optional (media type, body): (status, JSON body or null).
pub fn call(method: &str, url: &str, token: &str, body: Option<(&str, Vec<u8>)>) -> (u16, Value) {
    reqwest::runtime().block_on(async {
        let client = ::reqwest::Client::new();
        let mut req = client.request(method.parse().unwrap(), url).bearer_auth(token);
        if let Some((media, b)) = body {
            req = req.header("content-type", media).body(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    })
}
