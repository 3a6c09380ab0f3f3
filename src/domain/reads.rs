//! Reads of records as the access log keeps them: who read which record, what of it, when
//! and for what purpose. Each entry's canonical bytes are a leaf of the access log's tree.

use super::{AgencyCode, CitizenId, DossierCode, ProcedureCode};
use serde::Serialize;

/// What of a record was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadKind {
    /// `GET /records/{id}`.
    Metadata,
    Content,
    Manifest,
    Proof,
    /// Returned by `GET /records?…`.
    Lookup,
    /// Accepted into a dossier in place of a new scan.
    Reuse,
}

impl ReadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReadKind::Metadata => "metadata",
            ReadKind::Content => "content",
            ReadKind::Manifest => "manifest",
            ReadKind::Proof => "proof",
            ReadKind::Lookup => "lookup",
            ReadKind::Reuse => "reuse",
        }
    }

    pub fn parse(s: &str) -> Option<ReadKind> {
        [ReadKind::Metadata, ReadKind::Content, ReadKind::Manifest, ReadKind::Proof, ReadKind::Lookup, ReadKind::Reuse]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Why a record is read: the dossier or the procedure that justifies it, stored as
/// `dossier:<code>` or `procedure:<N.NNNNNN>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purpose(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("purpose {0:?} is neither a dossier code (<agency>-<YYMMDD>-<NNNN>) nor a procedure code (N.NNNNNN), with or without the prefix dossier: or procedure:")]
pub struct PurposeError(pub String);

impl Purpose {
    /// A dossier code or a national procedure code, bare or prefixed by its kind.
    pub fn parse(s: &str) -> Result<Purpose, PurposeError> {
        let bad = || PurposeError(s.chars().take(80).collect());
        let s = s.trim();
        if let Some(code) = s.strip_prefix("dossier:") {
            return DossierCode::parse(code).map(|c| Purpose::dossier(&c)).map_err(|_| bad());
        }
        if let Some(code) = s.strip_prefix("procedure:") {
            return ProcedureCode::parse(code).map(|c| Purpose(format!("procedure:{}", c.as_str()))).map_err(|_| bad());
        }
        if let Ok(code) = DossierCode::parse(s) {
            return Ok(Purpose::dossier(&code));
        }
        ProcedureCode::parse(s).map(|c| Purpose(format!("procedure:{}", c.as_str()))).map_err(|_| bad())
    }

    /// The dossier a read inside it serves.
    pub fn dossier(code: &DossierCode) -> Purpose {
        Purpose(format!("dossier:{}", code.as_str()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether the record's owner is a person: reads of such records are personal data
/// processing (Decree 13/2023) and a consumer must say why.
pub fn is_personal(owner_id: Option<&str>) -> bool {
    owner_id.is_some_and(|id| CitizenId::parse(id).is_ok())
}

/// The reader: the token, its label, role and agency, and the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub token_id: i64,
    pub label: String,
    pub role: String,
    pub agency: String,
    pub request_id: String,
}

/// A read to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRead {
    pub at_ms: i64,
    pub reader: Reader,
    pub record: String,
    pub record_agency: AgencyCode,
    pub owner_id: Option<String>,
    pub read: ReadKind,
    pub purpose: Option<String>,
}

/// A logged read: its number in the log (its leaf index) and what was logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadEntry {
    pub seq: u64,
    pub entry: NewRead,
}

/// The leaf's bytes: the entry as JSON with its keys in byte order and no spaces. Field
/// order below is that order; `purpose` and `owner_id` are `null` when absent.
#[derive(Serialize)]
struct Canonical<'a> {
    agency: &'a str,
    at_ms: i64,
    owner_id: Option<&'a str>,
    purpose: Option<&'a str>,
    read: &'a str,
    record: &'a str,
    record_agency: &'a str,
    request_id: &'a str,
    role: &'a str,
    seq: u64,
    token_id: i64,
    token_label: &'a str,
}

impl ReadEntry {
    /// The bytes whose leaf hash (`SHA-256(0x00 || bytes)`) is this entry's leaf; the entry's
    /// number is inside, so a row cannot be moved to another place in the log.
    pub fn leaf_data(&self) -> Vec<u8> {
        let e = &self.entry;
        let canonical = Canonical {
            agency: &e.reader.agency,
            at_ms: e.at_ms,
            owner_id: e.owner_id.as_deref(),
            purpose: e.purpose.as_deref(),
            read: e.read.as_str(),
            record: &e.record,
            record_agency: e.record_agency.as_str(),
            request_id: &e.reader.request_id,
            role: &e.reader.role,
            seq: self.seq,
            token_id: e.reader.token_id,
            token_label: &e.reader.label,
        };
        serde_json::to_vec(&canonical).expect("a struct of strings and integers serialises")
    }
}

/// A page of an owner's reads, newest first.
#[derive(Debug, Clone, Default)]
pub struct ReadFilter {
    pub owner_id: String,
    /// Reads of this agency's records only; every agency's when none.
    pub record_agency: Option<AgencyCode>,
    /// Entries numbered below this one.
    pub before: Option<u64>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_name_a_dossier_or_a_procedure() {
        assert_eq!(Purpose::parse("000.00.31.H29-261202-0001").unwrap().as_str(), "dossier:000.00.31.H29-261202-0001");
        assert_eq!(Purpose::parse("dossier:000.00.31.H29-261202-0001").unwrap().as_str(), "dossier:000.00.31.H29-261202-0001");
        assert_eq!(Purpose::parse("1.001193").unwrap().as_str(), "procedure:1.001193");
        assert_eq!(Purpose::parse("procedure:1.001193").unwrap().as_str(), "procedure:1.001193");
        for bad in ["", "curiosity", "procedure:000.00.31.H29-261202-0001", "dossier:1.001193", "1.0011934"] {
            assert!(Purpose::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn leaf_data_is_sorted_compact_json_with_the_number() {
        let entry = ReadEntry {
            seq: 7,
            entry: NewRead {
                at_ms: 1,
                reader: Reader {
                    token_id: 2,
                    label: "bảo hiểm".into(),
                    role: "consumer".into(),
                    agency: "B".into(),
                    request_id: "r".into(),
                },
                record: "rec".into(),
                record_agency: AgencyCode::parse("000.00.31.H29").unwrap(),
                owner_id: None,
                read: ReadKind::Content,
                purpose: Some("procedure:1.001193".into()),
            },
        };
        let text = String::from_utf8(entry.leaf_data()).unwrap();
        assert_eq!(
            text,
            r#"{"agency":"B","at_ms":1,"owner_id":null,"purpose":"procedure:1.001193","read":"content","record":"rec","record_agency":"000.00.31.H29","request_id":"r","role":"consumer","seq":7,"token_id":2,"token_label":"bảo hiểm"}"#
        );
    }
}
