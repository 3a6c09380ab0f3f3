//! The `sohoa` command line; one file per subcommand.

mod access;
mod archive;
mod classify;
mod corrections;
mod export;
mod import;
mod init;
mod ltv;
mod pki;
mod policy;
mod serve;
mod sign;
mod stats;
mod tlog;
mod token;
mod tsa;
mod verify;

use crate::config::Config;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "sohoa", version, about = "Digitize one-stop desk dossiers and keep their signed results reusable")]
pub struct Cli {
    /// Config file (default: ./sohoa.toml when present)
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API and the supervised local workers
    Serve,
    /// Check the policy catalog
    Policy {
        #[command(subcommand)]
        command: policy::PolicyCommand,
    },
    /// Manage API tokens
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// Audit the archive
    Archive {
        #[command(subcommand)]
        command: archive::ArchiveCommand,
    },
    /// Prepare the data directory on first run: index, archive and demo tokens
    Init,
    /// Classify recognised text by document type, or evaluate over a labelled directory
    Classify(classify::ClassifyArgs),
    /// Demo certificates
    Pki {
        #[command(subcommand)]
        command: pki::PkiCommand,
    },
    /// Long-term validation: add validation data and document time-stamps to signed PDFs
    Ltv {
        #[command(subcommand)]
        command: ltv::LtvCommand,
    },
    /// Sign a PDF (PAdES B-B, B-T, B-LT or B-LTA) as an incremental update
    Sign(sign::SignArgs),
    /// Verify every signature in a PDF; exit 0 all valid, 1 any invalid, 2 unreadable
    Verify(verify::VerifyArgs),
    /// Export records for auditors and other archives
    Export {
        #[command(subcommand)]
        command: export::ExportCommand,
    },
    /// RFC 3161 time-stamp authority for tests and demos
    Tsa {
        #[command(subcommand)]
        command: tsa::TsaCommand,
    },
    /// Service indicators from the index
    Stats {
        #[command(subcommand)]
        command: stats::StatsCommand,
    },
    /// Reads of records: an owner's report, and the access log's verification
    Access {
        #[command(subcommand)]
        command: access::AccessCommand,
    },
    /// Import a batch of documents issued before the installation, as sealed `backfile` records
    Import(import::ImportArgs),
    /// Transparency log keys and offline verification of checkpoints and proofs
    Tlog {
        #[command(subcommand)]
        command: tlog::TlogCommand,
    },
}

/// Exit status for bad input or a bad catalog.
pub const EXIT_INPUT: u8 = 2;

pub fn run(cli: Cli) -> ExitCode {
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    init_logging(&config.log, config.log_format);
    match cli.command {
        Command::Policy { command } => policy::run(command),
        Command::Serve => block_on(serve::run(config)),
        Command::Token { command } => block_on(token::run(command, config)),
        Command::Init => block_on(init::run(config)),
        Command::Archive { command } => block_on(archive::run(command, config)),
        Command::Classify(args) => classify::run(args, config),
        Command::Pki { command } => pki::run(command),
        Command::Sign(args) => sign::run(args),
        Command::Ltv { command } => ltv::run(command),
        Command::Verify(args) => verify::run(args),
        Command::Tsa { command } => block_on(tsa::run(command)),
        Command::Export { command } => block_on(export::run(command, config)),
        Command::Stats { command } => block_on(stats::run(command, config)),
        Command::Tlog { command } => tlog::run(command),
        Command::Access { command } => block_on(access::run(command, config)),
        Command::Import(args) => block_on(import::run(args, config)),
    }
}

fn init_logging(default: &str, format: crate::config::LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let lines = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        crate::config::LogFormat::Text => lines.try_init(),
        crate::config::LogFormat::Json => lines.json().with_span_list(true).with_current_span(false).try_init(),
    };
}

/// A progress bar for long work on `unit`s, drawn on stderr when it is a terminal and not
/// at all otherwise; the command's report goes to stdout either way.
fn progress_bar(what: &'static str, unit: &str) -> indicatif::ProgressBar {
    let template = format!("{{msg}} {{bar:40}} {{pos}}/{{len}} {unit}, {{per_sec}}, {{eta}} left");
    let style = indicatif::ProgressStyle::with_template(&template).unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    let bar = indicatif::ProgressBar::new(0).with_style(style);
    bar.set_message(what);
    bar
}

/// A runtime for the few blocking commands that make one HTTP call (the TSA client).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

fn block_on(f: impl std::future::Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Runtime::new() {
        Ok(rt) => rt.block_on(f),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
