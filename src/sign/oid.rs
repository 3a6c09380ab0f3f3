//! Object identifiers used in CMS, PAdES and RFC 3161, in one place.

use der::asn1::ObjectIdentifier as Oid;

pub const DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
pub const SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
pub const SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
pub const SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
pub const SIGNATURE_TIME_STAMP: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.14");
pub const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
pub const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
pub const KP_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
/// The demo TSA's policy (the example policy of OpenSSL's `ts` configuration); demo only.
pub const DEMO_TSA_POLICY: Oid = Oid::new_unwrap("1.2.3.4.1");
pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
pub const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
pub const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
pub const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
pub const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
pub const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
pub const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
pub const P521: Oid = Oid::new_unwrap("1.3.132.0.35");
pub const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
pub const ED448: Oid = Oid::new_unwrap("1.3.101.113");
pub const DSA_WITH_SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.3.2");
/// Authority Information Access extension (RFC 5280 §4.2.2.1) and its OCSP access method.
pub const AUTHORITY_INFO_ACCESS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");
pub const AD_OCSP: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1");
/// RFC 6960: the basic response type, the nonce extension, a delegated responder's usage.
pub const OCSP_BASIC: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.1");
pub const OCSP_NONCE: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1.2");
pub const KP_OCSP_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.9");

/// The algorithm in words with its number, for messages: "SHA-1 with RSA (1.2.840.113549.1.1.5)".
pub fn describe(oid: &Oid) -> String {
    let words = match *oid {
        SHA1 => "SHA-1",
        SHA256 => "SHA-256",
        SHA384 => "SHA-384",
        SHA512 => "SHA-512",
        RSA_ENCRYPTION => "RSA",
        SHA1_WITH_RSA => "SHA-1 with RSA",
        SHA256_WITH_RSA => "SHA-256 with RSA",
        SHA384_WITH_RSA => "SHA-384 with RSA",
        SHA512_WITH_RSA => "SHA-512 with RSA",
        RSASSA_PSS => "RSASSA-PSS",
        MGF1 => "MGF1",
        EC_PUBLIC_KEY => "EC public key",
        ECDSA_WITH_SHA1 => "ECDSA with SHA-1",
        ECDSA_WITH_SHA256 => "ECDSA with SHA-256",
        ECDSA_WITH_SHA384 => "ECDSA with SHA-384",
        ECDSA_WITH_SHA512 => "ECDSA with SHA-512",
        P256 => "curve P-256",
        P384 => "curve P-384",
        P521 => "curve P-521",
        ED25519 => "Ed25519",
        ED448 => "Ed448",
        DSA_WITH_SHA256 => "DSA with SHA-256",
        _ => return oid.to_string(),
    };
    format!("{words} ({oid})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_are_described_in_words() {
        assert_eq!(describe(&RSASSA_PSS), "RSASSA-PSS (1.2.840.113549.1.1.10)");
        assert_eq!(describe(&Oid::new_unwrap("1.2.3.4")), "1.2.3.4");
    }
}
