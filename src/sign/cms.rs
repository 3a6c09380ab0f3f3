//! CMS SignedData (RFC 5652) as PAdES wants it: detached id-data, signed attributes
//! content-type, message-digest and signing-certificate-v2, no signing-time.

use super::{oid, KeyAlgorithm, SignError};
use ::cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use ::cms::content_info::{CmsVersion, ContentInfo};
use ::cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Sequence};
use sha2::{Digest, Sha256};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::{Attribute, Attributes};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::serial_number::SerialNumber;
use x509_cert::Certificate;

/// ESS `SigningCertificateV2` (RFC 5035), policies omitted.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct SigningCertificateV2 {
    pub certs: Vec<EssCertIdV2>,
}

/// ESS `ESSCertIDv2`; `hashAlgorithm` is left out because it defaults to SHA-256. The
/// decoder skips a leading algorithm identifier, see [`EssCertIdV2::parse_lenient`].
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct EssCertIdV2 {
    pub cert_hash: OctetString,
    #[asn1(optional = "true")]
    pub issuer_serial: Option<IssuerSerial>,
}

/// ESS `IssuerSerial`.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
pub struct IssuerSerial {
    pub issuer: Vec<GeneralName>,
    pub serial_number: SerialNumber,
}

impl EssCertIdV2 {
    /// The certificate hashes (with their algorithm) in a DER `SigningCertificateV2`,
    /// read as producers write it: with or without `policies`, an explicit hash algorithm
    /// (SHA-256 written out although it is the default, or SHA-384/512), any issuerSerial.
    pub fn parse_lenient(der_bytes: &[u8]) -> Option<Vec<(der::asn1::ObjectIdentifier, Vec<u8>)>> {
        #[derive(Sequence)]
        struct Loose {
            certs: Vec<LooseId>,
            #[asn1(optional = "true")]
            policies: Option<Vec<Any>>,
        }
        #[derive(Sequence)]
        struct LooseId {
            #[asn1(optional = "true")]
            hash_algorithm: Option<AlgorithmIdentifierOwned>,
            cert_hash: OctetString,
            #[asn1(optional = "true")]
            issuer_serial: Option<Any>,
        }
        let loose = Loose::from_der(der_bytes).ok()?;
        let hashes = loose.certs.into_iter().map(|id| (id.hash_algorithm.map_or(oid::SHA256, |a| a.oid), id.cert_hash.as_bytes().to_vec()));
        Some(hashes.collect())
    }
}

fn attribute(oid: der::asn1::ObjectIdentifier, value: Any) -> Result<Attribute, SignError> {
    Ok(Attribute { oid, values: SetOfVec::try_from(vec![value])? })
}

fn parse_cert(der_bytes: &[u8]) -> Result<Certificate, SignError> {
    Certificate::from_der(der_bytes).map_err(|e| SignError::Certificate(e.to_string()))
}

/// DER (`SET OF`, tag 0x31) of the signed attributes for a document digest and signer.
pub fn signed_attributes(digest: &[u8], certificate: &[u8]) -> Result<Vec<u8>, SignError> {
    signed_attributes_for(oid::DATA, digest, certificate)
}

/// Signed attributes for content of type `content_type` (id-data, or TSTInfo in a token).
pub(crate) fn signed_attributes_for(
    content_type: der::asn1::ObjectIdentifier,
    digest: &[u8],
    certificate: &[u8],
) -> Result<Vec<u8>, SignError> {
    let cert = parse_cert(certificate)?;
    let ess = SigningCertificateV2 {
        certs: vec![EssCertIdV2 {
            cert_hash: OctetString::new(Sha256::digest(certificate).to_vec())?,
            issuer_serial: Some(IssuerSerial {
                issuer: vec![GeneralName::DirectoryName(cert.tbs_certificate.issuer.clone())],
                serial_number: cert.tbs_certificate.serial_number.clone(),
            }),
        }],
    };
    let attrs = vec![
        attribute(oid::CONTENT_TYPE, Any::encode_from(&content_type)?)?,
        attribute(oid::MESSAGE_DIGEST, Any::encode_from(&OctetString::new(digest.to_vec())?)?)?,
        attribute(oid::SIGNING_CERTIFICATE_V2, Any::encode_from(&ess)?)?,
    ];
    // SetOfVec sorts its elements, which is what DER requires of a SET OF.
    let set: Attributes = SetOfVec::try_from(attrs)?;
    Ok(set.to_der()?)
}

fn algorithm_identifiers(algorithm: KeyAlgorithm) -> (AlgorithmIdentifierOwned, AlgorithmIdentifierOwned) {
    let digest = AlgorithmIdentifierOwned { oid: oid::SHA256, parameters: None };
    let signature = match algorithm {
        // RFC 4055: the parameters of sha256WithRSAEncryption are NULL, present.
        KeyAlgorithm::RsaSha256 => AlgorithmIdentifierOwned { oid: oid::SHA256_WITH_RSA, parameters: Some(Any::null()) },
        KeyAlgorithm::EcdsaP256Sha256 => AlgorithmIdentifierOwned { oid: oid::ECDSA_WITH_SHA256, parameters: None },
    };
    (digest, signature)
}

/// A DER `ContentInfo` holding the detached SignedData.
pub fn signed_data(
    certificate: &[u8],
    chain: &[Vec<u8>],
    algorithm: KeyAlgorithm,
    signed_attributes_der: &[u8],
    signature: &[u8],
    timestamp_token: Option<&[u8]>,
) -> Result<Vec<u8>, SignError> {
    let signer = SignerParts { certificate, chain, algorithm, signed_attributes_der, signature };
    build(&signer, oid::DATA, None, true, timestamp_token)
}

/// The signer's side of a SignedData: certificate, chain, algorithm, attributes, signature.
pub(crate) struct SignerParts<'a> {
    pub certificate: &'a [u8],
    pub chain: &'a [Vec<u8>],
    pub algorithm: KeyAlgorithm,
    pub signed_attributes_der: &'a [u8],
    pub signature: &'a [u8],
}

/// A DER `ContentInfo` with a SignedData over `econtent` (or detached when `None`).
pub(crate) fn build(
    parts: &SignerParts,
    content_type: der::asn1::ObjectIdentifier,
    econtent: Option<Any>,
    include_certificates: bool,
    timestamp_token: Option<&[u8]>,
) -> Result<Vec<u8>, SignError> {
    let SignerParts { certificate, chain, algorithm, signed_attributes_der, signature } = *parts;
    let cert = parse_cert(certificate)?;
    let signed_attrs = Attributes::from_der(signed_attributes_der)?;
    let unsigned_attrs = match timestamp_token {
        Some(token) => Some(SetOfVec::try_from(vec![attribute(oid::SIGNATURE_TIME_STAMP, Any::from_der(token)?)?])?),
        None => None,
    };
    let (digest_alg, signature_algorithm) = algorithm_identifiers(algorithm);
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: digest_alg.clone(),
        signed_attrs: Some(signed_attrs),
        signature_algorithm,
        signature: OctetString::new(signature.to_vec())?,
        unsigned_attrs,
    };
    let mut certs = vec![CertificateChoices::Certificate(cert)];
    for c in chain.iter().filter(|c| c.as_slice() != certificate) {
        certs.push(CertificateChoices::Certificate(parse_cert(c)?));
    }
    // RFC 5652 §5.1: version 3 when the encapsulated content is not id-data.
    let version = if content_type == oid::DATA { CmsVersion::V1 } else { CmsVersion::V3 };
    let sd = SignedData {
        version,
        digest_algorithms: SetOfVec::try_from(vec![digest_alg])?,
        encap_content_info: EncapsulatedContentInfo { econtent_type: content_type, econtent },
        certificates: if include_certificates { Some(CertificateSet(SetOfVec::try_from(certs)?)) } else { None },
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
    };
    let ci = ContentInfo { content_type: oid::SIGNED_DATA, content: Any::encode_from(&sd)? };
    Ok(ci.to_der()?)
}
