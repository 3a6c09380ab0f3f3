//! Bearer tokens: `sohoa_<64 hex>`, stored as their SHA-256; one role and one agency each.

use super::{ApiError, AppState, RequestId};
use crate::domain::access::Scope;
use crate::domain::audit::Actor;
use crate::domain::reads::Reader;
use crate::domain::{AgencyCode, Role};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use std::sync::Arc;

/// The caller, once its token checked out.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: i64,
    pub role: Role,
    pub agency: AgencyCode,
    /// The token's label: for a signer, the name of the official's server-held key.
    pub label: String,
    /// For a consumer: the other agencies and the document types it may read.
    pub scope: Scope,
    pub request_id: String,
}

impl Principal {
    /// Deny unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            return Ok(());
        }
        let allowed: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
        Err(ApiError::forbidden("forbidden_role", format!("role {} may not do this (needs {})", self.role, allowed.join(" or "))))
    }

    /// Whether the thing belongs to the caller's agency. Another agency's things are answered
    /// as absent (404), never 403: a refusal would tell which ids exist.
    pub fn owns(&self, agency: &AgencyCode) -> bool {
        &self.agency == agency
    }

    /// The agency whose jobs and audit entries the caller reaches; `None` for the
    /// installation's operator, who reaches every agency's, and for a shared worker's jobs.
    pub fn agency_scope(&self) -> Option<&AgencyCode> {
        let installation = self.role == Role::Operator || (self.role == Role::Worker && self.scope.every_agency);
        (!installation).then_some(&self.agency)
    }

    /// The agencies whose records the caller may read: its own, and for a consumer those
    /// its scope names.
    pub fn readable_agencies(&self) -> Vec<AgencyCode> {
        let mut agencies = vec![self.agency.clone()];
        if self.role == Role::Consumer {
            agencies.extend(self.scope.agencies.iter().filter_map(|a| AgencyCode::parse(a).ok()));
        }
        agencies
    }

    /// The document types the caller may read; every type when empty.
    pub fn readable_types(&self) -> &[String] {
        if self.role == Role::Consumer {
            &self.scope.doc_types
        } else {
            &[]
        }
    }

    /// Whether a record of `agency` and `doc_type` is the caller's to read.
    pub fn may_read(&self, agency: &AgencyCode, doc_type: &str) -> bool {
        let types = self.readable_types();
        self.readable_agencies().contains(agency) && (types.is_empty() || types.iter().any(|t| t == doc_type))
    }

    /// The caller as the access log names a reader.
    pub fn reader(&self) -> Reader {
        Reader {
            token_id: self.token_id,
            label: self.label.clone(),
            role: self.role.as_str().to_owned(),
            agency: self.agency.to_string(),
            request_id: self.request_id.clone(),
        }
    }

    pub fn actor(&self) -> Actor {
        Actor {
            id: format!("token:{}", self.token_id),
            role: self.role.as_str().to_owned(),
            agency: self.agency.to_string(),
            request_id: self.request_id.clone(),
        }
    }
}

fn unauthenticated(code: &'static str, detail: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, detail)
}

impl FromRequestParts<Arc<AppState>> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| unauthenticated("missing_token", "send Authorization: Bearer <token>"))?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .ok_or_else(|| unauthenticated("invalid_token", "the Authorization header is not a bearer token"))?;
        let info =
            state.tokens().by_secret(secret).await?.ok_or_else(|| unauthenticated("invalid_token", "the token is unknown or revoked"))?;
        let request_id = parts.extensions.get::<RequestId>().map(|r| r.0.clone()).unwrap_or_default();
        Ok(Principal { token_id: info.id, role: info.role, agency: info.agency, label: info.label, scope: info.scope, request_id })
    }
}

/// `GET /me`: who the token is (its number, role, agency, label), for the desk to sign in with.
pub async fn me(who: Principal) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "id": who.token_id, "role": who.role, "agency": who.agency.as_str(), "label": who.label }))
}
