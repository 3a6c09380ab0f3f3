//! The HTTP API under `/api/v1`, plus `/healthz` and `/readyz`.

mod archive;
mod auth;
mod body;
mod catalog;
mod corrections;
mod dossiers;
mod error;
mod imports;
mod jobs;
mod lifecycle;
mod metrics;
mod openapi;
mod public;
mod reads;
mod records;
mod results;
mod reuse;
mod scans;
mod stats;
mod tlog;
mod tokens;
mod verify;

pub use crate::service::log::LogSigner;
pub use crate::service::tokens::{issue_scoped_token, issue_token};
pub use auth::Principal;
pub use error::ApiError;
pub use reads::render as render_read;

use crate::archive::Archive;
use crate::index::Index;
use crate::intake::MediaLimits;
use crate::policy::Catalog;
use crate::queue::RetryPolicy;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ring::rand::{SecureRandom, SystemRandom};
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// Everything a request handler may use.
pub struct AppState {
    pub index: Arc<dyn Index>,
    pub archive: Archive,
    pub catalog: Arc<Catalog>,
    pub max_upload_bytes: u64,
    /// What one back-file batch posted to `/imports` may hold.
    pub import_limits: crate::service::imports::posted::Limits,
    pub media_limits: MediaLimits,
    pub retry: RetryPolicy,
    /// Root certificates (DER) that verification trusts.
    pub trust_anchors: Vec<Vec<u8>>,
    /// Officials' server-held keys, by signer token label; and the chain embedded with them.
    pub officials_dir: std::path::PathBuf,
    pub officials_chain: Option<std::path::PathBuf>,
    /// Woken when a job is queued, so waiting claims answer at once.
    pub jobs_queued: Arc<Notify>,
    /// Turns true when the service begins to stop; waiting claims answer at once.
    pub stopping: watch::Sender<bool>,
    /// Signs the transparency log's checkpoints; none when no key is configured.
    pub log_signer: Option<LogSigner>,
    /// Signs the access log's checkpoints: the same key under the access log's name.
    pub access_signer: Option<LogSigner>,
    /// With a time-stamp authority, issued results are archived at PAdES B-LTA.
    pub tsa_url: Option<String>,
    /// The desk's public address, without a trailing slash: issued results link to it.
    pub public_url: String,
}

impl AppState {
    /// The desk service over this state.
    pub fn desk(&self) -> crate::service::desk::Desk<'_> {
        crate::service::desk::Desk {
            index: self.index.as_ref(),
            archive: &self.archive,
            catalog: &self.catalog,
            retry: self.retry,
            media_limits: self.media_limits,
        }
    }

    /// Records: lookups, content, status, holds and disposal.
    pub fn records(&self) -> crate::service::records::Records<'_> {
        crate::service::records::Records { index: self.index.as_ref(), archive: &self.archive }
    }

    /// The transparency log, signed with the installation's key.
    pub fn log(&self) -> crate::service::log::Log<'_> {
        crate::service::log::Log { index: self.index.as_ref(), tree: crate::service::log::Tree::Records, signer: self.log_signer.as_ref() }
    }

    /// The access log's tree, signed under its own name.
    pub fn access_log(&self) -> crate::service::log::Log<'_> {
        crate::service::log::Log {
            index: self.index.as_ref(),
            tree: crate::service::log::Tree::Access,
            signer: self.access_signer.as_ref(),
        }
    }

    /// Reads of records: logged before they are served, and listed for their owners.
    pub fn reads(&self) -> crate::service::reads::Reads<'_> {
        crate::service::reads::Reads { index: self.index.as_ref() }
    }

    /// Back-file batches posted to the service.
    pub fn imports(&self) -> crate::service::imports::posted::Posted<'_> {
        crate::service::imports::posted::Posted { index: self.index.as_ref(), archive: &self.archive, catalog: &self.catalog }
    }

    /// The job queue as workers and admins reach it.
    pub fn queue(&self) -> crate::service::queue::Queue<'_> {
        crate::service::queue::Queue {
            index: self.index.as_ref(),
            archive: &self.archive,
            retry: self.retry,
            media_limits: self.media_limits,
        }
    }

    /// Bearer tokens and the audit log.
    pub fn tokens(&self) -> crate::service::tokens::Tokens<'_> {
        crate::service::tokens::Tokens { index: self.index.as_ref() }
    }

    /// What the operator watches.
    pub fn operations(&self) -> crate::service::operations::Operations<'_> {
        crate::service::operations::Operations { index: self.index.as_ref(), archive: &self.archive }
    }

    /// The signing service over this state.
    pub fn signing(&self) -> crate::service::signing::Signing<'_> {
        crate::service::signing::Signing {
            index: self.index.as_ref(),
            archive: &self.archive,
            catalog: &self.catalog,
            trust_anchors: &self.trust_anchors,
            officials_dir: &self.officials_dir,
            officials_chain: self.officials_chain.as_deref(),
            tsa_url: self.tsa_url.as_deref(),
            public_url: &self.public_url,
        }
    }
}

/// The id of the request, from `X-Request-Id` or made up; echoed in the response.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/procedures", get(catalog::procedures))
        .route("/procedures/{id}", get(catalog::procedure))
        .route("/doc-types", get(catalog::doc_types))
        .route("/dossiers", post(dossiers::create).get(dossiers::list))
        .route("/dossiers/{code}", get(dossiers::get))
        .route("/dossiers/{code}/forward", post(dossiers::forward))
        .route("/dossiers/{code}/components/{component}/scans", post(scans::upload))
        .route("/dossiers/{code}/components/{component}/reuse", post(reuse::accept))
        .route("/dossiers/{code}/results", post(results::attach))
        .route("/results", get(results::list))
        .route("/results/{id}", get(results::get))
        .route("/results/{id}/pages", get(results::pages))
        .route("/results/{id}/pages/{page}/preview", get(results::preview))
        .route("/results/{id}/content", get(results::content))
        .route("/results/{id}/sign", post(results::sign))
        .route("/results/{id}/signing-digest", get(results::signing_digest))
        .route("/results/{id}/signature", post(results::signature))
        .route("/results/{id}/issue", post(results::issue))
        .route("/scans/{id}", get(scans::get))
        .route("/scans/{id}/result", get(scans::result))
        .route("/scans/{id}/pdf", get(scans::pdf))
        .route("/scans/{id}/pages", get(scans::pages))
        .route("/scans/{id}/pages/{page}/preview", get(scans::preview))
        .route("/scans/{id}/correction", post(corrections::correct))
        .route("/corrections", get(corrections::list))
        .route("/jobs", get(jobs::list))
        .route("/jobs/claim", post(jobs::claim))
        .route("/jobs/depth", get(jobs::depth))
        .route("/jobs/{id}/input", get(jobs::input))
        .route("/jobs/{id}/heartbeat", post(jobs::heartbeat))
        .route("/jobs/{id}/output", post(jobs::output))
        .route("/jobs/{id}/complete", post(jobs::complete))
        .route("/jobs/{id}/fail", post(jobs::fail))
        .route("/jobs/{id}/requeue", post(jobs::requeue))
        .route("/imports", post(imports::post).layer(axum::extract::DefaultBodyLimit::disable()))
        .route("/imports/{id}", get(imports::get))
        .route("/records", get(records::find))
        .route("/records/{id}", get(records::get))
        .route("/records/{id}/manifest", get(records::manifest))
        .route("/records/{id}/content", get(records::content))
        .route("/records/{id}/revoke", post(lifecycle::revoke))
        .route("/records/{id}/supersede", post(lifecycle::supersede))
        .route("/records/{id}/dispose", post(lifecycle::dispose))
        .route("/holds", post(lifecycle::place).get(lifecycle::list))
        .route("/holds/{id}/release", post(lifecycle::release))
        .route("/disposal", get(lifecycle::review))
        .route("/records/{id}/proof", get(tlog::record_proof))
        .route("/owners/{id}/access", get(reads::of_owner))
        .route("/access/checkpoint", get(reads::checkpoint))
        .route("/access/consistency", get(reads::consistency))
        .route("/tlog/checkpoint", get(tlog::checkpoint))
        .route("/tlog/consistency", get(tlog::consistency))
        .route("/verify", post(verify::verify))
        .route("/public/verify", post(verify::public))
        .route("/public/records/{short}", get(public::record))
        .route("/me", get(auth::me))
        .route("/stats/766", get(stats::indicators_766))
        .route("/audit", get(tokens::audit))
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/workers", get(tokens::workers))
        .route("/openapi.json", get(openapi::serve))
        .route("/archive/fixity", get(archive::fixity))
        .fallback(not_found);
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics::serve))
        .merge(crate::desk::router())
        .fallback(not_found)
        .route_layer(axum::middleware::from_fn(metrics::count_requests))
        .layer(axum::middleware::from_fn(problem_for_rejections))
        .layer(axum::middleware::from_fn(request_id))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(limit_head))
        .with_state(state)
}

/// Longest request target, and largest and most numerous request headers, answered here;
/// the server's own limits sit above these so that these answers are problem+json.
const MAX_URI_BYTES: usize = 8 * 1024;
const MAX_HEADER_BYTES: usize = 32 * 1024;
const MAX_HEADER_COUNT: usize = 100;

async fn limit_head(req: Request, next: Next) -> Response {
    let uri = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the request target is {uri} bytes; the limit is {MAX_URI_BYTES}"),
        )
        .into_response();
    }
    let headers = req.headers();
    let size: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    if headers.len() > MAX_HEADER_COUNT || size > MAX_HEADER_BYTES {
        let detail =
            format!("{} headers of {size} bytes; the limits are {MAX_HEADER_COUNT} headers and {MAX_HEADER_BYTES} bytes", headers.len());
        return ApiError::new(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large", detail).into_response();
    }
    next.run(req).await
}

async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            SystemRandom::new().fill(&mut bytes).expect("the system random generator works");
            hex::encode(bytes)
        });
    req.extensions_mut().insert(RequestId(id.clone()));
    // every line logged while answering carries the request's id
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let mut response = tracing::Instrument::instrument(next.run(req), span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Answers the framework gives by itself (a path or query parameter that does not parse,
/// a method the route lacks) become problem+json with a stable code like every other error.
async fn problem_for_rejections(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_problem =
        response.headers().get(axum::http::header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !status.is_client_error() || is_problem {
        return response;
    }
    let code = match status {
        StatusCode::BAD_REQUEST => "invalid_parameter",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "invalid_request",
    };
    let (mut parts, body) = response.into_parts();
    let detail = axum::body::to_bytes(body, 4096).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let detail = if detail.is_empty() { status.canonical_reason().unwrap_or("error").to_owned() } else { detail };
    let problem = ApiError::new(status, code, detail).into_response();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    let (_, body) = problem.into_parts();
    Response::from_parts(parts, body)
}

async fn not_found() -> ApiError {
    ApiError::not_found("not_found", "no such route")
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let ready = state.operations().readiness().await;
    let body = serde_json::json!({
        "index": ready.index.as_deref().unwrap_or("ok"),
        "archive": ready.archive.as_deref().unwrap_or("ok"),
    });
    let status = if ready.ready() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}
