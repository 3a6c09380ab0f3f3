//! Runs N local `sohoa-worker` processes, restarts any that die, stops them on shutdown.

use std::path::PathBuf;
use std::time::Duration;
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long a stopping worker may take to finish its job before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

pub struct Supervisor {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

struct Slot {
    binary: PathBuf,
    id: String,
    api_url: String,
    token_file: PathBuf,
}

impl Slot {
    fn spawn(&self) -> std::io::Result<Child> {
        Command::new(&self.binary)
            .arg("--api")
            .arg(&self.api_url)
            .arg("--token-file")
            .arg(&self.token_file)
            .arg("--id")
            .arg(&self.id)
            .env("OMP_THREAD_LIMIT", "1")
            .kill_on_drop(true)
            .spawn()
    }

    /// Keeps one worker alive until told to stop, backing off if it keeps dying.
    async fn keep_alive(self, mut stop: watch::Receiver<bool>) {
        let mut backoff = Duration::from_millis(500);
        loop {
            if *stop.borrow() {
                return;
            }
            let started = tokio::time::Instant::now();
            let mut child = match self.spawn() {
                Ok(child) => child,
                Err(e) => {
                    tracing::error!(worker = %self.id, binary = %self.binary.display(), error = %e, "cannot start worker");
                    tokio::select! { _ = tokio::time::sleep(backoff) => {}, _ = stop.changed() => return }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    continue;
                }
            };
            tracing::info!(worker = %self.id, pid = child.id(), "worker started");
            tokio::select! {
                status = child.wait() => {
                    tracing::warn!(worker = %self.id, status = ?status.ok(), "worker exited, restarting");
                    if started.elapsed() > Duration::from_secs(60) {
                        backoff = Duration::from_millis(500);
                    }
                    tokio::select! { _ = tokio::time::sleep(backoff) => {}, _ = stop.changed() => return }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
                _ = stop.changed() => {
                    terminate(&mut child, &self.id).await;
                    return;
                }
            }
        }
    }
}

/// SIGTERM, then SIGKILL if the worker has not finished within the grace period.
async fn terminate(child: &mut Child, id: &str) {
    if let Some(pid) = child.id() {
        // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped).
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGTERM);
        }
    }
    match tokio::time::timeout(STOP_GRACE, child.wait()).await {
        Ok(_) => tracing::info!(worker = %id, "worker stopped"),
        Err(_) => {
            tracing::warn!(worker = %id, "worker did not stop in time, killing it");
            let _ = child.kill().await;
        }
    }
}

impl Supervisor {
    pub fn start(binary: PathBuf, count: usize, api_url: String, token_file: PathBuf) -> Supervisor {
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for n in 1..=count {
            let slot = Slot { binary: binary.clone(), id: format!("local-{n}"), api_url: api_url.clone(), token_file: token_file.clone() };
            tasks.spawn(slot.keep_alive(stop_rx.clone()));
        }
        Supervisor { stop, tasks }
    }

    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}
