use crate::pdf::dss::Dss;
use crate::verify;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status when any signature is invalid (or there is none).
const EXIT_INVALID: u8 = 1;
/// Exit status when the input cannot be read.
const EXIT_UNREADABLE: u8 = 2;

#[derive(Args)]
pub struct VerifyArgs {
    /// Signed PDF
    input: PathBuf,
    /// Trust anchors (PEM bundle or DER); repeat for several files
    #[arg(long, required = true)]
    trust: Vec<PathBuf>,
    /// Print the report as JSON
    #[arg(long)]
    json: bool,
    /// Certificates that may complete a signer's path to the anchors when the signature
    /// does not carry them (PEM bundle or DER); repeat for several files
    #[arg(long)]
    other_certs: Vec<PathBuf>,
    /// CRL (DER or PEM) to check revocation with, besides those in the document; repeat
    #[arg(long)]
    crl: Vec<PathBuf>,
    /// Do not fetch OCSP responses or CRLs from the responders and distribution points the
    /// certificates name
    #[arg(long)]
    offline: bool,
    /// Do not check revocation at all
    #[arg(long)]
    no_revocation_check: bool,
    /// Validate at this time (RFC 3339, e.g. 2020-11-01T00:00:00Z) instead of now, for
    /// signatures without a time-stamp
    #[arg(long, value_parser = parse_time)]
    at: Option<chrono::DateTime<chrono::Utc>>,
}

fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{s:?} is not an RFC 3339 time: {e}"))
}

pub fn run(args: VerifyArgs) -> ExitCode {
    let mut anchors = Vec::new();
    for path in &args.trust {
        match crate::sign::load_certificates(path) {
            Ok(c) if !c.is_empty() => anchors.extend(c),
            Ok(_) => return fail(&verify::VerifyError::NoTrustAnchors(path.display().to_string())),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_UNREADABLE);
            }
        }
    }
    let mut intermediates = Vec::new();
    for path in &args.other_certs {
        match crate::sign::load_certificates(path) {
            Ok(c) => intermediates.extend(c),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(EXIT_UNREADABLE);
            }
        }
    }
    let pdf = match super::sign::open_pdf(&args.input) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    let mut crls = Vec::new();
    for path in &args.crl {
        match std::fs::read(path) {
            Ok(bytes) => crls.push(crate::sign::ltv::pem_crl(&bytes).unwrap_or(bytes)),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return ExitCode::from(EXIT_UNREADABLE);
            }
        }
    }
    let mut ocsps = Vec::new();
    if !args.offline && !args.no_revocation_check {
        let fetched = fetched_revocation(&args.input, &crls);
        crls.extend(fetched.crls);
        ocsps = fetched.ocsps;
    }
    let trust = verify::Trust {
        anchors: &anchors,
        intermediates: &intermediates,
        crls: &crls,
        ocsps: &ocsps,
        check_revocation: !args.no_revocation_check,
    };
    let report = match verify::verify_source_with(pdf, &trust, args.at.unwrap_or_else(chrono::Utc::now)) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        print_text(&args.input.display().to_string(), &report);
    }
    if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_INVALID)
    }
}

/// OCSP responses and CRLs from the responders and distribution points of the certificates
/// the file's signatures carry, for those that neither the document's DSS nor `given` covers.
fn fetched_revocation(input: &std::path::Path, given: &[Vec<u8>]) -> Dss {
    let Ok(source) = super::sign::open_pdf(input) else { return Dss::default() };
    let Ok(file) = crate::pdf::PdfFile::open(source) else { return Dss::default() };
    let Ok(latest) = file.latest() else { return Dss::default() };
    let certs = crate::verify::embedded_certificates(&latest);
    let mut have = crate::pdf::dss::read(&latest);
    have.crls.extend_from_slice(given);
    match super::runtime() {
        Ok(rt) => rt.block_on(crate::sign::ltv::fetch_missing(&certs, &have)),
        Err(_) => Dss::default(),
    }
}

fn fail(e: &verify::VerifyError) -> ExitCode {
    eprintln!("error: {e} ({})", e.code());
    ExitCode::from(EXIT_UNREADABLE)
}

fn print_text(name: &str, report: &verify::Report) {
    if report.signatures.is_empty() {
        println!("{name}: no signatures");
    }
    for s in &report.signatures {
        let verdict = if s.valid { "VALID" } else { "INVALID" };
        println!("{}: {verdict} ({}, {})", s.field, s.level, s.signer.as_deref().unwrap_or("unknown signer"));
        if let Some(t) = &s.claimed_time {
            println!("  claimed time: {t}");
        }
        if let Some(t) = &s.timestamp_time {
            println!("  time-stamp:   {t}");
        }
        println!("  covers {} of {} bytes", s.signed_bytes, s.file_bytes);
        for c in &s.changes_after {
            println!("  later change: {} {} ({})", c.object, c.what, if c.allowed { "allowed" } else { "not allowed" });
        }
        for p in &s.problems {
            println!("  problem {}: {}", p.code, p.detail);
        }
    }
}
