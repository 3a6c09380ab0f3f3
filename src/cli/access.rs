//! `sohoa access report --owner ID [--agency A] [--json]`: who read an owner's records, when
//! and why, from the index; `sohoa access verify [--checkpoint F] [--key K]`: the access log
//! rebuilt from its entries and checked against its tree and a signed checkpoint.

use super::EXIT_INPUT;
use crate::config::Config;
use crate::domain::reads::ReadFilter;
use crate::domain::{vietnam_time, AgencyCode, CitizenId, EnterpriseCode};
use crate::index;
use crate::service::reads::Reads;
use crate::tlog::{Checkpoint, SignerKey, VerifierKey};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status when the access log does not verify.
const EXIT_FAILED: u8 = 1;

#[derive(clap::Subcommand)]
pub enum AccessCommand {
    /// Reads of an owner's records: who (token, role, agency), when, what and why
    Report {
        /// The owner: a citizen id or an enterprise code
        #[arg(long)]
        owner: String,
        /// Only reads of this agency's records; every agency's by default
        #[arg(long)]
        agency: Option<String>,
        /// Entries at most, newest first
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        /// Print the entries as JSON (as `GET /api/v1/owners/{id}/access` answers)
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the access log from its entries and check it against its stored tree and a
    /// signed checkpoint; exit 0 verified, 1 failed, 2 unreadable input
    Verify {
        /// A signed checkpoint of the access log (GET /api/v1/access/checkpoint) kept earlier
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The access log's verifier key (a file or the key); by default the public half of
        /// the configured `tlog_key` under the access log's name
        #[arg(long)]
        key: Option<String>,
    },
}

pub async fn run(command: AccessCommand, config: Config) -> ExitCode {
    match command {
        AccessCommand::Report { owner, agency, limit, json } => report(&config, owner, agency, limit, json).await,
        AccessCommand::Verify { checkpoint, key } => verify(&config, checkpoint, key).await,
    }
}

fn input_error(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_INPUT)
}

async fn report(config: &Config, owner: String, agency: Option<String>, limit: u32, json: bool) -> ExitCode {
    if CitizenId::parse(&owner).is_err() && EnterpriseCode::parse(&owner).is_err() {
        return input_error(format!("--owner {owner:?} is neither a citizen id nor an enterprise code"));
    }
    let record_agency = match agency.as_deref().map(AgencyCode::parse).transpose() {
        Ok(a) => a,
        Err(e) => return input_error(e),
    };
    let filter = ReadFilter { owner_id: owner.clone(), record_agency, before: None, limit: limit.max(1) };
    let entries = match index::open(&config.index_url).await {
        Ok(index) => Reads { index: index.as_ref() }.of_owner(&filter).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let entries = match entries {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot read the index: {e}");
            return ExitCode::FAILURE;
        }
    };
    if json {
        let rendered: Vec<_> = entries.iter().map(crate::api::render_read).collect();
        println!("{}", serde_json::json!({ "owner": owner, "entries": rendered }));
        return ExitCode::SUCCESS;
    }
    println!("Reads of the records of {owner}: {} (newest first)", entries.len());
    if entries.is_empty() {
        return ExitCode::SUCCESS;
    }
    println!(
        "{:>6}  {:<25}  {:<16}  {:<9}  {:<20}  {:<9}  {:<34}  purpose",
        "seq", "at", "reader agency", "role", "token", "read", "record"
    );
    for e in &entries {
        let r = &e.entry;
        let token = format!("{} {}", r.reader.token_id, r.reader.label);
        println!(
            "{:>6}  {:<25}  {:<16}  {:<9}  {:<20}  {:<9}  {:<34}  {}",
            e.seq,
            vietnam_time(r.at_ms),
            r.reader.agency,
            r.reader.role,
            token.chars().take(20).collect::<String>(),
            r.read.as_str(),
            r.record,
            r.purpose.as_deref().unwrap_or("-")
        );
    }
    ExitCode::SUCCESS
}

/// `--key` names a file holding the verifier key, or is the key; without it, the configured
/// log key's public half under the access log's name.
fn verifier(config: &Config, key: Option<String>) -> Result<VerifierKey, String> {
    match key {
        Some(arg) => {
            let text = if std::path::Path::new(&arg).is_file() {
                std::fs::read_to_string(&arg).map_err(|e| format!("cannot read {arg}: {e}"))?
            } else {
                arg
            };
            VerifierKey::parse(text.trim()).map_err(|e| format!("--key: {e} ({})", e.code()))
        }
        None => {
            let pem = std::fs::read(&config.tlog_key)
                .map_err(|e| format!("cannot read {} (setting `tlog_key`): {e}", config.tlog_key.display()))?;
            let key =
                SignerKey::from_pkcs8(&config.access_log_origin(), &pem).map_err(|e| format!("{}: {e}", config.tlog_key.display()))?;
            Ok(key.verifier())
        }
    }
}

async fn verify(config: &Config, checkpoint: Option<PathBuf>, key: Option<String>) -> ExitCode {
    let checkpoint = match checkpoint {
        Some(path) => {
            let opened = verifier(config, key).and_then(|key| {
                let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                Checkpoint::open(&bytes, &key).map_err(|e| format!("checkpoint {}: {e} ({})", path.display(), e.code()))
            });
            match opened {
                Ok(c) => Some(c),
                Err(why) => {
                    // A checkpoint the key did not sign proves nothing: that is a failed check.
                    println!("FAILED {why}");
                    return ExitCode::from(EXIT_FAILED);
                }
            }
        }
        None => None,
    };
    let check = match index::open(&config.index_url).await {
        Ok(index) => Reads { index: index.as_ref() }.check(checkpoint.as_ref()).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let check = match check {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot read the index: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !check.ok() {
        for problem in &check.problems {
            println!("FAILED {problem}");
        }
        if check.more_problems > 0 {
            println!("FAILED and {} more", check.more_problems);
        }
        return ExitCode::from(EXIT_FAILED);
    }
    println!("ok entries: {} hash to the {} leaves of the stored tree", check.entries, check.tree_size);
    match (&checkpoint, check.checkpoint_size) {
        (Some(c), Some(size)) => println!("ok checkpoint: {} at size {size} is the root of the first {size} entries", c.origin),
        _ => println!("no checkpoint given: entries changed together with the stored tree would pass; keep checkpoints to check against"),
    }
    ExitCode::SUCCESS
}
