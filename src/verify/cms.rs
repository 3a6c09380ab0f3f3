//! Checks one CMS SignedData: signer, message digest, signature, signing certificate
//! attribute, and the embedded RFC 3161 signature time-stamp.

mod algorithm;
mod ber;
#[cfg(test)]
pub(super) mod testkit;

use super::Problem;
use crate::sign::oid;
use crate::sign::EssCertIdV2;
use cms::cert::x509::attr::Attributes;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::OctetString;
use der::{Decode, Encode, Reader, SliceReader};

/// A parsed SignedData with the DER of every embedded certificate.
pub(crate) struct Parsed {
    pub content_info: ContentInfo,
    pub signed: SignedData,
    pub certs: Vec<Vec<u8>>,
}

/// Parses a BER or DER ContentInfo that may be followed by zero padding (the `/Contents`
/// slack); BER is transcoded to DER first.
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let der_bytes = ber::to_der(bytes).map_err(|e| format!("not a ContentInfo: {e}"))?;
    let mut reader = SliceReader::new(&der_bytes).map_err(|e| e.to_string())?;
    let ci: ContentInfo = reader.decode().map_err(|e| format!("not a ContentInfo: {e}"))?;
    if ci.content_type != oid::SIGNED_DATA {
        return Err(format!("content type {} is not SignedData", ci.content_type));
    }
    let signed: SignedData = ci.content.decode_as().map_err(|e| format!("SignedData: {e}"))?;
    let certs = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(c) => c.to_der().ok(),
            cms::cert::CertificateChoices::Other(_) => None,
        })
        .collect();
    Ok(Parsed { content_info: ci, signed, certs })
}

impl Parsed {
    /// The only SignerInfo; PAdES signatures carry exactly one.
    pub fn signer_info(&self) -> Result<&SignerInfo, String> {
        match self.signed.signer_infos.0.as_slice() {
            [one] => Ok(one),
            other => Err(format!("{} signer infos, expected one", other.len())),
        }
    }

    /// The DER of the certificate the SignerInfo names.
    pub fn signer_certificate(&self, si: &SignerInfo) -> Option<&Vec<u8>> {
        self.certs.iter().find(|der_bytes| {
            let Ok(cert) = x509_cert::Certificate::from_der(der_bytes) else { return false };
            match &si.sid {
                SignerIdentifier::IssuerAndSerialNumber(ias) => {
                    cert.tbs_certificate.issuer == ias.issuer && cert.tbs_certificate.serial_number == ias.serial_number
                }
                SignerIdentifier::SubjectKeyIdentifier(ski) => {
                    let Ok((_, parsed)) = x509_parser::parse_x509_certificate(der_bytes) else { return false };
                    let found = parsed.iter_extensions().any(|e| match e.parsed_extension() {
                        x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(k) => k.0 == ski.0.as_bytes(),
                        _ => false,
                    });
                    found
                }
            }
        })
    }
}

fn attribute(attrs: &Attributes, oid: der::asn1::ObjectIdentifier) -> Option<&der::Any> {
    attrs.iter().find(|a| a.oid == oid).and_then(|a| a.values.iter().next())
}

/// A hashing context for the algorithm named by `alg`; `None` for one sohoa does not accept.
pub(crate) fn digest_context(alg: &der::asn1::ObjectIdentifier) -> Option<ring::digest::Context> {
    let algorithm = match alg.to_string().as_str() {
        "2.16.840.1.101.3.4.2.1" => &ring::digest::SHA256,
        "2.16.840.1.101.3.4.2.2" => &ring::digest::SHA384,
        "2.16.840.1.101.3.4.2.3" => &ring::digest::SHA512,
        _ => return None,
    };
    Some(ring::digest::Context::new(algorithm))
}

pub(crate) fn unsupported_digest(alg: &der::asn1::ObjectIdentifier) -> Problem {
    Problem::new("unsupported_algorithm", format!("digest algorithm {}", oid::describe(alg)))
}

/// Digest of `data` with the algorithm named by `alg`; `None` for one sohoa does not accept.
pub(crate) fn digest_with(alg: &der::asn1::ObjectIdentifier, chunks: &[&[u8]]) -> Option<Vec<u8>> {
    let mut ctx = digest_context(alg)?;
    for c in chunks {
        ctx.update(c);
    }
    Some(ctx.finish().as_ref().to_vec())
}

/// Hashes the signed content with the digest algorithm it is given (the SignerInfo's).
pub(crate) type ContentDigest<'a> = &'a mut dyn FnMut(&der::asn1::ObjectIdentifier) -> Result<Vec<u8>, Problem>;

/// Checks message-digest against `content_digest` (which hashes the signed content with
/// the SignerInfo's digest algorithm), the signature with `cert`, and the ESS attribute.
pub(crate) fn check_signer(si: &SignerInfo, cert_der: &[u8], content_digest: ContentDigest, problems: &mut Vec<Problem>) {
    let digest = match content_digest(&si.digest_alg.oid) {
        Ok(d) => d,
        Err(p) => return problems.push(p),
    };
    let Some(attrs) = &si.signed_attrs else {
        // RFC 5652 §5.4: without signed attributes the signature covers the content itself.
        let verified = x509_parser::parse_x509_certificate(cert_der)
            .map_err(|e| Problem::new("certificate_malformed", e.to_string()))
            .and_then(|(_, cert)| algorithm::verify_digest(si, cert.public_key().raw, &digest));
        if let Err(p) = verified {
            problems.push(p);
        }
        return;
    };
    match attribute(attrs, oid::MESSAGE_DIGEST).and_then(|a| a.decode_as::<OctetString>().ok()) {
        Some(md) if md.as_bytes() == digest.as_slice() => {}
        Some(_) => problems
            .push(Problem::new("digest_mismatch", "the signed bytes do not match the message-digest attribute: the document was changed")),
        None => problems.push(Problem::new("cms_malformed", "no message-digest attribute")),
    }
    // RFC 5652 §5.4: the signature covers the DER of the SET OF, which `der` sorts on decoding
    // however the producer ordered it.
    let Ok(attrs_der) = attrs.to_der() else {
        problems.push(Problem::new("cms_malformed", "signed attributes do not re-encode"));
        return;
    };
    if let Err(p) = verify_raw(si, cert_der, &attrs_der) {
        problems.push(p);
    }
    check_signing_certificate(attrs, cert_der, problems);
}

/// The ESS signing-certificate(-v2) attribute must name the certificate used to verify.
fn check_signing_certificate(attrs: &Attributes, cert_der: &[u8], problems: &mut Vec<Problem>) {
    let hashes = if let Some(v2) = attribute(attrs, oid::SIGNING_CERTIFICATE_V2) {
        v2.to_der().ok().and_then(|d| EssCertIdV2::parse_lenient(&d))
    } else if let Some(v1) = attribute(attrs, oid::SIGNING_CERTIFICATE) {
        // ESSCertID v1 is { certHash OCTET STRING (SHA-1), ... }; only the first is needed.
        v1.to_der().ok().and_then(|d| sha1_cert_hash(&d)).map(|h| vec![(oid::SHA1, h)])
    } else {
        return;
    };
    let Some(hashes) = hashes else {
        problems.push(Problem::new("cms_malformed", "unreadable signing-certificate attribute"));
        return;
    };
    let computed = hashes.first().map(|(alg, hash)| {
        let computed = if *alg == oid::SHA1 {
            Some(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der).as_ref().to_vec())
        } else {
            digest_with(alg, &[cert_der])
        };
        (alg, computed.map(|c| c == *hash))
    });
    match computed {
        Some((_, Some(true))) => {}
        // A hash sohoa cannot compute says nothing about which certificate is named.
        Some((alg, None)) => {
            problems.push(Problem::new("unsupported_algorithm", format!("signing-certificate hash algorithm {}", oid::describe(alg))))
        }
        _ => problems.push(Problem::new(
            "signing_certificate_mismatch",
            "the signing-certificate attribute names another certificate than the one embedded",
        )),
    }
}

fn sha1_cert_hash(der_bytes: &[u8]) -> Option<Vec<u8>> {
    #[derive(der::Sequence)]
    struct SigningCertificate {
        certs: Vec<EssCertId>,
        #[asn1(optional = "true")]
        policies: Option<Vec<der::Any>>,
    }
    #[derive(der::Sequence)]
    struct EssCertId {
        cert_hash: OctetString,
        #[asn1(optional = "true")]
        issuer_serial: Option<der::Any>,
    }
    let sc = SigningCertificate::from_der(der_bytes).ok()?;
    sc.certs.first().map(|c| c.cert_hash.as_bytes().to_vec())
}

/// Verifies the SignerInfo's signature over `message` with the public key in `cert_der`.
pub(crate) fn verify_raw(si: &SignerInfo, cert_der: &[u8], message: &[u8]) -> Result<(), Problem> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).map_err(|e| Problem::new("certificate_malformed", e.to_string()))?;
    algorithm::verify(si, cert.public_key().raw, message)
}

/// The signature time-stamp token in the SignerInfo's unsigned attributes, if any.
pub(crate) fn timestamp_token(si: &SignerInfo) -> Option<Result<Vec<u8>, String>> {
    let attrs = si.unsigned_attrs.as_ref()?;
    let any = attribute(attrs, oid::SIGNATURE_TIME_STAMP)?;
    Some(any.to_der().map_err(|e| e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::testkit::{self, ess_v2, identity, Kind, Spec};
    use super::*;
    use ring::signature as sig;
    use spki::AlgorithmIdentifierOwned;

    const CONTENT: &[u8] = b"%PDF-1.7 the signed byte ranges";

    /// The problems `check_signer` finds in `cms` over `content`.
    fn problems(cms: &[u8], content: &[u8]) -> Vec<Problem> {
        let parsed = parse(cms).unwrap();
        let si = parsed.signer_info().unwrap();
        let cert = parsed.signer_certificate(si).unwrap();
        let mut problems = Vec::new();
        check_signer(si, cert, &mut |alg| digest_with(alg, &[content]).ok_or_else(|| unsupported_digest(alg)), &mut problems);
        problems
    }

    fn codes(problems: &[Problem]) -> Vec<&'static str> {
        problems.iter().map(|p| p.code).collect()
    }

    #[test]
    fn ber_cms_with_padding_verifies_with_certificates_unchanged() {
        let id = identity(Kind::Rsa, false);
        let der_cms = testkit::signed_data(id, &Spec::rsa_sha256(id), CONTENT);
        let ber_cms = [ber::tests::indefinite(&der_cms), vec![0; 64]].concat();
        assert!(ContentInfo::from_der(&ber_cms[..ber_cms.len() - 64]).is_err(), "the test input must be BER");
        assert_eq!(parse(&ber_cms).unwrap().certs, vec![id.cert.clone()]);
        assert_eq!(problems(&ber_cms, CONTENT), vec![]);
        assert_eq!(codes(&problems(&ber_cms, b"changed")), ["digest_mismatch"]);
    }

    #[test]
    fn signed_attributes_in_producer_order_verify_over_their_der() {
        let id = identity(Kind::P256, false);
        let spec = Spec { signature: AlgorithmIdentifierOwned { oid: oid::ECDSA_WITH_SHA256, parameters: None }, ..Spec::rsa_sha256(id) };
        let cms = testkit::signed_data(id, &spec, CONTENT);
        // Reverse the SET's elements in place: same bytes, not in DER order any more.
        let attrs_der = testkit::signed_attributes(&spec, CONTENT);
        let attrs = Attributes::from_der(&attrs_der).unwrap();
        let header_len = attrs_der.len() - attrs.iter().map(|a| a.to_der().unwrap().len()).sum::<usize>();
        let reversed: Vec<u8> = attrs.iter().rev().flat_map(|a| a.to_der().unwrap()).collect();
        let at = cms.windows(reversed.len()).position(|w| w == &attrs_der[header_len..]).unwrap();
        let unsorted = [&cms[..at], &reversed[..], &cms[at + reversed.len()..]].concat();
        assert_ne!(unsorted, cms);
        assert_eq!(problems(&unsorted, CONTENT), vec![]);
    }

    #[test]
    fn sha384_and_sha512_verify_with_rsa_and_ecdsa() {
        let rsa = identity(Kind::Rsa, false);
        for (digest, sig_oid, encoding) in [
            (oid::SHA384, oid::SHA384_WITH_RSA, &sig::RSA_PKCS1_SHA384),
            (oid::SHA512, oid::SHA512_WITH_RSA, &sig::RSA_PKCS1_SHA512),
            // rsaEncryption as the signature algorithm takes the hash from the digest algorithm
            (oid::SHA512, oid::RSA_ENCRYPTION, &sig::RSA_PKCS1_SHA512),
        ] {
            let spec = Spec {
                digest,
                signature: AlgorithmIdentifierOwned { oid: sig_oid, parameters: Some(der::Any::null()) },
                rsa: encoding,
                ..Spec::rsa_sha256(rsa)
            };
            assert_eq!(problems(&testkit::signed_data(rsa, &spec, CONTENT), CONTENT), vec![], "{digest}");
        }
        let ec = identity(Kind::P384, false);
        let spec = Spec {
            digest: oid::SHA512,
            signature: AlgorithmIdentifierOwned { oid: oid::ECDSA_WITH_SHA384, parameters: None },
            ..Spec::rsa_sha256(ec)
        };
        assert_eq!(problems(&testkit::signed_data(ec, &spec, CONTENT), CONTENT), vec![]);
    }

    #[test]
    fn signing_certificate_v2_with_policies_or_explicit_hash_is_read() {
        let id = identity(Kind::Rsa, false);
        let sha512 = ring::digest::digest(&ring::digest::SHA512, &id.cert);
        // policies: one PolicyInformation { policyIdentifier 1.2.3.4 }
        let policies = testkit::sequence(&testkit::sequence(&der::asn1::ObjectIdentifier::new_unwrap("1.2.3.4").to_der().unwrap()));
        let sha256 = Spec::rsa_sha256(id).signing_certificate.unwrap();
        let sha256_hash = &sha256[sha256.len() - 32..];
        for ess in [ess_v2(None, sha256_hash, Some(&policies)), ess_v2(Some(oid::SHA512), sha512.as_ref(), Some(&policies))] {
            let spec = Spec { signing_certificate: Some(ess), ..Spec::rsa_sha256(id) };
            assert_eq!(problems(&testkit::signed_data(id, &spec, CONTENT), CONTENT), vec![]);
        }
        let other = ess_v2(Some(oid::SHA384), &[0; 48], Some(&policies));
        let spec = Spec { signing_certificate: Some(other), ..Spec::rsa_sha256(id) };
        assert_eq!(codes(&problems(&testkit::signed_data(id, &spec, CONTENT), CONTENT)), ["signing_certificate_mismatch"]);
        let sha224 = ess_v2(Some(der::asn1::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4")), &[0; 28], None);
        let spec = Spec { signing_certificate: Some(sha224), ..Spec::rsa_sha256(id) };
        assert_eq!(codes(&problems(&testkit::signed_data(id, &spec, CONTENT), CONTENT)), ["unsupported_algorithm"]);
    }

    #[test]
    fn unsupported_algorithms_are_named() {
        let rsa = identity(Kind::Rsa, false);
        let sha1_rsa = Spec {
            signature: AlgorithmIdentifierOwned { oid: oid::SHA1_WITH_RSA, parameters: Some(der::Any::null()) },
            ..Spec::rsa_sha256(rsa)
        };
        let found = problems(&testkit::signed_data(rsa, &sha1_rsa, CONTENT), CONTENT);
        assert_eq!(codes(&found), ["unsupported_algorithm"]);
        assert!(found[0].detail.contains("SHA-1 with RSA"), "{}", found[0].detail);

        let sha1_digest = Spec { digest: oid::SHA1, ..Spec::rsa_sha256(rsa) };
        let cms = testkit::with_signature(rsa, &sha1_digest, &testkit::signed_attributes(&Spec::rsa_sha256(rsa), CONTENT), &[0; 256]);
        let found = problems(&cms, CONTENT);
        assert_eq!(codes(&found), ["unsupported_algorithm"]);
        assert_eq!(found[0].detail, "digest algorithm SHA-1 (1.3.14.3.2.26)");

        let ed = identity(Kind::Ed25519, false);
        let spec = Spec {
            digest: oid::SHA512,
            signature: AlgorithmIdentifierOwned { oid: oid::ED25519, parameters: None },
            ..Spec::rsa_sha256(ed)
        };
        let found = problems(&testkit::signed_data(ed, &spec, CONTENT), CONTENT);
        assert_eq!(codes(&found), ["unsupported_algorithm"]);
        assert!(found[0].detail.contains("Ed25519"), "{}", found[0].detail);
    }

    #[test]
    fn an_rsa_algorithm_with_an_ec_key_is_an_invalid_signature() {
        let ec = identity(Kind::P256, false);
        let spec = Spec { signature: AlgorithmIdentifierOwned { oid: oid::ECDSA_WITH_SHA256, parameters: None }, ..Spec::rsa_sha256(ec) };
        let attrs = testkit::signed_attributes(&spec, CONTENT);
        let swapped = Spec { signature: Spec::rsa_sha256(ec).signature, ..spec };
        let cms = testkit::with_signature(ec, &swapped, &attrs, &ec.sign(&sig::RSA_PKCS1_SHA256, &attrs));
        assert_eq!(codes(&problems(&cms, CONTENT)), ["signature_invalid"]);
    }
}
