use super::*;
use crate::pki::ocsp::sign_response;
use crate::sign::{FileSigner, Signer};
use der::asn1::{GeneralizedTime, Null, OctetString};
use rcgen::{BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair};
use x509_ocsp::{BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, RevokedInfo, SingleResponse};

const DAY: i64 = 86_400;

/// A CA, a certificate it issued, and keys to sign responses with, all ECDSA P-256.
struct Pki {
    ca: Vec<u8>,
    ca_signer: FileSigner,
    leaf: Vec<u8>,
    other_leaf: Vec<u8>,
    /// A self-signed CA of the same name with another key.
    impostor: FileSigner,
    /// A responder the CA delegated to (OCSPSigning), and one it did not.
    delegate: FileSigner,
    not_delegate: FileSigner,
}

fn ca_params(name: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p
}

fn leaf_params(name: &str, eku: Vec<ExtendedKeyUsagePurpose>) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.extended_key_usages = eku;
    p.custom_extensions =
        vec![CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], crate::pki::ocsp_access("http://127.0.0.1:9/ocsp").unwrap())];
    p
}

fn signer(key: &KeyPair, cert: &[u8]) -> FileSigner {
    FileSigner::from_der_or_pem(&key.serialize_der(), cert.to_vec(), Vec::new()).unwrap()
}

fn pki() -> &'static Pki {
    static PKI: std::sync::OnceLock<Pki> = std::sync::OnceLock::new();
    PKI.get_or_init(|| {
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params("Test CA").self_signed(&ca_key).unwrap().der().to_vec();
        let ca_signer = signer(&ca_key, &ca);
        let issuer = Issuer::new(ca_params("Test CA"), ca_key);
        let issue = |name: &str, eku: Vec<ExtendedKeyUsagePurpose>| {
            let key = KeyPair::generate().unwrap();
            let cert = leaf_params(name, eku).signed_by(&key, &issuer).unwrap().der().to_vec();
            (key, cert)
        };
        let (_, leaf) = issue("Leaf", Vec::new());
        let (_, other_leaf) = issue("Other leaf", Vec::new());
        let (delegate_key, delegate) = issue("Responder", vec![ExtendedKeyUsagePurpose::OcspSigning]);
        let (plain_key, plain) = issue("Not a responder", Vec::new());
        let impostor_key = KeyPair::generate().unwrap();
        let impostor = ca_params("Test CA").self_signed(&impostor_key).unwrap().der().to_vec();
        Pki {
            ca,
            ca_signer,
            leaf,
            other_leaf,
            impostor: signer(&impostor_key, &impostor),
            delegate: signer(&delegate_key, &delegate),
            not_delegate: signer(&plain_key, &plain),
        }
    })
}

fn time(unix: i64) -> OcspGeneralizedTime {
    OcspGeneralizedTime(GeneralizedTime::from_unix_duration(std::time::Duration::from_secs(unix as u64)).unwrap())
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A CertID for `cert` under the test CA, hashed with `hash` (SHA-1 or SHA-256).
fn cert_id(cert: &[u8], hash: ObjectIdentifier) -> CertId {
    let (_, ca) = x509_parser::parse_x509_certificate(&pki().ca).unwrap();
    let (_, c) = x509_parser::parse_x509_certificate(cert).unwrap();
    let alg = hash_algorithm(&hash).unwrap();
    CertId {
        hash_algorithm: AlgorithmIdentifierOwned { oid: hash, parameters: Some(der::Any::from(Null)) },
        issuer_name_hash: OctetString::new(ring::digest::digest(alg, ca.subject().as_raw()).as_ref()).unwrap(),
        issuer_key_hash: OctetString::new(ring::digest::digest(alg, &ca.public_key().subject_public_key.data).as_ref()).unwrap(),
        serial_number: x509_cert::serial_number::SerialNumber::new(c.raw_serial()).unwrap(),
    }
}

fn single(cert: &[u8], hash: ObjectIdentifier, status: CertStatus, this_update: i64, next_update: i64) -> SingleResponse {
    SingleResponse {
        cert_id: cert_id(cert, hash),
        cert_status: status,
        this_update: time(this_update),
        next_update: Some(time(next_update)),
        single_extensions: None,
    }
}

fn good(cert: &[u8]) -> SingleResponse {
    single(cert, oid::SHA1, CertStatus::good(), now(), now() + DAY)
}

fn read(response: &[u8], cert: &[u8]) -> Result<Answer, OcspError> {
    let (_, ca) = x509_parser::parse_x509_certificate(&pki().ca).unwrap();
    let (_, c) = x509_parser::parse_x509_certificate(cert).unwrap();
    answer(response, &c, &ca)
}

#[test]
fn a_good_answer_signed_by_the_issuer_reads_with_sha1_or_sha256_cert_ids() {
    let p = pki();
    for hash in [oid::SHA1, oid::SHA256] {
        let t = now();
        let response = sign_response(&p.ca_signer, vec![single(&p.leaf, hash, CertStatus::good(), t, t + DAY)], None, t).unwrap();
        let a = read(&response, &p.leaf).unwrap();
        assert_eq!((a.state, a.this_update, a.next_update), (CertState::Good, t, Some(t + DAY)));
        assert!(a.good_at(t) && a.good_at(t - DAY), "current now, and later than an earlier time");
        assert!(a.revoked_by(t).is_none());
    }
}

#[test]
fn a_revocation_counts_from_its_time_even_in_a_later_response() {
    let p = pki();
    let (t, revoked_at) = (now(), now() - 3600);
    let info = RevokedInfo { revocation_time: time(revoked_at), revocation_reason: None };
    let response = sign_response(&p.ca_signer, vec![single(&p.leaf, oid::SHA1, CertStatus::revoked(info), t, t + DAY)], None, t).unwrap();
    let a = read(&response, &p.leaf).unwrap();
    assert_eq!(a.revoked_by(t), Some(revoked_at));
    assert_eq!(a.revoked_by(revoked_at - 1), None, "not yet revoked a second before");
    assert!(a.good_at(revoked_at - 60) && !a.good_at(t), "good before its revocation, not after");
}

#[test]
fn a_stale_answer_proves_nothing_after_its_next_update() {
    let p = pki();
    let t = now();
    let response =
        sign_response(&p.ca_signer, vec![single(&p.leaf, oid::SHA1, CertStatus::good(), t - 3 * DAY, t - 2 * DAY)], None, t - 3 * DAY)
            .unwrap();
    let a = read(&response, &p.leaf).unwrap();
    assert!(!a.good_at(t), "expired two days ago");
    assert!(a.good_at(t - 2 * DAY - 60), "current then");
    let unknown = sign_response(&p.ca_signer, vec![single(&p.leaf, oid::SHA1, CertStatus::unknown(), t, t + DAY)], None, t).unwrap();
    assert!(!read(&unknown, &p.leaf).unwrap().good_at(t), "unknown is not good");
}

#[test]
fn an_answer_about_another_certificate_does_not_match() {
    let p = pki();
    let response = sign_response(&p.ca_signer, vec![good(&p.other_leaf)], None, now()).unwrap();
    assert_eq!(read(&response, &p.leaf), Err(OcspError::NoMatch));
    assert!(read(&response, &p.other_leaf).is_ok());
}

#[test]
fn a_response_signed_by_another_key_is_refused() {
    let p = pki();
    let impostor = sign_response(&p.impostor, vec![good(&p.leaf)], None, now()).unwrap();
    assert_eq!(read(&impostor, &p.leaf), Err(OcspError::UnauthorisedResponder), "same name, another key");
    // The issuer's responder ID and certificate, another key's signature.
    let genuine = sign_response(&p.ca_signer, vec![good(&p.leaf)], None, now()).unwrap();
    let outer = OcspResponse::from_der(&genuine).unwrap();
    let mut basic = BasicOcspResponse::from_der(outer.response_bytes.unwrap().response.as_bytes()).unwrap();
    let forged = p.impostor.sign(&basic.tbs_response_data.to_der().unwrap()).unwrap();
    basic.signature = BitString::from_bytes(&forged).unwrap();
    let forged = OcspResponse::successful(basic).unwrap().to_der().unwrap();
    assert_eq!(read(&forged, &p.leaf), Err(OcspError::BadSignature));
}

#[test]
fn only_a_responder_the_issuer_delegated_to_may_sign() {
    let p = pki();
    let delegated = sign_response(&p.delegate, vec![good(&p.leaf)], None, now()).unwrap();
    assert_eq!(read(&delegated, &p.leaf).map(|a| a.state), Ok(CertState::Good));
    let undelegated = sign_response(&p.not_delegate, vec![good(&p.leaf)], None, now()).unwrap();
    assert_eq!(read(&undelegated, &p.leaf), Err(OcspError::UnauthorisedResponder), "no OCSPSigning usage");
}

#[test]
fn error_statuses_and_garbage_are_not_answers() {
    let p = pki();
    let try_later = OcspResponse::try_later().to_der().unwrap();
    assert!(matches!(read(&try_later, &p.leaf), Err(OcspError::NotSuccessful(_))));
    assert!(matches!(read(b"\x30\x03\x0a\x01", &p.leaf), Err(OcspError::Malformed(_))));
}

#[test]
fn revocation_prefers_ocsp_and_a_named_responder_makes_a_certificate_checkable() {
    let p = pki();
    let path = vec![p.leaf.clone(), p.ca.clone()];
    let at = chrono::Utc::now();
    let good = sign_response(&p.ca_signer, vec![good(&p.leaf)], None, now()).unwrap();
    assert_eq!(super::super::revocation::check(&path, &[good], &[], at), (super::super::RevocationStatus::Good, Vec::new()));
    let info = RevokedInfo { revocation_time: time(now() - 60), revocation_reason: None };
    let revoked =
        sign_response(&p.ca_signer, vec![single(&p.leaf, oid::SHA256, CertStatus::revoked(info), now(), now() + DAY)], None, now())
            .unwrap();
    let (status, problems) = super::super::revocation::check(&path, &[revoked], &[], at);
    assert_eq!((status, problems[0].code), (super::super::RevocationStatus::Revoked, "certificate_revoked"));
    let (status, problems) = super::super::revocation::check(&path, &[], &[], at);
    assert_eq!((status, problems[0].code), (super::super::RevocationStatus::Unknown, "revocation_unknown"), "the leaf names a responder");
}
