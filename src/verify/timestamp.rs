//! RFC 3161 tokens: the signature time-stamp (imprint over the signature value) and the
//! PAdES document time-stamp (imprint over the signed byte ranges). Both check the token's
//! own signature and a TSA certificate with the critical timeStamping key usage.

use super::{chain, cms, Problem};
use der::asn1::OctetString;
use x509_tsp::MessageImprint;

/// Checks `token` (BER or DER ContentInfo) for `signature`; returns its genTime.
pub(crate) fn check(
    token: &[u8],
    signature: &[u8],
    anchors: &[Vec<u8>],
    _now: chrono::DateTime<chrono::Utc>,
) -> Result<chrono::DateTime<chrono::Utc>, Problem> {
    check_token(token, anchors, |imprint| match cms::digest_with(&imprint.hash_algorithm.oid, &[signature]) {
        Some(d) if d.as_slice() == imprint.hashed_message.as_bytes() => Ok(()),
        Some(_) => Err(Problem::new("timestamp_mismatch", "the time-stamp token covers other data than this signature")),
        None => Err(cms::unsupported_digest(&imprint.hash_algorithm.oid)),
    })
}

/// Checks a document time-stamp (`/SubFilter /ETSI.RFC3161`): `token` is the `/Contents`,
/// whose imprint must be the digest of the byte ranges with the imprint's algorithm, as
/// `content_digest` computes it; returns its genTime.
#[allow(dead_code)]
pub(crate) fn check_document(
    token: &[u8],
    content_digest: cms::ContentDigest,
    anchors: &[Vec<u8>],
) -> Result<chrono::DateTime<chrono::Utc>, Problem> {
    check_token(token, anchors, |imprint| {
        let digest = content_digest(&imprint.hash_algorithm.oid)?;
        if digest.as_slice() != imprint.hashed_message.as_bytes() {
            return Err(Problem::new(
                "digest_mismatch",
                "the signed bytes do not match the document time-stamp's message imprint: the document was changed",
            ));
        }
        Ok(())
    })
}

/// Parses `token`, runs `imprint_ok` on its message imprint, then checks its signature,
/// signing-certificate attribute and TSA chain at genTime.
fn check_token(
    token: &[u8],
    anchors: &[Vec<u8>],
    imprint_ok: impl FnOnce(&MessageImprint) -> Result<(), Problem>,
) -> Result<chrono::DateTime<chrono::Utc>, Problem> {
    let malformed = |e: String| Problem::new("timestamp_malformed", e);
    let parsed = cms::parse(token).map_err(malformed)?;
    let tst = crate::sign::tsa_tst_info(&parsed.content_info).map_err(|e| malformed(e.to_string()))?;
    imprint_ok(&tst.message_imprint)?;
    let secs = tst.gen_time.to_unix_duration().as_secs();
    let gen_time = chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(i64::MAX), 0)
        .ok_or_else(|| malformed("genTime out of range".into()))?;
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
        // An algorithm sohoa cannot check says nothing about whether the token is genuine.
        let code = if p.code == "unsupported_algorithm" { p.code } else { "timestamp_invalid" };
        return Err(Problem::new(code, format!("time-stamp token: {}", p.detail)));
    }
    let (_, problems) = chain::validate(cert, &parsed.certs, anchors, gen_time, chain::Usage::TimeStamping);
    if let Some(p) = problems.into_iter().next() {
        return Err(Problem::new("timestamp_untrusted", format!("time-stamp authority: {}", p.detail)));
    }
    Ok(gen_time)
}

#[cfg(test)]
mod tests {
    use super::super::cms::testkit::{self, identity, Kind, Spec};
    use super::*;
    use crate::sign::oid;
    use der::asn1::ObjectIdentifier;
    use der::{Any, Encode};
    use spki::AlgorithmIdentifierOwned;

    const DOCUMENT: &[u8] = b"%PDF-1.7 every byte but the /Contents";

    /// A DER TSTInfo whose imprint is `hash` with `alg`, genTime written as `gen_time`.
    fn tst_info(alg: ObjectIdentifier, hash: &[u8], gen_time: &str) -> Vec<u8> {
        let imprint = MessageImprint {
            hash_algorithm: AlgorithmIdentifierOwned { oid: alg, parameters: Some(Any::null()) },
            hashed_message: OctetString::new(hash).unwrap(),
        };
        let time = [&[0x18, gen_time.len() as u8][..], gen_time.as_bytes()].concat();
        let fields =
            [1u8.to_der().unwrap(), oid::DEMO_TSA_POLICY.to_der().unwrap(), imprint.to_der().unwrap(), 42u32.to_der().unwrap(), time];
        testkit::sequence(&fields.concat())
    }

    /// A token over `tst` signed by the test TSA (P-256, critical timeStamping usage).
    fn token(tst: Vec<u8>) -> Vec<u8> {
        signed_by(identity(Kind::P256, true), tst)
    }

    fn signed_by(tsa: &testkit::Identity, tst: Vec<u8>) -> Vec<u8> {
        let spec = Spec {
            signature: AlgorithmIdentifierOwned { oid: oid::ECDSA_WITH_SHA256, parameters: None },
            econtent: Some((oid::TST_INFO, tst.clone())),
            ..Spec::rsa_sha256(tsa)
        };
        testkit::signed_data(tsa, &spec, &tst)
    }

    fn check_doc(token: &[u8], document: &[u8], anchors: &[Vec<u8>]) -> Result<chrono::DateTime<chrono::Utc>, Problem> {
        check_document(token, &mut |alg| cms::digest_with(alg, &[document]).ok_or_else(|| cms::unsupported_digest(alg)), anchors)
    }

    #[test]
    fn document_timestamp_with_fractional_gen_time_verifies() {
        let hash = ring::digest::digest(&ring::digest::SHA384, DOCUMENT);
        let token = token(tst_info(oid::SHA384, hash.as_ref(), "20261201101530.123Z"));
        let anchors = vec![identity(Kind::P256, true).cert.clone()];
        let expected = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:15:30Z").unwrap();
        assert_eq!(check_doc(&token, DOCUMENT, &anchors), Ok(expected.to_utc()));
        // as a /Contents holds it: BER from a streaming TSA client, then zero padding
        let contents = [testkit::indefinite(&token), vec![0; 100]].concat();
        assert_eq!(check_doc(&contents, DOCUMENT, &anchors), Ok(expected.to_utc()));
    }

    #[test]
    fn document_timestamp_fails_for_a_changed_document_or_an_unknown_tsa() {
        let hash = ring::digest::digest(&ring::digest::SHA256, DOCUMENT);
        let token = token(tst_info(oid::SHA256, hash.as_ref(), "20261201101530Z"));
        let anchors = vec![identity(Kind::P256, true).cert.clone()];
        assert_eq!(check_doc(&token, b"another document", &anchors).map_err(|p| p.code), Err("digest_mismatch"));
        assert_eq!(check_doc(&token, DOCUMENT, &[]).map_err(|p| p.code), Err("timestamp_untrusted"));
        // a token from a certificate without the timeStamping usage, though trusted
        let not_tsa = identity(Kind::P256, false);
        let token = signed_by(not_tsa, tst_info(oid::SHA256, hash.as_ref(), "20261201101530Z"));
        let found = check_doc(&token, DOCUMENT, std::slice::from_ref(&not_tsa.cert)).unwrap_err();
        assert_eq!(found.code, "timestamp_untrusted");
        assert!(found.detail.contains("1.3.6.1.5.5.7.3.8"), "{}", found.detail);
    }

    #[test]
    fn signature_timestamp_covers_the_signature_value() {
        let signature = [7u8; 256];
        let hash = ring::digest::digest(&ring::digest::SHA512, &signature);
        let token = token(tst_info(oid::SHA512, hash.as_ref(), "20261201101530.5Z"));
        let anchors = vec![identity(Kind::P256, true).cert.clone()];
        let now = chrono::Utc::now();
        assert!(check(&token, &signature, &anchors, now).is_ok());
        assert_eq!(check(&token, &[8u8; 256], &anchors, now).map_err(|p| p.code), Err("timestamp_mismatch"));
    }
}
