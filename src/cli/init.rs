use crate::api::issue_token;
use crate::archive::Archive;
use crate::config::{Config, KeySource};
use crate::domain::Role;
use crate::{index, policy};
use std::fmt::Write;
use std::process::ExitCode;

/// Creates the index and archive, the transparency log key when missing, and on the first
/// run one demo token per role for the configured agency, printed once and kept in
/// `data/tokens.txt`.
pub async fn run(config: Config) -> ExitCode {
    match init(&config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn init(config: &Config) -> anyhow::Result<()> {
    let catalog = policy::load(&config.policies_dir)?;
    std::fs::create_dir_all(&config.data_dir)?;
    let index = index::open(&config.index_url).await?;
    Archive::open(config)?;
    if let KeySource::File(key) = &config.seal_key {
        let dir = key.parent().unwrap_or(std::path::Path::new("."));
        // Two `sohoa init` run at once over one directory (installations sharing the demo PKI)
        // would each write a root and seal over the other's: the PKI is written under a lock.
        std::fs::create_dir_all(dir)?;
        let lock = std::fs::File::create(dir.join(".init.lock"))?;
        lock.lock()?;
        if !key.exists() {
            // Demo certificates so that copies are sealed from the first run; a real agency
            // points `seal_key`/`seal_cert` at the certificate its CA issued.
            crate::pki::demo(dir)?;
            println!("demo PKI (root CA, agency seal, officials, TSA) written to {}", dir.display());
        }
        // Every other agency of the catalog gets a demo seal too, so that its copies are sealed.
        if dir.join("root.key").exists() {
            let others: Vec<(&str, &str)> = catalog
                .agencies
                .values()
                .filter(|a| a.code.as_str() != config.agency)
                .map(|a| (a.code.as_str(), a.name.as_str()))
                .collect();
            let written = crate::pki::demo_seals(dir, &config.seals_dir, &others, &crate::pki::Publication::default())?;
            if !written.is_empty() {
                println!("demo seals for {} other agencies written to {}", written.len() / 2, config.seals_dir.display());
            }
        }
    }
    if !config.tlog_key.exists() {
        let key = crate::tlog::SignerKey::generate(&config.log_origin())?;
        super::tlog::write_key(&key, &config.tlog_key)?;
        println!("transparency log key written to {}; its verifier key: {}", config.tlog_key.display(), key.verifier());
    }
    let tokens_file = config.data_dir.join("tokens.txt");
    if tokens_file.exists() {
        println!("{} already initialised; demo tokens are in {}", config.data_dir.display(), tokens_file.display());
        return Ok(());
    }
    let agency = crate::startup::home_agency(config, &catalog)?;
    let mut text = format!("# demo tokens for agency {} ({})\n", agency.code, agency.name);
    for role in Role::ALL {
        // The demo signer signs with the first demo official's key (officials_dir/official1.*).
        let label = if role == Role::Signer { "official1" } else { "demo" };
        let (_, secret) = issue_token(index.as_ref(), role, &agency.code, label).await?;
        writeln!(text, "{}={secret}", role.as_str().to_uppercase())?;
    }
    crate::startup::write_secret(&tokens_file, text.trim_end())?;
    println!("demo tokens (also in {}):\n{text}", tokens_file.display());
    Ok(())
}
