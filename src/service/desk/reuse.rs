//! Reuse: the applicant's earlier records offered for a new dossier's components, and
//! accepting one in place of a new scan.

use super::Desk;
use crate::domain::vietnam_today;
use crate::index::{Actor, AuditEntry, Dossier, Record, RecordFilter, RecordStatus};
use crate::service::{Result, ServiceError};
use serde_json::json;
use std::collections::HashMap;

/// Most candidates offered per component.
const MAX_CANDIDATES: u32 = 5;

impl Desk<'_> {
    /// For each open component that accepts reuse, the applicant's active records of an
    /// accepted type valid today (on the desk's calendar), from any agency: the citizen
    /// should not bring paper twice.
    pub async fn reuse_candidates(&self, dossier: &Dossier) -> Result<HashMap<String, Vec<Record>>> {
        let mut out = HashMap::new();
        let Some(procedure) = self.catalog.procedure(&dossier.procedure) else { return Ok(out) };
        for c in &dossier.components {
            let Some(spec) = procedure.component(&c.component) else { continue };
            if !spec.reuse || c.status.is_satisfied() {
                continue;
            }
            let mut found = Vec::new();
            for doc_type in &spec.doc_types {
                let filter = RecordFilter {
                    owner_id: Some(dossier.applicant.id.clone()),
                    doc_type: Some(doc_type.as_str().to_owned()),
                    valid_at: Some(vietnam_today()),
                    limit: MAX_CANDIDATES,
                    ..Default::default()
                };
                found.extend(self.index.find_records(&filter).await?.into_iter().filter(|r| r.dossier.as_ref() != Some(&dossier.code)));
            }
            if !found.is_empty() {
                out.insert(c.component.clone(), found);
            }
        }
        Ok(out)
    }

    /// Links the applicant's record `record` to `component` instead of a new scan; returns
    /// the record.
    pub async fn reuse(&self, actor: Actor, dossier: &Dossier, component: &str, record: &str) -> Result<Record> {
        let spec =
            self.catalog.procedure(&dossier.procedure).and_then(|p| p.component(component)).ok_or_else(|| ServiceError::NotFound {
                code: "component_not_found",
                detail: format!("dossier {} has no component {component:?}", dossier.code),
            })?;
        if !spec.reuse {
            return Err(ServiceError::Invalid { code: "reuse_not_allowed", detail: format!("component {component} needs a new original") });
        }
        let not_found = || ServiceError::NotFound { code: "record_not_found", detail: format!("no record {record}") };
        let record = self.index.record(record).await?.ok_or_else(not_found)?;
        if record.owner_id.as_deref() != Some(dossier.applicant.id.as_str()) {
            // Someone else's record is answered as absent.
            return Err(not_found());
        }
        if !spec.doc_types.iter().any(|t| t.as_str() == record.doc_type) {
            return Err(ServiceError::Invalid {
                code: "record_wrong_type",
                detail: format!("a {} does not satisfy {component}", record.doc_type),
            });
        }
        let today = vietnam_today();
        let in_window = record.valid_from.is_none_or(|f| f <= today) && record.valid_until.is_none_or(|u| u >= today);
        if record.status != RecordStatus::Active || !in_window {
            return Err(ServiceError::Invalid {
                code: "record_not_valid",
                detail: format!("record {} is not valid on {today}", record.id),
            });
        }
        let audit = AuditEntry {
            actor,
            action: "component.reuse",
            target: String::new(),
            detail: json!({"component": component, "record": record.id}),
        };
        self.index.reuse_record(&dossier.code, component, &record.id, audit).await?;
        Ok(record)
    }
}
