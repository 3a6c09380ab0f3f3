//! Certificate path to a trust anchor, checked with x509-parser: signatures, validity at a
//! time, basic constraints and key usage.

use super::Problem;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::time::ASN1Time;

/// Longest path followed from the end-entity to an anchor.
const MAX_DEPTH: usize = 8;
const OID_EKU: &str = "2.5.29.37";
const OID_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";

/// What the end-entity certificate is used for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Usage {
    /// Document signatures: digitalSignature or nonRepudiation.
    Signing,
    /// RFC 3161 tokens: critical extended key usage timeStamping only.
    TimeStamping,
}

/// Builds and checks the path from `leaf` to one of `anchors`, using `pool` for
/// intermediates; returns the subjects from the leaf up, and the problems found.
pub(crate) fn validate(
    leaf: &[u8],
    pool: &[Vec<u8>],
    anchors: &[Vec<u8>],
    at: chrono::DateTime<chrono::Utc>,
    usage: Usage,
) -> (Vec<String>, Vec<Problem>) {
    let checked = validate_path(leaf, pool, anchors, at, usage);
    (checked.subjects, checked.problems)
}

/// A checked certificate path.
pub(crate) struct Checked {
    /// Subjects from the leaf up.
    pub subjects: Vec<String>,
    /// DER of each certificate of the path, from the leaf up (the anchor last when reached).
    pub certs: Vec<Vec<u8>>,
    pub problems: Vec<Problem>,
}

/// [`validate`], with the certificates of the path.
pub(crate) fn validate_path(
    leaf: &[u8],
    pool: &[Vec<u8>],
    anchors: &[Vec<u8>],
    at: chrono::DateTime<chrono::Utc>,
    usage: Usage,
) -> Checked {
    let mut problems = Vec::new();
    let mut path = Vec::new();
    let mut certs: Vec<Vec<u8>> = Vec::new();
    let Ok((_, leaf_cert)) = x509_parser::parse_x509_certificate(leaf) else {
        return Checked {
            subjects: path,
            certs,
            problems: vec![Problem::new("certificate_malformed", "the signer's certificate does not parse")],
        };
    };
    let Ok(at) = ASN1Time::from_timestamp(at.timestamp()) else {
        return Checked { subjects: path, certs, problems: vec![Problem::new("internal", "validation time out of range")] };
    };
    check_leaf(&leaf_cert, usage, &mut problems);
    let mut current_der = leaf.to_vec();
    for depth in 0..MAX_DEPTH {
        let Ok((_, current)) = x509_parser::parse_x509_certificate(&current_der) else { break };
        path.push(current.subject().to_string());
        certs.push(current_der.clone());
        check_validity(&current, at, &mut problems);
        if anchors.iter().any(|a| a == &current_der) {
            return Checked { subjects: path, certs, problems };
        }
        let issuer = anchors.iter().chain(pool.iter()).find(|cand| {
            x509_parser::parse_x509_certificate(cand)
                .map(|(_, c)| c.subject().as_raw() == current.issuer().as_raw() && current.verify_signature(Some(c.public_key())).is_ok())
                .unwrap_or(false)
        });
        let Some(issuer_der) = issuer else {
            let code = if current.subject().as_raw() == current.issuer().as_raw() { "untrusted_root" } else { "chain_incomplete" };
            problems.push(Problem::new(code, format!("no trusted issuer for {}", current.subject())));
            return Checked { subjects: path, certs, problems };
        };
        if issuer_der == &current_der {
            // A self-signed certificate that is not an anchor ends the path untrusted.
            problems.push(Problem::new("untrusted_root", format!("{} is self-signed and not a trust anchor", current.subject())));
            return Checked { subjects: path, certs, problems };
        }
        if let Ok((_, issuer_cert)) = x509_parser::parse_x509_certificate(issuer_der) {
            check_issuer(&issuer_cert, depth, &mut problems);
        }
        current_der = issuer_der.clone();
    }
    problems.push(Problem::new("chain_incomplete", "certificate path too long"));
    Checked { subjects: path, certs, problems }
}

fn check_validity(cert: &X509Certificate, at: ASN1Time, problems: &mut Vec<Problem>) {
    let v = cert.validity();
    if at < v.not_before {
        problems.push(Problem::new("certificate_not_yet_valid", format!("{} is valid only from {}", cert.subject(), v.not_before)));
    } else if at > v.not_after {
        problems.push(Problem::new("certificate_expired", format!("{} expired on {}", cert.subject(), v.not_after)));
    }
}

fn check_leaf(cert: &X509Certificate, usage: Usage, problems: &mut Vec<Problem>) {
    if let Ok(Some(ku)) = cert.key_usage() {
        if !(ku.value.digital_signature() || ku.value.non_repudiation()) {
            problems.push(Problem::new("key_usage", format!("{} may not sign (key usage {})", cert.subject(), ku.value)));
        }
    }
    if usage == Usage::TimeStamping {
        let eku = cert.extensions().iter().find(|e| e.oid.to_id_string() == OID_EKU);
        let ok = eku.is_some_and(|e| {
            e.critical
                && match e.parsed_extension() {
                    ParsedExtension::ExtendedKeyUsage(k) => k.time_stamping && k.other.is_empty() && !k.any,
                    _ => false,
                }
        });
        if !ok {
            problems.push(Problem::new(
                "tsa_key_usage",
                format!("{} lacks the critical extended key usage {OID_TIME_STAMPING}", cert.subject()),
            ));
        }
    }
}

fn check_issuer(cert: &X509Certificate, below: usize, problems: &mut Vec<Problem>) {
    match cert.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => {
            if let Some(len) = bc.value.path_len_constraint {
                // `below` counts the intermediate CAs between this issuer and the leaf.
                if (below as u32) > len {
                    problems.push(Problem::new("ca_constraint", format!("path length constraint of {} exceeded", cert.subject())));
                }
            }
        }
        // Version 1 roots carry no extensions; they are trusted only as anchors.
        Ok(None) if cert.version().0 == 0 => {}
        _ => problems.push(Problem::new("ca_constraint", format!("{} is not a CA certificate", cert.subject()))),
    }
    if let Ok(Some(ku)) = cert.key_usage() {
        if !ku.value.key_cert_sign() {
            problems.push(Problem::new("key_usage", format!("{} may not sign certificates", cert.subject())));
        }
    }
}
