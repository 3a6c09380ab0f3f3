//! What a token's key is and how its signatures are encoded: the certificate check and the
//! conversions PKCS#11 leaves to the caller.

use super::super::KeyAlgorithm;
use der::asn1::UintRef;
use der::Encode;
use sha2::{Digest, Sha256};
use x509_parser::public_key::PublicKey;

/// DER of `DigestInfo { sha256, NULL }` up to the digest, for CKM_RSA_PKCS (RFC 8017 §9.2).
const SHA256_DIGEST_INFO: [u8; 19] =
    [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];
/// Bytes of r and of s in a P-256 signature.
const P256_SCALAR: usize = 32;

/// The public half of the token's key, as far as the token shows it.
pub(super) enum TokenKey {
    Rsa {
        modulus: Vec<u8>,
        exponent: Vec<u8>,
    },
    /// The point, uncompressed, when the token holds the public key object.
    Ec {
        point: Option<Vec<u8>>,
    },
}

/// What the certificate says about a token key.
pub(super) enum Verdict {
    Matches(KeyAlgorithm),
    /// The token shows no public key: a test signature must decide.
    Unknown(KeyAlgorithm),
    Mismatch,
}

/// Compares the token's public key with the certificate's SPKI; `Err` for a certificate
/// sohoa cannot sign with (unreadable, RSA outside 2048 to 4096 bits, a curve other than P-256).
pub(super) fn judge(key: &TokenKey, certificate: &[u8]) -> Result<Verdict, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(certificate).map_err(|e| format!("certificate: {e}"))?;
    let spki = cert.public_key();
    let parsed = spki.parsed().map_err(|e| format!("certificate public key: {e}"))?;
    match (key, parsed) {
        (TokenKey::Rsa { modulus, exponent }, PublicKey::RSA(rsa)) => {
            let bits = bit_length(rsa.modulus);
            if !(2048..=4096).contains(&bits) {
                return Err(format!("RSA keys of 2048 to 4096 bits only, the certificate's has {bits}"));
            }
            let same = unsigned(modulus) == unsigned(rsa.modulus) && unsigned(exponent) == unsigned(rsa.exponent);
            Ok(if same { Verdict::Matches(KeyAlgorithm::RsaSha256) } else { Verdict::Mismatch })
        }
        (TokenKey::Ec { point }, PublicKey::EC(cert_point)) => {
            let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok());
            if curve != Some(x509_parser::oid_registry::OID_EC_P256) {
                return Err("ECDSA keys on P-256 only".into());
            }
            Ok(match point {
                Some(point) if point.as_slice() == cert_point.data() => Verdict::Matches(KeyAlgorithm::EcdsaP256Sha256),
                Some(_) => Verdict::Mismatch,
                None => Verdict::Unknown(KeyAlgorithm::EcdsaP256Sha256),
            })
        }
        (_, PublicKey::RSA(_) | PublicKey::EC(_)) => Ok(Verdict::Mismatch),
        _ => Err("the certificate's key is neither RSA nor ECDSA".into()),
    }
}

/// Whether `signature` (as CMS carries it) over `message` verifies with the certificate's key.
pub(super) fn verifies(certificate: &[u8], algorithm: KeyAlgorithm, message: &[u8], signature: &[u8]) -> bool {
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(certificate) else { return false };
    let key = cert.public_key().subject_public_key.data.as_ref();
    let scheme: &dyn ring::signature::VerificationAlgorithm = match algorithm {
        KeyAlgorithm::RsaSha256 => &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        KeyAlgorithm::EcdsaP256Sha256 => &ring::signature::ECDSA_P256_SHA256_ASN1,
    };
    ring::signature::UnparsedPublicKey::new(scheme, key).verify(message, signature).is_ok()
}

/// The uncompressed point from CKA_EC_POINT, which PKCS#11 wraps in a DER OCTET STRING
/// (some modules give it bare).
pub(super) fn ec_point(value: &[u8]) -> Option<Vec<u8>> {
    if value.len() == 1 + 2 * P256_SCALAR && value[0] == 0x04 {
        return Some(value.to_vec());
    }
    let octets: der::asn1::OctetStringRef<'_> = der::Decode::from_der(value).ok()?;
    Some(octets.as_bytes().to_vec())
}

/// PKCS#11 ECDSA gives r‖s; CMS wants `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }`.
pub(crate) fn ecdsa_der(raw: &[u8]) -> Result<Vec<u8>, String> {
    if raw.len() != 2 * P256_SCALAR {
        return Err(format!("an ECDSA P-256 signature has 64 bytes, the token gave {}", raw.len()));
    }
    let (r, s) = raw.split_at(P256_SCALAR);
    let integer = |bytes| UintRef::new(bytes).map_err(|e| e.to_string());
    EcdsaSigValue { r: integer(r)?, s: integer(s)? }.to_der().map_err(|e| e.to_string())
}

#[derive(der::Sequence)]
struct EcdsaSigValue<'a> {
    r: UintRef<'a>,
    s: UintRef<'a>,
}

/// SHA-256 of `message` wrapped in a DigestInfo, what CKM_RSA_PKCS signs for PKCS#1 v1.5.
pub(super) fn rsa_digest_info(message: &[u8]) -> Vec<u8> {
    let mut out = SHA256_DIGEST_INFO.to_vec();
    out.extend_from_slice(&Sha256::digest(message));
    out
}

pub(super) fn sha256(message: &[u8]) -> Vec<u8> {
    Sha256::digest(message).to_vec()
}

/// The bytes of a big-endian unsigned integer without leading zeros.
fn unsigned(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

fn bit_length(bytes: &[u8]) -> usize {
    let n = unsigned(bytes);
    n.first().map_or(0, |first| n.len() * 8 - first.leading_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_FIXED_SIGNING};

    #[test]
    fn raw_ecdsa_signatures_become_der_that_verifies() {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.public_key().as_ref().to_vec());
        // several signatures, so that r or s with the top bit set (a 0x00 pad) and without occur
        for i in 0..16u8 {
            let message = [i; 40];
            let raw = key.sign(&rng, &message).unwrap();
            let der = ecdsa_der(raw.as_ref()).unwrap();
            assert_eq!(der[0], 0x30);
            public.verify(&message, &der).unwrap();
        }
    }

    #[test]
    fn integers_are_minimal_and_positive() {
        let mut raw = [0u8; 64];
        raw[31] = 1; // r = 1
        raw[32] = 0x80; // s has its top bit set
        let der = ecdsa_der(&raw).unwrap();
        assert_eq!(&der[..5], &[0x30, 0x26, 0x02, 0x01, 0x01]);
        assert_eq!(&der[5..8], &[0x02, 0x21, 0x00]);
        assert!(ecdsa_der(&raw[..63]).is_err());
    }

    #[test]
    fn ec_points_are_unwrapped_and_rsa_digests_prefixed() {
        let mut point = vec![0x04];
        point.extend([7u8; 64]);
        let mut wrapped = vec![0x04, 0x41];
        wrapped.extend(&point);
        assert_eq!(ec_point(&point), Some(point.clone()));
        assert_eq!(ec_point(&wrapped), Some(point));
        assert_eq!(ec_point(&[0x30, 0x00]), None);
        let info = rsa_digest_info(b"abc");
        assert_eq!(info.len(), 51);
        assert_eq!(&info[19..], &sha256(b"abc")[..]);
        assert_eq!((bit_length(&[0, 0x01, 0xff]), bit_length(&[0x80, 0]), bit_length(&[])), (9, 16, 0));
    }
}
