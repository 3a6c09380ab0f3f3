//! Records: what a later procedure or another system looks up, as stored.

use crate::domain::{AgencyCode, ComponentStatus, Digest, DossierCode, IllegalTransition};
use chrono::NaiveDate;
use serde::Serialize;

/// A record about to be stored; the archive already holds its content and manifest.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub id: String,
    /// `digitized_copy`, `result` or `backfile` (a document issued before the installation).
    pub kind: &'static str,
    pub agency: AgencyCode,
    pub dossier: Option<DossierCode>,
    pub component: Option<String>,
    pub scan: Option<i64>,
    pub owner_id: Option<String>,
    pub doc_type: String,
    pub number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub digest: Digest,
    pub size: u64,
    /// Set by `registry::store` when the manifest is archived.
    pub manifest_digest: Digest,
    /// Signatures, classification and fields, as in the manifest.
    pub summary: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Active,
    Revoked,
    Superseded,
    /// Past retention and disposed of after review: the content is gone; the manifest, the
    /// log leaf and the audit trail stay.
    Disposed,
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Active => "active",
            RecordStatus::Revoked => "revoked",
            RecordStatus::Superseded => "superseded",
            RecordStatus::Disposed => "disposed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [RecordStatus::Active, RecordStatus::Revoked, RecordStatus::Superseded, RecordStatus::Disposed]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    /// Revoked, or superseded by a newer record: only an active record ends its life so.
    pub fn end(self, to: RecordStatus) -> Result<RecordStatus, IllegalTransition> {
        match (self, to) {
            (RecordStatus::Active, RecordStatus::Revoked | RecordStatus::Superseded) => Ok(to),
            (from, _) => Err(IllegalTransition { entity: "record", from: from.as_str(), event: "end its life" }),
        }
    }

    /// Disposed of after retention, whatever ended its active life; once only.
    pub fn dispose(self) -> Result<RecordStatus, IllegalTransition> {
        match self {
            RecordStatus::Disposed => Err(IllegalTransition { entity: "record", from: "disposed", event: "be disposed of" }),
            _ => Ok(RecordStatus::Disposed),
        }
    }
}

/// A stored record.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub id: String,
    pub kind: String,
    pub agency: AgencyCode,
    pub dossier: Option<DossierCode>,
    pub component: Option<String>,
    pub scan: Option<i64>,
    pub owner_id: Option<String>,
    pub doc_type: String,
    pub number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub digest: Digest,
    pub size: u64,
    pub manifest_digest: Digest,
    pub summary: serde_json::Value,
    /// The record's leaf in the transparency log, once appended.
    pub log_index: Option<u64>,
    pub status: RecordStatus,
    pub status_reason: Option<String>,
    pub status_by: Option<String>,
    /// The newer record that replaced this one, when superseded.
    pub superseded_by: Option<String>,
    pub created_at_ms: i64,
}

/// What checking a sealed scan against its dossier found for the component.
#[derive(Debug, Clone)]
pub struct ComponentCheck {
    /// `Satisfied`, or `Flagged` with the flags.
    pub status: ComponentStatus,
    pub flags: Vec<String>,
}

impl ComponentCheck {
    /// The component is what it should be.
    pub fn satisfied() -> ComponentCheck {
        ComponentCheck { status: ComponentStatus::Satisfied, flags: Vec::new() }
    }

    /// Satisfied when `flags` is empty, else flagged with them.
    pub fn from_flags(flags: Vec<String>) -> ComponentCheck {
        ComponentCheck { status: ComponentStatus::checked(&flags), flags }
    }
}

/// Position after the last record of a page: records are listed by (created_at, id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordCursor {
    pub created_at_ms: i64,
    pub id: String,
}

impl RecordCursor {
    /// Opaque to clients: `<created_at_ms>.<id>`.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.created_at_ms, self.id)
    }

    pub fn parse(s: &str) -> Option<Self> {
        let (at, id) = s.split_once('.')?;
        let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        ok.then(|| Some(RecordCursor { created_at_ms: at.parse().ok()?, id: id.to_owned() })).flatten()
    }
}

/// Which records to list; all conditions hold together.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Records of these agencies; of any when empty.
    pub agencies: Vec<AgencyCode>,
    /// Records of these types; of any when empty (with `doc_type`, both hold).
    pub doc_types: Vec<String>,
    /// Records made for the dossier, and those it reused from earlier procedures.
    pub dossier: Option<DossierCode>,
    pub owner_id: Option<String>,
    pub doc_type: Option<String>,
    /// Only records valid on this day (active, and within their validity).
    pub valid_at: Option<NaiveDate>,
    pub after: Option<RecordCursor>,
    pub limit: u32,
}

/// Ending a record's active life: revoked, or superseded by a newer record.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub status: RecordStatus,
    pub reason: String,
    /// The audit actor id of who changed it.
    pub by: String,
    pub superseded_by: Option<String>,
}

/// A legal hold on a record or a whole dossier.
#[derive(Debug, Clone, Serialize)]
pub struct Hold {
    pub id: i64,
    pub agency: AgencyCode,
    /// `record:<id>` or `dossier:<code>`.
    pub target: String,
    pub reason: String,
    pub placed_by: String,
    pub placed_at_ms: i64,
    pub released_by: Option<String>,
    pub released_at_ms: Option<i64>,
}

/// A retention rule as the index applies it: records of `doc_type` whose retention date
/// (issue date, else archiving day) is on or before `cutoff` are due for review.
#[derive(Debug, Clone)]
pub struct RetentionCutoff {
    pub doc_type: String,
    pub cutoff: NaiveDate,
}

/// What disposing of a record left to do in the archive.
#[derive(Debug, Clone)]
pub struct Disposal {
    pub record: Record,
    /// Whether another record that is not disposed of still uses the same content, which
    /// must then stay in the archive.
    pub content_shared: bool,
}

/// A correction by the desk of a sealed scan's type or fields: the label it gives, kept as
/// evaluation data, and the records it replaced and made.
#[derive(Debug, Clone, Serialize)]
pub struct Correction {
    pub scan: i64,
    pub old_record: String,
    pub new_record: String,
    /// `{"doc_type": ..., "fields": {...}}`.
    pub label: serde_json::Value,
    pub actor: String,
    pub at_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_active_record_is_revoked_or_superseded_and_one_is_disposed_of_once() {
        use RecordStatus::*;
        assert_eq!(Active.end(Revoked), Ok(Revoked));
        assert_eq!(Active.end(Superseded), Ok(Superseded));
        assert!(Active.end(Active).is_err());
        assert!(Active.end(Disposed).is_err(), "disposal has its own step, with its checks");
        assert!(Revoked.end(Superseded).is_err());
        assert!(Superseded.end(Revoked).is_err());
        assert_eq!(Revoked.dispose(), Ok(Disposed));
        assert_eq!(Active.dispose(), Ok(Disposed));
        assert!(Disposed.dispose().is_err());
    }
}
