//! Runs N local `sohoa-worker` processes, restarts any that die, stops them on shutdown.
//! They die with the service even when it is killed outright: each child asks the kernel for
//! SIGKILL when its parent dies, and watches a pipe whose only writer is the service.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::time::Duration;
use tokio::process::{Child, Command};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// How long a stopping worker may take to finish its job before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A worker that lived this long started well and died at work (a job's attempts bound how
/// often that repeats): its backoff starts over. One that dies sooner cannot start (bad token,
/// API unreachable, no OCR model) and is restarted with a growing backoff.
const STARTED_WELL: Duration = Duration::from_secs(3);

/// The environment variable naming the read end of the lifeline pipe in a worker.
pub use sohoa_protocol::LIFELINE_FD_ENV;

pub struct Supervisor {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    /// The lifeline pipe (read end, write end). The write end is never written: the kernel
    /// closes it when the service dies, and it is dropped here only after every worker stopped.
    _lifeline: (OwnedFd, OwnedFd),
}

struct Slot {
    binary: PathBuf,
    id: String,
    api_url: String,
    token_file: PathBuf,
    lifeline: RawFd,
}

impl Slot {
    fn spawn(&self) -> std::io::Result<Child> {
        let parent = std::process::id() as libc::pid_t;
        let lifeline = self.lifeline;
        let mut command = Command::new(&self.binary);
        command
            .arg("--api")
            .arg(&self.api_url)
            .arg("--token-file")
            .arg(&self.token_file)
            .arg("--id")
            .arg(&self.id)
            .env("OMP_THREAD_LIMIT", "1")
            .env(LIFELINE_FD_ENV, lifeline.to_string())
            .kill_on_drop(true);
        // SAFETY: between fork and exec only async-signal-safe system calls run here: prctl,
        // getppid and fcntl on a descriptor the parent keeps open.
        unsafe {
            command.pre_exec(move || {
                // The "parent" of PR_SET_PDEATHSIG is the forking thread: a runtime worker
                // thread, which lives as long as the runtime (nothing here uses block_in_place).
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The parent may have died before the prctl: then nobody would signal us.
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
                // The read end is inherited by this worker only (close-on-exec elsewhere).
                if libc::fcntl(lifeline, libc::F_SETFD, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        command.spawn()
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
                    if started.elapsed() >= STARTED_WELL {
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
    /// Starts `count` workers; each slot restarts its worker only after reaping the last one,
    /// so there are never more than `count` alive.
    pub fn start(binary: PathBuf, count: usize, api_url: String, token_file: PathBuf) -> std::io::Result<Supervisor> {
        let (read, write) = lifeline()?;
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for n in 1..=count {
            let slot = Slot {
                binary: binary.clone(),
                id: format!("local-{n}"),
                api_url: api_url.clone(),
                token_file: token_file.clone(),
                lifeline: read.as_raw_fd(),
            };
            tasks.spawn(slot.keep_alive(stop_rx.clone()));
        }
        Ok(Supervisor { stop, tasks, _lifeline: (read, write) })
    }

    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// A pipe, both ends close-on-exec: (read end, write end).
fn lifeline() -> std::io::Result<(OwnedFd, OwnedFd)> {
    use std::os::fd::FromRawFd;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the array on success, which we then own.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}
