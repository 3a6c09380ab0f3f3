//! The policy catalog, read-only, for any authenticated caller.

use super::{ApiError, AppState, Principal};
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

pub async fn procedures(State(state): State<Arc<AppState>>, _: Principal) -> Json<Value> {
    let list: Vec<Value> = state
        .catalog
        .procedures
        .values()
        .map(|p| json!({"code": p.code, "slug": p.slug, "name": p.name, "level": p.level, "processing_days": p.processing_days, "result": p.result}))
        .collect();
    Json(json!({ "procedures": list }))
}

pub async fn procedure(State(state): State<Arc<AppState>>, _: Principal, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let p = state.catalog.procedure(&id).ok_or_else(|| ApiError::not_found("unknown_procedure", format!("no procedure {id:?}")))?;
    Ok(Json(json!(p)))
}

pub async fn doc_types(State(state): State<Arc<AppState>>, _: Principal) -> Json<Value> {
    let list: Vec<_> = state.catalog.doc_types.values().collect();
    Json(json!({ "doc_types": list }))
}
