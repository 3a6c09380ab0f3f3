//! Result documents: a signer of the agency attaches the PDF the procedure issues, officials
//! sign it (with a server-held key, or deferred: the service hands out the signed
//! attributes, the official's token signs them, the service completes the CMS), and it is
//! issued as a record. Every signature is an incremental update checked before it is kept.

use super::body::JsonBody;
use super::{dossiers, records, ApiError, AppState, Principal};
use crate::domain::{vietnam_offset, vietnam_time, Digest, Role};
use crate::index::{AuditEntry, ComponentCheck, NewRecord, NewResult, NewSession, NewVersion, ResultDoc};
use crate::pdf::Appearance;
use crate::registry::{self, Lineage, RegistryError};
use crate::seal::{certificate_subject, random_hex, validity_window};
use crate::sign::{self, FileSigner, KeyAlgorithm, SignOptions, Signer};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

/// How long the signed attributes of a deferred signature wait for the token.
const SESSION_MINUTES: i64 = 15;
/// The visible signature box: bottom right of the page, above the margin (points).
const BOX: (f32, f32, f32) = (230.0, 90.0, 56.0);

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn render(r: &ResultDoc) -> Value {
    json!({
        "id": r.id,
        "agency": r.agency,
        "dossier": r.dossier,
        "doc_type": r.doc_type,
        "number": r.number,
        "digest": r.digest.prefixed(),
        "size": r.size,
        "signatures": r.signatures,
        "status": r.status,
        "record": r.record,
        "created_at": vietnam_time(r.created_at_ms),
        "versions": r.versions.iter().map(|v| json!({
            "seq": v.seq,
            "digest": v.digest.prefixed(),
            "size": v.size,
            "event": v.event,
            "actor": v.actor,
            "signer": v.signer,
            "at": vietnam_time(v.at_ms),
        })).collect::<Vec<_>>(),
    })
}

async fn load(state: &AppState, who: &Principal, id: &str, roles: &[Role]) -> Result<ResultDoc, ApiError> {
    who.require(roles)?;
    let not_found = || ApiError::not_found("result_not_found", format!("no result {id}"));
    let result = state.index.result(id).await?.ok_or_else(not_found)?;
    if result.agency != who.agency {
        return Err(not_found());
    }
    Ok(result)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachQuery {
    /// Document type; the procedure's result type by default.
    #[serde(rename = "type")]
    doc_type: Option<String>,
    /// The document's number ("Số: …").
    number: Option<String>,
}

/// `POST /dossiers/{code}/results?type=&number=` with the PDF as the body: 201.
pub async fn attach(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(code): Path<String>,
    Query(q): Query<AttachQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    who.require(&[Role::Signer])?;
    let dossier = dossiers::load(&state, &who, &code).await?;
    let doc_type = match q.doc_type {
        Some(t) => t,
        None => state
            .catalog
            .procedure(&dossier.procedure)
            .map(|p| p.result.to_string())
            .ok_or_else(|| ApiError::unprocessable("unknown_procedure", "the dossier's procedure is not in the catalog"))?,
    };
    if state.catalog.doc_type(&doc_type).is_none() {
        return Err(ApiError::unprocessable("unknown_doc_type", format!("no document type {doc_type:?} in the catalog")));
    }
    if q.number.as_ref().is_some_and(|n| n.is_empty() || n.chars().count() > 64) {
        return Err(ApiError::unprocessable("invalid_number", "the document number has 1 to 64 characters"));
    }
    let pdf = super::scans::read_body(body, &headers, state.max_upload_bytes).await?;
    let pages = readable_pdf(pdf.clone()).await?;
    if pages > state.media_limits.max_pages as usize {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_pages",
            format!("{pages} pages; at most {}", state.media_limits.max_pages),
        ));
    }
    let size = pdf.len() as u64;
    let digest = state.archive.put_blob(pdf).await?;
    let new = NewResult {
        id: format!("kq-{}", random_hex(8)),
        agency: who.agency.clone(),
        dossier: dossier.code.clone(),
        doc_type,
        number: q.number,
        digest,
        size,
    };
    let audit = AuditEntry {
        actor: who.actor(),
        action: "result.attach",
        target: String::new(),
        detail: json!({"dossier": dossier.code, "doc_type": new.doc_type, "digest": new.digest.prefixed()}),
    };
    let result = state.index.create_result(new, audit).await?;
    Ok((StatusCode::CREATED, Json(render(&result))))
}

/// Parses the PDF off the async threads; the number of pages, or 422 `pdf_unreadable`.
async fn readable_pdf(pdf: bytes::Bytes) -> Result<usize, ApiError> {
    tokio::task::spawn_blocking(move || crate::pdf::load(&pdf).map(|doc| doc.get_pages().len()))
        .await
        .map_err(|e| ApiError::internal("pdf parse stopped", e))?
        .map_err(|e| ApiError::unprocessable("pdf_unreadable", e.to_string()))
}

pub async fn get(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let result = load(&state, &who, &id, &[Role::Signer, Role::Auditor, Role::Admin]).await?;
    Ok(Json(render(&result)))
}

/// The current version's bytes, verified on read.
pub async fn content(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<String>) -> Result<Response, ApiError> {
    let result = load(&state, &who, &id, &[Role::Signer, Role::Auditor, Role::Admin]).await?;
    let bytes = state.archive.get_blob(&result.digest).await?;
    let etag = format!("\"{}\"", result.digest.prefixed());
    Ok(([(header::CONTENT_TYPE, "application/pdf".to_owned()), (header::ETAG, etag)], bytes).into_response())
}

/// Where and how the signature shows; kept with a deferred session so the same field is
/// prepared again when the signature comes back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placement {
    /// Page number, 1-based; the last page by default.
    page: Option<u32>,
    /// `[x, y, width, height]` in points from the bottom left; bottom right by default.
    rect: Option<[f32; 4]>,
    reason: Option<String>,
    location: Option<String>,
}

/// The signature field spec, resolved against the document.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Spec {
    page: u32,
    rect: [f32; 4],
    reason: Option<String>,
    location: Option<String>,
    signing_time: DateTime<FixedOffset>,
}

fn resolve(pdf: &[u8], placement: Placement, signing_time: DateTime<FixedOffset>) -> Result<Spec, ApiError> {
    let text_ok = |t: &Option<String>| t.as_ref().is_none_or(|t| t.chars().count() <= 200);
    if !text_ok(&placement.reason) || !text_ok(&placement.location) {
        return Err(ApiError::unprocessable("invalid_request", "reason and location have at most 200 characters"));
    }
    let count = crate::pdf::page_count(pdf).map_err(|e| ApiError::unprocessable("pdf_unreadable", e.to_string()))? as u32;
    let page = placement.page.unwrap_or(count);
    let (width, height) =
        crate::pdf::page_size(pdf, page).map_err(|_| ApiError::unprocessable("invalid_page", format!("page {page} of {count}")))?;
    let rect = match placement.rect {
        Some([x, y, w, h]) => {
            let inside = [x, y, w, h].iter().all(|v| v.is_finite()) && x >= 0.0 && y >= 0.0 && w >= 20.0 && h >= 10.0;
            if !inside || x + w > width || y + h > height {
                return Err(ApiError::unprocessable("invalid_rect", format!("the box must lie on the {width}x{height} page")));
            }
            [x, y, x + w, y + h]
        }
        None => {
            let (w, h, margin) = BOX;
            let x2 = (width - margin).max(w);
            [x2 - w, margin.min(height - h).max(0.0), x2, margin.min(height - h).max(0.0) + h]
        }
    };
    Ok(Spec { page, rect, reason: placement.reason, location: placement.location, signing_time })
}

/// The visible signature: the official's image when one is held (`<label>.png`), with the
/// agency's red seal (`seal.png` in the officials' directory) over its left third.
fn options(state: &AppState, spec: &Spec, certificate: &[u8], image: Option<Vec<u8>>) -> Result<SignOptions, ApiError> {
    let seal = std::fs::read(state.officials_dir.join("seal.png")).ok();
    let appearance = Appearance::for_signer(spec.rect, certificate, spec.signing_time, image)
        .map_err(|e| ApiError::unprocessable("invalid_certificate", e.to_string()))?
        .with_seal(seal);
    Ok(SignOptions {
        page: spec.page,
        appearance: Some(appearance),
        reason: spec.reason.clone(),
        location: spec.location.clone(),
        signing_time: spec.signing_time,
        timestamp: false,
        certify: None,
    })
}

/// The official's server-held key, named by the signer token's label.
fn server_signer(state: &AppState, who: &Principal) -> Result<(FileSigner, Option<Vec<u8>>), ApiError> {
    let label = &who.label;
    let safe = !label.is_empty() && label.len() <= 64 && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let key = state.officials_dir.join(format!("{label}.key"));
    let cert = state.officials_dir.join(format!("{label}.pem"));
    if !safe || !key.exists() || !cert.exists() {
        return Err(ApiError::conflict("no_server_key", "no server-held key for this signer: use deferred signing with your token"));
    }
    let signer = FileSigner::from_files(&key, &cert, state.officials_chain.as_deref())
        .map_err(|e| ApiError::internal("official key", format!("{}: {e}", key.display())))?;
    let image = std::fs::read(state.officials_dir.join(format!("{label}.png"))).ok();
    Ok((signer, image))
}

/// Checks the newly signed bytes before they replace the result: every signature must be
/// valid against the trust anchors, the new one (in `field`) included.
async fn checked(state: &AppState, signed: Vec<u8>, field: &str) -> Result<Vec<u8>, ApiError> {
    let anchors = state.trust_anchors.clone();
    let (signed, report) = tokio::task::spawn_blocking(move || {
        let report = crate::verify::verify_pdf(&signed, &anchors, chrono::Utc::now());
        (signed, report)
    })
    .await
    .map_err(|e| ApiError::internal("verification stopped", e))?;
    let report = report.map_err(|e| ApiError::unprocessable(e.code(), e.to_string()))?;
    if !report.valid || !report.signatures.iter().any(|s| s.field == field) {
        let reasons: Vec<String> =
            report.signatures.iter().flat_map(|s| s.problems.iter().map(|p| format!("{}: {}", p.code, p.detail))).collect();
        return Err(ApiError::unprocessable("signature_invalid", format!("the signed document does not verify: {}", reasons.join("; "))));
    }
    Ok(signed)
}

async fn store_version(
    state: &AppState,
    who: &Principal,
    result: &ResultDoc,
    signed: Vec<u8>,
    certificate: &[u8],
    event: &'static str,
    session: Option<String>,
) -> Result<ResultDoc, ApiError> {
    let size = signed.len() as u64;
    let digest = state.archive.put_blob(signed.into()).await?;
    let signer = certificate_subject(certificate);
    let version = NewVersion { base: result.digest.clone(), digest: digest.clone(), size, event, signer: signer.clone(), session };
    let audit = AuditEntry {
        actor: who.actor(),
        action: "result.sign",
        target: String::new(),
        detail: json!({"event": event, "signer": signer, "digest": digest.prefixed()}),
    };
    Ok(state.index.add_result_version(&result.id, version, audit).await?)
}

fn draft(result: &ResultDoc) -> Result<(), ApiError> {
    if result.status != crate::domain::ResultStatus::Draft {
        return Err(ApiError::conflict("result_issued", format!("result {} is issued; it cannot be signed again", result.id)));
    }
    Ok(())
}

/// `POST /results/{id}/sign {page?, rect?, reason?, location?}`: signs with the official's
/// server-held key (PAdES B-B, visible).
pub async fn sign(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<String>,
    JsonBody(placement): JsonBody<Placement>,
) -> Result<Json<Value>, ApiError> {
    let result = load(&state, &who, &id, &[Role::Signer]).await?;
    draft(&result)?;
    let (signer, image) = server_signer(&state, &who)?;
    let pdf = state.archive.get_blob(&result.digest).await?;
    let signing_time = chrono::Utc::now().with_timezone(&vietnam_offset());
    let spec = resolve(&pdf, placement, signing_time)?;
    let options = options(&state, &spec, signer.certificate(), image)?;
    let certificate = signer.certificate().to_vec();
    let (signed, field) = tokio::task::spawn_blocking(move || {
        let pending = sign::begin(&pdf, signer.certificate(), signer.chain(), signer.algorithm(), options)?;
        let field = pending.field_name().to_owned();
        let signature = signer.sign(pending.signed_attributes())?;
        Ok::<_, sign::SignError>((pending.complete(&pdf, &signature, None)?, field))
    })
    .await
    .map_err(|e| ApiError::internal("signing stopped", e))?
    .map_err(|e| ApiError::unprocessable(e.code(), e.to_string()))?;
    let signed = checked(&state, signed, &field).await?;
    let result = store_version(&state, &who, &result, signed, &certificate, "signed", None).await?;
    crate::metrics::count("sohoa_signatures_total", &[("kind", "official")], 1);
    Ok(Json(render(&result)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestQuery {
    /// The official's certificate, DER in base64 (standard or URL-safe alphabet).
    certificate: String,
    page: Option<u32>,
    /// `x,y,width,height` in points.
    rect: Option<String>,
    reason: Option<String>,
    location: Option<String>,
}

fn decode_b64(text: &str, what: &str) -> Result<Vec<u8>, ApiError> {
    let clean: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let padded = format!("{clean}{}", "=".repeat((4 - clean.len() % 4) % 4));
    B64.decode(padded).map_err(|_| ApiError::unprocessable("invalid_base64", format!("{what} is not base64")))
}

/// `GET /results/{id}/signing-digest?certificate=&page=&rect=&reason=&location=`: prepares
/// the signature field for the official's certificate and returns the DER of the signed
/// attributes (what the token signs), their SHA-256, and a session to post the signature to.
pub async fn signing_digest(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<String>,
    Query(q): Query<DigestQuery>,
) -> Result<Json<Value>, ApiError> {
    let result = load(&state, &who, &id, &[Role::Signer]).await?;
    draft(&result)?;
    let certificate = decode_b64(&q.certificate, "certificate")?;
    let algorithm = certificate_algorithm(&certificate)?;
    let rect = q
        .rect
        .as_deref()
        .map(|r| {
            let v: Vec<f32> = r.split(',').filter_map(|n| n.trim().parse().ok()).collect();
            <[f32; 4]>::try_from(v).map_err(|_| ApiError::unprocessable("invalid_rect", "rect is x,y,width,height"))
        })
        .transpose()?;
    let placement = Placement { page: q.page, rect, reason: q.reason, location: q.location };
    let pdf = state.archive.get_blob(&result.digest).await?;
    let signing_time = chrono::Utc::now().with_timezone(&vietnam_offset());
    let spec = resolve(&pdf, placement, signing_time)?;
    let pending = prepare(pdf.to_vec(), &spec, certificate.clone(), algorithm, &state).await?;
    let session = format!("ss-{}", random_hex(12));
    let expires_at_ms = chrono::Utc::now().timestamp_millis() + SESSION_MINUTES * 60_000;
    let signed_attributes = pending.signed_attributes().to_vec();
    let new = NewSession {
        id: session.clone(),
        result: result.id.clone(),
        base: result.digest.clone(),
        certificate,
        spec: serde_json::to_value(&spec).map_err(|e| ApiError::internal("spec", e))?,
        signed_attributes: signed_attributes.clone(),
        expires_at_ms,
    };
    let audit =
        AuditEntry { actor: who.actor(), action: "result.signing_digest", target: String::new(), detail: json!({"session": session}) };
    state.index.create_signing_session(new, audit).await?;
    Ok(Json(json!({
        "session": session,
        "signed_attributes": B64.encode(&signed_attributes),
        "digest_sha256": Digest::of(&signed_attributes).as_str(),
        "algorithm": match algorithm { KeyAlgorithm::RsaSha256 => "rsa_pkcs1_sha256", KeyAlgorithm::EcdsaP256Sha256 => "ecdsa_p256_sha256" },
        "expires_at": vietnam_time(expires_at_ms),
    })))
}

fn certificate_algorithm(der: &[u8]) -> Result<KeyAlgorithm, ApiError> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| ApiError::unprocessable("invalid_certificate", format!("not an X.509 certificate: {e}")))?;
    match cert.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(_)) => Ok(KeyAlgorithm::RsaSha256),
        Ok(x509_parser::public_key::PublicKey::EC(_)) => Ok(KeyAlgorithm::EcdsaP256Sha256),
        _ => Err(ApiError::unprocessable("unsupported_key", "the certificate's key is neither RSA nor ECDSA P-256")),
    }
}

/// The chain embedded with an official's signature: the configured issuing certificates.
fn chain(state: &AppState) -> Result<Vec<Vec<u8>>, ApiError> {
    match &state.officials_chain {
        Some(path) if path.exists() => sign::load_certificates(path).map_err(|e| ApiError::internal("officials chain", e)),
        _ => Ok(Vec::new()),
    }
}

async fn prepare(
    pdf: Vec<u8>,
    spec: &Spec,
    certificate: Vec<u8>,
    algorithm: KeyAlgorithm,
    state: &AppState,
) -> Result<sign::Pending, ApiError> {
    let options = options(state, spec, &certificate, None)?;
    let chain = chain(state)?;
    tokio::task::spawn_blocking(move || sign::begin(&pdf, &certificate, &chain, algorithm, options))
        .await
        .map_err(|e| ApiError::internal("prepare stopped", e))?
        .map_err(|e| ApiError::unprocessable(e.code(), e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureBody {
    session: String,
    /// The raw signature over the signed attributes, base64.
    signature: String,
}

/// `POST /results/{id}/signature {session, signature}`: completes a deferred signature.
pub async fn signature(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SignatureBody>,
) -> Result<Json<Value>, ApiError> {
    let result = load(&state, &who, &id, &[Role::Signer]).await?;
    draft(&result)?;
    let not_found = || ApiError::not_found("session_not_found", format!("no signing session {} for result {id}", body.session));
    let session = state.index.signing_session(&body.session).await?.ok_or_else(not_found)?;
    if session.result != result.id {
        return Err(not_found());
    }
    if session.used {
        return Err(ApiError::conflict("session_used", "this signing session was used already"));
    }
    if session.expires_at_ms < chrono::Utc::now().timestamp_millis() {
        return Err(ApiError::conflict("session_expired", "the signing session expired: ask for a new signing digest"));
    }
    if session.base != result.digest {
        return Err(ApiError::conflict("result_changed", "the result was signed by someone else since: ask for a new signing digest"));
    }
    let raw = decode_b64(&body.signature, "signature")?;
    if raw.is_empty() || raw.len() > 1024 {
        return Err(ApiError::unprocessable("invalid_signature", "the signature has 1 to 1024 bytes"));
    }
    let spec: Spec = serde_json::from_value(session.spec.clone()).map_err(|e| ApiError::internal("session spec", e))?;
    let algorithm = certificate_algorithm(&session.certificate)?;
    let pdf = state.archive.get_blob(&result.digest).await?;
    let pending = prepare(pdf.to_vec(), &spec, session.certificate.clone(), algorithm, &state).await?;
    if pending.signed_attributes() != session.signed_attributes.as_slice() {
        return Err(ApiError::internal("deferred signing", "the prepared field differs from the session's"));
    }
    let field = pending.field_name().to_owned();
    let signed = pending.complete(&pdf, &raw, None).map_err(|e| ApiError::unprocessable(e.code(), e.to_string()))?;
    let signed = checked(&state, signed, &field).await?;
    let result = store_version(&state, &who, &result, signed, &session.certificate, "signed_deferred", Some(session.id)).await?;
    crate::metrics::count("sohoa_signatures_total", &[("kind", "deferred")], 1);
    Ok(Json(render(&result)))
}

/// `POST /results/{id}/issue`: the signed result becomes a record of the applicant, found
/// and reused like any other.
pub async fn issue(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let result = load(&state, &who, &id, &[Role::Signer]).await?;
    draft(&result)?;
    if result.signatures == 0 {
        return Err(ApiError::conflict("result_unsigned", "an official signs the result before it is issued"));
    }
    let dossier = state
        .index
        .dossier(&result.dossier)
        .await?
        .ok_or_else(|| ApiError::internal("result dossier", format!("dossier {} vanished", result.dossier)))?;
    let mut bytes = state.archive.get_blob(&result.digest).await?;
    let (mut digest, mut size) = (result.digest.clone(), result.size);
    if let Some(url) = &state.tsa_url {
        // Archived at B-LTA: validation data and a document time-stamp keep the officials'
        // signatures verifiable after their certificates expire.
        let revocation = crate::sign::ltv::Revocation { crls: Vec::new(), fetch: true };
        let extended = crate::sign::ltv::extend_bytes(bytes.to_vec(), &revocation, Some(url))
            .await
            .map_err(|e| ApiError::unprocessable(e.code(), e.to_string()))?;
        size = extended.len() as u64;
        bytes = extended.into();
        digest = state.archive.put_blob(bytes.clone()).await?;
    }
    let signatures = tokio::task::spawn_blocking({
        let anchors = state.trust_anchors.clone();
        move || crate::verify::verify_pdf(&bytes, &anchors, chrono::Utc::now())
    })
    .await
    .map_err(|e| ApiError::internal("verification stopped", e))?
    .map_err(|e| ApiError::unprocessable(e.code(), e.to_string()))?;
    let today = crate::domain::vietnam_today();
    let validity = state.catalog.doc_type(&result.doc_type).map(|t| t.validity);
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
    let audit = AuditEntry { actor: who.actor(), action: "record.create", target: String::new(), detail: json!({"result": result.id}) };
    let check = ComponentCheck::satisfied();
    // The record's id is the result's: a retry after a failure below finds it stored.
    let stored = match registry::store(state.index.as_ref(), &state.archive, record, check, audit, Lineage::New).await {
        Ok(r) => r,
        Err(RegistryError::Index(crate::index::IndexError::Conflict)) => {
            state.index.record(&result.id).await?.ok_or_else(|| ApiError::internal("issue", "record conflict without a record"))?
        }
        Err(e) => return Err(e.into()),
    };
    let audit = AuditEntry { actor: who.actor(), action: "result.issue", target: String::new(), detail: json!({"record": stored.id}) };
    let result = state.index.issue_result(&result.id, &stored.id, audit).await?;
    Ok(Json(json!({ "result": render(&result), "record": records::render(&stored) })))
}
