//! Who may call: tokens as stored and as an administrator sees them, and what a consumer
//! or worker token reaches beyond its own agency.

use super::{AgencyCode, Role};
use serde::Serialize;

/// A token as stored: only the SHA-256 of its secret is kept.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub id: i64,
    pub role: Role,
    pub agency: AgencyCode,
    pub label: String,
    pub scope: Scope,
}

/// A token as an administrator sees it: never its secret nor its hash.
#[derive(Debug, Clone, Serialize)]
pub struct TokenListing {
    pub id: i64,
    pub role: Role,
    pub agency: AgencyCode,
    pub label: String,
    pub scope: Scope,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    /// For a worker: when it last claimed a job or renewed a lease.
    pub last_seen_at_ms: Option<i64>,
}

/// What a consumer token (another system) may read besides its own agency's records: the
/// records of `agencies`, and only records of `doc_types` when that list is not empty; and
/// whether a worker token runs every agency's jobs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agencies: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub doc_types: Vec<String>,
    /// For a worker: the installation's shared worker, which runs every agency's jobs (the
    /// service proves what it reports before sealing, see `custody`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub every_agency: bool,
}
