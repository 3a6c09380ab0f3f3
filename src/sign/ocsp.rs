//! Asks a certificate's OCSP responders (RFC 6960) for its status: a fresh request with a
//! nonce, POSTed, and the answer kept only if the issuer vouches for it.

use super::oid;
use crate::verify::ocsp::{answer, responder_urls, CertState};
use der::asn1::{Null, OctetString};
use der::{Any, Encode};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::Extension;
use x509_cert::serial_number::SerialNumber;
use x509_ocsp::{CertId, OcspRequest, Request, TbsRequest, Version};
use x509_parser::certificate::X509Certificate;

/// Largest OCSP response read (a response with its responder's chain is a few KiB).
const MAX_RESPONSE_BYTES: usize = 1 << 20;
/// How long a responder may take to answer.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// The first authentic response from the responders `cert` names that says good or
/// revoked; `None` when it names none. A responder that fails is logged and passed over.
pub(crate) async fn fetch_status(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> Option<Vec<u8>> {
    for url in responder_urls(cert) {
        match ask(&url, cert, issuer).await {
            Ok(response) => return Some(response),
            Err(e) => tracing::warn!(url = %url, error = %e, "ocsp request failed"),
        }
    }
    None
}

async fn ask(url: &str, cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> Result<Vec<u8>, String> {
    let mut nonce = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce).map_err(|_| "no randomness".to_string())?;
    let (body, sent_nonce) = request(cert, issuer, &nonce).map_err(|e| e.to_string())?;
    let response = post(url, body).await?;
    let got = answer(&response, cert, issuer).map_err(|e| format!("{e} ({})", e.code()))?;
    // A responder may omit the nonce (pre-produced answers), never change it.
    if got.nonce.as_ref().is_some_and(|n| *n != sent_nonce) {
        return Err("the response's nonce is not the request's".into());
    }
    if got.state == CertState::Unknown {
        return Err("the responder does not know the certificate".into());
    }
    Ok(response)
}

/// A DER OCSPRequest for `cert` with a SHA-1 CertID (what every responder understands) and
/// `nonce`; also the nonce extension's value, to compare with the answer's.
fn request(cert: &X509Certificate, issuer: &X509Certificate, nonce: &[u8]) -> Result<(Vec<u8>, Vec<u8>), der::Error> {
    let sha1 = &ring::digest::SHA1_FOR_LEGACY_USE_ONLY;
    let cert_id = CertId {
        hash_algorithm: AlgorithmIdentifierOwned { oid: oid::SHA1, parameters: Some(Any::from(Null)) },
        issuer_name_hash: OctetString::new(ring::digest::digest(sha1, issuer.subject().as_raw()).as_ref())?,
        issuer_key_hash: OctetString::new(ring::digest::digest(sha1, &issuer.public_key().subject_public_key.data).as_ref())?,
        serial_number: SerialNumber::new(cert.raw_serial())?,
    };
    let nonce_value = OctetString::new(nonce)?.to_der()?;
    let tbs = TbsRequest {
        version: Version::V1,
        requestor_name: None,
        request_list: vec![Request { req_cert: cert_id, single_request_extensions: None }],
        request_extensions: Some(vec![Extension {
            extn_id: oid::OCSP_NONCE,
            critical: false,
            extn_value: OctetString::new(nonce_value.clone())?,
        }]),
    };
    Ok((OcspRequest { tbs_request: tbs, optional_signature: None }.to_der()?, nonce_value))
}

async fn post(url: &str, body: Vec<u8>) -> Result<Vec<u8>, String> {
    let client = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build().map_err(|e| e.to_string())?;
    let request = client.post(url).header("content-type", "application/ocsp-request").body(body);
    super::ltv::bounded_body(request, MAX_RESPONSE_BYTES, "OCSP response").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode;

    #[test]
    fn requests_name_the_certificate_by_sha1_and_carry_the_nonce() {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&key).unwrap();
        let (_, parsed) = x509_parser::parse_x509_certificate(ca_cert.der()).unwrap();
        let (der_req, nonce) = request(&parsed, &parsed, &[7; 16]).unwrap();
        let req = OcspRequest::from_der(&der_req).unwrap();
        let id = &req.tbs_request.request_list[0].req_cert;
        assert_eq!(id.hash_algorithm.oid, oid::SHA1);
        assert_eq!(id.issuer_name_hash.as_bytes().len(), 20);
        assert_eq!(req.tbs_request.request_extensions.unwrap()[0].extn_value.as_bytes(), nonce.as_slice());
        assert_eq!(OctetString::from_der(&nonce).unwrap().as_bytes(), &[7; 16]);
    }
}
