//! Back-file imports: what became of each document of a batch, as the index keeps it so that
//! a stopped batch resumes where it stopped.

use super::Digest;
use serde::Serialize;

/// What became of one document of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportOutcome {
    /// Its record is being stored under the id kept with it; whether it was, the index says.
    Started,
    Imported,
    /// Skipped: the installation holds it already.
    Duplicate,
    /// Left for review: what it lacks cannot be guessed.
    Flagged,
    /// Refused: the row or the file cannot be used.
    Failed,
}

impl ImportOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportOutcome::Started => "started",
            ImportOutcome::Imported => "imported",
            ImportOutcome::Duplicate => "duplicate",
            ImportOutcome::Flagged => "flagged",
            ImportOutcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        use ImportOutcome::*;
        [Started, Imported, Duplicate, Flagged, Failed].into_iter().find(|o| o.as_str() == s)
    }

    /// Whether the document needs no more work when its batch runs again: a started one may
    /// or may not have been stored, and a failed one is tried again.
    pub fn is_settled(self) -> bool {
        matches!(self, ImportOutcome::Imported | ImportOutcome::Duplicate | ImportOutcome::Flagged)
    }
}

/// One document of a batch, by the line of its sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportItem {
    pub batch: String,
    pub line: u32,
    pub outcome: ImportOutcome,
    pub record: Option<String>,
    /// The digest of the unsealed copy of its pages: equal pages give equal digests.
    pub source: Option<Digest>,
    /// The stable code (and what it refers to) of a duplicate, flag or failure.
    pub reason: Option<String>,
}

/// An earlier record that a document duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub record: String,
    /// `same_content` or `same_number`.
    pub why: &'static str,
}
