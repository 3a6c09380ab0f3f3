use clap::{Parser, Subcommand};
use sohoa_worker::cli::ocr::OcrArgs;
use sohoa_worker::cli::register::RegisterArgs;
use sohoa_worker::cli::samples::SamplesArgs;
use sohoa_worker::cli::scan::ScanArgs;
use sohoa_worker::client::Client;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "sohoa-worker", version, about = "Claims jobs from the sohoa API and processes them")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Base URL of the sohoa API
    #[arg(long, env = "SOHOA_API", default_value = "http://127.0.0.1:8080")]
    api: String,
    /// File holding a token with the worker role
    #[arg(long, env = "SOHOA_WORKER_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// Jobs processed at once, each with its own OCR engine
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Name in logs
    #[arg(long, default_value = "worker")]
    id: String,
    /// Tesseract languages
    #[arg(long, default_value = "vie")]
    lang: String,
}

#[derive(Subcommand)]
enum Command {
    /// Recognise scans into one searchable PDF
    Ocr(OcrArgs),
    /// Recognise, classify and extract fields of one scan
    Scan(ScanArgs),
    /// Generate scans of the catalog's document types with ground truth
    Samples(SamplesArgs),
    /// Read the entries of civil-status register pages, one per ruled row
    Register(RegisterArgs),
}

fn main() -> ExitCode {
    sohoa_worker::limit_openmp();
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    if args.command.is_some() {
        sohoa_worker::cli::end_quietly_on_closed_pipe();
    }
    match args.command {
        Some(Command::Ocr(ocr)) => sohoa_worker::cli::ocr::run(ocr),
        Some(Command::Scan(scan)) => sohoa_worker::cli::scan::run(scan),
        Some(Command::Samples(samples)) => sohoa_worker::cli::samples::run(samples),
        Some(Command::Register(register)) => sohoa_worker::cli::register::run(register),
        None => work(args),
    }
}

fn work(args: Args) -> ExitCode {
    sohoa_worker::lifeline::watch_from_env();
    let Some(token_file) = args.token_file else {
        eprintln!("error: --token-file (or SOHOA_WORKER_TOKEN_FILE) is required to take jobs");
        return ExitCode::from(2);
    };
    let token = match std::fs::read_to_string(&token_file) {
        Ok(t) => t.trim().to_owned(),
        Err(e) => {
            eprintln!("error: cannot read token file {}: {e}", token_file.display());
            return ExitCode::from(2);
        }
    };
    let client = match Client::new(&args.api, &token) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {},
            }
            tracing::info!("stopping after the current job");
            let _ = stop_tx.send(true);
        });
        sohoa_worker::run::run(client, args.id, args.threads, args.lang, stop_rx).await;
    });
    ExitCode::SUCCESS
}
