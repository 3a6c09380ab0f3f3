//! The job protocol between the service and its workers, over HTTP under `/api/v1/jobs`:
//! a worker claims a job of the kinds it runs, reads its input, stores its output, keeps
//! its lease with heartbeats and reports the job complete or failed. Each body and answer is
//! one type here, written by one side and read by the other.

use crate::domain::Digest;
use serde::{Deserialize, Serialize};

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

    /// Whether workers outside the service may claim this kind.
    pub fn for_workers(self) -> bool {
        matches!(self, JobKind::Ocr)
    }
}

/// Payload of an `ocr` job: what the input is (a desk scan, or a document of a back-file
/// import), and the digest of the stored input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OcrPayload {
    /// The desk scan, recognised and then sealed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan: Option<i64>,
    /// The imported document, whose importer reads the result itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<ImportDocument>,
    pub digest: Digest,
    pub media_type: String,
    /// The pages are civil-status register pages: the worker also reports the entries of
    /// their ruled rows (`Recognition.register`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub register: bool,
}

/// A document of a back-file import: its batch and the line of the batch's sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDocument {
    pub batch: String,
    pub line: u32,
}

/// `POST /jobs/claim`: the kinds a worker runs, and how long the service may hold the
/// request open for one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    pub kinds: Vec<JobKind>,
    /// How long to wait for a job, in milliseconds (the service waits 30 s at most).
    #[serde(default)]
    pub wait_ms: u64,
}

/// What a worker reads of the job a claim hands it (the answer is the service's whole job,
/// this and more).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claimed {
    pub id: i64,
    pub kind: JobKind,
    /// Attempts so far, this one included.
    pub attempts: u32,
    /// Opaque token the holder presents on every later call for the job.
    pub lease: String,
    /// When the lease runs out unless a heartbeat extends it (Unix ms).
    pub lease_until_ms: i64,
    /// What the job works on: an `ocr` job's is an [`OcrPayload`].
    #[serde(default)]
    pub payload: serde_json::Value,
}

impl Claimed {
    /// Whether the job asks for the entries of register pages beside the words.
    pub fn wants_register(&self) -> bool {
        self.kind == JobKind::Ocr && serde_json::from_value::<OcrPayload>(self.payload.clone()).is_ok_and(|p| p.register)
    }
}

/// `POST /jobs/{id}/heartbeat`: the lease to extend.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseBody {
    pub lease: String,
}

/// The answer to a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseExtended {
    pub lease_until_ms: i64,
}

/// The answer to `POST /jobs/{id}/output`: where the output is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredOutput {
    /// `sha256:<hex>` of the stored bytes.
    pub digest: String,
    pub size: u64,
}

/// What a worker completes an `ocr` job with: the scan it read and its stored recognition,
/// each as a digest (`sha256:<hex>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    pub input: String,
    pub recognition: String,
}

/// `POST /jobs/{id}/complete`. The result depends on the job's kind: a worker writes an
/// `ocr` job's `Completion`; the service reads any JSON and then the kind's result, so a
/// result that does not fit is told apart from a body that does not.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody<R = Completion> {
    pub lease: String,
    pub result: R,
}

/// How a worker reports failure.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Failure {
    /// Stable machine code, e.g. `corrupt_image`.
    pub code: String,
    pub message: String,
    /// No retry can help (bad input); the job goes straight to `dead`.
    #[serde(default)]
    pub permanent: bool,
}

/// The codes of the service's own 503 answers: a dependency of the service (its archive or
/// its index) is down. A failure with one of them is the service's, not the job's.
pub const OUTAGE_CODES: &[&str] = &["archive_unavailable", "index_unavailable"];

impl Failure {
    /// Whether the job failed only because the service could not reach its archive or its
    /// index: such a failure is retried without using up one of the job's attempts.
    pub fn is_outage(&self) -> bool {
        !self.permanent && OUTAGE_CODES.contains(&self.code.as_str())
    }
}

/// `POST /jobs/{id}/fail`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailBody {
    pub lease: String,
    #[serde(flatten)]
    pub failure: Failure,
}

/// Where a report left the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Settled {
    Done,
    /// Failed, and queued again after a backoff.
    Queued,
    /// Failed for good: permanently, or out of attempts.
    Dead,
}

impl Settled {
    pub fn as_str(self) -> &'static str {
        match self {
            Settled::Done => "done",
            Settled::Queued => "queued",
            Settled::Dead => "dead",
        }
    }
}

/// The answer to a completion, a failure or a requeue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reported {
    pub job: i64,
    pub state: Settled,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failure_reads_flat_beside_its_lease_and_is_retried_unless_said_permanent() {
        let body: FailBody = serde_json::from_value(json!({"lease": "l1", "code": "corrupt_image", "message": "bad"})).unwrap();
        assert_eq!((body.lease.as_str(), body.failure.code.as_str(), body.failure.permanent), ("l1", "corrupt_image", false));
        let written = serde_json::to_value(FailBody { lease: "l1".into(), failure: Failure { permanent: true, ..body.failure } }).unwrap();
        assert_eq!(written, json!({"lease": "l1", "code": "corrupt_image", "message": "bad", "permanent": true}));
    }

    #[test]
    fn a_completion_names_exactly_its_input_and_recognition() {
        let sent = CompleteBody { lease: "l1".into(), result: Completion { input: "sha256:aa".into(), recognition: "sha256:bb".into() } };
        let text = serde_json::to_string(&sent).unwrap();
        assert_eq!(text, r#"{"lease":"l1","result":{"input":"sha256:aa","recognition":"sha256:bb"}}"#);
        // the service reads any result first, then the kind's
        let read: CompleteBody<serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::from_value::<Completion>(read.result).unwrap(), sent.result);
        let extra = json!({"input": "sha256:aa", "recognition": "sha256:bb", "pdf": "sha256:cc"});
        assert!(serde_json::from_value::<Completion>(extra).is_err(), "a field the service does not read is refused");
    }

    #[test]
    fn only_a_retryable_failure_with_an_outage_code_is_the_services() {
        let failure = |code: &str, permanent| Failure { code: code.into(), message: String::new(), permanent };
        assert!(failure("archive_unavailable", false).is_outage());
        assert!(failure("index_unavailable", false).is_outage());
        assert!(!failure("archive_unavailable", true).is_outage());
        assert!(!failure("input_unavailable", false).is_outage(), "the service unreachable may be the worker's own network");
        assert!(!failure("corrupt_image", false).is_outage());
    }

    #[test]
    fn answers_read_as_written() {
        let reported: Reported = serde_json::from_value(json!({"job": 7, "state": "queued"})).unwrap();
        assert_eq!(reported, Reported { job: 7, state: Settled::Queued });
        assert!(serde_json::from_value::<Reported>(json!({"job": 7, "state": "lease_lost"})).is_err());
        let claim: ClaimRequest = serde_json::from_value(json!({"kinds": ["ocr"]})).unwrap();
        assert_eq!((claim.kinds, claim.wait_ms), (vec![JobKind::Ocr], 0));
        assert!(serde_json::from_value::<ClaimRequest>(json!({"kinds": ["print"]})).is_err());
    }
}
