//! The transparency log over HTTP: signed checkpoints, consistency proofs and records'
//! inclusion proofs, as the log service computes them.

use super::records::{read, ReadQuery};
use super::{ApiError, AppState, Principal};
use crate::domain::reads::ReadKind;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::Arc;

/// `GET /tlog/checkpoint`: the current tree, as a signed note.
pub async fn checkpoint(State(state): State<Arc<AppState>>, _who: Principal) -> Result<Response, ApiError> {
    let text = state.log().checkpoint().await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text.to_string()).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    pub(super) from: u64,
    /// Defaults to the current size.
    pub(super) to: Option<u64>,
}

/// `GET /tlog/consistency?from=M&to=N`: that the tree of M leaves is a prefix of the one of N.
pub async fn consistency(
    State(state): State<Arc<AppState>>,
    _who: Principal,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Response, ApiError> {
    Ok(Json(state.log().consistency(q.from, q.to).await?).into_response())
}

/// `GET /records/{id}/proof`: the record's inclusion in the current tree, with the signed
/// checkpoint of that tree when the log has a key. Readers as for the record itself.
pub async fn record_proof(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<String>,
    Query(q): Query<ReadQuery>,
) -> Result<Response, ApiError> {
    let record = read(&state, &who, &id, ReadKind::Proof, &q).await?;
    Ok(Json(state.log().inclusion(record).await?).into_response())
}
