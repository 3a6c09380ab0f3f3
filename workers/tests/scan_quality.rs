//! The scan quality gate on generated pages: pages degraded beyond reading (heavy blur,
//! 60-100 dpi, nearly blank, very dark, very light, text cut at an edge, strong skew) must
//! be flagged with the right finding, and ordinary pages (clean, ordinary and poor but
//! readable scans) must not be (false alarms at most 2 %). Pages go through the gate as an
//! upload does: encoded, read by `sohoa_protocol::pages`, measured against `policies/`.
//!
//! The limits were set on the tuning seeds in the default faces; the figures asserted and
//! printed (`-- --nocapture`) come from other seeds, printed in faces nothing was tuned on.
//! `SOHOA_GATE_PAGES=N` sets the ordinary pages of the held-out run (120 by default; the
//! degraded pages are an eighth of that per kind, at least 8); `SOHOA_GATE_TUNE=1` prints the
//! measures of the tuning seeds instead, by kind of page.

use image::codecs::jpeg::{JpegEncoder, PixelDensity};
use image::{GrayImage, ImageFormat, Luma};
use sohoa_protocol::intake::MediaLimits;
use sohoa_protocol::policy::{Catalog, ScanQuality};
use sohoa_protocol::quality::{assess, measure, Measures, Report};
use sohoa_worker::samples::{self, Quality, Rng, Typeface, Unrelated, DEFAULT_FACES, HELD_OUT_FACES, TUNING_FACES};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

const LIMITS: MediaLimits = MediaLimits { max_pixels: 60_000_000, max_pages: 200, max_scan_pixels: u64::MAX };
const QUALITIES: [Quality; 3] = [Quality::Clean, Quality::Ordinary, Quality::Poor];
const MAX_FALSE_ALARMS: f64 = 0.02;
const MIN_DETECTION: f64 = 0.95;
/// Seeds the limits were tuned on start here; held-out seeds start at `HELD_OUT_SEED`.
const TUNING_SEED: u64 = 1;
const HELD_OUT_SEED: u64 = 11_000_000;

/// How a page was spoiled, and the finding that must report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Spoil {
    Blur,
    LowDpi,
    NearlyBlank,
    Dark,
    Light,
    Cut,
    Skew,
}

impl Spoil {
    const ALL: [Spoil; 7] = [Spoil::Blur, Spoil::LowDpi, Spoil::NearlyBlank, Spoil::Dark, Spoil::Light, Spoil::Cut, Spoil::Skew];

    fn code(self) -> &'static str {
        match self {
            Spoil::Blur => "blurred",
            Spoil::LowDpi => "low_dpi",
            Spoil::NearlyBlank => "blank",
            Spoil::Dark => "too_dark",
            Spoil::Light => "too_light",
            Spoil::Cut => "text_cut",
            Spoil::Skew => "skewed",
        }
    }
}

fn catalog() -> Catalog {
    sohoa_protocol::policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")).unwrap()
}

fn doc_types(catalog: &Catalog) -> Vec<String> {
    catalog.doc_types.keys().map(|k| k.to_string()).collect()
}

fn decode(bytes: &[u8]) -> GrayImage {
    image::load_from_memory(bytes).unwrap().to_luma8()
}

fn jpeg(page: &GrayImage, dpi: u32, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut out, quality);
    encoder.set_pixel_density(PixelDensity::dpi(dpi as u16));
    encoder.encode_image(page).unwrap();
    out
}

fn png(page: &GrayImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    page.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// The box around everything printed on a white page: (left, top, right, bottom).
fn ink_box(page: &GrayImage) -> (u32, u32, u32, u32) {
    let (mut l, mut t, mut r, mut b) = (page.width(), page.height(), 0, 0);
    for (x, y, p) in page.enumerate_pixels() {
        if p[0] < 128 {
            (l, t, r, b) = (l.min(x), t.min(y), r.max(x), b.max(y));
        }
    }
    (l, t, r, b)
}

/// A page of `doc_type` spoiled by `spoil` beyond reading, as an upload's bytes.
fn spoiled(catalog: &Catalog, doc_type: &str, spoil: Spoil, seed: u64, face: Typeface) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ 0x5eed);
    let quality = if rng.below(2) == 0 { Quality::Clean } else { Quality::Ordinary };
    if spoil == Spoil::NearlyBlank {
        return samples::generate_unrelated(Unrelated::Blank, *rng.pick(&QUALITIES), seed).unwrap().bytes;
    }
    let sample = samples::generate_in(catalog, doc_type, quality, seed, Some(face)).unwrap();
    let dpi = sample.dpi;
    let page = decode(&sample.bytes);
    let mm = |v: f32| (v / 25.4 * dpi as f32).round() as u32;
    match spoil {
        Spoil::Blur => {
            let radius = rng.range(0.45, 0.8) / 25.4 * dpi as f32;
            jpeg(&image::imageops::fast_blur(&page, radius), dpi, 75)
        }
        Spoil::LowDpi => {
            let low = 60 + 5 * rng.below(9) as u32;
            let (w, h) = (page.width() * low / dpi, page.height() * low / dpi);
            let small = image::imageops::resize(&page, w, h, image::imageops::FilterType::Triangle);
            if rng.below(2) == 0 {
                jpeg(&small, low, 75)
            } else {
                png(&small)
            }
        }
        Spoil::Dark => {
            let k = rng.range(0.15, 0.35);
            let dark = GrayImage::from_fn(page.width(), page.height(), |x, y| Luma([(f32::from(page.get_pixel(x, y)[0]) * k) as u8]));
            jpeg(&dark, dpi, 75)
        }
        Spoil::Light => {
            let k = rng.range(0.08, 0.2);
            let light = GrayImage::from_fn(page.width(), page.height(), |x, y| {
                Luma([255 - ((255.0 - f32::from(page.get_pixel(x, y)[0])) * k) as u8])
            });
            jpeg(&light, dpi, 75)
        }
        Spoil::Cut => {
            // The edge runs through the text: a few millimetres into the lines at the left,
            // deeper at the right (lines end unevenly there), through the first or the last line.
            let (l, t, r, b) = ink_box(&page);
            let (w, h) = page.dimensions();
            let (x0, y0, x1, y1) = match rng.below(4) {
                0 => (l + mm(rng.range(3.0, 10.0)), 0, w, h),
                1 => (0, t + mm(rng.range(1.0, 2.0)), w, h),
                2 => (0, 0, r - mm(rng.range(30.0, 60.0)), h),
                _ => (0, 0, w, b - mm(rng.range(1.0, 2.0))),
            };
            let cut = image::imageops::crop_imm(&page, x0, y0, x1 - x0, y1 - y0).to_image();
            jpeg(&cut, dpi, 75)
        }
        Spoil::Skew => {
            let degrees = rng.range(8.0, 20.0) * if rng.below(2) == 0 { 1.0 } else { -1.0 };
            jpeg(&sohoa_worker::ocr::rotate(&page, degrees), dpi, 75)
        }
        Spoil::NearlyBlank => unreachable!(),
    }
}

/// What one run measured, by kind of page.
#[derive(Default)]
struct Tally {
    /// Ordinary pages by quality: (pages, flagged, the findings of the flagged ones).
    ordinary: BTreeMap<String, (usize, usize, Vec<String>)>,
    /// Spoiled pages by kind: (pages, caught with the right finding, findings of the missed).
    spoiled: BTreeMap<Spoil, (usize, usize, Vec<String>)>,
    /// Out-of-scope pages: (pages, flagged).
    unrelated: BTreeMap<String, (usize, usize)>,
    measures: BTreeMap<String, Vec<Measures>>,
    /// Seconds spent making pages and gating them.
    making: f64,
    gating: f64,
}

fn codes(report: &Report) -> Vec<String> {
    report.findings.iter().map(|f| format!("{}={}", f.code, f.value)).collect()
}

fn gate(bytes: &[u8], limits: &ScanQuality) -> Report {
    assess(bytes, LIMITS, limits)
}

/// The measures of a page, for tuning.
fn measures(bytes: &[u8]) -> Measures {
    let mut out = None;
    sohoa_protocol::pages::for_each(bytes, LIMITS, sohoa_protocol::pages::Want { pixels: true, original: false, text: None }, |p| {
        out = Some(measure(p.pixels.as_ref().unwrap(), p.dpi));
        Ok::<_, sohoa_protocol::pages::PageError>(())
    })
    .unwrap();
    out.unwrap()
}

enum Job {
    Ordinary { doc_type: String, quality: Quality, seed: u64, face: Option<Typeface> },
    Spoiled { doc_type: String, spoil: Spoil, seed: u64, face: Typeface },
    Unrelated { kind: Unrelated, quality: Quality, seed: u64 },
}

fn jobs(catalog: &Catalog, ordinary: usize, first_seed: u64, faces: &[Typeface], default_faces: bool) -> Vec<Job> {
    let types = doc_types(catalog);
    let mut jobs = Vec::new();
    for i in 0..ordinary {
        let seed = first_seed + i as u64;
        let face = (!default_faces).then(|| faces[i % faces.len()]);
        jobs.push(Job::Ordinary { doc_type: types[i % types.len()].clone(), quality: QUALITIES[i % 3], seed, face });
    }
    let per_kind = (ordinary / 8).max(8);
    for (k, spoil) in Spoil::ALL.into_iter().enumerate() {
        for i in 0..per_kind {
            let seed = first_seed + 100_000 + (k * per_kind + i) as u64;
            jobs.push(Job::Spoiled { doc_type: types[(i + k) % types.len()].clone(), spoil, seed, face: faces[i % faces.len()] });
        }
    }
    for (k, kind) in [Unrelated::News, Unrelated::Advertisement, Unrelated::Letter].into_iter().enumerate() {
        for i in 0..(ordinary / 40).max(3) {
            jobs.push(Job::Unrelated { kind, quality: QUALITIES[i % 3], seed: first_seed + 200_000 + (k * 100 + i) as u64 });
        }
    }
    jobs
}

fn run(catalog: &Catalog, jobs: Vec<Job>, tune: bool) -> Tally {
    let limits = catalog.scan_quality;
    let tally = Mutex::new(Tally::default());
    let queue = Mutex::new(jobs.into_iter());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some(job) = queue.lock().unwrap().next() else { break };
                let made = Instant::now();
                let (bytes, key) = match &job {
                    Job::Ordinary { doc_type, quality, seed, face } => {
                        (samples::generate_in(catalog, doc_type, *quality, *seed, *face).unwrap().bytes, format!("ordinary {quality:?}"))
                    }
                    Job::Spoiled { doc_type, spoil, seed, face } => {
                        (spoiled(catalog, doc_type, *spoil, *seed, *face), format!("spoiled {spoil:?}"))
                    }
                    Job::Unrelated { kind, quality, seed } => {
                        (samples::generate_unrelated(*kind, *quality, *seed).unwrap().bytes, format!("unrelated {}", kind.name()))
                    }
                };
                let making = made.elapsed().as_secs_f64();
                let gated = Instant::now();
                if tune {
                    let m = measures(&bytes);
                    let mut t = tally.lock().unwrap();
                    t.measures.entry(key).or_default().push(m);
                    t.making += making;
                    t.gating += gated.elapsed().as_secs_f64();
                    continue;
                }
                let report = gate(&bytes, &limits);
                let mut t = tally.lock().unwrap();
                t.making += making;
                t.gating += gated.elapsed().as_secs_f64();
                match &job {
                    Job::Ordinary { quality, .. } => {
                        let e = t.ordinary.entry(format!("{quality:?}")).or_default();
                        e.0 += 1;
                        if report.rescan_advised {
                            e.1 += 1;
                            e.2.push(format!("{}: {}", job_name(&job), codes(&report).join(" ")));
                        }
                    }
                    Job::Spoiled { spoil, .. } => {
                        let e = t.spoiled.entry(*spoil).or_default();
                        e.0 += 1;
                        if report.findings.iter().any(|f| f.code == spoil.code()) {
                            e.1 += 1;
                        } else {
                            e.2.push(format!("{}: {:?} {}", job_name(&job), report.pages.first(), codes(&report).join(" ")));
                        }
                    }
                    Job::Unrelated { kind, .. } => {
                        let e = t.unrelated.entry(kind.name().to_owned()).or_default();
                        e.0 += 1;
                        e.1 += usize::from(report.rescan_advised);
                    }
                }
            });
        }
    });
    tally.into_inner().unwrap()
}

fn job_name(job: &Job) -> String {
    match job {
        Job::Ordinary { doc_type, quality, seed, face } => {
            format!("{doc_type} {quality:?} seed {seed} {}", face.map_or("default", |f| f.name))
        }
        Job::Spoiled { doc_type, spoil, seed, face } => format!("{doc_type} {spoil:?} seed {seed} {}", face.name),
        Job::Unrelated { kind, quality, seed } => format!("{} {quality:?} seed {seed}", kind.name()),
    }
}

fn print_measures(tally: &Tally) {
    println!("making pages {:.0} s, gating them {:.0} s (both threads)", tally.making, tally.gating);
    for (key, ms) in &tally.measures {
        let col = |f: &dyn Fn(&Measures) -> Option<f32>| {
            let mut v: Vec<f32> = ms.iter().filter_map(f).collect();
            v.sort_by(f32::total_cmp);
            if v.is_empty() {
                return "-".to_owned();
            }
            let q = |p: f32| v[((v.len() - 1) as f32 * p).round() as usize];
            format!("{:.3}/{:.3}/{:.3}/{:.3}/{:.3} (n={})", q(0.0), q(0.05), q(0.5), q(0.95), q(1.0), v.len())
        };
        println!("{key}");
        println!("  dpi      {}", col(&|m| Some(m.dpi)));
        println!("  marks    {}", col(&|m| Some(m.marks)));
        println!("  paper    {}", col(&|m| Some(m.paper)));
        println!("  contrast {}", col(&|m| Some(m.contrast)));
        println!("  blur_mm  {}", col(&|m| m.blur_mm));
        println!("  |skew|   {}", col(&|m| m.skew.map(f32::abs)));
        println!("  cut max  {}", col(&|m| Some(*m.cut_marks.iter().max().unwrap() as f32)));
    }
}

#[test]
fn degraded_pages_are_flagged_and_ordinary_ones_are_not() {
    let catalog = catalog();
    let started = Instant::now();
    if std::env::var_os("SOHOA_GATE_TUNE").is_some() {
        let faces = DEFAULT_FACES;
        let pages = std::env::var("SOHOA_GATE_PAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(90);
        let tally = run(&catalog, jobs(&catalog, pages, TUNING_SEED, &faces, true), true);
        print_measures(&tally);
        return;
    }
    let ordinary: usize = std::env::var("SOHOA_GATE_PAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(120);
    let faces: Vec<Typeface> = HELD_OUT_FACES.iter().chain(TUNING_FACES.iter()).copied().collect();
    let tally = run(&catalog, jobs(&catalog, ordinary, HELD_OUT_SEED, &faces, false), false);

    let (mut pages, mut flagged) = (0, 0);
    println!("held-out pages (seeds from {HELD_OUT_SEED}, faces nothing was tuned on), limits {:?}", catalog.scan_quality);
    for (quality, (n, f, which)) in &tally.ordinary {
        println!("ordinary {quality}: {f} of {n} flagged");
        for w in which {
            println!("  false alarm: {w}");
        }
        pages += n;
        flagged += f;
    }
    let false_alarms = flagged as f64 / pages as f64;
    let (mut spoiled, mut caught) = (0, 0);
    for (spoil, (n, c, missed)) in &tally.spoiled {
        println!("spoiled {spoil:?} ({}): {c} of {n} caught", spoil.code());
        for m in missed {
            println!("  missed: {m}");
        }
        spoiled += n;
        caught += c;
        assert!(*c as f64 >= 0.9 * *n as f64, "{spoil:?}: only {c} of {n} caught");
    }
    for (kind, (n, f)) in &tally.unrelated {
        println!("out-of-scope {kind}: {f} of {n} flagged");
    }
    let detection = caught as f64 / spoiled as f64;
    println!("making pages {:.0} s, gating them {:.0} s (both threads)", tally.making, tally.gating);
    println!(
        "detection {:.1} % ({caught} of {spoiled}), false alarms {:.2} % ({flagged} of {pages}), {:.0} s",
        100.0 * detection,
        100.0 * false_alarms,
        started.elapsed().as_secs_f64()
    );
    assert!(pages >= 100 || ordinary < 100);
    assert!(false_alarms <= MAX_FALSE_ALARMS, "false alarms {false_alarms:.3}");
    assert!(detection >= MIN_DETECTION, "detection {detection:.3}");
}
