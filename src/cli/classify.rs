//! `sohoa classify --text FILE [--json]`, `sohoa classify eval DIR` and
//! `sohoa classify export-corrections -o DIR`.

use crate::classify::{extract, Classifier, Label, Tally};
use crate::config::Config;
use clap::Subcommand;
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
    /// Accuracy, field exact matches and confusion matrix over a labelled directory:
    /// `NAME.json` holds {"doc_type": ..., "fields": {...}} ("unknown" for out-of-scope
    /// pages), `NAME.ocr.txt` or `NAME.txt` the text
    Eval { dir: PathBuf },
    /// The desk's corrections as a labelled directory for `eval`: `scan-ID.json` (the
    /// label) and `scan-ID.ocr.txt` (the scan's recognised text), the latest label per scan
    ExportCorrections(super::corrections::ExportArgs),
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
        (Some(ClassifyCommand::ExportCorrections(export)), _) => super::block_on(super::corrections::export(export, config)),
        (None, Some(path)) => match std::fs::read_to_string(&path) {
            Ok(text) => {
                let pages: Vec<&str> = text.split('\u{c}').collect();
                let got = classifier.classify(&pages);
                let fields = extract(&pages.join("\n\n"));
                if args.json {
                    let mut out = serde_json::to_value(&got).unwrap_or_default();
                    out["fields"] = serde_json::to_value(&fields).unwrap_or_default();
                    println!("{out}");
                } else {
                    println!("{} ({:.3})", got.doc_type, got.confidence);
                    if let Some(subject) = &got.subject {
                        println!("  subject: {}", subject.value);
                    }
                    for c in &got.candidates {
                        println!("  {:<32} {:>7.2}", c.doc_type, c.score);
                    }
                    for (name, f) in &fields {
                        println!("  {name}: {} ({:.2})", f.value, f.confidence);
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

/// The labelled scans of `dir`, by name: the label and the text (pages separated by form
/// feeds).
fn labelled(dir: &Path) -> std::io::Result<Vec<(Label, String)>> {
    let mut items = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries.into_iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
        let Ok(Ok(value)) = std::fs::read_to_string(&path).map(|t| serde_json::from_str::<serde_json::Value>(&t)) else { continue };
        let Some(label) = Label::from_json(&value) else { continue };
        let ocr = path.with_extension("ocr.txt");
        let text = std::fs::read_to_string(if ocr.exists() { ocr } else { path.with_extension("txt") })?;
        items.push((label, text));
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
    let mut tally = Tally::default();
    for (label, text) in &items {
        let pages: Vec<&str> = text.split('\u{c}').collect();
        let got = classifier.classify(&pages);
        let mut fields = extract(&pages.join("\n\n"));
        if let Some(subject) = got.subject {
            fields.insert("subject".to_owned(), subject);
        }
        tally.add(label, &got.doc_type, &fields);
    }
    print!("{}", tally.report());
    ExitCode::SUCCESS
}
