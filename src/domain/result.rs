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
    /// The officials who sign it, in order (signer token labels); empty: any signer of the
    /// agency, in any order.
    pub signers: Vec<String>,
}

/// Why an official may not sign a result now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TurnError {
    #[error("the result waits for {next} to sign first")]
    NotYourTurn { next: String },
    #[error("every official named for this result has signed it")]
    AllSigned,
}

impl TurnError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            TurnError::NotYourTurn { .. } => "not_your_turn",
            TurnError::AllSigned => "signers_done",
        }
    }
}

impl ResultDoc {
    /// The official whose signature comes next, when the result names its signers and some
    /// have not signed; each signature is one version, in the order named.
    pub fn next_signer(&self) -> Option<&str> {
        self.signers.get(self.signatures as usize).map(String::as_str)
    }

    /// Whether the official `label` may sign now: any signer when none are named, else
    /// only the next one named.
    pub fn turn_of(&self, label: &str) -> Result<(), TurnError> {
        if self.signers.is_empty() {
            return Ok(());
        }
        match self.next_signer() {
            Some(next) if next == label => Ok(()),
            Some(next) => Err(TurnError::NotYourTurn { next: next.to_owned() }),
            None => Err(TurnError::AllSigned),
        }
    }

    /// Whether the draft waits for `label`'s signature: it is their turn, or, naming no
    /// signers, nobody has signed it yet.
    pub fn waits_for(&self, label: &str) -> bool {
        if self.status != ResultStatus::Draft {
            return false;
        }
        if self.signers.is_empty() {
            return self.signatures == 0;
        }
        self.next_signer() == Some(label)
    }

    /// The named officials who have not signed yet.
    pub fn missing_signers(&self) -> &[String] {
        self.signers.get(self.signatures as usize..).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AgencyCode, Digest, DossierCode};

    fn result(signers: &[&str], signatures: u32, status: ResultStatus) -> ResultDoc {
        ResultDoc {
            id: "kq-1".into(),
            agency: AgencyCode::parse("000.00.31.H29").unwrap(),
            dossier: DossierCode::parse("000.00.31.H29-260101-0001").unwrap(),
            doc_type: "birth_certificate".into(),
            number: None,
            digest: Digest::of(b"pdf"),
            size: 3,
            signatures,
            status,
            record: None,
            created_at_ms: 0,
            versions: vec![],
            signers: signers.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn named_officials_sign_in_their_order() {
        let first = result(&["pho-chu-tich", "chu-tich"], 0, ResultStatus::Draft);
        assert!(first.waits_for("pho-chu-tich") && !first.waits_for("chu-tich"));
        assert_eq!(first.turn_of("chu-tich").unwrap_err().code(), "not_your_turn");
        assert!(first.turn_of("pho-chu-tich").is_ok());
        let second = result(&["pho-chu-tich", "chu-tich"], 1, ResultStatus::Draft);
        assert!(second.waits_for("chu-tich") && !second.waits_for("pho-chu-tich"));
        assert_eq!(second.missing_signers(), ["chu-tich".to_owned()]);
        let done = result(&["pho-chu-tich", "chu-tich"], 2, ResultStatus::Draft);
        assert!(!done.waits_for("chu-tich") && done.missing_signers().is_empty());
        assert_eq!(done.turn_of("chu-tich").unwrap_err(), TurnError::AllSigned);
        let issued = result(&["chu-tich"], 0, ResultStatus::Issued);
        assert!(!issued.waits_for("chu-tich"));
    }

    #[test]
    fn a_result_naming_nobody_waits_for_any_signer_until_signed() {
        let open = result(&[], 0, ResultStatus::Draft);
        assert!(open.waits_for("anyone") && open.turn_of("anyone").is_ok());
        let signed = result(&[], 1, ResultStatus::Draft);
        assert!(!signed.waits_for("anyone") && signed.turn_of("anyone").is_ok());
    }
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
