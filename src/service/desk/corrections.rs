//! Corrections by the desk: the right document type and fields of a sealed scan. The
//! corrected record supersedes the sealed one (same content, new manifest and log leaf),
//! the component is checked again, and the label is kept for evaluating classification.

use super::{check_component, Desk};
use crate::domain::{random_hex, CitizenId, Digest, EnterpriseCode};
use crate::index::{Actor, AuditEntry, Dossier, NewRecord, Record, RecordStatus, Scan};
use crate::policy::{validity_window, Field};
use crate::registry::{self, Lineage};
use crate::service::{Result, ServiceError};
use chrono::NaiveDate;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// How far a chain of corrections is followed to the record in force.
const MAX_CHAIN: usize = 50;
const MAX_VALUE: usize = 300;

impl Desk<'_> {
    /// Supersedes the record now standing for `scan` (of `dossier`) by one of `doc_type` with
    /// `fields` as the desk gives them; returns the new record and the id of the one it replaces.
    pub async fn correct(
        &self,
        actor: Actor,
        scan: &Scan,
        dossier: &Dossier,
        doc_type: &str,
        fields: BTreeMap<String, String>,
    ) -> Result<(Record, String)> {
        let fields = self.checked_fields(doc_type, fields)?;
        let old = self.current_record(scan.id).await?;

        let get = |name: &str| fields.get(name).cloned();
        let owner_id = get("owner_id").or_else(|| old.owner_id.clone());
        let issue_date = match get("issue_date") {
            Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok(),
            None => old.issue_date,
        };
        let validity = self.catalog.doc_type(doc_type).map(|t| t.validity);
        let expiry = match get("expiry_date") {
            Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok(),
            None => old.valid_until,
        };
        let (valid_from, valid_until) = validity_window(validity, issue_date, expiry);
        let check = check_component(self.catalog, dossier, &scan.component, doc_type, owner_id.as_deref());
        let mut merged: Map<String, Value> = old.summary.get("fields").and_then(Value::as_object).cloned().unwrap_or_default();
        for (name, value) in &fields {
            // the value is the desk's; where on the page it was read stays, for the desk to show
            let mut field = json!({"value": value, "confidence": 1.0, "corrected": true});
            if let Some(boxes) = merged.get(name).and_then(|f| f.get("boxes")) {
                field["boxes"] = boxes.clone();
            }
            merged.insert(name.clone(), field);
        }
        let mut summary = old.summary.clone();
        summary["classification"] = json!({"doc_type": doc_type, "confidence": 1.0, "corrected": true});
        summary["fields"] = Value::Object(merged);
        summary["flags"] = json!(check.flags);
        summary["corrects"] = json!(old.id);
        let record = NewRecord {
            id: random_hex(16),
            kind: "digitized_copy",
            agency: old.agency.clone(),
            dossier: old.dossier.clone(),
            component: Some(scan.component.clone()),
            scan: None,
            owner_id,
            doc_type: doc_type.to_owned(),
            number: get("document_number").or_else(|| old.number.clone()),
            issue_date,
            valid_from,
            valid_until,
            digest: old.digest.clone(),
            size: old.size,
            manifest_digest: Digest::of(b""),
            summary,
        };
        let label = json!({"doc_type": doc_type, "fields": fields});
        let audit = AuditEntry {
            actor,
            action: "scan.correct",
            target: String::new(),
            detail: json!({"scan": scan.id, "label": &label, "flags": check.flags, "replaces": old.id}),
        };
        let lineage = Lineage::Corrects { old: old.id.clone(), scan: scan.id, label };
        let stored = registry::store(self.index, self.archive, record, check, audit, lineage).await?;
        Ok((stored, old.id))
    }

    /// The record now standing for the scan: its sealed record, followed through earlier
    /// corrections.
    async fn current_record(&self, scan: i64) -> Result<Record> {
        let record = self
            .latest_record(scan)
            .await?
            .ok_or_else(|| ServiceError::Conflict { code: "scan_not_sealed", detail: format!("scan {scan} has no record yet") })?;
        if record.status != RecordStatus::Active {
            return Err(ServiceError::Conflict {
                code: "record_not_active",
                detail: format!("the record of scan {scan} is {}", record.status.as_str()),
            });
        }
        Ok(record)
    }

    /// The last version of the scan's record, whatever its status; none before it is sealed.
    pub(super) async fn latest_record(&self, scan: i64) -> Result<Option<Record>> {
        let Some(mut record) = self.index.record_for_scan(scan).await? else { return Ok(None) };
        for _ in 0..MAX_CHAIN {
            match (&record.status, &record.superseded_by) {
                (RecordStatus::Superseded, Some(next)) => {
                    record = self
                        .index
                        .record(next)
                        .await?
                        .ok_or_else(|| ServiceError::Internal { context: "correction chain", detail: next.clone() })?;
                }
                _ => break,
            }
        }
        Ok(Some(record))
    }

    fn checked_fields(&self, doc_type: &str, fields: BTreeMap<String, String>) -> Result<BTreeMap<String, String>> {
        let spec = self.catalog.doc_type(doc_type).ok_or_else(|| ServiceError::Invalid {
            code: "unknown_doc_type",
            detail: format!("no document type {doc_type:?} in the catalog"),
        })?;
        let mut out = BTreeMap::new();
        for (name, value) in fields {
            let value = value.trim().to_owned();
            let field = Field::parse(&name).filter(|f| *f == Field::OwnerId || spec.fields.contains(f));
            let Some(field) = field else {
                return Err(ServiceError::Invalid { code: "unknown_field", detail: format!("{doc_type} has no field {name:?}") });
            };
            if value.is_empty() || value.chars().count() > MAX_VALUE {
                return Err(ServiceError::Invalid { code: "invalid_field", detail: format!("{name} has 1 to {MAX_VALUE} characters") });
            }
            let valid = match field {
                Field::OwnerId => CitizenId::parse(&value).is_ok() || EnterpriseCode::parse(&value).is_ok(),
                Field::EnterpriseCode => EnterpriseCode::parse(&value).is_ok(),
                Field::IssueDate | Field::DateOfBirth | Field::ExpiryDate => NaiveDate::parse_from_str(&value, "%Y-%m-%d").is_ok(),
                _ => true,
            };
            if !valid {
                return Err(ServiceError::Invalid { code: "invalid_field", detail: format!("{name} {value:?} is not valid") });
            }
            out.insert(name, value);
        }
        Ok(out)
    }
}
