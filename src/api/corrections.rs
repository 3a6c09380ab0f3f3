//! Corrections by the desk: the right document type and fields of a sealed scan. The
//! corrected record supersedes the sealed one (same content, new manifest and log leaf),
//! the component is checked again, and the label is kept for evaluating classification.

use super::body::JsonBody;
use super::{dossiers, records, ApiError, AppState, Principal};
use crate::domain::random_hex;
use crate::domain::{vietnam_time, CitizenId, Digest, EnterpriseCode, Role};
use crate::index::{AuditEntry, NewRecord, Record, RecordStatus};
use crate::policy::validity_window;
use crate::policy::Field;
use crate::registry::{self, Lineage};
use crate::service::desk::check_component;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How far a chain of corrections is followed to the record in force.
const MAX_CHAIN: usize = 50;
const MAX_VALUE: usize = 300;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    doc_type: String,
    /// Field name to value; names from the document type's fields, and `owner_id`.
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

/// The record now standing for the scan: its sealed record, followed through earlier
/// corrections.
async fn current_record(state: &AppState, scan: i64) -> Result<Record, ApiError> {
    let mut record = state
        .index
        .record_for_scan(scan)
        .await?
        .ok_or_else(|| ApiError::conflict("scan_not_sealed", format!("scan {scan} has no record yet")))?;
    for _ in 0..MAX_CHAIN {
        match (&record.status, &record.superseded_by) {
            (RecordStatus::Superseded, Some(next)) => {
                record = state.index.record(next).await?.ok_or_else(|| ApiError::internal("correction chain", next))?;
            }
            _ => break,
        }
    }
    if record.status != RecordStatus::Active {
        return Err(ApiError::conflict("record_not_active", format!("the record of scan {scan} is {}", record.status.as_str())));
    }
    Ok(record)
}

fn checked_fields(state: &AppState, doc_type: &str, fields: BTreeMap<String, String>) -> Result<BTreeMap<String, String>, ApiError> {
    let spec = state
        .catalog
        .doc_type(doc_type)
        .ok_or_else(|| ApiError::unprocessable("unknown_doc_type", format!("no document type {doc_type:?} in the catalog")))?;
    let mut out = BTreeMap::new();
    for (name, value) in fields {
        let value = value.trim().to_owned();
        let field = Field::parse(&name).filter(|f| *f == Field::OwnerId || spec.fields.contains(f));
        let Some(field) = field else {
            return Err(ApiError::unprocessable("unknown_field", format!("{doc_type} has no field {name:?}")));
        };
        if value.is_empty() || value.chars().count() > MAX_VALUE {
            return Err(ApiError::unprocessable("invalid_field", format!("{name} has 1 to {MAX_VALUE} characters")));
        }
        let valid = match field {
            Field::OwnerId => CitizenId::parse(&value).is_ok() || EnterpriseCode::parse(&value).is_ok(),
            Field::EnterpriseCode => EnterpriseCode::parse(&value).is_ok(),
            Field::IssueDate | Field::DateOfBirth | Field::ExpiryDate => NaiveDate::parse_from_str(&value, "%Y-%m-%d").is_ok(),
            _ => true,
        };
        if !valid {
            return Err(ApiError::unprocessable("invalid_field", format!("{name} {value:?} is not valid")));
        }
        out.insert(name, value);
    }
    Ok(out)
}

/// `POST /scans/{id}/correction {doc_type, fields}`.
pub async fn correct(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<CorrectionBody>,
) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Scanner])?;
    let scan = super::scans::own_scan(&state, &who, id).await?;
    let dossier = dossiers::load(&state, &who, scan.dossier.as_str()).await?;
    let fields = checked_fields(&state, &body.doc_type, body.fields)?;
    let old = current_record(&state, id).await?;

    let get = |name: &str| fields.get(name).cloned();
    let owner_id = get("owner_id").or_else(|| old.owner_id.clone());
    let issue_date = match get("issue_date") {
        Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok(),
        None => old.issue_date,
    };
    let validity = state.catalog.doc_type(&body.doc_type).map(|t| t.validity);
    let expiry = match get("expiry_date") {
        Some(d) => NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok(),
        None => old.valid_until,
    };
    let (valid_from, valid_until) = validity_window(validity, issue_date, expiry);
    let check = check_component(&state.catalog, &dossier, &scan.component, &body.doc_type, owner_id.as_deref());
    let mut merged: Map<String, Value> = old.summary.get("fields").and_then(Value::as_object).cloned().unwrap_or_default();
    for (name, value) in &fields {
        merged.insert(name.clone(), json!({"value": value, "confidence": 1.0, "corrected": true}));
    }
    let mut summary = old.summary.clone();
    summary["classification"] = json!({"doc_type": body.doc_type, "confidence": 1.0, "corrected": true});
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
        doc_type: body.doc_type.clone(),
        number: get("document_number").or_else(|| old.number.clone()),
        issue_date,
        valid_from,
        valid_until,
        digest: old.digest.clone(),
        size: old.size,
        manifest_digest: Digest::of(b""),
        summary,
    };
    let label = json!({"doc_type": body.doc_type, "fields": fields});
    let audit = AuditEntry {
        actor: who.actor(),
        action: "scan.correct",
        target: String::new(),
        detail: json!({"scan": id, "label": &label, "flags": check.flags, "replaces": old.id}),
    };
    let lineage = Lineage::Corrects { old: old.id.clone(), scan: id, label };
    let stored = registry::store(state.index.as_ref(), &state.archive, record, check, audit, lineage).await?;
    let dossier = dossiers::load(&state, &who, scan.dossier.as_str()).await?;
    let offered = super::reuse::candidates(&state, &dossier).await?;
    Ok(Json(json!({
        "record": records::render(&stored),
        "replaces": old.id,
        "dossier": dossiers::render(&dossier, &state.catalog, &offered),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<u32>,
}

/// `GET /corrections`: the agency's corrections, newest first: labelled data.
pub async fn list(State(state): State<Arc<AppState>>, who: Principal, Query(q): Query<ListQuery>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin, Role::Auditor])?;
    let items = state.index.corrections(&who.agency, q.limit.unwrap_or(100).clamp(1, 1000)).await?;
    let items: Vec<Value> = items
        .iter()
        .map(|c| {
            json!({
                "scan": c.scan, "old_record": c.old_record, "new_record": c.new_record,
                "label": c.label, "actor": c.actor, "at": vietnam_time(c.at_ms),
            })
        })
        .collect();
    Ok(Json(json!({ "corrections": items })))
}
