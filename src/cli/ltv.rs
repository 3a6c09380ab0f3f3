use super::EXIT_INPUT;
use crate::sign::ltv::{self, Revocation};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum LtvCommand {
    /// Add validation data (certificates, CRLs) for every signature in IN and a document
    /// time-stamp: PAdES B-LTA, or a renewal of an archived file's time-stamp chain
    Extend {
        input: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
        /// RFC 3161 time-stamp authority for the document time-stamp
        #[arg(long)]
        tsa: Option<String>,
        /// Only the DSS (B-LT), no document time-stamp
        #[arg(long, conflicts_with = "tsa")]
        no_timestamp: bool,
        #[command(flatten)]
        revocation: RevocationArgs,
    },
}

/// Where revocation data for a long-term signature comes from.
#[derive(clap::Args)]
pub struct RevocationArgs {
    /// CRL (DER or PEM) to embed; repeat. Others are fetched from the certificates'
    /// distribution points
    #[arg(long)]
    pub crl: Vec<PathBuf>,
    /// Do not fetch CRLs; only those given with --crl are embedded
    #[arg(long)]
    pub offline: bool,
}

impl RevocationArgs {
    pub fn load(&self) -> anyhow::Result<Revocation> {
        let mut crls = Vec::new();
        for path in &self.crl {
            let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            crls.push(ltv::pem_crl(&bytes).unwrap_or(bytes));
        }
        Ok(Revocation { crls, fetch: !self.offline })
    }
}

pub fn run(command: LtvCommand) -> ExitCode {
    let LtvCommand::Extend { input, output, tsa, no_timestamp, revocation } = command;
    let result = (|| {
        if tsa.is_none() && !no_timestamp {
            anyhow::bail!("--tsa URL is needed for the document time-stamp (or --no-timestamp for the DSS only)");
        }
        let revocation = revocation.load()?;
        extend(&input, &output, &revocation, tsa.as_deref())
    })();
    match result {
        Ok(()) => {
            eprintln!("extended: {}", output.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            match e.downcast_ref::<crate::sign::SignError>() {
                Some(s) => eprintln!("error: {e} ({})", s.code()),
                None => eprintln!("error: {e}"),
            }
            ExitCode::from(EXIT_INPUT)
        }
    }
}

/// Copies `input` to a partial file beside `output`, extends it, and renames it into place.
fn extend(input: &Path, output: &Path, revocation: &Revocation, tsa: Option<&str>) -> anyhow::Result<()> {
    super::sign::open_pdf(input)?;
    let tmp = output.with_extension("pdf.partial");
    std::fs::copy(input, &tmp).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    let done = super::runtime()?.block_on(ltv::extend_file(&tmp, revocation, tsa));
    if let Err(e) = done {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    std::fs::rename(&tmp, output).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", output.display()))?;
    Ok(())
}
