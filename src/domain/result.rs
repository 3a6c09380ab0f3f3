//! Result documents: the version history of a PDF that officials
//! sign before it is issued as a record.

use crate::domain::{AgencyCode, Digest, DossierCode, ResultStatus};
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct NewResult {
    pub id: String,
    pub agency: AgencyCode,
    pub dossier: DossierCode,
    pub doc_type: String,
    pub number: Option<String>,
    pub digest: Digest,
    pub size: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResultVersion {
    pub seq: u32,
    pub digest: Digest,
    pub size: u64,
    pub event: String,
    pub actor: String,
    pub signer: Option<String>,
    pub at_ms: i64,
}

/// A result document and its versions.
#[derive(Debug, Clone, Serialize)]
pub struct ResultDoc {
    pub id: String,
    pub agency: AgencyCode,
    pub dossier: DossierCode,
    pub doc_type: String,
    pub number: Option<String>,
    pub digest: Digest,
    pub size: u64,
    pub signatures: u32,
    /// `Draft` until issued.
    pub status: ResultStatus,
    pub record: Option<String>,
    pub created_at_ms: i64,
    pub versions: Vec<ResultVersion>,
}

/// A new signed version of a result, applied only if the result is still at `base`.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub base: Digest,
    pub digest: Digest,
    pub size: u64,
    /// `signed` or `signed_deferred`.
    pub event: &'static str,
    /// The signer's certificate subject, for the history.
    pub signer: String,
    /// The deferred-signing session this version completes, marked used with it.
    pub session: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub result: String,
    pub base: Digest,
    pub certificate: Vec<u8>,
    pub spec: serde_json::Value,
    pub signed_attributes: Vec<u8>,
    pub expires_at_ms: i64,
}

#[derive(Debug, Clone)]
pub struct SigningSession {
    pub id: String,
    pub result: String,
    pub base: Digest,
    pub certificate: Vec<u8>,
    pub spec: serde_json::Value,
    pub signed_attributes: Vec<u8>,
    pub actor: String,
    pub expires_at_ms: i64,
    pub used: bool,
}
