//! `sohoa-worker scan IN... --json [--policies DIR]`: OCR, classification and fields of one
//! scan as one JSON object, with the quarter turns each page was given.

use crate::ocr;
use serde_json::json;
use sohoa_protocol::classify::{extract, locate, Classifier};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ScanArgs {
    /// The pages of one scan: PNG, JPEG, TIFF or image-only PDF
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Print one JSON object (the default prints a summary)
    #[arg(long)]
    pub json: bool,
    /// The policy catalog that defines the document types
    #[arg(long, default_value = "policies")]
    pub policies: PathBuf,
    #[arg(long, default_value = "vie")]
    pub lang: String,
}

pub fn run(args: ScanArgs) -> ExitCode {
    let catalog = match sohoa_protocol::policy::load(&args.policies) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let (inputs, mut engine) = match super::inputs_and_engine(&args.inputs, &args.lang) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let slices: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let pages = match ocr::recognise(&mut engine, &slices, crate::run::LIMITS, ocr::SERVICE_POLICY) {
        Ok(pages) => pages,
        Err(e) => {
            eprintln!("error[{}]: {e}", e.code());
            if args.json {
                println!("{}", json!({ "error": { "code": e.code(), "message": e.to_string() } }));
            }
            return ExitCode::from(1);
        }
    };
    let texts: Vec<&str> = pages.iter().map(|p| p.text.as_str()).collect();
    let classification = Classifier::new(&catalog).classify(&texts);
    let text = ocr::text(&pages);
    let mut fields = extract(&text);
    // what an application form applies for, read from its title
    if let Some(subject) = classification.subject.clone() {
        fields.insert("subject".to_owned(), subject);
    }
    let words: Vec<(u32, &[ocr::Word])> = pages.iter().map(|p| (p.page, p.words.as_slice())).collect();
    locate(&mut fields, &text, &words);
    if args.json {
        let out = json!({
            "doc_type": classification.doc_type,
            "confidence": classification.confidence,
            "candidates": classification.candidates,
            "fields": fields,
            "pages": pages.len(),
            "quarter_turns": pages.iter().map(|p| p.quarter_turns).collect::<Vec<_>>(),
            "text": text,
        });
        println!("{out}");
    } else {
        println!("{} ({:.3}), {} page(s)", classification.doc_type, classification.confidence, pages.len());
        for (name, f) in &fields {
            println!("  {name:<16} {} ({:.2})", f.value, f.confidence);
        }
    }
    ExitCode::SUCCESS
}
