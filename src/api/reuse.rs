//! Reuse: the applicant's earlier records offered for a new dossier's components, and
//! accepting one in place of a new scan.

use super::body::JsonBody;
use super::{dossiers, records, ApiError, AppState, Principal};
use crate::domain::{vietnam_today, Role};
use crate::index::{AuditEntry, Dossier, Record, RecordFilter, RecordStatus};
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Most candidates offered per component.
const MAX_CANDIDATES: u32 = 5;

/// Today in Vietnam: validity is judged on the desk's calendar.
/// For each open component that accepts reuse, the applicant's active records of an
/// accepted type valid today, from any agency: the citizen should not bring paper twice.
pub async fn candidates(state: &AppState, dossier: &Dossier) -> Result<HashMap<String, Vec<Value>>, ApiError> {
    let mut out = HashMap::new();
    let Some(procedure) = state.catalog.procedure(&dossier.procedure) else { return Ok(out) };
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
            found
                .extend(state.index.find_records(&filter).await?.iter().filter(|r| r.dossier.as_ref() != Some(&dossier.code)).map(summary));
        }
        if !found.is_empty() {
            out.insert(c.component.clone(), found);
        }
    }
    Ok(out)
}

fn summary(r: &Record) -> Value {
    json!({
        "record": r.id,
        "doc_type": r.doc_type,
        "agency": r.agency,
        "number": r.number,
        "issue_date": r.issue_date,
        "valid_until": r.valid_until,
        "digest": r.digest.prefixed(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReuseBody {
    record: String,
}

/// `POST /dossiers/{code}/components/{component}/reuse {record}`.
pub async fn accept(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path((code, component)): Path<(String, String)>,
    JsonBody(body): JsonBody<ReuseBody>,
) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Scanner])?;
    let dossier = dossiers::load(&state, &who, &code).await?;
    let spec = state
        .catalog
        .procedure(&dossier.procedure)
        .and_then(|p| p.component(&component))
        .ok_or_else(|| ApiError::not_found("component_not_found", format!("dossier {code} has no component {component:?}")))?;
    if !spec.reuse {
        return Err(ApiError::unprocessable("reuse_not_allowed", format!("component {component} needs a new original")));
    }
    let not_found = || ApiError::not_found("record_not_found", format!("no record {}", body.record));
    let record = state.index.record(&body.record).await?.ok_or_else(not_found)?;
    if record.owner_id.as_deref() != Some(dossier.applicant.id.as_str()) {
        // Someone else's record is answered as absent.
        return Err(not_found());
    }
    if !spec.doc_types.iter().any(|t| t.as_str() == record.doc_type) {
        return Err(ApiError::unprocessable("record_wrong_type", format!("a {} does not satisfy {component}", record.doc_type)));
    }
    let today = vietnam_today();
    let in_window = record.valid_from.is_none_or(|f| f <= today) && record.valid_until.is_none_or(|u| u >= today);
    if record.status != RecordStatus::Active || !in_window {
        return Err(ApiError::unprocessable("record_not_valid", format!("record {} is not valid on {today}", record.id)));
    }
    let audit = AuditEntry {
        actor: who.actor(),
        action: "component.reuse",
        target: String::new(),
        detail: json!({"component": component, "record": record.id}),
    };
    state.index.reuse_record(&dossier.code, &component, &record.id, audit).await?;
    let dossier = dossiers::load(&state, &who, &code).await?;
    let offered = candidates(&state, &dossier).await?;
    Ok(Json(json!({ "dossier": dossiers::render(&dossier, &state.catalog, &offered), "record": records::render(&record) })))
}
