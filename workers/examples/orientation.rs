//! Orientation on generated poor scans, for tuning and for held-out figures: upright pages,
//! the same pages turned 90, 180 and 270 degrees, and pages with little or no text. Prints
//! each page whose turn was not its truth, then the wrong turns per set and orientation,
//! as the line geometry suggested them (what recognition applied before the reading check)
//! and as applied now, and the seconds per page.
//! With `margin` first, each page is instead read in all four orientations, whatever its lines
//! suggest, and the smallest score of a right reading, the largest of a wrong one and the
//! largest ratio of a wrong reading to the right one are printed: the margin the check relies on.
//! Usage: cargo run --release -p sohoa-worker --example orientation -- [margin] tuning|held-out PAGES [SEED]

use sohoa_protocol::intake::MediaLimits;
use sohoa_worker::ocr::{self, Engine};
use sohoa_worker::samples::{self, Quality, Sparse, Typeface, DEFAULT_FACES, HELD_OUT_FACES, TUNING_FACES};
use std::collections::BTreeMap;
use std::time::Instant;

const LIMITS: MediaLimits = MediaLimits { max_pixels: 60_000_000, max_pages: 10, max_scan_pixels: u64::MAX };

/// The run the command line asks for: the set, its faces, how many pages, and the seed.
struct Run {
    set: String,
    faces: Vec<Typeface>,
    pages: u64,
    seed: u64,
    catalog: sohoa_protocol::policy::Catalog,
    types: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let margin = args.first().is_some_and(|a| a == "margin");
    if margin {
        args.remove(0);
    }
    let set = args.first().cloned().unwrap_or_else(|| "tuning".into());
    let faces: Vec<Typeface> = match set.as_str() {
        "tuning" => DEFAULT_FACES.iter().chain(&TUNING_FACES).copied().collect(),
        _ => HELD_OUT_FACES.to_vec(),
    };
    let catalog = sohoa_protocol::policy::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies")))?;
    let types: Vec<String> = catalog.doc_types.keys().map(|k| k.to_string()).collect();
    let pages = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(40);
    let seed = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let run = Run { set, faces, pages, seed, catalog, types };
    let mut engine = Engine::new("vie")?;
    if margin {
        measure_margin(&run, &mut engine)
    } else {
        count_turns(&run, &mut engine)
    }
}

fn count_turns(run: &Run, engine: &mut Engine) -> anyhow::Result<()> {
    let Run { set, faces, pages, seed, catalog, types } = run;
    let (pages, seed) = (*pages, *seed);
    // (truth, suggested was wrong, applied is wrong, pages)
    let mut tally: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
    let started = Instant::now();
    let mut timed = 0u32;
    for i in 0..pages {
        let face = faces[(i as usize) % faces.len()];
        let doc_type = &types[(i as usize / faces.len()) % types.len()];
        let sample = samples::generate_in(catalog, doc_type, Quality::Poor, seed * 1_000_003 + i, Some(face))?;
        let upright = image::load_from_memory(&sample.bytes)?;
        // the page turned 90, 180 and 270 degrees clockwise needs 3, 2 and 1 quarter turns
        let turned = [(0u8, upright.clone()), (3, upright.rotate90()), (2, upright.rotate180()), (1, upright.rotate270())];
        let only_upright = i % 4 != 0;
        for (truth, img) in turned.into_iter().filter(|(t, _)| *t == 0 || !only_upright) {
            let mut png = std::io::Cursor::new(Vec::new());
            img.write_to(&mut png, image::ImageFormat::Png)?;
            let (applied, evidence) = ocr::orientations(engine, &[png.get_ref()], LIMITS)?[0].clone();
            timed += 1;
            let key = format!("{:<6} text, needs {truth}", set);
            let entry = tally.entry(key).or_default();
            entry.0 += 1;
            entry.1 += u32::from(evidence.suggested != truth && evidence.method != ocr::OrientationMethod::Blank);
            entry.2 += u32::from(applied != truth);
            if applied != truth || evidence.suggested != truth || !evidence.readings.is_empty() {
                println!(
                    "{:<24} {:<28} truth {truth} suggested {} applied {applied} {:?}",
                    face.name, doc_type, evidence.suggested, evidence.readings
                );
            }
        }
    }
    for i in 0..pages / 4 {
        let kind = Sparse::ALL[(i as usize) % Sparse::ALL.len()];
        let sample = samples::generate_sparse(kind, Quality::Poor, seed * 7_000_001 + i)?;
        let (applied, evidence) = ocr::orientations(engine, &[&sample.bytes], LIMITS)?[0].clone();
        timed += 1;
        let entry = tally.entry(format!("{:<6} {}", set, kind.name())).or_default();
        entry.0 += 1;
        entry.1 += u32::from(evidence.suggested != 0);
        entry.2 += u32::from(applied != 0);
        if applied != 0 || evidence.suggested != 0 {
            println!(
                "{:<24} {:<28} truth 0 suggested {} applied {applied} {:?}",
                "sparse",
                kind.name(),
                evidence.suggested,
                evidence.readings
            );
        }
    }
    println!("\n{:<28} {:>6} {:>16} {:>14}", "set", "pages", "wrong suggested", "wrong applied");
    for (key, (n, before, after)) in &tally {
        println!("{key:<28} {n:>6} {before:>16} {after:>14}");
    }
    println!("{:.3} s per page (generation included)", started.elapsed().as_secs_f64() / f64::from(timed));
    Ok(())
}

fn measure_margin(run: &Run, engine: &mut Engine) -> anyhow::Result<()> {
    let Run { set, faces, pages, seed, catalog, types } = run;
    let (pages, seed) = (*pages, *seed);
    let (mut right_min, mut wrong_max, mut ratio_max) = (f32::MAX, 0f32, 0f32);
    for i in 0..pages {
        let face = faces[(i as usize) % faces.len()];
        let doc_type = &types[(i as usize / faces.len()) % types.len()];
        let sample = samples::generate_in(catalog, doc_type, Quality::Poor, seed * 1_000_003 + i, Some(face))?;
        let scores = ocr::reading_scores(engine, &sample.bytes, LIMITS)?;
        let right = scores[0].score;
        let wrong = scores[1..].iter().map(|r| r.score).fold(0.0, f32::max);
        (right_min, wrong_max, ratio_max) = (right_min.min(right), wrong_max.max(wrong), ratio_max.max(wrong / right.max(0.01)));
        println!("{:<24} {:<28} right {right:>7.1} best wrong {wrong:>6.1}", face.name, doc_type);
    }
    let mut sparse_max = 0f32;
    for i in 0..pages / 4 {
        let kind = Sparse::ALL[(i as usize) % Sparse::ALL.len()];
        let sample = samples::generate_sparse(kind, Quality::Poor, seed * 7_000_001 + i)?;
        let scores = ocr::reading_scores(engine, &sample.bytes, LIMITS)?;
        sparse_max = sparse_max.max(scores.iter().map(|r| r.score).fold(0.0, f32::max));
    }
    println!("\n{set}: {pages} text pages, right reading at least {right_min:.1}, wrong at most {wrong_max:.1}, wrong/right at most {ratio_max:.3}");
    println!("{set}: {} sparse pages, any reading at most {sparse_max:.1}", pages / 4);
    Ok(())
}
