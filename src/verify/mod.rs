//! Verification of every signature in a PDF: byte ranges, digest, CMS signature, chain to
//! the trust anchors, key usage, validity at the signing or time-stamp time, the time-stamp
//! token, and what was appended afterwards.

mod chain;
mod cms;
mod diff;
mod mdp;
pub(crate) mod ocsp;
mod revocation;
mod timestamp;

pub use diff::{Change, Needs};
pub use revocation::Status as RevocationStatus;

use mdp::{end_of, judge, Permissions};

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
    /// `signature`, or `document_timestamp` (PAdES B-LTA).
    pub kind: &'static str,
    pub sub_filter: String,
    pub signer: Option<String>,
    pub chain: Vec<String>,
    /// `/M`, the time the signer claims.
    pub claimed_time: Option<String>,
    /// genTime of a valid signature time-stamp (B-T), or of a document time-stamp.
    pub timestamp_time: Option<String>,
    /// The earliest time a time-stamp proves the signature existed at (its own, or the
    /// first valid document time-stamp after it); certificates are judged at that time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proven_time: Option<String>,
    /// What is known of the revocation of the signer's certificates at that time.
    pub revocation: RevocationStatus,
    pub level: &'static str,
    /// `/P` of a certification signature (DocMDP): 1 no changes, 2 form filling and
    /// signing, 3 also annotations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certification: Option<i64>,
    pub reason: Option<String>,
    pub location: Option<String>,
    /// Offset where the signed revision ends, and the file's length.
    pub signed_bytes: u64,
    pub file_bytes: u64,
    /// What later revisions changed in the signed document, each allowed or not by the
    /// permissions in force (certification level, field locks).
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
    verify_source_with(source, &Trust { anchors, intermediates: &[], crls: &[], ocsps: &[], check_revocation: true }, now)
}

/// What a verifier trusts: the anchors, and certificates that may complete a path to them
/// when a signature does not carry its whole chain.
pub struct Trust<'a> {
    pub anchors: &'a [Vec<u8>],
    pub intermediates: &'a [Vec<u8>],
    /// CRLs (DER) from outside the file: given, or fetched from distribution points.
    pub crls: &'a [Vec<u8>],
    /// OCSP responses (DER OCSPResponse) from outside the file: fetched from responders.
    pub ocsps: &'a [Vec<u8>],
    /// Whether revocation is checked at all (off only to compare with a peer run so).
    pub check_revocation: bool,
}

/// What every signature of one file is judged with.
struct Context<'a, 'f, R> {
    file: &'f PdfFile<R>,
    latest: &'a Revision<'f, R>,
    permissions: Permissions,
    trust: &'a Trust<'a>,
    /// CRLs of the document's DSS and of the caller.
    crls: Vec<Vec<u8>>,
    /// OCSP responses of the document's DSS and of the caller.
    ocsps: Vec<Vec<u8>>,
    /// Whether the document carries validation data (B-LT).
    has_dss: bool,
    /// Where each valid document time-stamp's revision ends, and the time it proves.
    proofs: Vec<(u64, chrono::DateTime<chrono::Utc>)>,
    now: chrono::DateTime<chrono::Utc>,
}

/// [`verify_source`] with intermediate certificates from outside the file.
pub fn verify_source_with<R: Read + Seek>(source: R, trust: &Trust, now: chrono::DateTime<chrono::Utc>) -> Result<Report, VerifyError> {
    let file = PdfFile::open(source)?;
    let (latest, unreadable_tail) = match file.latest() {
        Ok(rev) => (rev, None),
        Err(PdfError::Encrypted) => return Err(PdfError::Encrypted.into()),
        // A file whose newest revision does not read is judged on the newest one that does,
        // and none of its signatures is valid: what was appended cannot be shown harmless.
        Err(e) => match last_readable(&file) {
            Some(rev) => (rev, Some(Problem::new("revision_unreadable", format!("the newest revision does not parse: {e}")))),
            None => return Err(e.into()),
        },
    };
    let entries = all_signatures(&file, &latest);
    let dss = pdf::dss::read(&latest);
    let mut ctx = Context {
        file: &file,
        latest: &latest,
        permissions: Permissions::of(&entries),
        trust,
        crls: dss.crls.iter().chain(trust.crls).cloned().collect(),
        ocsps: dss.ocsps.iter().chain(trust.ocsps).cloned().collect(),
        has_dss: !dss.is_empty(),
        proofs: Vec::new(),
        now,
    };
    // Document time-stamps first, oldest first: the times they prove are what the
    // signatures they cover are judged at.
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|i| (entries[*i].sub_filter != "ETSI.RFC3161", end_of(&entries[*i])));
    let mut reports: Vec<Option<SignatureReport>> = vec![None; entries.len()];
    for i in order {
        let report = verify_one(&ctx, &entries[i]);
        if report.kind == "document_timestamp" && report.valid {
            if let Some(t) = report.proven_time.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()) {
                ctx.proofs.push((report.signed_bytes, t.with_timezone(&chrono::Utc)));
            }
        }
        reports[i] = Some(report);
    }
    let mut signatures: Vec<SignatureReport> = reports.into_iter().flatten().collect();
    if let Some(p) = unreadable_tail {
        for s in &mut signatures {
            s.problems.push(p.clone());
            s.valid = false;
        }
    }
    let valid = !signatures.is_empty() && signatures.iter().all(|s| s.valid);
    Ok(Report { valid, signatures })
}

/// The signatures of the newest revision, then those that only earlier revisions hold (a
/// later revision dropped their fields, or the whole document they were in).
fn all_signatures<R: Read + Seek>(file: &PdfFile<R>, latest: &Revision<R>) -> Vec<SignatureEntry> {
    let mut entries: Vec<SignatureEntry> = Vec::new();
    // One signature dictionary named by two fields is one signature, counted once.
    for e in pdf::signatures(latest) {
        let seen = e.unreadable.is_none()
            && entries.iter().any(|x| x.unreadable.is_none() && x.byte_range == e.byte_range && x.contents == e.contents);
        if !seen {
            entries.push(e);
        }
    }
    for end in latest.earlier_ends() {
        let Ok(rev) = file.revision_ending_at(end) else { continue };
        for e in pdf::signatures(&rev) {
            let known = entries.iter().any(|x| x.byte_range == e.byte_range && x.contents == e.contents && x.unreadable == e.unreadable);
            if !known && e.unreadable.is_none() {
                entries.push(SignatureEntry { removed: true, ..e });
            }
        }
    }
    entries
}

/// Every certificate the signatures and time-stamp tokens of `rev` carry, each once: what a
/// DSS must hold for them.
pub fn embedded_certificates<R: Read + Seek>(rev: &Revision<R>) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut add = |certs: Vec<Vec<u8>>| {
        for c in certs {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    };
    for e in pdf::signatures(rev) {
        let Ok(parsed) = cms::parse(&e.contents) else { continue };
        if let Some(Ok(token)) = parsed.signer_info().ok().and_then(cms::timestamp_token) {
            if let Ok(t) = cms::parse(&token) {
                add(t.certs);
            }
        }
        add(parsed.certs);
    }
    out
}

/// When the TSA certificate of the PDF's newest document time-stamp expires; `None` when
/// the PDF has no document time-stamp (or it does not read).
pub fn newest_timestamp_expiry(pdf: &[u8]) -> Option<chrono::DateTime<chrono::Utc>> {
    let file = PdfFile::open(Cursor::new(pdf)).ok()?;
    let latest = file.latest().ok()?;
    let newest = pdf::signatures(&latest).into_iter().filter(|e| e.sub_filter == "ETSI.RFC3161").max_by_key(end_of)?;
    let token = cms::parse(&newest.contents).ok()?;
    let cert = token.signer_certificate(token.signer_info().ok()?)?;
    let (_, cert) = x509_parser::parse_x509_certificate(cert).ok()?;
    chrono::DateTime::from_timestamp(cert.validity().not_after.timestamp(), 0)
}

/// The newest revision before the file's end that reads, found from its `%%EOF` markers.
fn last_readable<R: Read + Seek>(file: &PdfFile<R>) -> Option<Revision<'_, R>> {
    let mut end = file.len();
    for _ in 0..MAX_REVISIONS_BACK {
        let at = file.find_last(b"%%EOF", end).ok()??;
        end = at;
        let stop = at + 5;
        for candidate in [stop + 2, stop + 1, stop] {
            if pdf::revision_end(file, candidate) {
                if let Ok(rev) = file.revision_ending_at(candidate) {
                    return Some(rev);
                }
                break;
            }
        }
    }
    None
}

/// Revisions looked at, newest first, for one that reads.
const MAX_REVISIONS_BACK: usize = 64;

fn verify_one<R: Read + Seek>(ctx: &Context<R>, e: &SignatureEntry) -> SignatureReport {
    let (file, latest, permissions) = (ctx.file, ctx.latest, &ctx.permissions);
    let timestamp = e.sub_filter == "ETSI.RFC3161";
    let mut r = SignatureReport {
        field: e.field.clone(),
        kind: if timestamp { "document_timestamp" } else { "signature" },
        sub_filter: e.sub_filter.clone(),
        signer: None,
        chain: Vec::new(),
        claimed_time: e.signing_time.as_deref().and_then(pdf::parse_pdf_date).map(|t| crate::domain::vietnam_time(t.timestamp_millis())),
        timestamp_time: None,
        proven_time: None,
        revocation: RevocationStatus::NotApplicable,
        level: if timestamp { "DocTimeStamp" } else { "B-B" },
        certification: e.docmdp,
        reason: e.reason.clone(),
        location: e.location.clone(),
        signed_bytes: 0,
        file_bytes: file.len(),
        changes_after: Vec::new(),
        valid: false,
        problems: Vec::new(),
    };
    if let Some(why) = &e.unreadable {
        r.problems.push(Problem::new("signature_unreadable", format!("the signature dictionary does not read: {why}")));
        return r;
    }
    if e.docmdp.is_some() && permissions.certification.is_none_or(|(end, _)| end != end_of(e)) {
        r.problems.push(Problem::new("certification_not_first", "a certification signature must be the document's first signature"));
    }
    if e.removed {
        r.problems.push(Problem::new("signature_removed", "a later revision no longer holds this signature's field"));
    }
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
        "ETSI.CAdES.detached" | "adbe.pkcs7.detached" => {
            // The earliest document time-stamp over this signature's revision proves it.
            let proven = ctx.proofs.iter().filter(|(end, _)| *end > r.signed_bytes).map(|(_, t)| *t).min();
            check_cms(&mut r, &e.contents, &mut content_digest, ctx, proven);
        }
        "ETSI.RFC3161" => match timestamp::check_document(&e.contents, &mut content_digest, ctx.trust.anchors) {
            Ok(t) => {
                r.timestamp_time = Some(crate::domain::vietnam_time(t.timestamp_millis()));
                r.proven_time = Some(t.to_rfc3339());
                r.signer = cms::parse(&e.contents).ok().and_then(|p| {
                    let cert = p.signer_certificate(p.signer_info().ok()?)?;
                    x509_parser::parse_x509_certificate(cert).ok().map(|(_, c)| c.subject().to_string())
                });
            }
            Err(p) => r.problems.push(p),
        },
        other => r.problems.push(Problem::new("unsupported_sub_filter", format!("/SubFilter /{other}"))),
    }
    if r.signed_bytes < latest.end() {
        match file.revision_ending_at(r.signed_bytes) {
            Ok(old) => r.changes_after = diff::changes(&old, latest),
            Err(err) => r.problems.push(Problem::new("revision_unreadable", format!("the signed revision does not parse: {err}"))),
        }
        judge(&mut r, permissions);
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

fn check_cms<R: Read + Seek>(
    r: &mut SignatureReport,
    contents: &[u8],
    content_digest: cms::ContentDigest,
    ctx: &Context<R>,
    proven: Option<chrono::DateTime<chrono::Utc>>,
) {
    let (trust, now) = (ctx.trust, ctx.now);
    let anchors = trust.anchors;
    let parsed = match cms::parse(contents) {
        Ok(p) => p,
        Err(e) => return r.problems.push(Problem::new("cms_malformed", e)),
    };
    let si = match parsed.signer_info() {
        Ok(si) => si,
        Err(e) => return r.problems.push(Problem::new("cms_malformed", e)),
    };
    // A PDF signature is detached: the signed bytes are the byte ranges, nothing inside.
    if parsed.signed.encap_content_info.econtent.is_some() {
        r.problems.push(Problem::new("cms_not_detached", "the CMS carries encapsulated content; a PDF signature must be detached"));
    }
    // PAdES (ETSI EN 319 142-1 §5.2) requires the signed attributes that bind the signer's
    // certificate; adbe.pkcs7.detached does not.
    if si.signed_attrs.is_none() && r.sub_filter == "ETSI.CAdES.detached" {
        r.problems.push(Problem::new("cms_no_signed_attributes", "a PAdES signature needs signed attributes"));
    }
    let Some(cert) = parsed.signer_certificate(si) else {
        return r.problems.push(Problem::new("signer_certificate_missing", "the CMS does not hold the signer's certificate"));
    };
    r.signer = x509_parser::parse_x509_certificate(cert).ok().map(|(_, c)| c.subject().to_string());
    cms::check_signer(si, cert, content_digest, &mut r.problems);
    let mut at = proven.unwrap_or(now);
    if let Some(token) = cms::timestamp_token(si) {
        r.level = "B-T";
        match token
            .map_err(|e| Problem::new("timestamp_malformed", e))
            .and_then(|t| timestamp::check(&t, si.signature.as_bytes(), anchors, now))
        {
            Ok(t) => {
                r.timestamp_time = Some(crate::domain::vietnam_time(t.timestamp_millis()));
                at = at.min(t);
            }
            Err(p) => r.problems.push(p),
        }
    }
    let pool: Vec<Vec<u8>> = parsed.certs.iter().chain(trust.intermediates).cloned().collect();
    let checked = chain::validate_path(cert, &pool, anchors, at, chain::Usage::Signing);
    r.chain = checked.subjects;
    r.problems.extend(checked.problems);
    if trust.check_revocation {
        let (status, problems) = revocation::check(&checked.certs, &ctx.ocsps, &ctx.crls, at);
        r.revocation = status;
        r.problems.extend(problems);
    }
    if at < now {
        r.proven_time = Some(at.to_rfc3339());
    }
    if ctx.has_dss {
        r.level = if proven.is_some() { "B-LTA" } else { "B-LT" };
    }
}
