//! Test harness: the app on port 0 with a real SQLite file and `file://` archive in a temp
//! dir, tokens for every role, and the real `sohoa-worker` binary when asked for. With
//! `SOHOA_TEST_INDEX=postgres` the app's index is a database of its own on the PostgreSQL
//! server `SOHOA_TEST_POSTGRES_URL` names instead (`make test` runs the API tests both ways).
#![allow(dead_code)]

pub mod cluster;
pub mod postgres;
pub mod served;

use image::{GrayImage, ImageFormat, Luma};
use reqwest::{Client, Response};
use serde_json::{json, Value};
use sohoa::api::{issue_token, AppState};
use sohoa::config::Config;
use sohoa::domain::{AgencyCode, Role};
use sohoa::startup::Service;
use std::collections::HashMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::oneshot;

pub const AGENCY: &str = "000.00.31.H29";
pub const OTHER_AGENCY: &str = "000.00.09.H29";
/// A third agency, which holds a seal of its own in the test installation.
pub const SEALED_AGENCY: &str = "000.00.00.G13";

pub struct TestApp {
    pub base: String,
    pub dir: tempfile::TempDir,
    pub state: Arc<AppState>,
    pub config: Config,
    pub http: Client,
    pub tokens: HashMap<Role, String>,
    /// A scanner of another agency.
    pub other_scanner: String,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// The index's PostgreSQL database, under `SOHOA_TEST_INDEX=postgres`; dropped last.
    scratch: Option<postgres::Scratch>,
}

/// The `sohoa-worker` binary of this build, brought up to date once per test binary. The
/// whole workspace is named so that features resolve as for `make test`'s build, which then
/// makes this a no-op.
pub fn worker_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let sohoa = PathBuf::from(env!("CARGO_BIN_EXE_sohoa"));
            let worker = sohoa.with_file_name("sohoa-worker");
            let status = std::process::Command::new(env!("CARGO"))
                .args(["build", "--workspace", "--bins"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo build for sohoa-worker");
            assert!(status.success(), "building sohoa-worker failed");
            assert!(worker.exists(), "no worker binary at {}", worker.display());
            worker
        })
        .clone()
}

/// The virtual environment holding schemathesis and bagit, installed when missing.
pub fn tools_venv() -> PathBuf {
    let venv = std::env::var_os("SOHOA_TOOLS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").expect("HOME is set")).join(".venv/sohoa-tools"));
    if !(venv.join("bin/schemathesis").exists() && venv.join("bin/bagit.py").exists()) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-test-tools.sh");
        let status = std::process::Command::new(script).status().expect("run install-test-tools.sh");
        assert!(status.success(), "installing schemathesis and bagit failed");
    }
    venv
}

/// Demo PKI made once per test binary: root, agency seal, officials, TSA, and a log key.
pub fn demo_pki() -> &'static Path {
    static PKI: OnceLock<tempfile::TempDir> = OnceLock::new();
    PKI.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        sohoa::pki::demo(dir.path()).expect("demo pki");
        // One more agency holds a seal of its own; the others hold none.
        let seals = dir.path().join("seals");
        sohoa::pki::demo_seals(dir.path(), &seals, &[(SEALED_AGENCY, "Sở Tư pháp thành phố Hà Nội")], &Default::default())
            .expect("demo seal");
        // The file holds no name: the service names the key by the log's origin.
        let log_key = sohoa::tlog::SignerKey::generate("test").expect("log key");
        std::fs::write(dir.path().join("tlog.key"), log_key.to_pkcs8_pem()).expect("write log key");
        dir
    })
    .path()
}

/// A fresh PostgreSQL database for the app's index when `SOHOA_TEST_INDEX=postgres`; `None`
/// (SQLite) when the variable is unset or `sqlite`.
pub async fn postgres_index() -> Option<postgres::Scratch> {
    match std::env::var("SOHOA_TEST_INDEX").as_deref() {
        Err(_) | Ok("" | "sqlite") => None,
        Ok("postgres") => {
            let server = postgres::server().expect("SOHOA_TEST_INDEX=postgres needs SOHOA_TEST_POSTGRES_URL (scripts/postgres-start.sh)");
            Some(postgres::scratch_database(&server).await)
        }
        Ok(other) => panic!("SOHOA_TEST_INDEX is sqlite or postgres, not {other:?}"),
    }
}

/// Runs `sql` on the index database `index_url` names, bypassing the service: for tests
/// that set up a state the API cannot reach.
pub async fn sql_execute(index_url: &str, sql: &str) {
    if index_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(index_url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(index_url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// The single integer `sql` selects from the index database `index_url` names.
pub async fn sql_count(index_url: &str, sql: &str) -> i64 {
    if index_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(index_url).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::PgPool::connect(index_url).await.unwrap();
        let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

pub fn test_config(dir: &Path) -> Config {
    let pki = demo_pki();
    Config {
        seal_key: pki.join("seal.key").into(),
        seal_cert: pki.join("seal.pem"),
        seal_chain: Some(pki.join("root.pem")),
        seals_dir: pki.join("seals"),
        trust_anchors: pki.join("root.pem"),
        officials_dir: pki.to_path_buf(),
        tlog_key: pki.join("tlog.key"),
        listen: "127.0.0.1:0".into(),
        data_dir: dir.join("data"),
        index_url: format!("sqlite://{}", dir.join("data/sohoa.db").display()),
        archive_url: format!("file://{}", dir.join("data/archive").display()),
        policies_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"),
        workers: 0,
        worker_binary: Some(worker_binary()),
        ..Config::default()
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(dir.path());
        let scratch = postgres_index().await;
        if let Some(scratch) = &scratch {
            config.index_url = scratch.url.clone();
        }
        adjust(&mut config);
        let service = Service::build(&config).await.expect("service builds");
        let base = format!("http://{}", service.addr);
        let state = service.state.clone();
        let agency = AgencyCode::parse(AGENCY).unwrap();
        let mut tokens = HashMap::new();
        for role in Role::ALL {
            let (_, secret) = issue_token(state.index.as_ref(), role, &agency, "test").await.unwrap();
            tokens.insert(role, secret);
        }
        let other = AgencyCode::parse(OTHER_AGENCY).unwrap();
        let (_, other_scanner) = issue_token(state.index.as_ref(), Role::Scanner, &other, "test").await.unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(service.run(async {
            let _ = stopped.await;
        }));
        TestApp { base, dir, state, config, http: Client::new(), tokens, other_scanner, stop: Some(stop), server: Some(server), scratch }
    }

    pub fn token(&self, role: Role) -> &str {
        &self.tokens[&role]
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    pub async fn create_dossier(&self, token: &str, body: Value) -> Response {
        self.http.post(self.url("/dossiers")).bearer_auth(token).json(&body).send().await.unwrap()
    }

    /// Creates a birth-registration dossier as the scanner and returns its code.
    pub async fn birth_dossier(&self) -> String {
        let body = serde_json::json!({
            "procedure": "birth-registration",
            "applicant": {"kind": "citizen", "id": "001303012345", "name": "Nguyễn Thị An"}
        });
        let response = self.create_dossier(self.token(Role::Scanner), body).await;
        assert_eq!(response.status(), 201);
        response.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned()
    }

    pub async fn upload(&self, token: &str, code: &str, component: &str, bytes: Vec<u8>, key: Option<&str>) -> Response {
        let mut req = self.http.post(self.url(&format!("/dossiers/{code}/components/{component}/scans"))).bearer_auth(token).body(bytes);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        req.send().await.unwrap()
    }

    pub async fn get_json(&self, token: &str, path: &str) -> (u16, Value) {
        let response = self.http.get(self.url(path)).bearer_auth(token).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, token: &str, path: &str) -> Response {
        self.http.get(self.url(path)).bearer_auth(token).send().await.unwrap()
    }

    /// Stores a job output as the lease holder and returns its digest.
    pub async fn post_output(&self, job: i64, lease: &str, bytes: Vec<u8>) -> String {
        self.post_output_as(self.token(Role::Worker), job, lease, bytes).await
    }

    /// [`TestApp::post_output`] with `token`.
    pub async fn post_output_as(&self, token: &str, job: i64, lease: &str, bytes: Vec<u8>) -> String {
        let url = self.url(&format!("/jobs/{job}/output"));
        let response = self.http.post(url).query(&[("lease", lease)]).bearer_auth(token).body(bytes).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()["digest"].as_str().unwrap().to_owned()
    }

    /// Completes an ocr job as a worker holding `token` and `lease` would, reporting `pages`
    /// (see [`recognition`]) for the scan whose digest is `input`; returns the answer.
    pub async fn complete_ocr(&self, token: &str, job: i64, lease: &str, input: &str, pages: Value) -> (u16, Value) {
        let stored = self.post_output_as(token, job, lease, recognition(input, pages).to_string().into_bytes()).await;
        let body = json!({"lease": lease, "result": {"input": input, "recognition": stored}});
        self.post_json(token, &format!("/jobs/{job}/complete"), body).await
    }

    pub async fn post_json(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let response = self.http.post(self.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Rows in each table and files in the archive: what "nothing was written" compares.
    pub async fn footprint(&self) -> (Vec<(String, i64)>, usize) {
        let mut counts = Vec::new();
        for table in ["dossiers", "components", "scans", "jobs", "audit", "dossier_counters"] {
            let n = sql_count(&self.config.index_url, &format!("SELECT COUNT(*) FROM {table}")).await;
            counts.push((table.to_owned(), n));
        }
        (counts, count_files(&self.dir.path().join("data/archive")))
    }

    /// Polls the dossier until `component` reaches `status`. "digitized" lasts only until
    /// the sealer takes the scan, often within one poll, and then gives way to the checked
    /// status: it is waited for as the component's newest scan being done, sealed or unsealed.
    pub async fn wait_for_component(&self, code: &str, component: &str, status: &str) -> Value {
        let reached = |dossier: &Value| {
            if status == "digitized" {
                let scans = dossier["scans"].as_array().unwrap().iter().filter(|s| s["component"] == component);
                let newest = scans.max_by_key(|s| s["id"].as_i64());
                return newest.is_some_and(|s| matches!(s["status"].as_str(), Some("done" | "sealed" | "unsealed")));
            }
            let item = dossier["checklist"].as_array().unwrap().iter().find(|c| c["component"] == component).cloned().unwrap();
            item["status"] == status
        };
        let mut dossier = Value::Null;
        // recognition in a debug build on a busy machine takes seconds
        for _ in 0..1200 {
            dossier = self.get_json(self.token(Role::Scanner), &format!("/dossiers/{code}")).await.1;
            if reached(&dossier) {
                return dossier;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("component {component} of {code} never became {status}: {dossier}");
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }
}

fn count_files(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.filter_map(Result::ok).map(|e| if e.path().is_dir() { count_files(&e.path()) } else { 1 }).sum()
}

/// A grey-pattern PNG of the given size.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let img = GrayImage::from_fn(width, height, |x, y| Luma([((x * 13 + y * 7) % 251) as u8]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A small page that differs from every other upload's by the bits of `n` (up to 2^20),
/// drawn as squares: uploads that must each be a scan of their own.
pub fn unique_page(n: usize) -> Vec<u8> {
    let img = GrayImage::from_fn(160, 120, |x, y| {
        let bit = (x / 10) as usize + 16 * (y / 60) as usize;
        let on = bit < 20 && (n >> bit) & 1 == 1;
        Luma([if on && y % 60 < 40 { 0 } else { 255 }])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

pub fn sample_scan() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/scans/giay-chung-sinh.png")).unwrap()
}

/// Asserts a problem+json answer with `status` and `code`.
pub async fn assert_problem(response: Response, status: u16, code: &str) {
    assert_eq!(response.status().as_u16(), status, "status for {code}");
    let ct = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(ct.as_deref(), Some("application/problem+json"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
}

/// A white PNG: large in pixels, small in bytes.
pub fn blank_png(width: u32, height: u32) -> Vec<u8> {
    let img = GrayImage::from_pixel(width, height, Luma([255]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The text poppler extracts from a PDF.
pub fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A record archived straight into the app's index and archive, as sealing leaves one.
pub async fn archived_record(app: &TestApp, id: &str, code: &str, doc_type: &str, issued: &str) -> sohoa::index::Record {
    use sohoa::domain::{AgencyCode, DossierCode};
    use sohoa::index::{Actor, AuditEntry, ComponentCheck, NewRecord};
    let content = bytes::Bytes::from(format!("%PDF-1.7 content of {id}"));
    let digest = app.state.archive.put_blob(content.clone()).await.unwrap();
    let manifest = app.state.archive.put_manifest(id, bytes::Bytes::from(format!("{{\"id\":\"{id}\"}}"))).await.unwrap();
    let issue_date = chrono::NaiveDate::parse_from_str(issued, "%Y-%m-%d").ok();
    let record = NewRecord {
        id: id.into(),
        kind: "digitized_copy",
        agency: AgencyCode::parse(AGENCY).unwrap(),
        dossier: Some(DossierCode::parse(code).unwrap()),
        component: None,
        scan: None,
        owner_id: Some("001186012345".into()),
        doc_type: doc_type.into(),
        number: None,
        issue_date,
        valid_from: issue_date,
        valid_until: None,
        digest,
        size: content.len() as u64,
        manifest_digest: manifest,
        summary: serde_json::json!({"signatures": []}),
    };
    let audit = AuditEntry { actor: Actor::system("test"), action: "record.create", target: String::new(), detail: serde_json::json!({}) };
    app.state.index.create_record(record, ComponentCheck::satisfied(), audit).await.unwrap()
}

/// A one-page PDF with a text line, saved with a classic xref table or, when `modern`, with
/// object streams and an xref stream.
pub fn sample_pdf(modern: bool) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let text =
        b"BT /F1 20 Tf 72 760 Td (QUYET DINH So 123/QD-UBND) Tj 0 -30 Td /F1 12 Tf (Cap giay chung nhan cho ong Nguyen Van An) Tj ET"
            .to_vec();
    let content_id = doc.add_object(Stream::new(dictionary! {}, text));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content_id, "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
    });
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 }));
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    if modern {
        doc.save_modern(&mut out).unwrap();
    } else {
        doc.save_to(&mut out).unwrap();
    }
    out
}

/// A worker's recognition of the scan `input`, with `pages` (see [`page_text`]).
pub fn recognition(input: &str, pages: Value) -> Value {
    json!({"input": input, "engine": {"name": "tesseract", "version": "5.3.0", "language": "vie", "model": "vie:test"}, "pages": pages})
}

/// Page `page` of a `width` x `height` image reading `text`: one word box per word, laid in
/// small steps so that any text fits the page.
pub fn page_text(page: u32, width: u32, height: u32, text: &str) -> Value {
    let mut words = Vec::new();
    for (line, row) in text.lines().enumerate() {
        for (i, word) in row.split_whitespace().enumerate() {
            let (x, y) = ((i as u32 * 3) % (width - 3), (line as u32 * 3) % (height - 3));
            words.push(json!({"text": word, "conf": 90.0, "x": x, "y": y, "w": 2, "h": 2, "line": line}));
        }
    }
    let text: String =
        text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n");
    json!({"page": page, "width": width, "height": height, "dpi": 300.0, "quarter_turns": 0, "skew": 0.0,
           "confidence": 90.0, "no_text": words.is_empty(), "text": text, "words": words})
}

/// A PDF sealed with the demo seal key, which the test installation trusts.
pub fn sealed_sample() -> Vec<u8> {
    let pki = demo_pki();
    let signer = sohoa::sign::FileSigner::from_files(&pki.join("seal.key"), &pki.join("seal.pem"), Some(&pki.join("root.pem"))).unwrap();
    let time = chrono::Utc::now().with_timezone(&sohoa::domain::vietnam_offset());
    sohoa::seal::seal_pdf(&sample_pdf(false), &signer, "UBND phường Dịch Vọng", time).unwrap()
}

/// `pdf` with one byte inside its first signed range changed.
pub fn tampered(pdf: &[u8]) -> Vec<u8> {
    let mut bad = pdf.to_vec();
    let at = bad.windows(4).position(|w| w == b"BT\n/" || w == b"(GI").unwrap_or(200);
    bad[at + 1] ^= 0x01;
    bad
}
