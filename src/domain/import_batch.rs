//! Back-file batches posted to the service: their files kept in the archive, their options and
//! their state in the index, so that any replica can run one and resume it after a restart.

use super::{AgencyCode, Digest};
use serde::{Deserialize, Serialize};

/// Where a posted batch stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    /// Stored and waiting for, or under, the replica that runs imports.
    Running,
    /// Every document has its outcome; the report lists them.
    Done,
    /// The batch could not be run at all (its stored files unreadable, its sheet refused).
    Failed,
}

impl BatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Running => "running",
            BatchState::Done => "done",
            BatchState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [BatchState::Running, BatchState::Done, BatchState::Failed].into_iter().find(|b| b.as_str() == s)
    }
}

/// One file of a batch: its name inside the batch and its content in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchFile {
    pub name: String,
    pub digest: Digest,
    pub size: u64,
}

/// What the batch is: its files, its sheet and the options it was posted with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchSpec {
    pub files: Vec<BatchFile>,
    /// The metadata sheet (CSV) in the archive; without it each file is a document.
    pub sheet: Option<Digest>,
    pub split_at_blank: bool,
    pub dry_run: bool,
    /// Rows lacking the owner's id or the type are flagged without being read.
    pub no_ocr: bool,
}

/// A posted batch as the index keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportBatch {
    /// The importer's batch id, derived from the batch's content and options.
    pub id: String,
    /// The agency that posted it, the issuing agency of every row.
    pub agency: AgencyCode,
    /// Who digitized it: the posting token's subject.
    pub by: String,
    pub spec: BatchSpec,
    pub state: BatchState,
    /// The end report, as `sohoa import --report` writes it in JSON.
    pub report: Option<String>,
    /// Why a failed batch could not run: a stable code and what it refers to.
    pub error: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}
