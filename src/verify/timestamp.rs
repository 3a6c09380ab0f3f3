//! The RFC 3161 signature time-stamp: imprint over the signature value, the token's own
//! signature, and a TSA certificate with the critical timeStamping key usage.

use super::{chain, cms, Problem};
use der::asn1::OctetString;
use der::Decode;

/// Checks `token` (DER ContentInfo) for `signature`; returns its genTime.
pub(crate) fn check(
    token: &[u8],
    signature: &[u8],
    anchors: &[Vec<u8>],
    _now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, Problem> {
    let malformed = |e: String| Problem::new("timestamp_malformed", e);
    let ci = ::cms::content_info::ContentInfo::from_der(token).map_err(|e| malformed(e.to_string()))?;
    let tst = crate::sign::tsa_tst_info(&ci).map_err(|e| malformed(e.to_string()))?;
    let imprint = &tst.message_imprint;
    match cms::digest_with(&imprint.hash_algorithm.oid, &[signature]) {
        Some(d) if d.as_slice() == imprint.hashed_message.as_bytes() => {}
        Some(_) => return Err(Problem::new("timestamp_mismatch", "the time-stamp token covers other data than this signature")),
        None => return Err(Problem::new("unsupported_algorithm", format!("time-stamp imprint algorithm {}", imprint.hash_algorithm.oid))),
    }
    let secs = tst.gen_time.to_unix_duration().as_secs();
    let gen_time = chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0)
        .ok_or_else(|| malformed("genTime out of range".into()))?;
    let parsed = cms::parse(token).map_err(malformed)?;
    let si = parsed.signer_info().map_err(malformed)?;
    let cert = parsed
        .signer_certificate(si)
        .ok_or_else(|| Problem::new("timestamp_untrusted", "the time-stamp token does not hold the TSA certificate"))?;
    let econtent = parsed.signed.encap_content_info.econtent.as_ref().ok_or_else(|| malformed("token without content".into()))?;
    let octets: OctetString = econtent.decode_as().map_err(|e| malformed(e.to_string()))?;
    let mut problems = Vec::new();
    cms::check_signer(
        si,
        cert,
        &mut |alg| cms::digest_with(alg, &[octets.as_bytes()]).ok_or_else(|| cms::unsupported_digest(alg)),
        &mut problems,
    );
    if let Some(p) = problems.into_iter().next() {
        return Err(Problem::new("timestamp_invalid", format!("time-stamp token: {}", p.detail)));
    }
    let (_, problems) = chain::validate(cert, &parsed.certs, anchors, gen_time, chain::Usage::TimeStamping);
    if let Some(p) = problems.into_iter().next() {
        return Err(Problem::new("timestamp_untrusted", format!("time-stamp authority: {}", p.detail)));
    }
    Ok(gen_time)
}
