//! The desk: the web interface of the one-stop desk, served at `/`. Its three files are
//! compiled into the binary and nothing is loaded from elsewhere at run time; the pages call
//! the API under `/api/v1` with the token the person signs in with (see `assets/desk`).

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

const INDEX: &str = include_str!("../../assets/desk/index.html");
const SCRIPT: &str = include_str!("../../assets/desk/desk.js");
const STYLE: &str = include_str!("../../assets/desk/desk.css");

/// Only this origin's own files run and load; the page is never framed.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; \
                      form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The desk's routes, for any router state.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { file("text/html; charset=utf-8", INDEX) }))
        .route("/assets/desk.js", get(|| async { file("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/assets/desk.css", get(|| async { file("text/css; charset=utf-8", STYLE) }))
}

fn file(media: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(media)),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (HeaderName::from_static("content-security-policy"), HeaderValue::from_static(POLICY)),
            (HeaderName::from_static("x-content-type-options"), HeaderValue::from_static("nosniff")),
            (HeaderName::from_static("referrer-policy"), HeaderValue::from_static("no-referrer")),
        ],
        body,
    )
}
