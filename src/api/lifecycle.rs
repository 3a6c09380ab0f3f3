//! The end of a record's life: revocation and supersession, legal holds, and disposal
//! after retention, always after an admin's review and never by itself.

use super::body::JsonBody;
use super::records::{load, render};
use super::{ApiError, AppState, Principal};
use crate::domain::audit::AuditEntry;
use crate::domain::record::{Hold, RecordStatus, RetentionCutoff, StatusChange};
use crate::domain::{vietnam_time, vietnam_today, Role};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{Months, NaiveDate};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

const MAX_REASON: usize = 1000;

fn reason(text: &str) -> Result<String, ApiError> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_REASON {
        return Err(ApiError::unprocessable("invalid_reason", format!("a reason of 1 to {MAX_REASON} characters is required")));
    }
    Ok(text.to_owned())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeBody {
    reason: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupersedeBody {
    reason: String,
    /// The newer record of the same agency that replaces this one.
    by: String,
}

/// `POST /records/{id}/revoke {reason}`: the record is no longer valid; it stays archived,
/// logged and retrievable, marked revoked.
pub async fn revoke(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RevokeBody>,
) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin])?;
    let reason = reason(&body.reason)?;
    change_status(&state, &who, &id, StatusChange { status: RecordStatus::Revoked, reason, by: who.actor().id, superseded_by: None }).await
}

/// `POST /records/{id}/supersede {reason, by}`.
pub async fn supersede(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SupersedeBody>,
) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin])?;
    let reason = reason(&body.reason)?;
    let change = StatusChange { status: RecordStatus::Superseded, reason, by: who.actor().id, superseded_by: Some(body.by) };
    change_status(&state, &who, &id, change).await
}

async fn change_status(state: &AppState, who: &Principal, id: &str, change: StatusChange) -> Result<Json<Value>, ApiError> {
    load(state, who, id).await?;
    let action = if change.status == RecordStatus::Revoked { "record.revoke" } else { "record.supersede" };
    let detail = json!({"reason": change.reason, "superseded_by": change.superseded_by});
    let audit = AuditEntry { actor: who.actor(), action, target: String::new(), detail };
    let record = state
        .records()
        .change_status(id, change, audit)
        .await?
        .ok_or_else(|| ApiError::not_found("record_not_found", format!("no record {id}")))?;
    Ok(Json(render(&record)))
}

fn render_hold(h: &Hold) -> Value {
    json!({
        "id": h.id,
        "target": h.target,
        "reason": h.reason,
        "placed_by": h.placed_by,
        "placed_at": vietnam_time(h.placed_at_ms),
        "released_by": h.released_by,
        "released_at": h.released_at_ms.map(vietnam_time),
        "in_force": h.released_at_ms.is_none(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    record: Option<String>,
    dossier: Option<String>,
    reason: String,
}

/// `POST /holds {record | dossier, reason}`: 201 with the hold.
pub async fn place(
    State(state): State<Arc<AppState>>,
    who: Principal,
    JsonBody(body): JsonBody<HoldBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    who.require(&[Role::Admin])?;
    let reason = reason(&body.reason)?;
    let target = match (body.record, body.dossier) {
        (Some(record), None) => {
            load(&state, &who, &record).await?;
            format!("record:{record}")
        }
        (None, Some(dossier)) => {
            let dossier = super::dossiers::load(&state, &who, &dossier).await?;
            format!("dossier:{}", dossier.code)
        }
        _ => return Err(ApiError::unprocessable("invalid_hold_target", "name exactly one of record or dossier")),
    };
    let audit = AuditEntry { actor: who.actor(), action: "hold.place", target: String::new(), detail: json!({"reason": reason}) };
    let hold = state.records().place_hold(&who.agency, &target, &reason, audit).await?;
    Ok((StatusCode::CREATED, Json(render_hold(&hold))))
}

/// `POST /holds/{id}/release`.
pub async fn release(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<i64>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin])?;
    let audit = AuditEntry { actor: who.actor(), action: "hold.release", target: String::new(), detail: json!({"hold": id}) };
    let hold = state
        .records()
        .release_hold(&who.agency, id, audit)
        .await?
        .ok_or_else(|| ApiError::not_found("hold_not_found", format!("no hold {id} in force")))?;
    Ok(Json(render_hold(&hold)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldsQuery {
    in_force: Option<bool>,
    limit: Option<u32>,
}

/// `GET /holds?in_force=`.
pub async fn list(State(state): State<Arc<AppState>>, who: Principal, Query(q): Query<HoldsQuery>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin, Role::Auditor])?;
    let holds = state.records().holds(&who.agency, q.in_force.unwrap_or(false), q.limit.unwrap_or(100).clamp(1, 1000)).await?;
    Ok(Json(json!({ "holds": holds.iter().map(render_hold).collect::<Vec<_>>() })))
}

/// Retention rules with a finite period, as cutoffs for `today`.
fn cutoffs(state: &AppState, today: NaiveDate) -> Vec<RetentionCutoff> {
    state
        .catalog
        .retention
        .values()
        .filter_map(|r| {
            let cutoff = today.checked_sub_months(Months::new(r.years? * 12))?;
            Some(RetentionCutoff { doc_type: r.doc_type.to_string(), cutoff })
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewQuery {
    limit: Option<u32>,
}

/// `GET /disposal`: records past their retention period and under no hold, for an admin
/// to review. Nothing is disposed of without `POST /records/{id}/dispose`.
pub async fn review(State(state): State<Arc<AppState>>, who: Principal, Query(q): Query<ReviewQuery>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin, Role::Auditor])?;
    let today = vietnam_today();
    let rules = cutoffs(&state, today);
    let records = state.records().disposal_candidates(&who.agency, &rules, q.limit.unwrap_or(100).clamp(1, 1000)).await?;
    Ok(Json(json!({ "as_of": today.to_string(), "records": records.iter().map(render).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DisposeBody {
    reason: String,
}

/// `POST /records/{id}/dispose {reason}`: removes the content of a record past retention;
/// the manifest, the log leaf and the audit trail stay.
pub async fn dispose(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<DisposeBody>,
) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin])?;
    let reason = reason(&body.reason)?;
    let record = load(&state, &who, &id).await?;
    let rule = cutoffs(&state, vietnam_today())
        .into_iter()
        .find(|r| r.doc_type == record.doc_type)
        .ok_or_else(|| ApiError::conflict("retention_permanent", format!("{} records are kept permanently", record.doc_type)))?;
    let audit = AuditEntry { actor: who.actor(), action: "record.dispose", target: String::new(), detail: json!({"reason": reason}) };
    let record = state.records().dispose(&id, &rule, &reason, audit).await?;
    Ok(Json(render(&record)))
}
