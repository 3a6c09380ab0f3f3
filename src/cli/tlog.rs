use super::EXIT_INPUT;
use crate::tlog::{Checkpoint, ConsistencyProof, InclusionProof, NoteError, SignerKey, VerifierKey};
use clap::{Args, Subcommand};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Exit status when a signature or proof does not verify.
const EXIT_FAILED: u8 = 1;

#[derive(Subcommand)]
pub enum TlogCommand {
    /// Write a new log key: DIR/tlog.key (PKCS#8 PEM, owner-only) and DIR/tlog.pub (verifier key)
    Keygen {
        /// The log's name, its checkpoints' origin, e.g. sohoa.example/000.00.31.H29
        #[arg(long)]
        name: String,
        #[arg(short = 'o', long = "out")]
        dir: PathBuf,
    },
    /// Check a signed checkpoint, and optionally a record's inclusion and the log's
    /// consistency with an older checkpoint; exit 0 verified, 1 failed, 2 unreadable input
    Verify(VerifyArgs),
}

#[derive(Args)]
pub struct VerifyArgs {
    /// Signed checkpoint (as served by GET /api/v1/tlog/checkpoint)
    #[arg(long)]
    checkpoint: PathBuf,
    /// The log's verifier key: a file holding it, or the key itself
    #[arg(long)]
    key: String,
    /// Record id the inclusion proof must be about
    #[arg(long, requires = "proof")]
    record: Option<String>,
    /// Inclusion proof JSON (GET /api/v1/records/{id}/proof)
    #[arg(long, requires = "record")]
    proof: Option<PathBuf>,
    /// An earlier signed checkpoint of the same log
    #[arg(long, requires = "consistency")]
    old_checkpoint: Option<PathBuf>,
    /// Consistency proof JSON from the old checkpoint's size to this one's
    /// (GET /api/v1/tlog/consistency?from=&to=)
    #[arg(long, requires = "old_checkpoint")]
    consistency: Option<PathBuf>,
}

pub fn run(command: TlogCommand) -> ExitCode {
    match command {
        TlogCommand::Keygen { name, dir } => match keygen(&name, &dir) {
            Ok(vkey) => {
                println!("{vkey}");
                ExitCode::SUCCESS
            }
            Err(e) => input_error(e),
        },
        TlogCommand::Verify(args) => verify(&args),
    }
}

fn keygen(name: &str, dir: &Path) -> anyhow::Result<VerifierKey> {
    let key_file = dir.join("tlog.key");
    if key_file.exists() {
        anyhow::bail!("{} exists; refusing to replace a log key", key_file.display());
    }
    let key = SignerKey::generate(name)?;
    write_key(&key, &key_file)?;
    Ok(key.verifier())
}

/// Writes the key to `path` (owner-only) and its verifier key beside it, as `.pub`.
pub(crate) fn write_key(key: &SignerKey, path: &Path) -> std::io::Result<()> {
    crate::startup::write_secret(path, key.to_pkcs8_pem().trim_end())?;
    std::fs::write(path.with_extension("pub"), format!("{}\n", key.verifier()))
}

/// What went wrong: the input could not be read (exit 2) or a check failed (exit 1).
enum Failure {
    Input(String),
    Check(String),
}

fn verify(args: &VerifyArgs) -> ExitCode {
    match checks(args) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(Failure::Check(why)) => {
            println!("FAILED {why}");
            ExitCode::from(EXIT_FAILED)
        }
        Err(Failure::Input(why)) => input_error(why),
    }
}

fn checks(args: &VerifyArgs) -> Result<Vec<String>, Failure> {
    let key = read_key(&args.key)?;
    let checkpoint = open_checkpoint(&args.checkpoint, &key, "checkpoint")?;
    let mut ok = vec![format!("ok checkpoint: {} at size {}", checkpoint.origin, checkpoint.size)];
    if let (Some(record), Some(path)) = (&args.record, &args.proof) {
        let proof: InclusionProof = read_json(path)?;
        if &proof.record != record {
            return Err(Failure::Check(format!("inclusion: the proof is for record {}, not {record}", proof.record)));
        }
        if proof.tree_size != checkpoint.size {
            let why = format!("inclusion: the proof is for tree size {}, the checkpoint has {}", proof.tree_size, checkpoint.size);
            return Err(Failure::Check(why));
        }
        proof.verify(&checkpoint.root).map_err(|e| Failure::Check(format!("inclusion: {e} ({})", e.code())))?;
        ok.push(format!("ok inclusion: record {record} (manifest {}) is leaf {}", proof.manifest.prefixed(), proof.leaf_index));
    }
    if let (Some(old_path), Some(path)) = (&args.old_checkpoint, &args.consistency) {
        let old = open_checkpoint(old_path, &key, "old checkpoint")?;
        let proof: ConsistencyProof = read_json(path)?;
        if (proof.from, proof.to) != (old.size, checkpoint.size) {
            let why = format!(
                "consistency: the proof is from {} to {}, the checkpoints are {} and {}",
                proof.from, proof.to, old.size, checkpoint.size
            );
            return Err(Failure::Check(why));
        }
        proof.verify(&old.root, &checkpoint.root).map_err(|e| Failure::Check(format!("consistency: {e} ({})", e.code())))?;
        ok.push(format!("ok consistency: size {} extends size {}", checkpoint.size, old.size));
    }
    Ok(ok)
}

/// `--key` names a file holding the verifier key, or is the key.
fn read_key(arg: &str) -> Result<VerifierKey, Failure> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).map_err(|e| Failure::Input(format!("cannot read {arg}: {e}")))?
    } else {
        arg.to_owned()
    };
    VerifierKey::parse(text.trim()).map_err(|e| Failure::Input(format!("--key: {e} ({})", e.code())))
}

fn open_checkpoint(path: &Path, key: &VerifierKey, what: &str) -> Result<Checkpoint, Failure> {
    let bytes = std::fs::read(path).map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))?;
    Checkpoint::open(&bytes, key).map_err(|e| {
        let why = format!("{what} {}: {e} ({})", path.display(), e.code());
        match e {
            NoteError::Malformed(_) | NoteError::BadCheckpoint(_) | NoteError::BadKey(_) => Failure::Input(why),
            NoteError::UnknownKey { .. } | NoteError::BadSignature { .. } | NoteError::OriginMismatch { .. } => Failure::Check(why),
        }
    })
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, Failure> {
    let text = std::fs::read(path).map_err(|e| Failure::Input(format!("cannot read {}: {e}", path.display())))?;
    serde_json::from_slice(&text).map_err(|e| Failure::Input(format!("{}: {e}", path.display())))
}

fn input_error(e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_INPUT)
}
