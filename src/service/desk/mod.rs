//! The desk's workflow: receiving a dossier, uploading scans for its components, reusing an
//! applicant's earlier records, what a sealed scan makes of its component, and handing a
//! dossier on to processing.

mod corrections;
mod pages;
mod reads;
mod reuse;
mod scans;

pub use pages::{PageSize, ScanPages, ShownField};
pub use scans::Upload;

use super::{Result, ServiceError};
use crate::archive::Archive;
use crate::classify::UNKNOWN;
use crate::domain::{vietnam_offset, AgencyCode, DossierCode};
use crate::index::{Actor, Applicant, AuditEntry, ComponentCheck, Dossier, Index, IndexError, NewDossier};
use crate::intake::MediaLimits;
use crate::policy::Catalog;
use crate::queue::RetryPolicy;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde_json::json;

/// Tries before giving up when the dossier keeps changing under the desk.
const FORWARD_TRIES: usize = 3;

/// What the desk works with; borrowed from the service's state for one request.
pub struct Desk<'a> {
    pub index: &'a dyn Index,
    pub archive: &'a Archive,
    pub catalog: &'a Catalog,
    pub retry: RetryPolicy,
    pub media_limits: MediaLimits,
}

impl Desk<'_> {
    /// Receives a dossier for `procedure` at `agency`, due after the procedure's working days.
    pub async fn create_dossier(&self, actor: Actor, agency: &AgencyCode, procedure: &str, applicant: Applicant) -> Result<Dossier> {
        if !self.catalog.agencies.contains_key(agency) {
            return Err(ServiceError::Forbidden { code: "unknown_agency", detail: format!("agency {agency} is not in the catalog") });
        }
        let procedure = self.catalog.procedure(procedure).ok_or_else(|| ServiceError::Invalid {
            code: "unknown_procedure",
            detail: format!("no procedure {procedure:?} in the catalog"),
        })?;
        let now = chrono::Utc::now().with_timezone(&vietnam_offset());
        let due = add_working_days(now.date_naive(), procedure.processing_days);
        let due_at = due.and_hms_opt(17, 0, 0).and_then(|d| d.and_local_timezone(vietnam_offset()).single()).unwrap_or(now);
        let new = NewDossier {
            agency: agency.clone(),
            day: now.date_naive(),
            procedure: procedure.code.to_string(),
            applicant,
            received_at_ms: now.timestamp_millis(),
            due_at_ms: due_at.timestamp_millis(),
            components: procedure.components.iter().map(|c| (c.id.clone(), c.required)).collect(),
        };
        let audit = AuditEntry {
            actor,
            action: "dossier.create",
            target: String::new(),
            detail: json!({"procedure": procedure.code, "applicant": new.applicant.id}),
        };
        let code = self.index.create_dossier(new, audit).await?;
        tracing::info!(dossier = %code, procedure = %procedure.code, "dossier received");
        self.index.dossier(&code).await?.ok_or_else(|| ServiceError::Internal { context: "dossier vanished", detail: code.to_string() })
    }

    /// Hands a received or complete dossier on to processing. An incomplete one needs
    /// `override_reason`, kept in the audit entry with the missing components. `false` when
    /// there is no such dossier.
    pub async fn forward(&self, code: &DossierCode, override_reason: Option<&str>, audit: AuditEntry) -> Result<bool> {
        Ok(forward(self.index, code, override_reason, audit).await?)
    }
}

/// Adds working days (Monday to Friday); public holidays are not modelled.
fn add_working_days(from: NaiveDate, days: u32) -> NaiveDate {
    let mut date = from;
    let mut left = days;
    while left > 0 {
        date += Duration::days(1);
        if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    date
}

/// Hands a received or complete dossier on to processing. An incomplete one needs
/// `override_reason`, kept in the audit entry with the missing components. `false` when
/// there is no such dossier.
async fn forward(
    index: &dyn Index,
    code: &DossierCode,
    override_reason: Option<&str>,
    audit: AuditEntry,
) -> std::result::Result<bool, IndexError> {
    for _ in 0..FORWARD_TRIES {
        let Some(dossier) = index.dossier(code).await? else { return Ok(false) };
        let to = dossier
            .status
            .forward()
            .map_err(|_| IndexError::Refused { code: "dossier_not_open", detail: format!("dossier {code} is {}", dossier.status) })?;
        let missing: Vec<&str> =
            dossier.components.iter().filter(|c| c.required && !c.status.is_satisfied()).map(|c| c.component.as_str()).collect();
        if !missing.is_empty() && override_reason.is_none() {
            return Err(IndexError::Refused {
                code: "dossier_incomplete",
                detail: format!("required components not satisfied: {}", missing.join(", ")),
            });
        }
        let entry = AuditEntry { detail: json!({"missing": missing, "override_reason": override_reason}), ..audit.clone() };
        // Applied only if the dossier is still as read: a component settled in between
        // changes its state, and the desk looks again.
        if index.set_dossier_status(code, dossier.status, to, entry).await? {
            return Ok(true);
        }
    }
    Err(IndexError::Refused { code: "dossier_changed", detail: format!("dossier {code} kept changing; try again") })
}

/// Whether the sealed scan is what the component asks for, and whose it is.
pub fn check_component(catalog: &Catalog, dossier: &Dossier, component: &str, doc_type: &str, owner: Option<&str>) -> ComponentCheck {
    let mut flags = Vec::new();
    let expected = catalog.procedure(&dossier.procedure).and_then(|p| p.component(component)).map(|c| &c.doc_types);
    if doc_type == UNKNOWN {
        flags.push("low_confidence".to_owned());
    } else if expected.is_some_and(|types| !types.iter().any(|t| t.as_str() == doc_type)) {
        flags.push("wrong_type".to_owned());
    }
    if owner.is_some_and(|o| dossier.applicant.kind == "citizen" && o != dossier.applicant.id) {
        flags.push("wrong_owner".to_owned());
    }
    ComponentCheck::from_flags(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_days_skip_weekends() {
        let friday = NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
        assert_eq!(add_working_days(friday, 1), NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(add_working_days(friday, 5), NaiveDate::from_ymd_opt(2026, 12, 4).unwrap());
        assert_eq!(add_working_days(friday, 0), friday);
    }
}
