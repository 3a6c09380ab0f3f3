//! What anyone may read of a record without a token: the page a result's QR code leads to
//! (`GET /public/records/{short}`) and the record a verified file is. Never the owner, the
//! applicant, the number or the fields: whether it stands, who issued it, of what type, when.

use super::{ApiError, AppState};
use crate::domain::record::Record;
use crate::domain::Digest;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

/// A short id is a result's id (`kq-` and hex) or a record's (hex): letters, digits, dashes.
const MAX_SHORT: usize = 64;

/// `GET /public/records/{short}`: the issued result or record a verification link names.
pub async fn record(State(state): State<Arc<AppState>>, Path(short): Path<String>) -> Result<Json<Value>, ApiError> {
    let absent = || ApiError::not_found("record_not_found", format!("no issued record {short:?}"));
    if short.is_empty() || short.len() > MAX_SHORT || !short.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(absent());
    }
    // a draft is nobody's business until issued: it answers as absent
    let record = state.records().issued(&short).await?.ok_or_else(absent)?;
    Ok(Json(view(&state, &record)))
}

/// The records whose content is exactly `pdf`, as the public may see them.
pub async fn records_of(state: &AppState, digest: &Digest) -> Result<Vec<Value>, ApiError> {
    let records = state.records().with_content(digest).await?;
    Ok(records.iter().map(|r| view(state, r)).collect())
}

fn view(state: &AppState, r: &Record) -> Value {
    let agency_name = state.catalog.agencies.get(&r.agency).map(|a| a.name.clone());
    let type_title = state.catalog.doc_type(&r.doc_type).and_then(|t| t.titles.first().cloned());
    json!({
        "kind": r.kind,
        "agency": r.agency.as_str(),
        "agency_name": agency_name,
        "doc_type": r.doc_type,
        "doc_type_title": type_title,
        "issue_date": r.issue_date,
        "status": r.status.as_str(),
        "in_log": r.log_index.is_some(),
        "log_index": r.log_index,
        "archived_at": crate::domain::vietnam_time(r.created_at_ms),
    })
}
