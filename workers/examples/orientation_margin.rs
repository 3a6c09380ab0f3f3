//! The margin the orientation check relies on, on generated poor scans: each page is read
//! in all four orientations, whatever its lines suggest, and the score of the right
//! orientation is set against the best wrong one. Prints the smallest score of a right
//! reading, the largest of a wrong one, and the largest ratio of a wrong reading to the
//! right one, per set.
//! Usage: cargo run --release -p sohoa-worker --example orientation_margin -- tuning|held-out PAGES [SEED]

use sohoa::intake::MediaLimits;
use sohoa_worker::ocr::{self, Engine};
use sohoa_worker::samples::{self, Quality, Sparse, Typeface, DEFAULT_FACES, HELD_OUT_FACES, TUNING_FACES};

const LIMITS: MediaLimits = MediaLimits { max_pixels: 60_000_000, max_pages: 10, max_scan_pixels: u64::MAX };

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let set = args.get(1).map(String::as_str).unwrap_or("tuning");
    let pages: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(40);
    let seed: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
    let faces: Vec<Typeface> = match set {
        "tuning" => DEFAULT_FACES.iter().chain(&TUNING_FACES).copied().collect(),
        _ => HELD_OUT_FACES.to_vec(),
    };
    let catalog = sohoa::policy::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies")))?;
    let types: Vec<String> = catalog.doc_types.keys().map(|k| k.to_string()).collect();
    let mut engine = Engine::new("vie")?;
    let (mut right_min, mut wrong_max, mut ratio_max) = (f32::MAX, 0f32, 0f32);
    for i in 0..pages {
        let face = faces[(i as usize) % faces.len()];
        let doc_type = &types[(i as usize / faces.len()) % types.len()];
        let sample = samples::generate_in(&catalog, doc_type, Quality::Poor, seed * 1_000_003 + i, Some(face))?;
        let scores = ocr::reading_scores(&mut engine, &sample.bytes, LIMITS)?;
        let right = scores[0].score;
        let wrong = scores[1..].iter().map(|r| r.score).fold(0.0, f32::max);
        (right_min, wrong_max, ratio_max) = (right_min.min(right), wrong_max.max(wrong), ratio_max.max(wrong / right.max(0.01)));
        println!("{:<24} {:<28} right {right:>7.1} best wrong {wrong:>6.1}", face.name, doc_type);
    }
    let mut sparse_max = 0f32;
    for i in 0..pages / 4 {
        let kind = Sparse::ALL[(i as usize) % Sparse::ALL.len()];
        let sample = samples::generate_sparse(kind, Quality::Poor, seed * 7_000_001 + i)?;
        let scores = ocr::reading_scores(&mut engine, &sample.bytes, LIMITS)?;
        sparse_max = sparse_max.max(scores.iter().map(|r| r.score).fold(0.0, f32::max));
    }
    println!("\n{set}: {pages} text pages, right reading at least {right_min:.1}, wrong at most {wrong_max:.1}, wrong/right at most {ratio_max:.3}");
    println!("{set}: {} sparse pages, any reading at most {sparse_max:.1}", pages / 4);
    Ok(())
}
