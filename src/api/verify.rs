//! `POST /verify`: the verification report of a posted PDF, against the service's trust
//! anchors, for any role; `POST /public/verify`: the same for anyone, with no token (the
//! desk's public verification page), a few at a time.

use super::{scans::read_body, ApiError, AppState, Principal};
use crate::domain::Digest;
use crate::verify::{verify_pdf, VerifyError};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::Value;
use std::sync::{Arc, LazyLock};
use tokio::sync::Semaphore;

/// Verifications run at once for callers without a token; more wait, and are refused when
/// this many more are already waiting.
const PUBLIC_AT_ONCE: usize = 2;
const PUBLIC_WAITING: usize = 16;
static PUBLIC: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(PUBLIC_AT_ONCE));
static PUBLIC_QUEUE: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(PUBLIC_AT_ONCE + PUBLIC_WAITING));

pub async fn verify(State(state): State<Arc<AppState>>, _who: Principal, headers: HeaderMap, body: Body) -> Result<Json<Value>, ApiError> {
    report(&state, headers, body).await
}

pub async fn public(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Result<Json<Value>, ApiError> {
    let Ok(_place) = PUBLIC_QUEUE.try_acquire() else {
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "too many verifications are waiting; try again shortly"));
    };
    let _turn = PUBLIC.acquire().await.map_err(|e| ApiError::internal("verification queue", e))?;
    report(&state, headers, body).await
}

/// The report, with `records`: the records whose content is this very file (empty when the
/// file is in no record of the log, as when anything was changed in it).
async fn report(state: &AppState, headers: HeaderMap, body: Body) -> Result<Json<Value>, ApiError> {
    let pdf = read_body(body, &headers, state.max_upload_bytes).await?;
    let anchors = state.trust_anchors.clone();
    // Parsing and hashing a large PDF is CPU work: off the async threads.
    let (report, digest) = tokio::task::spawn_blocking(move || (verify_pdf(&pdf, &anchors, chrono::Utc::now()), Digest::of(&pdf)))
        .await
        .map_err(|e| ApiError::internal("verification stopped", e))?;
    let report = report.map_err(|e: VerifyError| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()))?;
    let mut report = serde_json::to_value(&report).map_err(|e| ApiError::internal("report", e))?;
    report["records"] = Value::Array(super::public::records_of(state, &digest).await?);
    Ok(Json(report))
}
