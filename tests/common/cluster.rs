//! Dependencies a test may stop and start at will, apart from the servers other tests share:
//! a PostgreSQL instance of its own (Debian's `initdb` and `pg_ctl`, in a temp dir, on a
//! port of its own), a Garage of its own (`scripts/garage-start.sh` in a temp dir), and
//! `sohoa serve` replicas as processes.

use super::served::{reqwest, SOHOA};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A PostgreSQL server in a temp dir, the database `postgres` open to the role `sohoa` over
/// TCP on 127.0.0.1 without a password; stopped outright and removed when dropped.
pub struct OwnPostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
}

impl OwnPostgres {
    /// Makes and starts the server; the reason when it cannot (PostgreSQL not installed).
    pub fn start() -> Result<OwnPostgres, String> {
        let versions = std::fs::read_dir("/usr/lib/postgresql").map_err(|e| format!("/usr/lib/postgresql: {e}"))?;
        let mut versions: Vec<u32> = versions.flatten().filter_map(|d| d.file_name().to_str()?.parse().ok()).collect();
        versions.sort();
        let version = versions.last().ok_or("no PostgreSQL version in /usr/lib/postgresql")?;
        let bin = PathBuf::from(format!("/usr/lib/postgresql/{version}/bin"));
        // The server refuses to run as root: then it runs as `postgres`, which owns the dir.
        let dir = tempfile::Builder::new().prefix("sohoa-pg-").tempdir().map_err(|e| e.to_string())?;
        if is_root() {
            run(Command::new("chown").arg("postgres:postgres").arg(dir.path()))?;
        }
        let pg = OwnPostgres { dir, bin, port: free_port() };
        let data = pg.data();
        run(pg.tool("initdb").arg("-D").arg(&data).args(["-A", "trust", "-U", "sohoa", "-E", "UTF8", "--locale=C", "--no-sync"]))?;
        pg.start_server()?;
        Ok(pg)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn tool(&self, name: &str) -> Command {
        let mut cmd = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(self.bin.join(name));
            c
        } else {
            Command::new(self.bin.join(name))
        };
        cmd.stdout(Stdio::null());
        cmd
    }

    pub fn url(&self) -> String {
        format!("postgres://sohoa@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server on its data and port, and waits until it takes connections.
    pub fn start_server(&self) -> Result<(), String> {
        let options =
            format!("-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c max_connections=100", self.port, self.dir.path().display());
        let log = self.dir.path().join("postgres.log");
        run(self.tool("pg_ctl").arg("-D").arg(self.data()).arg("-l").arg(log).args(["-w", "-t", "60", "-o", &options, "start"]))
    }

    /// Stops the server outright, as a crash would (`-m immediate`): the next start recovers.
    pub fn kill_server(&self) -> Result<(), String> {
        run(self.tool("pg_ctl").arg("-D").arg(self.data()).args(["-m", "immediate", "-w", "stop"]))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.kill_server();
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.stderr(Stdio::piped()).output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// A single-node Garage in a temp dir with the buckets and key `garage-start.sh` makes.
pub struct OwnGarage {
    dir: tempfile::TempDir,
    /// The settings `garage-start.sh` wrote (`SOHOA_TEST_S3_ENDPOINT`, ...).
    pub env: HashMap<String, String>,
}

impl OwnGarage {
    /// Starts it; the reason when it cannot (no `garage` binary installed).
    pub fn start() -> Result<OwnGarage, String> {
        let dir = tempfile::Builder::new().prefix("sohoa-garage-").tempdir().map_err(|e| e.to_string())?;
        let mut garage = OwnGarage { dir, env: HashMap::new() };
        garage.start_server()?;
        let text = std::fs::read_to_string(garage.dir.path().join("env")).map_err(|e| e.to_string())?;
        garage.env =
            text.lines().filter_map(|l| l.strip_prefix("export ")?.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        Ok(garage)
    }

    /// Starts the server again on its data and ports, and waits until S3 answers.
    pub fn start_server(&self) -> Result<(), String> {
        run(Command::new(repo().join("scripts/garage-start.sh")).arg(self.dir.path()))
    }

    /// `kill -9` of the server.
    pub fn kill_server(&self) {
        if let Ok(pid) = std::fs::read_to_string(self.dir.path().join("pid")) {
            let _ = Command::new("kill").arg("-KILL").arg(pid.trim()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Path::new(&format!("/proc/{}", pid.trim())).exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// The lines of `sohoa.toml` that put the archive in this Garage's first bucket.
    pub fn archive_config(&self) -> String {
        format!(
            "archive_url = \"s3://{}\"\ns3_endpoint = \"{}\"\ns3_region = \"{}\"\ns3_access_key_id = \"{}\"\ns3_secret_access_key = \"{}\"\ns3_allow_http = true\n",
            self.env["SOHOA_TEST_S3_BUCKET"],
            self.env["SOHOA_TEST_S3_ENDPOINT"],
            self.env["SOHOA_TEST_S3_REGION"],
            self.env["SOHOA_TEST_S3_KEY_ID"],
            self.env["SOHOA_TEST_S3_SECRET"],
        )
    }
}

impl Drop for OwnGarage {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/garage-stop.sh")).arg(self.dir.path()).status();
    }
}

/// `sohoa serve` on `dir/sohoa.toml`, on a port of its own; killed outright when dropped.
pub struct Replica {
    pub child: Child,
    pub base: String,
    name: String,
    dir: PathBuf,
    runs: usize,
    port: u16,
}

impl Replica {
    pub fn start(dir: &Path, name: &str) -> Replica {
        let mut replica =
            Replica { child: spawn_dummy(), base: String::new(), name: name.into(), dir: dir.into(), runs: 0, port: free_port() };
        replica.base = format!("http://127.0.0.1:{}", replica.port);
        replica.restart();
        replica
    }

    /// Starts serve again (the last run has exited), on the same port; waits until it answers.
    pub fn restart(&mut self) {
        self.runs += 1;
        let log = self.dir.join(format!("serve-{}-{}.log", self.name, self.runs));
        self.child = Command::new(SOHOA)
            .arg("--config")
            .arg(self.dir.join("sohoa.toml"))
            .arg("serve")
            .env("SOHOA_LISTEN", format!("127.0.0.1:{}", self.port))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        while reqwest::blocking_get(&format!("{}/healthz", self.base)).is_err() {
            let exited = self.child.try_wait().unwrap();
            assert!(
                exited.is_none() && Instant::now() < deadline,
                "replica {} did not come up: {}",
                self.name,
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `kill -9`, reaped.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Every run's log, for a failing test's message.
    pub fn logs(&self) -> String {
        (1..=self.runs)
            .map(|r| std::fs::read_to_string(self.dir.join(format!("serve-{}-{r}.log", self.name))).unwrap_or_default())
            .collect()
    }
}

/// A process that has already exited, standing in until the first run starts.
fn spawn_dummy() -> Child {
    let mut child = Command::new("true").spawn().unwrap();
    let _ = child.wait();
    child
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}
