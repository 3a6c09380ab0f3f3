//! Group commit of new records: one writer task per index takes every record waiting, up to
//! [`MAX_BATCH`], into one transaction, their log leaves in the order they arrived, and
//! answers each caller with its own result. The backend checks the refusals it knows of
//! (a taken id, a scan already sealed) before it writes anything, so a refused record is
//! answered alone without undoing the others; a batch that still fails is stored again one
//! record at a time, each in its own transaction, so a failure stays with its record.

use super::{AuditEntry, ComponentCheck, IndexError, NewRecord, Record, Result};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// Records per transaction at most: a batch's statements stay within both engines' limits
/// on bound values, and a caller waits for at most this many others.
pub(super) const MAX_BATCH: usize = 256;

/// A record to store, as the caller gave it.
pub(super) struct NewEntry {
    pub rec: NewRecord,
    pub check: ComponentCheck,
    pub audit: AuditEntry,
}

/// What a batch of entries came to, one answer per entry in the batch's order; `Err` when
/// the batch's transaction failed as a whole and nothing of it was stored.
pub(super) type BatchFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<Result<Record>>>> + Send + 'a>>;
/// One entry in a transaction of its own.
pub(super) type OneFuture<'a> = Pin<Box<dyn Future<Output = Result<Record>> + Send + 'a>>;

/// How a backend stores records: a batch in one transaction, or one alone.
pub(super) trait Committer: Send + Sync + 'static {
    fn commit_batch<'a>(&'a self, entries: &'a [NewEntry]) -> BatchFuture<'a>;
    fn commit_one<'a>(&'a self, entry: &'a NewEntry) -> OneFuture<'a>;
}

/// What becomes of an entry of a batch.
pub(super) enum Plan {
    Store,
    /// Answered without a write: its scan's record, or its id refused.
    Answer(Box<Result<Record>>),
    /// The same scan as entry `i` of the batch, which is stored instead.
    SameAs(usize),
}

/// Decides each entry's fate from the ids `taken` and the records of scans already
/// `sealed` (by scan), and from what comes earlier in the batch, as storing the entries one
/// after another would: a scan's first record stands, a taken id is refused.
pub(super) fn plan(entries: &[NewEntry], taken: &HashSet<String>, sealed: &HashMap<i64, Record>) -> Vec<Plan> {
    let (mut ids, mut scans) = (HashSet::new(), HashMap::new());
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            if let Some(scan) = e.rec.scan {
                if let Some(record) = sealed.get(&scan) {
                    return Plan::Answer(Box::new(Ok(record.clone())));
                }
                if let Some(&first) = scans.get(&scan) {
                    return Plan::SameAs(first);
                }
            }
            if taken.contains(&e.rec.id) || !ids.insert(e.rec.id.as_str()) {
                return Plan::Answer(Box::new(Err(IndexError::Conflict)));
            }
            if let Some(scan) = e.rec.scan {
                scans.insert(scan, i);
            }
            Plan::Store
        })
        .collect()
}

/// Each entry's answer once the batch is committed, `stored` holding the records stored by id.
pub(super) fn answers(entries: &[NewEntry], plans: Vec<Plan>, mut stored: HashMap<String, Record>) -> Vec<Result<Record>> {
    let missing = |id: &str| IndexError::Corrupt { table: "records", detail: format!("record {id} was not returned by its insert") };
    let mut answers: Vec<Result<Record>> = Vec::with_capacity(entries.len());
    for (e, p) in entries.iter().zip(plans) {
        let answer = match p {
            Plan::Store => stored.remove(&e.rec.id).ok_or_else(|| missing(&e.rec.id)),
            Plan::Answer(answer) => *answer,
            Plan::SameAs(first) => answers[first].as_ref().cloned().map_err(|_| missing(&entries[first].rec.id)),
        };
        answers.push(answer);
    }
    answers
}

struct Waiting {
    entry: NewEntry,
    reply: oneshot::Sender<Result<Record>>,
}

/// The queue in front of the writer task; the task ends when this is dropped.
pub(super) struct GroupCommit {
    queue: mpsc::UnboundedSender<Waiting>,
}

impl GroupCommit {
    /// Starts the writer task on the current runtime.
    pub fn start(committer: impl Committer) -> GroupCommit {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(write(committer, waiting));
        GroupCommit { queue }
    }

    /// Stores `entry` with the records waiting beside it; the answer is this record's own.
    pub async fn store(&self, entry: NewEntry) -> Result<Record> {
        let (reply, answer) = oneshot::channel();
        self.queue.send(Waiting { entry, reply }).map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

/// The writer task stopped (its runtime shut down, or it panicked).
fn gone() -> IndexError {
    IndexError::Database(sqlx::Error::WorkerCrashed)
}

async fn write(committer: impl Committer, mut waiting: mpsc::UnboundedReceiver<Waiting>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (entries, replies): (Vec<NewEntry>, Vec<_>) = batch.drain(..).map(|w| (w.entry, w.reply)).unzip();
        let answers = match committer.commit_batch(&entries).await {
            Ok(answers) => answers,
            Err(e) if entries.len() == 1 => vec![Err(e)],
            Err(e) => {
                tracing::warn!(records = entries.len(), error = %e, "group commit failed; storing its records one at a time");
                let mut answers = Vec::with_capacity(entries.len());
                for entry in &entries {
                    answers.push(committer.commit_one(entry).await);
                }
                answers
            }
        };
        for (reply, answer) in replies.into_iter().zip(answers) {
            // A caller that stopped waiting has its record stored all the same.
            let _ = reply.send(answer);
        }
    }
}
