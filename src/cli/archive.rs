use super::EXIT_INPUT;
use crate::archive::{self, Archive, FixityReport};
use crate::config::Config;
use crate::index;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum ArchiveCommand {
    /// Re-hash every archived object and manifest, restore bad ones from the replica, keep
    /// the report; exit 0 clean, 1 problems found (restored or not), 2 error
    Fixity {
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: ArchiveCommand, config: Config) -> ExitCode {
    let ArchiveCommand::Fixity { json } = command;
    match fixity(&config).await {
        Ok(report) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            } else {
                print_report(&report);
            }
            if report.clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}

async fn fixity(config: &Config) -> anyhow::Result<FixityReport> {
    let index = index::open(&config.index_url).await?;
    let archive = Archive::open(config)?;
    let replica = config.archive_replica_url.as_deref().map(|url| Archive::open_url(url, config)).transpose()?;
    Ok(archive::audit(index.as_ref(), &archive, replica.as_ref()).await?)
}

fn print_report(r: &FixityReport) {
    println!("checked {}  ok {}  missing {}  corrupt {}  restored {}", r.checked, r.ok, r.missing, r.corrupt, r.restored);
    if r.replica.is_none() && !r.clean() {
        println!("no replica configured (archive_replica_url): nothing could be restored");
    }
    for p in &r.problems {
        println!("{:<8} {}{}", p.kind, p.key, if p.restored { "  (restored from the replica)" } else { "" });
    }
}
