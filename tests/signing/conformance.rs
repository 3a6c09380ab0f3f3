//! Conformance run over an outside corpus: every signed PDF in pyHanko's public test data
//! (fetched from its source distribution on PyPI by scripts/fetch-conformance.sh), judged by
//! `sohoa verify` and by pyHanko's own validator with the same trust, intermediates and
//! validation time. Every disagreement must be one of the known ones below, each with its
//! reason; the table goes to standard output (`-- --nocapture`).

use super::{env, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// pyHanko's test signers' certificates expired in 2022; its own tests validate at this time.
const VALIDATION_TIME: &str = "2020-11-01T00:00:00Z";

/// Files on which sohoa and pyHanko are known to disagree, and why.
const KNOWN: &[(&str, &str)] = &[
    (
        "form-update-ap-indirect-sneaky-trailer.pdf",
        "pyHanko refuses an appearance update when the field's former appearance dictionary is also reachable from elsewhere \
         (here the trailer's /FooBar), though that object is left as it was; sohoa compares what every path reaches and finds \
         only the signed field's appearance replaced",
    ),
    (
        "form-update-no-override-appearance-stream-ap-indirect-sneaky.pdf",
        "as above, the former appearance dictionary is reachable from the catalog's /FooBar and left unchanged",
    ),
];

fn corpus() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = run(root.join("scripts/fetch-conformance.sh").to_str().unwrap(), &[]);
    PathBuf::from(out.trim())
}

fn signed_pdfs(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            signed_pdfs(&path, out);
        } else if path.extension().is_some_and(|e| e == "pdf") {
            let bytes = std::fs::read(&path).unwrap();
            if bytes.windows(10).any(|w| w == b"/ByteRange") {
                out.push(path);
            }
        }
    }
}

#[test]
fn pyhankos_signed_test_files_get_pyhankos_verdicts() {
    let env = env();
    let data = corpus();
    let (root, interm) = (data.join("crypto/testing-ca/root/root.cert.pem"), data.join("crypto/testing-ca/root/interm.cert.pem"));
    let mut files = Vec::new();
    signed_pdfs(&data.join("pdf"), &mut files);
    assert!(files.len() >= 20, "expected pyHanko's signed test files, found {}", files.len());
    let (mut agree, mut table, mut unexpected) = (0, Vec::new(), Vec::new());
    for path in &files {
        let name = path.strip_prefix(data.join("pdf")).unwrap().display().to_string();
        let out = super::sohoa(&[
            "verify",
            path.to_str().unwrap(),
            "--trust",
            root.to_str().unwrap(),
            "--other-certs",
            interm.to_str().unwrap(),
            "--at",
            VALIDATION_TIME,
            // pyHanko checks no revocation when given a validation time
            "--no-revocation-check",
            "--json",
        ]);
        let status = out.status.code().unwrap_or(-1);
        assert!((0..=2).contains(&status), "{name}: sohoa verify ended with {status}: {}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        let codes = super::problem_codes(&report);
        let py = Command::new(env.pyhanko_bin())
            .args(["sign", "validate", "--trust-replace", "--trust"])
            .arg(&root)
            .arg("--other-certs")
            .arg(&interm)
            .args(["--validation-time", VALIDATION_TIME])
            .arg(path)
            .output()
            .unwrap();
        let py_text = String::from_utf8_lossy(&py.stdout).trim().replace('\n', " | ");
        let (sohoa_valid, py_valid) = (status == 0, py.status.success());
        let same = sohoa_valid == py_valid;
        agree += usize::from(same);
        let known = KNOWN.iter().find(|(f, _)| *f == name);
        table.push(format!(
            "{:<62} sohoa {:<7} pyHanko {:<7} {}{}",
            name,
            if sohoa_valid { "valid" } else { "INVALID" },
            if py_valid { "valid" } else { "INVALID" },
            if same { String::new() } else { format!("DISAGREE ({})", known.map_or("unexplained", |k| k.1)) },
            if sohoa_valid { String::new() } else { format!(" sohoa: {}", codes.join(",")) },
        ));
        if !same && known.is_none() {
            unexpected.push(format!(
                "{name}: sohoa {status} {codes:?}, pyHanko {py_text} {}",
                String::from_utf8_lossy(&py.stderr).lines().last().unwrap_or("")
            ));
        }
    }
    println!("{}\nagreement: {agree} of {} signed files", table.join("\n"), files.len());
    assert!(unexpected.is_empty(), "disagreements without a known reason:\n{}", unexpected.join("\n"));
}
