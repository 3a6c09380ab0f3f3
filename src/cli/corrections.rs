//! `sohoa classify export-corrections -o DIR [--agency CODE] [--limit N]`: the desk's
//! corrections as labelled data for `sohoa classify eval`.

use super::EXIT_INPUT;
use crate::config::Config;
use crate::domain::AgencyCode;
use crate::index;
use serde_json::json;
use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct ExportArgs {
    /// Directory to write `scan-ID.json` and `scan-ID.ocr.txt` in (created when missing)
    #[arg(short, long)]
    output: PathBuf,
    /// The agency whose corrections to export; the configured agency by default
    #[arg(long)]
    agency: Option<String>,
    /// At most this many corrections, newest first (up to 1000)
    #[arg(long, default_value_t = 1000)]
    limit: u32,
}

pub async fn export(args: ExportArgs, config: Config) -> ExitCode {
    let agency = match AgencyCode::parse(args.agency.as_deref().unwrap_or(&config.agency)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    match write(&args, &agency, &config).await {
        Ok((written, skipped)) => {
            println!("{written} corrected scans in {} ({skipped} without recognised text)", args.output.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes the latest label of each corrected scan with the scan's recognised text (pages
/// separated by form feeds); scans without a recognition result are counted and skipped.
async fn write(args: &ExportArgs, agency: &AgencyCode, config: &Config) -> anyhow::Result<(usize, usize)> {
    use anyhow::Context;
    let index = index::open(&config.index_url).await.context("cannot open the index")?;
    let corrections = index.corrections(agency, args.limit).await?;
    std::fs::create_dir_all(&args.output).with_context(|| format!("cannot create {}", args.output.display()))?;
    let (mut written, mut skipped, mut seen) = (0, 0, HashSet::new());
    // newest first: the first correction of a scan is the label that stands
    for correction in corrections {
        if !seen.insert(correction.scan) {
            continue;
        }
        let Some(result) = index.scan_result(correction.scan).await? else {
            skipped += 1;
            continue;
        };
        let result = crate::custody::ScanResult::from_value(result).with_context(|| format!("scan {}'s result", correction.scan))?;
        let pages = result.texts();
        let label = json!({
            "doc_type": correction.label["doc_type"],
            "fields": correction.label.get("fields").cloned().unwrap_or_else(|| json!({})),
            "scan": correction.scan,
            "record": correction.new_record,
            "corrected_at_ms": correction.at_ms,
        });
        let stem = args.output.join(format!("scan-{}", correction.scan));
        std::fs::write(stem.with_extension("json"), format!("{label:#}\n"))
            .and_then(|_| std::fs::write(stem.with_extension("ocr.txt"), pages.join("\u{c}")))
            .with_context(|| format!("cannot write {}", stem.display()))?;
        written += 1;
    }
    Ok((written, skipped))
}
