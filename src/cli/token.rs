use super::EXIT_INPUT;
use crate::api::issue_token;
use crate::config::Config;
use crate::domain::{AgencyCode, Role};
use crate::index;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret once
    Create {
        /// admin, scanner, signer, consumer, auditor or worker
        #[arg(long)]
        role: String,
        /// Agency code, e.g. 000.00.31.H29
        #[arg(long)]
        agency: String,
        #[arg(long, default_value = "")]
        label: String,
    },
}

pub async fn run(command: TokenCommand, config: Config) -> ExitCode {
    let TokenCommand::Create { role, agency, label } = command;
    let Some(role) = Role::parse(&role) else {
        eprintln!("error: unknown role {role:?}: use admin, scanner, signer, consumer, auditor or worker");
        return ExitCode::from(EXIT_INPUT);
    };
    let agency = match AgencyCode::parse(&agency) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_INPUT);
        }
    };
    let result = async {
        let index = index::open(&config.index_url).await?;
        issue_token(index.as_ref(), role, &agency, &label).await.map_err(anyhow::Error::from)
    };
    match result.await {
        Ok((_, secret)) => {
            println!("{secret}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
