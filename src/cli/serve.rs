use super::EXIT_INPUT;
use crate::config::Config;
use crate::policy::{self, CatalogError};
use crate::startup::{shutdown_signal, Service};
use std::process::ExitCode;

pub async fn run(config: Config) -> ExitCode {
    // A bad catalog is the operator's input: the same report as `policy check`, exit 2.
    if let Err(e) = policy::load(&config.policies_dir) {
        eprintln!("error: refusing to start with a bad policy catalog");
        match e {
            CatalogError::Invalid(problems) => problems.iter().for_each(|p| eprintln!("{p}")),
            other => eprintln!("{other}"),
        }
        return ExitCode::from(EXIT_INPUT);
    }
    let service = match Service::build(&config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    match service.run(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
