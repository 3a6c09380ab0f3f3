//! Signing and verification benchmark program (not a test): `scripts/bench-sign.sh` runs it
//! beside pyHanko and pdfsig on the same files and key.
//!
//!   bench_sign make OUT.pdf --pages N --kb-per-page K    # incompressible image pages
//!   bench_sign sign IN.pdf KEY CERT CHAIN N              # signatures per second (in process)
//!   bench_sign floor IN.pdf KEY CERT N                   # SHA-256 of the file + one signature
//!   bench_sign verify IN.pdf ROOT N                      # verifications per second

use sohoa::sign::{sign_pdf, FileSigner, SignOptions, Signer};
use std::path::Path;
use std::time::Instant;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(2);
    }
}

fn arg(args: &[String], i: usize) -> anyhow::Result<&str> {
    args.get(i).map(String::as_str).ok_or_else(|| anyhow::anyhow!("missing argument {i}: see the header of examples/bench_sign.rs"))
}

fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match arg(&args, 1)? {
        "make" => {
            let pages: usize = args.iter().position(|a| a == "--pages").and_then(|i| args.get(i + 1)).map_or(Ok(1), |v| v.parse())?;
            let kb: usize = args.iter().position(|a| a == "--kb-per-page").and_then(|i| args.get(i + 1)).map_or(Ok(200), |v| v.parse())?;
            std::fs::write(arg(&args, 2)?, make_pdf(pages, kb * 1024))?;
        }
        "sign" => {
            let pdf = std::fs::read(arg(&args, 2)?)?;
            let chain = Some(Path::new(arg(&args, 5)?));
            let signer = FileSigner::from_files(Path::new(arg(&args, 3)?), Path::new(arg(&args, 4)?), chain)?;
            let n: usize = arg(&args, 6)?.parse()?;
            let start = Instant::now();
            let mut out = Vec::new();
            for _ in 0..n {
                out = sign_pdf(&pdf, &signer, options())?;
            }
            let secs = start.elapsed().as_secs_f64();
            if let Some(path) = args.get(7) {
                std::fs::write(path, &out)?;
            }
            println!("{:.1}", n as f64 / secs);
        }
        "floor" => {
            let path = arg(&args, 2)?;
            let signer = FileSigner::from_files(Path::new(arg(&args, 3)?), Path::new(arg(&args, 4)?), None)?;
            let n: usize = arg(&args, 5)?.parse()?;
            let start = Instant::now();
            for _ in 0..n {
                let pdf = std::fs::read(path)?;
                let digest = sohoa::domain::Digest::of(&pdf);
                signer.sign(digest.as_str().as_bytes())?;
            }
            println!("{:.1}", n as f64 / start.elapsed().as_secs_f64());
        }
        "verify" => {
            let pdf = std::fs::read(arg(&args, 2)?)?;
            let roots = sohoa::sign::load_certificates(Path::new(arg(&args, 3)?))?;
            let n: usize = arg(&args, 4)?.parse()?;
            let start = Instant::now();
            for _ in 0..n {
                let report = sohoa::verify::verify_pdf(&pdf, &roots, chrono::Utc::now())?;
                anyhow::ensure!(report.valid, "the benchmark file does not verify: {report:?}");
            }
            println!("{:.1}", n as f64 / start.elapsed().as_secs_f64());
        }
        other => anyhow::bail!("unknown command {other}"),
    }
    Ok(())
}

fn options() -> SignOptions {
    SignOptions {
        page: 1,
        appearance: None,
        reason: Some("Benchmark".into()),
        location: None,
        signing_time: chrono::Utc::now().with_timezone(&sohoa::domain::vietnam_offset()),
        timestamp: false,
        certify: None,
    }
}

/// A PDF of `pages` A4 pages, each showing one grey image of about `bytes` bytes of
/// incompressible samples, like a scanned page.
fn make_pdf(pages: usize, bytes: usize) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    let side = (bytes as f64).sqrt() as usize;
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..pages {
        let samples: Vec<u8> = (0..side * side)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        let image = doc.add_object(Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => side as i64, "Height" => side as i64,
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
            samples,
        ));
        let content = doc.add_object(Stream::new(dictionary! {}, b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec()));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Contents" => content, "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image } },
        });
        kids.push(Object::Reference(page));
    }
    let count = kids.len() as i64;
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("writing to memory");
    out
}
