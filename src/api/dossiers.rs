//! Dossier intake and reading, and the audit log.

use super::body::JsonBody;
use super::{ApiError, AppState, Principal};
use crate::domain::audit::AuditEntry;
use crate::domain::desk::{Applicant, Dossier, DossierFilter};
use crate::domain::{vietnam_offset, vietnam_time, CitizenId, DossierCode, EnterpriseCode, Role};
use crate::policy::{Catalog, Procedure};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateDossier {
    procedure: String,
    applicant: ApplicantIn,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ApplicantIn {
    kind: String,
    id: String,
    name: String,
}

/// Checks the applicant and returns it in canonical form.
fn applicant(a: ApplicantIn) -> Result<Applicant, ApiError> {
    let id = match a.kind.as_str() {
        "citizen" => CitizenId::parse(a.id.trim()).map_err(|e| ApiError::unprocessable("invalid_citizen_id", e.to_string()))?.to_string(),
        "enterprise" => {
            EnterpriseCode::parse(a.id.trim()).map_err(|e| ApiError::unprocessable("invalid_enterprise_code", e.to_string()))?.to_string()
        }
        other => {
            return Err(ApiError::unprocessable("invalid_applicant_kind", format!("applicant kind {other:?} is not citizen or enterprise")))
        }
    };
    let name = a.name.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(ApiError::unprocessable("invalid_applicant_name", "the name must be 1 to 200 printable characters"));
    }
    Ok(Applicant { kind: a.kind, id, name: name.to_owned() })
}

pub async fn create(
    State(state): State<Arc<AppState>>,
    who: Principal,
    JsonBody(body): JsonBody<CreateDossier>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(&[Role::Scanner])?;
    let applicant = applicant(body.applicant)?;
    let dossier = state.desk().create_dossier(who.actor(), &who.agency, &body.procedure, applicant).await?;
    let location = format!("/api/v1/dossiers/{}", dossier.code);
    let offered = super::reuse::candidates(&state, &dossier).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(render(&dossier, &state.catalog, &offered))))
}

/// A dossier as the desk sees it: checklist in procedure order, scans, times in +07:00.
pub fn render(d: &Dossier, catalog: &Catalog, reuse: &HashMap<String, Vec<Value>>) -> Value {
    let procedure: Option<&Procedure> = catalog.procedure(&d.procedure);
    let checklist: Vec<Value> = d
        .components
        .iter()
        .map(|c| {
            let spec = procedure.and_then(|p| p.component(&c.component));
            let scans: Vec<i64> = d.scans.iter().filter(|s| s.component == c.component).map(|s| s.id).collect();
            json!({
                "component": c.component,
                "name": spec.map(|s| s.name.as_str()),
                "required": c.required,
                "condition": spec.and_then(|s| s.condition.as_deref()),
                "doc_types": spec.map(|s| &s.doc_types),
                "reuse_allowed": spec.is_some_and(|s| s.reuse),
                "status": c.status,
                "flags": c.flags,
                "record": c.record,
                "scans": scans,
                "reused": c.reused,
                "reuse_candidates": reuse.get(&c.component).cloned().unwrap_or_default(),
            })
        })
        .collect();
    let scans: Vec<Value> = d.scans.iter().map(super::scans::render).collect();
    json!({
        "code": d.code,
        "agency": d.agency,
        "procedure": d.procedure,
        "procedure_name": procedure.map(|p| p.name.as_str()),
        "applicant": d.applicant,
        "status": d.status,
        "received_at": vietnam_time(d.received_at_ms),
        "due_at": vietnam_time(d.due_at_ms),
        "checklist": checklist,
        "scans": scans,
    })
}

/// Loads a dossier the caller may see, or the error to answer with.
pub async fn load(state: &AppState, who: &Principal, code: &str) -> Result<Dossier, ApiError> {
    let not_found = || ApiError::not_found("dossier_not_found", format!("no dossier {code:?}"));
    let code = DossierCode::parse(code).map_err(|_| not_found())?;
    state.desk().dossier(&code).await?.filter(|d| who.owns(&d.agency)).ok_or_else(not_found)
}

pub async fn get(State(state): State<Arc<AppState>>, who: Principal, Path(code): Path<String>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Scanner, Role::Auditor, Role::Admin])?;
    let dossier = load(&state, &who, &code).await?;
    let offered = super::reuse::candidates(&state, &dossier).await?;
    Ok(Json(render(&dossier, &state.catalog, &offered)))
}

#[derive(Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    /// First day of receipt, `YYYY-MM-DD`, inclusive.
    from: Option<String>,
    /// Last day of receipt, `YYYY-MM-DD`, inclusive.
    to: Option<String>,
    limit: Option<u32>,
}

fn day_start_ms(day: &str, field: &str) -> Result<i64, ApiError> {
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| ApiError::bad_request("invalid_query", format!("{field} must be a date YYYY-MM-DD")))?;
    let start = date.and_hms_opt(0, 0, 0).and_then(|d| d.and_local_timezone(vietnam_offset()).single());
    start.map(|s| s.timestamp_millis()).ok_or_else(|| ApiError::bad_request("invalid_query", format!("{field} is out of range")))
}

pub async fn list(State(state): State<Arc<AppState>>, who: Principal, Query(q): Query<ListQuery>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Scanner, Role::Auditor, Role::Admin])?;
    let to_ms = match &q.to {
        Some(to) => Some(day_start_ms(to, "to")? + 86_400_000),
        None => None,
    };
    let filter = DossierFilter {
        agency: Some(who.agency.clone()),
        status: q.status,
        from_ms: q.from.as_deref().map(|f| day_start_ms(f, "from")).transpose()?,
        to_ms,
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
    };
    let dossiers = state.desk().dossiers(&filter).await?;
    let items: Vec<Value> = dossiers.iter().map(|d| render(d, &state.catalog, &HashMap::new())).collect();
    Ok(Json(json!({ "dossiers": items })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardBody {
    /// Required to hand on a dossier whose required components are not all satisfied.
    override_reason: Option<String>,
}

/// `POST /dossiers/{code}/forward {override_reason?}`: the desk hands the dossier on to
/// processing; incomplete only with a reason, which the audit log keeps.
pub async fn forward(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(code): Path<String>,
    JsonBody(body): JsonBody<ForwardBody>,
) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Scanner, Role::Admin])?;
    let dossier = load(&state, &who, &code).await?;
    let reason = body.override_reason.as_deref().map(str::trim);
    if reason.is_some_and(|r| r.is_empty() || r.chars().count() > 1000) {
        return Err(ApiError::unprocessable("invalid_reason", "an override reason has 1 to 1000 characters"));
    }
    let audit = AuditEntry { actor: who.actor(), action: "dossier.forward", target: String::new(), detail: json!({}) };
    if !state.desk().forward(&dossier.code, reason, audit).await? {
        return Err(ApiError::not_found("dossier_not_found", format!("no dossier {code:?}")));
    }
    let dossier = load(&state, &who, &code).await?;
    let offered = super::reuse::candidates(&state, &dossier).await?;
    Ok(Json(render(&dossier, &state.catalog, &offered)))
}
