use super::EXIT_INPUT;
use crate::config::KeySource;
use crate::pdf::MAX_PDF_BYTES;
use crate::sign::{self, FileSigner, Pkcs11Signer, SignOptions, Signer};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    #[value(name = "B-B")]
    BB,
    #[value(name = "B-T")]
    BT,
    #[value(name = "B-LT")]
    BLt,
    #[value(name = "B-LTA")]
    BLta,
}

#[derive(Args)]
pub struct SignArgs {
    /// PDF to sign
    input: PathBuf,
    /// Where to write the signed PDF
    #[arg(short, long)]
    output: PathBuf,
    /// Private key: PEM or DER, PKCS#8 or PKCS#1 (RSA), PKCS#12 (.p12/.pfx, password in
    /// SOHOA_KEY_PASSWORD), or a key in a PKCS#11 token as a `pkcs11:` URI (PIN in
    /// SOHOA_KEY_PIN or the file SOHOA_KEY_PIN_FILE names)
    #[arg(long, value_parser = |s: &str| KeySource::parse(s).map_err(|e| e.to_string()))]
    key: KeySource,
    /// Signer's certificate (PEM; further certificates in the file are taken as the chain);
    /// not needed with a PKCS#12 key, nor with a token that holds the certificate
    #[arg(long)]
    cert: Option<PathBuf>,
    /// Issuing certificates to embed (PEM bundle)
    #[arg(long)]
    chain: Option<PathBuf>,
    /// PAdES level: B-B; B-T with a signature time-stamp from --tsa; B-LT adds the
    /// validation data (certificates, CRLs) in a DSS update; B-LTA then a document time-stamp
    #[arg(long, value_enum, default_value = "B-B")]
    level: Level,
    #[command(flatten)]
    revocation: super::ltv::RevocationArgs,
    /// RFC 3161 time-stamp authority URL (required for B-T)
    #[arg(long)]
    tsa: Option<String>,
    /// Visible signature: PAGE,X,Y,W,H in points from the bottom-left corner
    #[arg(long)]
    visible: Option<String>,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    location: Option<String>,
    /// Signature image (PNG, e.g. the blue hand signature) drawn in the visible field
    #[arg(long)]
    image: Option<PathBuf>,
    /// Seal image (PNG, the agency's red seal) stamped over the left third of the signature image
    #[arg(long)]
    seal_image: Option<PathBuf>,
    /// Make a certification signature (DocMDP): 1 no changes allowed, 2 form filling and
    /// signing, 3 also annotations; only as the document's first signature
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=3))]
    certify: Option<u8>,
}

pub fn run(args: SignArgs) -> ExitCode {
    match sign_file(args) {
        Ok(field) => {
            eprintln!("signed: {field}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            if let Some(s) = e.downcast_ref::<sign::SignError>() {
                eprintln!("error: {e} ({})", s.code());
            } else if let Some(p) = e.downcast_ref::<sign::Pkcs11Error>() {
                eprintln!("error: {e} ({})", p.code());
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::from(EXIT_INPUT)
        }
    }
}

fn sign_file(args: SignArgs) -> anyhow::Result<String> {
    let signer = load_signer(&args)?;
    let signer = signer.as_ref();
    let mut input = open_pdf(&args.input)?;
    let signing_time = chrono::Utc::now().with_timezone(&crate::domain::vietnam_offset());
    let (page, appearance) = match &args.visible {
        Some(spec) => {
            let (page, rect) = parse_visible(spec)?;
            let read = |path: &Option<PathBuf>| match path {
                Some(p) => std::fs::read(p).map(Some).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display())),
                None => Ok(None),
            };
            let appearance = crate::pdf::Appearance::for_signer(rect, signer.certificate(), signing_time, read(&args.image)?)?;
            (page, Some(appearance.with_seal(read(&args.seal_image)?)))
        }
        None => (1, None),
    };
    let options = SignOptions {
        page,
        appearance,
        reason: args.reason,
        location: args.location,
        signing_time,
        timestamp: false,
        certify: args.certify,
    };
    let tsa = match (args.level, args.tsa.as_deref()) {
        (Level::BB, _) => None,
        (_, Some(url)) => Some((url, super::runtime()?)),
        (_, None) => anyhow::bail!("--level B-T, B-LT and B-LTA need --tsa URL"),
    };
    let revocation = args.revocation.load()?;
    let tmp = args.output.with_extension("pdf.partial");
    let mut output = std::fs::File::create(&tmp).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?;
    let signed = match tsa {
        None => sign::sign_stream(&mut input, &mut output, signer, options),
        Some((url, ref runtime)) => runtime.block_on(sign::sign_stream_timestamped(&mut input, &mut output, signer, options, url)),
    };
    drop(output);
    let signed = match (signed, &tsa, args.level) {
        (Ok(()), Some((url, runtime)), Level::BLt | Level::BLta) => {
            let doc_timestamp = (args.level == Level::BLta).then_some(*url);
            runtime.block_on(sign::ltv::extend_file(&tmp, &revocation, doc_timestamp))
        }
        (other, _, _) => other,
    };
    if let Err(e) = signed {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    std::fs::rename(&tmp, &args.output).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", args.output.display()))?;
    Ok(args.output.display().to_string())
}

fn load_signer(args: &SignArgs) -> anyhow::Result<Box<dyn Signer>> {
    let key = match &args.key {
        KeySource::File(path) => path,
        KeySource::Pkcs11(uri) => {
            // The PIN comes from the environment so it never shows in `ps` or shell history.
            let pin = match (std::env::var("SOHOA_KEY_PIN"), std::env::var_os("SOHOA_KEY_PIN_FILE")) {
                (Ok(pin), _) => Some(pin),
                (Err(_), Some(file)) => Some(read_pin_file(std::path::Path::new(&file))?),
                (Err(_), None) => None,
            };
            return Ok(Box::new(Pkcs11Signer::open(uri, pin.as_deref(), args.cert.as_deref(), args.chain.as_deref())?));
        }
    };
    let ext = key.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    if ext == "p12" || ext == "pfx" {
        // The password comes from the environment so it never shows in `ps` or shell history.
        let password = std::env::var("SOHOA_KEY_PASSWORD").unwrap_or_default();
        return Ok(Box::new(FileSigner::from_pkcs12(key, &password, args.chain.as_deref())?));
    }
    let cert = args.cert.as_deref().ok_or_else(|| anyhow::anyhow!("--cert is required unless --key is a PKCS#12 file or a pkcs11: URI"))?;
    Ok(Box::new(FileSigner::from_files(key, cert, args.chain.as_deref())?))
}

/// The first line of the file SOHOA_KEY_PIN_FILE names.
fn read_pin_file(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("SOHOA_KEY_PIN_FILE {}: {e}", path.display()))?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// Opens a PDF for reading, refusing files above the size sohoa handles.
pub(super) fn open_pdf(path: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let file = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let len = file.metadata().map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?.len();
    if len > MAX_PDF_BYTES as u64 {
        anyhow::bail!("{}: larger than {MAX_PDF_BYTES} bytes", path.display());
    }
    Ok(file)
}

/// `PAGE,X,Y,W,H` into the page number and `[x1 y1 x2 y2]`.
fn parse_visible(spec: &str) -> anyhow::Result<(u32, [f32; 4])> {
    let parts: Vec<&str> = spec.split(',').map(str::trim).collect();
    if parts.len() != 5 {
        anyhow::bail!("--visible wants PAGE,X,Y,W,H, got {spec:?}");
    }
    let page: u32 = parts[0].parse().map_err(|_| anyhow::anyhow!("--visible: bad page {:?}", parts[0]))?;
    let mut n = [0f32; 4];
    for (i, p) in parts[1..].iter().enumerate() {
        n[i] = p.parse().ok().filter(|v: &f32| v.is_finite() && *v >= 0.0).ok_or_else(|| anyhow::anyhow!("--visible: bad number {p:?}"))?;
    }
    if page == 0 || n[2] <= 0.0 || n[3] <= 0.0 {
        anyhow::bail!("--visible: page starts at 1 and the box needs a width and a height");
    }
    Ok((page, [n[0], n[1], n[0] + n[2], n[1] + n[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visible_boxes_parse() {
        assert_eq!(parse_visible("1,350,50,200,80").unwrap(), (1, [350.0, 50.0, 550.0, 130.0]));
        assert!(parse_visible("0,1,1,1,1").is_err());
        assert!(parse_visible("1,1,1,1").is_err());
        assert!(parse_visible("1,1,1,-5,1").is_err());
        assert!(parse_visible("1,1,1,NaN,1").is_err());
    }
}
