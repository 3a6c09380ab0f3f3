//! The audit log: who did what, written in the same transaction as the change it describes.

use super::AgencyCode;
use serde::Serialize;

/// Which audit entries to return; every field left empty matches all.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub agency: Option<AgencyCode>,
    pub target: Option<String>,
    /// An action (`token.create`) or a family of actions (`token`).
    pub action: Option<String>,
    /// `token:<id>` or `system`.
    pub actor: Option<String>,
    /// `[from_ms, to_ms)`.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    pub limit: u32,
}

/// Who did something, for the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct Actor {
    /// `token:<id>` or `system`.
    pub id: String,
    pub role: String,
    pub agency: String,
    pub request_id: String,
}

impl Actor {
    /// The service itself, for no agency in particular: seen by no agency's auditor.
    pub fn system(what: &str) -> Actor {
        Actor { id: "system".into(), role: "system".into(), agency: "-".into(), request_id: what.into() }
    }

    /// The service itself, acting on what belongs to `agency`: that agency's auditors see it.
    pub fn system_for(what: &str, agency: &AgencyCode) -> Actor {
        Actor { agency: agency.to_string(), ..Actor::system(what) }
    }
}

/// One audit log line to write in the same transaction as the change it describes.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub actor: Actor,
    pub action: &'static str,
    pub target: String,
    pub detail: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at_ms: i64,
    pub actor: String,
    pub role: String,
    pub agency: String,
    pub action: String,
    pub target: String,
    pub request_id: String,
    pub detail: serde_json::Value,
}
