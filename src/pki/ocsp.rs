//! The demo root's OCSP responder (RFC 6960): answers for certificates the root issued from
//! `root.crl`, read on every request so both sources always agree, signed by the root key.

use crate::sign::{oid, FileSigner, KeyAlgorithm, SignError, Signer};
use der::asn1::{BitString, GeneralizedTime, OctetString};
use der::{Any, Decode, Encode};
use spki::AlgorithmIdentifierOwned;
use std::path::{Path, PathBuf};
use x509_cert::ext::pkix::CrlReason;
use x509_cert::ext::Extension;
use x509_ocsp::{
    BasicOcspResponse, CertStatus, OcspGeneralizedTime, OcspRequest, OcspResponse, ResponderId, ResponseData, RevokedInfo, SingleResponse,
    Version,
};

/// Largest request read (one CertID with a nonce is about 100 bytes).
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;
/// Most certificates answered in one request.
const MAX_REQUESTS: usize = 32;
/// How long an answer may be relied on before asking again.
const VALIDITY_SECONDS: i64 = 86_400;

#[derive(Debug, thiserror::Error)]
pub enum OcspServeError {
    #[error("malformed OCSP request: {0}")]
    BadRequest(String),
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error(transparent)]
    Sign(#[from] SignError),
    #[error("OCSP response encoding: {0}")]
    Encoding(#[from] der::Error),
}

impl OcspServeError {
    pub fn code(&self) -> &'static str {
        match self {
            OcspServeError::BadRequest(_) => "ocsp_request_malformed",
            OcspServeError::Read { .. } => "file_unreadable",
            OcspServeError::Sign(e) => e.code(),
            OcspServeError::Encoding(_) => "ocsp_encoding",
        }
    }
}

/// Answers OCSP requests about what the root in a `pki demo` directory issued.
pub struct Responder {
    signer: FileSigner,
    crl: PathBuf,
}

impl Responder {
    /// Reads `root.key` and `root.pem` from `dir`; `root.crl` is read on each request.
    pub fn open(dir: &Path) -> Result<Self, OcspServeError> {
        let signer = FileSigner::from_files(&dir.join("root.key"), &dir.join("root.pem"), None)?;
        Ok(Responder { signer, crl: dir.join("root.crl") })
    }

    /// A DER OCSPResponse for a DER OCSPRequest; a request that does not read gets the
    /// malformedRequest status, a failure here internalError, as RFC 6960 §2.3 asks.
    pub fn respond(&self, request: &[u8]) -> Vec<u8> {
        let now = chrono::Utc::now().timestamp();
        let outcome = std::fs::read(&self.crl)
            .map_err(|e| OcspServeError::Read { path: self.crl.display().to_string(), source: e })
            .and_then(|crl| answer(&self.signer, &crl, request, now));
        let fallback = match outcome {
            Ok(der) => return der,
            Err(OcspServeError::BadRequest(why)) => {
                tracing::info!(reason = %why, "ocsp request rejected");
                OcspResponse::malformed_request()
            }
            Err(e) => {
                tracing::warn!(error = %e, code = e.code(), "ocsp response failed");
                OcspResponse::internal_error()
            }
        };
        // Two fixed bytes of content each: these encodings cannot fail.
        fallback.to_der().unwrap_or_default()
    }
}

/// The signed answer to `request` about certificates `signer` (the issuer) issued, their
/// status read from its CRL `crl` (DER); other issuers' certificates are unknown.
fn answer(signer: &dyn Signer, crl: &[u8], request: &[u8], now: i64) -> Result<Vec<u8>, OcspServeError> {
    if request.len() > MAX_REQUEST_BYTES {
        return Err(OcspServeError::BadRequest(format!("larger than {MAX_REQUEST_BYTES} bytes")));
    }
    let req = OcspRequest::from_der(request).map_err(|e| OcspServeError::BadRequest(e.to_string()))?;
    let list = &req.tbs_request.request_list;
    if list.is_empty() || list.len() > MAX_REQUESTS {
        return Err(OcspServeError::BadRequest(format!("{} certificates asked about", list.len())));
    }
    let (_, issuer) = x509_parser::parse_x509_certificate(signer.certificate()).map_err(|e| SignError::Certificate(e.to_string()))?;
    let (_, crl) = x509_parser::parse_x509_crl(crl).map_err(|e| OcspServeError::BadRequest(format!("the root's CRL: {e}")))?;
    let mut singles = Vec::new();
    for r in list {
        let id = &r.req_cert;
        let ours = crate::verify::ocsp::hash_algorithm(&id.hash_algorithm.oid).is_some_and(|alg| {
            id.issuer_name_hash.as_bytes() == ring::digest::digest(alg, issuer.subject().as_raw()).as_ref()
                && id.issuer_key_hash.as_bytes() == ring::digest::digest(alg, &issuer.public_key().subject_public_key.data).as_ref()
        });
        let status = if ours { status_in(&crl, id.serial_number.as_bytes())? } else { CertStatus::unknown() };
        singles.push(SingleResponse {
            cert_id: id.clone(),
            cert_status: status,
            this_update: time(now)?,
            next_update: Some(time(now + VALIDITY_SECONDS)?),
            single_extensions: None,
        });
    }
    // The nonce goes back as it came, so the client can match its request.
    let nonce = req.tbs_request.request_extensions.iter().flatten().find(|e| e.extn_id == oid::OCSP_NONCE).cloned();
    sign_response(signer, singles, nonce, now)
}

/// Whether the CRL lists `serial`, as an OCSP status.
fn status_in(crl: &x509_parser::revocation_list::CertificateRevocationList, serial: &[u8]) -> Result<CertStatus, OcspServeError> {
    let trim = |b: &[u8]| b.iter().position(|x| *x != 0).map_or(Vec::new(), |i| b[i..].to_vec());
    let Some(entry) = crl.iter_revoked_certificates().find(|r| trim(r.raw_serial()) == trim(serial)) else {
        return Ok(CertStatus::good());
    };
    // CRLReason is an ENUMERATED; x509-parser reads its number, x509-cert its name.
    let reason = entry.reason_code().and_then(|(_, code)| CrlReason::from_der(&[0x0a, 0x01, code.0]).ok());
    Ok(CertStatus::revoked(RevokedInfo { revocation_time: time(entry.revocation_date.timestamp())?, revocation_reason: reason }))
}

/// A BasicOCSPResponse with `singles`, identified by the signer's key hash and carrying its
/// certificate, signed by `signer`, wrapped in a successful OCSPResponse (DER).
pub(crate) fn sign_response(
    signer: &dyn Signer,
    singles: Vec<SingleResponse>,
    nonce: Option<Extension>,
    produced_at: i64,
) -> Result<Vec<u8>, OcspServeError> {
    let (_, cert) = x509_parser::parse_x509_certificate(signer.certificate()).map_err(|e| SignError::Certificate(e.to_string()))?;
    let key_hash = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &cert.public_key().subject_public_key.data);
    let data = ResponseData {
        version: Version::V1,
        responder_id: ResponderId::ByKey(OctetString::new(key_hash.as_ref())?),
        produced_at: time(produced_at)?,
        responses: singles,
        response_extensions: nonce.map(|n| vec![n]),
    };
    let signature = signer.sign(&data.to_der()?)?;
    let signature_algorithm = match signer.algorithm() {
        KeyAlgorithm::RsaSha256 => AlgorithmIdentifierOwned { oid: oid::SHA256_WITH_RSA, parameters: Some(Any::null()) },
        KeyAlgorithm::EcdsaP256Sha256 => AlgorithmIdentifierOwned { oid: oid::ECDSA_WITH_SHA256, parameters: None },
    };
    let basic = BasicOcspResponse {
        tbs_response_data: data,
        signature_algorithm,
        signature: BitString::from_bytes(&signature)?,
        certs: Some(vec![x509_cert::Certificate::from_der(signer.certificate())?]),
    };
    Ok(OcspResponse::successful(basic)?.to_der()?)
}

fn time(unix: i64) -> Result<OcspGeneralizedTime, der::Error> {
    let secs = u64::try_from(unix).map_err(|_| der::Error::from(der::ErrorKind::DateTime))?;
    Ok(OcspGeneralizedTime(GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(secs))?))
}
