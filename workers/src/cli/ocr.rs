//! `sohoa-worker ocr IN... -o OUT.pdf [--lang vie] [--text] [--json] [--redo-ocr | --force-ocr]`: the queue handler's
//! recognition, run on local files.

use crate::ocr;
use serde_json::json;
use sohoa_protocol::intake::MediaLimits;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct OcrArgs {
    /// Scans: PNG, JPEG, TIFF or image-only PDF; all pages go into one PDF
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Searchable PDF to write
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Tesseract languages, e.g. vie or vie+eng
    #[arg(long, default_value = "vie")]
    pub lang: String,
    /// Print the recognised text to standard output
    #[arg(long)]
    pub text: bool,
    /// Print each page's words, boxes and confidences as JSON to standard output
    #[arg(long)]
    pub json: bool,
    /// PDF pages that already carry text get the recognised words too (their invisible
    /// text removed first, their visible text kept)
    #[arg(long, conflicts_with = "redo_ocr")]
    pub force_ocr: bool,
    /// PDF pages with only invisible text (another recogniser's) get the recognised words in
    /// its place; pages with visible text keep it. Without either flag, a page that carries
    /// text keeps it and gets no layer.
    #[arg(long)]
    pub redo_ocr: bool,
    #[arg(long, default_value_t = 60_000_000)]
    pub max_pixels: u64,
    #[arg(long, default_value_t = 200)]
    pub max_pages: u32,
}

/// Exit 0 on success, 1 when a scan cannot be recognised (with its code), 2 on usage errors.
pub fn run(args: OcrArgs) -> ExitCode {
    if args.output.is_none() && !args.text && !args.json {
        eprintln!("error: nothing to do: give -o OUT.pdf, --text or --json");
        return ExitCode::from(2);
    }
    let (inputs, mut engine) = match super::inputs_and_engine(&args.inputs, &args.lang) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let limits = MediaLimits { max_pixels: args.max_pixels, max_pages: args.max_pages, max_scan_pixels: u64::MAX };
    let slices: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
    let policy = match (args.force_ocr, args.redo_ocr) {
        (true, _) => ocr::TextPolicy::Force,
        (_, true) => ocr::TextPolicy::Redo,
        _ => ocr::TextPolicy::Keep,
    };
    let recognised = ocr::recognise(&mut engine, &slices, limits, policy)
        .and_then(|pages| Ok((args.output.is_some().then(|| ocr::searchable_pdf(&slices, &pages, limits, policy)).transpose()?, pages)));
    let (pdf, pages) = match recognised {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error[{}]: {e}", e.code());
            if args.json {
                println!("{}", json!({ "error": { "code": e.code(), "message": e.to_string() } }));
            }
            return ExitCode::from(1);
        }
    };
    if let (Some(out), Some(pdf)) = (&args.output, &pdf) {
        if let Err(e) = write_atomically(out, pdf) {
            eprintln!("error: cannot write {}: {e}", out.display());
            return ExitCode::from(2);
        }
    }
    // a reader that stops early (`| head`) is not an error of the recognition
    let mut out = std::io::stdout().lock();
    if args.text {
        let _ = writeln!(out, "{}", ocr::text(&pages));
    }
    if args.json {
        let pages: Vec<serde_json::Value> = pages.iter().map(upright_json).collect();
        let _ = writeln!(out, "{}", json!({ "pages": pages }));
    }
    ExitCode::SUCCESS
}

/// A page as `--json` gives it: `width` and `height` are those of the upright page the word
/// boxes lie in; `scan_width` and `scan_height` those of the page as scanned.
fn upright_json(page: &ocr::PageText) -> serde_json::Value {
    let mut value = serde_json::to_value(page).unwrap_or_default();
    let (up_w, up_h) = if page.quarter_turns % 2 == 1 { (page.height, page.width) } else { (page.width, page.height) };
    if let Some(map) = value.as_object_mut() {
        map.insert("scan_width".into(), page.width.into());
        map.insert("scan_height".into(), page.height.into());
        map.insert("width".into(), up_w.into());
        map.insert("height".into(), up_h.into());
    }
    value
}

/// Writes beside the target and renames, so a reader never sees half a PDF.
fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("pdf.part");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
