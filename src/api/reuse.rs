//! Reuse: the applicant's earlier records offered for a new dossier's components, and
//! accepting one in place of a new scan.

use super::body::JsonBody;
use super::{dossiers, records, ApiError, AppState, Principal};
use crate::domain::desk::Dossier;
use crate::domain::reads::{Purpose, ReadKind};
use crate::domain::record::Record;
use crate::domain::Role;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The applicant's earlier records offered for the dossier's open components, as the desk
/// shows them.
pub async fn candidates(state: &AppState, dossier: &Dossier) -> Result<HashMap<String, Vec<Value>>, ApiError> {
    let found = state.desk().reuse_candidates(dossier).await?;
    Ok(found.into_iter().map(|(component, records)| (component, records.iter().map(summary).collect())).collect())
}

fn summary(r: &Record) -> Value {
    json!({
        "record": r.id,
        "doc_type": r.doc_type,
        "agency": r.agency,
        "number": r.number,
        "issue_date": r.issue_date,
        "valid_until": r.valid_until,
        "digest": r.digest.prefixed(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReuseBody {
    record: String,
}

/// `POST /dossiers/{code}/components/{component}/reuse {record}`.
pub async fn accept(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path((code, component)): Path<(String, String)>,
    JsonBody(body): JsonBody<ReuseBody>,
) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Scanner])?;
    let dossier = dossiers::load(&state, &who, &code).await?;
    let record = state.desk().reuse(who.actor(), &dossier, &component, &body.record).await?;
    // The record is read into the dossier: the dossier is the read's purpose.
    let purpose = Purpose::dossier(&dossier.code);
    state.reads().log(&who.reader(), std::slice::from_ref(&record), ReadKind::Reuse, Some(&purpose)).await?;
    let dossier = dossiers::load(&state, &who, &code).await?;
    let offered = candidates(&state, &dossier).await?;
    Ok(Json(json!({ "dossier": dossiers::render(&dossier, &state.catalog, &offered), "record": records::render(&record) })))
}
