//! The demo PKI: a root CA, the agency's seal, two officials and a time-stamp authority,
//! with Vietnamese names, for `make run`, the tests and demos. Never for production.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint, CustomExtension, DistinguishedName, DnType,
    IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, RevocationReason, RevokedCertParams, SerialNumber, PKCS_ECDSA_P256_SHA256,
    PKCS_RSA_SHA256,
};
use rsa::pkcs8::EncodePrivateKey;
use std::path::{Path, PathBuf};

pub mod images;
pub mod ocsp;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("key generation: {0}")]
    KeyGen(String),
    #[error("certificate generation: {0}")]
    Certificate(#[from] rcgen::Error),
}

impl PkiError {
    pub fn code(&self) -> &'static str {
        match self {
            PkiError::Write { .. } | PkiError::Read { .. } => "file_unwritable",
            PkiError::KeyGen(_) | PkiError::Certificate(_) => "pki_generation",
        }
    }
}

/// Key types the demo hands out: RSA as Vietnamese CAs issue, ECDSA to exercise both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa2048,
    EcdsaP256,
}

/// What one end-entity certificate says.
pub struct Subject<'a> {
    pub common_name: &'a str,
    pub title: Option<&'a str>,
    pub organization: &'a str,
}

const ROOT_CN: &str = "sohoa Demo Root CA";
const ROOT_ORG: &str = "Ban Cơ yếu Chính phủ (thử nghiệm sohoa)";
const AGENCY: &str = "UBND phường Dịch Vọng, quận Cầu Giấy, thành phố Hà Nội";
/// id-at-title (2.5.4.12): the official's position, printed in the visible signature.
const TITLE: [u64; 4] = [2, 5, 4, 12];
/// ExtendedKeyUsage ::= SEQUENCE { id-kp-timeStamping }, DER.
const EKU_TIME_STAMPING: [u8; 12] = [0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];
const DAY: i64 = 86_400;

/// Writes root.pem (+ root.key), seal, official1, official2 and tsa (.pem and .key) into
/// `dir`, with official1.png, official2.png (hand signatures) and seal.png (the agency's red
/// seal) for visible signatures; returns the files written.
pub fn demo(dir: &Path) -> Result<Vec<PathBuf>, PkiError> {
    demo_with(dir, &Publication::default())
}

/// Where the root publishes the status of what it issues; certificates name each URL given.
#[derive(Debug, Clone, Copy, Default)]
pub struct Publication<'a> {
    /// CRL distribution point.
    pub crl_url: Option<&'a str>,
    /// OCSP responder (Authority Information Access, id-ad-ocsp).
    pub ocsp_url: Option<&'a str>,
}

/// [`demo`], and `revoked.pem`/`.key`, an official's certificate that `root.crl` (DER,
/// signed by the root, valid a week) lists as revoked an hour ago. Every certificate the
/// root issues names the CRL distribution point and the OCSP responder `publication` gives
/// (`sohoa pki serve` publishes `root.crl` and answers OCSP requests there).
pub fn demo_with(dir: &Path, publication: &Publication) -> Result<Vec<PathBuf>, PkiError> {
    std::fs::create_dir_all(dir).map_err(|e| PkiError::Write { path: dir.display().to_string(), source: e })?;
    let now = chrono::Utc::now().timestamp();
    let root_key = generate(KeyKind::Rsa2048)?;
    let root_params = root_params(now)?;
    let root_cert = root_params.self_signed(&root_key)?;
    let mut written = vec![write(dir, "root.pem", root_cert.pem())?, write(dir, "root.key", root_key.serialize_pem())?];
    let issuer = Issuer::new(root_params, root_key);
    let (from, to) = (now - DAY, now + 2 * 365 * DAY);
    let revoked_subject =
        Subject { common_name: "Lê Văn Cường", title: Some("Cán bộ (chứng thư đã thu hồi)"), organization: AGENCY };
    let leaves = [
        ("seal", KeyKind::Rsa2048, Subject { common_name: AGENCY, title: None, organization: AGENCY }, false),
        ("official1", KeyKind::Rsa2048, Subject { common_name: "Nguyễn Văn An", title: Some("Chủ tịch"), organization: AGENCY }, false),
        (
            "official2",
            KeyKind::EcdsaP256,
            Subject { common_name: "Trần Thị Bình", title: Some("Phó Chủ tịch"), organization: AGENCY },
            false,
        ),
        ("tsa", KeyKind::EcdsaP256, Subject { common_name: "sohoa Demo TSA", title: None, organization: ROOT_ORG }, true),
        ("revoked", KeyKind::Rsa2048, revoked_subject, false),
    ];
    let mut revoked = Vec::new();
    for (name, kind, subject, tsa) in leaves {
        let (cert, key, serial) = issue_with(&issuer, kind, &subject, tsa, (from, to), publication)?;
        if name == "revoked" {
            revoked.push(serial);
        }
        written.push(write(dir, &format!("{name}.pem"), &cert)?);
        written.push(write(dir, &format!("{name}.key"), &key)?);
    }
    written.push(write(dir, "root.crl", crl(&issuer, &revoked, now)?)?);
    // the images a visible signature shows: each official's hand signature, the agency's seal
    let png = |img: &image::RgbaImage| images::png(img).map_err(|e| PkiError::KeyGen(format!("demo image: {e}")));
    written.push(write(dir, "official1.png", png(&images::signature(1))?)?);
    written.push(write(dir, "official2.png", png(&images::signature(2))?)?);
    written.push(write(dir, "seal.png", png(&images::seal())?)?);
    Ok(written)
}

/// Issues an end-entity certificate under the demo root whose key is in `root_key_pem`, valid
/// from `not_before` to `not_after` (Unix seconds); returns (certificate PEM, PKCS#8 key PEM).
/// Tests use it for expired and not-yet-valid certificates.
pub fn issue_under_root(
    root_key_pem: &str,
    kind: KeyKind,
    subject: &Subject,
    not_before: i64,
    not_after: i64,
) -> Result<(String, String), PkiError> {
    let root_key = KeyPair::from_pem(root_key_pem)?;
    let issuer = Issuer::new(root_params(chrono::Utc::now().timestamp())?, root_key);
    let (cert, key, _) = issue_with(&issuer, kind, subject, false, (not_before, not_after), &Publication::default())?;
    Ok((cert, key))
}

/// Writes a seal for each of `agencies` (code, name) under `seals/<code>/` (seal.pem and
/// seal.key, ECDSA P-256), issued by the demo root in `dir`, naming `publication`'s URLs; an
/// agency whose seal is already there keeps it. Returns the files written.
pub fn demo_seals(dir: &Path, seals: &Path, agencies: &[(&str, &str)], publication: &Publication) -> Result<Vec<PathBuf>, PkiError> {
    let root_path = dir.join("root.key");
    let root_pem = std::fs::read_to_string(&root_path).map_err(|e| PkiError::Read { path: root_path.display().to_string(), source: e })?;
    let issuer = Issuer::new(root_params(chrono::Utc::now().timestamp())?, KeyPair::from_pem(&root_pem)?);
    let now = chrono::Utc::now().timestamp();
    let mut written = Vec::new();
    for (code, name) in agencies {
        let seal_dir = seals.join(code);
        if seal_dir.join("seal.key").exists() {
            continue;
        }
        std::fs::create_dir_all(&seal_dir).map_err(|e| PkiError::Write { path: seal_dir.display().to_string(), source: e })?;
        let subject = Subject { common_name: name, title: None, organization: name };
        let (cert, key, _) = issue_with(&issuer, KeyKind::EcdsaP256, &subject, false, (now - DAY, now + 2 * 365 * DAY), publication)?;
        written.push(write(&seal_dir, "seal.pem", &cert)?);
        written.push(write(&seal_dir, "seal.key", &key)?);
    }
    Ok(written)
}

/// The root's CRL (DER) listing `revoked`, revoked an hour before `now`.
fn crl(issuer: &Issuer<'_, KeyPair>, revoked: &[SerialNumber], now: i64) -> Result<Vec<u8>, PkiError> {
    let params = CertificateRevocationListParams {
        this_update: time_at(now - 60)?,
        next_update: time_at(now + 7 * DAY)?,
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: revoked
            .iter()
            .map(|serial| {
                Ok(RevokedCertParams {
                    serial_number: serial.clone(),
                    revocation_time: time_at(now - 3600)?,
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
            })
            .collect::<Result<_, PkiError>>()?,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    Ok(params.signed_by(issuer)?.der().to_vec())
}

fn root_params(now: i64) -> Result<CertificateParams, PkiError> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "VN");
    dn.push(DnType::OrganizationName, ROOT_ORG);
    dn.push(DnType::CommonName, ROOT_CN);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = time_at(now - DAY)?;
    p.not_after = time_at(now + 10 * 365 * DAY)?;
    p.serial_number = Some(random_serial()?);
    Ok(p)
}

/// Issues a certificate; returns its PEM, its key's PKCS#8 PEM and its serial number.
fn issue_with(
    issuer: &Issuer<'_, KeyPair>,
    kind: KeyKind,
    s: &Subject,
    tsa: bool,
    (from, to): (i64, i64),
    publication: &Publication,
) -> Result<(String, String, SerialNumber), PkiError> {
    let key = generate(kind)?;
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "VN");
    dn.push(DnType::OrganizationName, s.organization);
    if let Some(title) = s.title {
        dn.push(DnType::CustomDnType(TITLE.to_vec()), title);
    }
    dn.push(DnType::CommonName, s.common_name);
    p.distinguished_name = dn;
    p.is_ca = IsCa::ExplicitNoCa;
    p.not_before = time_at(from)?;
    p.not_after = time_at(to)?;
    let serial = random_serial()?;
    p.serial_number = Some(serial.clone());
    p.use_authority_key_identifier_extension = true;
    if let Some(url) = publication.crl_url {
        p.crl_distribution_points = vec![CrlDistributionPoint { uris: vec![url.to_string()] }];
    }
    if let Some(url) = publication.ocsp_url {
        p.custom_extensions.push(CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], ocsp_access(url)?));
    }
    if tsa {
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        // RFC 3161 §2.3: the TSA certificate's extended key usage must be critical.
        let mut eku = CustomExtension::from_oid_content(&[2, 5, 29, 37], EKU_TIME_STAMPING.to_vec());
        eku.set_criticality(true);
        p.custom_extensions.push(eku);
    } else {
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
    }
    let cert = p.signed_by(&key, issuer)?;
    Ok((cert.pem(), key.serialize_pem(), serial))
}

/// The DER of an Authority Information Access extension naming one OCSP responder.
pub(crate) fn ocsp_access(url: &str) -> Result<Vec<u8>, PkiError> {
    use der::Encode;
    use x509_cert::ext::pkix::{name::GeneralName, AccessDescription, AuthorityInfoAccessSyntax};
    let bad = |e: der::Error| PkiError::KeyGen(format!("OCSP URL {url}: {e}"));
    let location = GeneralName::UniformResourceIdentifier(der::asn1::Ia5String::new(url).map_err(bad)?);
    AuthorityInfoAccessSyntax(vec![AccessDescription { access_method: crate::sign::oid::AD_OCSP, access_location: location }])
        .to_der()
        .map_err(bad)
}

fn generate(kind: KeyKind) -> Result<KeyPair, PkiError> {
    match kind {
        KeyKind::EcdsaP256 => Ok(KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?),
        KeyKind::Rsa2048 => {
            // ring cannot generate RSA keys; the RustCrypto `rsa` crate does, and ring signs.
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(|e| PkiError::KeyGen(e.to_string()))?;
            let der = key.to_pkcs8_der().map_err(|e| PkiError::KeyGen(e.to_string()))?;
            Ok(KeyPair::from_pkcs8_der_and_sign_algo(&der.as_bytes().into(), &PKCS_RSA_SHA256)?)
        }
    }
}

fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).map_err(|_| PkiError::KeyGen("no randomness".into()))?;
    // Positive and without a leading zero byte.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

fn time_at(unix: i64) -> Result<time::OffsetDateTime, PkiError> {
    time::OffsetDateTime::from_unix_timestamp(unix).map_err(|e| PkiError::KeyGen(e.to_string()))
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) -> Result<PathBuf, PkiError> {
    let path = dir.join(name);
    let err = |e| PkiError::Write { path: path.display().to_string(), source: e };
    std::fs::write(&path, content).map_err(err)?;
    if name.ends_with(".key") {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    Ok(path)
}
