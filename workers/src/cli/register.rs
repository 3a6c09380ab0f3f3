//! `sohoa-worker register IN... [--json]`: the entries of civil-status register pages, one
//! per ruled row, with their fields and where each row is on its page.

use crate::ocr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct RegisterArgs {
    /// Register pages: PNG, JPEG, TIFF or image-only PDF
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Print one JSON object (the default prints one line per entry)
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value = "vie")]
    pub lang: String,
}

pub fn run(args: RegisterArgs) -> ExitCode {
    let (inputs, mut engine) = match super::inputs_and_engine(&args.inputs, &args.lang) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let slices: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let entries = match ocr::register::entries(&mut engine, &slices, crate::run::LIMITS) {
        Ok(entries) => entries,
        Err(e) => {
            eprintln!("error[{}]: {e}", e.code());
            if args.json {
                println!("{}", serde_json::json!({ "error": { "code": e.code(), "message": e.to_string() } }));
            }
            return ExitCode::from(1);
        }
    };
    if args.json {
        println!("{}", serde_json::json!({ "entries": entries }));
    } else {
        for entry in &entries {
            let fields: Vec<String> = entry.fields.iter().map(|(name, cell)| format!("{name}={}", cell.value)).collect();
            println!("page {} row at y {}: {}", entry.page, entry.region.y, fields.join(", "));
        }
    }
    ExitCode::SUCCESS
}
