//! PAdES signing: CMS SignedData (detached, ETSI.CAdES.detached) over the byte ranges of an
//! incremental update, with keys behind the [`Signer`] trait and an RFC 3161 client for B-T.

mod cms;
mod key;
pub mod ltv;
mod ocsp;
pub mod oid;
mod pkcs11;
mod tsa;

pub(crate) use self::cms::{build as build_signed_data, signed_attributes_for, SignerParts};
pub use self::cms::{signed_attributes, signed_data, EssCertIdV2, IssuerSerial, SigningCertificateV2};
pub use key::{load_certificates, FileSigner};
pub use pkcs11::{Pkcs11Error, Pkcs11Signer, Pkcs11Uri, UriError, DEFAULT_MODULE};
pub use tsa::{request_timestamp, request_timestamp_digest, timestamp_query, token_from_reply, TsaError};

/// The TSTInfo of a time-stamp token, for verification.
pub fn tsa_tst_info(token: &::cms::content_info::ContentInfo) -> Result<x509_tsp::TstInfo, TsaError> {
    tsa::tst_info(token)
}

use crate::pdf::{self, Appearance, FieldSpec, PdfError};
use std::io::{Cursor, Read, Seek, SeekFrom, Write};

/// The subject of a certificate (DER) as text; empty when it does not parse.
/// An ECDSA P-256 signature given as r‖s (64 bytes, as WebCrypto and PKCS#11 tokens give it)
/// in the DER form CMS carries.
pub fn ecdsa_der(raw: &[u8]) -> Result<Vec<u8>, String> {
    pkcs11::ecdsa_der(raw)
}

pub fn certificate_subject(der: &[u8]) -> String {
    x509_parser::parse_x509_certificate(der).map(|(_, c)| c.subject().to_string()).unwrap_or_default()
}

/// Room for the CMS beyond the certificates: signed attributes and an RSA-4096 signature.
const BASE_ROOM: usize = 8 * 1024;
/// Room for an RFC 3161 token (its own signature and the TSA's certificate chain).
const TIMESTAMP_ROOM: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{path}: {reason}")]
    Key { path: String, reason: String },
    #[error("certificate: {0}")]
    Certificate(String),
    #[error("the private key does not match the certificate {0}")]
    KeyMismatch(String),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("CMS encoding: {0}")]
    Encoding(String),
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error(transparent)]
    Tsa(#[from] TsaError),
    #[error("cannot write the signed PDF: {0}")]
    Output(std::io::Error),
    #[error("{0}")]
    Revocation(String),
}

impl SignError {
    /// Stable machine code for APIs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            SignError::Read { .. } => "file_unreadable",
            SignError::Key { .. } => "key_invalid",
            SignError::Certificate(_) => "certificate_invalid",
            SignError::KeyMismatch(_) => "key_certificate_mismatch",
            SignError::Signing(_) => "signing_failed",
            SignError::Encoding(_) => "cms_encoding",
            SignError::Pdf(e) => e.code(),
            SignError::Tsa(e) => e.code(),
            SignError::Output(_) => "output_unwritable",
            SignError::Revocation(_) => "revocation_unavailable",
        }
    }
}

impl From<der::Error> for SignError {
    fn from(e: der::Error) -> Self {
        SignError::Encoding(e.to_string())
    }
}

/// The signature algorithms sohoa produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSA PKCS#1 v1.5 with SHA-256, 2048 to 4096 bits.
    RsaSha256,
    /// ECDSA over P-256 with SHA-256, DER-encoded signature.
    EcdsaP256Sha256,
}

/// Something that holds a private key and signs the DER of the signed attributes.
/// Implementations never expose or log the key.
pub trait Signer: Send + Sync {
    /// DER of the signer's certificate.
    fn certificate(&self) -> &[u8];
    /// DER of the issuing certificates, signer's issuer first; embedded in the CMS.
    fn chain(&self) -> &[Vec<u8>];
    fn algorithm(&self) -> KeyAlgorithm;
    /// Signs `message` (SHA-256 is applied by the signer).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// What the signature says and where it shows.
pub struct SignOptions {
    pub page: u32,
    pub appearance: Option<Appearance>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub signing_time: chrono::DateTime<chrono::FixedOffset>,
    /// Reserve room for a signature time-stamp (B-T).
    pub timestamp: bool,
    /// Certify the document with this DocMDP `/P` (1, 2 or 3); only as its first signature.
    pub certify: Option<u8>,
}

/// A prepared PDF and the signed attributes that the key must sign.
pub struct Pending {
    prepared: pdf::Prepared,
    certificate: Vec<u8>,
    chain: Vec<Vec<u8>>,
    algorithm: KeyAlgorithm,
    signed_attributes: Vec<u8>,
}

impl Pending {
    /// DER (`SET OF`) of the signed attributes: the bytes the key signs.
    pub fn signed_attributes(&self) -> &[u8] {
        &self.signed_attributes
    }

    pub fn field_name(&self) -> &str {
        self.prepared.field_name()
    }

    /// Assembles the CMS from a raw signature (and, for B-T, a time-stamp token) and writes
    /// it into the placeholder; returns the revision to append to the original PDF.
    pub fn complete_update(self, signature: &[u8], timestamp_token: Option<&[u8]>) -> Result<Vec<u8>, SignError> {
        let cms = signed_data(&self.certificate, &self.chain, self.algorithm, &self.signed_attributes, signature, timestamp_token)?;
        Ok(self.prepared.finish(&cms)?)
    }

    /// Like [`Pending::complete_update`], for a PDF in memory: `pdf` (the bytes [`begin`]
    /// read) followed by the completed revision.
    pub fn complete(self, pdf: &[u8], signature: &[u8], timestamp_token: Option<&[u8]>) -> Result<Vec<u8>, SignError> {
        if pdf.len() as u64 != self.prepared.original_len() {
            return Err(PdfError::Structure("the PDF is not the one the signature was prepared for".into()).into());
        }
        let appended = self.complete_update(signature, timestamp_token)?;
        let mut out = Vec::with_capacity(pdf.len() + appended.len());
        out.extend_from_slice(pdf);
        out.extend_from_slice(&appended);
        Ok(out)
    }
}

/// Adds the signature field and computes the signed attributes, without any key.
pub fn begin(
    pdf: &[u8],
    certificate: &[u8],
    chain: &[Vec<u8>],
    algorithm: KeyAlgorithm,
    options: SignOptions,
) -> Result<Pending, SignError> {
    begin_from(Cursor::new(pdf), certificate, chain, algorithm, options)
}

/// [`begin`] for a PDF read from `source` (a file): only the objects the signature
/// changes are parsed, and the file is hashed streaming.
pub fn begin_from<R: Read + Seek>(
    source: R,
    certificate: &[u8],
    chain: &[Vec<u8>],
    algorithm: KeyAlgorithm,
    options: SignOptions,
) -> Result<Pending, SignError> {
    let certs_len: usize = certificate.len() + chain.iter().map(Vec::len).sum::<usize>();
    let room = certs_len + BASE_ROOM + if options.timestamp { TIMESTAMP_ROOM } else { 0 };
    let spec = FieldSpec {
        page: options.page,
        appearance: options.appearance,
        reason: options.reason,
        location: options.location,
        name: None,
        signing_time: options.signing_time,
        contents_room: room,
        certify: options.certify,
        doc_timestamp: false,
    };
    let prepared = pdf::prepare(source, spec)?;
    let signed_attributes = signed_attributes(&prepared.digest(), certificate)?;
    Ok(Pending { prepared, certificate: certificate.to_vec(), chain: chain.to_vec(), algorithm, signed_attributes })
}

/// Signs `pdf` with `signer` as PAdES B-B.
pub fn sign_pdf(pdf: &[u8], signer: &dyn Signer, options: SignOptions) -> Result<Vec<u8>, SignError> {
    let pending = begin(pdf, signer.certificate(), signer.chain(), signer.algorithm(), SignOptions { timestamp: false, ..options })?;
    let signature = signer.sign(pending.signed_attributes())?;
    pending.complete(pdf, &signature, None)
}

/// Signs `pdf` as PAdES B-T: the signature value is time-stamped by the TSA at `tsa_url`.
pub async fn sign_pdf_timestamped(pdf: &[u8], signer: &dyn Signer, options: SignOptions, tsa_url: &str) -> Result<Vec<u8>, SignError> {
    let pending = begin(pdf, signer.certificate(), signer.chain(), signer.algorithm(), SignOptions { timestamp: true, ..options })?;
    let signature = signer.sign(pending.signed_attributes())?;
    let token = request_timestamp(tsa_url, &signature).await?;
    pending.complete(pdf, &signature, Some(&token))
}

/// Signs the PDF in `input` as PAdES B-B into `output`: the original bytes are copied, then
/// the signed revision appended; memory stays small whatever the file's size.
pub fn sign_stream<R: Read + Seek, W: Write>(
    input: &mut R,
    output: &mut W,
    signer: &dyn Signer,
    options: SignOptions,
) -> Result<(), SignError> {
    let options = SignOptions { timestamp: false, ..options };
    let pending = begin_from(&mut *input, signer.certificate(), signer.chain(), signer.algorithm(), options)?;
    let signature = signer.sign(pending.signed_attributes())?;
    let original_len = pending.prepared.original_len();
    let appended = pending.complete_update(&signature, None)?;
    write_signed(input, original_len, &appended, output)
}

/// [`sign_stream`] as PAdES B-T, with a signature time-stamp from the TSA at `tsa_url`.
pub async fn sign_stream_timestamped<R: Read + Seek, W: Write>(
    input: &mut R,
    output: &mut W,
    signer: &dyn Signer,
    options: SignOptions,
    tsa_url: &str,
) -> Result<(), SignError> {
    let options = SignOptions { timestamp: true, ..options };
    let pending = begin_from(&mut *input, signer.certificate(), signer.chain(), signer.algorithm(), options)?;
    let signature = signer.sign(pending.signed_attributes())?;
    let token = request_timestamp(tsa_url, &signature).await?;
    let original_len = pending.prepared.original_len();
    let appended = pending.complete_update(&signature, Some(&token))?;
    write_signed(input, original_len, &appended, output)
}

/// The original `len` bytes of `input`, then `appended`.
fn write_signed<R: Read + Seek, W: Write>(input: &mut R, len: u64, appended: &[u8], output: &mut W) -> Result<(), SignError> {
    input.seek(SeekFrom::Start(0)).map_err(PdfError::from)?;
    let copied = std::io::copy(&mut (&mut *input).take(len), output).map_err(SignError::Output)?;
    if copied != len {
        return Err(PdfError::Read(format!("the PDF shrank while it was signed ({copied} of {len} bytes)")).into());
    }
    output.write_all(appended).map_err(SignError::Output)?;
    output.flush().map_err(SignError::Output)
}
