//! Scan upload: sniff, check limits, measure the pages' quality, store content-addressed,
//! queue the OCR job.

use super::{dossiers, ApiError, AppState, Principal};
use crate::domain::desk::Scan;
use crate::domain::{vietnam_time, Role};
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

pub fn render(s: &Scan) -> Value {
    json!({
        "id": s.id,
        "dossier": s.dossier,
        "component": s.component,
        "digest": s.digest.prefixed(),
        "media_type": s.media_type,
        "size": s.size,
        "pages": s.pages,
        "status": s.status,
        "error_code": s.error_code,
        "error": s.error,
        "job": s.job,
        "created_at": vietnam_time(s.created_at_ms),
        "quality": s.quality,
    })
}

fn accepted(scan: &Scan, replayed: bool) -> Response {
    let body = json!({ "scan": render(scan), "job": scan.job });
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", header::HeaderValue::from_static("true"));
    }
    response
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    let key = value
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| ApiError::bad_request("invalid_idempotency_key", "Idempotency-Key must be 1 to 200 visible ASCII characters"))?;
    Ok(Some(key.to_owned()))
}

pub(super) async fn read_body(body: Body, headers: &HeaderMap, limit: u64) -> Result<Bytes, ApiError> {
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "upload_too_large", format!("uploads are limited to {limit} bytes"));
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| super::body::read_error(e).unwrap_or_else(too_large))?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request("empty_upload", "the request body is empty"));
    }
    Ok(bytes)
}

pub async fn upload(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path((code, component)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    who.require(&[Role::Scanner])?;
    let dossier = dossiers::load(&state, &who, &code).await?;
    let key = idempotency_key(&headers)?.map(|k| format!("{}:{k}", who.agency));
    let bytes = read_body(body, &headers, state.max_upload_bytes).await?;
    let upload = state.desk().upload(who.actor(), &dossier, &component, key, bytes).await?;
    if !upload.replayed {
        state.jobs_queued.notify_waiters();
    }
    Ok(accepted(&upload.scan, upload.replayed))
}

pub async fn get(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<i64>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Scanner, Role::Auditor, Role::Admin])?;
    let scan = own_scan(&state, &who, id).await?;
    Ok(Json(render(&scan)))
}

/// A scan of the caller's agency; another agency's scan is answered as absent.
pub async fn own_scan(state: &AppState, who: &Principal, id: i64) -> Result<Scan, ApiError> {
    let scan = state.desk().scan(id).await?.filter(|s| who.owns(&s.dossier.agency()));
    scan.ok_or_else(|| ApiError::not_found("scan_not_found", format!("no scan {id}")))
}

/// Recognised text, word boxes and confidences per page, for the desk and classification.
pub async fn result(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<i64>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Scanner, Role::Auditor, Role::Admin])?;
    own_scan(&state, &who, id).await?;
    let result = state.desk().scan_result(id).await?;
    Ok(Json(json!({ "scan": id, "pdf": result.pdf, "pages": result.pages })))
}

/// The searchable PDF of a digitized scan, verified against its digest on the way out.
pub async fn pdf(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<i64>) -> Result<Response, ApiError> {
    who.require(&[Role::Scanner, Role::Auditor, Role::Admin])?;
    own_scan(&state, &who, id).await?;
    let result = state.desk().scan_result(id).await?;
    let (digest, bytes) = state.desk().searchable_copy(id, &result).await?;
    Ok(([(header::CONTENT_TYPE, "application/pdf"), (header::ETAG, &format!("\"{}\"", digest.prefixed()))], bytes).into_response())
}

/// `GET /scans/{id}/pages`: each page of the searchable copy as shown, in points, and the
/// fields of the record standing for the scan with their boxes on those pages.
pub async fn pages(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<i64>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Scanner, Role::Auditor, Role::Admin])?;
    let scan = own_scan(&state, &who, id).await?;
    let result = state.desk().scan_result(id).await?;
    let view = state.desk().scan_pages(&scan, &result).await?;
    Ok(Json(json!({ "scan": id, "record": view.record, "pages": view.pages, "fields": view.fields })))
}

/// `GET /scans/{id}/pages/{page}/preview?width=`: a page of the searchable copy drawn as a PNG.
pub async fn preview(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path((id, page)): Path<(i64, u32)>,
    Query(q): Query<super::results::PreviewQuery>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Scanner, Role::Auditor, Role::Admin])?;
    let scan = own_scan(&state, &who, id).await?;
    let result = state.desk().scan_result(id).await?;
    let png = state.desk().scan_preview(&scan, &result, page, q.width.unwrap_or(800)).await?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "private, no-cache")], png).into_response())
}
