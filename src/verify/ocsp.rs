//! OCSP responses (RFC 6960) as revocation evidence: parsed, their signature checked against
//! the certificate's issuer or a responder the issuer delegated to, and the answer for one
//! certificate read out with the times it covers.

use crate::sign::oid;
use der::asn1::{AnyRef, BitString, ObjectIdentifier};
use der::{Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use x509_ocsp::{CertId, CertStatus, OcspResponse, OcspResponseStatus, ResponderId, ResponseData, SingleResponse};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

/// Why an OCSP response says nothing about a certificate.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OcspError {
    #[error("malformed OCSP response: {0}")]
    Malformed(String),
    #[error("the OCSP responder did not answer: status {0}")]
    NotSuccessful(String),
    #[error("the OCSP response has no answer for this certificate")]
    NoMatch,
    #[error("the OCSP response is signed by neither the issuer nor a responder it authorised")]
    UnauthorisedResponder,
    #[error("the OCSP response's signature does not verify")]
    BadSignature,
}

impl OcspError {
    pub fn code(&self) -> &'static str {
        match self {
            OcspError::Malformed(_) => "ocsp_malformed",
            OcspError::NotSuccessful(_) => "ocsp_not_successful",
            OcspError::NoMatch => "ocsp_no_match",
            OcspError::UnauthorisedResponder => "ocsp_unauthorised_responder",
            OcspError::BadSignature => "ocsp_signature_invalid",
        }
    }
}

/// What a certificate's status was, per one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertState {
    Good,
    /// Revoked at this time (Unix seconds).
    Revoked(i64),
    Unknown,
}

/// One authentic answer about one certificate; times in Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub state: CertState,
    pub this_update: i64,
    pub next_update: Option<i64>,
    /// The nonce extension's value (DER), when the responder echoed one.
    pub nonce: Option<Vec<u8>>,
}

/// How far a responder's clock may run ahead of the time a good status is judged at.
const CLOCK_SKEW: i64 = 300;

impl Answer {
    /// When the certificate was revoked, if that was at or before `at`. A response produced
    /// later still proves an earlier revocation.
    pub fn revoked_by(&self, at: i64) -> Option<i64> {
        match self.state {
            CertState::Revoked(when) if when <= at => Some(when),
            _ => None,
        }
    }

    /// Whether the answer proves the certificate unrevoked at `at`: it says so (or names a
    /// later revocation) and was either issued at or after `at` (revocations are never
    /// undone) or issued before and not yet due for renewal at `at`.
    pub fn good_at(&self, at: i64) -> bool {
        let not_revoked = match self.state {
            CertState::Good => true,
            CertState::Revoked(when) => when > at,
            CertState::Unknown => false,
        };
        let current = self.this_update + CLOCK_SKEW >= at || (self.this_update <= at && self.next_update.is_some_and(|n| n >= at));
        not_revoked && current
    }
}

/// BasicOCSPResponse read with the signed part kept as it was encoded.
#[derive(Sequence)]
struct RawBasic<'a> {
    tbs_response_data: AnyRef<'a>,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
    #[asn1(context_specific = "0", optional = "true", tag_mode = "EXPLICIT")]
    certs: Option<Vec<AnyRef<'a>>>,
}

/// The authentic answer in the DER `response` about `cert`, which `issuer` issued.
pub(crate) fn answer(response: &[u8], cert: &X509Certificate, issuer: &X509Certificate) -> Result<Answer, OcspError> {
    let malformed = |e: der::Error| OcspError::Malformed(e.to_string());
    let outer = OcspResponse::from_der(response).map_err(malformed)?;
    if outer.response_status != OcspResponseStatus::Successful {
        return Err(OcspError::NotSuccessful(format!("{:?}", outer.response_status)));
    }
    let bytes = outer.response_bytes.ok_or_else(|| OcspError::Malformed("no response bytes".into()))?;
    if bytes.response_type != oid::OCSP_BASIC {
        return Err(OcspError::Malformed(format!("response type {} is not the basic one", bytes.response_type)));
    }
    let basic = RawBasic::from_der(bytes.response.as_bytes()).map_err(malformed)?;
    let tbs = basic.tbs_response_data.to_der().map_err(malformed)?;
    let data = ResponseData::from_der(&tbs).map_err(malformed)?;
    let single = data.responses.iter().find(|r| names(&r.cert_id, cert, issuer)).ok_or(OcspError::NoMatch)?;
    let produced_at = seconds(&data.produced_at.0);
    let certs: Vec<Vec<u8>> = basic.certs.iter().flatten().filter_map(|c| c.to_der().ok()).collect();
    let signer_der = signer(&data.responder_id, issuer, &certs, produced_at)?;
    let delegate = match &signer_der {
        Some(der) => Some(x509_parser::parse_x509_certificate(der).map_err(|e| OcspError::Malformed(e.to_string()))?.1),
        None => None,
    };
    let signer_spki = delegate.as_ref().unwrap_or(issuer).public_key();
    let alg_der = basic.signature_algorithm.to_der().map_err(malformed)?;
    let (_, alg) = x509_parser::x509::AlgorithmIdentifier::from_der(&alg_der).map_err(|e| OcspError::Malformed(e.to_string()))?;
    let sig = x509_parser::asn1_rs::BitString::new(0, basic.signature.raw_bytes());
    x509_parser::verify::verify_signature(signer_spki, &alg, &sig, &tbs).map_err(|_| OcspError::BadSignature)?;
    Ok(read_single(single, &data))
}

fn read_single(single: &SingleResponse, data: &ResponseData) -> Answer {
    let state = match single.cert_status {
        CertStatus::Good(_) => CertState::Good,
        CertStatus::Revoked(info) => CertState::Revoked(seconds(&info.revocation_time.0)),
        CertStatus::Unknown(_) => CertState::Unknown,
    };
    let nonce = data.response_extensions.iter().flatten().find(|e| e.extn_id == oid::OCSP_NONCE).map(|e| e.extn_value.as_bytes().to_vec());
    Answer { state, this_update: seconds(&single.this_update.0), next_update: single.next_update.map(|t| seconds(&t.0)), nonce }
}

fn seconds(t: &der::asn1::GeneralizedTime) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

/// Whether `id` names `cert` issued by `issuer`, with whichever hash the CertID uses.
fn names(id: &CertId, cert: &X509Certificate, issuer: &X509Certificate) -> bool {
    let Some(alg) = hash_algorithm(&id.hash_algorithm.oid) else { return false };
    let name_hash = ring::digest::digest(alg, issuer.subject().as_raw());
    let key_hash = ring::digest::digest(alg, &issuer.public_key().subject_public_key.data);
    unsigned(id.serial_number.as_bytes()) == unsigned(cert.raw_serial())
        && id.issuer_name_hash.as_bytes() == name_hash.as_ref()
        && id.issuer_key_hash.as_bytes() == key_hash.as_ref()
}

/// A positive integer's bytes without the sign byte DER may put in front.
fn unsigned(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The ring digest for a CertID hash algorithm: SHA-1 (what most requests use) or SHA-2.
pub(crate) fn hash_algorithm(alg: &ObjectIdentifier) -> Option<&'static ring::digest::Algorithm> {
    match *alg {
        oid::SHA1 => Some(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY),
        oid::SHA256 => Some(&ring::digest::SHA256),
        oid::SHA384 => Some(&ring::digest::SHA384),
        oid::SHA512 => Some(&ring::digest::SHA512),
        _ => None,
    }
}

/// Who signed the response: `None` for the issuer itself, or the DER of a delegated
/// responder certificate from `certs` (RFC 6960 §4.2.2.2: issued by the issuer, with the
/// OCSPSigning usage, valid when the response was produced).
fn signer(id: &ResponderId, issuer: &X509Certificate, certs: &[Vec<u8>], produced_at: i64) -> Result<Option<Vec<u8>>, OcspError> {
    if responder_is(id, issuer) {
        return Ok(None);
    }
    for der in certs {
        let Ok((_, c)) = x509_parser::parse_x509_certificate(der) else { continue };
        if !responder_is(id, &c) {
            continue;
        }
        let issued = c.issuer().as_raw() == issuer.subject().as_raw() && c.verify_signature(Some(issuer.public_key())).is_ok();
        let delegated = c.extended_key_usage().ok().flatten().is_some_and(|eku| eku.value.ocsp_signing);
        let validity = c.validity();
        let valid = validity.not_before.timestamp() <= produced_at && produced_at <= validity.not_after.timestamp();
        if issued && delegated && valid {
            return Ok(Some(der.clone()));
        }
    }
    Err(OcspError::UnauthorisedResponder)
}

/// Whether the responder ID names `cert`: its subject, or the SHA-1 of its public key.
fn responder_is(id: &ResponderId, cert: &X509Certificate) -> bool {
    match id {
        ResponderId::ByName(name) => name.to_der().is_ok_and(|n| n == cert.subject().as_raw()),
        ResponderId::ByKey(hash) => {
            hash.as_bytes()
                == ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &cert.public_key().subject_public_key.data).as_ref()
        }
    }
}

/// The HTTP URLs of the OCSP responders a certificate names (Authority Information Access).
pub(crate) fn responder_urls(cert: &X509Certificate) -> Vec<String> {
    let mut urls = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() {
            for desc in &aia.accessdescs {
                if desc.access_method.as_bytes() != oid::AD_OCSP.as_bytes() {
                    continue;
                }
                if let GeneralName::URI(uri) = desc.access_location {
                    if uri.starts_with("http://") || uri.starts_with("https://") {
                        urls.push(uri.to_string());
                    }
                }
            }
        }
    }
    urls
}

#[cfg(test)]
mod tests;
