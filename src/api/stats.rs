//! `GET /stats/766?month=YYYY-MM`: the Decision 766 service indicators of the caller's agency
//! for a month, as the desk's dashboard and `sohoa stats 766` show them.

use super::{ApiError, AppState, Principal};
use crate::domain::indicators::{self, Month};
use crate::domain::Role;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsQuery {
    month: String,
}

pub async fn indicators_766(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Query(q): Query<StatsQuery>,
) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Admin, Role::Auditor])?;
    let month = Month::parse(&q.month).ok_or_else(|| ApiError::bad_request("invalid_month", "month must be YYYY-MM"))?;
    let (from, to) = month.bounds_ms();
    let facts = state.desk().facts(&who.agency, from, to).await?;
    Ok(Json(indicators::report(who.agency.as_str(), month, &facts)))
}
