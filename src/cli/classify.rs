//! `sohoa classify --text FILE [--json]` and `sohoa classify eval DIR`.

use crate::classify::{Classifier, UNKNOWN};
use crate::config::Config;
use clap::Subcommand;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ClassifyArgs {
    /// Recognised text of a scan (pages separated by form feeds)
    #[arg(long)]
    text: Option<PathBuf>,
    /// Print the classification as JSON
    #[arg(long)]
    json: bool,
    #[command(subcommand)]
    command: Option<ClassifyCommand>,
}

#[derive(Subcommand)]
enum ClassifyCommand {
    /// Accuracy and confusion matrix over a labelled directory: `NAME.json` holds
    /// {"doc_type": ...} ("unknown" for out-of-scope pages), `NAME.ocr.txt` or `NAME.txt`
    /// the text
    Eval { dir: PathBuf },
}

pub fn run(args: ClassifyArgs, config: Config) -> ExitCode {
    let catalog = match crate::policy::load(&config.policies_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let classifier = Classifier::new(&catalog);
    match (args.command, args.text) {
        (Some(ClassifyCommand::Eval { dir }), _) => eval(&classifier, &dir),
        (None, Some(path)) => match std::fs::read_to_string(&path) {
            Ok(text) => {
                let pages: Vec<&str> = text.split('\u{c}').collect();
                let got = classifier.classify(&pages);
                if args.json {
                    println!("{}", serde_json::to_string(&got).unwrap_or_default());
                } else {
                    println!("{} ({:.3})", got.doc_type, got.confidence);
                    for c in &got.candidates {
                        println!("  {:<32} {:>7.2}", c.doc_type, c.score);
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                ExitCode::from(2)
            }
        },
        (None, None) => {
            eprintln!("error: give --text FILE or `eval DIR`");
            ExitCode::from(2)
        }
    }
}

fn labelled(dir: &Path) -> std::io::Result<Vec<(String, String)>> {
    let mut items = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let Ok(label) = std::fs::read_to_string(&path).map(|t| serde_json::from_str::<serde_json::Value>(&t)) else { continue };
        let Some(truth) = label.ok().and_then(|l| l["doc_type"].as_str().map(str::to_owned)) else { continue };
        let ocr = path.with_extension("ocr.txt");
        let text = std::fs::read_to_string(if ocr.exists() { ocr } else { path.with_extension("txt") })?;
        items.push((truth, text));
    }
    Ok(items)
}

fn eval(classifier: &Classifier, dir: &Path) -> ExitCode {
    let items = match labelled(dir) {
        Ok(items) if !items.is_empty() => items,
        Ok(_) => {
            eprintln!("error: no labelled scans (NAME.json with NAME.txt) in {}", dir.display());
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    };
    let mut confusion: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (truth, text) in &items {
        let pages: Vec<&str> = text.split('\u{c}').collect();
        let got = classifier.classify(&pages).doc_type;
        *confusion.entry((truth.clone(), got)).or_default() += 1;
    }
    let count = |pred: &dyn Fn(&str, &str) -> bool| confusion.iter().filter(|((t, g), _)| pred(t, g)).map(|(_, n)| n).sum::<usize>();
    let in_scope = count(&|t, _| t != UNKNOWN);
    let correct = count(&|t, g| t != UNKNOWN && t == g);
    let out_scope = count(&|t, _| t == UNKNOWN);
    let abstained = count(&|t, g| t == UNKNOWN && g == UNKNOWN);
    println!("scans: {} ({in_scope} in scope, {out_scope} out of scope)", items.len());
    if in_scope > 0 {
        println!("top-1 accuracy: {:.2} % ({correct}/{in_scope})", 100.0 * correct as f64 / in_scope as f64);
    }
    if out_scope > 0 {
        println!("out of scope answered unknown: {:.2} % ({abstained}/{out_scope})", 100.0 * abstained as f64 / out_scope as f64);
    }
    println!("confusion (truth -> classified: count), mistakes only:");
    for ((truth, got), n) in confusion.iter().filter(|((t, g), _)| t != g) {
        println!("  {truth:<32} -> {got:<32} {n}");
    }
    ExitCode::SUCCESS
}
