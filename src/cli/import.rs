//! `sohoa import --batch DIR [--csv FILE] [--agency CODE] --by NAME [--split-at-blank | --register birth|death]
//! [--dry-run] [--report PATH] [--ocr-timeout SECONDS | --no-ocr]`:
//! documents issued before the installation, sealed as `backfile` records in their issuing
//! agency's name. What a row leaves out (the owner's id, the type) is read from the pages by
//! the installation's workers, after the desk's scans; with `--register`, each row is a page of
//! a civil-status register book and each entry on it a record. Running the same batch again
//! resumes it.

use super::EXIT_INPUT;
use crate::archive::Archive;
use crate::config::Config;
use crate::domain::{vietnam_today, AgencyCode};
use crate::index;
use crate::intake::MediaLimits;
use crate::service::imports::ocr::Reader;
use crate::service::imports::report::{Outcome, Report, Totals};
use crate::service::imports::sheet::{self, Rules};
use crate::service::imports::{Batch, Book, Importer};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// Exit status when Ctrl-C stopped the batch before its end.
const EXIT_INTERRUPTED: u8 = 130;

#[derive(clap::Args)]
pub struct ImportArgs {
    /// Directory holding the batch's scans (PNG, JPEG, TIFF, PDF)
    #[arg(long)]
    batch: PathBuf,
    /// Metadata sheet (CSV) with the columns file, pages, owner_id, doc_type, number,
    /// issue_date, agency; without it, each file of the directory is a document, read by OCR
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Issuing agency of the rows that name none; the configured agency by default
    #[arg(long)]
    agency: Option<String>,
    /// Who digitized the batch (a person or a team), named in every record
    #[arg(long)]
    by: String,
    /// Show what would happen; write nothing
    #[arg(long)]
    dry_run: bool,
    /// Write the end report to PATH.csv and PATH.json
    #[arg(long)]
    report: Option<PathBuf>,
    /// A PDF that a row names without pages holds several documents, a blank page between
    /// each two: the rows naming it take them in turn (each its own document without a sheet)
    #[arg(long, conflicts_with = "register")]
    split_at_blank: bool,
    /// The files are pages of a civil-status register book, `birth` or `death`: each entry
    /// (a ruled row) becomes a record of the book's extract type, read by the workers; a
    /// sheet's rows then name only file, pages and agency
    #[arg(long, value_name = "BOOK", conflicts_with = "no_ocr")]
    register: Option<Book>,
    /// Documents worked on at a time
    #[arg(long, default_value_t = 4)]
    jobs: usize,
    /// Seconds the documents whose row lacks the owner's id or the type may wait for a worker
    /// to read them (the desk's workers, desk scans first) before the batch stops with
    /// `ocr_timeout`
    #[arg(long, default_value_t = 300)]
    ocr_timeout: u64,
    /// Flag the documents whose row lacks the owner's id or the type for review, without
    /// reading them
    #[arg(long)]
    no_ocr: bool,
}

pub async fn run(args: ImportArgs, config: Config) -> ExitCode {
    let batch = match open(&args, &config) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    match import(&args, &config, batch).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The batch, its rows read and checked; nothing is opened for writing yet.
fn open(args: &ImportArgs, config: &Config) -> anyhow::Result<(Batch, crate::policy::Catalog)> {
    use anyhow::Context;
    let agency = AgencyCode::parse(args.agency.as_deref().unwrap_or(&config.agency))?;
    let catalog =
        crate::policy::load(&config.policies_dir).with_context(|| format!("the policy catalog in {}", config.policies_dir.display()))?;
    anyhow::ensure!(catalog.agencies.contains_key(&agency), "agency {agency} is not in the policy catalog");
    anyhow::ensure!(!args.by.trim().is_empty(), "--by names who digitized the batch");
    anyhow::ensure!(args.batch.is_dir(), "{}: not a directory", args.batch.display());
    let (sheet_bytes, rows) = match &args.csv {
        Some(csv) => {
            let bytes = std::fs::read(csv).with_context(|| format!("cannot read {}", csv.display()))?;
            let text = std::str::from_utf8(&bytes).with_context(|| format!("{} is not UTF-8", csv.display()))?;
            let rules = Rules { catalog: &catalog, agency: &agency, today: vietnam_today() };
            let rows = sheet::read(text, &rules).with_context(|| format!("{}", csv.display()))?;
            (bytes, rows)
        }
        None => {
            let files = files_of(&args.batch)?;
            let rows = files.iter().enumerate().map(|(i, f)| Ok(sheet::bare(i as u32 + 1, f.clone(), &agency))).collect();
            (files.join("\n").into_bytes(), rows)
        }
    };
    let (rows, sheet_bytes) = match args.split_at_blank {
        true => {
            let rows = crate::service::imports::split(&args.batch, rows, args.csv.is_none(), limits(config), &catalog.scan_quality);
            // the same sheet read another way is another batch
            (rows, [sheet_bytes.as_slice(), b"\nsplit at blank pages"].concat())
        }
        false => (rows, sheet_bytes),
    };
    let (rows, sheet_bytes) = match args.register {
        Some(book) => {
            let rows = rows.into_iter().map(crate::service::imports::register_row).collect();
            // the same pages read as a register book are another batch
            (rows, [sheet_bytes.as_slice(), b"\nregister ", book.as_str().as_bytes()].concat())
        }
        None => (rows, sheet_bytes),
    };
    Ok((Batch::check(&args.batch, &sheet_bytes, &agency, rows), catalog))
}

/// The directory's scans by name: its files named as images or PDFs, hidden ones left out.
fn files_of(dir: &Path) -> anyhow::Result<Vec<String>> {
    const SCANS: [&str; 6] = ["png", "jpg", "jpeg", "tif", "tiff", "pdf"];
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let scan = Path::new(&name).extension().and_then(|e| e.to_str()).is_some_and(|e| SCANS.contains(&e.to_ascii_lowercase().as_str()));
        if entry.file_type()?.is_file() && !name.starts_with('.') && scan {
            files.push(name);
        }
    }
    files.sort();
    Ok(files)
}

async fn import(args: &ImportArgs, config: &Config, (batch, catalog): (Batch, crate::policy::Catalog)) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let index = index::open(&config.index_url).await.context("cannot open the index")?;
    let archive = Archive::open(config).context("cannot open the archive")?;
    let seals = crate::startup::agency_seals(config, &catalog)?;
    let mut importer = Importer::new(index.as_ref(), &archive, &catalog, &seals, limits(config), args.by.trim().to_owned());
    importer.dry_run = args.dry_run;
    importer.register = args.register;
    if !args.no_ocr {
        let timeout = std::time::Duration::from_secs(args.ocr_timeout);
        importer.reader = Some(Reader::new(index.as_ref(), &archive, config.max_attempts, timeout));
    }
    importer.claim_first_rows(&batch);
    let progress = importer.progress(&batch.id).await?;

    let bar = super::progress_bar("import", "documents");
    bar.set_length(batch.rows.len() as u64);
    let stop = AtomicBool::new(false);
    let pages = AtomicU64::new(0);
    let started = Instant::now();
    let rows = futures::stream::iter(&batch.rows).take_while(|_| std::future::ready(!stop.load(Ordering::SeqCst)));
    let work = rows
        .map(|row| {
            let earlier = row.as_ref().ok().and_then(|r| progress.get(&r.line));
            importer.import_rows(&batch, row, earlier)
        })
        .buffer_unordered(args.jobs.max(1))
        .inspect(|outcomes| {
            for outcome in outcomes.iter().filter(|o| !o.earlier) {
                let done = pages.fetch_add(u64::from(outcome.pages.unwrap_or(0)), Ordering::Relaxed);
                bar.set_message(format!("import {:.1} pages/s", done as f64 / started.elapsed().as_secs_f64().max(1e-3)));
            }
            bar.inc(1);
        })
        .collect::<Vec<Vec<Outcome>>>();
    tokio::pin!(work);
    let mut outcomes = tokio::select! {
        outcomes = &mut work => outcomes,
        _ = tokio::signal::ctrl_c() => {
            // Documents under way are finished; none is begun after this.
            stop.store(true, Ordering::SeqCst);
            work.await
        }
    };
    bar.finish_and_clear();
    let interrupted = outcomes.len() < batch.rows.len();
    let mut outcomes: Vec<Outcome> = outcomes.drain(..).flatten().collect();
    outcomes.sort_by_key(|o| (o.line, o.entry));

    let report = Report {
        batch: &batch.id,
        dry_run: args.dry_run,
        interrupted,
        totals: Totals::of(&outcomes),
        seconds: started.elapsed().as_secs_f64(),
        documents: &outcomes,
    };
    if let Some(path) = &args.report {
        write_report(path, &report)?;
    }
    print_summary(&report);
    Ok(if interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if report.totals.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn limits(config: &Config) -> MediaLimits {
    MediaLimits { max_pixels: config.max_pixels, max_pages: config.max_pdf_pages, max_scan_pixels: config.max_scan_pixels }
}

/// `PATH.csv` and `PATH.json` (an extension of `.csv` or `.json` on PATH is replaced).
fn write_report(path: &Path, report: &Report<'_>) -> anyhow::Result<()> {
    use anyhow::Context;
    let stem = match path.extension().and_then(|e| e.to_str()) {
        Some("csv" | "json") => path.with_extension(""),
        _ => path.to_owned(),
    };
    let csv = PathBuf::from(format!("{}.csv", stem.display()));
    let json = PathBuf::from(format!("{}.json", stem.display()));
    std::fs::write(&csv, report.to_csv()).with_context(|| format!("cannot write {}", csv.display()))?;
    std::fs::write(&json, report.to_json()).with_context(|| format!("cannot write {}", json.display()))?;
    Ok(())
}

fn print_summary(report: &Report<'_>) {
    let t = report.totals;
    let fresh = report.documents.iter().filter(|o| !o.earlier).count();
    let seconds = report.seconds.max(1e-3);
    for o in report.documents.iter().filter(|o| o.reason.is_some()) {
        println!("line {}: {} {}: {}", o.line, o.file, o.outcome.as_str(), o.reason.as_deref().unwrap_or_default());
    }
    let verb = if report.dry_run { "dry run, nothing written: would import" } else { "imported" };
    println!(
        "batch {}: {verb} {}, duplicates {}, flagged {}, failed {} ({} settled by an earlier run){}",
        report.batch,
        t.imported,
        t.duplicates,
        t.flagged,
        t.failed,
        t.earlier,
        if report.interrupted { "; interrupted: run it again to resume" } else { "" }
    );
    println!(
        "{fresh} documents, {} pages in {seconds:.1} s: {:.1} documents/s, {:.1} pages/s",
        t.pages,
        fresh as f64 / seconds,
        t.pages as f64 / seconds
    );
}
