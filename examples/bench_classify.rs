//! Classification benchmark driver (not a test): documents classified per second over a
//! labelled directory, on the generator's truths (`NAME.txt`) and on the recognised texts
//! (`NAME.ocr.txt`) apart, classification alone and with field extraction.
//! `scripts/bench-classify.sh` makes the directory and runs it.
//!
//!   bench_classify DIR POLICIES [SECONDS]
//!
//! Each line printed is `key=value` figures.

use sohoa::classify::{extract, Classifier};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn texts(dir: &Path, suffix: &str) -> anyhow::Result<Vec<String>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        // `NAME.txt` holds the truth, `NAME.ocr.txt` what was recognised
        let wanted = name.ends_with(suffix) && (suffix != ".txt" || !name.ends_with(".ocr.txt"));
        if wanted {
            out.push(std::fs::read_to_string(&path)?);
        }
    }
    Ok(out)
}

/// Rounds over all `texts` until `budget` has passed: documents per second.
fn rate(texts: &[String], budget: Duration, work: impl Fn(&str)) -> (usize, f64) {
    let started = Instant::now();
    let mut done = 0;
    while done == 0 || started.elapsed() < budget {
        for text in texts {
            work(text);
            done += 1;
        }
    }
    (done, done as f64 / started.elapsed().as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(policies)) = (args.get(1), args.get(2)) else {
        anyhow::bail!("usage: bench_classify DIR POLICIES [SECONDS]");
    };
    let seconds: f64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(3.0);
    let budget = Duration::from_secs_f64(seconds);
    let catalog = sohoa::policy::load(Path::new(policies))?;
    let classifier = Classifier::new(&catalog);
    for (name, suffix) in [("truth", ".txt"), ("ocr", ".ocr.txt")] {
        let texts = texts(Path::new(dir), suffix)?;
        if texts.is_empty() {
            continue;
        }
        let pages = |text: &str| -> Vec<String> { text.split('\u{c}').map(str::to_owned).collect() };
        let (n, classify) = rate(&texts, budget, |t| {
            let pages = pages(t);
            let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
            std::hint::black_box(classifier.classify(&refs));
        });
        let (_, both) = rate(&texts, budget, |t| {
            let pages = pages(t);
            let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
            std::hint::black_box((classifier.classify(&refs), extract(t)));
        });
        println!("texts={name} documents={} classified={n} classify_per_s={classify:.1} classify_extract_per_s={both:.1}", texts.len());
    }
    Ok(())
}
