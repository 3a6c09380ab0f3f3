//! OCSP end to end: a demo PKI whose certificates name only `sohoa pki serve`'s OCSP
//! responder (no CRL), openssl as the responder's client, B-LT files whose DSS holds OCSP
//! responses, and pyHanko's revocation checking as the peer.

use super::ltv::{codes, Ltv};
use std::process::Command;
use std::sync::OnceLock;

fn pki() -> &'static Ltv {
    static OCSP: OnceLock<Ltv> = OnceLock::new();
    OCSP.get_or_init(|| Ltv::start("ocsp", "--ocsp-url", "ocsp"))
}

/// `openssl ocsp` against the demo responder about `who`: (verified, its report).
fn openssl_ocsp(l: &Ltv, who: &str) -> (bool, String) {
    let (root, cert) = (l.pki("root.pem"), l.pki(&format!("{who}.pem")));
    let url = format!("{}ocsp", l.server);
    let out = Command::new("openssl")
        .args(["ocsp", "-issuer", &root, "-cert", &cert, "-url", &url, "-CAfile", &root, "-resp_text"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success() && text.contains("Response verify OK"), text)
}

/// The OCSP responses and CRLs in the DSS of the PDF at `path`.
fn dss(path: &std::path::Path) -> sohoa::pdf::dss::Dss {
    let file = sohoa::pdf::PdfFile::open(std::fs::File::open(path).unwrap()).unwrap();
    sohoa::pdf::dss::read(&file.latest().unwrap())
}

#[test]
fn openssl_accepts_the_demo_responders_answers() {
    let l = pki();
    let (ok, text) = openssl_ocsp(l, "official1");
    assert!(ok && text.contains(": good") && text.contains("Next Update"), "{text}");
    let (ok, text) = openssl_ocsp(l, "revoked");
    assert!(ok && text.contains(": revoked") && text.contains("keyCompromise"), "{text}");
}

#[test]
fn b_lt_with_only_an_ocsp_responder_carries_its_answers_and_verifies_offline() {
    let l = pki();
    let pdf = l.sign("ocsp-lt", "official1", &["--level", "B-LT", "--tsa", &l.tsa]);
    let store = dss(&pdf);
    assert!(store.crls.is_empty(), "no certificate names a CRL");
    assert_eq!(store.ocsps.len(), 2, "one answer for the signer, one for the TSA");
    let (code, report) = l.verify(&pdf, &["--offline"]);
    assert_eq!(code, 0, "{report}");
    let sig = report["signatures"].as_array().unwrap().iter().find(|s| s["kind"] == "signature").cloned().unwrap();
    assert_eq!((sig["level"].as_str(), sig["revocation"].as_str()), (Some("B-LT"), Some("good")), "{report}");
    let (ok, text) = l.pyhanko("validate", &pdf);
    assert!(ok && text.contains("INTACT:TRUSTED"), "{text}");
}

#[test]
fn a_revoked_certificate_is_reported_from_ocsp_online_and_from_the_dss() {
    let l = pki();
    let bt = l.sign("ocsp-revoked-bt", "revoked", &["--level", "B-T", "--tsa", &l.tsa]);
    let (code, report) = l.verify(&bt, &[]);
    assert_eq!((code, codes(&report)), (1, vec!["certificate_revoked".to_string()]), "asked of the responder: {report}");
    assert!(report.to_string().contains("(OCSP)"), "{report}");
    let (code, report) = l.verify(&bt, &["--offline"]);
    assert_eq!((code, codes(&report)), (1, vec!["revocation_unknown".to_string()]), "a named responder makes it checkable: {report}");
    let lt = l.sign("ocsp-revoked-lt", "revoked", &["--level", "B-LT", "--tsa", &l.tsa]);
    assert!(!dss(&lt).ocsps.is_empty());
    let (code, report) = l.verify(&lt, &["--offline"]);
    assert_eq!((code, codes(&report)), (1, vec!["certificate_revoked".to_string()]), "from the DSS: {report}");
    let (ok, text) = l.pyhanko("validate", &lt);
    assert!(!ok && text.contains("REVOKED"), "{text}");
}
