//! Result documents: a signer of the agency attaches the PDF the procedure issues, officials
//! sign it (with a server-held key, or deferred: the service hands out the signed
//! attributes, the official's token signs them, the service completes the CMS), and it is
//! issued as a record. The work is the signing service's; these handlers parse and render.

use super::body::JsonBody;
use super::{dossiers, records, ApiError, AppState, Principal};
use crate::domain::result::ResultDoc;
use crate::domain::{vietnam_time, Digest, Role};
use crate::service::signing::Placement;
use crate::sign::KeyAlgorithm;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

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
        "signers": r.signers,
        "next_signer": r.next_signer(),
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
    let result = state.signing().result(id).await?.ok_or_else(not_found)?;
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
    /// The officials who sign it, in order: signer token labels separated by commas.
    signers: Option<String>,
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
    let pdf = super::scans::read_body(body, &headers, state.max_upload_bytes).await?;
    let max_pages = state.media_limits.max_pages;
    let signers: Vec<String> =
        q.signers.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let result = state.signing().attach(who.actor(), &dossier, q.doc_type, q.number, signers, pdf, max_pages).await?;
    Ok((StatusCode::CREATED, Json(render(&result))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `me`: the drafts waiting for the caller's signature.
    waiting: String,
}

/// `GET /results?waiting=me`: the agency's draft results whose next signature is the
/// caller's (named next in their order, or naming nobody and not signed yet), oldest first.
pub async fn list(State(state): State<Arc<AppState>>, who: Principal, Query(q): Query<ListQuery>) -> Result<Json<Value>, ApiError> {
    who.require(&[Role::Signer])?;
    if q.waiting != "me" {
        return Err(ApiError::bad_request("invalid_query", "waiting must be me"));
    }
    let results = state.signing().waiting(&who.agency, &who.label).await?;
    Ok(Json(json!({ "results": results.iter().map(render).collect::<Vec<_>>() })))
}

/// `GET /results/{id}/pages`: each page of the current version as shown, in points, with the
/// map to the page's coordinates a signature's `rect` is given in.
pub async fn pages(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let result = load(&state, &who, &id, &[Role::Signer, Role::Auditor, Role::Admin]).await?;
    let pages = state.signing().pages(&result, state.media_limits).await?;
    Ok(Json(json!({ "pages": pages })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreviewQuery {
    /// Pixels; 800 by default.
    pub(super) width: Option<u32>,
}

/// `GET /results/{id}/pages/{page}/preview?width=`: the page of the current version drawn
/// as a PNG.
pub async fn preview(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path((id, page)): Path<(String, u32)>,
    Query(q): Query<PreviewQuery>,
) -> Result<Response, ApiError> {
    let result = load(&state, &who, &id, &[Role::Signer, Role::Auditor, Role::Admin]).await?;
    let png = state.signing().preview(&result, page, q.width.unwrap_or(800), state.media_limits).await?;
    Ok(([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "private, no-cache")], png).into_response())
}

pub async fn get(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let result = load(&state, &who, &id, &[Role::Signer, Role::Auditor, Role::Admin]).await?;
    Ok(Json(render(&result)))
}

/// The current version's bytes, verified on read.
pub async fn content(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<String>) -> Result<Response, ApiError> {
    let result = load(&state, &who, &id, &[Role::Signer, Role::Auditor, Role::Admin]).await?;
    let bytes = state.signing().content(&result).await?;
    let etag = format!("\"{}\"", result.digest.prefixed());
    Ok(([(header::CONTENT_TYPE, "application/pdf".to_owned()), (header::ETAG, etag)], bytes).into_response())
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
    let result = state.signing().sign(who.actor(), &who.label, &result, placement).await?;
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
    let certificate = decode_b64(&q.certificate, "certificate")?;
    let rect = q
        .rect
        .as_deref()
        .map(|r| {
            let v: Vec<f32> = r.split(',').filter_map(|n| n.trim().parse().ok()).collect();
            <[f32; 4]>::try_from(v).map_err(|_| ApiError::unprocessable("invalid_rect", "rect is x,y,width,height"))
        })
        .transpose()?;
    let placement = Placement { page: q.page, rect, reason: q.reason, location: q.location };
    let prepared = state.signing().prepare(who.actor(), &who.label, &result, certificate, placement).await?;
    Ok(Json(json!({
        "session": prepared.session,
        "signed_attributes": B64.encode(&prepared.signed_attributes),
        "digest_sha256": Digest::of(&prepared.signed_attributes).as_str(),
        "algorithm": match prepared.algorithm { KeyAlgorithm::RsaSha256 => "rsa_pkcs1_sha256", KeyAlgorithm::EcdsaP256Sha256 => "ecdsa_p256_sha256" },
        "expires_at": vietnam_time(prepared.expires_at_ms),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureBody {
    session: String,
    /// The raw signature over the signed attributes, base64 (ECDSA: DER or r‖s).
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
    let raw = decode_b64(&body.signature, "signature")?;
    let result = state.signing().complete(who.actor(), &who.label, &result, &body.session, &raw).await?;
    Ok(Json(render(&result)))
}

/// `POST /results/{id}/issue`: the signed result becomes a record of the applicant, found
/// and reused like any other.
pub async fn issue(State(state): State<Arc<AppState>>, who: Principal, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let result = load(&state, &who, &id, &[Role::Signer]).await?;
    let (result, stored) = state.signing().issue(who.actor(), &result).await?;
    Ok(Json(json!({ "result": render(&result), "record": records::render(&stored) })))
}
