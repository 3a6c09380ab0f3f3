//! Every example of README.md, run as a reader runs it, so the README cannot drift from the
//! code. Each ```sh block carries a marker on the line before it: `<!-- example: NAME -->`
//! blocks run, in order, in one bash session (`set -euo pipefail`) in the directory of a
//! fresh `sohoa init` + `sohoa serve` on a free port; `<!-- example not run: REASON -->`
//! blocks are left out, with the reason in the README. An unmarked shell block fails.

mod common;

use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SOHOA: &str = env!("CARGO_BIN_EXE_sohoa");
const RUN: &str = "<!-- example: ";
const SKIP: &str = "<!-- example not run: ";
/// What the examples run, in README order; a new example needs its assertions here.
const EXAMPLES: [&str; 5] = ["try-it", "signing", "log-proof", "access", "metrics"];
/// Addresses the README defines once as `NAME=VALUE` lines; the test gives each a free port.
const ADDRESSES: [(&str, &str); 2] = [("API", "http://127.0.0.1:8080"), ("TSA", "127.0.0.1:3161")];
/// Recognition and signing in a debug build on a busy machine take a while, not this long.
const TIMEOUT: Duration = Duration::from_secs(600);

struct Example {
    name: String,
    line: usize,
    code: String,
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).expect("README.md")
}

/// The marked ```sh blocks to run; panics on a shell block without a marker or a marker
/// without a block.
fn examples(text: &str) -> Vec<Example> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_end();
        let Some(info) = line.strip_prefix("```") else {
            if line.starts_with(RUN) || line.starts_with(SKIP) {
                assert!(
                    lines.get(i + 1).is_some_and(|l| l.starts_with("```sh")),
                    "README.md:{}: a marker not followed by a ```sh block",
                    i + 1
                );
            }
            i += 1;
            continue;
        };
        let start = i + 1;
        let end =
            (start..lines.len()).find(|&j| lines[j].trim_end() == "```").unwrap_or_else(|| panic!("README.md:{start}: unclosed block"));
        if matches!(info.split_whitespace().next(), Some("sh" | "bash" | "shell" | "console" | "zsh")) {
            let marker = if i > 0 { lines[i - 1].trim() } else { "" };
            if let Some(name) = marker.strip_prefix(RUN).and_then(|m| m.strip_suffix("-->")) {
                assert_eq!(info, "sh", "README.md:{start}: examples that run are ```sh");
                out.push(Example { name: name.trim().to_owned(), line: start + 1, code: lines[start..end].join("\n") + "\n" });
            } else {
                let reason = marker.strip_prefix(SKIP).and_then(|m| m.strip_suffix("-->")).map(str::trim);
                assert!(
                    reason.is_some_and(|r| !r.is_empty()),
                    "README.md:{start}: a shell block needs `{RUN}NAME -->` or `{SKIP}REASON -->` on the line before it"
                );
            }
        }
        i = end + 1;
    }
    out
}

#[test]
fn every_shell_block_in_the_readme_is_run_or_says_why_not() {
    let names: Vec<String> = examples(&readme()).into_iter().map(|e| e.name).collect();
    assert_eq!(names, EXAMPLES, "the README's examples and the ones this test checks differ");
}

/// The examples as one bash script, each address definition pointed at the test's own.
fn script(examples: &[Example], addresses: &[(&str, String)]) -> String {
    let mut script = String::from("set -euo pipefail\n");
    for e in examples {
        script.push_str(&format!("echo '### example {}'; echo '### example {}' >&2\n", e.name, e.name));
        script.push_str(&e.code);
    }
    script.push_str("echo '### end'\n");
    for ((name, default), (_, ours)) in ADDRESSES.iter().zip(addresses) {
        let definition = format!("\n{name}={default}");
        assert_eq!(script.matches(&definition).count(), 1, "the examples define {name}={default} once, at the start of a line");
        let port = format!(":{}", default.rsplit(':').next().unwrap());
        assert_eq!(script.matches(&port).count(), 1, "an example names port {port} instead of using ${name}");
        script = script.replace(&definition, &format!("\n{name}={ours}"));
    }
    script
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `sohoa init` and `sohoa serve` in `dir` with the defaults the README describes (data/,
/// data/pki/, data/tokens.txt) and one local worker; stopped when dropped.
struct Served(Child);

impl Served {
    fn start(dir: &Path, port: u16) -> Served {
        let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        let worker = common::worker_binary();
        let config = format!(
            "listen = \"127.0.0.1:{port}\"\npolicies_dir = \"{}\"\nworkers = 1\nworker_binary = \"{}\"\n",
            policies.display(),
            worker.display()
        );
        std::fs::write(dir.join("sohoa.toml"), config).unwrap();
        std::os::unix::fs::symlink(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"), dir.join("samples")).unwrap();
        let init = sohoa_command(dir).arg("init").output().unwrap();
        assert!(init.status.success(), "sohoa init: {}", String::from_utf8_lossy(&init.stderr));
        let log = std::fs::File::create(dir.join("serve.log")).unwrap();
        let child = sohoa_command(dir).arg("serve").stdout(Stdio::null()).stderr(log).spawn().unwrap();
        let served = Served(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "sohoa serve did not come up: {}", std::fs::read_to_string(dir.join("serve.log")).unwrap());
            std::thread::sleep(Duration::from_millis(100));
        }
        served
    }
}

impl Drop for Served {
    /// SIGTERM, so that serve stops its worker too; SIGKILL only if it does not stop.
    fn drop(&mut self) {
        // SAFETY: signals the child this test started.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.0.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A command run in `dir` with this build's binaries first on PATH and no SOHOA_* settings
/// from the caller's environment.
fn command(program: &str, dir: &Path) -> Command {
    let bin = PathBuf::from(SOHOA).parent().unwrap().to_path_buf();
    let path =
        std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()))).unwrap();
    let mut command = Command::new(program);
    command.current_dir(dir).env("PATH", path).env("OMP_THREAD_LIMIT", "1").env_remove("RUST_LOG");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("SOHOA_") {
            command.env_remove(key);
        }
    }
    command
}

fn sohoa_command(dir: &Path) -> Command {
    command(SOHOA, dir)
}

/// Runs the script with bash in its own process group, killed with whatever it started in
/// the background; returns the exit status, stdout and stderr.
fn run_bash(dir: &Path, script: &str) -> (Option<i32>, String, String) {
    std::fs::write(dir.join("examples.sh"), script).unwrap();
    let (out, err) = (dir.join("examples.out"), dir.join("examples.err"));
    let mut child = command("bash", dir)
        .arg("examples.sh")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .process_group(0)
        .spawn()
        .expect("bash runs");
    let group = child.id() as i32;
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // SAFETY: signals the process group this test created; nothing else is in it.
    unsafe { libc::kill(-group, libc::SIGKILL) };
    let _ = child.wait();
    (status, std::fs::read_to_string(out).unwrap(), std::fs::read_to_string(err).unwrap())
}

/// The standard output each example printed, by name.
fn sections(stdout: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("### example ") {
            out.push((name.to_owned(), String::new()));
        } else if let Some((_, text)) = out.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out
}

#[test]
fn the_readme_examples_run_against_a_fresh_service() {
    let examples = examples(&readme());
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addresses = [("API", format!("http://127.0.0.1:{port}")), ("TSA", format!("127.0.0.1:{}", free_port()))];
    let script = script(&examples, &addresses);
    let _served = Served::start(dir.path(), port);

    let (status, stdout, stderr) = run_bash(dir.path(), &script);
    let last = sections(&stdout).last().map(|(name, _)| name.clone()).unwrap_or_default();
    let line = examples.iter().find(|e| e.name == last).map_or(0, |e| e.line);
    assert!(
        status == Some(0) && stdout.ends_with("### end\n"),
        "the README example `{last}` (README.md:{line}) failed with {status:?} (None: timed out)\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    let sections = sections(&stdout);
    let output = |name: &str| sections.iter().find(|(n, _)| n == name).map(|(_, t)| t.as_str()).unwrap();

    // try-it: a dossier, its scan sealed into a record of the mother, the seal valid offline
    let tried = output("try-it");
    let mut lines = tried.lines();
    let code = lines.next().unwrap();
    assert!(code.starts_with("000.00.31.H29-") && code.len() == "000.00.31.H29-261125-0001".len(), "{tried}");
    let notice = lines
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|c| c["component"] == "hospital_birth_notice")
        .unwrap_or_else(|| panic!("no checklist line for the notice:\n{tried}"));
    assert_eq!(notice["status"], "satisfied", "{tried}");
    let record = notice["record"].as_str().unwrap();
    assert!(
        tried.contains(r#"{"kind":"digitized_copy","doc_type":"hospital_birth_notice","owner_id":"001186012345","log_index":0}"#),
        "{tried}"
    );
    assert!(tried.contains("Signature1: VALID (B-B, "), "{tried}");
    assert!(stderr.contains(r#""status":"queued""#), "the upload's answer is shown: {stderr}");

    // signing: a B-T signature with its time-stamp, valid against the demo root
    let signed = output("signing");
    let report: Value = serde_json::from_str(&signed[signed.find("{\n").expect("a JSON report")..]).unwrap();
    assert_eq!(report["valid"], true, "{report:#}");
    let signature = &report["signatures"][0];
    assert_eq!((signature["level"].as_str(), signature["kind"].as_str()), (Some("B-T"), Some("signature")), "{report:#}");
    assert!(signature["timestamp_time"].is_string() && signature["problems"] == Value::Array(vec![]), "{report:#}");

    // log-proof: the record's inclusion and the log's consistency, checked offline
    let proved = output("log-proof");
    assert!(proved.contains(&format!("ok inclusion: record {record} ")), "{proved}");
    assert_eq!(proved.matches("ok checkpoint: sohoa.example/000.00.31.H29 at size 1").count(), 2, "{proved}");
    assert!(proved.contains("ok consistency: size 1 extends size 1") && !proved.contains("FAILED"), "{proved}");

    // access: the consumer's read of the proof is listed for the owner; the access log verifies
    let access = output("access");
    assert!(access.contains(r#"{"role":"consumer","read":"proof","purpose":"procedure:1.001193"}"#), "{access}");
    assert!(access.contains("ok checkpoint: sohoa.example/000.00.31.H29/access at size ") && !access.contains("FAILED"), "{access}");

    // metrics: the service answers, and the sealed copy's two jobs are done
    let metrics = output("metrics");
    assert!(metrics.contains("sohoa_up 1"), "{metrics}");
    assert!(
        metrics.contains(r#"sohoa_jobs{kind="ocr",state="done"} 1"#) && metrics.contains(r#"sohoa_jobs{kind="seal",state="done"} 1"#),
        "{metrics}"
    );
}
