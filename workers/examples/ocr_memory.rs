//! OCR memory over a long batch (not a test): one engine, as a worker keeps it, recognises
//! the page images of DIR over and over, COUNT pages in all, each into its own PDF that is
//! then dropped (one job each), and prints the resident set every STEP pages. A worker's
//! memory must stay flat: no growth per page.
//!
//!   ocr_memory DIR COUNT [STEP]
//!
//! Each line printed is `key=value` figures.

use sohoa_worker::ocr::{self, Engine};
use std::time::Instant;

/// Current and peak resident set of this process, in MB.
fn rss() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() -> anyhow::Result<()> {
    sohoa_worker::limit_openmp();
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(count)) = (args.get(1), args.get(2).and_then(|c| c.parse::<usize>().ok())) else {
        anyhow::bail!("usage: ocr_memory DIR COUNT [STEP]");
    };
    let step = args.get(3).and_then(|s| s.parse::<usize>().ok()).unwrap_or(100).max(1);
    let mut pages: Vec<Vec<u8>> = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if matches!(path.extension().and_then(|e| e.to_str()), Some("png" | "jpg" | "jpeg" | "tif" | "tiff")) {
            pages.push(std::fs::read(&path)?);
        }
    }
    anyhow::ensure!(!pages.is_empty(), "no page images in {dir}");
    let mut engine = Engine::new("vie")?;
    let started = Instant::now();
    let mut first = None;
    for n in 1..=count {
        // the words are dropped at once, as a worker drops them after posting
        ocr::recognise(&mut engine, &[&pages[(n - 1) % pages.len()]], sohoa_worker::run::LIMITS, ocr::SERVICE_POLICY)?;
        if n == pages.len().min(count) {
            // after one round every page size has been seen once
            first = Some(rss().0);
        }
        if n % step == 0 || n == count {
            let (now, peak) = rss();
            println!("pages={n} rss_mb={now:.1} peak_mb={peak:.1} seconds={:.0}", started.elapsed().as_secs_f64());
        }
    }
    let (now, peak) = rss();
    let first = first.unwrap_or(now);
    println!(
        "summary pages={count} distinct={} rss_after_first_round_mb={first:.1} rss_end_mb={now:.1} growth_per_1000_pages_mb={:.1} peak_mb={peak:.1}",
        pages.len(),
        (now - first) * 1000.0 / count.saturating_sub(pages.len()).max(1) as f64
    );
    Ok(())
}
