//! Conformance run over EU DSS's PAdES validation files (tests/vectors/eu-dss, see SOURCE
//! there): `sohoa verify` on each, set against what DSS's own unit test for the file asserts
//! (expected.json) — signature count, integrity of signatures and of document time-stamps,
//! modification after signing and, for the certification files, whether a new signature may
//! be added. Trust is not compared: DSS's test anchors are not ours. Every disagreement must be
//! one of the known ones below, each with its reason; the table goes to standard output
//! (`-- --nocapture`).

use super::env;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Problems that say a signature's bytes or CMS do not hold together (or could not be
/// checked at all); trust, validity period and revocation problems are left out.
const INTEGRITY_CODES: &[&str] = &[
    "digest_mismatch",
    "signature_invalid",
    "cms_malformed",
    "cms_no_signed_attributes",
    "cms_not_detached",
    "signature_unreadable",
    "timestamp_mismatch",
    "timestamp_invalid",
    "timestamp_malformed",
    "unsupported_algorithm",
    "unsupported_sub_filter",
    "signer_certificate_missing",
];

/// Problems and changes that say the document was changed after signing in a way not allowed.
const MODIFICATION_CODES: &[&str] = &["signature_removed", "revision_unreadable"];

/// A debug build on a busy machine; DSS's own limit for its loop file is 3 s.
const TIME_LIMIT: Duration = Duration::from_secs(5);

/// Files on which sohoa and DSS's tests are known to disagree, and why.
const KNOWN: &[(&str, &str)] = &[
    (
        "pades-signed-annot-added.pdf",
        "by design: sohoa allows annotations after signing only under DocMDP P=3 (as pyHanko); DSS allows them after an \
         approval signature",
    ),
    (
        "pdf-double-signer-info.pdf",
        "by design: a PDF signature's CMS carries exactly one SignerInfo, sohoa refuses two (cms_malformed); DSS checks the first",
    ),
    ("pkcs7-no-message-digest.pdf", "by design: sohoa accepts no SHA-1 digest (unsupported_algorithm); DSS does"),
    (
        "pkcs7_sha1.pdf",
        "by design: sohoa supports neither /adbe.pkcs7.sha1 nor SHA-1 digests, and judges /ITXT, which iText added to the \
         page tree root after the first signature, a disallowed change",
    ),
    (
        "pades-t-duplicated-doctst.pdf",
        "by design: the trailer's /AdditionalStreams (a LibreOffice hybrid PDF's pointer to its embedded ODF source, which \
         LibreOffice opens instead of the PDF) changes after signing, and sohoa allows no trailer change; DSS ignores it",
    ),
    ("pades-lta-copied-doctst.pdf", "by design: the trailer's /AdditionalStreams changes after signing, as above"),
    ("pades-tst-with-sig-type.pdf", "by design: the trailer's /AdditionalStreams changes after signing, as above"),
    (
        "pades-5-signatures-and-1-document-timestamp.pdf",
        "by design: the newest revision's trailer says /Prev 0, so sohoa cannot read it (revision_unreadable, no document \
         time-stamp found); DSS's parser repairs it. Integrity agrees: both reject the five signatures, whose signed \
         attributes are not DER-sorted",
    ),
    (
        "BadEncodedCMS.pdf",
        "reporting only: DSS drops a signature whose CMS does not decode (NO_SIGNATURE_FOUND), sohoa reports it invalid \
         (cms_malformed); neither finds a valid signature",
    ),
    (
        "pdf-signed-corrupted.pdf",
        "reporting only: ten bytes cut from the signed revision shift every later cross-reference offset; sohoa finds no \
         signature field (no signatures, exit 1), DSS's repairing parser finds the signature and reports it broken",
    ),
];

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/eu-dss")
}

/// "intact", "broken" or "mixed" over entries, each intact or not; "none" when there is none.
fn integrity(intact: &[bool]) -> &'static str {
    match (intact.iter().any(|i| *i), intact.iter().all(|i| *i)) {
        _ if intact.is_empty() => "none",
        (_, true) => "intact",
        (false, _) => "broken",
        (true, false) => "mixed",
    }
}

fn is_intact(signature: &Value) -> bool {
    let problems = signature["problems"].as_array().cloned().unwrap_or_default();
    !problems.iter().any(|p| {
        let code = p["code"].as_str().unwrap_or("");
        INTEGRITY_CODES.contains(&code) || code.starts_with("byte_range_")
    })
}

fn is_modified(signature: &Value) -> bool {
    let disallowed = signature["changes_after"].as_array().into_iter().flatten().any(|c| c["allowed"] == Value::Bool(false));
    let problems = signature["problems"].as_array().into_iter().flatten();
    disallowed || problems.filter_map(|p| p["code"].as_str()).any(|c| MODIFICATION_CODES.contains(&c))
}

/// sohoa's verdict on one file, in the terms of expected.json.
struct Verdict {
    signatures: usize,
    integrity: &'static str,
    timestamps: &'static str,
    modified: bool,
    codes: Vec<String>,
}

impl Verdict {
    fn of(report: &Value) -> Verdict {
        let all = report["signatures"].as_array().cloned().unwrap_or_default();
        let (timestamps, signatures): (Vec<_>, Vec<_>) = all.iter().partition(|s| s["kind"] == "document_timestamp");
        let intact = |list: &[&Value]| list.iter().map(|s| is_intact(s)).collect::<Vec<_>>();
        let mut codes: Vec<String> = super::problem_codes(report);
        codes.sort();
        codes.dedup();
        Verdict {
            signatures: signatures.len(),
            integrity: integrity(&intact(&signatures)),
            timestamps: integrity(&intact(&timestamps)),
            modified: all.iter().any(is_modified),
            codes,
        }
    }
}

/// Whether `sohoa sign` adds a signature to `pdf` (with the demo signer).
fn signing_permitted(pdf: &Path, name: &str) -> bool {
    let env = env();
    let out = env.path(&format!("eu-dss-{}", name.replace('/', "-")));
    let (key, cert, root) = (env.pki("official1.key"), env.pki("official1.pem"), env.pki("root.pem"));
    let args = ["sign", pdf.to_str().unwrap(), "-o", out.to_str().unwrap(), "--key", &key, "--cert", &cert, "--chain", &root];
    super::sohoa(&args).status.success()
}

/// Each aspect expected.json fixes for one file: (aspect, DSS's value, sohoa's value).
fn aspects(expected: &Value, got: &Verdict, permitted: Option<bool>) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    if let Some(n) = expected["signatures"].as_u64() {
        out.push(("signatures", n.to_string(), got.signatures.to_string()));
    }
    if let Some(want) = expected["integrity"].as_str() {
        // DSS finding no signature and sohoa finding only broken ones both mean none holds.
        let have = if want == "none" && got.integrity == "broken" { "none" } else { got.integrity };
        out.push(("integrity", want.to_string(), have.to_string()));
    }
    if let Some(want) = expected["document_timestamps"].as_str() {
        out.push(("timestamps", want.to_string(), got.timestamps.to_string()));
    }
    if let Some(want) = expected["modified_after_signing"].as_bool() {
        out.push(("modified", want.to_string(), got.modified.to_string()));
    }
    if let (Some(want), Some(have)) = (expected["new_signature_permitted"].as_bool(), permitted) {
        out.push(("may sign", want.to_string(), have.to_string()));
    }
    out
}

#[test]
fn eu_dss_validation_files_get_dss_verdicts() {
    let env = env();
    let dir = vectors();
    let expected: Vec<Value> = serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    assert!(expected.len() >= 30, "expected.json lists {} files", expected.len());
    let (mut agree, mut compared, mut table, mut unexpected, mut stale) = (0, 0, Vec::new(), Vec::new(), Vec::new());
    for case in &expected {
        let name = case["file"].as_str().unwrap();
        let path = dir.join(name);
        assert!(path.is_file(), "{name} is listed in expected.json but missing");
        let started = Instant::now();
        let out = super::sohoa(&[
            "verify",
            path.to_str().unwrap(),
            "--trust",
            &env.pki("root.pem"),
            "--json",
            "--offline",
            "--no-revocation-check",
        ]);
        let took = started.elapsed();
        let status = out.status.code().unwrap_or(-1);
        assert!((0..=2).contains(&status), "{name}: sohoa verify ended with {status}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(took < TIME_LIMIT, "{name}: sohoa verify took {took:?}");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        let got = Verdict::of(&report);
        let permitted = case.get("new_signature_permitted").map(|_| signing_permitted(&path, name));
        let aspects = aspects(case, &got, permitted);
        let differ: Vec<_> = aspects.iter().filter(|(_, want, have)| want != have).collect();
        let same = differ.is_empty();
        compared += usize::from(!aspects.is_empty());
        agree += usize::from(same && !aspects.is_empty());
        let known = KNOWN.iter().find(|(f, _)| *f == name);
        let show = |dss: bool| {
            let parts: Vec<_> = aspects.iter().map(|a| format!("{}={}", a.0, if dss { &a.1 } else { &a.2 })).collect();
            if parts.is_empty() {
                "(no verdict asserted)".to_string()
            } else {
                parts.join(" ")
            }
        };
        table.push(format!(
            "{:<48} | {:<58} | {:<58} | {}{}",
            name,
            show(true),
            show(false),
            match (same, aspects.is_empty()) {
                (true, true) => "-".to_string(),
                (true, false) => "yes".to_string(),
                (false, _) => format!("NO ({})", known.map_or("unexplained", |k| k.1)),
            },
            if got.codes.is_empty() { String::new() } else { format!(" [sohoa: {}]", got.codes.join(",")) },
        ));
        if !same && known.is_none() {
            unexpected.push(format!("{name}: {differ:?}, sohoa exit {status}, codes {:?}", got.codes));
        }
        if same && known.is_some() {
            stale.push(name);
        }
    }
    let only_run = expected.len() - compared;
    println!("{}\nagreement: {agree} of {compared} files with a verdict ({only_run} more only run)", table.join("\n"));
    assert!(unexpected.is_empty(), "disagreements without a known reason:\n{}", unexpected.join("\n"));
    assert!(stale.is_empty(), "listed as known disagreements but now agreeing: {stale:?}");
}
