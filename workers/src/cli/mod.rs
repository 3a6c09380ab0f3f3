//! Subcommands of `sohoa-worker` besides the default claim loop.

pub mod ocr;
pub mod register;
pub mod samples;
pub mod scan;

use crate::ocr::Engine;
use std::path::PathBuf;
use std::process::ExitCode;

/// Lets a one-shot command whose output's reader goes away (`scan --json | head`) end as
/// Unix filters do, by the closed pipe's signal, where Rust's default would have `println!`
/// panic. Not for the claim loop, whose sockets must report a closed peer as an error.
pub fn end_quietly_on_closed_pipe() {
    // SAFETY: restores the signal's default disposition; no handler runs Rust code.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
}

/// Reads every input file and starts an engine; on failure, the message is printed and
/// the usage exit status (2) returned.
pub(crate) fn inputs_and_engine(paths: &[PathBuf], lang: &str) -> Result<(Vec<Vec<u8>>, Engine), ExitCode> {
    let mut inputs = Vec::with_capacity(paths.len());
    for path in paths {
        match std::fs::read(path) {
            Ok(bytes) => inputs.push(bytes),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return Err(ExitCode::from(2));
            }
        }
    }
    match Engine::new(lang) {
        Ok(engine) => Ok((inputs, engine)),
        Err(e) => {
            eprintln!("error[ocr_engine_unavailable]: {e}");
            Err(ExitCode::from(2))
        }
    }
}
