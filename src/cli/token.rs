use super::EXIT_INPUT;
use crate::api::issue_scoped_token;
use crate::config::Config;
use crate::domain::{AgencyCode, Role};
use crate::index::{self, Scope};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret once
    Create {
        /// admin, scanner, signer, consumer, auditor, worker or operator
        #[arg(long)]
        role: String,
        /// Agency code, e.g. 000.00.31.H29
        #[arg(long)]
        agency: String,
        /// What the token is for; a worker token names its worker (its identity in job audit
        /// entries and record manifests), and a signer token the official's key
        #[arg(long, default_value = "")]
        label: String,
        /// For a consumer: another agency whose records it may read (repeat for more)
        #[arg(long = "read-agency")]
        read_agencies: Vec<String>,
        /// For a consumer: a document type it may read (repeat for more; every type when none)
        #[arg(long = "doc-type")]
        doc_types: Vec<String>,
        /// For a worker: a shared worker of the installation, running every agency's jobs
        #[arg(long)]
        every_agency: bool,
    },
    /// Revoke a token by its number (printed on standard error when it was created)
    Revoke { id: i64 },
}

pub async fn run(command: TokenCommand, config: Config) -> ExitCode {
    let (role, agency, label, read_agencies, doc_types, every_agency) = match command {
        TokenCommand::Create { role, agency, label, read_agencies, doc_types, every_agency } => {
            (role, agency, label, read_agencies, doc_types, every_agency)
        }
        TokenCommand::Revoke { id } => return revoke(&config, id).await,
    };
    let Some(role) = Role::parse(&role) else {
        eprintln!("error: unknown role {role:?}: use admin, scanner, signer, consumer, auditor, worker or operator");
        return ExitCode::from(EXIT_INPUT);
    };
    let agency = match AgencyCode::parse(&agency) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    if role == Role::Worker && label.trim().is_empty() {
        eprintln!("error: a worker token names its worker: give --label (e.g. the host and worker number)");
        return ExitCode::from(EXIT_INPUT);
    }
    if every_agency && role != Role::Worker {
        eprintln!("error: --every-agency is for worker tokens only");
        return ExitCode::from(EXIT_INPUT);
    }
    if let Err(e) = in_catalog(&config, &agency) {
        eprintln!("error: {e:#}");
        return ExitCode::from(EXIT_INPUT);
    }
    let scope = match scope(&config, role, read_agencies, doc_types) {
        Ok(scope) => Scope { every_agency, ..scope },
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let result = async {
        let index = index::open(&config.index_url).await?;
        issue_scoped_token(index.as_ref(), role, &agency, &label, &scope).await.map_err(anyhow::Error::from)
    };
    match result.await {
        Ok((id, secret)) => {
            eprintln!("token {id} ({role}, agency {agency}{})", if label.is_empty() { String::new() } else { format!(", {label}") });
            println!("{secret}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Revokes token `id`: every request with it is refused from then on.
async fn revoke(config: &Config, id: i64) -> ExitCode {
    let result = async { index::open(&config.index_url).await?.revoke_token(id).await.map_err(anyhow::Error::from) };
    match result.await {
        Ok(()) => {
            eprintln!("token {id} revoked");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A token for an agency the catalog does not list could act for nobody the service knows.
fn in_catalog(config: &Config, agency: &AgencyCode) -> anyhow::Result<()> {
    let catalog = crate::policy::load(&config.policies_dir)?;
    anyhow::ensure!(catalog.agencies.contains_key(agency), "agency {agency} is not in the policy catalog");
    Ok(())
}

/// A consumer's reading scope, checked against the policy catalog: only consumers have one.
fn scope(config: &Config, role: Role, agencies: Vec<String>, doc_types: Vec<String>) -> anyhow::Result<Scope> {
    if agencies.is_empty() && doc_types.is_empty() {
        return Ok(Scope::default());
    }
    anyhow::ensure!(role == Role::Consumer, "--read-agency and --doc-type are for consumer tokens only");
    let catalog = crate::policy::load(&config.policies_dir)?;
    for agency in &agencies {
        let code = AgencyCode::parse(agency)?;
        anyhow::ensure!(catalog.agencies.contains_key(&code), "agency {code} is not in the policy catalog");
    }
    for doc_type in &doc_types {
        anyhow::ensure!(catalog.doc_type(doc_type).is_some(), "document type {doc_type:?} is not in the policy catalog");
    }
    Ok(Scope { agencies, doc_types, every_agency: false })
}
