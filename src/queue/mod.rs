//! The durable job queue's vocabulary: job kinds, states, payloads and the retry policy.
//! Its storage lives in the index (`jobs` table); this module holds what is the same for
//! every backend. What workers see of a job is the job protocol (`sohoa_protocol::job`).

use crate::domain::AgencyCode;
pub use crate::domain::JobState;
use serde::{Deserialize, Serialize};
pub use sohoa_protocol::job::{Failure, ImportDocument, JobKind, OcrPayload};
use std::time::Duration;

/// Payload of a `seal` job: the scan whose recognised copy is sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealPayload {
    pub scan: i64,
}

/// Whose job comes first: a claim hands out the ready jobs of the first priority before any
/// of the next, oldest first within each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// A scan at the desk, a citizen waiting for it.
    Desk,
    /// A page of a back-file import, which waits for the desk.
    Import,
}

impl Priority {
    /// As the index keeps it: the lower claimed first.
    pub fn rank(self) -> i64 {
        match self {
            Priority::Desk => 0,
            Priority::Import => 1,
        }
    }
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

    #[test]
    fn a_claimed_job_reads_as_a_worker_reads_it() {
        let job = Job {
            id: 12,
            kind: JobKind::Ocr,
            agency: AgencyCode::parse("000.00.00.H01").unwrap(),
            payload: serde_json::json!({"scan": 3}),
            state: JobState::Running,
            attempts: 2,
            max_attempts: 5,
            lease: Some("ab12".into()),
            lease_until_ms: Some(1_700_000_060_000),
            last_error: None,
            queued_at_ms: 1_700_000_000_000,
        };
        let claimed: sohoa_protocol::job::Claimed = serde_json::from_value(serde_json::to_value(&job).unwrap()).unwrap();
        let expected = sohoa_protocol::job::Claimed {
            id: 12,
            kind: JobKind::Ocr,
            attempts: 2,
            lease: "ab12".into(),
            lease_until_ms: 1_700_000_060_000,
            payload: serde_json::json!({"scan": 3}),
        };
        assert_eq!(claimed, expected);
        assert!(!claimed.wants_register());
        let register = sohoa_protocol::job::Claimed {
            payload: serde_json::json!({"import": {"batch": "b", "line": 1}, "register": true, "digest": format!("sha256:{}", "ab".repeat(32)), "media_type": "application/pdf"}),
            ..expected
        };
        assert!(register.wants_register(), "a register page's job asks for its entries");
    }
}
