//! RFC 3161 client: asks a time-stamp authority to time-stamp a signature value.

use super::oid;
use cmpv2::status::PkiStatus;
use der::asn1::{GeneralizedTime, Int, ObjectIdentifier, OctetString};
use der::{Any, Decode, DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader, Sequence, Tag, Writer};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifier;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::Extensions;
use x509_tsp::{Accuracy, MessageImprint, TimeStampReq, TimeStampResp, TspVersion, TstInfo};

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

/// The `TSTInfo` inside a time-stamp token; a genTime with fractional seconds is read and
/// cut to the second, the precision of `der`'s GeneralizedTime.
pub(crate) fn tst_info(token: &cms::content_info::ContentInfo) -> Result<TstInfo, TsaError> {
    let malformed = |e: der::Error| TsaError::Malformed(e.to_string());
    let sd: cms::signed_data::SignedData = token.content.decode_as().map_err(malformed)?;
    if sd.encap_content_info.econtent_type != oid::TST_INFO {
        return Err(TsaError::Malformed("token content is not TSTInfo".into()));
    }
    let content = sd.encap_content_info.econtent.ok_or_else(|| TsaError::Malformed("token has no content".into()))?;
    let octets: OctetString = content.decode_as().map_err(malformed)?;
    parse_tst_info(octets.as_bytes())
}

/// Parses a DER `TSTInfo` leniently: fractional genTime, an explicit `ordering FALSE`.
pub(crate) fn parse_tst_info(der_bytes: &[u8]) -> Result<TstInfo, TsaError> {
    let t = LenientTstInfo::from_der(der_bytes).map_err(|e| TsaError::Malformed(format!("TSTInfo: {e}")))?;
    let gen_time = GeneralizedTime::from_unix_duration(t.gen_time.since_epoch()?).map_err(|e| TsaError::Malformed(e.to_string()))?;
    Ok(TstInfo {
        version: t.version,
        policy: t.policy,
        message_imprint: t.message_imprint,
        serial_number: t.serial_number,
        gen_time,
        accuracy: t.accuracy,
        ordering: t.ordering.unwrap_or(false),
        nonce: t.nonce,
        tsa: t.tsa,
        extensions: t.extensions,
    })
}

/// x509-tsp's `TstInfo` with a genTime read by hand and `ordering` optional rather than
/// DEFAULT, so that what real TSAs write decodes.
#[derive(Sequence)]
struct LenientTstInfo {
    version: TspVersion,
    policy: ObjectIdentifier,
    message_imprint: MessageImprint,
    serial_number: Int,
    gen_time: GenTime,
    #[asn1(optional = "true")]
    accuracy: Option<Accuracy>,
    #[asn1(optional = "true")]
    ordering: Option<bool>,
    #[asn1(optional = "true")]
    nonce: Option<Int>,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    tsa: Option<GeneralName>,
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", optional = "true")]
    extensions: Option<Extensions>,
}

/// A GeneralizedTime `YYYYMMDDHHMMSS[.fff…]Z` (RFC 3161 §2.4.2), kept as written.
struct GenTime(Vec<u8>);

impl FixedTag for GenTime {
    const TAG: Tag = Tag::GeneralizedTime;
}

impl<'a> DecodeValue<'a> for GenTime {
    fn decode_value<R: Reader<'a>>(reader: &mut R, header: Header) -> der::Result<Self> {
        let raw = reader.read_vec(header.length)?;
        match parse_gen_time(&raw) {
            Some(_) => Ok(GenTime(raw)),
            None => Err(Tag::GeneralizedTime.value_error()),
        }
    }
}

impl EncodeValue for GenTime {
    fn value_len(&self) -> der::Result<Length> {
        Length::try_from(self.0.len())
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        writer.write(&self.0)
    }
}

impl GenTime {
    /// The time with its fractional seconds (nanosecond resolution).
    fn to_datetime(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        parse_gen_time(&self.0)
    }

    fn since_epoch(&self) -> Result<std::time::Duration, TsaError> {
        let t = self.to_datetime().ok_or_else(|| TsaError::Malformed("genTime unreadable".into()))?;
        u64::try_from(t.timestamp()).map(std::time::Duration::from_secs).map_err(|_| TsaError::Malformed("genTime before 1970".into()))
    }
}

fn parse_gen_time(raw: &[u8]) -> Option<chrono::DateTime<chrono::Utc>> {
    let text = std::str::from_utf8(raw).ok()?.strip_suffix('Z')?;
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => (w, f),
        Some(_) => return None,
        None => (text, ""),
    };
    if whole.len() != 14 || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let naive = chrono::NaiveDateTime::parse_from_str(whole, "%Y%m%d%H%M%S").ok()?;
    let nanos: u32 = format!("{fraction:0<9}").parse().ok()?;
    Some(naive.and_utc() + chrono::Duration::nanoseconds(nanos.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gen_time_keeps_fractional_seconds() {
        let t = parse_gen_time(b"20261201101530.123Z").unwrap();
        assert_eq!(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "2026-12-01T10:15:30.123Z");
        assert_eq!(parse_gen_time(b"20261201101530Z").unwrap().timestamp(), t.timestamp());
        for bad in [&b"20261201101530.Z"[..], b"20261201101530", b"2026120110153Z", b"20261301101530Z", b"20261201101530.1234567890Z"] {
            assert_eq!(parse_gen_time(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }
}
