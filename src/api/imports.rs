//! `POST /imports`: a back-file batch from the desk, as `multipart/form-data` (`files`, an
//! optional `sheet`, the options of `sohoa import`), stored whole and imported in the
//! background; `GET /imports/{id}`: where it stands, with its report once done.

use super::{ApiError, AppState, Principal};
use crate::domain::import_batch::ImportBatch;
use crate::domain::{vietnam_time, Role};
use crate::service::imports::posted::{BatchView, Options, Staged};
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

/// Room a multipart body takes beyond its files: part headers and boundaries.
const MULTIPART_OVERHEAD: u64 = 1024 * 1024;
/// Longest value of an option field.
const MAX_OPTION_BYTES: usize = 64;

fn render(batch: &ImportBatch) -> Value {
    json!({
        "id": batch.id,
        "state": batch.state,
        "agency": batch.agency.as_str(),
        "by": batch.by,
        "split_at_blank": batch.spec.split_at_blank,
        "dry_run": batch.spec.dry_run,
        "no_ocr": batch.spec.no_ocr,
        "files": batch.spec.files.iter().map(|f| json!({"name": f.name, "size": f.size, "digest": f.digest.prefixed()})).collect::<Vec<_>>(),
        "sheet": batch.spec.sheet.as_ref().map(|d| d.prefixed()),
        "created_at": vietnam_time(batch.created_at_ms),
        "updated_at": vietnam_time(batch.updated_at_ms),
        "error": batch.error,
    })
}

fn render_view(view: &BatchView) -> Value {
    let mut body = render(&view.batch);
    body["counts"] = json!(view.counts);
    body["report"] = view.report.clone().unwrap_or(Value::Null);
    body
}

/// A body that is not `multipart/form-data` is 415, and one declared larger than a batch may be
/// is 413 before any of it is read.
fn check_head(headers: &HeaderMap, total: u64) -> Result<(), ApiError> {
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !media.trim_start().to_ascii_lowercase().starts_with("multipart/form-data") {
        let shown: String = media.chars().take(64).collect();
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("this route takes multipart/form-data; the request's Content-Type is {shown:?}"),
        ));
    }
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > total.saturating_add(MULTIPART_OVERHEAD)) {
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "batch_too_large", format!("a batch is limited to {total} bytes")));
    }
    Ok(())
}

/// A body cut off, too slow or not multipart as declared.
fn unreadable(e: MultipartError) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(err) = cause {
        if err.downcast_ref::<crate::server::TooSlow>().is_some() {
            return ApiError::new(StatusCode::REQUEST_TIMEOUT, "body_timeout", err.to_string());
        }
        cause = err.source();
    }
    ApiError::bad_request("malformed_multipart", format!("the multipart body cannot be read: {}", e.body_text()))
}

/// An option's value: `true` or `false` (also `1`, `0`, `on`, `off`, as forms send them).
async fn text_of(field: &mut axum::extract::multipart::Field<'_>, name: &str) -> Result<String, ApiError> {
    let mut value = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
        value.extend_from_slice(&chunk);
        if value.len() > MAX_OPTION_BYTES {
            return Err(ApiError::unprocessable("invalid_option", format!("{name} is longer than {MAX_OPTION_BYTES} bytes")));
        }
    }
    String::from_utf8(value)
        .map(|v| v.trim().to_owned())
        .map_err(|_| ApiError::unprocessable("invalid_option", format!("{name} is not UTF-8")))
}

fn flag(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" | "" => Ok(false),
        _ => Err(ApiError::unprocessable("invalid_option", format!("{name} is true or false, not {value:?}"))),
    }
}

/// Who digitized the batch: the token's subject, as the access log and the audit name it.
fn digitizer(who: &Principal) -> String {
    if who.label.trim().is_empty() {
        format!("token:{}", who.token_id)
    } else {
        who.label.trim().to_owned()
    }
}

pub async fn post(State(state): State<Arc<AppState>>, who: Principal, req: Request) -> Result<Response, ApiError> {
    who.require(&[Role::Scanner, Role::Admin])?;
    check_head(req.headers(), state.import_limits.total_bytes)?;
    let mut multipart =
        Multipart::from_request(req, &state).await.map_err(|e| ApiError::bad_request("malformed_multipart", e.body_text()))?;
    let mut staged = Staged::new(state.import_limits)?;
    let mut options = Options::default();
    while let Some(mut field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "files" | "sheet" => {
                match name.as_str() {
                    "files" => staged.begin_file(field.file_name()).await?,
                    _ => staged.begin_sheet().await?,
                }
                while let Some(chunk) = field.chunk().await.map_err(unreadable)? {
                    staged.write(&chunk).await?;
                }
                staged.end().await?;
            }
            "split_at_blank" => options.split_at_blank = flag(&name, &text_of(&mut field, &name).await?)?,
            "dry_run" => options.dry_run = flag(&name, &text_of(&mut field, &name).await?)?,
            "no_ocr" => options.no_ocr = flag(&name, &text_of(&mut field, &name).await?)?,
            "agency" => {
                let agency = text_of(&mut field, &name).await?;
                if agency != who.agency.as_str() {
                    let detail = format!("a batch is imported in the caller's agency ({}), not {agency:?}", who.agency);
                    return Err(ApiError::forbidden("agency_not_own", detail));
                }
            }
            other => {
                let shown: String = other.chars().take(64).collect();
                let detail = format!("unknown part {shown:?}: files, sheet, split_at_blank, dry_run, no_ocr, agency");
                return Err(ApiError::unprocessable("unknown_part", detail));
            }
        }
    }
    let submitted = state.imports().submit(staged, who.agency.clone(), digitizer(&who), options).await?;
    let location = format!("/api/v1/imports/{}", submitted.batch.id);
    let mut body = render(&submitted.batch);
    body["restarted"] = json!(submitted.restarted);
    let mut response = (StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(body)).into_response();
    if !submitted.created {
        response.headers_mut().insert("idempotent-replayed", header::HeaderValue::from_static("true"));
    }
    Ok(response)
}

pub async fn get(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Scanner, Role::Admin, Role::Auditor])?;
    let view = state.imports().batch(&who.agency, &id).await?;
    let view =
        view.ok_or_else(|| ApiError::not_found("import_not_found", format!("no batch {}", id.chars().take(64).collect::<String>())))?;
    Ok(Json(render_view(&view)))
}
