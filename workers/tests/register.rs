//! Civil-status register pages split into their entries: generated pages of birth and death
//! books (a printed heading, a ruled table filled in by hand, four to seven entries, an
//! owner's id written in about seven entries of ten) at three scan qualities are read by
//! `ocr::register::entries`. Two parts, as the classification quality test: pages printed
//! in the tuning faces and hand, and pages in faces and a hand nothing was tuned on; the
//! bounds that count are the held-out part's. `cargo test -- --nocapture` prints, per part
//! and scan quality, the pages split into the right number of entries and each field read
//! exactly; `SOHOA_REGISTER_SCALE=N` reads N times as many pages.

use sohoa_worker::ocr::{register, Engine};
use sohoa_worker::samples::{generate_register, Book, Quality, Typeface, HELD_OUT_FACES, TUNING_FACES};
use std::collections::BTreeMap;

const LIMITS: sohoa_protocol::intake::MediaLimits =
    sohoa_protocol::intake::MediaLimits { max_pixels: 60_000_000, max_pages: 10, max_scan_pixels: u64::MAX };
const QUALITIES: [Quality; 3] = [Quality::Clean, Quality::Ordinary, Quality::Poor];
const FIELDS: [&str; 6] = ["entry_number", "full_name", "date_of_birth", "date_of_death", "owner_id", "registration_date"];

/// Held-out bounds, set from the held-out figures less a margin.
const MIN_SPLIT: f64 = 0.9;
const MIN_FIELDS: f64 = 0.8;

#[derive(Default)]
struct Tally {
    pages: usize,
    split: usize,
    /// Per field: (read exactly, printed or read).
    fields: BTreeMap<&'static str, (usize, usize)>,
}

impl Tally {
    fn add(&mut self, truth: &[BTreeMap<String, String>], read: &[register::Entry]) {
        self.pages += 1;
        if truth.len() == read.len() {
            self.split += 1;
        }
        for (i, printed) in truth.iter().enumerate() {
            for field in FIELDS {
                let want = printed.get(field);
                let got = read.get(i).and_then(|e| e.fields.get(field)).map(|c| &c.value);
                if want.is_none() && got.is_none() {
                    continue;
                }
                let slot = self.fields.entry(field).or_default();
                slot.1 += 1;
                if want == got {
                    slot.0 += 1;
                } else {
                    eprintln!("  {field}: printed {want:?}, read {got:?}");
                }
            }
        }
    }

    fn field_rate(&self) -> f64 {
        let (hit, all) = self.fields.values().fold((0, 0), |(h, a), (x, y)| (h + x, a + y));
        hit as f64 / all.max(1) as f64
    }

    fn print(&self, name: &str) {
        let rate = |hit: usize, all: usize| 100.0 * hit as f64 / all.max(1) as f64;
        println!(
            "{name:<28} pages split right {:6.2} % ({}/{}), fields exact {:6.2} %",
            rate(self.split, self.pages),
            self.split,
            self.pages,
            100.0 * self.field_rate()
        );
        for (field, (hit, all)) in &self.fields {
            println!("  {field:<20} {:6.2} % ({hit}/{all})", rate(*hit, *all));
        }
    }
}

fn read_part(engine: &mut Engine, faces: &[Typeface], held_out: bool, seed: u64, scale: u64) -> BTreeMap<String, Tally> {
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut n = 0u64;
    for round in 0..scale {
        for (q, quality) in QUALITIES.iter().enumerate() {
            for book in Book::ALL {
                let face = faces[(n as usize) % faces.len()];
                let page =
                    generate_register(book, *quality, seed + round * 100 + q as u64 * 10 + n, face, held_out).expect("a generated page");
                n += 1;
                let entries = register::entries(engine, &[&page.bytes], LIMITS).expect("a register page is read");
                eprintln!(
                    "{book:?} {quality:?} {} at {} dpi: {} entries printed, {} read",
                    face.name,
                    page.dpi,
                    page.entries.len(),
                    entries.len()
                );
                for key in [format!("{quality:?}"), "all".to_owned()] {
                    tallies.entry(key).or_default().add(&page.entries, &entries);
                }
            }
        }
    }
    tallies
}

#[test]
fn register_pages_are_split_into_their_entries_with_their_fields() {
    std::env::set_var("OMP_THREAD_LIMIT", "1");
    let scale = std::env::var("SOHOA_REGISTER_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1u64);
    let mut engine = Engine::new("vie").expect("the vie model is installed");
    for (part, faces, held_out, seed) in [("tuning", &TUNING_FACES[..], false, 91_000), ("held-out", &HELD_OUT_FACES[..], true, 92_000)] {
        let tallies = read_part(&mut engine, faces, held_out, seed, scale);
        println!("== {part} part ==");
        for (name, tally) in &tallies {
            tally.print(name);
        }
        if held_out {
            let all = &tallies["all"];
            let split = all.split as f64 / all.pages as f64;
            assert!(split >= MIN_SPLIT, "held-out pages split right {split:.3} < {MIN_SPLIT}");
            assert!(all.field_rate() >= MIN_FIELDS, "held-out fields exact {:.3} < {MIN_FIELDS}", all.field_rate());
        }
    }
}
