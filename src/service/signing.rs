//! Result documents from attach to issue: where an official's signature shows, signing with
//! a server-held key or deferred (prepare the signed attributes, complete with the token's
//! signature), checking each signed version before it is kept, and issuing the result as a
//! record through the registry.

mod placement;
mod preview;

pub use super::preview::{MAX_PREVIEW_WIDTH, MIN_PREVIEW_WIDTH};
pub use placement::{Placement, Spec};
pub use preview::PageBox;

use super::{Result, ServiceError};
use crate::archive::Archive;
use crate::domain::{random_hex, vietnam_offset, vietnam_today, AgencyCode, Digest};
use crate::index::{
    Actor, AuditEntry, ComponentCheck, Dossier, Index, IndexError, NewRecord, NewResult, NewSession, NewVersion, Record, ResultDoc,
};
use crate::policy::{validity_window, Catalog};
use crate::registry::{self, Lineage, RegistryError};
use crate::sign::{self, certificate_subject, FileSigner, KeyAlgorithm, Signer};
use bytes::Bytes;
use serde_json::json;
use std::path::Path;

/// How long the signed attributes of a deferred signature wait for the token.
const SESSION_MINUTES: i64 = 15;
/// Officials named to sign one result, at most.
const MAX_SIGNERS: usize = 8;
/// Drafts of an agency looked through for one official's list.
const MAX_DRAFTS: u32 = 1000;

fn invalid(code: &'static str, detail: impl Into<String>) -> ServiceError {
    ServiceError::Invalid { code, detail: detail.into() }
}

fn internal(context: &'static str, detail: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal { context, detail: detail.to_string() }
}

/// A deferred signature's first half: what the official's token signs.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub session: String,
    pub signed_attributes: Vec<u8>,
    pub algorithm: KeyAlgorithm,
    pub expires_at_ms: i64,
}

/// What signing works with; borrowed from the service's state for one request.
pub struct Signing<'a> {
    pub index: &'a dyn Index,
    pub archive: &'a Archive,
    pub catalog: &'a Catalog,
    /// Root certificates (DER) a signed version must verify against.
    pub trust_anchors: &'a [Vec<u8>],
    /// Officials' server-held keys and images by signer label, and the agency's seal image.
    pub officials_dir: &'a Path,
    pub officials_chain: Option<&'a Path>,
    /// With a time-stamp authority, issued results are archived at PAdES B-LTA.
    pub tsa_url: Option<&'a str>,
    /// The desk's public address; each signature links the result's verification page there.
    pub public_url: &'a str,
}

impl Signing<'_> {
    /// Attaches `pdf` (version 1) to `dossier`, as a result of its agency, of `doc_type` (the
    /// procedure's result type by default), to be signed by `signers` in that order (signer
    /// token labels; none: any signer of the agency).
    #[allow(clippy::too_many_arguments)]
    pub async fn attach(
        &self,
        actor: Actor,
        dossier: &Dossier,
        doc_type: Option<String>,
        number: Option<String>,
        signers: Vec<String>,
        pdf: Bytes,
        max_pages: u32,
    ) -> Result<ResultDoc> {
        if signers.len() > MAX_SIGNERS || !signers.iter().all(|s| is_label(s)) {
            return Err(invalid(
                "invalid_signers",
                format!("signers are 1 to {MAX_SIGNERS} signer token labels (letters, digits, '-' and '_', at most 64)"),
            ));
        }
        if signers.iter().enumerate().any(|(i, s)| signers[..i].contains(s)) {
            return Err(invalid("invalid_signers", "an official is named twice"));
        }
        let doc_type = match doc_type {
            Some(t) => t,
            None => self
                .catalog
                .procedure(&dossier.procedure)
                .map(|p| p.result.to_string())
                .ok_or_else(|| invalid("unknown_procedure", "the dossier's procedure is not in the catalog"))?,
        };
        if self.catalog.doc_type(&doc_type).is_none() {
            return Err(invalid("unknown_doc_type", format!("no document type {doc_type:?} in the catalog")));
        }
        if number.as_ref().is_some_and(|n| n.is_empty() || n.chars().count() > 64) {
            return Err(invalid("invalid_number", "the document number has 1 to 64 characters"));
        }
        let pages = readable_pdf(pdf.clone()).await?;
        if pages > max_pages as usize {
            return Err(ServiceError::TooLarge { code: "too_many_pages", detail: format!("{pages} pages; at most {max_pages}") });
        }
        let size = pdf.len() as u64;
        let digest = self.archive.put_blob(pdf).await?;
        let new = NewResult {
            id: format!("kq-{}", random_hex(8)),
            agency: dossier.agency.clone(),
            dossier: dossier.code.clone(),
            doc_type,
            number,
            digest,
            size,
        };
        let audit = AuditEntry {
            actor,
            action: "result.attach",
            target: String::new(),
            detail: json!({"dossier": dossier.code, "doc_type": new.doc_type, "digest": new.digest.prefixed(), "signers": signers}),
        };
        Ok(self.index.create_result_signed_by(new, &signers, audit).await?)
    }

    pub async fn result(&self, id: &str) -> Result<Option<ResultDoc>> {
        Ok(self.index.result(id).await?)
    }

    /// The current version's bytes, verified on read.
    pub async fn content(&self, result: &ResultDoc) -> Result<Bytes> {
        Ok(self.archive.get_blob(&result.digest).await?)
    }

    /// The agency's draft results waiting for the official `label`'s signature, oldest first.
    pub async fn waiting(&self, agency: &AgencyCode, label: &str) -> Result<Vec<ResultDoc>> {
        let drafts = self.index.draft_results(agency, MAX_DRAFTS).await?;
        Ok(drafts.into_iter().filter(|r| r.waits_for(label)).collect())
    }

    /// Signs with the server-held key of the official `label` (PAdES B-B, visible).
    /// Where anyone verifies result `id`: the desk's public page, by the result's short id.
    pub fn verification_link(&self, id: &str) -> String {
        format!("{}/#/xac-minh/{id}", self.public_url)
    }

    pub async fn sign(&self, actor: Actor, label: &str, result: &ResultDoc, placement: Placement) -> Result<ResultDoc> {
        draft(result)?;
        turn(result, label)?;
        let (signer, image) = self.server_signer(label)?;
        let pdf = self.archive.get_blob(&result.digest).await?;
        let signing_time = chrono::Utc::now().with_timezone(&vietnam_offset());
        let spec = placement.resolve(&pdf, signing_time, self.verification_link(&result.id))?;
        let options = spec.options(self.officials_dir, signer.certificate(), image)?;
        let certificate = signer.certificate().to_vec();
        let (signed, field) = tokio::task::spawn_blocking(move || {
            let pending = sign::begin(&pdf, signer.certificate(), signer.chain(), signer.algorithm(), options)?;
            let field = pending.field_name().to_owned();
            let signature = signer.sign(pending.signed_attributes())?;
            Ok::<_, sign::SignError>((pending.complete(&pdf, &signature, None)?, field))
        })
        .await
        .map_err(|e| internal("signing stopped", e))??;
        let signed = self.checked(signed, &field).await?;
        let result = self.store_version(actor, result, signed, &certificate, "signed", None).await?;
        crate::metrics::count("sohoa_signatures_total", &[("kind", "official")], 1);
        Ok(result)
    }

    /// Prepares the signature field for the official's certificate (DER) and keeps a session
    /// the signature is posted to.
    pub async fn prepare(
        &self,
        actor: Actor,
        label: &str,
        result: &ResultDoc,
        certificate: Vec<u8>,
        placement: Placement,
    ) -> Result<Prepared> {
        draft(result)?;
        turn(result, label)?;
        let algorithm = certificate_algorithm(&certificate)?;
        let pdf = self.archive.get_blob(&result.digest).await?;
        let signing_time = chrono::Utc::now().with_timezone(&vietnam_offset());
        let spec = placement.resolve(&pdf, signing_time, self.verification_link(&result.id))?;
        let pending = self.begin(pdf.to_vec(), &spec, certificate.clone(), algorithm).await?;
        let session = format!("ss-{}", random_hex(12));
        let expires_at_ms = chrono::Utc::now().timestamp_millis() + SESSION_MINUTES * 60_000;
        let signed_attributes = pending.signed_attributes().to_vec();
        let new = NewSession {
            id: session.clone(),
            result: result.id.clone(),
            base: result.digest.clone(),
            certificate,
            spec: serde_json::to_value(&spec).map_err(|e| internal("spec", e))?,
            signed_attributes: signed_attributes.clone(),
            expires_at_ms,
        };
        let audit = AuditEntry { actor, action: "result.signing_digest", target: String::new(), detail: json!({"session": session}) };
        self.index.create_signing_session(new, audit).await?;
        Ok(Prepared { session, signed_attributes, algorithm, expires_at_ms })
    }

    /// Completes a deferred signature with the token's raw `signature` over the session's
    /// signed attributes. An ECDSA signature may come as DER or as the 64 bytes r‖s that
    /// WebCrypto and PKCS#11 tokens give.
    pub async fn complete(&self, actor: Actor, label: &str, result: &ResultDoc, session: &str, signature: &[u8]) -> Result<ResultDoc> {
        draft(result)?;
        turn(result, label)?;
        let not_found = || ServiceError::NotFound {
            code: "session_not_found",
            detail: format!("no signing session {session} for result {}", result.id),
        };
        let session = self.index.signing_session(session).await?.ok_or_else(not_found)?;
        let conflict = |code, detail: &str| ServiceError::Conflict { code, detail: detail.to_owned() };
        if session.result != result.id {
            return Err(not_found());
        }
        if session.used {
            return Err(conflict("session_used", "this signing session was used already"));
        }
        if session.expires_at_ms < chrono::Utc::now().timestamp_millis() {
            return Err(conflict("session_expired", "the signing session expired: ask for a new signing digest"));
        }
        if session.base != result.digest {
            return Err(conflict("result_changed", "the result was signed by someone else since: ask for a new signing digest"));
        }
        if signature.is_empty() || signature.len() > 1024 {
            return Err(invalid("invalid_signature", "the signature has 1 to 1024 bytes"));
        }
        let spec: Spec = serde_json::from_value(session.spec.clone()).map_err(|e| internal("session spec", e))?;
        let algorithm = certificate_algorithm(&session.certificate)?;
        let der;
        let signature = match algorithm {
            KeyAlgorithm::EcdsaP256Sha256 if signature.len() == 64 => {
                der = sign::ecdsa_der(signature).map_err(|e| invalid("invalid_signature", e))?;
                der.as_slice()
            }
            _ => signature,
        };
        let pdf = self.archive.get_blob(&result.digest).await?;
        let pending = self.begin(pdf.to_vec(), &spec, session.certificate.clone(), algorithm).await?;
        if pending.signed_attributes() != session.signed_attributes.as_slice() {
            return Err(internal("deferred signing", "the prepared field differs from the session's"));
        }
        let field = pending.field_name().to_owned();
        let signed = pending.complete(&pdf, signature, None)?;
        let signed = self.checked(signed, &field).await?;
        let result = self.store_version(actor, result, signed, &session.certificate, "signed_deferred", Some(session.id)).await?;
        crate::metrics::count("sohoa_signatures_total", &[("kind", "deferred")], 1);
        Ok(result)
    }

    /// Issues the signed result as a record of the applicant, found and reused like any other.
    pub async fn issue(&self, actor: Actor, result: &ResultDoc) -> Result<(ResultDoc, Record)> {
        result.status.issue().map_err(|_| issued(result))?;
        if result.signatures == 0 {
            return Err(ServiceError::Conflict {
                code: "result_unsigned",
                detail: "an official signs the result before it is issued".into(),
            });
        }
        if !result.missing_signers().is_empty() {
            return Err(ServiceError::Conflict {
                code: "signatures_missing",
                detail: format!("{} still to sign", result.missing_signers().join(", ")),
            });
        }
        let dossier = self
            .index
            .dossier(&result.dossier)
            .await?
            .ok_or_else(|| internal("result dossier", format!("dossier {} vanished", result.dossier)))?;
        let mut bytes = self.archive.get_blob(&result.digest).await?;
        let (mut digest, mut size) = (result.digest.clone(), result.size);
        if let Some(url) = self.tsa_url {
            // Archived at B-LTA: validation data and a document time-stamp keep the officials'
            // signatures verifiable after their certificates expire.
            let revocation = sign::ltv::Revocation { crls: Vec::new(), fetch: true };
            let extended = sign::ltv::extend_bytes(bytes.to_vec(), &revocation, Some(url)).await?;
            size = extended.len() as u64;
            bytes = extended.into();
            digest = self.archive.put_blob(bytes.clone()).await?;
        }
        let signatures = tokio::task::spawn_blocking({
            let anchors = self.trust_anchors.to_vec();
            move || crate::verify::verify_pdf(&bytes, &anchors, chrono::Utc::now())
        })
        .await
        .map_err(|e| internal("verification stopped", e))?
        .map_err(|e| invalid(e.code(), e.to_string()))?;
        let today = vietnam_today();
        let validity = self.catalog.doc_type(&result.doc_type).map(|t| t.validity);
        let (valid_from, valid_until) = validity_window(validity, Some(today), None);
        let summary = json!({
            "signatures": signatures.signatures.iter().map(|s| json!({
                "kind": "official",
                "signer": s.signer,
                "signing_time": s.claimed_time,
                "level": s.level,
                "valid": s.valid,
            })).collect::<Vec<_>>(),
            "source": { "result": result.id, "versions": result.versions.len() },
        });
        let record = NewRecord {
            id: result.id.clone(),
            kind: "result",
            agency: result.agency.clone(),
            dossier: Some(result.dossier.clone()),
            component: None,
            scan: None,
            owner_id: Some(dossier.applicant.id.clone()),
            doc_type: result.doc_type.clone(),
            number: result.number.clone(),
            issue_date: Some(today),
            valid_from,
            valid_until,
            digest,
            size,
            manifest_digest: Digest::of(b""),
            summary,
        };
        let audit =
            AuditEntry { actor: actor.clone(), action: "record.create", target: String::new(), detail: json!({"result": result.id}) };
        // The record's id is the result's: a retry after a failure below finds it stored.
        let stored = match registry::store(self.index, self.archive, record, ComponentCheck::satisfied(), audit, Lineage::New).await {
            Ok(r) => r,
            Err(RegistryError::Index(IndexError::Conflict)) => {
                self.index.record(&result.id).await?.ok_or_else(|| internal("issue", "record conflict without a record"))?
            }
            Err(e) => return Err(e.into()),
        };
        let audit = AuditEntry { actor, action: "result.issue", target: String::new(), detail: json!({"record": stored.id}) };
        let result = self.index.issue_result(&result.id, &stored.id, audit).await?;
        Ok((result, stored))
    }

    /// The official's server-held key, named by the signer token's label, and their image.
    fn server_signer(&self, label: &str) -> Result<(FileSigner, Option<Vec<u8>>)> {
        let safe = is_label(label);
        let key = self.officials_dir.join(format!("{label}.key"));
        let cert = self.officials_dir.join(format!("{label}.pem"));
        if !safe || !key.exists() || !cert.exists() {
            return Err(ServiceError::Conflict {
                code: "no_server_key",
                detail: "no server-held key for this signer: use deferred signing with your token".into(),
            });
        }
        let signer = FileSigner::from_files(&key, &cert, self.officials_chain)
            .map_err(|e| internal("official key", format!("{}: {e}", key.display())))?;
        let image = std::fs::read(self.officials_dir.join(format!("{label}.png"))).ok();
        Ok((signer, image))
    }

    /// The chain embedded with an official's signature: the configured issuing certificates.
    fn chain(&self) -> Result<Vec<Vec<u8>>> {
        match self.officials_chain {
            Some(path) if path.exists() => sign::load_certificates(path).map_err(|e| internal("officials chain", e)),
            _ => Ok(Vec::new()),
        }
    }

    async fn begin(&self, pdf: Vec<u8>, spec: &Spec, certificate: Vec<u8>, algorithm: KeyAlgorithm) -> Result<sign::Pending> {
        let options = spec.options(self.officials_dir, &certificate, None)?;
        let chain = self.chain()?;
        Ok(tokio::task::spawn_blocking(move || sign::begin(&pdf, &certificate, &chain, algorithm, options))
            .await
            .map_err(|e| internal("prepare stopped", e))??)
    }

    /// Checks the newly signed bytes before they replace the result: every signature must be
    /// valid against the trust anchors, the new one (in `field`) included.
    async fn checked(&self, signed: Vec<u8>, field: &str) -> Result<Vec<u8>> {
        let anchors = self.trust_anchors.to_vec();
        let (signed, report) = tokio::task::spawn_blocking(move || {
            let report = crate::verify::verify_pdf(&signed, &anchors, chrono::Utc::now());
            (signed, report)
        })
        .await
        .map_err(|e| internal("verification stopped", e))?;
        let report = report.map_err(|e| invalid(e.code(), e.to_string()))?;
        if !report.valid || !report.signatures.iter().any(|s| s.field == field) {
            let reasons: Vec<String> =
                report.signatures.iter().flat_map(|s| s.problems.iter().map(|p| format!("{}: {}", p.code, p.detail))).collect();
            return Err(invalid("signature_invalid", format!("the signed document does not verify: {}", reasons.join("; "))));
        }
        Ok(signed)
    }

    async fn store_version(
        &self,
        actor: Actor,
        result: &ResultDoc,
        signed: Vec<u8>,
        certificate: &[u8],
        event: &'static str,
        session: Option<String>,
    ) -> Result<ResultDoc> {
        let size = signed.len() as u64;
        let digest = self.archive.put_blob(signed.into()).await?;
        let signer = certificate_subject(certificate);
        let version = NewVersion { base: result.digest.clone(), digest: digest.clone(), size, event, signer: signer.clone(), session };
        let audit = AuditEntry {
            actor,
            action: "result.sign",
            target: String::new(),
            detail: json!({"event": event, "signer": signer, "digest": digest.prefixed()}),
        };
        Ok(self.index.add_result_version(&result.id, version, audit).await?)
    }
}

fn issued(result: &ResultDoc) -> ServiceError {
    ServiceError::Conflict { code: "result_issued", detail: format!("result {} is issued; it cannot be signed again", result.id) }
}

/// Only a draft is signed.
fn draft(result: &ResultDoc) -> Result<()> {
    result.status.sign().map(|_| ()).map_err(|_| issued(result))
}

/// Officials named for a result sign in their order.
fn turn(result: &ResultDoc, label: &str) -> Result<()> {
    result.turn_of(label).map_err(|e| ServiceError::Conflict { code: e.code(), detail: e.to_string() })
}

/// A signer token's label as it names a key file and a turn: 1 to 64 letters, digits, `-`, `_`.
fn is_label(label: &str) -> bool {
    !label.is_empty() && label.len() <= 64 && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Parses the PDF off the async threads; the number of pages, or `pdf_unreadable`.
async fn readable_pdf(pdf: Bytes) -> Result<usize> {
    tokio::task::spawn_blocking(move || crate::pdf::load(&pdf).map(|doc| doc.get_pages().len()))
        .await
        .map_err(|e| internal("pdf parse stopped", e))?
        .map_err(|e| invalid("pdf_unreadable", e.to_string()))
}

/// The signature algorithm of a certificate's key.
pub fn certificate_algorithm(der: &[u8]) -> Result<KeyAlgorithm> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|e| invalid("invalid_certificate", format!("not an X.509 certificate: {e}")))?;
    match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(_)) => Ok(KeyAlgorithm::RsaSha256),
        Ok(x509_parser::public_key::PublicKey::EC(_)) => Ok(KeyAlgorithm::EcdsaP256Sha256),
        _ => Err(invalid("unsupported_key", "the certificate's key is neither RSA nor ECDSA P-256")),
    }
}
