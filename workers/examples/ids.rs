//! Owner ids (or another field: `IDS_FIELD=enterprise_code`) on generated pages filled in by
//! hand, for trying a change to how ids are read on a hand neither part of the quality test
//! is measured on. Each page's value as read is set beside its truth; prints each miss with
//! the line it was read from, then the share read exactly per quality and the CPU seconds
//! per page. `IDS_THREADS=1` reads one page at a time.
//! Usage: cargo run --release -p sohoa-worker --example ids -- LAYOUT HAND_FONT PAGES [SEED]
//! (LAYOUT: one of the tuning layouts; HAND_FONT: a font file the fill-ins are written in)

use sohoa_protocol::classify::extract;
use sohoa_protocol::intake::MediaLimits;
use sohoa_worker::ocr::{self, Engine};
use sohoa_worker::samples::{self, Layout, Quality, DEFAULT_FACES, TUNING_FACES};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

const LIMITS: MediaLimits = MediaLimits { max_pixels: 60_000_000, max_pages: 10, max_scan_pixels: u64::MAX };
const QUALITIES: [Quality; 3] = [Quality::Clean, Quality::Ordinary, Quality::Poor];
const THREADS: usize = 2;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: ids LAYOUT HAND_FONT PAGES [SEED]";
    let layout = args.first().and_then(|l| Layout::parse(l)).ok_or_else(|| anyhow::anyhow!(usage))?;
    let hand = args.get(1).ok_or_else(|| anyhow::anyhow!(usage))?.clone();
    let pages: u64 = args.get(2).and_then(|n| n.parse().ok()).ok_or_else(|| anyhow::anyhow!(usage))?;
    let seed: u64 = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(700_000);
    let field = std::env::var("IDS_FIELD").unwrap_or_else(|_| "owner_id".to_owned());
    let catalog = sohoa_protocol::policy::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies"))?;
    let faces: Vec<_> = DEFAULT_FACES.iter().chain(&TUNING_FACES).copied().collect();
    // the types whose pages carry an owner's id
    let mut types: Vec<String> = catalog.doc_types.keys().map(|k| k.to_string()).collect();
    types.sort();
    types.retain(|t| {
        samples::generate_filled_by(&catalog, t, Quality::Clean, seed, faces[0], layout, &hand).is_ok_and(|s| s.fields.contains_key(&field))
    });
    anyhow::ensure!(!types.is_empty(), "no type carries {field}");

    let next = AtomicU64::new(0);
    let tally: Mutex<BTreeMap<String, (u32, u32)>> = Mutex::new(BTreeMap::new());
    let started = cpu_seconds();
    std::thread::scope(|scope| {
        let threads = std::env::var("IDS_THREADS").ok().and_then(|n| n.parse().ok()).unwrap_or(THREADS);
        for _ in 0..threads {
            scope.spawn(|| {
                let mut engine = Engine::new("vie").expect("the vie traineddata is installed");
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= pages {
                        break;
                    }
                    let (doc_type, quality) = (&types[i as usize % types.len()], QUALITIES[(i / types.len() as u64) as usize % 3]);
                    let face = faces[(i as usize * 3 + i as usize / faces.len()) % faces.len()];
                    let sample = samples::generate_filled_by(&catalog, doc_type, quality, seed + i, face, layout, &hand)
                        .expect("the sample fonts are installed");
                    let read = ocr::recognise(&mut engine, &[&sample.bytes], LIMITS, ocr::SERVICE_POLICY).expect("a page is read");
                    let text = ocr::text(&read);
                    let got = extract(&text).get(&field).map(|f| f.value.clone());
                    let truth = &sample.fields[&field];
                    let hit = got.as_deref() == Some(truth.as_str());
                    if !hit {
                        let shown = truth.get(..4).unwrap_or(truth);
                        let line = text
                            .lines()
                            .find(|l| l.contains(shown) || l.contains("CCCD") || l.contains("định danh") || l.contains("Mã số"))
                            .unwrap_or("");
                        println!("miss {doc_type} {quality:?} {} seed {}: {truth} read {got:?} from {line:?}", face.name, seed + i);
                    }
                    let mut tally = tally.lock().unwrap();
                    for key in [format!("{quality:?}").to_lowercase(), "all".to_owned()] {
                        let cell = tally.entry(key).or_default();
                        cell.0 += u32::from(hit);
                        cell.1 += 1;
                    }
                }
            });
        }
    });
    let cpu = cpu_seconds() - started;
    for (what, (hits, total)) in tally.into_inner().unwrap() {
        println!("{what:<10} {hits}/{total} ({:.2} %)", 100.0 * f64::from(hits) / f64::from(total));
    }
    println!("{:.2} CPU s a page", cpu / pages as f64);
    Ok(())
}

/// This process's user and system CPU time, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(") ").map(|(_, rest)| rest.split(' ').collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
