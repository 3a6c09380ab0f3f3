//! `sohoa-worker samples -o DIR`: generated scans with ground truth, for tests, benchmarks
//! and classification evaluation.

use crate::samples::{self, Layout, Quality, Sample, Unrelated};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct SamplesArgs {
    /// Directory to write `NNNN-TYPE-QUALITY.{png,jpg}` with `.txt` truth and `.json` labels
    /// (type, fields, quality, dpi, skew, seed, face and layout)
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Pages per quality
    #[arg(long, default_value_t = 1)]
    pub count: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// clean, ordinary, poor (comma-separated)
    #[arg(long, default_value = "clean,ordinary,poor")]
    pub quality: String,
    /// Document types (comma-separated); all types of the catalog by default
    #[arg(long)]
    pub types: Option<String>,
    /// Also this many out-of-scope pages per quality (news, advertisements, letters, blank
    /// paper), labelled `unknown`
    #[arg(long, default_value_t = 0)]
    pub out_of_scope: u64,
    /// Print documents in these faces in turn (comma-separated names, e.g. liberation-serif;
    /// `tuning` or `held-out` for all faces of that part) instead of the default faces
    #[arg(long)]
    pub face: Option<String>,
    /// Set documents in these layouts in turn (comma-separated: plain, table, dotted, filled, leaders,
    /// two-column, photocopy; `tuning` or `held-out` for all layouts of that part); plain by
    /// default. Out-of-scope pages are printed in the faces too, always plain.
    #[arg(long)]
    pub layout: Option<String>,
    #[arg(long, default_value = "policies")]
    pub policies: PathBuf,
    /// Instead of documents, `--count` pages per quality of a civil-status register book
    /// (`birth` or `death`): `NNNN-register-BOOK-QUALITY.{png,jpg}` with `.json` labels
    /// (`entries`: each entry's fields); with `--face held-out`, filled in by the held-out hand
    #[arg(long, value_name = "BOOK")]
    pub register: Option<String>,
}

/// The faces `--face` names, or the reason it names none.
fn faces(names: &str) -> Result<Vec<samples::Typeface>, String> {
    let all: Vec<samples::Typeface> =
        samples::DEFAULT_FACES.iter().chain(&samples::TUNING_FACES).chain(&samples::HELD_OUT_FACES).copied().collect();
    if names == "held-out" {
        return Ok(samples::HELD_OUT_FACES.to_vec());
    }
    if names == "tuning" {
        return Ok(samples::DEFAULT_FACES.iter().chain(&samples::TUNING_FACES).copied().collect());
    }
    names
        .split(',')
        .map(|n| {
            let known = || all.iter().map(|f| f.name).collect::<Vec<_>>().join(", ");
            all.iter().copied().find(|f| f.name == n.trim()).ok_or_else(|| format!("no face {n:?}: {}", known()))
        })
        .collect()
}

/// The layouts `--layout` names, or the reason it names none.
fn layouts(names: &str) -> Result<Vec<Layout>, String> {
    match names {
        "tuning" => return Ok(Layout::TUNING.to_vec()),
        "held-out" => return Ok(Layout::HELD_OUT.to_vec()),
        _ => {}
    }
    names
        .split(',')
        .map(|n| {
            let known = || Layout::ALL.iter().map(|l| l.name()).collect::<Vec<_>>().join(", ");
            Layout::parse(n.trim()).ok_or_else(|| format!("no layout {n:?}: {}", known()))
        })
        .collect()
}

pub fn run(args: SamplesArgs) -> ExitCode {
    let catalog = match sohoa_protocol::policy::load(&args.policies) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let qualities: Option<Vec<Quality>> = args.quality.split(',').map(|q| Quality::parse(q.trim())).collect();
    let Some(qualities) = qualities else {
        eprintln!("error: --quality takes clean, ordinary or poor");
        return ExitCode::from(2);
    };
    let faces = match args.face.as_deref().map(faces).transpose() {
        Ok(f) => f.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: --face: {e}");
            return ExitCode::from(2);
        }
    };
    let layouts = match args.layout.as_deref().map(layouts).transpose() {
        Ok(l) => l.unwrap_or_default(),
        Err(e) => {
            eprintln!("error: --layout: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(book) = &args.register {
        let book = match book.as_str() {
            "birth" => samples::Book::Births,
            "death" => samples::Book::Deaths,
            other => {
                eprintln!("error: --register takes birth or death, not {other:?}");
                return ExitCode::from(2);
            }
        };
        let held_out = args.face.as_deref() == Some("held-out");
        return register_pages(&args, book, &qualities, &faces, held_out);
    }
    let types: Vec<String> = match &args.types {
        Some(t) => t.split(',').map(|s| s.trim().to_owned()).collect(),
        None => catalog.doc_types.keys().map(|k| k.to_string()).collect(),
    };
    if let Err(e) = std::fs::create_dir_all(&args.output) {
        eprintln!("error: cannot create {}: {e}", args.output.display());
        return ExitCode::from(2);
    }
    let mut n = 0u64;
    for quality in &qualities {
        let documents = (0..args.count).map(|i| (types[(i as usize) % types.len()].clone(), None));
        let unrelated = (0..args.out_of_scope).map(|i| {
            let kind = Unrelated::ALL[(i as usize) % Unrelated::ALL.len()];
            (format!("{}-{}", sohoa_protocol::classify::UNKNOWN, kind.name()), Some(kind))
        });
        for (name, kind) in documents.chain(unrelated) {
            let seed = args.seed.wrapping_mul(1_000_003).wrapping_add(n);
            let face = (!faces.is_empty()).then(|| faces[(n as usize) % faces.len()]);
            let layout = (!layouts.is_empty()).then(|| layouts[(n as usize / faces.len().max(1)) % layouts.len()]);
            let sample = match (kind, layout) {
                (None, Some(layout)) => {
                    let face = face.unwrap_or(samples::DEFAULT_FACES[(n % 2) as usize]);
                    samples::generate_with(&catalog, &name, *quality, seed, face, layout)
                }
                (None, None) => samples::generate_in(&catalog, &name, *quality, seed, face),
                (Some(kind), _) => samples::generate_unrelated_in(kind, *quality, seed, face),
            };
            let sample = match sample {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let drawn = Drawn { quality: *quality, seed, face: face.map(|f| f.name), layout: layout.filter(|_| kind.is_none()) };
            if let Err(e) = write(&args.output, &format!("{n:04}-{name}"), &sample, drawn) {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
            n += 1;
        }
    }
    println!("{n} samples in {}", args.output.display());
    ExitCode::SUCCESS
}

/// Register pages of `book` in `faces` in turn (the default faces when none), each with
/// its entries' truth as labels.
fn register_pages(args: &SamplesArgs, book: samples::Book, qualities: &[Quality], faces: &[samples::Typeface], held_out: bool) -> ExitCode {
    if let Err(e) = std::fs::create_dir_all(&args.output) {
        eprintln!("error: cannot create {}: {e}", args.output.display());
        return ExitCode::from(2);
    }
    let faces = if faces.is_empty() { &samples::DEFAULT_FACES[..] } else { faces };
    let name = if book == samples::Book::Births { "birth" } else { "death" };
    let mut n = 0u64;
    for quality in qualities {
        for _ in 0..args.count {
            let seed = args.seed.wrapping_mul(1_000_003).wrapping_add(n);
            let face = faces[(n as usize) % faces.len()];
            let page = match samples::generate_register(book, *quality, seed, face, held_out) {
                Ok(page) => page,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let quality_name = serde_json::to_value(quality).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            let stem = args.output.join(format!("{n:04}-register-{name}-{quality_name}"));
            let labels = json!({
                "register": name, "entries": page.entries, "quality": quality, "dpi": page.dpi,
                "seed": seed, "face": face.name, "held_out": held_out,
            });
            let written = std::fs::write(stem.with_extension(page.extension), &page.bytes)
                .and_then(|_| std::fs::write(stem.with_extension("json"), format!("{labels:#}\n")));
            if let Err(e) = written {
                eprintln!("error: cannot write {}: {e}", stem.display());
                return ExitCode::FAILURE;
            }
            n += 1;
        }
    }
    println!("{n} register pages in {}", args.output.display());
    ExitCode::SUCCESS
}

/// How a sample was drawn: its labels beside the truth. `face` and `layout` are those asked
/// for (none when the generator chose a default face, or for an out-of-scope page's layout).
struct Drawn {
    quality: Quality,
    seed: u64,
    face: Option<&'static str>,
    layout: Option<Layout>,
}

/// The page, its truth text and its labels (`{"doc_type", "fields", ...}`, the shape of the
/// desk's corrections) beside each other.
fn write(dir: &std::path::Path, name: &str, sample: &Sample, drawn: Drawn) -> Result<(), String> {
    let Drawn { quality, seed, face, layout } = drawn;
    let quality_name = serde_json::to_value(quality).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    let stem = dir.join(format!("{name}-{quality_name}"));
    let labels = json!({
        "doc_type": sample.doc_type, "fields": sample.fields,
        "quality": quality, "dpi": sample.dpi, "skew": sample.skew, "seed": seed,
        "face": face, "layout": layout,
    });
    std::fs::write(stem.with_extension(sample.extension), &sample.bytes)
        .and_then(|_| std::fs::write(stem.with_extension("txt"), format!("{}\n", sample.truth)))
        .and_then(|_| std::fs::write(stem.with_extension("json"), format!("{labels:#}\n")))
        .map_err(|e| format!("cannot write {}: {e}", stem.display()))
}
