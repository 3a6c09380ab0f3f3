//! Revocation of the certificates on a signer's path, from OCSP responses, then CRLs (the
//! document's DSS, or given or fetched by the caller), judged at the time the signature is
//! proved to exist.

use super::ocsp::{self, Answer};
use super::Problem;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::time::ASN1Time;

/// What is known of a path's revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every certificate that names a revocation source was found unrevoked by an OCSP
    /// response or a CRL current at the time.
    Good,
    /// A certificate was revoked at or before the time.
    Revoked,
    /// A certificate names an OCSP responder or a CRL, and no usable answer was at hand.
    Unknown,
    /// No certificate on the path names a revocation source, or revocation was not checked.
    NotApplicable,
}

/// Checks every certificate of `path` (leaf first, anchor last) but the anchor against
/// `ocsps` (DER OCSPResponses) and `crls` at time `at`; returns the status and the problems
/// that make the signature invalid.
pub(crate) fn check(path: &[Vec<u8>], ocsps: &[Vec<u8>], crls: &[Vec<u8>], at: chrono::DateTime<chrono::Utc>) -> (Status, Vec<Problem>) {
    let at_secs = at.timestamp();
    let Ok(at) = ASN1Time::from_timestamp(at_secs) else { return (Status::Unknown, Vec::new()) };
    let parsed: Vec<CertificateRevocationList> =
        crls.iter().filter_map(|c| x509_parser::parse_x509_crl(c).ok().map(|(_, crl)| crl)).collect();
    let (mut status, mut problems) = (Status::NotApplicable, Vec::new());
    for pair in path.windows(2) {
        let (Ok((_, cert)), Ok((_, issuer))) =
            (x509_parser::parse_x509_certificate(&pair[0]), x509_parser::parse_x509_certificate(&pair[1]))
        else {
            continue;
        };
        let answers: Vec<Answer> = ocsps.iter().filter_map(|r| ocsp::answer(r, &cert, &issuer).ok()).collect();
        // An authentic revocation from either source stands; OCSP is asked first.
        let ocsp_revoked = answers.iter().find_map(|a| a.revoked_by(at_secs));
        if let Some(when) = ocsp_revoked {
            let when = chrono::DateTime::from_timestamp(when, 0).map_or_else(|| when.to_string(), |t| t.to_rfc3339());
            problems.push(Problem::new("certificate_revoked", format!("{} was revoked on {when} (OCSP)", cert.subject())));
            status = Status::Revoked;
            continue;
        }
        let ocsp_good = answers.iter().any(|a| a.good_at(at_secs));
        let issued: Vec<&CertificateRevocationList> = parsed
            .iter()
            .filter(|crl| crl.issuer().as_raw() == issuer.subject().as_raw() && crl.verify_signature(issuer.public_key()).is_ok())
            .collect();
        // Any CRL of the issuer that lists the certificate proves its revocation; only a
        // current one proves it good.
        let covering: Vec<&&CertificateRevocationList> = issued.iter().filter(|crl| current_at(crl, at)).collect();
        if let Some(when) = issued.iter().find_map(|crl| revoked(crl, &cert)) {
            if when <= at {
                problems.push(Problem::new("certificate_revoked", format!("{} was revoked on {when} (CRL)", cert.subject())));
                status = Status::Revoked;
                continue;
            }
        }
        if ocsp_good || !covering.is_empty() {
            if status == Status::NotApplicable {
                status = Status::Good;
            }
        } else if names_crl(&cert) || !ocsp::responder_urls(&cert).is_empty() {
            problems.push(Problem::new(
                "revocation_unknown",
                format!("no OCSP response or CRL current at the signing time for {} (from the document, given or fetched)", cert.subject()),
            ));
            if status != Status::Revoked {
                status = Status::Unknown;
            }
        }
    }
    (status, problems)
}

/// A CRL tells the status at `at` when it was issued by then and not yet superseded, or
/// when it was issued after `at` (a later CRL still lists earlier revocations).
fn current_at(crl: &CertificateRevocationList, at: ASN1Time) -> bool {
    crl.last_update() >= at || crl.next_update().is_none_or(|next| next >= at)
}

/// When `cert` was revoked, if `crl` lists it.
fn revoked(crl: &CertificateRevocationList, cert: &X509Certificate) -> Option<ASN1Time> {
    crl.iter_revoked_certificates().find(|r| r.raw_serial() == cert.raw_serial()).map(|r| r.revocation_date)
}

/// Whether the certificate names a CRL distribution point.
fn names_crl(cert: &X509Certificate) -> bool {
    cert.extensions().iter().any(|e| matches!(e.parsed_extension(), ParsedExtension::CRLDistributionPoints(_)))
}
