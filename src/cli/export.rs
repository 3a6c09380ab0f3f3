//! `sohoa export bagit (--dossier CODE | --owner ID [--type T]) -o DIR`.

use super::EXIT_INPUT;
use crate::archive::Archive;
use crate::config::Config;
use crate::domain::DossierCode;
use crate::export::{bagit_reporting, Selection};
use crate::index;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ExportCommand {
    /// A BagIt 1.0 bag (SHA-256 manifests) of records with their manifests and metadata
    Bagit(BagitArgs),
}

#[derive(Args)]
pub struct BagitArgs {
    /// Every record made for or reused by this dossier
    #[arg(long, conflicts_with_all = ["owner", "doc_type"], required_unless_present = "owner")]
    dossier: Option<String>,
    /// Every record of this owner (citizen id or enterprise code)
    #[arg(long)]
    owner: Option<String>,
    /// With --owner: only this document type
    #[arg(long = "type", requires = "owner")]
    doc_type: Option<String>,
    /// Directory to create for the bag; must not exist
    #[arg(short, long)]
    output: PathBuf,
}

pub async fn run(command: ExportCommand, config: Config) -> ExitCode {
    let ExportCommand::Bagit(args) = command;
    let selection = match (args.dossier, args.owner) {
        (Some(code), _) => match DossierCode::parse(&code) {
            Ok(code) => Selection::Dossier(code),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_INPUT);
            }
        },
        (None, Some(owner_id)) => Selection::Owner { owner_id, doc_type: args.doc_type },
        (None, None) => {
            eprintln!("error: name the records with --dossier or --owner");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let result = async {
        let index = index::open(&config.index_url).await.map_err(crate::export::ExportError::from)?;
        let archive = Archive::open(&config).map_err(crate::export::ExportError::from)?;
        let log_key = match std::fs::read(&config.tlog_key) {
            Ok(pem) => Some(
                crate::tlog::SignerKey::from_pkcs8(&config.log_origin(), &pem)
                    .map_err(|e| crate::export::ExportError::Log(format!("{}: {e}", config.tlog_key.display())))?,
            ),
            Err(_) => None,
        };
        let bar = super::progress_bar("export", "records");
        let progress = |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        };
        let bagged = bagit_reporting(index.as_ref(), &archive, log_key.as_ref(), &selection, &args.output, &progress).await;
        bar.finish_and_clear();
        bagged
    };
    match result.await {
        Ok(summary) => {
            println!(
                "bag written to {}: {} records, {} files, {} bytes",
                args.output.display(),
                summary.records,
                summary.files,
                summary.bytes
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            ExitCode::from(EXIT_INPUT)
        }
    }
}
