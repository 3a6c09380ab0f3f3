//! Checks one CMS SignedData: signer, message digest, signature, signing certificate
//! attribute, and the embedded RFC 3161 signature time-stamp.

use super::Problem;
use crate::sign::oid;
use crate::sign::EssCertIdV2;
use cms::cert::x509::attr::Attributes;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::OctetString;
use der::{Decode, Encode, Reader, SliceReader};
use ring::signature as sig;

/// A parsed SignedData with the DER of every embedded certificate.
pub(crate) struct Parsed {
    pub signed: SignedData,
    pub certs: Vec<Vec<u8>>,
}

/// Parses a DER ContentInfo that may be followed by zero padding (the `/Contents` slack).
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, String> {
    let mut reader = SliceReader::new(bytes).map_err(|e| e.to_string())?;
    let ci: ContentInfo = reader.decode().map_err(|e| format!("not a DER ContentInfo: {e}"))?;
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
    Ok(Parsed { signed, certs })
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
    Problem::new("unsupported_algorithm", format!("digest algorithm {alg}"))
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
    let Some(attrs) = &si.signed_attrs else {
        problems.push(Problem::new("cms_no_signed_attributes", "the SignerInfo has no signed attributes"));
        return;
    };
    let digest = match content_digest(&si.digest_alg.oid) {
        Ok(d) => d,
        Err(p) => return problems.push(p),
    };
    match attribute(attrs, oid::MESSAGE_DIGEST).and_then(|a| a.decode_as::<OctetString>().ok()) {
        Some(md) if md.as_bytes() == digest.as_slice() => {}
        Some(_) => problems
            .push(Problem::new("digest_mismatch", "the signed bytes do not match the message-digest attribute: the document was changed")),
        None => problems.push(Problem::new("cms_malformed", "no message-digest attribute")),
    }
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
        v1.to_der().ok().and_then(|d| sha1_cert_hash(&d)).map(|h| vec![(der::asn1::ObjectIdentifier::new_unwrap("1.3.14.3.2.26"), h)])
    } else {
        return;
    };
    let Some(hashes) = hashes else {
        problems.push(Problem::new("cms_malformed", "unreadable signing-certificate attribute"));
        return;
    };
    let matches = hashes.first().is_some_and(|(alg, hash)| {
        let computed = if alg.to_string() == "1.3.14.3.2.26" {
            Some(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der).as_ref().to_vec())
        } else {
            digest_with(alg, &[cert_der])
        };
        computed.as_deref() == Some(hash.as_slice())
    });
    if !matches {
        problems.push(Problem::new(
            "signing_certificate_mismatch",
            "the signing-certificate attribute names another certificate than the one embedded",
        ));
    }
}

fn sha1_cert_hash(der_bytes: &[u8]) -> Option<Vec<u8>> {
    #[derive(der::Sequence)]
    struct SigningCertificate {
        certs: Vec<EssCertId>,
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
    let spki = cert.public_key();
    let key_alg = spki.algorithm.algorithm.to_id_string();
    let sig_alg = si.signature_algorithm.oid.to_string();
    let digest = si.digest_alg.oid.to_string();
    let algorithm: &dyn sig::VerificationAlgorithm = match (key_alg.as_str(), sig_alg.as_str(), digest.as_str()) {
        ("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.11", "2.16.840.1.101.3.4.2.1") => {
            &sig::RSA_PKCS1_2048_8192_SHA256
        }
        ("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.12", "2.16.840.1.101.3.4.2.2") => {
            &sig::RSA_PKCS1_2048_8192_SHA384
        }
        ("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.13", "2.16.840.1.101.3.4.2.3") => {
            &sig::RSA_PKCS1_2048_8192_SHA512
        }
        ("1.2.840.10045.2.1", "1.2.840.10045.4.3.2", _) => &sig::ECDSA_P256_SHA256_ASN1,
        ("1.2.840.10045.2.1", "1.2.840.10045.4.3.3", _) => &sig::ECDSA_P384_SHA384_ASN1,
        _ => {
            let rsa_sig = sig_alg.starts_with("1.2.840.113549.1.1.");
            let ec_sig = sig_alg.starts_with("1.2.840.10045.4.3.");
            let (rsa_key, ec_key) = (key_alg == "1.2.840.113549.1.1.1", key_alg == "1.2.840.10045.2.1");
            // A known algorithm that does not fit the certificate's key cannot verify: another
            // certificate was put in place of the one that signed.
            let code = if (rsa_sig && ec_key) || (ec_sig && rsa_key) { "signature_invalid" } else { "unsupported_algorithm" };
            return Err(Problem::new(code, format!("signature algorithm {sig_alg} with digest {digest} does not fit key {key_alg}")));
        }
    };
    sig::UnparsedPublicKey::new(algorithm, spki.subject_public_key.data.as_ref())
        .verify(message, si.signature.as_bytes())
        .map_err(|_| Problem::new("signature_invalid", "the CMS signature does not verify with the signer's certificate"))
}

/// The signature time-stamp token in the SignerInfo's unsigned attributes, if any.
pub(crate) fn timestamp_token(si: &SignerInfo) -> Option<Result<Vec<u8>, String>> {
    let attrs = si.unsigned_attrs.as_ref()?;
    let any = attribute(attrs, oid::SIGNATURE_TIME_STAMP)?;
    Some(any.to_der().map_err(|e| e.to_string()))
}
