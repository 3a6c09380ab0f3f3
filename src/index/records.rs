//! Records as the index keeps them: what a later procedure or another system looks up.

use crate::domain::{AgencyCode, Digest, DossierCode};
use chrono::NaiveDate;
use serde::Serialize;

/// A record about to be stored; the archive already holds its content and manifest.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub id: String,
    /// `digitized_copy` or `result`.
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
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Active => "active",
            RecordStatus::Revoked => "revoked",
            RecordStatus::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [RecordStatus::Active, RecordStatus::Revoked, RecordStatus::Superseded].into_iter().find(|k| k.as_str() == s)
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
    pub created_at_ms: i64,
}

/// What checking a sealed scan against its dossier found for the component.
#[derive(Debug, Clone)]
pub struct ComponentCheck {
    /// `satisfied` or `flagged`.
    pub status: &'static str,
    pub flags: Vec<String>,
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
    pub agency: Option<AgencyCode>,
    pub owner_id: Option<String>,
    pub doc_type: Option<String>,
    /// Only records valid on this day (active, and within their validity).
    pub valid_at: Option<NaiveDate>,
    pub after: Option<RecordCursor>,
    pub limit: u32,
}
