//! Long-term signatures (PAdES B-LT and B-LTA, ETSI EN 319 142-1 §5.4, §5.5): the validation
//! data every signature of a PDF needs (certificates, OCSP responses and CRLs) added in a DSS
//! update, then a document time-stamp over the whole file, each an incremental update.

use super::{tsa, SignError};
use crate::pdf::{self, dss::Dss, FieldSpec, PdfFile};
use std::io::{Cursor, Read, Seek, Write};
use std::path::Path;
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};

/// Room for a document time-stamp token (the TSA's signature and certificate chain).
const DOC_TIMESTAMP_ROOM: usize = 24 * 1024;
/// Largest CRL fetched.
const MAX_CRL_BYTES: usize = 16 << 20;
/// How long a CRL server may take to answer.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Where revocation data comes from: CRLs at hand, and whether to fetch the others from the
/// certificates' OCSP responders, then their CRL distribution points.
#[derive(Default)]
pub struct Revocation {
    pub crls: Vec<Vec<u8>>,
    pub fetch: bool,
}

/// Appends to the PDF at `path` a DSS update with the validation data of every signature in
/// it and, with `tsa_url`, a document time-stamp (B-LTA). The file only grows.
pub async fn extend_file(path: &Path, revocation: &Revocation, tsa_url: Option<&str>) -> Result<(), SignError> {
    let appended = dss_update(|| open(path), revocation).await?;
    append(path, &appended)?;
    if let Some(url) = tsa_url {
        let appended = timestamp_update(open(path)?, url).await?;
        append(path, &appended)?;
    }
    Ok(())
}

/// [`extend_file`] for a PDF in memory.
pub async fn extend_bytes(mut pdf: Vec<u8>, revocation: &Revocation, tsa_url: Option<&str>) -> Result<Vec<u8>, SignError> {
    let appended = dss_update(|| Ok(Cursor::new(pdf.as_slice())), revocation).await?;
    pdf.extend_from_slice(&appended);
    if let Some(url) = tsa_url {
        let appended = timestamp_update(Cursor::new(pdf.as_slice()), url).await?;
        pdf.extend_from_slice(&appended);
    }
    Ok(pdf)
}

/// The DSS update for the PDF that `open` reads (it is read twice: for the certificates,
/// then to append).
async fn dss_update<R: Read + Seek>(open: impl Fn() -> Result<R, SignError>, revocation: &Revocation) -> Result<Vec<u8>, SignError> {
    let certs = {
        let file = PdfFile::open(open()?)?;
        crate::verify::embedded_certificates(&file.latest()?)
    };
    let dss = validation_data(&certs, revocation).await?;
    Ok(pdf::dss::append(open()?, &dss)?)
}

/// The certificates, and for every certificate whose issuer is among them an OCSP response
/// from the responder it names, or else its issuer's CRL.
pub async fn validation_data(certs: &[Vec<u8>], revocation: &Revocation) -> Result<Dss, SignError> {
    let mut dss = Dss { certs: certs.to_vec(), ..Default::default() };
    for der in certs {
        let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| SignError::Certificate(e.to_string()))?;
        if cert.subject().as_raw() == cert.issuer().as_raw() {
            continue;
        }
        let Some(issuer) = certs.iter().find_map(|c| issuer_of(&cert, c)) else { continue };
        if let Some(crl) = revocation.crls.iter().find(|crl| crl_by(crl, &issuer)) {
            dss.crls.push(crl.clone());
            continue;
        }
        if revocation.fetch {
            if let Ok((_, issuer_cert)) = x509_parser::parse_x509_certificate(&issuer) {
                if let Some(response) = super::ocsp::fetch_status(&cert, &issuer_cert).await {
                    if !dss.ocsps.contains(&response) {
                        dss.ocsps.push(response);
                    }
                    continue;
                }
            }
        }
        let urls = crl_urls(&cert);
        if urls.is_empty() {
            if !crate::verify::ocsp::responder_urls(&cert).is_empty() {
                return Err(SignError::Revocation(format!(
                    "no revocation data for {}: its OCSP responder was not asked or did not answer",
                    cert.subject()
                )));
            }
            // Nothing names where its status is published: there is nothing to add, and
            // nothing a verifier could ask for either.
            continue;
        }
        let mut found = None;
        if revocation.fetch {
            for url in &urls {
                match fetch(url).await {
                    Ok(crl) if crl_by(&crl, &issuer) => {
                        found = Some(crl);
                        break;
                    }
                    Ok(_) => tracing::warn!(url = %url, "crl not issued by the certificate's issuer"),
                    Err(e) => tracing::warn!(url = %url, error = %e, "crl fetch failed"),
                }
            }
        }
        let crl = found
            .ok_or_else(|| SignError::Revocation(format!("no revocation data for {}: its CRL could not be fetched", cert.subject())))?;
        if !dss.crls.contains(&crl) {
            dss.crls.push(crl);
        }
    }
    Ok(dss)
}

/// Revocation data fetched for the certificates in `certs` that `have` (the document's DSS
/// and what the caller gave) does not cover: an OCSP response from the responder a
/// certificate names, else its issuer's CRL. A server that fails is passed over (the
/// verifier then reports the revocation as unknown).
pub async fn fetch_missing(certs: &[Vec<u8>], have: &Dss) -> Dss {
    let issuers: Vec<Vec<u8>> =
        have.crls.iter().filter_map(|c| x509_parser::parse_x509_crl(c).ok().map(|(_, crl)| crl.issuer().as_raw().to_vec())).collect();
    let mut out = Dss::default();
    let mut tried: Vec<String> = Vec::new();
    for der in certs {
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else { continue };
        if cert.subject().as_raw() == cert.issuer().as_raw() || issuers.iter().any(|i| i == cert.issuer().as_raw()) {
            continue;
        }
        let issuer = certs.iter().find_map(|c| issuer_of(&cert, c));
        if let Some(Ok((_, issuer))) = issuer.as_deref().map(x509_parser::parse_x509_certificate) {
            if have.ocsps.iter().any(|r| crate::verify::ocsp::answer(r, &cert, &issuer).is_ok()) {
                continue;
            }
            if let Some(response) = super::ocsp::fetch_status(&cert, &issuer).await {
                out.ocsps.push(response);
                continue;
            }
        }
        for url in crl_urls(&cert) {
            if tried.contains(&url) {
                continue;
            }
            tried.push(url.clone());
            match fetch(&url).await {
                Ok(crl) => out.crls.push(crl),
                Err(e) => tracing::warn!(url = %url, error = %e, "crl fetch failed"),
            }
        }
    }
    out
}

/// The document time-stamp revision for the PDF in `source`, to append to it.
pub async fn timestamp_update<R: Read + Seek>(source: R, tsa_url: &str) -> Result<Vec<u8>, SignError> {
    let spec = FieldSpec {
        page: 1,
        appearance: None,
        reason: None,
        location: None,
        name: None,
        signing_time: chrono::Utc::now().with_timezone(&crate::domain::vietnam_offset()),
        contents_room: DOC_TIMESTAMP_ROOM,
        certify: None,
        doc_timestamp: true,
    };
    let prepared = pdf::prepare(source, spec)?;
    let token = tsa::request_timestamp_digest(tsa_url, &prepared.digest()).await?;
    Ok(prepared.finish(&token)?)
}

/// The DER of `candidate` if it issued `cert`.
fn issuer_of(cert: &X509Certificate, candidate: &[u8]) -> Option<Vec<u8>> {
    let (_, c) = x509_parser::parse_x509_certificate(candidate).ok()?;
    (c.subject().as_raw() == cert.issuer().as_raw() && cert.verify_signature(Some(c.public_key())).is_ok()).then(|| candidate.to_vec())
}

/// Whether `crl` (DER) is signed by the certificate `issuer`.
fn crl_by(crl: &[u8], issuer: &[u8]) -> bool {
    let (Ok((_, crl)), Ok((_, issuer))) = (x509_parser::parse_x509_crl(crl), x509_parser::parse_x509_certificate(issuer)) else {
        return false;
    };
    crl.issuer().as_raw() == issuer.subject().as_raw() && crl.verify_signature(issuer.public_key()).is_ok()
}

/// The HTTP URLs of a certificate's CRL distribution points.
pub(crate) fn crl_urls(cert: &X509Certificate) -> Vec<String> {
    let mut urls = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() {
            for point in points.iter() {
                if let Some(DistributionPointName::FullName(names)) = &point.distribution_point {
                    for name in names {
                        if let GeneralName::URI(uri) = name {
                            if uri.starts_with("http://") || uri.starts_with("https://") {
                                urls.push(uri.to_string());
                            }
                        }
                    }
                }
            }
        }
    }
    urls
}

/// GETs a CRL (DER, or PEM which is turned into DER).
pub(crate) async fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let client = reqwest::Client::builder().timeout(FETCH_TIMEOUT).build().map_err(|e| e.to_string())?;
    let body = bounded_body(client.get(url), MAX_CRL_BYTES, "CRL").await?;
    match pem_crl(&body) {
        Some(der) => Ok(der),
        None => Ok(body.to_vec()),
    }
}

/// Sends `request` and returns its body, refusing a failed status and a body over `max`.
pub(crate) async fn bounded_body(request: reqwest::RequestBuilder, max: usize, what: &str) -> Result<Vec<u8>, String> {
    let resp = request.send().await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("HTTP {}", resp.status()));
    }
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(format!("{what} too large"));
    }
    let body = resp.bytes().await.map_err(|e| e.to_string())?;
    if body.len() > max {
        return Err(format!("{what} too large"));
    }
    Ok(body.to_vec())
}

/// The DER inside a PEM `X509 CRL` block, if `bytes` is one.
pub fn pem_crl(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let (label, der) = der::pem::decode_vec(text.trim().as_bytes()).ok()?;
    (label == "X509 CRL").then_some(der)
}

fn open(path: &Path) -> Result<std::fs::File, SignError> {
    std::fs::File::open(path).map_err(|e| SignError::Read { path: path.display().to_string(), source: e })
}

fn append(path: &Path, bytes: &[u8]) -> Result<(), SignError> {
    let mut f = std::fs::OpenOptions::new().append(true).open(path).map_err(SignError::Output)?;
    f.write_all(bytes).map_err(SignError::Output)?;
    f.sync_all().map_err(SignError::Output)
}
