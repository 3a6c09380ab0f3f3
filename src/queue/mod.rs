//! The durable job queue's vocabulary: job kinds, states, payloads and the retry policy.
//! Its storage lives in the index (`jobs` table); this module holds what is the same for
//! every backend.

pub use crate::domain::JobState;
use crate::domain::{AgencyCode, Digest};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a job does; workers ask for the kinds they handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Recognise a stored scan and post back its result.
    Ocr,
    /// Seal the recognised copy with the agency's seal, archive it and make it a record.
    /// The service runs these itself: the seal key never leaves it.
    Seal,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Ocr => "ocr",
            JobKind::Seal => "seal",
        }
    }

    pub fn parse(s: &str) -> Option<JobKind> {
        match s {
            "ocr" => Some(JobKind::Ocr),
            "seal" => Some(JobKind::Seal),
            _ => None,
        }
    }
}

/// Payload of an `ocr` job: which scan, and the digest of the stored input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcrPayload {
    pub scan: i64,
    pub digest: Digest,
    pub media_type: String,
}

impl JobKind {
    /// Whether workers outside the service may claim this kind.
    pub fn for_workers(self) -> bool {
        matches!(self, JobKind::Ocr)
    }
}

/// Payload of a `seal` job: the scan whose recognised copy is sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealPayload {
    pub scan: i64,
}

/// A job as the queue hands it out.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    /// The agency of the dossier whose scan the job processes.
    pub agency: AgencyCode,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub attempts: u32,
    pub max_attempts: u32,
    /// Opaque lease token the holder presents on heartbeat, complete and fail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_until_ms: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the job was queued (Unix ms), for the time it took.
    #[serde(skip)]
    pub queued_at_ms: i64,
}

/// Retry timing: exponential from `base`, capped at one hour.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub max_attempts: u32,
    pub lease: Duration,
}

impl RetryPolicy {
    /// Delay before the next try after `attempts` failed tries (1-based).
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 1u32 << attempts.saturating_sub(1).min(16);
        self.base.saturating_mul(factor).min(Duration::from_secs(3600))
    }
}

/// How a worker reports failure.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Failure {
    /// Stable machine code, e.g. `corrupt_image`.
    pub code: String,
    pub message: String,
    /// No retry can help (bad input); the job goes straight to `dead`.
    #[serde(default)]
    pub permanent: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy { base: Duration::from_secs(5), max_attempts: 5, lease: Duration::from_secs(60) };
        assert_eq!(p.backoff(1), Duration::from_secs(5));
        assert_eq!(p.backoff(2), Duration::from_secs(10));
        assert_eq!(p.backoff(4), Duration::from_secs(40));
        assert_eq!(p.backoff(40), Duration::from_secs(3600));
    }
}
