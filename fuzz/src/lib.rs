//! What the fuzz targets share: the demo PKI, made once per fuzzing process.

use sohoa::sign::{FileSigner, SignOptions};
use std::sync::OnceLock;

pub struct Fixture {
    /// The demo root, the only trust anchor.
    pub anchors: Vec<Vec<u8>>,
    /// The second demo official (ECDSA P-256: the cheaper signature per input).
    pub signer: FileSigner,
    _dir: tempfile::TempDir,
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary directory");
        sohoa::pki::demo(dir.path()).expect("the demo PKI");
        let file = |name: &str| dir.path().join(name);
        let signer =
            FileSigner::from_files(&file("official2.key"), &file("official2.pem"), Some(&file("root.pem"))).expect("the demo signer");
        let anchors = sohoa::sign::load_certificates(&file("root.pem")).expect("the demo root");
        Fixture { anchors, signer, _dir: dir }
    })
}

/// A fixed time inside the demo certificates' validity, so that runs replay exactly.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    static NOW: OnceLock<chrono::DateTime<chrono::Utc>> = OnceLock::new();
    *NOW.get_or_init(chrono::Utc::now)
}

pub fn options() -> SignOptions {
    SignOptions {
        page: 1,
        appearance: None,
        reason: Some("fuzz".into()),
        location: None,
        signing_time: now().with_timezone(&sohoa::domain::vietnam_offset()),
        timestamp: false,
        certify: None,
    }
}
