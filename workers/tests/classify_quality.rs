//! Classification quality through the whole pipeline: generated pages of every catalog type
//! at three scan qualities, and out-of-scope pages, are recognised by the worker's engine,
//! classified and their fields extracted. Two parts (docs/decisions.md, "Held-out pages"):
//! the tuning part, in the faces and layouts the pipeline and the classifier were tuned on
//! (with forms of typed and of drawn leaders filled in by hand), and the held-out part, in other
//! faces (Liberation, FreeFont, a condensed face), other layouts (dotted leaders filled in
//! by hand with a red seal, the two-column header with folds and dark borders,
//! photocopies), other application-form titles and other out-of-scope pages (invoices,
//! menus). The bounds that count are the held-out part's: top-1 accuracy on documents,
//! `unknown` on out-of-scope pages, exact owner ids and enterprise codes (on every layout);
//! the tuning part keeps its own. `cargo test -- --nocapture` prints the figures per part,
//! scan quality, face and layout and the confusion matrices; `SOHOA_QUALITY_SCALE=N` runs N
//! times as many pages; with `SOHOA_QUALITY_OUT=DIR` each page's label and recognised text
//! are kept there as `NAME.json` and `NAME.ocr.txt`, for `sohoa classify eval DIR`;
//! `SOHOA_QUALITY_PART=tuning` runs the tuning part alone. Documents of two pages, scanned
//! page by page, are classified and their fields read as one (held-out faces).

use sohoa_protocol::classify::{extract, Classifier, FieldValue, Label, Tally};
use sohoa_protocol::intake::MediaLimits;
use sohoa_worker::ocr::{self, Engine};
use sohoa_worker::samples::{self, Layout, Quality, Typeface, Unrelated, DEFAULT_FACES, HELD_OUT_FACES, TUNING_FACES};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

const LIMITS: MediaLimits = MediaLimits { max_pixels: 60_000_000, max_pages: 200, max_scan_pixels: u64::MAX };
/// Pages of each document type in each part.
const TUNING_VARIANTS: u64 = 6;
const HELD_OUT_VARIANTS: u64 = 15;
/// Out-of-scope pages in each part.
const TUNING_UNRELATED: u64 = 12;
const HELD_OUT_UNRELATED: u64 = 36;
/// One engine per thread; the test machines have two cores.
const THREADS: usize = 2;

/// Held-out bounds: the targets where the held-out figures meet them, else those
/// figures less a margin: 99.65 % top-1 (the miss an abstention on a page whose title the
/// OCR lost), 100 % `unknown` out of scope, owner ids 98.60 % on these seeds and 96.84–97.19 %
/// on four other sets of seeds (`SOHOA_QUALITY_SEED_OFFSET` 200000 to 600000; 97.11 % of their
/// 1,140 pages), enterprise codes 100 % here and 93.33–100 % on the others (15 a run); the
/// owner id bound is the target, met here and not on every other set. docs/decisions.md, "Held-out pages",
/// "Fields", "A second reading of the owner's id", "An owner's id is read a second time by
/// the English model", "An id's strip spans the rows its value's ink fills" and "An
/// enterprise code is read again as an owner's id is".
const MIN_ACCURACY: f64 = 0.98;
const MIN_ABSTENTION: f64 = 0.95;
const MIN_ID_MATCH: f64 = 0.97;
const MIN_CODE_MATCH: f64 = 0.85;
/// Tuning bounds.
const TUNING_MIN_ACCURACY: f64 = 0.98;
const TUNING_MIN_ABSTENTION: f64 = 0.95;
const TUNING_MIN_ID_MATCH: f64 = 0.95;
/// Six enterprise codes: two lost where OCR broke the table cell holding them.
const TUNING_MIN_CODE_MATCH: f64 = 0.6;
/// Application forms' subjects read exactly, in either part (100 % in both).
const MIN_SUBJECT_MATCH: f64 = 0.9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Tuning,
    HeldOut,
}

enum Page {
    Document(String),
    Unrelated(Unrelated),
}

struct Case {
    part: Part,
    page: Page,
    quality: Quality,
    face: Option<Typeface>,
    layout: Layout,
    seed: u64,
}

impl Case {
    fn name(&self) -> String {
        let what = match &self.page {
            Page::Document(t) => t.clone(),
            Page::Unrelated(kind) => format!("unknown-{}", kind.name()),
        };
        let face = self.face.map_or("default", |f| f.name);
        format!("{what}-{:?}-{face}-{}-{}", self.quality, self.layout.name(), self.seed)
    }
}

const QUALITIES: [Quality; 3] = [Quality::Clean, Quality::Ordinary, Quality::Poor];

/// `SOHOA_QUALITY_SEED_OFFSET=N` draws every page from other seeds (N added to each): pages
/// never looked at, for figures after a change made by looking at the default seeds' misses.
fn seed_offset() -> u64 {
    std::env::var("SOHOA_QUALITY_SEED_OFFSET").ok().and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn scale() -> u64 {
    std::env::var("SOHOA_QUALITY_SCALE").ok().and_then(|s| s.parse().ok()).filter(|n| *n >= 1).unwrap_or(1)
}

fn cases(catalog: &sohoa_protocol::policy::Catalog) -> Vec<Case> {
    let mut types: Vec<String> = catalog.doc_types.keys().map(|k| k.to_string()).collect();
    types.sort();
    let tuning_faces: Vec<Typeface> = DEFAULT_FACES.iter().chain(&TUNING_FACES).copied().collect();
    let only_tuning = std::env::var("SOHOA_QUALITY_PART").is_ok_and(|p| p == "tuning");
    let mut cases = Vec::new();
    for (part, variants, faces, layouts, base) in [
        (Part::Tuning, TUNING_VARIANTS, tuning_faces.as_slice(), &Layout::TUNING[..], 10_000),
        (Part::HeldOut, HELD_OUT_VARIANTS, &HELD_OUT_FACES[..], &Layout::HELD_OUT[..], 50_000),
    ] {
        if only_tuning && part == Part::HeldOut {
            continue;
        }
        for (t, doc_type) in types.iter().enumerate() {
            for i in 0..variants * scale() {
                let n = i as usize + t;
                cases.push(Case {
                    part,
                    page: Page::Document(doc_type.clone()),
                    quality: QUALITIES[n % 3],
                    face: Some(faces[(i as usize + 5 * t) % faces.len()]),
                    layout: layouts[(n / 3) % layouts.len()],
                    seed: seed_offset() + base + 1000 * t as u64 + i,
                });
            }
        }
    }
    let tuning_kinds = [Unrelated::News, Unrelated::Advertisement, Unrelated::Letter, Unrelated::Blank];
    for i in 0..TUNING_UNRELATED * scale() {
        let kind = tuning_kinds[i as usize % tuning_kinds.len()];
        let page = Page::Unrelated(kind);
        cases.push(Case {
            part: Part::Tuning,
            page,
            quality: QUALITIES[i as usize % 3],
            face: None,
            layout: Layout::Plain,
            seed: seed_offset() + 90_000 + i,
        });
    }
    if !only_tuning {
        for i in 0..HELD_OUT_UNRELATED * scale() {
            let kind = Unrelated::ALL[i as usize % Unrelated::ALL.len()];
            let face = Some(HELD_OUT_FACES[i as usize % HELD_OUT_FACES.len()]);
            let (page, quality) = (Page::Unrelated(kind), QUALITIES[(i as usize / Unrelated::ALL.len()) % 3]);
            cases.push(Case { part: Part::HeldOut, page, quality, face, layout: Layout::Plain, seed: seed_offset() + 95_000 + i });
        }
    }
    cases
}

struct Outcome {
    case: usize,
    label: Label,
    classified: sohoa_protocol::classify::Classification,
    fields: BTreeMap<String, FieldValue>,
}

fn run(catalog: &sohoa_protocol::policy::Catalog, classifier: &Classifier, cases: &[Case]) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                let mut engine = Engine::new("vie").expect("the vie traineddata is installed by scripts/install-deps.sh");
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let sample = match (&case.page, case.face) {
                        (Page::Document(doc_type), Some(face)) => {
                            samples::generate_with(catalog, doc_type, case.quality, case.seed, face, case.layout)
                        }
                        (Page::Document(doc_type), None) => samples::generate(catalog, doc_type, case.quality, case.seed),
                        (Page::Unrelated(kind), face) => samples::generate_unrelated_in(*kind, case.quality, case.seed, face),
                    }
                    .expect("the sample fonts are installed by scripts/install-deps.sh");
                    let pages =
                        ocr::recognise(&mut engine, &[&sample.bytes], LIMITS, ocr::SERVICE_POLICY).expect("a generated page is recognised");
                    let texts: Vec<&str> = pages.iter().map(|p| p.text.as_str()).collect();
                    let classified = classifier.classify(&texts);
                    let mut fields = extract(&ocr::text(&pages));
                    if let Some(subject) = &classified.subject {
                        fields.insert("subject".to_owned(), subject.clone());
                    }
                    if let Some(dir) = std::env::var_os("SOHOA_QUALITY_OUT") {
                        keep(Path::new(&dir), &cases[i].name(), &sample, &pages);
                    }
                    let label = Label { doc_type: sample.doc_type, fields: sample.fields };
                    outcomes.lock().unwrap().push(Outcome { case: i, label, classified, fields });
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap();
    outcomes.sort_by_key(|o| o.case);
    outcomes
}

fn keep(dir: &Path, name: &str, sample: &samples::Sample, recognised: &[ocr::PageText]) {
    std::fs::create_dir_all(dir).unwrap();
    let label = serde_json::json!({ "doc_type": sample.doc_type, "fields": sample.fields });
    std::fs::write(dir.join(format!("{name}.json")), label.to_string()).unwrap();
    let pages: Vec<&str> = recognised.iter().map(|p| p.text.as_str()).collect();
    std::fs::write(dir.join(format!("{name}.ocr.txt")), pages.join("\u{c}")).unwrap();
    std::fs::write(dir.join(format!("{name}.txt")), &sample.truth).unwrap();
}

/// One row of a table of figures: top-1, `unknown` on out-of-scope pages, owner ids.
fn row(what: &str, tally: &Tally) -> String {
    let (a, u, id) = (tally.accuracy(), tally.abstention(), tally.field("owner_id"));
    let cell = |r: sohoa_protocol::classify::Rate| if r.total == 0 { format!("{:>18}", "-") } else { format!("{r:>18}") };
    format!("  {what:<26} {} {} {}", cell(a), cell(u), cell(id))
}

#[test]
fn generated_scans_are_classified_and_their_ids_read_within_bounds() {
    // libgomp reads the limit when it loads, before any test code: .cargo/config.toml sets it
    assert_eq!(std::env::var("OMP_THREAD_LIMIT").as_deref(), Ok("1"), "run through cargo, which sets OMP_THREAD_LIMIT");
    let catalog = sohoa_protocol::policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")).unwrap();
    let classifier = Classifier::new(&catalog);
    let cases = cases(&catalog);
    let started = Instant::now();
    let outcomes = run(&catalog, &classifier, &cases);
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(outcomes.len(), cases.len());

    let mut parts: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut rows: BTreeMap<String, Tally> = BTreeMap::new();
    for o in &outcomes {
        let case = &cases[o.case];
        let part = if case.part == Part::Tuning { "tuning" } else { "held-out" };
        let add = |tally: &mut Tally| tally.add(&o.label, &o.classified.doc_type, &o.fields);
        add(parts.entry(part).or_default());
        add(rows.entry(format!("{part} quality {:?}", case.quality).to_lowercase()).or_default());
        add(rows.entry(format!("{part} face {}", case.face.map_or("default", |f| f.name))).or_default());
        if matches!(case.page, Page::Document(_)) {
            add(rows.entry(format!("{part} layout {}", case.layout.name())).or_default());
        }
        if o.classified.doc_type != o.label.doc_type {
            let candidates: Vec<String> = o.classified.candidates.iter().map(|c| format!("{} {:.1}", c.doc_type, c.score)).collect();
            println!(
                "misclassified {} as {} ({:.3}; {})",
                case.name(),
                o.classified.doc_type,
                o.classified.confidence,
                candidates.join(", ")
            );
        }
    }
    for (part, tally) in &parts {
        println!("== {part} part ==\n{}", tally.report());
    }
    println!("{:<28} {:>18} {:>18} {:>18}", "", "top-1", "out of scope unknown", "owner id exact");
    for part in ["held-out", "tuning"] {
        for (what, tally) in rows.iter().filter(|(k, _)| k.starts_with(part)) {
            println!("{}", row(what, tally));
        }
        if let Some(tally) = parts.get(part) {
            println!("{}", row(&format!("{part} all"), tally));
        }
    }
    for (part, tally) in &parts {
        println!("  {part} enterprise codes {}", tally.field("enterprise_code"));
    }
    println!("{} pages in {elapsed:.0} s ({:.2} s a page, {THREADS} threads)", cases.len(), elapsed / cases.len() as f64);

    let bounds = [
        ("tuning", TUNING_MIN_ACCURACY, TUNING_MIN_ABSTENTION, TUNING_MIN_ID_MATCH, TUNING_MIN_CODE_MATCH),
        ("held-out", MIN_ACCURACY, MIN_ABSTENTION, MIN_ID_MATCH, MIN_CODE_MATCH),
    ];
    for (part, min_accuracy, min_abstention, min_ids, min_codes) in bounds {
        let Some(tally) = parts.get(part) else { continue };
        let (accuracy, abstention) = (tally.accuracy(), tally.abstention());
        let ids = tally.field("owner_id");
        let codes = tally.field("enterprise_code");
        assert!(accuracy.total >= 6 * catalog.doc_types.len() && abstention.total >= 12 && ids.total > 0 && codes.total > 0);
        assert!(accuracy.ratio() >= min_accuracy, "{part}: top-1 accuracy {accuracy} below {min_accuracy}");
        assert!(abstention.ratio() >= min_abstention, "{part}: out of scope answered unknown {abstention} below {min_abstention}");
        assert!(ids.ratio() >= min_ids, "{part}: owner ids read exactly {ids} below {min_ids}");
        assert!(codes.ratio() >= min_codes, "{part}: enterprise codes read exactly {codes} below {min_codes}");
        // the tuning part has three forms: one subject misread there (a "6" for a "G", as
        // other seeds give) is one page, not a rate, and is let pass
        let subjects = tally.field("subject");
        let misses_allowed = if subjects.total < 10 { 1 } else { 0 };
        assert!(
            subjects.total > 0 && (subjects.ratio() >= MIN_SUBJECT_MATCH || subjects.total - subjects.hits <= misses_allowed),
            "{part}: subjects read exactly {subjects}"
        );
    }
}

/// Documents of two pages, each page scanned apart, held-out faces: the first page carries
/// the title and the fields, the second numbered terms and the date of issue. Half are
/// handed in last page first, as a scanner fed the wrong way round does.
const DOCUMENTS_OF_TWO_PAGES: u64 = 2;
/// Bounds for documents of two pages (19 in each order): measured 100 % and 94.7 % top-1
/// (a title read as "GIẤY XÁC TÌNH TRẠNG HÔN NHÂN" abstains), owner ids 84.2 % in order
/// (Liberation Mono's figures, as on single pages), less a margin for so few documents.
const MIN_PAGES_ACCURACY: f64 = 0.9;
const MIN_PAGES_ID_MATCH: f64 = 0.75;

#[test]
fn documents_of_several_pages_are_classified_as_one() {
    let catalog = sohoa_protocol::policy::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")).unwrap();
    let classifier = Classifier::new(&catalog);
    let mut types: Vec<String> = catalog.doc_types.keys().map(|k| k.to_string()).collect();
    types.sort();
    let mut engine = Engine::new("vie").expect("the vie traineddata is installed by scripts/install-deps.sh");
    let mut tally = Tally::default();
    let mut reversed = Tally::default();
    for (t, doc_type) in types.iter().enumerate() {
        for i in 0..DOCUMENTS_OF_TWO_PAGES * scale() {
            let n = t + i as usize;
            let face = HELD_OUT_FACES[n % HELD_OUT_FACES.len()];
            let seed = 70_000 + 1000 * t as u64 + i;
            let mut pages = samples::generate_pages(&catalog, doc_type, QUALITIES[n % 3], seed, Some(face), 2).unwrap();
            let backwards = n % 2 == 1;
            if backwards {
                pages.reverse();
            }
            let inputs: Vec<&[u8]> = pages.iter().map(|p| p.bytes.as_slice()).collect();
            let recognised = ocr::recognise(&mut engine, &inputs, LIMITS, ocr::SERVICE_POLICY).expect("generated pages are recognised");
            assert_eq!(recognised.len(), 2);
            let texts: Vec<&str> = recognised.iter().map(|p| p.text.as_str()).collect();
            let classified = classifier.classify(&texts);
            let fields = extract(&ocr::text(&recognised));
            let label = Label { doc_type: pages[0].doc_type.clone(), fields: pages[0].fields.clone() };
            if classified.doc_type != label.doc_type {
                println!(
                    "two pages of {doc_type} ({}, seed {seed}, backwards {backwards}) classified as {} ({:.3}; {:?}):\n{}",
                    face.name,
                    classified.doc_type,
                    classified.confidence,
                    classified.candidates,
                    texts.join("\n--\n")
                );
            }
            let id = fields.get("owner_id").map(|f| f.value.as_str());
            if id != label.fields.get("owner_id").map(String::as_str) {
                println!("two pages of {doc_type} ({}, seed {seed}, backwards {backwards}): owner id {id:?}", face.name);
            }
            let into = if backwards { &mut reversed } else { &mut tally };
            into.add(&label, &classified.doc_type, &fields);
        }
    }
    for (what, t) in [("in order", &tally), ("last page first", &reversed)] {
        println!(
            "documents of two pages, {what}: top-1 {}, owner id {}, date of issue (last page) {}",
            t.accuracy(),
            t.field("owner_id"),
            t.field("issue_date")
        );
        assert!(t.accuracy().ratio() >= MIN_PAGES_ACCURACY, "documents of two pages, {what}: top-1 {}", t.accuracy());
        assert!(t.field("owner_id").ratio() >= MIN_PAGES_ID_MATCH, "documents of two pages, {what}: owner ids {}", t.field("owner_id"));
    }
}
