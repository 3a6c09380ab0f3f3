//! `/metrics` for the operator's Prometheus (a bearer token of the operator or an admin, as
//! Prometheus sends with `authorization`), and the count of every HTTP request by route.

use super::{ApiError, AppState, Principal};
use crate::domain::Role;
use crate::metrics::{self, Gauge};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Instant;

/// The text exposition: what the process counted, and the queue, log and last fixity pass
/// as the index has them now.
pub async fn serve(State(state): State<Arc<AppState>>, who: Principal) -> Result<Response, ApiError> {
    who.require(&[Role::Operator, Role::Admin])?;
    let mut gauges = vec![Gauge { name: "sohoa_up", labels: vec![], value: 1.0 }];
    let operations = state.operations();
    for (kind, job_state, n) in operations.job_counts().await? {
        let labels = vec![("kind", kind.as_str().to_owned()), ("state", job_state.as_str().to_owned())];
        gauges.push(Gauge { name: "sohoa_jobs", labels, value: n as f64 });
    }
    gauges.push(Gauge { name: "sohoa_log_leaves", labels: vec![], value: operations.log_size().await? as f64 });
    if let Some(run) = operations.latest_fixity().await? {
        for (outcome, n) in [("ok", run.ok), ("missing", run.missing), ("corrupt", run.corrupt), ("restored", run.restored)] {
            gauges.push(Gauge { name: "sohoa_fixity_objects", labels: vec![("outcome", outcome.to_owned())], value: n as f64 });
        }
        let finished = run.finished_at_ms as f64 / 1000.0;
        gauges.push(Gauge { name: "sohoa_fixity_last_run_timestamp_seconds", labels: vec![], value: finished });
    }
    for (duty, held) in metrics::duties_held() {
        gauges.push(Gauge { name: "sohoa_duty_held", labels: vec![("duty", duty.to_owned())], value: if held { 1.0 } else { 0.0 } });
    }
    Ok(([(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], metrics::render(&gauges)).into_response())
}

/// Counts each request by its route's pattern (never the path itself, which holds ids),
/// method and status, and times it.
pub async fn count_requests(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::count("sohoa_http_requests_total", &[("route", &route), ("method", &method), ("status", &status)], 1);
    metrics::observe("sohoa_http_request_duration_seconds", &[("route", &route)], started.elapsed());
    response
}
