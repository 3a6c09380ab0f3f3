//! Group commit of the access log: one writer task per index takes every read waiting, up to
//! [`MAX_READS`], into one transaction with their leaves, numbered in the order they arrived,
//! and answers each caller with its entries' numbers. A read is served only once its entry
//! is committed; many readers then share one transaction, as new records do
//! (`group.rs`). Entries are never refused one by one (nothing in a read can clash with
//! another), so a failed transaction fails every caller in it and stores nothing.

use super::{IndexError, Result};
use crate::domain::reads::{NewRead, ReadEntry};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// Entries per transaction at most (a lookup brings up to 500 at once, so a group may pass
/// this by one lookup's worth).
const MAX_READS: usize = 2048;

/// Commits a group of reads numbered from the log's size, returning that first number.
pub(super) type CommitFuture<'a> = Pin<Box<dyn Future<Output = Result<u64>> + Send + 'a>>;

/// How a backend stores a group of reads in one transaction.
pub(super) trait ReadCommitter: Send + Sync + 'static {
    fn commit<'a>(&'a self, reads: &'a [NewRead]) -> CommitFuture<'a>;
}

/// The entries of `reads` numbered from `first`, with their leaf hashes.
pub(super) fn numbered(first: u64, reads: &[NewRead]) -> Vec<(ReadEntry, crate::tlog::Hash)> {
    (first..)
        .zip(reads)
        .map(|(seq, r)| {
            let entry = ReadEntry { seq, entry: r.clone() };
            let leaf = crate::tlog::leaf_hash(&entry.leaf_data());
            (entry, leaf)
        })
        .collect()
}

struct Waiting {
    reads: Vec<NewRead>,
    reply: oneshot::Sender<Result<Vec<u64>>>,
}

/// The queue in front of the access log's writer task; the task ends when this is dropped.
pub(super) struct ReadLog {
    queue: mpsc::UnboundedSender<Waiting>,
}

impl ReadLog {
    /// Starts the writer task on the current runtime.
    pub fn start(committer: impl ReadCommitter) -> ReadLog {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(write(committer, waiting));
        ReadLog { queue }
    }

    /// Logs `reads` with those waiting beside them; their numbers once committed.
    pub async fn log(&self, reads: Vec<NewRead>) -> Result<Vec<u64>> {
        if reads.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.queue.send(Waiting { reads, reply }).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

fn gone() -> IndexError {
    IndexError::Database(sqlx::Error::WorkerCrashed)
}

async fn write(committer: impl ReadCommitter, mut waiting: mpsc::UnboundedReceiver<Waiting>) {
    let mut group: Vec<Waiting> = Vec::new();
    while let Some(first) = waiting.recv().await {
        let mut count = first.reads.len();
        group.push(first);
        while count < MAX_READS {
            match waiting.try_recv() {
                Ok(next) => {
                    count += next.reads.len();
                    group.push(next);
                }
                Err(_) => break,
            }
        }
        let reads: Vec<NewRead> = group.iter().flat_map(|w| w.reads.iter().cloned()).collect();
        match committer.commit(&reads).await {
            Ok(mut seq) => {
                for w in group.drain(..) {
                    let n = w.reads.len() as u64;
                    // A caller that stopped waiting has its reads logged all the same.
                    let _ = w.reply.send(Ok((seq..seq + n).collect()));
                    seq += n;
                }
            }
            Err(e) => {
                tracing::warn!(reads = reads.len(), error = %e, "access log group failed");
                // Each caller gets the failure's kind (the database out of reach, or not) and text.
                let unavailable = matches!(e, IndexError::Unavailable(_));
                let detail = format!("logging the read: {e}");
                for w in group.drain(..) {
                    let cause = sqlx::Error::Protocol(detail.clone());
                    let _ = w.reply.send(Err(if unavailable { IndexError::Unavailable(cause) } else { IndexError::Database(cause) }));
                }
            }
        }
    }
}
