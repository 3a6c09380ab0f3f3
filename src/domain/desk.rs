//! The desk's things: a dossier with its checklist components and the scans uploaded
//! for them, as stored.

use crate::domain::{AgencyCode, ComponentStatus, Digest, DossierCode, DossierStatus, ScanStatus};
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Applicant {
    pub kind: String,
    pub id: String,
    pub name: String,
}

/// What intake knows when it creates a dossier; the index allocates the code.
#[derive(Debug, Clone)]
pub struct NewDossier {
    pub agency: AgencyCode,
    pub day: NaiveDate,
    pub procedure: String,
    pub applicant: Applicant,
    pub received_at_ms: i64,
    pub due_at_ms: i64,
    /// (component id, required) in checklist order.
    pub components: Vec<(String, bool)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ComponentState {
    pub component: String,
    pub required: bool,
    pub status: ComponentStatus,
    /// What the check found wrong: `wrong_type`, `wrong_owner`, `low_confidence`.
    pub flags: Vec<String>,
    /// The record that satisfies the component, once sealed or reused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    /// Whether that record came from an earlier procedure.
    pub reused: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dossier {
    pub code: DossierCode,
    pub agency: AgencyCode,
    pub procedure: String,
    pub applicant: Applicant,
    pub status: DossierStatus,
    pub received_at_ms: i64,
    pub due_at_ms: i64,
    pub components: Vec<ComponentState>,
    pub scans: Vec<Scan>,
}

#[derive(Debug, Clone, Default)]
pub struct DossierFilter {
    pub agency: Option<AgencyCode>,
    pub status: Option<String>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub limit: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scan {
    pub id: i64,
    pub dossier: DossierCode,
    pub component: String,
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    pub pages: u32,
    pub status: ScanStatus,
    pub error_code: Option<String>,
    pub error: Option<String>,
    pub job: i64,
    pub created_at_ms: i64,
    /// What the quality gate found at upload; `None` for scans uploaded before it.
    pub quality: Option<crate::quality::Report>,
}

#[derive(Debug, Clone)]
pub struct NewScan {
    pub dossier: DossierCode,
    pub component: String,
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    pub pages: u32,
    /// Scoped by the caller (agency and key) so keys of different agencies never meet.
    pub idempotency_key: Option<String>,
    pub quality: Option<crate::quality::Report>,
}
