//! `sohoa-worker samples -o DIR`: generated scans with ground truth, for tests, benchmarks
//! and classification evaluation.

use crate::samples::{self, Quality};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct SamplesArgs {
    /// Directory to write `NNNN-TYPE-QUALITY.{png,jpg}` with `.txt` truth and `.json` labels
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
    #[arg(long, default_value = "policies")]
    pub policies: PathBuf,
}

pub fn run(args: SamplesArgs) -> ExitCode {
    let catalog = match sohoa::policy::load(&args.policies) {
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
        for i in 0..args.count {
            let doc_type = &types[(i as usize) % types.len()];
            let seed = args.seed.wrapping_mul(1_000_003).wrapping_add(n);
            let sample = match samples::generate(&catalog, doc_type, *quality, seed) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let quality_name = serde_json::to_value(quality).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            let stem = args.output.join(format!("{n:04}-{doc_type}-{quality_name}"));
            let labels = json!({
                "doc_type": sample.doc_type, "owner_id": sample.owner_id, "full_name": sample.full_name,
                "quality": quality, "dpi": sample.dpi, "skew": sample.skew, "seed": seed,
            });
            let written = std::fs::write(stem.with_extension(sample.extension), &sample.bytes)
                .and_then(|_| std::fs::write(stem.with_extension("txt"), format!("{}\n", sample.truth)))
                .and_then(|_| std::fs::write(stem.with_extension("json"), format!("{labels:#}\n")));
            if let Err(e) = written {
                eprintln!("error: cannot write {}: {e}", stem.display());
                return ExitCode::FAILURE;
            }
            n += 1;
        }
    }
    println!("{n} samples in {}", args.output.display());
    ExitCode::SUCCESS
}
