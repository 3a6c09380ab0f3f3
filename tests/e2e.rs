//! End-to-end tests: the built `sohoa` and `sohoa-worker` binaries, as an operator runs them.

mod common;

use common::served::{call, is_zombie, policies, reqwest, Served, SOHOA};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn policy_check_accepts_the_shipped_catalog() {
    let out = Command::new(SOHOA).args(["policy", "check"]).arg(policies()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok ("));
}

fn broken_catalog(dir: &Path) {
    std::fs::write(dir.join("agencies.toml"), "[[agency]]\ncode = \"000.00.31.H29\"\nname = \"UBND\"\nlevel = \"commune\"\n").unwrap();
    std::fs::write(
        dir.join("types.toml"),
        "[[doc_type]]\nid = \"birth_certificate\"\ntitles = [\"GIẤY KHAI SINH\"]\npatterns = ['(']\nfields = []\nvalidity = \"permanent\"\nreusable = true\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("procedures.toml"),
        "[[procedure]]\ncode = \"1.001193\"\nslug = \"birth\"\nname = \"Khai sinh\"\nlevel = \"commune\"\nprocessing_days = 1\nresult = \"birth_certificate\"\n\n[[procedure.component]]\nid = \"form\"\nname = \"Tờ khai\"\ndoc_types = [\"application_form\"]\nrequired = true\n",
    )
    .unwrap();
}

#[test]
fn policy_check_reports_every_problem_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    broken_catalog(dir.path());
    let out = Command::new(SOHOA).args(["policy", "check"]).arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("types.toml:4: document type `birth_certificate`: bad pattern"), "{stdout}");
    assert!(
        stdout.contains("procedures.toml:12: procedure `1.001193` component `form`: unknown document type `application_form`"),
        "{stdout}"
    );
}

#[test]
fn serve_refuses_a_bad_catalog_with_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    broken_catalog(dir.path());
    let out = Command::new(SOHOA)
        .arg("serve")
        .env("SOHOA_POLICIES_DIR", dir.path())
        .env("SOHOA_DATA_DIR", dir.path().join("data"))
        .env("SOHOA_INDEX_URL", format!("sqlite://{}/data/sohoa.db", dir.path().display()))
        .env("SOHOA_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("refusing to start"), "{stderr}");
    assert!(stderr.contains("types.toml:4:"), "{stderr}");
}

#[test]
fn serve_runs_the_loop_restarts_dead_workers_and_stops_cleanly() {
    let served = Served::start(2);
    let deadline = Instant::now() + Duration::from_secs(10);
    while served.workers().len() < 2 {
        assert!(Instant::now() < deadline, "workers did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let before = served.workers();

    // Kill one worker outright: the supervisor starts a new one.
    Command::new("kill").arg("-KILL").arg(before[0].to_string()).status().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = served.workers();
        if now.len() == 2 && !now.contains(&before[0]) {
            break;
        }
        assert!(Instant::now() < deadline, "the dead worker was not replaced: {now:?}");
        std::thread::sleep(Duration::from_millis(50));
    }

    let scanner = served.token("scanner");
    let body = json!({"procedure": "criminal-record-certificate", "applicant": {"kind": "citizen", "id": "079086000123", "name": "Trần Văn Bình"}});
    let (status, dossier) =
        call("POST", &format!("{}/api/v1/dossiers", served.base), &scanner, Some(("application/json", body.to_string().into_bytes())));
    assert_eq!(status, 201);
    let code = dossier["code"].as_str().unwrap();
    let url = format!("{}/api/v1/dossiers/{code}/components/identity_card/scans", served.base);
    let (status, _) = call("POST", &url, &scanner, Some(("image/png", common::sample_scan())));
    assert_eq!(status, 202);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, d) = call("GET", &format!("{}/api/v1/dossiers/{code}", served.base), &scanner, None);
        // Recognised, then sealed; the birth certificate in the identity card's slot is flagged as the wrong type.
        if d["scans"][0]["status"] == "sealed" {
            assert_eq!(d["checklist"][1]["status"], "flagged", "{d}");
            assert!(d["checklist"][1]["flags"].as_array().unwrap().contains(&json!("wrong_type")), "{d}");
            break;
        }
        assert!(Instant::now() < deadline, "the scan was not processed: {d}");
        std::thread::sleep(Duration::from_millis(100));
    }

    let workers = served.workers();
    let status = served.stop();
    assert!(status.success(), "serve exited with {status}");
    for pid in workers {
        assert!(!Path::new(&format!("/proc/{pid}")).exists() || is_zombie(pid), "worker {pid} outlived serve");
    }
}

#[test]
fn token_create_prints_a_working_token() {
    let served = Served::start(0);
    let out = Command::new(SOHOA)
        .arg("--config")
        .arg(served.dir.path().join("sohoa.toml"))
        .args(["token", "create", "--role", "consumer", "--agency", "000.00.31.H29"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("sohoa_"));
    let (status, _) = call("GET", &format!("{}/api/v1/procedures", served.base), &token, None);
    assert_eq!(status, 200);
    let bad = Command::new(SOHOA)
        .arg("--config")
        .arg(served.dir.path().join("sohoa.toml"))
        .args(["token", "create", "--role", "pope", "--agency", "000.00.31.H29"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let sohoa = |args: &[&str]| Command::new(SOHOA).arg("--config").arg(served.dir.path().join("sohoa.toml")).args(args).output().unwrap();
    let unnamed = sohoa(&["token", "create", "--role", "worker", "--agency", "000.00.31.H29"]);
    assert_eq!(unnamed.status.code(), Some(2), "a worker token names its worker");
    let named = sohoa(&["token", "create", "--role", "worker", "--agency", "000.00.31.H29", "--label", "host2-worker1"]);
    assert!(named.status.success());
    let stderr = String::from_utf8_lossy(&named.stderr);
    let id = stderr.strip_prefix("token ").and_then(|s| s.split_whitespace().next()).unwrap_or_else(|| panic!("{stderr}"));
    let worker = String::from_utf8(named.stdout).unwrap().trim().to_owned();
    let claim = json!({"kinds": ["ocr"], "wait_ms": 0}).to_string().into_bytes();
    let (status, _) = call("POST", &format!("{}/api/v1/jobs/claim", served.base), &worker, Some(("application/json", claim.clone())));
    assert_eq!(status, 204);
    assert!(sohoa(&["token", "revoke", id]).status.success());
    let (status, answer) = call("POST", &format!("{}/api/v1/jobs/claim", served.base), &worker, Some(("application/json", claim)));
    assert_eq!((status, answer["code"].as_str()), (401, Some("invalid_token")), "a revoked worker token is refused");
    let stranger = sohoa(&["token", "create", "--role", "scanner", "--agency", "999.99.99.X99"]);
    assert_eq!(stranger.status.code(), Some(2), "an agency outside the catalog gets no token");
    assert!(String::from_utf8_lossy(&stranger.stderr).contains("not in the policy catalog"));
    assert!(stranger.stdout.is_empty());
    assert!(served.stop().success());
}

/// Runs `sohoa tlog verify` with `args` and returns (exit code, stdout + stderr).
fn tlog_verify(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let out = Command::new(SOHOA).args(["tlog", "verify"]).args(args).output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn tlog_keygen_then_offline_verification_of_checkpoints_and_proofs() {
    use sohoa::domain::Digest;
    use sohoa::tlog::{manifest_leaf_hash, Checkpoint, ConsistencyProof, InclusionProof, MemoryLog, SignerKey};
    use std::os::unix::fs::PermissionsExt;

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out =
        Command::new(SOHOA).args(["tlog", "keygen", "--name", "sohoa.example/000.00.31.H29", "-o"]).arg(d.join("keys")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let vkey = std::fs::read_to_string(d.join("keys/tlog.pub")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), vkey);
    assert!(vkey.starts_with("sohoa.example/000.00.31.H29+"), "{vkey}");
    assert_eq!(std::fs::metadata(d.join("keys/tlog.key")).unwrap().permissions().mode() & 0o777, 0o600);
    let again = Command::new(SOHOA).args(["tlog", "keygen", "--name", "other", "-o"]).arg(d.join("keys")).output().unwrap();
    assert_eq!(again.status.code(), Some(2), "an existing key is never replaced");

    // A log of ten manifests, signed with the generated key, at sizes 6 and 10.
    let key = SignerKey::from_pkcs8("sohoa.example/000.00.31.H29", &std::fs::read(d.join("keys/tlog.key")).unwrap()).unwrap();
    let manifests: Vec<Digest> = (0..10).map(|i| Digest::of(format!("manifest {i}").as_bytes())).collect();
    let log = MemoryLog::from_leaves(manifests.iter().map(manifest_leaf_hash));
    std::fs::write(d.join("cp10"), Checkpoint::new(key.name(), 10, log.root()).sign(&key).unwrap()).unwrap();
    std::fs::write(d.join("cp6"), Checkpoint::new(key.name(), 6, log.root_at(6).unwrap()).sign(&key).unwrap()).unwrap();
    let inclusion = InclusionProof {
        record: "rec-3".into(),
        manifest: manifests[3].clone(),
        leaf_index: 3,
        tree_size: 10,
        leaf_hash: log.leaf(3).unwrap(),
        hashes: log.inclusion_proof(3, 10).unwrap(),
        checkpoint: None,
    };
    std::fs::write(d.join("proof.json"), serde_json::to_vec(&inclusion).unwrap()).unwrap();
    let consistency = ConsistencyProof { from: 6, to: 10, hashes: log.consistency_proof(6, 10).unwrap() };
    std::fs::write(d.join("cons.json"), serde_json::to_vec(&consistency).unwrap()).unwrap();

    let p = |name: &str| d.join(name).into_os_string();
    let s = |text: &str| std::ffi::OsString::from(text);
    let full = |key: std::ffi::OsString, proof: &str, cons: &str| {
        let args = [s("--checkpoint"), p("cp10"), s("--key"), key, s("--record"), s("rec-3"), s("--proof"), p(proof)];
        let more = [s("--old-checkpoint"), p("cp6"), s("--consistency"), p(cons)];
        let all: Vec<std::ffi::OsString> = args.into_iter().chain(more).collect();
        tlog_verify(&all.iter().map(|a| a.as_os_str()).collect::<Vec<_>>())
    };

    let (code, text) = full(p("keys/tlog.pub"), "proof.json", "cons.json");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("ok inclusion: record rec-3") && text.contains("ok consistency: size 10 extends size 6"), "{text}");
    // The key may be given inline too.
    let (code, text) = full(s(vkey.trim()), "proof.json", "cons.json");
    assert_eq!(code, Some(0), "{text}");

    let mut bad = inclusion.clone();
    bad.hashes[1][0] ^= 1;
    std::fs::write(d.join("bad-proof.json"), serde_json::to_vec(&bad).unwrap()).unwrap();
    let (code, text) = full(p("keys/tlog.pub"), "bad-proof.json", "cons.json");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("FAILED inclusion"), "{text}");

    let mut bad = consistency.clone();
    bad.hashes.pop();
    std::fs::write(d.join("bad-cons.json"), serde_json::to_vec(&bad).unwrap()).unwrap();
    let (code, text) = full(p("keys/tlog.pub"), "proof.json", "bad-cons.json");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("FAILED consistency"), "{text}");

    // Another log's key: the checkpoint signature is the check that fails.
    let stranger = SignerKey::generate("sohoa.example/000.00.31.H29").unwrap().verifier().to_string();
    let (code, text) = full(s(&stranger), "proof.json", "cons.json");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("FAILED checkpoint"), "{text}");

    // Unreadable input is exit 2.
    let (code, _) = full(s("not-a-key"), "proof.json", "cons.json");
    assert_eq!(code, Some(2));
    let (code, _) = full(p("keys/tlog.pub"), "missing.json", "cons.json");
    assert_eq!(code, Some(2));
    let (code, _) = tlog_verify(&[p("cp10").as_os_str()]);
    assert_eq!(code, Some(2), "usage errors exit 2");
}

#[test]
fn init_writes_a_log_key_and_served_checkpoints_verify_with_it_offline() {
    let served = Served::start(0);
    let key_file = served.dir.path().join("data/tlog.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    let consumer = served.token("consumer");
    let url = format!("{}/api/v1/tlog/checkpoint", served.base);
    let text = reqwest::runtime()
        .block_on(async { ::reqwest::Client::new().get(&url).bearer_auth(&consumer).send().await.unwrap().text().await.unwrap() });
    let checkpoint = served.dir.path().join("checkpoint.txt");
    std::fs::write(&checkpoint, &text).unwrap();
    let pub_file = served.dir.path().join("data/tlog.pub");
    let (code, out) =
        tlog_verify(&[std::ffi::OsStr::new("--checkpoint"), checkpoint.as_os_str(), std::ffi::OsStr::new("--key"), pub_file.as_os_str()]);
    assert_eq!(code, Some(0), "{out}\n{text}");
    assert!(out.contains("ok checkpoint: sohoa.example/000.00.31.H29 at size 0"), "{out}");
    assert!(served.stop().success());
}

#[test]
fn archive_fixity_exits_0_clean_1_with_problems_2_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let fixity = |archive_url: &str| {
        Command::new(SOHOA)
            .args(["archive", "fixity", "--json"])
            .env("SOHOA_INDEX_URL", format!("sqlite://{}/sohoa.db", dir.path().display()))
            .env("SOHOA_ARCHIVE_URL", archive_url)
            .env("SOHOA_ARCHIVE_REPLICA_URL", "")
            .output()
            .unwrap()
    };
    let url = format!("file://{}", archive.display());
    let blob = archive.join("blobs/sha256/ab/cd").join(format!("abcd{}", "0".repeat(60)));
    let out = fixity(&url);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["checked"], 0);

    // A crash's leftover is reported as an orphan once it is older than a write under way
    // could be; it holds no archived content, so the archive is still clean.
    std::fs::create_dir_all(archive.join("tmp")).unwrap();
    let leftover = std::fs::File::create(archive.join("tmp/cut-short")).unwrap();
    leftover.set_modified(std::time::SystemTime::now() - Duration::from_secs(120)).unwrap();
    std::fs::File::create(archive.join("tmp/under-way")).unwrap();
    let out = fixity(&url);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["orphans"], 1, "{report}");
    assert_eq!(report["problems"], json!([{"key": "tmp/cut-short", "kind": "orphan", "restored": false}]));
    std::fs::remove_dir_all(archive.join("tmp")).unwrap();

    std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
    std::fs::write(&blob, b"not what its name says").unwrap();
    let out = fixity(&url);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["checked"].as_u64(), report["corrupt"].as_u64()), (Some(1), Some(1)), "{report}");

    let out = fixity("ftp://nowhere");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported archive url"));
}

/// A scanner's PDF of `pages` pages, each one JPEG image: page 1 and every 25th the sample
/// scan, the others blank A4 sheets at 400 dpi (3307 x 4677 grey pixels).
fn long_scan(pages: usize) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let jpeg = |image: image::DynamicImage| {
        let mut out = std::io::Cursor::new(Vec::new());
        image.write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
        out.into_inner()
    };
    let sample = image::load_from_memory(&common::sample_scan()).unwrap().into_luma8();
    let sheet = image::GrayImage::from_pixel(3307, 4677, image::Luma([246]));
    let text_page = (jpeg(image::DynamicImage::ImageLuma8(sample.clone())), sample.width(), sample.height());
    let blank_page = (jpeg(image::DynamicImage::ImageLuma8(sheet)), 3307, 4677);
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for n in 0..pages {
        let (data, width, height) = if n % 25 == 0 { &text_page } else { &blank_page };
        let image = doc.add_object(Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => *width as i64, "Height" => *height as i64,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode" },
            data.clone(),
        ));
        let content = doc.add_object(Stream::new(dictionary! {}, b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec()));
        kids.push(Object::from(doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Contents" => content, "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } },
        })));
    }
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Count" => pages as i64, "Kids" => kids }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// The peak resident memory of process `pid` so far, in MB.
fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap().trim().trim_end_matches("kB").trim().parse().unwrap();
    kb / 1024.0
}

/// Uploads `scan` as the identity card of a new dossier and waits until it is sealed.
fn sealed_scan(served: &Served, scan: Vec<u8>, within: Duration) -> Value {
    let scanner = served.token("scanner");
    let body = json!({"procedure": "criminal-record-certificate", "applicant": {"kind": "citizen", "id": "079086000123", "name": "Trần Văn Bình"}});
    let (_, dossier) =
        call("POST", &format!("{}/api/v1/dossiers", served.base), &scanner, Some(("application/json", body.to_string().into_bytes())));
    let code = dossier["code"].as_str().unwrap();
    let (status, accepted) = call(
        "POST",
        &format!("{}/api/v1/dossiers/{code}/components/identity_card/scans", served.base),
        &scanner,
        Some(("application/octet-stream", scan)),
    );
    assert_eq!(status, 202, "{accepted}");
    let deadline = Instant::now() + within;
    loop {
        let (_, d) = call("GET", &format!("{}/api/v1/dossiers/{code}", served.base), &scanner, None);
        if d["scans"][0]["status"] == "sealed" {
            return d;
        }
        assert!(d["scans"][0]["status"] != "failed", "the scan failed: {d}");
        assert!(Instant::now() < deadline, "the scan was not sealed in time: {d}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_200_page_scan_completes_and_the_worker_stays_within_its_memory_bound() {
    let served = Served::start(1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while served.workers().is_empty() {
        assert!(Instant::now() < deadline, "the worker did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let worker = served.workers()[0];
    sealed_scan(&served, long_scan(1), Duration::from_secs(120));
    let one_page = peak_rss_mb(worker);
    let dossier = sealed_scan(&served, long_scan(200), Duration::from_secs(900));
    let long = peak_rss_mb(worker);
    println!("worker peak RSS: {one_page:.1} MB after a 1-page scan, {long:.1} MB after a 200-page scan of 400 dpi A4 pages");
    assert_eq!(served.workers(), [worker], "the same worker did both");
    assert!(long <= 256.0, "the worker took {long:.1} MB for 200 pages (bound 256 MB)");
    let scan = dossier["scans"][0]["id"].as_i64().unwrap();
    let (status, result) = call("GET", &format!("{}/api/v1/scans/{scan}/result", served.base), &served.token("scanner"), None);
    assert_eq!((status, result["pages"].as_array().map(Vec::len)), (200, Some(200)), "every page recognised");
    served.stop();
}

/// With `log_format = "json"` every log line is one JSON object, and a line written while
/// answering a request carries that request's id.
#[test]
fn json_log_lines_carry_the_request_id() {
    let served = Served::start_with(0, "log_format = \"json\"\n");
    let scanner = served.token("scanner");
    let body = serde_json::json!({"procedure": "birth-registration", "applicant": {"kind": "citizen", "id": "001303012345", "name": "Nguyễn Thị An"}});
    let status = reqwest::runtime().block_on(async {
        ::reqwest::Client::new()
            .post(format!("{}/api/v1/dossiers", served.base))
            .bearer_auth(&scanner)
            .header("x-request-id", "e2e-log-42")
            .json(&body)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 201);
    let log = std::fs::read_to_string(served.dir.path().join("serve-1.log")).unwrap();
    let lines: Vec<serde_json::Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}"))).collect();
    let received = lines.iter().find(|l| l["fields"]["message"] == "dossier received").unwrap_or_else(|| panic!("{log}"));
    let spans = received["spans"].as_array().unwrap();
    assert!(spans.iter().any(|s| s["request_id"] == "e2e-log-42" && s["method"] == "POST"), "{received}");
}
