//! Shared setup for the signing tests: the demo PKI, an NSS database for pdfsig, pyHanko
//! in a virtual environment, sample PDFs and a local time-stamp authority.

pub mod appearance;
pub mod attacks;
pub mod conformance;
pub mod eu_dss;
pub mod fuzz;
pub mod ltv;
pub mod ocsp;
pub mod realfiles;
pub mod tamper;

pub use super::common::sample_pdf;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

pub struct Env {
    pub dir: PathBuf,
    pub pki: PathBuf,
    nss: PathBuf,
    pyhanko: PathBuf,
}

/// Prepared once per test binary: tools installed, PKI generated, NSS database filled.
pub fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sign-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let status = Command::new(root.join("scripts/install-test-tools.sh")).status().expect("run scripts/install-test-tools.sh");
        assert!(status.success(), "scripts/install-test-tools.sh failed");
        for tool in ["pdfsig", "certutil", "openssl", "qpdf", "pdftoppm", "pdftotext"] {
            assert!(which(tool), "{tool} is missing: run scripts/install-deps.sh (make deps)");
        }
        let pki = dir.join("pki");
        let out = sohoa(&["pki", "demo", pki.to_str().unwrap()]);
        assert!(out.status.success(), "pki demo: {}", String::from_utf8_lossy(&out.stderr));
        let nss = dir.join("nss");
        std::fs::create_dir_all(&nss).unwrap();
        let db = format!("sql:{}", nss.display());
        run("certutil", &["-N", "-d", &db, "--empty-password"]);
        run("certutil", &["-A", "-d", &db, "-n", "sohoa-demo-root", "-t", "CT,C,C", "-i", pki.join("root.pem").to_str().unwrap()]);
        let venv = std::env::var_os("SOHOA_PYHANKO_VENV")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".venv/sohoa-pyhanko"));
        Env { dir, pki, nss, pyhanko: venv.join("bin/pyhanko") }
    })
}

fn which(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).stdout(Stdio::null()).status().map(|s| s.success()).unwrap_or(false)
}

/// Runs a tool that must succeed; returns its stdout.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn sohoa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sohoa")).args(args).env("RUST_LOG", "warn").output().expect("run sohoa")
}

impl Env {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn pki(&self, name: &str) -> String {
        self.pki.join(name).display().to_string()
    }

    /// Signs `input` into `output` with a demo identity (`seal`, `official1`, `official2`).
    pub fn sign(&self, input: &Path, output: &Path, who: &str, extra: &[&str]) {
        let (key, cert, root) = (self.pki(&format!("{who}.key")), self.pki(&format!("{who}.pem")), self.pki("root.pem"));
        let mut args =
            vec!["sign", input.to_str().unwrap(), "-o", output.to_str().unwrap(), "--key", &key, "--cert", &cert, "--chain", &root];
        args.extend_from_slice(extra);
        let out = sohoa(&args);
        assert!(out.status.success(), "sohoa sign: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `sohoa verify --json` against the demo root: (exit code, report).
    pub fn verify(&self, pdf: &Path) -> (i32, serde_json::Value) {
        self.verify_with(pdf, &self.pki("root.pem"))
    }

    pub fn verify_with(&self, pdf: &Path, trust: &str) -> (i32, serde_json::Value) {
        let out = sohoa(&["verify", pdf.to_str().unwrap(), "--trust", trust, "--json"]);
        let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (out.status.code().unwrap_or(-1), report)
    }

    pub fn pdfsig(&self, pdf: &Path) -> String {
        let out = Command::new("pdfsig").args(["-nssdir", &format!("sql:{}", self.nss.display()), pdf.to_str().unwrap()]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    pub fn pyhanko_validate(&self, pdf: &Path) -> String {
        let out = Command::new(&self.pyhanko)
            .args(["sign", "validate", "--no-revocation-check", "--trust", &self.pki("root.pem"), pdf.to_str().unwrap()])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
    }

    pub fn pyhanko_bin(&self) -> &Path {
        &self.pyhanko
    }

    /// Signs with pyHanko's Python API, past its own refusal to sign a document whose
    /// certification forbids it: how an attacker's tool would.
    pub fn pyhanko_sign_forced(&self, input: &Path, output: &Path, who: &str, field: &str) {
        let script = format!(
            r#"
from pyhanko.sign import signers
from pyhanko.sign.signers import pdf_signer
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
pdf_signer.PdfSigner._enforce_certification_constraints = lambda *a, **k: None
signer = signers.SimpleSigner.load({key:?}, {cert:?}, ca_chain_files=({root:?},))
with open({input:?}, 'rb') as f, open({output:?}, 'wb') as out:
    w = IncrementalPdfFileWriter(f)
    signers.sign_pdf(w, signers.PdfSignatureMetadata(field_name={field:?}), signer=signer, output=out)
"#,
            key = self.pki(&format!("{who}.key")),
            cert = self.pki(&format!("{who}.pem")),
            root = self.pki("root.pem"),
            input = input.display().to_string(),
            output = output.display().to_string(),
        );
        let python = self.pyhanko.with_file_name("python");
        let out = Command::new(python).args(["-c", &script]).output().unwrap();
        assert!(out.status.success(), "pyhanko (forced): {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Signs with pyHanko's CLI (PAdES, invisible field `field`).
    pub fn pyhanko_sign(&self, input: &Path, output: &Path, who: &str, field: &str) {
        let (key, cert, root) = (self.pki(&format!("{who}.key")), self.pki(&format!("{who}.pem")), self.pki("root.pem"));
        let out = Command::new(&self.pyhanko)
            .args(["sign", "addsig", "--field", field, "pemder", "--key", &key, "--cert", &cert, "--chain", &root, "--no-pass"])
            .args([input, output])
            .output()
            .unwrap();
        assert!(out.status.success(), "pyhanko sign: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// An invisible signature field with room for a 16 KiB CMS, signed now.
pub fn invisible_spec() -> sohoa::pdf::FieldSpec {
    sohoa::pdf::FieldSpec {
        page: 1,
        appearance: None,
        reason: None,
        location: None,
        name: None,
        signing_time: chrono::Utc::now().with_timezone(&sohoa::domain::vietnam_offset()),
        contents_room: 16 * 1024,
        certify: None,
        doc_timestamp: false,
    }
}

/// Problem codes of every signature in a report.
pub fn problem_codes(report: &serde_json::Value) -> Vec<String> {
    report["signatures"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["problems"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["code"].as_str().map(str::to_string))
        .collect()
}

/// `sohoa tsa serve` on a free port with the demo TSA key, stopped when dropped.
pub struct Tsa {
    child: Child,
    pub url: String,
}

impl Tsa {
    pub fn start(env: &Env) -> Tsa {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sohoa"))
            .args([
                "tsa",
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--cert",
                &env.pki("tsa.pem"),
                "--key",
                &env.pki("tsa.key"),
                "--chain",
                &env.pki("root.pem"),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sohoa tsa serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("listening on ").expect("tsa prints its address").to_string();
        Tsa { child, url }
    }
}

impl Drop for Tsa {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
