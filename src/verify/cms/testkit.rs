//! Keys, self-signed certificates and CMS SignedData built in memory for the verification
//! tests, with the algorithms real signers use.

use crate::sign::oid;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos};
use der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use der::{Any, Decode, Encode};
use rcgen::{CertificateParams, CustomExtension, KeyPair, KeyUsagePurpose};
use ring::signature::{self as sig, EcdsaKeyPair, RsaKeyPair};
use spki::AlgorithmIdentifierOwned;
use std::sync::OnceLock;

pub(crate) use super::ber::tests::indefinite;
use x509_cert::attr::{Attribute, Attributes};

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

/// A self-signed certificate and its PKCS #8 key.
pub(crate) struct Identity {
    pub cert: Vec<u8>,
    pkcs8: Vec<u8>,
    kind: Kind,
}

/// One identity per kind and purpose for the whole test binary: RSA keys are slow to make.
pub(crate) fn identity(kind: Kind, tsa: bool) -> &'static Identity {
    static CELLS: [OnceLock<Identity>; 8] = [const { OnceLock::new() }; 8];
    CELLS[kind as usize * 2 + usize::from(tsa)].get_or_init(|| Identity::new(kind, tsa))
}

impl Identity {
    fn new(kind: Kind, tsa: bool) -> Identity {
        let key = match kind {
            Kind::Rsa => {
                let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
                let der = rsa::pkcs8::EncodePrivateKey::to_pkcs8_der(&key).unwrap();
                KeyPair::from_pkcs8_der_and_sign_algo(&der.as_bytes().into(), &rcgen::PKCS_RSA_SHA256).unwrap()
            }
            Kind::P256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(),
            Kind::P384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap(),
            Kind::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap(),
        };
        let mut params = CertificateParams::new(vec!["signer.test".to_string()]).unwrap();
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        if tsa {
            // id-kp-timeStamping, critical (RFC 3161 §2.3)
            let mut eku = CustomExtension::from_oid_content(&[2, 5, 29, 37], vec![0x30, 0x0a, 6, 8, 43, 6, 1, 5, 5, 7, 3, 8]);
            eku.set_criticality(true);
            params.custom_extensions = vec![eku];
        }
        let cert = params.self_signed(&key).unwrap();
        Identity { cert: cert.der().to_vec(), pkcs8: key.serialize_der(), kind }
    }

    /// Signs with RSA PKCS #1 v1.5 or PSS (`rsa`), or ECDSA with the curve's own hash.
    pub(crate) fn sign(&self, rsa: &'static dyn sig::RsaEncoding, message: &[u8]) -> Vec<u8> {
        let rng = ring::rand::SystemRandom::new();
        match self.kind {
            Kind::Rsa => {
                let key = RsaKeyPair::from_pkcs8(&self.pkcs8).unwrap();
                let mut out = vec![0; key.public().modulus_len()];
                key.sign(rsa, &rng, message, &mut out).unwrap();
                out
            }
            Kind::P256 | Kind::P384 => {
                let alg = if matches!(self.kind, Kind::P256) {
                    &sig::ECDSA_P256_SHA256_ASN1_SIGNING
                } else {
                    &sig::ECDSA_P384_SHA384_ASN1_SIGNING
                };
                EcdsaKeyPair::from_pkcs8(alg, &self.pkcs8, &rng).unwrap().sign(&rng, message).unwrap().as_ref().to_vec()
            }
            Kind::Ed25519 => sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(&self.pkcs8).unwrap().sign(message).as_ref().to_vec(),
        }
    }
}

/// What goes into a SignedData besides the signer.
pub(crate) struct Spec {
    pub digest: ObjectIdentifier,
    pub signature: AlgorithmIdentifierOwned,
    /// RSA encoding when the identity is RSA.
    pub rsa: &'static dyn sig::RsaEncoding,
    /// DER value of the signing-certificate-v2 attribute; left out when `None`.
    pub signing_certificate: Option<Vec<u8>>,
    /// Encapsulated content and its type; detached id-data when `None`.
    pub econtent: Option<(ObjectIdentifier, Vec<u8>)>,
}

impl Spec {
    /// SHA-256 with RSA and a signing-certificate-v2 naming `id`'s certificate.
    pub(crate) fn rsa_sha256(id: &Identity) -> Spec {
        Spec {
            digest: oid::SHA256,
            signature: AlgorithmIdentifierOwned { oid: oid::SHA256_WITH_RSA, parameters: Some(Any::null()) },
            rsa: &sig::RSA_PKCS1_SHA256,
            signing_certificate: Some(ess_v2(None, ring::digest::digest(&ring::digest::SHA256, &id.cert).as_ref(), None)),
            econtent: None,
        }
    }
}

/// A DER `SigningCertificateV2` with one ESSCertIDv2 (`hash_alg` written when given) and
/// `policies` (DER of the SEQUENCE OF PolicyInformation) when given.
pub(crate) fn ess_v2(hash_alg: Option<ObjectIdentifier>, hash: &[u8], policies: Option<&[u8]>) -> Vec<u8> {
    let mut id = Vec::new();
    if let Some(alg) = hash_alg {
        id.extend(AlgorithmIdentifierOwned { oid: alg, parameters: None }.to_der().unwrap());
    }
    id.extend(OctetString::new(hash).unwrap().to_der().unwrap());
    let certs = sequence(&sequence(&id));
    sequence(&[certs, policies.unwrap_or_default().to_vec()].concat())
}

/// Wraps `content` in a DER SEQUENCE header.
pub(crate) fn sequence(content: &[u8]) -> Vec<u8> {
    let header = der::Header::new(der::Tag::Sequence, content.len()).unwrap().to_der().unwrap();
    [header, content.to_vec()].concat()
}

/// The DER signed attributes of a SignedData over `content` as `spec` says.
pub(crate) fn signed_attributes(spec: &Spec, content: &[u8]) -> Vec<u8> {
    let digest = super::digest_with(&spec.digest, &[content]).unwrap();
    let content_type = spec.econtent.as_ref().map_or(oid::DATA, |(t, _)| *t);
    let attr = |oid, value: Any| Attribute { oid, values: SetOfVec::try_from(vec![value]).unwrap() };
    let mut attrs = vec![
        attr(oid::CONTENT_TYPE, Any::encode_from(&content_type).unwrap()),
        attr(oid::MESSAGE_DIGEST, Any::encode_from(&OctetString::new(digest).unwrap()).unwrap()),
    ];
    if let Some(ess) = &spec.signing_certificate {
        attrs.push(attr(oid::SIGNING_CERTIFICATE_V2, Any::from_der(ess).unwrap()));
    }
    let set: Attributes = SetOfVec::try_from(attrs).unwrap();
    set.to_der().unwrap()
}

/// A DER ContentInfo with a SignedData by `id` over `content` (encapsulated or detached).
pub(crate) fn signed_data(id: &Identity, spec: &Spec, content: &[u8]) -> Vec<u8> {
    let attrs_der = signed_attributes(spec, content);
    let signature = id.sign(spec.rsa, &attrs_der);
    with_signature(id, spec, &attrs_der, &signature)
}

/// A SignedData with the given signed attributes and signature, as a producer wrote them.
pub(crate) fn with_signature(id: &Identity, spec: &Spec, attrs_der: &[u8], signature: &[u8]) -> Vec<u8> {
    let cert = x509_cert::Certificate::from_der(&id.cert).unwrap();
    let digest_alg = AlgorithmIdentifierOwned { oid: spec.digest, parameters: None };
    let si = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: digest_alg.clone(),
        signed_attrs: Some(Attributes::from_der(attrs_der).unwrap()),
        signature_algorithm: spec.signature.clone(),
        signature: OctetString::new(signature).unwrap(),
        unsigned_attrs: None,
    };
    let (econtent_type, econtent) = match &spec.econtent {
        Some((t, c)) => (*t, Some(Any::encode_from(&OctetString::new(c.clone()).unwrap()).unwrap())),
        None => (oid::DATA, None),
    };
    let sd = SignedData {
        version: if econtent_type == oid::DATA { CmsVersion::V1 } else { CmsVersion::V3 },
        digest_algorithms: SetOfVec::try_from(vec![digest_alg]).unwrap(),
        encap_content_info: EncapsulatedContentInfo { econtent_type, econtent },
        certificates: Some(CertificateSet(SetOfVec::try_from(vec![CertificateChoices::Certificate(cert)]).unwrap())),
        crls: None,
        signer_infos: SignerInfos(SetOfVec::try_from(vec![si]).unwrap()),
    };
    ContentInfo { content_type: oid::SIGNED_DATA, content: Any::encode_from(&sd).unwrap() }.to_der().unwrap()
}
