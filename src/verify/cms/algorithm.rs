//! Verifies a SignerInfo's signature with the signer's key: RSA PKCS#1 v1.5 and ECDSA on
//! P-256 and P-384 with ring, RSASSA-PSS with the `rsa` crate (ring knows only a salt as long
//! as the hash; pyHanko writes the longest salt), all with SHA-256, -384 or -512. Anything
//! else is reported as unsupported, named in words.

use super::super::Problem;
use crate::sign::oid;
use cms::signed_data::SignerInfo;
use der::asn1::ObjectIdentifier;
use der::{Decode, Sequence};
use ring::signature as sig;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// RSA moduli verified, as ring's `RSA_PKCS1_2048_8192_*` take them.
const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 8192;

/// How a signature is checked.
enum Verifier {
    Ring(&'static dyn sig::VerificationAlgorithm),
    Pss { hash: Hash, salt: usize },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(alg: &ObjectIdentifier) -> Option<Hash> {
        match *alg {
            oid::SHA256 => Some(Hash::Sha256),
            oid::SHA384 => Some(Hash::Sha384),
            oid::SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }
}

/// RFC 4055 `RSASSA-PSS-params`; absent fields take their SHA-1 defaults.
#[derive(Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

fn unsupported(what: String) -> Problem {
    Problem::new("unsupported_algorithm", what)
}

/// Verifies `si`'s signature over `message` with the key in `spki_der` (a DER
/// SubjectPublicKeyInfo).
pub(super) fn verify(si: &SignerInfo, spki_der: &[u8], message: &[u8]) -> Result<(), Problem> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der).map_err(|e| Problem::new("certificate_malformed", e.to_string()))?;
    let key = spki.subject_public_key.as_bytes().ok_or_else(|| Problem::new("certificate_malformed", "public key is not whole bytes"))?;
    let valid = match for_signer(si, &spki)? {
        Verifier::Ring(alg) => sig::UnparsedPublicKey::new(alg, key).verify(message, si.signature.as_bytes()).is_ok(),
        Verifier::Pss { hash, salt } => verify_pss(key, hash, salt, message, si.signature.as_bytes())?,
    };
    if !valid {
        return Err(Problem::new("signature_invalid", "the CMS signature does not verify with the signer's certificate"));
    }
    Ok(())
}

/// Verifies `si`'s signature over content whose digest (with the SignerInfo's digest
/// algorithm) is `digest`: a SignerInfo without signed attributes signs the content itself.
/// RSA only; ECDSA over a digest computed elsewhere is not something ring offers.
pub(super) fn verify_digest(si: &SignerInfo, spki_der: &[u8], digest: &[u8]) -> Result<(), Problem> {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der).map_err(|e| Problem::new("certificate_malformed", e.to_string()))?;
    let key = spki.subject_public_key.as_bytes().ok_or_else(|| Problem::new("certificate_malformed", "public key is not whole bytes"))?;
    let hash =
        Hash::from_oid(&si.digest_alg.oid).ok_or_else(|| unsupported(format!("digest algorithm {}", oid::describe(&si.digest_alg.oid))))?;
    let valid = match for_signer(si, &spki)? {
        Verifier::Pss { hash, salt } => {
            let key = rsa_key(key)?;
            match hash {
                Hash::Sha256 => key.verify(rsa::Pss::new_with_salt::<sha2::Sha256>(salt), digest, si.signature.as_bytes()),
                Hash::Sha384 => key.verify(rsa::Pss::new_with_salt::<sha2::Sha384>(salt), digest, si.signature.as_bytes()),
                Hash::Sha512 => key.verify(rsa::Pss::new_with_salt::<sha2::Sha512>(salt), digest, si.signature.as_bytes()),
            }
            .is_ok()
        }
        Verifier::Ring(_) if spki.algorithm.oid == oid::RSA_ENCRYPTION => {
            let key = rsa_key(key)?;
            // The DER DigestInfo prefix of each hash (RFC 8017 §9.2, note 1).
            let (len, prefix): (usize, &[u8]) = match hash {
                Hash::Sha256 => (
                    32,
                    &[0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20],
                ),
                Hash::Sha384 => (
                    48,
                    &[0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30],
                ),
                Hash::Sha512 => (
                    64,
                    &[0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40],
                ),
            };
            let scheme = rsa::Pkcs1v15Sign { hash_len: Some(len), prefix: prefix.into() };
            key.verify(scheme, digest, si.signature.as_bytes()).is_ok()
        }
        Verifier::Ring(_) => return Err(unsupported("an ECDSA signature without signed attributes".into())),
    };
    if !valid {
        return Err(Problem::new("signature_invalid", "the CMS signature does not verify with the signer's certificate"));
    }
    Ok(())
}

/// An RSA public key (PKCS #1 DER) for the `rsa` crate.
fn rsa_key(key: &[u8]) -> Result<rsa::RsaPublicKey, Problem> {
    let key = RsaPublicKey::from_der(key).map_err(|e| Problem::new("certificate_malformed", format!("RSA public key: {e}")))?;
    let n = rsa::BigUint::from_bytes_be(key.modulus.as_bytes());
    let e = rsa::BigUint::from_bytes_be(key.exponent.as_bytes());
    rsa::RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS)
        .map_err(|e| Problem::new("certificate_malformed", format!("RSA public key: {e}")))
}

fn for_signer(si: &SignerInfo, spki: &SubjectPublicKeyInfoOwned) -> Result<Verifier, Problem> {
    let key = &spki.algorithm.oid;
    let sig_alg = &si.signature_algorithm;
    let rsa_key = *key == oid::RSA_ENCRYPTION || *key == oid::RSASSA_PSS;
    let ec_key = *key == oid::EC_PUBLIC_KEY;
    let rsa_sig = sig_alg.oid.as_bytes().starts_with(PKCS1_ARC);
    let ec_sig = sig_alg.oid == oid::ECDSA_WITH_SHA1 || sig_alg.oid.as_bytes().starts_with(ECDSA_ARC);
    if (rsa_sig && ec_key) || (ec_sig && rsa_key) {
        // A known algorithm that does not fit the certificate's key cannot verify: another
        // certificate was put in place of the one that signed.
        return Err(Problem::new(
            "signature_invalid",
            format!("signature algorithm {} does not fit the certificate's {} key", oid::describe(&sig_alg.oid), oid::describe(key)),
        ));
    }
    if rsa_key && rsa_sig {
        rsa_public_key(spki)?;
        return rsa(si, sig_alg);
    }
    if ec_key && ec_sig {
        let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        return ecdsa(&sig_alg.oid, curve).map(Verifier::Ring);
    }
    Err(unsupported(format!("signature algorithm {} with a {} key", oid::describe(&sig_alg.oid), oid::describe(key))))
}

/// PKCS #1 (1.2.840.113549.1.1), the arc of the RSA signature algorithms.
const PKCS1_ARC: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
/// `ecdsa-with-SHA2` (1.2.840.10045.4.3), the arc of ECDSA with SHA-224 to SHA-512.
const ECDSA_ARC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03];

fn rsa(si: &SignerInfo, sig_alg: &AlgorithmIdentifierOwned) -> Result<Verifier, Problem> {
    let hash = match sig_alg.oid {
        // Plain rsaEncryption takes its hash from the digest algorithm.
        oid::RSA_ENCRYPTION => Hash::from_oid(&si.digest_alg.oid)
            .ok_or_else(|| unsupported(format!("RSA signature with digest algorithm {}", oid::describe(&si.digest_alg.oid))))?,
        oid::SHA256_WITH_RSA => Hash::Sha256,
        oid::SHA384_WITH_RSA => Hash::Sha384,
        oid::SHA512_WITH_RSA => Hash::Sha512,
        oid::RSASSA_PSS => return pss(sig_alg),
        other => return Err(unsupported(format!("signature algorithm {}", oid::describe(&other)))),
    };
    Ok(Verifier::Ring(match hash {
        Hash::Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
        Hash::Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
        Hash::Sha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
    }))
}

/// PSS with MGF1 over the message hash, any salt length and the usual trailer; other
/// parameters are reported, not guessed.
fn pss(sig_alg: &AlgorithmIdentifierOwned) -> Result<Verifier, Problem> {
    let params: PssParams = sig_alg
        .parameters
        .as_ref()
        .ok_or_else(|| Problem::new("cms_malformed", "RSASSA-PSS without parameters"))?
        .decode_as()
        .map_err(|e| Problem::new("cms_malformed", format!("RSASSA-PSS parameters: {e}")))?;
    let hash_oid = params.hash.as_ref().map_or(oid::SHA1, |h| h.oid);
    let mgf_hash = match &params.mask_gen {
        None => oid::SHA1,
        Some(m) if m.oid == oid::MGF1 => {
            m.parameters.as_ref().and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok()).map_or(oid::SHA1, |h| h.oid)
        }
        Some(m) => return Err(unsupported(format!("RSASSA-PSS with mask generation {}", oid::describe(&m.oid)))),
    };
    let salt = params.salt_length.unwrap_or(20);
    let trailer = params.trailer_field.unwrap_or(1);
    let described = || {
        format!(
            "RSASSA-PSS with hash {}, MGF1 with {}, salt of {salt} bytes, trailer {trailer}",
            oid::describe(&hash_oid),
            oid::describe(&mgf_hash)
        )
    };
    let hash = Hash::from_oid(&hash_oid).filter(|_| mgf_hash == hash_oid && trailer == 1).ok_or_else(|| unsupported(described()))?;
    Ok(Verifier::Pss { hash, salt: salt as usize })
}

/// Returns whether `signature` is a valid PSS signature of `message`; the `rsa` crate
/// checks the salt length it is given against the one in the signature.
fn verify_pss(key: &[u8], hash: Hash, salt: usize, message: &[u8], signature: &[u8]) -> Result<bool, Problem> {
    use sha2::Digest;
    let key = rsa_key(key)?;
    let (scheme, hashed) = match hash {
        Hash::Sha256 => (rsa::Pss::new_with_salt::<sha2::Sha256>(salt), sha2::Sha256::digest(message).to_vec()),
        Hash::Sha384 => (rsa::Pss::new_with_salt::<sha2::Sha384>(salt), sha2::Sha384::digest(message).to_vec()),
        Hash::Sha512 => (rsa::Pss::new_with_salt::<sha2::Sha512>(salt), sha2::Sha512::digest(message).to_vec()),
    };
    Ok(key.verify(scheme, &hashed, signature).is_ok())
}

fn ecdsa(sig_oid: &ObjectIdentifier, curve: Option<ObjectIdentifier>) -> Result<&'static dyn sig::VerificationAlgorithm, Problem> {
    let hash = match *sig_oid {
        oid::ECDSA_WITH_SHA256 => Some(Hash::Sha256),
        oid::ECDSA_WITH_SHA384 => Some(Hash::Sha384),
        _ => None,
    };
    Ok(match (curve, hash) {
        (Some(oid::P256), Some(Hash::Sha256)) => &sig::ECDSA_P256_SHA256_ASN1,
        (Some(oid::P256), Some(Hash::Sha384)) => &sig::ECDSA_P256_SHA384_ASN1,
        (Some(oid::P384), Some(Hash::Sha256)) => &sig::ECDSA_P384_SHA256_ASN1,
        (Some(oid::P384), Some(Hash::Sha384)) => &sig::ECDSA_P384_SHA384_ASN1,
        _ => {
            let curve = curve.map_or_else(|| "unnamed curve".to_string(), |c| oid::describe(&c));
            return Err(unsupported(format!("signature algorithm {} on {curve}", oid::describe(sig_oid))));
        }
    })
}

/// PKCS #1 `RSAPublicKey`.
#[derive(Sequence)]
struct RsaPublicKey<'a> {
    modulus: der::asn1::UintRef<'a>,
    exponent: der::asn1::UintRef<'a>,
}

/// Reads the key; ring refuses RSA keys under 2048 bits, so say that rather than call the
/// signature invalid.
fn rsa_public_key(spki: &SubjectPublicKeyInfoOwned) -> Result<(), Problem> {
    let key = spki.subject_public_key.as_bytes().and_then(|k| RsaPublicKey::from_der(k).ok());
    let Some(key) = key else {
        return Err(Problem::new("certificate_malformed", "the signer's RSA public key does not parse"));
    };
    let m = key.modulus.as_bytes();
    let bits = m.first().map_or(0, |top| (m.len() - 1) * 8 + (8 - top.leading_zeros() as usize));
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(unsupported(format!("RSA key of {bits} bits (verified: {MIN_RSA_BITS} to {MAX_RSA_BITS})")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::{self, identity, Kind, Spec};
    use super::*;
    use der::{Any, Encode};

    const CONTENT: &[u8] = b"signed bytes";

    fn pss_params(hash: ObjectIdentifier, mgf_hash: ObjectIdentifier, salt: u32) -> Any {
        let alg = |oid| AlgorithmIdentifierOwned { oid, parameters: Some(Any::null()) };
        let mgf = AlgorithmIdentifierOwned { oid: oid::MGF1, parameters: Some(Any::encode_from(&alg(mgf_hash)).unwrap()) };
        let params = PssParams { hash: Some(alg(hash)), mask_gen: Some(mgf), salt_length: Some(salt), trailer_field: None };
        Any::from_der(&params.to_der().unwrap()).unwrap()
    }

    fn verify(spec: &Spec) -> Result<(), Problem> {
        let id = identity(Kind::Rsa, false);
        let cms = testkit::signed_data(id, spec, CONTENT);
        let parsed = super::super::parse(&cms).unwrap();
        let si = parsed.signer_info().unwrap();
        super::super::verify_raw(si, &id.cert, &si.signed_attrs.as_ref().unwrap().to_der().unwrap())
    }

    #[test]
    fn rsa_pss_with_the_usual_parameters_verifies() {
        let id = identity(Kind::Rsa, false);
        for (hash, salt, encoding) in [(oid::SHA256, 32, &sig::RSA_PSS_SHA256), (oid::SHA512, 64, &sig::RSA_PSS_SHA512)] {
            let signature = AlgorithmIdentifierOwned { oid: oid::RSASSA_PSS, parameters: Some(pss_params(hash, hash, salt)) };
            assert_eq!(verify(&Spec { signature, rsa: encoding, ..Spec::rsa_sha256(id) }), Ok(()));
        }
    }

    #[test]
    fn rsa_pss_with_the_wrong_salt_length_is_invalid() {
        let id = identity(Kind::Rsa, false);
        let signature = AlgorithmIdentifierOwned { oid: oid::RSASSA_PSS, parameters: Some(pss_params(oid::SHA256, oid::SHA256, 20)) };
        let err = verify(&Spec { signature, rsa: &sig::RSA_PSS_SHA256, ..Spec::rsa_sha256(id) }).unwrap_err();
        assert_eq!(err.code, "signature_invalid");
    }

    #[test]
    fn rsa_pss_with_other_parameters_is_unsupported_and_says_which() {
        let id = identity(Kind::Rsa, false);
        let signature = AlgorithmIdentifierOwned { oid: oid::RSASSA_PSS, parameters: Some(pss_params(oid::SHA256, oid::SHA1, 32)) };
        let err = verify(&Spec { signature, rsa: &sig::RSA_PSS_SHA256, ..Spec::rsa_sha256(id) }).unwrap_err();
        assert_eq!(err.code, "unsupported_algorithm");
        assert!(err.detail.starts_with("RSASSA-PSS with hash SHA-256") && err.detail.contains("MGF1 with SHA-1"), "{}", err.detail);
    }
}
