use super::EXIT_INPUT;
use crate::policy::{self, CatalogError};
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Report every problem in the catalog with file and line; exit 2 if any
    Check {
        #[arg(default_value = "policies")]
        dir: PathBuf,
    },
}

pub fn run(command: PolicyCommand) -> ExitCode {
    let PolicyCommand::Check { dir } = command;
    match policy::load(&dir) {
        Ok(c) => {
            println!(
                "{}: ok ({} agencies, {} document types, {} procedures, {} signing profiles, {} retention rules)",
                dir.display(),
                c.agencies.len(),
                c.doc_types.len(),
                c.procedures.len(),
                c.signing_profiles.len(),
                c.retention.len()
            );
            ExitCode::SUCCESS
        }
        Err(CatalogError::Invalid(problems)) => {
            for p in &problems {
                println!("{p}");
            }
            eprintln!("{} problem(s) in {}", problems.len(), dir.display());
            ExitCode::from(EXIT_INPUT)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}
