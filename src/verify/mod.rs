//! Verification of every signature in a PDF: byte ranges, digest, CMS signature, chain to
//! the trust anchors, key usage, validity at the signing or time-stamp time, the time-stamp
//! token, and what was appended afterwards.

mod chain;
mod cms;
mod diff;
mod timestamp;

pub use diff::Change;

use crate::pdf::{self, PdfError, PdfFile, Revision, SignatureEntry};
use serde::Serialize;
use std::io::{Cursor, Read, Seek};

/// Why verification could not even start (exit status 2 on the command line).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error("no trust anchor could be read from {0}")]
    NoTrustAnchors(String),
}

impl VerifyError {
    pub fn code(&self) -> &'static str {
        match self {
            VerifyError::Pdf(e) => e.code(),
            VerifyError::NoTrustAnchors(_) => "no_trust_anchors",
        }
    }
}

/// One reason a signature is not valid, with a stable code.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub code: &'static str,
    pub detail: String,
}

impl Problem {
    pub(crate) fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Problem { code, detail: detail.into() }
    }
}

/// The verdict on one signature.
#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    pub field: String,
    pub sub_filter: String,
    pub signer: Option<String>,
    pub chain: Vec<String>,
    /// `/M`, the time the signer claims.
    pub claimed_time: Option<String>,
    /// genTime of a valid signature time-stamp (B-T).
    pub timestamp_time: Option<String>,
    pub level: &'static str,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// Offset where the signed revision ends, and the file's length.
    pub signed_bytes: u64,
    pub file_bytes: u64,
    /// Objects changed by later revisions (new objects are not listed).
    pub changes_after: Vec<Change>,
    pub valid: bool,
    pub problems: Vec<Problem>,
}

/// The verdict on a file: valid only if it has signatures and every one is valid.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub valid: bool,
    pub signatures: Vec<SignatureReport>,
}

/// Verifies `pdf` against the trust anchors (DER certificates) at time `now`.
pub fn verify_pdf(pdf: &[u8], anchors: &[Vec<u8>], now: chrono::DateTime<chrono::Utc>) -> Result<Report, VerifyError> {
    verify_source(Cursor::new(pdf), anchors, now)
}

/// [`verify_pdf`] for a PDF read from `source` (a file): the signature dictionaries are
/// found through the cross-reference chain and the signed ranges hashed streaming.
pub fn verify_source<R: Read + Seek>(source: R, anchors: &[Vec<u8>], now: chrono::DateTime<chrono::Utc>) -> Result<Report, VerifyError> {
    let file = PdfFile::open(source)?;
    let latest = file.latest()?;
    let signatures: Vec<SignatureReport> = pdf::signatures(&latest).iter().map(|e| verify_one(&file, &latest, e, anchors, now)).collect();
    let valid = !signatures.is_empty() && signatures.iter().all(|s| s.valid);
    Ok(Report { valid, signatures })
}

fn verify_one<R: Read + Seek>(
    file: &PdfFile<R>,
    latest: &Revision<R>,
    e: &SignatureEntry,
    anchors: &[Vec<u8>],
    now: chrono::DateTime<chrono::Utc>,
) -> SignatureReport {
    let mut r = SignatureReport {
        field: e.field.clone(),
        sub_filter: e.sub_filter.clone(),
        signer: None,
        chain: Vec::new(),
        claimed_time: e.signing_time.as_deref().and_then(pdf::parse_pdf_date).map(|t| crate::domain::vietnam_time(t.timestamp_millis())),
        timestamp_time: None,
        level: "B-B",
        reason: e.reason.clone(),
        location: e.location.clone(),
        signed_bytes: 0,
        file_bytes: file.len(),
        changes_after: Vec::new(),
        valid: false,
        problems: Vec::new(),
    };
    let ranges = match check_byte_range(file, e) {
        Ok(r) => r,
        Err(p) => {
            r.problems.push(p);
            return r;
        }
    };
    r.signed_bytes = ranges[2] + ranges[3];
    let mut content_digest = |alg: &der::asn1::ObjectIdentifier| digest_ranges(file, &ranges, alg);
    match e.sub_filter.as_str() {
        "ETSI.CAdES.detached" | "adbe.pkcs7.detached" => check_cms(&mut r, &e.contents, &mut content_digest, anchors, now),
        other => r.problems.push(Problem::new("unsupported_sub_filter", format!("/SubFilter /{other}"))),
    }
    if r.signed_bytes < file.len() {
        match file.revision_ending_at(r.signed_bytes) {
            Ok(old) => r.changes_after = diff::changes(&old, latest),
            Err(err) => r.problems.push(Problem::new("revision_unreadable", format!("the signed revision does not parse: {err}"))),
        }
        for c in r.changes_after.iter().filter(|c| !c.allowed) {
            r.problems.push(Problem::new("modified_after_signing", format!("{}: {}", c.object, c.what)));
        }
    }
    r.valid = r.problems.is_empty();
    r
}

/// `[o1 l1 o2 l2]` must cover the revision from byte 0 to its `%%EOF`, leaving out exactly
/// the `/Contents` hex string.
fn check_byte_range<R: Read + Seek>(file: &PdfFile<R>, e: &SignatureEntry) -> Result<[u64; 4], Problem> {
    let br = &e.byte_range;
    if br.len() != 4 || br.iter().any(|v| *v < 0) {
        return Err(Problem::new("byte_range_malformed", format!("/ByteRange {br:?} is not two ranges")));
    }
    let [o1, l1, o2, l2] = [br[0] as u64, br[1] as u64, br[2] as u64, br[3] as u64];
    let end = o2.saturating_add(l2);
    if o1 != 0 || end > file.len() || o2 <= l1 {
        return Err(Problem::new("byte_range_uncovered", format!("/ByteRange {br:?} does not start at 0 or runs past the file")));
    }
    if !pdf::revision_end(file, end) {
        return Err(Problem::new("byte_range_uncovered", format!("/ByteRange {br:?} does not end at the end of a revision")));
    }
    let gap_problem = || Problem::new("byte_range_gap", "the bytes left out are not exactly the /Contents hex string");
    // The gap is `<`, two hex digits per byte of /Contents, and `>`; its length is known
    // before a byte of it is read.
    if o2 - l1 != 2 * e.contents.len() as u64 + 2 {
        return Err(gap_problem());
    }
    let gap = file.read_at(l1, (o2 - l1) as usize, o2).map_err(|err| Problem::new("file_unreadable", err.to_string()))?;
    let hex_ok = gap.len() >= 2 && gap[0] == b'<' && gap[gap.len() - 1] == b'>' && gap[1..gap.len() - 1].iter().all(u8::is_ascii_hexdigit);
    if !hex_ok || hex::decode(&gap[1..gap.len() - 1]).ok().as_deref() != Some(e.contents.as_slice()) {
        return Err(gap_problem());
    }
    Ok([o1, l1, o2, l2])
}

/// The digest of the two signed ranges with `alg`, reading the file a chunk at a time.
fn digest_ranges<R: Read + Seek>(file: &PdfFile<R>, ranges: &[u64; 4], alg: &der::asn1::ObjectIdentifier) -> Result<Vec<u8>, Problem> {
    let mut context = cms::digest_context(alg).ok_or_else(|| cms::unsupported_digest(alg))?;
    for (offset, len) in [(ranges[0], ranges[1]), (ranges[2], ranges[3])] {
        file.for_each_chunk(offset, len, |chunk| context.update(chunk)).map_err(|err| Problem::new("file_unreadable", err.to_string()))?;
    }
    Ok(context.finish().as_ref().to_vec())
}

fn check_cms(
    r: &mut SignatureReport,
    contents: &[u8],
    content_digest: cms::ContentDigest,
    anchors: &[Vec<u8>],
    now: chrono::DateTime<chrono::Utc>,
) {
    let parsed = match cms::parse(contents) {
        Ok(p) => p,
        Err(e) => return r.problems.push(Problem::new("cms_malformed", e)),
    };
    let si = match parsed.signer_info() {
        Ok(si) => si,
        Err(e) => return r.problems.push(Problem::new("cms_malformed", e)),
    };
    let Some(cert) = parsed.signer_certificate(si) else {
        return r.problems.push(Problem::new("signer_certificate_missing", "the CMS does not hold the signer's certificate"));
    };
    r.signer = x509_parser::parse_x509_certificate(cert).ok().map(|(_, c)| c.subject().to_string());
    cms::check_signer(si, cert, content_digest, &mut r.problems);
    let mut at = now;
    if let Some(token) = cms::timestamp_token(si) {
        r.level = "B-T";
        match token
            .map_err(|e| Problem::new("timestamp_malformed", e))
            .and_then(|t| timestamp::check(&t, si.signature.as_bytes(), anchors, now))
        {
            Ok(t) => {
                r.timestamp_time = Some(crate::domain::vietnam_time(t.timestamp_millis()));
                at = t;
            }
            Err(p) => r.problems.push(p),
        }
    }
    let (chain, problems) = chain::validate(cert, &parsed.certs, anchors, at, chain::Usage::Signing);
    r.chain = chain;
    r.problems.extend(problems);
}
