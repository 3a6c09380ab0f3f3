//! The `sohoa` command line; one file per subcommand.

mod classify;
mod init;
mod policy;
mod serve;
mod token;

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
    /// Prepare the data directory on first run: index, archive and demo tokens
    Init,
    /// Classify recognised text by document type, or evaluate over a labelled directory
    Classify(classify::ClassifyArgs),
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
    init_logging(&config.log);
    match cli.command {
        Command::Policy { command } => policy::run(command),
        Command::Serve => block_on(serve::run(config)),
        Command::Token { command } => block_on(token::run(command, config)),
        Command::Init => block_on(init::run(config)),
        Command::Classify(args) => classify::run(args, config),
    }
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
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
