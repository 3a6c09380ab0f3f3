//! An agency administrator's tokens (`/tokens`), the workers the operator watches
//! (`/workers`) and the audit search (`/audit`).

use super::body::JsonBody;
use super::{ApiError, AppState, Principal};
use crate::domain::access::{Scope, TokenListing};
use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::{AgencyCode, Role};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// Roles an agency's administrator may hand out; the operator's is the installation's.
const AGENCY_ROLES: &[Role] = &[Role::Admin, Role::Scanner, Role::Signer, Role::Consumer, Role::Auditor, Role::Worker];

/// A label names an official's key or a worker in audit entries: printable and short.
const MAX_LABEL_CHARS: usize = 100;

#[derive(Deserialize)]
pub struct ListQuery {
    role: Option<String>,
    /// Revoked tokens too; the live ones only when false (the default).
    #[serde(default)]
    revoked: bool,
}

fn parse_role(role: &str) -> Result<Role, ApiError> {
    Role::parse(role).ok_or_else(|| {
        ApiError::unprocessable("invalid_role", format!("unknown role {role:?}: use admin, scanner, signer, consumer, auditor or worker"))
    })
}

/// `GET /tokens`: the caller's agency's tokens, newest first, never their secrets.
pub async fn list(State(state): State<Arc<AppState>>, who: Principal, Query(q): Query<ListQuery>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin])?;
    let role = q.role.as_deref().map(parse_role).transpose()?;
    let tokens = state.tokens().list(Some(&who.agency), role).await?;
    let tokens: Vec<_> = tokens.into_iter().filter(|t| q.revoked || t.revoked_at_ms.is_none()).collect();
    Ok(Json(json!({ "tokens": tokens })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    role: String,
    #[serde(default)]
    label: String,
    /// For a consumer: other agencies whose records it may read.
    #[serde(default)]
    read_agencies: Vec<String>,
    /// For a consumer: the document types it may read (every type when none).
    #[serde(default)]
    doc_types: Vec<String>,
}

/// `POST /tokens`: a new token of the caller's agency; its secret is in this answer only.
pub async fn create(
    State(state): State<Arc<AppState>>,
    who: Principal,
    JsonBody(body): JsonBody<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    who.require(&[Role::Admin])?;
    let role = parse_role(&body.role)?;
    if !AGENCY_ROLES.contains(&role) {
        return Err(ApiError::forbidden("forbidden_role", format!("an agency's administrator may not create {role} tokens")));
    }
    let label = body.label.trim();
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(ApiError::unprocessable("invalid_label", format!("a label has at most {MAX_LABEL_CHARS} characters")));
    }
    if matches!(role, Role::Worker | Role::Signer) && label.is_empty() {
        return Err(ApiError::unprocessable(
            "label_required",
            format!("a {role} token names its {}", if role == Role::Worker { "worker" } else { "official's key" }),
        ));
    }
    let scope = scope(&state, role, body.read_agencies, body.doc_types)?;
    let audit = AuditEntry {
        actor: who.actor(),
        action: "token.create",
        target: String::new(),
        detail: json!({ "role": role, "label": label, "scope": scope }),
    };
    let (id, secret) = state.tokens().create(role, &who.agency, label, &scope, audit).await?;
    tracing::info!(token = id, role = role.as_str(), "token created");
    let token = state
        .tokens()
        .list(Some(&who.agency), Some(role))
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| ApiError::internal("token", format!("token {id} vanished after it was made")))?;
    Ok((StatusCode::CREATED, Json(json!({ "token": token, "secret": secret }))))
}

/// A consumer's reading scope, checked against the policy catalog: only consumers have one.
fn scope(state: &AppState, role: Role, agencies: Vec<String>, doc_types: Vec<String>) -> Result<Scope, ApiError> {
    if agencies.is_empty() && doc_types.is_empty() {
        return Ok(Scope::default());
    }
    if role != Role::Consumer {
        return Err(ApiError::unprocessable("scope_not_allowed", "read_agencies and doc_types are for consumer tokens only"));
    }
    for agency in &agencies {
        let known = AgencyCode::parse(agency).ok().is_some_and(|code| state.catalog.agencies.contains_key(&code));
        if !known {
            return Err(ApiError::unprocessable("unknown_agency", format!("agency {agency:?} is not in the policy catalog")));
        }
    }
    if let Some(unknown) = doc_types.iter().find(|t| state.catalog.doc_type(t).is_none()) {
        return Err(ApiError::unprocessable("unknown_doc_type", format!("document type {unknown:?} is not in the policy catalog")));
    }
    Ok(Scope { agencies, doc_types, every_agency: false })
}

/// `POST /tokens/{id}/revoke`: every request with the token is refused from then on.
pub async fn revoke(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<i64>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin])?;
    if id == who.token_id {
        return Err(ApiError::conflict("own_token", "a token cannot revoke itself: sign in with another administrator's token"));
    }
    let audit = AuditEntry { actor: who.actor(), action: "token.revoke", target: String::new(), detail: json!({}) };
    let token = state
        .tokens()
        .revoke(id, &who.agency, audit)
        .await?
        .ok_or_else(|| ApiError::not_found("token_not_found", format!("no token {id}")))?;
    Ok(Json(json!({ "token": token })))
}

/// `GET /workers`: the worker tokens and when each last claimed a job or renewed a lease;
/// the operator sees every agency's, an administrator its own agency's.
pub async fn workers(State(state): State<Arc<AppState>>, who: Principal) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin, Role::Operator])?;
    let agency = (who.role != Role::Operator).then_some(&who.agency);
    let workers: Vec<Value> = state
        .tokens()
        .list(agency, Some(Role::Worker))
        .await?
        .into_iter()
        .filter(|t| t.revoked_at_ms.is_none())
        .map(|t: TokenListing| {
            json!({
                "id": t.id, "label": t.label, "agency": t.agency, "every_agency": t.scope.every_agency,
                "created_at_ms": t.created_at_ms, "last_seen_at_ms": t.last_seen_at_ms,
            })
        })
        .collect();
    Ok(Json(json!({ "workers": workers })))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    target: Option<String>,
    action: Option<String>,
    actor: Option<String>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    limit: Option<u32>,
}

/// `GET /audit`: entries newest first, by target, action (or its family), actor and time.
pub async fn audit(State(state): State<Arc<AppState>>, who: Principal, Query(q): Query<AuditQuery>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Auditor, Role::Admin, Role::Operator])?;
    let nonempty = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    // Auditors and administrators see their own agency's entries only; the operator every agency's.
    let filter = AuditFilter {
        agency: who.agency_scope().cloned(),
        target: nonempty(q.target),
        action: nonempty(q.action),
        actor: nonempty(q.actor),
        from_ms: q.from_ms,
        to_ms: q.to_ms,
        limit: q.limit.unwrap_or(100).clamp(1, 1000),
    };
    let entries = state.tokens().audit_log(&filter).await?;
    Ok(Json(json!({ "entries": entries })))
}
