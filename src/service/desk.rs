//! The desk's workflow on dossiers: handing one on to processing.

use crate::domain::DossierCode;
use crate::index::{AuditEntry, Index, IndexError};
use serde_json::json;

type Result<T> = std::result::Result<T, IndexError>;

/// Tries before giving up when the dossier keeps changing under the desk.
const FORWARD_TRIES: usize = 3;

/// Hands a received or complete dossier on to processing. An incomplete one needs
/// `override_reason`, kept in the audit entry with the missing components. `false` when
/// there is no such dossier.
pub async fn forward(index: &dyn Index, code: &DossierCode, override_reason: Option<&str>, audit: AuditEntry) -> Result<bool> {
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
