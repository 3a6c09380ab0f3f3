//! Record manifests: the canonical JSON that the archive keeps beside a record's content and
//! whose SHA-256 is the record's leaf in the transparency log.

use crate::domain::Digest;
use crate::index::NewRecord;
use serde_json::{json, Value};

/// Version of the manifest layout; readers refuse versions they do not know.
pub const VERSION: u64 = 1;

/// The manifest of `record`: every field that identifies and describes it, with object keys
/// sorted and no insignificant whitespace, so equal records give equal bytes.
pub fn canonical(record: &NewRecord, created_at: &str) -> Vec<u8> {
    let day = |d: Option<chrono::NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
    let value = json!({
        "version": VERSION,
        "id": record.id,
        "kind": record.kind,
        "agency": record.agency.as_str(),
        "dossier": record.dossier.as_ref().map(|d| d.as_str()),
        "component": record.component,
        "owner_id": record.owner_id,
        "doc_type": record.doc_type,
        "number": record.number,
        "issue_date": day(record.issue_date),
        "validity": { "from": day(record.valid_from), "until": day(record.valid_until) },
        "content": { "digest": record.digest.prefixed(), "size": record.size, "media_type": "application/pdf" },
        "summary": record.summary,
        "created_at": created_at,
    });
    to_canonical(&value)
}

/// Serialises with object keys in byte order: serde_json's map is ordered by key unless the
/// `preserve_order` feature is on, which this crate does not enable.
fn to_canonical(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The manifest's digest, which names it in the archive and in the log.
pub fn digest(manifest: &[u8]) -> Digest {
    Digest::of(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::AgencyCode;

    fn record() -> NewRecord {
        NewRecord {
            id: "r1".into(),
            kind: "digitized_copy",
            agency: AgencyCode::parse("000.00.31.H29").unwrap(),
            dossier: None,
            component: Some("birth".into()),
            scan: Some(1),
            owner_id: Some("001090012345".into()),
            doc_type: "birth_certificate".into(),
            number: None,
            issue_date: None,
            valid_from: None,
            valid_until: None,
            digest: Digest::of(b"pdf"),
            size: 3,
            manifest_digest: Digest::of(b""),
            summary: json!({"z": 1, "a": {"y": 2, "b": 3}}),
        }
    }

    #[test]
    fn keys_are_sorted_and_bytes_are_stable() {
        let bytes = canonical(&record(), "2026-11-25T01:02:03Z");
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(r#"{"agency":"000.00.31.H29","component":"birth","content":{"digest":"#), "{text}");
        assert!(text.contains(r#""summary":{"a":{"b":3,"y":2},"z":1}"#), "{text}");
        assert!(!text.contains(' ') || text.contains("\" "), "no whitespace between tokens");
        assert_eq!(bytes, canonical(&record(), "2026-11-25T01:02:03Z"));
        let mut other = record();
        other.owner_id = Some("001090012346".into());
        assert_ne!(digest(&bytes), digest(&canonical(&other, "2026-11-25T01:02:03Z")));
    }
}
