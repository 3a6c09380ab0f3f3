//! The archive's integrity, for auditors and the operator: the latest fixity pass, over the
//! whole installation's archive.

use super::{ApiError, AppState, Principal};
use crate::domain::{vietnam_time, Role};
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

/// The latest fixity report, with when it ran; 404 `fixity_not_run` before the first pass.
pub async fn fixity(State(state): State<Arc<AppState>>, who: Principal) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Auditor, Role::Admin, Role::Operator])?;
    let run = state.operations().latest_fixity().await?.ok_or_else(|| {
        ApiError::not_found("fixity_not_run", "no fixity pass has run yet: run `sohoa archive fixity` or wait for the schedule")
    })?;
    let clean = run.missing == 0 && run.corrupt == 0;
    Ok(Json(json!({
        "id": run.id,
        "started_at": vietnam_time(run.started_at_ms),
        "finished_at": vietnam_time(run.finished_at_ms),
        "clean": clean,
        "report": run.report,
    })))
}
