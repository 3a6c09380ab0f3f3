//! A small RFC 3161 time-stamp authority for tests and demos: SHA-2 imprints only, one
//! policy, tokens signed by a file key whose certificate has the critical timeStamping usage.

use crate::sign::{oid, FileSigner, SignError, Signer};
use cmpv2::status::{PkiStatus, PkiStatusInfo};
use der::asn1::{GeneralizedTime, Int, OctetString};
use der::{Any, Decode, Encode};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use x509_tsp::{Accuracy, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

/// Largest request accepted (a real one is under 100 bytes plus extensions).
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum TsaServeError {
    #[error("malformed time-stamp request: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// Answers time-stamp requests with tokens signed by `signer`.
pub struct Responder {
    signer: FileSigner,
    serial: AtomicU64,
}

impl Responder {
    pub fn new(signer: FileSigner) -> Self {
        // Serials start at the current time in microseconds so a restarted responder does not
        // reuse one, and count up from there.
        let start = u64::try_from(chrono::Utc::now().timestamp_micros()).unwrap_or(1);
        Responder { signer, serial: AtomicU64::new(start) }
    }

    /// A DER `TimeStampResp` for a DER `TimeStampReq`: granted, or rejected with a reason.
    pub fn respond(&self, request: &[u8]) -> Result<Vec<u8>, TsaServeError> {
        if request.len() > MAX_REQUEST_BYTES {
            return Err(TsaServeError::BadRequest(format!("larger than {MAX_REQUEST_BYTES} bytes")));
        }
        let req = TimeStampReq::from_der(request).map_err(|e| TsaServeError::BadRequest(e.to_string()))?;
        let expected_len = match req.message_imprint.hash_algorithm.oid.to_string().as_str() {
            "2.16.840.1.101.3.4.2.1" => 32,
            "2.16.840.1.101.3.4.2.2" => 48,
            "2.16.840.1.101.3.4.2.3" => 64,
            _ => return rejection("unsupported hash algorithm"),
        };
        if req.message_imprint.hashed_message.as_bytes().len() != expected_len {
            return rejection("imprint length does not match its algorithm");
        }
        if req.req_policy.is_some_and(|p| p != oid::DEMO_TSA_POLICY) {
            return rejection("unsupported policy");
        }
        let token = self.token(&req)?;
        let resp = TimeStampResp { status: status(PkiStatus::Accepted, None), time_stamp_token: Some(der_any(&token)?) };
        Ok(resp.to_der().map_err(SignError::from)?)
    }

    fn token(&self, req: &TimeStampReq) -> Result<Vec<u8>, TsaServeError> {
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let gen_time = GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(now.as_secs())).map_err(SignError::from)?;
        let tst = TstInfo {
            version: TspVersion::V1,
            policy: oid::DEMO_TSA_POLICY,
            message_imprint: req.message_imprint.clone(),
            serial_number: positive_int(&serial.to_be_bytes()).map_err(SignError::from)?,
            gen_time,
            accuracy: Some(Accuracy { seconds: Some(1), millis: None, micros: None }),
            ordering: false,
            nonce: req.nonce.clone(),
            tsa: None,
            extensions: None,
        };
        let tst_der = tst.to_der().map_err(SignError::from)?;
        let attrs = crate::sign::signed_attributes_for(oid::TST_INFO, &Sha256::digest(&tst_der), self.signer.certificate())?;
        let signature = self.signer.sign(&attrs)?;
        let parts = crate::sign::SignerParts {
            certificate: self.signer.certificate(),
            chain: self.signer.chain(),
            algorithm: self.signer.algorithm(),
            signed_attributes_der: &attrs,
            signature: &signature,
        };
        let econtent = Any::encode_from(&OctetString::new(tst_der).map_err(SignError::from)?).map_err(SignError::from)?;
        Ok(crate::sign::build_signed_data(&parts, oid::TST_INFO, Some(econtent), req.cert_req, None)?)
    }
}

/// A DER INTEGER for unsigned big-endian bytes: no redundant leading zeros, positive.
fn positive_int(bytes: &[u8]) -> Result<Int, der::Error> {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len().saturating_sub(1));
    let mut v = bytes[start..].to_vec();
    if v.first().is_some_and(|b| b & 0x80 != 0) {
        v.insert(0, 0);
    }
    Int::new(&v)
}

fn der_any(token: &[u8]) -> Result<cms::content_info::ContentInfo, TsaServeError> {
    Ok(cms::content_info::ContentInfo::from_der(token).map_err(SignError::from)?)
}

fn status(status: PkiStatus, _reason: Option<&str>) -> PkiStatusInfo<'static> {
    PkiStatusInfo { status, status_string: None, fail_info: None }
}

fn rejection(reason: &str) -> Result<Vec<u8>, TsaServeError> {
    tracing::info!(reason, "time-stamp request rejected");
    let resp = TimeStampResp { status: status(PkiStatus::Rejection, Some(reason)), time_stamp_token: None };
    Ok(resp.to_der().map_err(SignError::from)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_canonical() {
        assert_eq!(positive_int(&[0, 0, 1, 2]).unwrap().as_bytes(), &[1, 2]);
        assert_eq!(positive_int(&[0, 0x80]).unwrap().as_bytes(), &[0, 0x80]);
        assert_eq!(positive_int(&[0, 0]).unwrap().as_bytes(), &[0]);
    }
}
