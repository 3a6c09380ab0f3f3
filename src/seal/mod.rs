//! The seal stage, run by the service itself: a recognised scan is classified, its fields
//! extracted and checked against the dossier, its searchable PDF sealed with the agency's
//! seal (PAdES), archived with a manifest, and indexed as a record.

pub mod manifest;

use crate::archive::Archive;
use crate::classify::{extract, locate, Classifier};
use crate::custody::{ScanResult, Word};
use crate::domain::{random_hex, vietnam_offset, AgencyCode, Digest, ScanEvent};
use crate::index::{Actor, AuditEntry, Index, NewRecord, Record};
use crate::pdf::{Appearance, AppearanceText};
use crate::policy::{validity_window, Catalog};
use crate::queue::{Failure, Job, JobKind, RetryPolicy, SealPayload};
use crate::registry::{self, Lineage, RegistryError};
use crate::service::desk::check_component;
use crate::service::jobs;
use crate::sign::{self, certificate_subject, SignOptions, Signer};
use chrono::NaiveDate;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Reason written in the seal, as the decree names an electronic copy made from paper.
const COPY_REASON: &str = "Bản sao điện tử";
/// The seal's box at the top right of page 1, in points.
const SEAL_WIDTH: f32 = 220.0;
const SEAL_HEIGHT: f32 = 46.0;
const SEAL_MARGIN: f32 = 18.0;
/// The flag on a component whose scan was recognised but whose dossier's agency this
/// installation holds no seal for.
pub const NO_SEAL_KEY: &str = "no_seal_key";

/// What became of a recognised scan.
enum Sealed {
    Record(Box<Record>),
    /// Left unsealed and flagged: the installation holds no seal of the dossier's agency.
    Unsealed,
}

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("scan {0} is not there or has no recognised result")]
    NoResult(i64),
    #[error("job payload: {0}")]
    Payload(String),
    #[error(transparent)]
    Index(#[from] crate::index::IndexError),
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    #[error(transparent)]
    Sign(#[from] sign::SignError),
    #[error(transparent)]
    Pdf(#[from] crate::pdf::PdfError),
}

impl From<RegistryError> for SealError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Archive(e) => SealError::Archive(e),
            RegistryError::Index(e) => SealError::Index(e),
        }
    }
}

impl SealError {
    pub fn code(&self) -> &'static str {
        match self {
            SealError::NoResult(_) => "scan_result_missing",
            SealError::Payload(_) => "invalid_payload",
            SealError::Index(_) => "index_unavailable",
            SealError::Archive(e) => e.code(),
            SealError::Sign(e) => e.code(),
            SealError::Pdf(e) => e.code(),
        }
    }

    /// Whether trying again cannot help.
    fn permanent(&self) -> bool {
        matches!(self, SealError::NoResult(_) | SealError::Payload(_) | SealError::Pdf(_))
    }
}

/// One agency's seal: its key and the name the seal's appearance shows.
#[derive(Clone)]
pub struct AgencySeal {
    pub signer: Arc<dyn Signer>,
    pub name: String,
}

/// What the seal stage works with, handed over by the service that runs it.
pub struct SealerContext {
    pub index: Arc<dyn Index>,
    pub archive: Archive,
    pub catalog: Arc<Catalog>,
    pub retry: RetryPolicy,
    /// Woken when a job is queued.
    pub jobs_queued: Arc<Notify>,
    /// Turns true when the service begins to stop.
    pub stopping: watch::Receiver<bool>,
}

/// Seals recognised scans as they are queued, until the service stops.
pub struct Sealer {
    state: SealerContext,
    /// The seals this installation holds, by agency: a dossier's copies bear its agency's.
    seals: BTreeMap<AgencyCode, AgencySeal>,
    /// With a TSA, copies are sealed at PAdES B-LTA.
    tsa_url: Option<String>,
}

impl Sealer {
    pub fn new(state: SealerContext, seals: BTreeMap<AgencyCode, AgencySeal>) -> Sealer {
        Sealer { state, seals, tsa_url: None }
    }

    /// Seals at PAdES B-LTA with time-stamps from `tsa_url`.
    pub fn with_tsa(self, tsa_url: Option<String>) -> Sealer {
        Sealer { tsa_url, ..self }
    }

    /// Claims `seal` jobs one at a time; returns when the service begins to stop.
    pub async fn run(self) {
        let mut stopping = self.state.stopping.clone();
        let lease_ms = self.state.retry.lease.as_millis() as i64;
        loop {
            if *stopping.borrow() {
                return;
            }
            let queued = self.state.jobs_queued.notified();
            let lease = format!("sealer-{}", random_hex(8));
            let now = chrono::Utc::now().timestamp_millis();
            match jobs::claim(self.state.index.as_ref(), &[JobKind::Seal], None, &lease, lease_ms, now).await {
                Ok(Some(job)) => {
                    self.handle(job, &lease).await;
                    continue;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "cannot claim seal jobs"),
            }
            tokio::select! {
                _ = tokio::time::timeout(Duration::from_secs(1), queued) => {}
                _ = stopping.changed() => {}
            }
        }
    }

    async fn handle(&self, job: Job, lease: &str) {
        let actor = Actor::system_for("sealer", &job.agency);
        let started = std::time::Instant::now();
        let sealed = self.seal(&job).await;
        let outcome = match &sealed {
            Ok(Sealed::Record(_)) => "sealed",
            Ok(Sealed::Unsealed) => "unsealed",
            Err(_) => "failed",
        };
        crate::metrics::observe("sohoa_seal_duration_seconds", &[("outcome", outcome)], started.elapsed());
        let done = match sealed {
            Ok(Sealed::Record(record)) => {
                tracing::info!(job = job.id, record = %record.id, "scan sealed");
                Some((json!({"record": record.id}), json!({"kind": "seal"})))
            }
            Ok(Sealed::Unsealed) => {
                tracing::warn!(job = job.id, agency = %job.agency, "no seal key for the dossier's agency: scan left unsealed");
                Some((json!({"unsealed": NO_SEAL_KEY}), json!({"kind": "seal", "outcome": NO_SEAL_KEY})))
            }
            Err(e) => {
                tracing::warn!(job = job.id, code = e.code(), error = %e, "seal failed");
                let failure = Failure { code: e.code().to_owned(), message: e.to_string(), permanent: e.permanent() };
                let audit =
                    AuditEntry { actor: actor.clone(), action: "job.fail", target: String::new(), detail: json!({"code": e.code()}) };
                if let Err(e) = jobs::fail(self.state.index.as_ref(), job.id, lease, &failure, self.state.retry, audit).await {
                    tracing::warn!(job = job.id, error = %e, "cannot fail seal job");
                }
                None
            }
        };
        if let Some((result, detail)) = done {
            let audit = AuditEntry { actor, action: "job.complete", target: String::new(), detail };
            match jobs::complete(self.state.index.as_ref(), job.id, lease, result, audit).await {
                Ok(_) => crate::metrics::job_ended(job.kind.as_str(), "done", job.queued_at_ms),
                Err(e) => tracing::warn!(job = job.id, error = %e, "cannot complete seal job"),
            }
        }
    }

    async fn seal(&self, job: &Job) -> Result<Sealed, SealError> {
        let payload: SealPayload = serde_json::from_value(job.payload.clone()).map_err(|e| SealError::Payload(e.to_string()))?;
        let index = &self.state.index;
        if let Some(record) = index.record_for_scan(payload.scan).await? {
            return Ok(Sealed::Record(Box::new(record)));
        }
        let scan = index.scan(payload.scan).await?.ok_or(SealError::NoResult(payload.scan))?;
        let result = index.scan_result(payload.scan).await?.ok_or(SealError::NoResult(payload.scan))?;
        let dossier = index.dossier(&scan.dossier).await?.ok_or(SealError::NoResult(payload.scan))?;
        let Some(seal) = self.seals.get(&dossier.agency) else {
            // Never another agency's seal: without the dossier's own, the copy stays unsealed.
            let detail = json!({"scan": scan.id, "agency": dossier.agency, "flag": NO_SEAL_KEY});
            let audit =
                AuditEntry { actor: Actor::system_for("sealer", &dossier.agency), action: "scan.unsealed", target: String::new(), detail };
            let mut step = jobs::scan_step(ScanEvent::LeftUnsealed, None, None);
            step.flags = Some(vec![NO_SEAL_KEY.to_owned()]);
            index.step_scan(scan.id, step, audit).await?;
            return Ok(Sealed::Unsealed);
        };
        let result = ScanResult::from_value(result).map_err(|e| SealError::Payload(format!("the scan's result does not read: {e}")))?;
        let pdf_digest = result.pdf_digest().ok_or_else(|| SealError::Payload("the scan's result names no PDF".into()))?;
        let texts = result.texts();

        let catalog = &self.state.catalog;
        let classification = Classifier::new(catalog).classify(&texts);
        let text = texts.join("\n");
        let mut fields = extract(&text);
        // what an application form applies for, read from its title
        if let Some(subject) = classification.subject.clone() {
            fields.insert("subject".to_owned(), subject);
        }
        // each field with the boxes of the words it was read from, where the result has them
        let pages: Vec<(u32, &[Word])> = result.pages.iter().map(|p| (p.page, p.words.as_slice())).collect();
        locate(&mut fields, &text, &pages);
        let field = |name: &str| fields.get(name).map(|f| f.value.clone());
        let check = check_component(catalog, &dossier, &scan.component, &classification.doc_type, field("owner_id").as_deref());

        let pdf = self.state.archive.get_blob(&pdf_digest).await?;
        let signer = seal.signer.clone();
        let agency_name = seal.name.clone();
        let signing_time = chrono::Utc::now().with_timezone(&vietnam_offset());
        let sealed = match &self.tsa_url {
            Some(url) => seal_pdf_long_term(&pdf, signer.as_ref(), &agency_name, signing_time, url).await?,
            None => tokio::task::spawn_blocking(move || seal_pdf(&pdf, signer.as_ref(), &agency_name, signing_time))
                .await
                .map_err(|e| SealError::Payload(format!("sealing stopped: {e}")))??,
        };
        crate::metrics::count("sohoa_signatures_total", &[("kind", "seal")], 1);
        let level = if self.tsa_url.is_some() { "B-LTA" } else { "B-B" };
        let size = sealed.len() as u64;
        let digest = self.state.archive.put_blob(sealed.into()).await?;

        let date = |name: &str| field(name).and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
        let issue_date = date("issue_date");
        let validity = catalog.doc_type(&classification.doc_type).map(|t| t.validity);
        let (valid_from, valid_until) = validity_window(validity, issue_date, date("expiry_date"));
        let summary = json!({
            "signatures": [{
                "kind": "seal",
                "signer": certificate_subject(seal.signer.certificate()),
                "certificate_sha256": Digest::of(seal.signer.certificate()).as_str(),
                "signing_time": signing_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                "level": level,
            }],
            "classification": { "doc_type": classification.doc_type, "confidence": classification.confidence },
            "fields": fields,
            "flags": check.flags,
            // chain of custody: the scan, the copy the service assembled from it, the words
            // it was given and by whom, and the engine that worker says it ran
            "source": {
                "scan": scan.id,
                "digest": scan.digest.prefixed(),
                "searchable_pdf": pdf_digest.prefixed(),
                "recognition": result.recognition,
                "worker": result.worker,
                "engine": result.engine,
            },
        });
        let record = NewRecord {
            id: random_hex(16),
            kind: "digitized_copy",
            agency: dossier.agency.clone(),
            dossier: Some(dossier.code.clone()),
            component: Some(scan.component.clone()),
            scan: Some(scan.id),
            owner_id: field("owner_id").or_else(|| Some(dossier.applicant.id.clone())),
            doc_type: classification.doc_type.clone(),
            number: field("document_number"),
            issue_date,
            valid_from,
            valid_until,
            digest,
            size,
            manifest_digest: Digest::of(b""),
            summary,
        };
        let audit = AuditEntry {
            actor: Actor::system_for("sealer", &dossier.agency),
            action: "record.create",
            target: String::new(),
            detail: json!({"scan": scan.id, "doc_type": record.doc_type, "status": check.status, "flags": check.flags}),
        };
        let stored = registry::store(index.as_ref(), &self.state.archive, record, check, audit, Lineage::New).await?;
        Ok(Sealed::Record(Box::new(stored)))
    }
}

/// Seals `pdf`: an invisible-to-forms PAdES signature whose text appearance sits at the top
/// right of page 1 (copy type, agency, time in ISO 8601 with +07:00).
pub fn seal_pdf(
    pdf: &[u8],
    signer: &dyn Signer,
    agency_name: &str,
    signing_time: chrono::DateTime<chrono::FixedOffset>,
) -> Result<Vec<u8>, SealError> {
    Ok(sign::sign_pdf(pdf, signer, seal_options(pdf, agency_name, signing_time)?)?)
}

/// [`seal_pdf`] at PAdES B-LTA: the seal time-stamped by the TSA at `tsa_url`, then the
/// validation data (certificates, CRLs) and a document time-stamp, so that the copy stays
/// verifiable after the seal's certificate expires.
pub async fn seal_pdf_long_term(
    pdf: &[u8],
    signer: &dyn Signer,
    agency_name: &str,
    signing_time: chrono::DateTime<chrono::FixedOffset>,
    tsa_url: &str,
) -> Result<Vec<u8>, SealError> {
    let options = seal_options(pdf, agency_name, signing_time)?;
    let sealed = sign::sign_pdf_timestamped(pdf, signer, options, tsa_url).await?;
    let revocation = sign::ltv::Revocation { crls: Vec::new(), fetch: true };
    Ok(sign::ltv::extend_bytes(sealed, &revocation, Some(tsa_url)).await?)
}

/// What the seal says and where it shows.
fn seal_options(pdf: &[u8], agency_name: &str, signing_time: chrono::DateTime<chrono::FixedOffset>) -> Result<SignOptions, SealError> {
    let lines = vec![
        AppearanceText { text: COPY_REASON.to_owned(), size: 10.0 },
        AppearanceText { text: agency_name.to_owned(), size: 10.0 },
        AppearanceText { text: signing_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, false), size: 10.0 },
    ];
    // Tall enough for the lines at 10 pt, as a long agency name wraps. A word wider than the
    // box is set smaller by the layout, and a missing font is reported when it is written.
    let height = Appearance::height_for(&lines, SEAL_WIDTH).unwrap_or(SEAL_HEIGHT).max(SEAL_HEIGHT);
    let options = SignOptions {
        page: 1,
        appearance: Some(Appearance { rect: seal_rect(crate::pdf::crop_box(pdf, 1)?, height), lines, image: None, seal: None, link: None }),
        reason: Some(COPY_REASON.to_owned()),
        location: None,
        signing_time,
        timestamp: false,
        // The seal certifies the copy: officials may still sign it, nothing else may change.
        certify: Some(2),
    };
    Ok(options)
}

/// The seal's box in the top right corner of the visible page `crop` (which need not start at
/// the origin), `height` tall.
fn seal_rect([x1, y1, x2, y2]: [f32; 4], height: f32) -> [f32; 4] {
    let right = (x2 - SEAL_MARGIN).max(x1 + SEAL_WIDTH);
    let top = (y2 - SEAL_MARGIN).max(y1 + height);
    // On a page smaller than the box, signing cuts it to the page and sets the text smaller.
    [right - SEAL_WIDTH, top - height, right, top]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seal_sits_in_the_top_right_of_a_page_off_the_origin() {
        assert_eq!(seal_rect([0.0, 0.0, 595.0, 842.0], 46.0), [357.0, 778.0, 577.0, 824.0]);
        assert_eq!(seal_rect([-20.0, 100.0, 575.0, 942.0], 58.0), [337.0, 866.0, 557.0, 924.0]);
        let small = seal_rect([10.0, 10.0, 200.0, 60.0], 46.0);
        assert_eq!(small, [10.0, 10.0, 230.0, 56.0], "a page too small: signing cuts the box to it");
    }
}
