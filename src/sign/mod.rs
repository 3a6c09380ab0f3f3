//! PAdES signing: CMS SignedData (detached, ETSI.CAdES.detached) over the byte ranges of an
//! incremental update, with keys behind the [`Signer`] trait and an RFC 3161 client for B-T.

mod cms;
mod key;
pub mod oid;
mod tsa;

pub(crate) use self::cms::{build as build_signed_data, signed_attributes_for, SignerParts};
pub use self::cms::{signed_attributes, signed_data, EssCertIdV2, IssuerSerial, SigningCertificateV2};
pub use key::{load_certificates, FileSigner};
pub use tsa::{request_timestamp, timestamp_query, token_from_reply, TsaError};

/// The TSTInfo of a time-stamp token, for verification.
pub fn tsa_tst_info(token: &::cms::content_info::ContentInfo) -> Result<x509_tsp::TstInfo, TsaError> {
    tsa::tst_info(token)
}

use crate::pdf::{self, Appearance, FieldSpec, PdfError};

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

    /// Assembles the CMS from a raw signature (and, for B-T, a time-stamp token) and
    /// writes it into the placeholder.
    pub fn complete(self, signature: &[u8], timestamp_token: Option<&[u8]>) -> Result<Vec<u8>, SignError> {
        let cms = signed_data(&self.certificate, &self.chain, self.algorithm, &self.signed_attributes, signature, timestamp_token)?;
        Ok(self.prepared.finish(&cms)?)
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
    };
    let prepared = pdf::prepare(pdf, spec)?;
    let signed_attributes = signed_attributes(&prepared.digest(), certificate)?;
    Ok(Pending { prepared, certificate: certificate.to_vec(), chain: chain.to_vec(), algorithm, signed_attributes })
}

/// Signs `pdf` with `signer` as PAdES B-B.
pub fn sign_pdf(pdf: &[u8], signer: &dyn Signer, options: SignOptions) -> Result<Vec<u8>, SignError> {
    let pending = begin(pdf, signer.certificate(), signer.chain(), signer.algorithm(), SignOptions { timestamp: false, ..options })?;
    let signature = signer.sign(pending.signed_attributes())?;
    pending.complete(&signature, None)
}

/// Signs `pdf` as PAdES B-T: the signature value is time-stamped by the TSA at `tsa_url`.
pub async fn sign_pdf_timestamped(pdf: &[u8], signer: &dyn Signer, options: SignOptions, tsa_url: &str) -> Result<Vec<u8>, SignError> {
    let pending = begin(pdf, signer.certificate(), signer.chain(), signer.algorithm(), SignOptions { timestamp: true, ..options })?;
    let signature = signer.sign(pending.signed_attributes())?;
    let token = request_timestamp(tsa_url, &signature).await?;
    pending.complete(&signature, Some(&token))
}
