//! RFC 3161 client: asks a time-stamp authority to time-stamp a signature value.

use super::oid;
use cmpv2::status::PkiStatus;
use der::asn1::{Int, OctetString};
use der::{Any, Decode, Encode};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifier;
use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

/// Largest reply accepted from a TSA.
const MAX_REPLY_BYTES: usize = 256 * 1024;
/// How long a TSA may take to answer.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum TsaError {
    #[error("time-stamp authority {url}: {reason}")]
    Http { url: String, reason: String },
    #[error("time-stamp authority refused the request (status {0})")]
    Refused(String),
    #[error("malformed time-stamp reply: {0}")]
    Malformed(String),
    #[error("time-stamp token does not match the request: {0}")]
    Mismatch(&'static str),
}

impl TsaError {
    pub fn code(&self) -> &'static str {
        match self {
            TsaError::Http { .. } => "tsa_unreachable",
            TsaError::Refused(_) => "tsa_refused",
            TsaError::Malformed(_) => "tsa_malformed",
            TsaError::Mismatch(_) => "tsa_mismatch",
        }
    }
}

/// A DER `TimeStampReq` for SHA-256 of `data`, asking for the TSA certificate; and its nonce.
pub fn timestamp_query(data: &[u8]) -> Result<(Vec<u8>, Vec<u8>), TsaError> {
    query_for_digest(&Sha256::digest(data))
}

/// [`timestamp_query`] for a SHA-256 digest computed elsewhere (a document's byte ranges).
fn query_for_digest(digest: &[u8]) -> Result<(Vec<u8>, Vec<u8>), TsaError> {
    let mut nonce = [0u8; 8];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce)
        .map_err(|_| TsaError::Malformed("no randomness".into()))?;
    // A positive INTEGER with no leading zero byte.
    nonce[0] = (nonce[0] & 0x7f) | 0x01;
    let req = TimeStampReq {
        version: TspVersion::V1,
        message_imprint: imprint(digest).map_err(|e| TsaError::Malformed(e.to_string()))?,
        req_policy: None,
        nonce: Some(Int::new(&nonce).map_err(|e| TsaError::Malformed(e.to_string()))?),
        cert_req: true,
        extensions: None,
    };
    Ok((req.to_der().map_err(|e| TsaError::Malformed(e.to_string()))?, nonce.to_vec()))
}

pub(crate) fn imprint(hash: &[u8]) -> Result<MessageImprint, der::Error> {
    Ok(MessageImprint {
        hash_algorithm: AlgorithmIdentifier { oid: oid::SHA256, parameters: Some(Any::null()) },
        hashed_message: OctetString::new(hash)?,
    })
}

/// Sends the query for `signature` to `url` and returns the checked token (DER ContentInfo).
pub async fn request_timestamp(url: &str, signature: &[u8]) -> Result<Vec<u8>, TsaError> {
    request_timestamp_digest(url, &Sha256::digest(signature)).await
}

/// Time-stamps a SHA-256 `digest` at the TSA `url`; returns the checked token.
pub async fn request_timestamp_digest(url: &str, digest: &[u8]) -> Result<Vec<u8>, TsaError> {
    let (query, nonce) = query_for_digest(digest)?;
    let http = |reason: String| TsaError::Http { url: url.to_string(), reason };
    let client = reqwest::Client::builder().timeout(TIMEOUT).build().map_err(|e| http(e.to_string()))?;
    let resp =
        client.post(url).header("content-type", "application/timestamp-query").body(query).send().await.map_err(|e| http(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(http(format!("HTTP {}", resp.status())));
    }
    let body = resp.bytes().await.map_err(|e| http(e.to_string()))?;
    if body.len() > MAX_REPLY_BYTES {
        return Err(TsaError::Malformed(format!("reply larger than {MAX_REPLY_BYTES} bytes")));
    }
    token_from_reply(&body, digest, &nonce)
}

/// Checks a `TimeStampResp` against the imprint and nonce sent, and returns its token.
pub fn token_from_reply(reply: &[u8], hash: &[u8], nonce: &[u8]) -> Result<Vec<u8>, TsaError> {
    let malformed = |e: der::Error| TsaError::Malformed(e.to_string());
    let resp = TimeStampResp::from_der(reply).map_err(malformed)?;
    if !matches!(resp.status.status, PkiStatus::Accepted | PkiStatus::GrantedWithMods) {
        return Err(TsaError::Refused(format!("{:?}", resp.status.status)));
    }
    let token = resp.time_stamp_token.ok_or_else(|| TsaError::Malformed("granted without a token".into()))?;
    let tst = tst_info(&token)?;
    if tst.message_imprint.hashed_message.as_bytes() != hash {
        return Err(TsaError::Mismatch("message imprint"));
    }
    if tst.nonce.as_ref().map(|n| n.as_bytes()) != Some(nonce) {
        return Err(TsaError::Mismatch("nonce"));
    }
    token.to_der().map_err(malformed)
}

/// The `TSTInfo` inside a time-stamp token.
pub(crate) fn tst_info(token: &cms::content_info::ContentInfo) -> Result<TstInfo, TsaError> {
    let malformed = |e: der::Error| TsaError::Malformed(e.to_string());
    let sd: cms::signed_data::SignedData = token.content.decode_as().map_err(malformed)?;
    if sd.encap_content_info.econtent_type != oid::TST_INFO {
        return Err(TsaError::Malformed("token content is not TSTInfo".into()));
    }
    let content = sd.encap_content_info.econtent.ok_or_else(|| TsaError::Malformed("token has no content".into()))?;
    let octets: OctetString = content.decode_as().map_err(malformed)?;
    TstInfo::from_der(octets.as_bytes()).map_err(malformed)
}
