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
    /// Give every active record whose newest document time-stamp nears expiry (or that has
    /// none) validation data and a new document time-stamp, as a new version of the record;
    /// exit 0 all renewed, 1 some failed, 2 error
    Renew {
        /// Only list the records that are due
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(command: ArchiveCommand, config: Config) -> ExitCode {
    let json = match command {
        ArchiveCommand::Fixity { json } => json,
        ArchiveCommand::Renew { dry_run, json } => return renew(&config, dry_run, json).await,
    };
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
    let bar = super::progress_bar("fixity", "objects");
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let report = archive::audit_reporting(index.as_ref(), &archive, replica.as_ref(), &progress).await;
    bar.finish_and_clear();
    Ok(report?)
}

async fn renew(config: &Config, dry_run: bool, json: bool) -> ExitCode {
    let result = async {
        let tsa_url = config.tsa_url.clone().ok_or_else(|| anyhow::anyhow!("no time-stamp authority configured (tsa_url)"))?;
        let index = index::open(&config.index_url).await?;
        let archive = Archive::open(config)?;
        let revocation = crate::sign::ltv::Revocation { crls: Vec::new(), fetch: true };
        let renewal = crate::renewal::Renewal { tsa_url, margin: config.renewal_margin.0, revocation };
        Ok::<_, anyhow::Error>(crate::renewal::run(&index, &archive, &renewal, dry_run).await?)
    }
    .await;
    match result {
        Ok(report) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            } else {
                println!(
                    "checked {}  due {}  renewed {}  failed {}",
                    report.checked,
                    report.due.len(),
                    report.renewed.len(),
                    report.failed.len()
                );
                for (old, new) in &report.renewed {
                    println!("renewed {old} -> {new}");
                }
                for (id, code, message) in &report.failed {
                    println!("failed  {id} {code}: {message}");
                }
            }
            if report.failed.is_empty() {
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

fn print_report(r: &FixityReport) {
    println!(
        "checked {}  ok {}  missing {}  corrupt {}  restored {}  orphans {}",
        r.checked, r.ok, r.missing, r.corrupt, r.restored, r.orphans
    );
    if r.replica.is_none() && !r.clean() {
        println!("no replica configured (archive_replica_url): nothing could be restored");
    }
    for p in &r.problems {
        println!("{:<8} {}{}", p.kind, p.key, if p.restored { "  (restored from the replica)" } else { "" });
    }
}
