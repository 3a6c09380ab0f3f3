//! Mutation fuzzing of the signature-reading and signing paths, without libFuzzer: signed
//! samples get bit flips, truncations, splices and overwritten numbers, and every variant
//! must give a report or an error, never a panic. Ignored by default; run with
//!
//!   SOHOA_FUZZ_ITERATIONS=20000 cargo test --test sign fuzz -- --ignored --nocapture
//!
//! A variant that panics is written to the test's temporary directory for replay.

use sohoa::sign::{sign_pdf, FileSigner, SignOptions};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// xorshift64*: deterministic, so a failing iteration replays from its number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Byte offsets where PDF structure lives (keywords, numbers after keys), where mutations
/// reach the parser's decisions rather than page content.
fn interesting(pdf: &[u8]) -> Vec<usize> {
    let words: [&[u8]; 12] = [
        b"startxref",
        b"xref",
        b"trailer",
        b"obj",
        b"/ByteRange",
        b"/Contents",
        b"/Prev",
        b"/Root",
        b"/Fields",
        b"/Length",
        b"/W",
        b"/Index",
    ];
    let mut out = Vec::new();
    for w in words {
        let mut from = 0;
        while let Some(i) = pdf[from..].windows(w.len()).position(|x| x == w) {
            out.push(from + i + w.len());
            from += i + 1;
        }
    }
    out
}

fn mutate(rng: &mut Rng, seed: &[u8], hot: &[usize], other: &[u8]) -> Vec<u8> {
    let mut pdf = seed.to_vec();
    let at =
        |rng: &mut Rng, len: usize| if !hot.is_empty() && rng.below(3) > 0 { hot[rng.below(hot.len())].min(len) } else { rng.below(len) };
    for _ in 0..1 + rng.below(4) {
        let len = pdf.len().max(1);
        match rng.below(6) {
            0 => {
                let i = at(rng, len).min(pdf.len().saturating_sub(1));
                if let Some(b) = pdf.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => pdf.truncate(at(rng, len)),
            2 => {
                let i = at(rng, len).min(pdf.len());
                let from = rng.below(other.len());
                let n = rng.below(512).min(other.len() - from);
                pdf.splice(i..i, other[from..from + n].iter().copied());
            }
            3 => {
                let i = at(rng, len).min(pdf.len());
                let junk: &[&[u8]] =
                    &[b" 99999999999 ", b" -1 ", b"<<", b">>", b"[", b"]", b" 0 R ", b"(", b"stream\n", b"%%EOF\n", b" 4294967296 "];
                pdf.splice(i..i, junk[rng.below(junk.len())].iter().copied());
            }
            4 => {
                let i = at(rng, len).min(pdf.len());
                let n = rng.below(64).min(pdf.len() - i);
                pdf.drain(i..i + n);
            }
            _ => {
                // Rewrite a run of digits to another number.
                let i = at(rng, len).min(pdf.len());
                let end = i + pdf[i..].iter().take(24).take_while(|b| b.is_ascii_digit() || **b == b' ').count();
                let number = [0u64, 1, 7, 255, 65535, u32::MAX as u64, u64::MAX, rng.next() % 100_000][rng.below(8)];
                pdf.splice(i..end, number.to_string().into_bytes());
            }
        }
    }
    pdf
}

fn options() -> SignOptions {
    SignOptions {
        page: 1,
        appearance: None,
        reason: Some("fuzz".into()),
        location: None,
        signing_time: chrono::Utc::now().with_timezone(&sohoa::domain::vietnam_offset()),
        timestamp: false,
        certify: None,
    }
}

#[test]
#[ignore = "long-running; run with --ignored"]
fn mutated_pdfs_never_panic_when_verified_or_signed() {
    let dir = tempfile::tempdir().unwrap();
    sohoa::pki::demo(dir.path()).unwrap();
    let file = |n: &str| dir.path().join(n);
    let signer = FileSigner::from_files(&file("official1.key"), &file("official1.pem"), Some(&file("root.pem"))).unwrap();
    let anchors = sohoa::sign::load_certificates(&file("root.pem")).unwrap();
    let mut seeds = Vec::new();
    for modern in [false, true] {
        let once = sign_pdf(&super::sample_pdf(modern), &signer, options()).unwrap();
        let twice = sign_pdf(&once, &signer, options()).unwrap();
        seeds.extend([super::sample_pdf(modern), once, twice]);
    }
    let iterations: u64 = std::env::var("SOHOA_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
    let now = chrono::Utc::now();
    let mut outcomes = [0usize; 3];
    for i in 0..iterations {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ i.wrapping_mul(0x1000_0000_01b3));
        let seed = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let pdf = mutate(&mut rng, seed, &interesting(seed), other);
        let run = catch_unwind(AssertUnwindSafe(|| {
            let verified = sohoa::verify::verify_pdf(&pdf, &anchors, now);
            let signed = sign_pdf(&pdf, &signer, options());
            (verified, signed)
        }));
        match run {
            Ok((Ok(report), _)) if report.valid => outcomes[0] += 1,
            Ok((Ok(_), _)) => outcomes[1] += 1,
            Ok((Err(_), _)) => outcomes[2] += 1,
            Err(_) => {
                let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-panic-{i}.pdf"));
                std::fs::write(&keep, &pdf).unwrap();
                panic!("iteration {i} panicked; input kept in {}", keep.display());
            }
        }
    }
    eprintln!("{iterations} variants: {} valid, {} invalid, {} unreadable", outcomes[0], outcomes[1], outcomes[2]);
}
