//! Access transparency over HTTP: who read an owner's records, when and why, as the desk
//! shows it on the owner's request; and the access log's signed checkpoints and consistency
//! proofs, for auditors to keep.

use super::{ApiError, AppState, Principal};
use crate::domain::reads::{ReadEntry, ReadFilter};
use crate::domain::{vietnam_time, CitizenId, EnterpriseCode, Role};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Staff who answer an owner at the desk, and those who audit them.
const STAFF: [Role; 3] = [Role::Admin, Role::Scanner, Role::Auditor];
const DEFAULT_PAGE: u32 = 100;
const MAX_PAGE: u32 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnerQuery {
    /// Entries numbered below this one (the last page's `next_cursor`).
    cursor: Option<u64>,
    limit: Option<u32>,
}

pub fn render(e: &ReadEntry) -> Value {
    let r = &e.entry;
    json!({
        "seq": e.seq,
        "at": vietnam_time(r.at_ms),
        "reader": {
            "token": r.reader.token_id,
            "label": r.reader.label,
            "role": r.reader.role,
            "agency": r.reader.agency,
        },
        "record": r.record,
        "record_agency": r.record_agency,
        "read": r.read,
        "purpose": r.purpose,
        "request_id": r.reader.request_id,
    })
}

/// `GET /owners/{id}/access`: reads of the owner's records held by the caller's agency,
/// newest first, whoever read them (another agency's consumer included).
pub async fn of_owner(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(owner): Path<String>,
    Query(q): Query<OwnerQuery>,
) -> Result<Json<Value>, ApiError> {
    who.require(&STAFF)?;
    if CitizenId::parse(&owner).is_err() && EnterpriseCode::parse(&owner).is_err() {
        return Err(ApiError::bad_request("invalid_owner", format!("{owner:?} is neither a citizen id nor an enterprise code")));
    }
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let filter = ReadFilter { owner_id: owner.clone(), record_agency: Some(who.agency.clone()), before: q.cursor, limit };
    let entries = state.reads().of_owner(&filter).await?;
    let next = (entries.len() as u32 == limit).then(|| entries.last().map(|e| e.seq)).flatten();
    Ok(Json(json!({
        "owner": owner,
        "agency": who.agency.as_str(),
        "entries": entries.iter().map(render).collect::<Vec<_>>(),
        "next_cursor": next,
    })))
}

/// `GET /access/checkpoint`: the access log's current tree, as a signed note.
pub async fn checkpoint(State(state): State<Arc<AppState>>, _who: Principal) -> Result<Response, ApiError> {
    let text = state.access_log().checkpoint().await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text.to_string()).into_response())
}

/// `GET /access/consistency?from=M&to=N`: that the access log of M entries is a prefix of
/// the one of N.
pub async fn consistency(
    State(state): State<Arc<AppState>>,
    _who: Principal,
    Query(q): Query<super::tlog::ConsistencyQuery>,
) -> Result<Response, ApiError> {
    Ok(Json(state.access_log().consistency(q.from, q.to).await?).into_response())
}
