//! `POST /verify`: the verification report of a posted PDF, against the service's trust
//! anchors, for any role.

use super::{scans::read_body, ApiError, AppState, Principal};
use crate::verify::{verify_pdf, VerifyError};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::Value;
use std::sync::Arc;

pub async fn verify(State(state): State<Arc<AppState>>, _who: Principal, headers: HeaderMap, body: Body) -> Result<Json<Value>, ApiError> {
    let pdf = read_body(body, &headers, state.max_upload_bytes).await?;
    let anchors = state.trust_anchors.clone();
    // Parsing and hashing a large PDF is CPU work: off the async threads.
    let report = tokio::task::spawn_blocking(move || verify_pdf(&pdf, &anchors, chrono::Utc::now()))
        .await
        .map_err(|e| ApiError::internal("verification stopped", e))?
        .map_err(|e: VerifyError| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()))?;
    serde_json::to_value(&report).map(Json).map_err(|e| ApiError::internal("report", e))
}
