//! Corrections by the desk (the work is the desk service's): the right document type and
//! fields of a sealed scan, and the labels they leave.

use super::body::JsonBody;
use super::{dossiers, records, ApiError, AppState, Principal};
use crate::domain::{vietnam_time, Role};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorrectionBody {
    doc_type: String,
    /// Field name to value; names from the document type's fields, and `owner_id`.
    #[serde(default)]
    fields: BTreeMap<String, String>,
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
    let (stored, old) = state.desk().correct(who.actor(), &scan, &dossier, &body.doc_type, body.fields).await?;
    let dossier = dossiers::load(&state, &who, scan.dossier.as_str()).await?;
    let offered = super::reuse::candidates(&state, &dossier).await?;
    Ok(Json(json!({
        "record": records::render(&stored),
        "replaces": old,
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
    let items = state.desk().corrections(&who.agency, q.limit.unwrap_or(100).clamp(1, 1000)).await?;
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
