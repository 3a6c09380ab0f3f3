//! The one mapping from errors to HTTP: `application/problem+json` with a stable `code`.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError { status, code, detail: detail.into() }
    }
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }
    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }
    pub fn not_found(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, detail)
    }
    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, detail)
    }
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }
    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        tracing::error!(error = %err, "{context}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server could not complete the request")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "type": format!("urn:sohoa:problem:{}", self.code),
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "code": self.code,
            "detail": self.detail,
        });
        let mut response = (self.status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // A dependency is down or the service is full: a client may ask again soon.
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<crate::index::IndexError> for ApiError {
    fn from(e: crate::index::IndexError) -> Self {
        match e {
            crate::index::IndexError::SequenceExhausted { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "sequence_exhausted", e.to_string())
            }
            crate::index::IndexError::Refused { code, detail } => ApiError::conflict(code, detail),
            crate::index::IndexError::Unavailable(e) => {
                tracing::warn!(error = %e, "index unavailable");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "index_unavailable", "the index cannot be reached; try again shortly")
            }
            e => ApiError::internal("index error", e),
        }
    }
}

impl From<crate::registry::RegistryError> for ApiError {
    fn from(e: crate::registry::RegistryError) -> Self {
        match e {
            crate::registry::RegistryError::Archive(e) => e.into(),
            crate::registry::RegistryError::Index(e) => e.into(),
        }
    }
}

impl From<crate::service::ServiceError> for ApiError {
    fn from(e: crate::service::ServiceError) -> Self {
        use crate::service::ServiceError as S;
        match e {
            S::Conflict { code, detail } => ApiError::conflict(code, detail),
            S::Invalid { code, detail } => ApiError::unprocessable(code, detail),
            S::NotFound { code, detail } => ApiError::not_found(code, detail),
            S::BadRequest { code, detail } => ApiError::bad_request(code, detail),
            S::Unavailable { code, detail } => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, detail),
            S::Forbidden { code, detail } => ApiError::forbidden(code, detail),
            S::TooLarge { code, detail } => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code, detail),
            S::Unsupported { code, detail } => ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, code, detail),
            S::Internal { context, detail } => ApiError::internal(context, detail),
            S::Index(e) => e.into(),
            S::Archive(e) => e.into(),
        }
    }
}

impl From<crate::archive::ArchiveError> for ApiError {
    fn from(e: crate::archive::ArchiveError) -> Self {
        use crate::archive::ArchiveError as A;
        match e {
            // Something the index says is archived is not there or not intact: the service's
            // fault, never served, and named so an operator can run fixity.
            A::Corrupt { .. } | A::Missing { .. } => {
                tracing::error!(code = e.code(), error = %e, "archive object failed its check");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.code(), e.to_string())
            }
            A::ManifestExists { .. } => ApiError::conflict(e.code(), e.to_string()),
            A::Store { .. } => {
                tracing::error!(error = %e, "archive unavailable");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code(), "the archive cannot be reached")
            }
            e => ApiError::internal("archive error", e),
        }
    }
}
