//! A supervised worker exits as soon as the service that started it is gone: it holds the
//! read end of a pipe whose only write end is in the service, so a read returns end-of-file
//! when the service exits for any reason, `kill -9` included.

use sohoa_protocol::LIFELINE_FD_ENV;
use std::io::Read;
use std::os::fd::FromRawFd;

/// Watches the lifeline named in the environment, if any, on a thread of its own.
pub fn watch_from_env() {
    let Some(fd) = std::env::var(LIFELINE_FD_ENV).ok().and_then(|v| v.parse::<i32>().ok()).filter(|fd| *fd > 2) else { return };
    // SAFETY: the supervisor put this descriptor in our table for this purpose and nothing
    // else in this process opens or closes it.
    let mut pipe = unsafe { std::fs::File::from_raw_fd(fd) };
    let spawned = std::thread::Builder::new().name("lifeline".into()).spawn(move || {
        let mut byte = [0u8; 1];
        // The service never writes: any return but an interrupted read means its end closed.
        while let Err(e) = pipe.read(&mut byte) {
            if e.kind() != std::io::ErrorKind::Interrupted {
                break;
            }
        }
        tracing::warn!("the supervising service is gone, exiting");
        std::process::exit(1);
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot watch the service's lifeline");
    }
}
