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

/// Small limits, so that the limits themselves are what inputs run into: a page of at most a
/// megapixel (four bytes a pixel in the decoders), at most three pages.
pub const LIMITS: sohoa::intake::MediaLimits = sohoa::intake::MediaLimits { max_pixels: 1_000_000, max_pages: 3, max_scan_pixels: 3_000_000 };

/// An upload format, as both the service's intake and the worker sniff it from the bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    Tiff,
    Pdf,
}

impl Format {
    fn of(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Format::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Format::Jpeg)
        } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
            Some(Format::Tiff)
        } else if bytes[..bytes.len().min(1024)].windows(5).any(|w| w == b"%PDF-") {
            Some(Format::Pdf)
        } else {
            None
        }
    }
}

/// Any bytes of `format` given to the service's intake check and to the worker's decoders end
/// in pages within the limits or an error; never a panic, a hang or memory past the limits.
/// Inputs that sniff as another format are left to that format's target.
pub fn intake(data: &[u8], format: Format) {
    if Format::of(data) != Some(format) {
        return;
    }
    count_caught_panics();
    if let Ok(info) = sohoa::intake::inspect(data, LIMITS) {
        assert!((1..=LIMITS.max_pages).contains(&info.pages), "intake accepted {} pages", info.pages);
    }
    // The page reader the worker and the service share, reading pixels and originals at once.
    let want = sohoa::pages::Want { pixels: true, original: true };
    let mut count = 0usize;
    let read = sohoa::pages::for_each(data, LIMITS, want, |page| {
        count += 1;
        let pixels = page.pixels.as_ref().expect("pixels were asked for");
        let (width, height) = (pixels.width(), pixels.height());
        assert!(u64::from(width) * u64::from(height) <= LIMITS.max_pixels, "a {width}x{height} page was decoded");
        assert_eq!((page.width, page.height), (width, height), "the page's size and its decoded pixels differ");
        assert!(page.original.is_some(), "the original was asked for");
        Ok::<_, sohoa::pages::PageError>(())
    });
    if read.is_ok() {
        assert!((1..=LIMITS.max_pages as usize).contains(&count), "{count} pages were read");
    }
}

/// libFuzzer's panic hook aborts on every panic, also on those the code under test catches on
/// purpose (lopdf's, turned into `corrupt_pdf`). This hook only reports each new panic site
/// once; a panic nobody catches still aborts the run, in libfuzzer-sys's own `catch_unwind`.
fn count_caught_panics() {
    use std::collections::HashSet;
    use std::sync::{Mutex, Once};
    static HOOK: Once = Once::new();
    static SITES: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let site = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
            let mut sites = SITES.lock().unwrap_or_else(|e| e.into_inner());
            if sites.get_or_insert_with(HashSet::new).insert(site.clone()) {
                let message = info.payload_as_str().unwrap_or("").replace('\n', " ");
                eprintln!("panic at {site}: {message}");
            }
        }));
    });
}
