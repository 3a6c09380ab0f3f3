//! Records for reuse and retrieval: find by owner, type and validity; metadata; content
//! verified on read, with ETag and Range. Every read is logged before it is served; a
//! consumer reading a person's records names its purpose.

use super::{ApiError, AppState, Principal};
use crate::domain::reads::{is_personal, Purpose, ReadKind};
use crate::domain::record::{Record, RecordCursor, RecordFilter, RecordStatus};
use crate::domain::{vietnam_time, Role};
use crate::service::reads::require_purpose;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Roles that look records up: other systems, desks checking for reuse, auditors.
const READERS: [Role; 4] = [Role::Consumer, Role::Scanner, Role::Auditor, Role::Admin];
const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;

pub fn render(r: &Record) -> Value {
    let day = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
    json!({
        "id": r.id,
        "kind": r.kind,
        "agency": r.agency,
        "dossier": r.dossier,
        "component": r.component,
        "owner_id": r.owner_id,
        "doc_type": r.doc_type,
        "number": r.number,
        "issue_date": day(r.issue_date),
        "valid_from": day(r.valid_from),
        "valid_until": day(r.valid_until),
        "digest": r.digest.prefixed(),
        "size": r.size,
        "manifest_digest": r.manifest_digest.prefixed(),
        "signatures": r.summary.get("signatures"),
        "classification": r.summary.get("classification"),
        "fields": r.summary.get("fields"),
        "flags": r.summary.get("flags"),
        // who digitized a back-file document, and when
        "digitized": r.summary.get("digitized"),
        "log_index": r.log_index,
        "status": r.status,
        "status_reason": r.status_reason,
        "superseded_by": r.superseded_by,
        "created_at": vietnam_time(r.created_at_ms),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindQuery {
    owner: Option<String>,
    #[serde(rename = "type")]
    doc_type: Option<String>,
    valid_at: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
    purpose: Option<String>,
}

/// `?purpose=`: the dossier code or procedure code a read serves.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    purpose: Option<String>,
}

/// The purpose given, parsed; 400 `invalid_purpose` when it names neither a dossier nor a
/// procedure.
pub(super) fn purpose(text: Option<&str>) -> Result<Option<Purpose>, ApiError> {
    text.map(|p| Purpose::parse(p).map_err(|e| ApiError::bad_request("invalid_purpose", e.to_string()))).transpose()
}

pub async fn find(State(state): State<Arc<AppState>>, who: Principal, Query(q): Query<FindQuery>) -> Result<Json<Value>, ApiError> {
    who.require(&READERS)?;
    let valid_at = q
        .valid_at
        .as_deref()
        .map(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| ApiError::bad_request("invalid_date", "valid_at must be YYYY-MM-DD")))
        .transpose()?;
    let after = q
        .cursor
        .as_deref()
        .map(|c| RecordCursor::parse(c).ok_or_else(|| ApiError::bad_request("invalid_cursor", "cursor is not one this service gave out")))
        .transpose()?;
    if let Some(t) = &q.doc_type {
        if state.catalog.doc_type(t).is_none() {
            return Err(ApiError::bad_request("unknown_doc_type", format!("no document type {t:?} in the catalog")));
        }
    }
    let purpose = purpose(q.purpose.as_deref())?;
    // A consumer says why before it searches, unless it names an owner who is not a person:
    // the answer alone would tell whose records exist.
    let names_no_person = q.owner.as_deref().is_some_and(|o| !is_personal(Some(o)));
    if who.role == Role::Consumer && purpose.is_none() && !names_no_person {
        return Err(ApiError::bad_request(
            "purpose_required",
            "a consumer's lookup may return a person's records: say why with purpose=<dossier code or procedure code> (Decree 13/2023)",
        ));
    }
    let limit = q.limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE);
    let filter = RecordFilter {
        agencies: who.readable_agencies(),
        doc_types: who.readable_types().to_vec(),
        owner_id: q.owner,
        doc_type: q.doc_type,
        valid_at,
        after,
        limit,
        ..Default::default()
    };
    let records = state.records().find(&filter).await?;
    require_purpose(who.role, &records, purpose.as_ref())?;
    state.reads().log(&who.reader(), &records, ReadKind::Lookup, purpose.as_ref()).await?;
    let next = (records.len() as u32 == limit)
        .then(|| records.last().map(|r| RecordCursor { created_at_ms: r.created_at_ms, id: r.id.clone() }.encode()))
        .flatten();
    Ok(Json(json!({ "records": records.iter().map(render).collect::<Vec<_>>(), "next_cursor": next })))
}

/// Record `id` as `who` may read it, its read (`read`, for `purpose`) logged first.
pub(super) async fn read(state: &AppState, who: &Principal, id: &str, read: ReadKind, q: &ReadQuery) -> Result<Record, ApiError> {
    let purpose = purpose(q.purpose.as_deref())?;
    let record = load(state, who, id).await?;
    require_purpose(who.role, std::slice::from_ref(&record), purpose.as_ref())?;
    state.reads().log(&who.reader(), std::slice::from_ref(&record), read, purpose.as_ref()).await?;
    Ok(record)
}

pub(super) async fn load(state: &AppState, who: &Principal, id: &str) -> Result<Record, ApiError> {
    who.require(&READERS)?;
    let record = state.records().get(id).await?.ok_or_else(|| ApiError::not_found("record_not_found", format!("no record {id}")))?;
    // A record the caller may not read is answered as absent: its existence is not theirs.
    if !who.may_read(&record.agency, &record.doc_type) {
        return Err(ApiError::not_found("record_not_found", format!("no record {id}")));
    }
    Ok(record)
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<String>,
    Query(q): Query<ReadQuery>,
) -> Result<Json<Value>, ApiError> {
    let record = read(&state, &who, &id, ReadKind::Metadata, &q).await?;
    Ok(Json(render(&record)))
}

/// The record's manifest: the canonical JSON whose SHA-256 is its log leaf.
pub async fn manifest(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<String>,
    Query(q): Query<ReadQuery>,
) -> Result<Response, ApiError> {
    let record = read(&state, &who, &id, ReadKind::Manifest, &q).await?;
    let bytes = state.records().manifest(&record).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

/// The sealed or signed PDF, re-hashed before it is served; `Range: bytes=a-b` gives a part.
pub async fn content(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<String>,
    Query(q): Query<ReadQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = read(&state, &who, &id, ReadKind::Content, &q).await?;
    if record.status == RecordStatus::Disposed {
        return Err(ApiError::new(StatusCode::GONE, "record_disposed", format!("record {id} was disposed of after its retention period")));
    }
    let etag = format!("\"{}\"", record.digest.prefixed());
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let bytes = state.records().content(&record).await?;
    let mut response = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(range) => match byte_range(range, bytes.len() as u64) {
            Some((start, end)) => {
                let part = bytes.slice(start as usize..=end as usize);
                let mut r = (StatusCode::PARTIAL_CONTENT, part).into_response();
                let value = format!("bytes {start}-{end}/{}", bytes.len());
                r.headers_mut()
                    .insert(header::CONTENT_RANGE, HeaderValue::from_str(&value).map_err(|e| ApiError::internal("content-range", e))?);
                r
            }
            None => {
                let mut r =
                    ApiError::new(StatusCode::RANGE_NOT_SATISFIABLE, "range_not_satisfiable", format!("{range} is outside the content"))
                        .into_response();
                let value = format!("bytes */{}", bytes.len());
                r.headers_mut()
                    .insert(header::CONTENT_RANGE, HeaderValue::from_str(&value).map_err(|e| ApiError::internal("content-range", e))?);
                return Ok(r);
            }
        },
        None => bytes.into_response(),
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, HeaderValue::from_str(&etag).map_err(|e| ApiError::internal("etag", e))?);
    Ok(response)
}

/// One `bytes=` range (`a-b`, `a-`, `-n`) within `len`, inclusive; None when unsatisfiable.
fn byte_range(header: &str, len: u64) -> Option<(u64, u64)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (len.saturating_sub(n), len - 1)
        }
        (a, "") => (a.parse().ok()?, len - 1),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(len - 1)),
    };
    (start <= end && start < len).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::byte_range;

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(byte_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(byte_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(byte_range("bytes=50-1000", 100), Some((50, 99)));
        assert_eq!(byte_range("bytes=100-", 100), None);
        assert_eq!(byte_range("bytes=9-0", 100), None);
        assert_eq!(byte_range("bytes=0-1,5-6", 100), None);
        assert_eq!(byte_range("items=0-1", 100), None);
    }
}
