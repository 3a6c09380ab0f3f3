//! Long-term signatures (PAdES B-LT, B-LTA) against pyHanko's LTV validation and pdfsig: a
//! demo PKI whose certificates name a CRL that `sohoa pki serve` publishes, a local TSA.

use super::{run, sample_pdf, sohoa};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Seconds the CRL server and the TSA live: they outlast every test of this binary.
const SERVER_LIFETIME: &str = "1200";

pub struct Ltv {
    dir: PathBuf,
    pub(super) pki: PathBuf,
    nss: PathBuf,
    pub(super) tsa: String,
    /// Where `pki serve` answers: `/root.crl`, `/ocsp`.
    pub(super) server: String,
    /// The CRL server and the TSA, which `timeout` stops.
    _servers: std::sync::Mutex<Vec<std::process::Child>>,
}

/// The PKI (with its CRL served), a TSA and an NSS database, once per test binary.
fn ltv() -> &'static Ltv {
    static LTV: OnceLock<Ltv> = OnceLock::new();
    LTV.get_or_init(|| Ltv::start("ltv", "--crl-url", "root.crl"))
}

impl Ltv {
    /// A PKI in `name` whose certificates name `pki serve`'s `route` with `flag` (`--crl-url`
    /// or `--ocsp-url`), that server, a TSA under it and an NSS database trusting its root.
    pub(super) fn start(name: &str, flag: &str, route: &str) -> Ltv {
        let env = super::env();
        let dir = env.path(name);
        std::fs::create_dir_all(&dir).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let pki = dir.join("pki");
        let out = sohoa(&["pki", "demo", pki.to_str().unwrap(), flag, &format!("http://127.0.0.1:{port}/{route}")]);
        assert!(out.status.success(), "pki demo: {}", String::from_utf8_lossy(&out.stderr));
        let (server, crl_server) = serve(&["pki", "serve", "--dir", pki.to_str().unwrap(), "--addr", &format!("127.0.0.1:{port}")]);
        let (cert, key, root) = (pki.join("tsa.pem"), pki.join("tsa.key"), pki.join("root.pem"));
        let (tsa, tsa_server) = serve(&[
            "tsa",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
            "--chain",
            root.to_str().unwrap(),
        ]);
        let nss = dir.join("nss");
        std::fs::create_dir_all(&nss).unwrap();
        let db = format!("sql:{}", nss.display());
        run("certutil", &["-N", "-d", &db, "--empty-password"]);
        run("certutil", &["-A", "-d", &db, "-n", "sohoa-ltv-root", "-t", "CT,C,C", "-i", root.to_str().unwrap()]);
        Ltv { dir, pki, nss, tsa, server, _servers: std::sync::Mutex::new(vec![crl_server, tsa_server]) }
    }
}

/// Starts a `sohoa` server that stops by itself after [`SERVER_LIFETIME`]; returns its URL
/// and the process.
fn serve(args: &[&str]) -> (String, std::process::Child) {
    let mut child = Command::new("timeout")
        .arg(SERVER_LIFETIME)
        .arg(env!("CARGO_BIN_EXE_sohoa"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (line.trim().strip_prefix("listening on ").expect("the server prints its address").to_string(), child)
}

impl Ltv {
    pub(super) fn pki(&self, name: &str) -> String {
        self.pki.join(name).display().to_string()
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The sample PDF signed by `who` with extra `sohoa sign` arguments.
    pub(super) fn sign(&self, name: &str, who: &str, extra: &[&str]) -> PathBuf {
        let input = self.path(&format!("{name}-in.pdf"));
        std::fs::write(&input, sample_pdf(false)).unwrap();
        let output = self.path(&format!("{name}.pdf"));
        let (key, cert, root) = (self.pki(&format!("{who}.key")), self.pki(&format!("{who}.pem")), self.pki("root.pem"));
        let mut args =
            vec!["sign", input.to_str().unwrap(), "-o", output.to_str().unwrap(), "--key", &key, "--cert", &cert, "--chain", &root];
        args.extend_from_slice(extra);
        let out = sohoa(&args);
        assert!(out.status.success(), "sohoa sign: {}", String::from_utf8_lossy(&out.stderr));
        output
    }

    /// `sohoa verify --json` against this PKI's root: (exit code, report).
    pub(super) fn verify(&self, pdf: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
        let root = self.pki("root.pem");
        let mut args = vec!["verify", pdf.to_str().unwrap(), "--trust", &root, "--json"];
        args.extend_from_slice(extra);
        let out = sohoa(&args);
        (out.status.code().unwrap_or(-1), serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null))
    }

    /// pyHanko with revocation checking (`validate`) or its AdES LTV validation (`adesverify`).
    pub(super) fn pyhanko(&self, command: &str, pdf: &Path) -> (bool, String) {
        let out = Command::new(super::env().pyhanko_bin())
            .args(["sign", command, "--trust-replace", "--trust", &self.pki("root.pem")])
            .arg(pdf)
            .output()
            .unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    }

    fn pdfsig(&self, pdf: &Path) -> String {
        let out = Command::new("pdfsig").args(["-nssdir", &format!("sql:{}", self.nss.display())]).arg(pdf).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

pub(super) fn codes(report: &serde_json::Value) -> Vec<String> {
    super::problem_codes(report)
}

#[test]
fn b_lta_made_by_sohoa_passes_pyhankos_ltv_validation_and_pdfsig() {
    let l = ltv();
    let pdf = l.sign("lta", "official1", &["--level", "B-LTA", "--tsa", &l.tsa]);
    let (code, report) = l.verify(&pdf, &["--offline"]);
    assert_eq!(code, 0, "{report}");
    let sigs = report["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "the signature and the document time-stamp: {report}");
    let sig = sigs.iter().find(|s| s["kind"] == "signature").unwrap();
    assert_eq!(sig["level"], "B-LTA");
    assert_eq!(sig["revocation"], "good", "the CRL in the DSS covers the signer");
    assert!(sigs.iter().any(|s| s["kind"] == "document_timestamp" && s["valid"] == true));
    let (ok, text) = l.pyhanko("validate", &pdf);
    assert!(ok && text.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>") && text.contains("EXTENDED_WITH_LTA_UPDATES"), "{text}");
    let (ok, text) = l.pyhanko("adesverify", &pdf);
    assert!(ok && text.contains("INTACT:TRUSTED"), "{text}");
    let pdfsig = l.pdfsig(&pdf);
    assert!(pdfsig.contains("Signature is Valid.") && pdfsig.contains("Certificate is Trusted."), "{pdfsig}");
}

#[test]
fn lta_files_made_by_pyhanko_verify_in_sohoa() {
    let l = ltv();
    let input = l.path("py-lta-in.pdf");
    std::fs::write(&input, sample_pdf(false)).unwrap();
    let output = l.path("py-lta.pdf");
    let (key, cert, root) = (l.pki("official2.key"), l.pki("official2.pem"), l.pki("root.pem"));
    let out = Command::new(super::env().pyhanko_bin())
        .args(["sign", "addsig", "--field", "Sig1", "--use-pades-lta", "--trust-replace", "--trust", &root, "--timestamp-url", &l.tsa])
        .args(["pemder", "--key", &key, "--cert", &cert, "--chain", &root, "--no-pass"])
        .args([&input, &output])
        .output()
        .unwrap();
    assert!(out.status.success(), "pyhanko: {}", String::from_utf8_lossy(&out.stderr));
    let (code, report) = l.verify(&output, &["--offline"]);
    assert_eq!(code, 0, "{report}");
    let sig = report["signatures"].as_array().unwrap().iter().find(|s| s["kind"] == "signature").cloned().unwrap();
    assert_eq!(sig["level"], "B-LTA", "{report}");
    assert_eq!(sig["revocation"], "good", "{report}");
}

#[test]
fn a_revoked_certificate_is_reported_revoked_online_and_from_the_dss() {
    let l = ltv();
    let bt = l.sign("revoked-bt", "revoked", &["--level", "B-T", "--tsa", &l.tsa]);
    let (code, report) = l.verify(&bt, &[]);
    assert_eq!((code, codes(&report)), (1, vec!["certificate_revoked".to_string()]), "fetched from the CRL distribution point: {report}");
    let (code, report) = l.verify(&bt, &["--offline"]);
    assert_eq!((code, codes(&report)), (1, vec!["revocation_unknown".to_string()]), "{report}");
    let lt = l.sign("revoked-lt", "revoked", &["--level", "B-LT", "--tsa", &l.tsa]);
    let (code, report) = l.verify(&lt, &["--offline"]);
    assert_eq!((code, codes(&report)), (1, vec!["certificate_revoked".to_string()]), "from the DSS: {report}");
    let (ok, text) = l.pyhanko("validate", &lt);
    assert!(!ok && text.contains("REVOKED"), "{text}");
}

#[test]
fn an_expired_signer_certificate_verifies_under_its_time_stamps() {
    let l = ltv();
    let now = chrono::Utc::now().timestamp();
    let root_key = std::fs::read_to_string(l.pki.join("root.key")).unwrap();
    let subject = sohoa::pki::Subject {
        common_name: "Phạm Thị Dung", title: Some("Phó Chủ tịch"), organization: "UBND phường Dịch Vọng"
    };
    let (cert, key) =
        sohoa::pki::issue_under_root(&root_key, sohoa::pki::KeyKind::Rsa2048, &subject, now - 2 * 86400, now + 86400).unwrap();
    std::fs::write(l.pki.join("short.pem"), cert).unwrap();
    std::fs::write(l.pki.join("short.key"), key).unwrap();
    let later = (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339();
    let lta = l.sign("short-lta", "short", &["--level", "B-LTA", "--tsa", &l.tsa]);
    let (code, report) = l.verify(&lta, &["--offline", "--at", &later]);
    assert_eq!(code, 0, "valid at the time its time-stamps prove, though expired by now: {report}");
    let bb = l.sign("short-bb", "short", &[]);
    let (code, report) = l.verify(&bb, &["--offline", "--at", &later]);
    assert_eq!((code, codes(&report)), (1, vec!["certificate_expired".to_string()]), "{report}");
}

#[test]
fn ltv_extend_renews_the_time_stamp_chain_and_only_appends() {
    let l = ltv();
    let sealed = l.sign("renew", "seal", &["--certify", "2"]);
    let (once, twice) = (l.path("renew-1.pdf"), l.path("renew-2.pdf"));
    for (from, to) in [(&sealed, &once), (&once, &twice)] {
        let out = sohoa(&["ltv", "extend", from.to_str().unwrap(), "-o", to.to_str().unwrap(), "--tsa", &l.tsa]);
        assert!(out.status.success(), "ltv extend: {}", String::from_utf8_lossy(&out.stderr));
        let (before, after) = (std::fs::read(from).unwrap(), std::fs::read(to).unwrap());
        assert_eq!(&after[..before.len()], &before[..], "an extension appends");
    }
    let (code, report) = l.verify(&twice, &["--offline"]);
    assert_eq!(code, 0, "{report}");
    let sigs = report["signatures"].as_array().unwrap();
    assert_eq!(sigs.iter().filter(|s| s["kind"] == "document_timestamp").count(), 2, "{report}");
    let seal = sigs.iter().find(|s| s["kind"] == "signature").unwrap();
    assert_eq!((seal["level"].as_str(), seal["certification"].as_i64()), (Some("B-LTA"), Some(2)), "{report}");
    let (ok, text) = l.pyhanko("validate", &twice);
    assert!(ok, "{text}");
}
