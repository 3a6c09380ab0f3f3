//! The states of a dossier, its components and scans, a job and a result document, with
//! the transitions between them. A service asks the state for the next one; a step the
//! state does not allow is an [`IllegalTransition`], never a silent write. The text forms
//! are the ones stored in the index.

use serde::{Deserialize, Serialize};

/// A step the present state does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{entity} cannot {event} when {from}")]
pub struct IllegalTransition {
    pub entity: &'static str,
    pub from: &'static str,
    pub event: &'static str,
}

impl IllegalTransition {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        "illegal_transition"
    }
}

/// `as_str`, `parse`, `ALL` and `Display` for a state enum with snake_case text forms.
macro_rules! state_enum {
    ($ty:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$ty> {
                match s {
                    $($text => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

fn illegal(entity: &'static str, from: &'static str, event: &'static str) -> IllegalTransition {
    IllegalTransition { entity, from, event }
}

/// A queued job's life: claimed under a lease, then done, queued again after a failure, or
/// dead once out of attempts; a dead job can be queued again by an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Done,
    /// Kept for rows written by earlier versions; no step leads here.
    Failed,
    Dead,
}

state_enum!(JobState { Queued => "queued", Running => "running", Done => "done", Failed => "failed", Dead => "dead" });

impl JobState {
    /// A worker takes the job; a running job whose lease ran out may be taken again.
    pub fn claim(self) -> Result<JobState, IllegalTransition> {
        match self {
            JobState::Queued | JobState::Running => Ok(JobState::Running),
            s => Err(illegal("job", s.as_str(), "be claimed")),
        }
    }

    /// The lease holder reports the job done.
    pub fn complete(self) -> Result<JobState, IllegalTransition> {
        match self {
            JobState::Running => Ok(JobState::Done),
            s => Err(illegal("job", s.as_str(), "complete")),
        }
    }

    /// The lease holder reports a failure another attempt may mend.
    pub fn retry(self) -> Result<JobState, IllegalTransition> {
        match self {
            JobState::Running => Ok(JobState::Queued),
            s => Err(illegal("job", s.as_str(), "be retried")),
        }
    }

    /// No attempt is left, the failure is permanent, or the holder vanished for good.
    pub fn bury(self) -> Result<JobState, IllegalTransition> {
        match self {
            JobState::Running => Ok(JobState::Dead),
            s => Err(illegal("job", s.as_str(), "die")),
        }
    }

    /// An operator gives a dead job a fresh set of attempts.
    pub fn requeue(self) -> Result<JobState, IllegalTransition> {
        match self {
            JobState::Dead => Ok(JobState::Queued),
            s => Err(illegal("job", s.as_str(), "be requeued")),
        }
    }
}

/// An uploaded scan: recognised by a worker, then sealed as a record by the service (or left
/// unsealed when the installation holds no seal of the dossier's agency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStatus {
    Queued,
    Processing,
    /// Recognised; the seal job is queued.
    Done,
    Failed,
    Sealed,
    Unsealed,
}

state_enum!(ScanStatus {
    Queued => "queued",
    Processing => "processing",
    Done => "done",
    Failed => "failed",
    Sealed => "sealed",
    Unsealed => "unsealed",
});

/// What happens to a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanEvent {
    /// Its recognition job is claimed (again, after a lease ran out).
    Claimed,
    Recognised,
    /// Its recognition failed and will be tried again.
    Retrying,
    /// Its recognition job died.
    Failed,
    /// Its dead recognition job was queued again.
    Requeued,
    /// A record was made of it (sealed, corrected or renewed).
    Sealed,
    /// Recognised, but the installation holds no seal of the dossier's agency.
    LeftUnsealed,
}

impl ScanEvent {
    fn name(self) -> &'static str {
        match self {
            ScanEvent::Claimed => "be claimed",
            ScanEvent::Recognised => "be recognised",
            ScanEvent::Retrying => "be retried",
            ScanEvent::Failed => "fail",
            ScanEvent::Requeued => "be requeued",
            ScanEvent::Sealed => "be sealed",
            ScanEvent::LeftUnsealed => "be left unsealed",
        }
    }
}

impl ScanStatus {
    /// A new scan waits for its recognition job.
    pub const INITIAL: ScanStatus = ScanStatus::Queued;

    pub fn on(self, event: ScanEvent) -> Result<ScanStatus, IllegalTransition> {
        use ScanStatus::*;
        let next = match (self, event) {
            (Queued | Processing, ScanEvent::Claimed) => Processing,
            (Processing, ScanEvent::Recognised) => Done,
            (Processing, ScanEvent::Retrying) => Queued,
            (Processing, ScanEvent::Failed) => Failed,
            (Failed, ScanEvent::Requeued) => Queued,
            (Done | Sealed | Unsealed, ScanEvent::Sealed) => Sealed,
            (Done, ScanEvent::LeftUnsealed) => Unsealed,
            (s, e) => return Err(illegal("scan", s.as_str(), e.name())),
        };
        Ok(next)
    }

    /// The states from which `event` is allowed, for a store that checks the state it finds.
    pub fn sources(event: ScanEvent) -> Vec<ScanStatus> {
        ScanStatus::ALL.iter().copied().filter(|s| s.on(event).is_ok()).collect()
    }
}

/// A checklist component of a dossier. Several scans may be uploaded for one component; the
/// last step of any of them sets its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Missing,
    Pending,
    Digitized,
    Satisfied,
    /// A record is there, but the check found something wrong (`wrong_type`, ...).
    Flagged,
    Failed,
}

state_enum!(ComponentStatus {
    Missing => "missing",
    Pending => "pending",
    Digitized => "digitized",
    Satisfied => "satisfied",
    Flagged => "flagged",
    Failed => "failed",
});

impl ComponentStatus {
    pub const INITIAL: ComponentStatus = ComponentStatus::Missing;

    /// What a scan's step makes of its component; `None` when the component keeps its state.
    pub fn after_scan(event: ScanEvent) -> Option<ComponentStatus> {
        match event {
            ScanEvent::Recognised => Some(ComponentStatus::Digitized),
            ScanEvent::Failed => Some(ComponentStatus::Failed),
            ScanEvent::Requeued => Some(ComponentStatus::Pending),
            ScanEvent::LeftUnsealed => Some(ComponentStatus::Flagged),
            ScanEvent::Claimed | ScanEvent::Retrying | ScanEvent::Sealed => None,
        }
    }

    /// What checking a sealed record against the dossier found.
    pub fn checked(flags: &[String]) -> ComponentStatus {
        if flags.is_empty() {
            ComponentStatus::Satisfied
        } else {
            ComponentStatus::Flagged
        }
    }

    /// Whether the component counts toward a complete dossier.
    pub fn is_satisfied(self) -> bool {
        self == ComponentStatus::Satisfied
    }
}

/// A dossier at the desk: received, complete once every required component is satisfied,
/// then handed on to processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DossierStatus {
    Received,
    Complete,
    InProcessing,
}

state_enum!(DossierStatus { Received => "received", Complete => "complete", InProcessing => "in_processing" });

impl DossierStatus {
    pub const INITIAL: DossierStatus = DossierStatus::Received;

    /// The state once a component changed: complete when no required component is left
    /// unsatisfied, received again when a correction flags one. A dossier handed on stays so.
    pub fn settle(self, all_required_satisfied: bool) -> DossierStatus {
        match (self, all_required_satisfied) {
            (DossierStatus::Received, true) => DossierStatus::Complete,
            (DossierStatus::Complete, false) => DossierStatus::Received,
            (s, _) => s,
        }
    }

    /// Handed on to processing; an incomplete dossier only with a reason, which the caller
    /// checks.
    pub fn forward(self) -> Result<DossierStatus, IllegalTransition> {
        match self {
            DossierStatus::Received | DossierStatus::Complete => Ok(DossierStatus::InProcessing),
            s => Err(illegal("dossier", s.as_str(), "be forwarded")),
        }
    }
}

/// A result document: signed in versions while a draft, then issued as a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    Draft,
    Issued,
}

state_enum!(ResultStatus { Draft => "draft", Issued => "issued" });

impl ResultStatus {
    pub const INITIAL: ResultStatus = ResultStatus::Draft;

    /// Another signature makes another version of a draft.
    pub fn sign(self) -> Result<ResultStatus, IllegalTransition> {
        match self {
            ResultStatus::Draft => Ok(ResultStatus::Draft),
            s => Err(illegal("result", s.as_str(), "be signed")),
        }
    }

    pub fn issue(self) -> Result<ResultStatus, IllegalTransition> {
        match self {
            ResultStatus::Draft => Ok(ResultStatus::Issued),
            s => Err(illegal("result", s.as_str(), "be issued")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip_and_match_serde() {
        for s in JobState::ALL {
            assert_eq!(JobState::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in ScanStatus::ALL {
            assert_eq!(ScanStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in ComponentStatus::ALL {
            assert_eq!(ComponentStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in DossierStatus::ALL {
            assert_eq!(DossierStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(DossierStatus::parse("in_processing"), Some(DossierStatus::InProcessing));
        assert_eq!(ResultStatus::parse("issued"), Some(ResultStatus::Issued));
        assert_eq!(ScanStatus::parse("sealed "), None);
    }

    #[test]
    fn a_job_runs_once_per_claim_and_only_a_dead_one_is_requeued() {
        assert_eq!(JobState::Queued.claim(), Ok(JobState::Running));
        assert_eq!(JobState::Running.claim(), Ok(JobState::Running), "an expired lease is taken again");
        assert_eq!(JobState::Running.complete(), Ok(JobState::Done));
        assert_eq!(JobState::Running.retry(), Ok(JobState::Queued));
        assert_eq!(JobState::Running.bury(), Ok(JobState::Dead));
        assert_eq!(JobState::Dead.requeue(), Ok(JobState::Queued));
        let err = JobState::Done.claim().unwrap_err();
        assert_eq!((err.entity, err.from, err.code()), ("job", "done", "illegal_transition"));
        assert!(JobState::Queued.complete().is_err(), "a job nobody holds is not done");
        assert!(JobState::Done.bury().is_err());
        assert!(JobState::Queued.requeue().is_err(), "only dead jobs are requeued");
        assert!(JobState::Running.requeue().is_err());
    }

    #[test]
    fn a_scan_is_recognised_then_sealed_and_never_goes_back() {
        let s = ScanStatus::INITIAL.on(ScanEvent::Claimed).unwrap();
        assert_eq!(s, ScanStatus::Processing);
        let s = s.on(ScanEvent::Recognised).unwrap();
        assert_eq!(s, ScanStatus::Done);
        assert_eq!(s.on(ScanEvent::Sealed), Ok(ScanStatus::Sealed));
        assert_eq!(s.on(ScanEvent::LeftUnsealed), Ok(ScanStatus::Unsealed));
        assert_eq!(ScanStatus::Sealed.on(ScanEvent::Sealed), Ok(ScanStatus::Sealed), "a correction seals the scan again");
        assert!(ScanStatus::Sealed.on(ScanEvent::Claimed).is_err(), "a sealed scan is not recognised again");
        assert!(ScanStatus::Queued.on(ScanEvent::Recognised).is_err(), "only a claimed scan is recognised");
        assert!(ScanStatus::Queued.on(ScanEvent::Sealed).is_err(), "nothing is sealed before it is recognised");
        assert!(ScanStatus::Done.on(ScanEvent::Failed).is_err());
        assert_eq!(ScanStatus::Failed.on(ScanEvent::Requeued), Ok(ScanStatus::Queued));
        assert!(ScanStatus::Processing.on(ScanEvent::Requeued).is_err());
        assert_eq!(ScanStatus::sources(ScanEvent::Claimed), [ScanStatus::Queued, ScanStatus::Processing]);
        assert_eq!(ScanStatus::sources(ScanEvent::Recognised), [ScanStatus::Processing]);
    }

    #[test]
    fn a_component_follows_its_scans_and_its_check() {
        assert_eq!(ComponentStatus::after_scan(ScanEvent::Recognised), Some(ComponentStatus::Digitized));
        assert_eq!(ComponentStatus::after_scan(ScanEvent::Failed), Some(ComponentStatus::Failed));
        assert_eq!(ComponentStatus::after_scan(ScanEvent::Requeued), Some(ComponentStatus::Pending));
        assert_eq!(ComponentStatus::after_scan(ScanEvent::Claimed), None);
        assert_eq!(ComponentStatus::after_scan(ScanEvent::Retrying), None);
        assert_eq!(ComponentStatus::checked(&[]), ComponentStatus::Satisfied);
        assert_eq!(ComponentStatus::checked(&["wrong_type".into()]), ComponentStatus::Flagged);
    }

    #[test]
    fn a_dossier_completes_reopens_and_is_forwarded_once() {
        assert_eq!(DossierStatus::Received.settle(true), DossierStatus::Complete);
        assert_eq!(DossierStatus::Complete.settle(false), DossierStatus::Received);
        assert_eq!(DossierStatus::Received.settle(false), DossierStatus::Received);
        assert_eq!(DossierStatus::InProcessing.settle(false), DossierStatus::InProcessing, "a forwarded dossier stays forwarded");
        assert_eq!(DossierStatus::Complete.forward(), Ok(DossierStatus::InProcessing));
        assert_eq!(DossierStatus::Received.forward(), Ok(DossierStatus::InProcessing));
        let err = DossierStatus::InProcessing.forward().unwrap_err();
        assert_eq!(err.to_string(), "dossier cannot be forwarded when in_processing");
    }

    #[test]
    fn an_issued_result_is_neither_signed_nor_issued_again() {
        assert_eq!(ResultStatus::INITIAL.sign(), Ok(ResultStatus::Draft));
        assert_eq!(ResultStatus::Draft.issue(), Ok(ResultStatus::Issued));
        assert!(ResultStatus::Issued.sign().is_err());
        assert!(ResultStatus::Issued.issue().is_err());
    }
}

/// Outcome of finishing a job as its lease holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Done,
    /// Failed and queued again for another try.
    Retrying,
    Dead,
    /// The caller does not hold the job's lease (expired, or another worker has it).
    NotLeaseHolder,
}
