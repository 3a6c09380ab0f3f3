//! `compose.yaml`, checked without a container engine: its services are read (PyYAML turns
//! the file into JSON, anchors and merges resolved; `${VAR:-default}` takes the default) and
//! checked against one another and the Dockerfile, then run natively, as processes, the way
//! the containers would run them: the same commands and environment, the image's `ENV` under
//! them, its paths mapped to this checkout and a temp dir (the shared volume), and service
//! names to local ports. Garage runs from `deploy/` as the compose file builds it; PostgreSQL
//! is a scratch database on the test server. Without `SOHOA_TEST_POSTGRES_URL` or a `garage`
//! binary the native run is left out and the test says so.

mod common;

use common::postgres::{scratch_database, server};
use common::served::{call, policies, reqwest, SOHOA};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn report(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// `compose.yaml` as JSON, with compose's `${NAME:-default}` given its default (or the
/// variable when set in this environment).
fn compose() -> Value {
    let out = Command::new("python3")
        .args(["-c", "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)"])
        .arg(repo().join("compose.yaml"))
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "compose.yaml does not parse: {}", String::from_utf8_lossy(&out.stderr));
    interpolate(serde_json::from_slice(&out.stdout).unwrap())
}

fn interpolate(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(substitute(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(interpolate).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, interpolate(v))).collect()),
        other => other,
    }
}

fn substitute(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let end = rest[at..].find('}').map(|e| at + e).unwrap_or_else(|| panic!("unclosed ${{ in {text:?}"));
        let inner = &rest[at + 2..end];
        let (name, default) = inner.split_once(":-").unwrap_or((inner, ""));
        out.push_str(&std::env::var(name).unwrap_or_else(|_| default.to_owned()));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

fn service<'c>(compose: &'c Value, name: &str) -> &'c Value {
    compose["services"].get(name).unwrap_or_else(|| panic!("compose.yaml has no service {name}"))
}

fn environment(service: &Value) -> BTreeMap<String, String> {
    let env = service["environment"].as_object().cloned().unwrap_or_default();
    env.into_iter().map(|(k, v)| (k, v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))).collect()
}

fn command(service: &Value) -> Vec<String> {
    service["command"].as_array().expect("a command as a list").iter().map(|a| a.as_str().unwrap().to_owned()).collect()
}

/// The image's `ENV` lines (`KEY=VALUE`, continued with `\`).
fn dockerfile_env() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).unwrap();
    let joined = text.replace("\\\n", " ");
    let line = joined.lines().find(|l| l.starts_with("ENV ")).expect("the Dockerfile sets ENV");
    line["ENV ".len()..]
        .split_whitespace()
        .map(|kv| kv.split_once('=').expect("ENV KEY=VALUE"))
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

/// The keys the README's settings table documents.
fn documented_keys() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .flat_map(|l| l.split(" |").next().unwrap().split(", "))
        .map(|k| k.trim_matches('`').to_owned())
        .collect()
}

const SOHOA_SERVICES: [&str; 5] = ["init", "api-a", "api-b", "worker-a", "worker-b"];

#[test]
fn compose_services_agree_with_one_another_and_the_dockerfile() {
    let compose = compose();
    let docker = dockerfile_env();
    let keys = documented_keys();
    for name in SOHOA_SERVICES {
        let s = service(&compose, name);
        assert_eq!(s["build"], json!({"context": ".", "dockerfile": "Dockerfile"}), "{name} runs the project's image");
        for key in environment(s).keys().filter(|k| k.starts_with("SOHOA_") && *k != "SOHOA_API") {
            let setting = key["SOHOA_".len()..].trim_end_matches("_FILE").to_lowercase();
            assert!(keys.contains(&setting), "{name}: {key} is no setting of the README's table");
        }
        let volumes: Vec<&str> = s["volumes"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert!(
            volumes.iter().any(|v| v.starts_with("sohoa:/var/lib/sohoa")),
            "{name} mounts the shared volume at the image's WORKDIR: {volumes:?}"
        );
    }
    // Two replicas of one service: the same command and settings, different host ports.
    let (a, b) = (service(&compose, "api-a"), service(&compose, "api-b"));
    assert_eq!(command(a), ["sohoa", "serve"]);
    assert_eq!(command(a), command(b));
    assert_eq!(environment(a), environment(b), "the replicas share one database and one archive");
    assert_ne!(a["ports"], b["ports"]);
    let env = environment(a);
    assert_eq!(env["SOHOA_WORKERS"], "0", "workers are services of their own");
    // The index is the postgres service, with its user, password and database.
    let pg = environment(service(&compose, "postgres"));
    let url = format!("postgres://{}:{}@postgres:5432/{}", pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"]);
    assert_eq!(env["SOHOA_INDEX_URL"], url);
    // The archive is the garage service's bucket, with the key it imports.
    let garage = environment(service(&compose, "garage"));
    assert_eq!(env["SOHOA_ARCHIVE_URL"], format!("s3://{}", garage["GARAGE_BUCKET"]));
    assert_eq!(env["SOHOA_S3_ACCESS_KEY_ID"], garage["GARAGE_KEY_ID"]);
    assert_eq!(env["SOHOA_S3_SECRET_ACCESS_KEY"], garage["GARAGE_KEY_SECRET"]);
    let port = docker["SOHOA_LISTEN"].rsplit_once(':').unwrap().1;
    assert!(env["SOHOA_S3_ENDPOINT"].starts_with("http://garage:3900"));
    // The balancer passes to both replicas on the port the image listens on, and takes bodies
    // as large as an upload may be.
    let lb = service(&compose, "lb");
    let conf = std::fs::read_to_string(repo().join("deploy/nginx.conf")).unwrap();
    let mounted = lb["volumes"].as_array().unwrap().iter().filter_map(|v| v.as_str()).any(|v| v.starts_with("./deploy/nginx.conf:"));
    assert!(mounted, "lb runs deploy/nginx.conf");
    for api in ["api-a", "api-b"] {
        assert!(conf.contains(&format!("server {api}:{port} ")), "deploy/nginx.conf passes to {api}:{port}");
    }
    let body_mib: u64 = conf.split("client_max_body_size ").nth(1).and_then(|r| r.split('m').next()).and_then(|n| n.parse().ok()).unwrap();
    let max_upload = env.get("SOHOA_MAX_UPLOAD_BYTES").and_then(|v| v.parse().ok()).unwrap_or(50 * 1024 * 1024);
    assert!(body_mib * 1024 * 1024 > max_upload, "the balancer takes an upload of max_upload_bytes");
    // Each worker names the balancer, and the token file init writes.
    let init = command(service(&compose, "init")).join(" ");
    for worker in ["worker-a", "worker-b"] {
        let s = service(&compose, worker);
        assert_eq!(environment(s)["SOHOA_API"], "http://lb:8080");
        let args = command(s);
        assert_eq!(args[0], "sohoa-worker");
        let token = &args[args.iter().position(|a| a == "--token-file").expect("a token file") + 1];
        assert!(init.contains(&format!("> {token}")), "{worker}'s token file {token} is written by init: {init}");
        assert_ne!(Path::new(token).file_name().unwrap(), "worker.token", "serve revokes worker.token at start");
    }
}

/// A free local port.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn garage_binary() -> Option<PathBuf> {
    let candidates =
        [std::env::var("GARAGE_BIN").ok().map(PathBuf::from), std::env::var("HOME").ok().map(|h| Path::new(&h).join(".cargo/bin/garage"))];
    let on_path = std::env::var("PATH").ok().and_then(|p| std::env::split_paths(&p).map(|d| d.join("garage")).find(|g| g.exists()));
    candidates.into_iter().flatten().chain(on_path).find(|p| p.exists())
}

/// A service run natively, stopped as a container is when dropped: SIGTERM (which
/// `garage-run.sh` passes on to its server), then SIGKILL after ten seconds.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = Command::new("kill").arg("-TERM").arg(self.0.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while self.0.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a service's command as its container would: the image's environment under the
/// service's, paths and service names mapped by `map`, in `cwd`.
fn spawn(
    name: &'static str,
    args: &[String],
    env: &BTreeMap<String, String>,
    map: &dyn Fn(&str) -> String,
    cwd: &Path,
    log: &Path,
) -> Proc {
    let bin_dir = Path::new(SOHOA).parent().unwrap();
    // nginx is in /usr/sbin, which a user's PATH may leave out
    let path = format!("{}:{}:/usr/sbin", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let args: Vec<String> = args.iter().map(|a| map(a)).collect();
    let mut cmd = Command::new(&args[0]);
    let log = std::fs::File::create(log).unwrap();
    cmd.args(&args[1..]).current_dir(cwd).env("PATH", path).stdout(log.try_clone().unwrap()).stderr(log);
    for (k, v) in env {
        cmd.env(k, map(v));
    }
    Proc(cmd.spawn().unwrap_or_else(|e| panic!("{name}: {e}")))
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_compose_topology_runs_natively_and_seals_through_both_replicas() {
    let (Some(pg_server), Some(garage)) = (server(), garage_binary()) else {
        report("\nWARNING: the native run of compose.yaml needs SOHOA_TEST_POSTGRES_URL and a garage binary (make test-postgres test-garage): NOT run\n");
        return;
    };
    let compose = compose();
    let worker_binary = common::worker_binary();
    let db = reqwest::runtime().block_on(scratch_database(&pg_server));
    let dir = tempfile::tempdir().unwrap();
    let (volume, logs) = (dir.path().join("sohoa"), dir.path().join("logs"));
    std::fs::create_dir_all(&volume).unwrap();
    std::fs::create_dir_all(&logs).unwrap();
    let (s3, rpc) = (free_port(), free_port());
    let (port_a, port_b, port_lb) = (free_port(), free_port(), free_port());
    // Garage's config as the compose file builds it in, its paths and ports moved.
    let garage_conf = std::fs::read_to_string(repo().join("deploy/garage.toml"))
        .unwrap()
        .replace("/var/lib/garage", &dir.path().join("garage").display().to_string())
        .replace("[::]:3901", &format!("127.0.0.1:{rpc}"))
        .replace("127.0.0.1:3901", &format!("127.0.0.1:{rpc}"))
        .replace("[::]:3900", &format!("127.0.0.1:{s3}"));
    let conf_file = dir.path().join("garage.toml");
    std::fs::write(&conf_file, garage_conf).unwrap();
    let pg = environment(service(&compose, "postgres"));
    let compose_url = format!("postgres://{}:{}@postgres:5432/{}", pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"]);
    let map = |text: &str| -> String {
        text.replace(&compose_url, &db.url)
            .replace("/usr/local/bin/garage-run", &repo().join("deploy/garage-run.sh").display().to_string())
            .replace("/etc/garage.toml", &conf_file.display().to_string())
            .replace("/etc/sohoa/policies", &policies().display().to_string())
            .replace("/usr/local/bin/sohoa-worker", &worker_binary.display().to_string())
            .replace("http://garage:3900", &format!("http://127.0.0.1:{s3}"))
            .replace("http://api-a:8080", &format!("http://127.0.0.1:{port_a}"))
            .replace("http://api-b:8080", &format!("http://127.0.0.1:{port_b}"))
            .replace("http://lb:8080", &format!("http://127.0.0.1:{port_lb}"))
            .replace("/etc/nginx/sohoa.conf", &dir.path().join("nginx/sohoa.conf").display().to_string())
    };
    // nginx's config as the compose file mounts it, its upstreams, port and paths moved; as
    // root, its workers stay root to write into the temp dir.
    std::fs::create_dir_all(dir.path().join("nginx")).unwrap();
    let nginx = dir.path().join("nginx").display().to_string();
    let root = Command::new("id").arg("-u").output().map(|o| o.stdout.starts_with(b"0\n")).unwrap_or(false);
    let nginx_conf = std::fs::read_to_string(repo().join("deploy/nginx.conf"))
        .unwrap()
        .replace("server api-a:8080 ", &format!("server 127.0.0.1:{port_a} "))
        .replace("server api-b:8080 ", &format!("server 127.0.0.1:{port_b} "))
        .replace("listen 8080;", &format!("listen 127.0.0.1:{port_lb};"))
        .replace("/var/cache/nginx", &nginx)
        .replace("/run/nginx-sohoa.pid", &format!("{nginx}/nginx.pid"));
    let nginx_conf = if root { format!("user root;\n{nginx_conf}") } else { nginx_conf };
    std::fs::write(dir.path().join("nginx/sohoa.conf"), nginx_conf).unwrap();
    let docker = dockerfile_env();
    let env_of = |name: &str, listen: Option<u16>| {
        let mut env = docker.clone();
        env.extend(environment(service(&compose, name)));
        if let Some(port) = listen {
            env.insert("SOHOA_LISTEN".into(), format!("127.0.0.1:{port}"));
        }
        env
    };

    let began = Instant::now();
    let mut garage_env = environment(service(&compose, "garage"));
    garage_env.insert("GARAGE_BIN".into(), garage.display().to_string());
    // The script's default config path, as the image has it.
    garage_env.entry("GARAGE_CONFIG".into()).or_insert_with(|| "/etc/garage.toml".into());
    let _garage = spawn("garage", &command(service(&compose, "garage")), &garage_env, &map, dir.path(), &logs.join("garage.log"));
    wait_for("garage to be ready", Duration::from_secs(60), || {
        std::fs::read_to_string(logs.join("garage.log")).unwrap_or_default().contains("garage-run: ready")
    });
    let mut init = spawn("init", &command(service(&compose, "init")), &env_of("init", None), &map, &volume, &logs.join("init.log"));
    let status = init.0.wait().unwrap();
    assert!(status.success(), "init: {}", std::fs::read_to_string(logs.join("init.log")).unwrap());
    let replicas = [("api-a", port_a), ("api-b", port_b)];
    let mut apis: Vec<Proc> = replicas
        .iter()
        .map(|(name, port)| {
            spawn(name, &command(service(&compose, name)), &env_of(name, Some(*port)), &map, &volume, &logs.join(format!("{name}.log")))
        })
        .collect();
    for (name, port) in replicas {
        wait_for(name, Duration::from_secs(30), || reqwest::blocking_get(&format!("http://127.0.0.1:{port}/healthz")).is_ok());
    }
    let _lb = spawn("lb", &command(service(&compose, "lb")), &BTreeMap::new(), &map, dir.path(), &logs.join("lb.log"));
    wait_for("lb", Duration::from_secs(10), || reqwest::blocking_get(&format!("http://127.0.0.1:{port_lb}/healthz")).is_ok());
    let _workers: Vec<Proc> = ["worker-a", "worker-b"]
        .into_iter()
        .map(|name| spawn(name, &command(service(&compose, name)), &env_of(name, None), &map, &volume, &logs.join(format!("{name}.log"))))
        .collect();

    let tokens = std::fs::read_to_string(volume.join("data/tokens.txt")).unwrap();
    let token = |role: &str| tokens.lines().find_map(|l| l.strip_prefix(&format!("{role}="))).unwrap().to_owned();
    let (scanner, operator) = (token("SCANNER"), token("OPERATOR"));
    let base = |port: u16| format!("http://127.0.0.1:{port}");
    // Two scans through the balancer, each sealed and seen through replica B.
    let mut codes = Vec::new();
    for (n, page) in [common::sample_scan(), common::png(300, 200)].into_iter().enumerate() {
        let body = json!({"procedure": "criminal-record-certificate", "applicant": {"kind": "citizen", "id": "079086000123", "name": format!("Lê Thị Hoa {n}")}});
        let (status, dossier) = call(
            "POST",
            &format!("{}/api/v1/dossiers", base(port_lb)),
            &scanner,
            Some(("application/json", body.to_string().into_bytes())),
        );
        assert_eq!(status, 201, "{dossier}");
        let code = dossier["code"].as_str().unwrap().to_owned();
        let (status, accepted) = call(
            "POST",
            &format!("{}/api/v1/dossiers/{code}/components/identity_card/scans", base(port_lb)),
            &scanner,
            Some(("image/png", page)),
        );
        assert_eq!(status, 202, "{accepted}");
        codes.push(code);
    }
    for code in &codes {
        wait_for(&format!("{code} sealed, seen through api-b"), Duration::from_secs(180), || {
            let (_, d) = call("GET", &format!("{}/api/v1/dossiers/{code}", base(port_b)), &scanner, None);
            assert_ne!(d["scans"][0]["status"], "failed", "{d}");
            d["scans"][0]["status"] == "sealed"
        });
    }
    let archived = std::fs::read_dir(dir.path().join("garage/data")).map(|d| d.count()).unwrap_or(0);
    assert!(archived > 0, "the archive is Garage's");
    // One of the two holds the fixity duty.
    let held = |port: u16| -> Option<String> {
        let url = format!("{}/metrics", base(port));
        let text = reqwest::runtime()
            .block_on(async { ::reqwest::Client::new().get(&url).bearer_auth(&operator).send().await.unwrap().text().await.unwrap() });
        text.lines().find_map(|l| l.strip_prefix("sohoa_duty_held{duty=\"fixity\"} ").map(str::to_owned))
    };
    wait_for("both replicas to ask for the fixity lease", Duration::from_secs(10), || held(port_a).is_some() && held(port_b).is_some());
    let mut said = [held(port_a).unwrap(), held(port_b).unwrap()];
    said.sort();
    assert_eq!(said, ["0", "1"], "exactly one replica holds the fixity duty");
    // With replica A stopped, the balancer still answers, through B.
    drop(apis.remove(0));
    for n in 0..4 {
        let body = json!({"procedure": "criminal-record-certificate", "applicant": {"kind": "citizen", "id": "079086000123", "name": format!("Trần Văn Nam {n}")}});
        let (status, dossier) = call(
            "POST",
            &format!("{}/api/v1/dossiers", base(port_lb)),
            &scanner,
            Some(("application/json", body.to_string().into_bytes())),
        );
        assert_eq!(status, 201, "with api-a stopped, request {n} through the balancer: {dossier}");
    }
    report(&format!(
        "compose.yaml run natively: garage, init, two replicas behind nginx, two workers; 2 scans sealed in {:.1}s from start",
        began.elapsed().as_secs_f64()
    ));
}
