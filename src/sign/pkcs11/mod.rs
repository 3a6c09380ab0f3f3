//! Keys in a PKCS#11 module (an HSM, a smart card, SoftHSM2), named by an RFC 7512 URI:
//! the key signs inside the module and never leaves it.

mod keys;
mod token;
mod uri;

pub use uri::{ObjectType, Pkcs11Uri, UriError};

use super::{load_certificates, KeyAlgorithm, SignError, Signer};
use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
pub(crate) use keys::ecdsa_der;
use keys::{TokenKey, Verdict};
use std::path::Path;
use std::sync::{Mutex, PoisonError};
use token::{check_supported, find_slot, module, read_pin};

/// The module loaded when the URI has no `module-path`: Debian's SoftHSM2.
pub const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
/// Signed at start when the token shows no public key, to prove the key is the certificate's.
const PROBE: &[u8] = b"sohoa: does this key belong to the certificate";

#[derive(Debug, thiserror::Error)]
pub enum Pkcs11Error {
    #[error(transparent)]
    Uri(#[from] UriError),
    #[error("PKCS#11 module {path}: {reason}")]
    Module { path: String, reason: String },
    #[error("no initialized token matches {0}")]
    TokenNotFound(String),
    #[error("several tokens match {0}: add token=, serial= or slot-id=")]
    TokenAmbiguous(String),
    #[error("the token of {0} needs a PIN: seal_pin (SOHOA_SEAL_PIN_FILE) for the seal, SOHOA_KEY_PIN(_FILE) for `sohoa sign`, or pin-source=file:PATH in the URI")]
    PinMissing(String),
    #[error("cannot read the PIN file {path}: {reason}")]
    PinFile { path: String, reason: String },
    #[error("the token of {0} refused the PIN")]
    PinIncorrect(String),
    #[error("the token of {0} has locked its user PIN")]
    PinLocked(String),
    #[error("no private key matches {0}")]
    KeyNotFound(String),
    #[error("several private keys match {0}: add object= or id=")]
    KeyAmbiguous(String),
    #[error("no certificate on the token matches {0}; set seal_cert (--cert) or store the certificate with the key's label and id")]
    CertificateNotFound(String),
    #[error("{uri}: {reason}")]
    Unsupported { uri: String, reason: String },
    #[error("the private key {uri} does not match the certificate {subject}")]
    KeyMismatch { uri: String, subject: String },
    #[error(transparent)]
    Certificate(#[from] SignError),
    #[error("PKCS#11 {action}: {reason}")]
    Device { action: &'static str, reason: String, rv: Option<RvError> },
}

impl Pkcs11Error {
    /// Stable machine code for APIs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Pkcs11Error::Uri(e) => e.code(),
            Pkcs11Error::Module { .. } => "pkcs11_module_unavailable",
            Pkcs11Error::TokenNotFound(_) => "pkcs11_token_not_found",
            Pkcs11Error::TokenAmbiguous(_) => "pkcs11_token_ambiguous",
            Pkcs11Error::PinMissing(_) => "pkcs11_pin_missing",
            Pkcs11Error::PinFile { .. } => "pkcs11_pin_unreadable",
            Pkcs11Error::PinIncorrect(_) => "pkcs11_pin_incorrect",
            Pkcs11Error::PinLocked(_) => "pkcs11_pin_locked",
            Pkcs11Error::KeyNotFound(_) => "pkcs11_key_not_found",
            Pkcs11Error::KeyAmbiguous(_) => "pkcs11_key_ambiguous",
            Pkcs11Error::CertificateNotFound(_) => "pkcs11_certificate_not_found",
            Pkcs11Error::Unsupported { .. } => "pkcs11_unsupported",
            Pkcs11Error::KeyMismatch { .. } => "key_certificate_mismatch",
            Pkcs11Error::Certificate(e) => e.code(),
            Pkcs11Error::Device { .. } => "pkcs11_device_error",
        }
    }

    /// Whether the session died under us (token removed, module restarted): a new session may work.
    fn session_lost(&self) -> bool {
        use RvError::*;
        matches!(
            self,
            Pkcs11Error::Device {
                rv: Some(SessionHandleInvalid | SessionClosed | UserNotLoggedIn | TokenNotPresent | DeviceRemoved | CryptokiNotInitialized),
                ..
            }
        )
    }
}

fn device(action: &'static str) -> impl Fn(CkError) -> Pkcs11Error {
    move |e| match e {
        CkError::Pkcs11(rv, function) => Pkcs11Error::Device { action, reason: format!("C_{function:?} returned {rv:?}"), rv: Some(rv) },
        other => Pkcs11Error::Device { action, reason: other.to_string(), rv: None },
    }
}

/// How the token signs; the `*Digest` forms hash here, for modules without the combined mechanism.
#[derive(Debug, Clone, Copy)]
enum Scheme {
    RsaSha256,
    RsaDigest,
    EcdsaSha256,
    EcdsaDigest,
}

/// A logged-in session and the key's handle in it.
struct Live {
    session: Session,
    key: ObjectHandle,
}

/// A private key in a PKCS#11 token, with its certificate (from a file or the token) and chain.
pub struct Pkcs11Signer {
    module: Pkcs11,
    slot: Slot,
    pin: Option<AuthPin>,
    uri: Pkcs11Uri,
    scheme: Scheme,
    algorithm: KeyAlgorithm,
    /// The key asks for the PIN again before each signature (CKA_ALWAYS_AUTHENTICATE).
    always_authenticate: bool,
    certificate: Vec<u8>,
    chain: Vec<Vec<u8>>,
    // PKCS#11 sessions must not be used by two threads at once; signing is short, so one
    // session behind a lock serves every thread.
    live: Mutex<Option<Live>>,
}

// The PIN never appears in debug output or logs.
impl std::fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Signer").field("uri", &self.uri.to_string()).field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

impl Pkcs11Signer {
    /// Opens the token `uri` names, logs in with `pin` (or the URI's `pin-source` file), finds
    /// the private key and checks it against the certificate: the first of `certificate` (the
    /// rest is chain), or, without a file, the token's certificate with the key's label and id.
    pub fn open(uri: &Pkcs11Uri, pin: Option<&str>, certificate: Option<&Path>, chain: Option<&Path>) -> Result<Self, Pkcs11Error> {
        let unsupported = |reason: String| Pkcs11Error::Unsupported { uri: uri.to_string(), reason };
        check_supported(uri).map_err(unsupported)?;
        let module = module(uri.module_path.as_deref().unwrap_or(Path::new(DEFAULT_MODULE)))?;
        let slot = find_slot(&module, uri)?;
        let pin = match (pin, &uri.pin_source) {
            (Some(pin), _) => Some(AuthPin::from(pin.to_owned())),
            (None, Some(path)) => Some(read_pin(path)?),
            (None, None) => None,
        };
        let mut signer = Pkcs11Signer {
            module,
            slot,
            pin,
            uri: uri.clone(),
            scheme: Scheme::RsaSha256,
            algorithm: KeyAlgorithm::RsaSha256,
            always_authenticate: false,
            certificate: Vec::new(),
            chain: Vec::new(),
            live: Mutex::new(None),
        };
        let live = signer.connect()?;
        let key = signer.inspect_key(&live)?;
        let (candidates, mut issuers) = match certificate {
            Some(path) => {
                let mut certs = load_certificates(path)?;
                if certs.is_empty() {
                    return Err(SignError::Certificate(format!("{}: no certificate found", path.display())).into());
                }
                (vec![certs.remove(0)], certs)
            }
            None => (signer.token_certificates(&live)?, Vec::new()),
        };
        if let Some(chain) = chain {
            issuers.extend(load_certificates(chain)?);
        }
        *signer.live.get_mut().unwrap_or_else(PoisonError::into_inner) = Some(live);
        // Asked one by one: listing every mechanism logs an error for each one cryptoki lacks.
        let offered = |m| signer.module.get_mechanism_info(slot, m).is_ok_and(|info| info.sign());
        let mut mismatch = None;
        for candidate in candidates {
            let verdict = keys::judge(&key, &candidate).map_err(unsupported)?;
            let (Verdict::Matches(algorithm) | Verdict::Unknown(algorithm)) = verdict else {
                mismatch.get_or_insert(candidate);
                continue;
            };
            signer.algorithm = algorithm;
            signer.scheme = scheme(algorithm, offered)
                .ok_or_else(|| unsupported("the module offers neither SHA-256 nor raw signing for this key".into()))?;
            if matches!(verdict, Verdict::Unknown(_)) {
                let signature = signer.sign_locked(PROBE)?;
                if !keys::verifies(&candidate, algorithm, PROBE, &signature) {
                    mismatch.get_or_insert(candidate);
                    continue;
                }
            }
            issuers.retain(|c| c != &candidate);
            issuers.dedup();
            signer.certificate = candidate;
            signer.chain = issuers;
            return Ok(signer);
        }
        Err(match mismatch {
            Some(cert) => Pkcs11Error::KeyMismatch { uri: uri.to_string(), subject: subject(&cert) },
            None => Pkcs11Error::CertificateNotFound(uri.to_string()),
        })
    }

    /// A new session, logged in as the user when the token asks for it, and the key's handle.
    fn connect(&self) -> Result<Live, Pkcs11Error> {
        let session = self.module.open_ro_session(self.slot).map_err(device("opening a session"))?;
        let token = self.module.get_token_info(self.slot).map_err(device("reading the token"))?;
        let pin = match &self.pin {
            Some(pin) => Some(pin),
            None if token.protected_authentication_path() => None,
            None if !token.login_required() => return self.find_key(session),
            None => return Err(Pkcs11Error::PinMissing(self.uri.to_string())),
        };
        self.login(&session, UserType::User, pin)?;
        self.find_key(session)
    }

    fn login(&self, session: &Session, user: UserType, pin: Option<&AuthPin>) -> Result<(), Pkcs11Error> {
        match session.login(user, pin) {
            // Login state belongs to the token, shared by every session of the process.
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(()),
            Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange, _)) => {
                Err(Pkcs11Error::PinIncorrect(self.uri.to_string()))
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(Pkcs11Error::PinLocked(self.uri.to_string())),
            Err(e) => Err(device("logging in")(e)),
        }
    }

    fn find_key(&self, session: Session) -> Result<Live, Pkcs11Error> {
        let mut template = vec![Attribute::Class(ObjectClass::PRIVATE_KEY)];
        template.extend(self.label_and_id());
        let found = session.find_objects(&template).map_err(device("finding the key"))?;
        match found.as_slice() {
            [key] => Ok(Live { key: *key, session }),
            [] => Err(Pkcs11Error::KeyNotFound(self.uri.to_string())),
            _ => Err(Pkcs11Error::KeyAmbiguous(self.uri.to_string())),
        }
    }

    fn label_and_id(&self) -> Vec<Attribute> {
        let label = self.uri.object.as_ref().map(|l| Attribute::Label(l.as_bytes().to_vec()));
        label.into_iter().chain(self.uri.id.clone().map(Attribute::Id)).collect()
    }

    /// The key's type and public half; a key the module would let out is worth a warning.
    fn inspect_key(&mut self, live: &Live) -> Result<TokenKey, Pkcs11Error> {
        use AttributeType as A;
        let wanted = [A::KeyType, A::Id, A::Modulus, A::PublicExponent, A::Sensitive, A::Extractable, A::AlwaysAuthenticate];
        let attributes = live.session.get_attributes(live.key, &wanted).map_err(device("reading the key"))?;
        let (mut kind, mut id, mut modulus, mut exponent) = (None, Vec::new(), Vec::new(), Vec::new());
        let (mut sensitive, mut extractable) = (false, true);
        for attribute in attributes {
            match attribute {
                Attribute::KeyType(k) => kind = Some(k),
                Attribute::Id(v) => id = v,
                Attribute::Modulus(v) => modulus = v,
                Attribute::PublicExponent(v) => exponent = v,
                Attribute::Sensitive(v) => sensitive = v,
                Attribute::Extractable(v) => extractable = v,
                Attribute::AlwaysAuthenticate(v) => self.always_authenticate = v,
                _ => {}
            }
        }
        if !sensitive || extractable {
            tracing::warn!(key = %self.uri, sensitive, extractable, "the token would let this private key out: mark it sensitive and not extractable");
        }
        match kind {
            Some(KeyType::RSA) => Ok(TokenKey::Rsa { modulus, exponent }),
            Some(KeyType::EC) => Ok(TokenKey::Ec { point: self.public_point(&live.session, &id)? }),
            other => Err(Pkcs11Error::Unsupported { uri: self.uri.to_string(), reason: format!("key type {other:?}: RSA or EC only") }),
        }
    }

    /// The EC point of the public key object beside the private key (same id, else same label).
    fn public_point(&self, session: &Session, id: &[u8]) -> Result<Option<Vec<u8>>, Pkcs11Error> {
        let mut template = vec![Attribute::Class(ObjectClass::PUBLIC_KEY), Attribute::KeyType(KeyType::EC)];
        match (&self.uri.object, id.is_empty()) {
            (_, false) => template.push(Attribute::Id(id.to_vec())),
            (Some(label), true) => template.push(Attribute::Label(label.as_bytes().to_vec())),
            (None, true) => return Ok(None),
        }
        for handle in session.find_objects(&template).map_err(device("finding the public key"))? {
            let attributes = session.get_attributes(handle, &[AttributeType::EcPoint]).map_err(device("reading the public key"))?;
            if let Some(Attribute::EcPoint(point)) = attributes.into_iter().next() {
                return Ok(keys::ec_point(&point));
            }
        }
        Ok(None)
    }

    /// X.509 certificates on the token with the URI's label and id.
    fn token_certificates(&self, live: &Live) -> Result<Vec<Vec<u8>>, Pkcs11Error> {
        let mut template = vec![Attribute::Class(ObjectClass::CERTIFICATE), Attribute::CertificateType(CertificateType::X_509)];
        template.extend(self.label_and_id());
        let mut certs = Vec::new();
        for handle in live.session.find_objects(&template).map_err(device("finding the certificate"))? {
            let attributes = live.session.get_attributes(handle, &[AttributeType::Value]).map_err(device("reading the certificate"))?;
            certs.extend(attributes.into_iter().filter_map(|a| if let Attribute::Value(v) = a { Some(v) } else { None }));
        }
        Ok(certs)
    }

    /// Signs under the session lock; a session the token dropped is replaced once.
    fn sign_locked(&self, message: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        let mut live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        match self.sign_in(&mut live, message) {
            Err(e) if e.session_lost() => {
                tracing::warn!(key = %self.uri, error = %e, "pkcs11 session lost, opening a new one");
                *live = None;
                self.sign_in(&mut live, message)
            }
            result => result,
        }
    }

    fn sign_in(&self, live: &mut Option<Live>, message: &[u8]) -> Result<Vec<u8>, Pkcs11Error> {
        let live = match live.take() {
            Some(existing) => live.insert(existing),
            None => live.insert(self.connect()?),
        };
        let sign = |mechanism: &Mechanism, data: &[u8]| {
            if self.always_authenticate {
                self.login(&live.session, UserType::ContextSpecific, self.pin.as_ref())?;
            }
            live.session.sign(mechanism, live.key, data).map_err(device("signing"))
        };
        let ecdsa = |raw: Vec<u8>| keys::ecdsa_der(&raw).map_err(|reason| Pkcs11Error::Device { action: "signing", reason, rv: None });
        match self.scheme {
            Scheme::RsaSha256 => sign(&Mechanism::Sha256RsaPkcs, message),
            Scheme::RsaDigest => sign(&Mechanism::RsaPkcs, &keys::rsa_digest_info(message)),
            Scheme::EcdsaSha256 => ecdsa(sign(&Mechanism::EcdsaSha256, message)?),
            Scheme::EcdsaDigest => ecdsa(sign(&Mechanism::Ecdsa, &keys::sha256(message))?),
        }
    }
}

impl Signer for Pkcs11Signer {
    fn certificate(&self) -> &[u8] {
        &self.certificate
    }
    fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }
    fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        self.sign_locked(message).map_err(|e| SignError::Signing(format!("{}: {e}", self.uri)))
    }
}

/// The mechanism for `algorithm`: SHA-256 inside the module when it offers it, else raw.
fn scheme(algorithm: KeyAlgorithm, has: impl Fn(MechanismType) -> bool) -> Option<Scheme> {
    match algorithm {
        KeyAlgorithm::RsaSha256 if has(MechanismType::SHA256_RSA_PKCS) => Some(Scheme::RsaSha256),
        KeyAlgorithm::RsaSha256 if has(MechanismType::RSA_PKCS) => Some(Scheme::RsaDigest),
        KeyAlgorithm::EcdsaP256Sha256 if has(MechanismType::ECDSA_SHA256) => Some(Scheme::EcdsaSha256),
        KeyAlgorithm::EcdsaP256Sha256 if has(MechanismType::ECDSA) => Some(Scheme::EcdsaDigest),
        _ => None,
    }
}

fn subject(certificate: &[u8]) -> String {
    x509_parser::parse_x509_certificate(certificate).map(|(_, c)| c.subject().to_string()).unwrap_or_else(|_| "(unreadable)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_combined_mechanism_is_preferred_and_raw_signing_is_the_fallback() {
        let all = |_| true;
        assert!(matches!(scheme(KeyAlgorithm::RsaSha256, all), Some(Scheme::RsaSha256)));
        assert!(matches!(scheme(KeyAlgorithm::EcdsaP256Sha256, all), Some(Scheme::EcdsaSha256)));
        let raw_only = |m| m == MechanismType::RSA_PKCS || m == MechanismType::ECDSA;
        assert!(matches!(scheme(KeyAlgorithm::RsaSha256, raw_only), Some(Scheme::RsaDigest)));
        assert!(matches!(scheme(KeyAlgorithm::EcdsaP256Sha256, raw_only), Some(Scheme::EcdsaDigest)));
        assert!(scheme(KeyAlgorithm::EcdsaP256Sha256, |m| m == MechanismType::RSA_PKCS).is_none());
    }

    #[test]
    fn uris_sohoa_cannot_honour_are_refused_before_loading_anything() {
        let refused = |text: &str| check_supported(&Pkcs11Uri::parse(text).unwrap()).is_err();
        assert!(!refused("pkcs11:token=t;object=k;type=private?module-path=/m.so"));
        assert!(refused("pkcs11:object=k;type=cert"));
        assert!(refused("pkcs11:object=k;vendor-x=1"));
        assert!(refused("pkcs11:object=k?module-name=softhsm2"));
        let err = Pkcs11Signer::open(&Pkcs11Uri::parse("pkcs11:object=k?module-path=relative.so").unwrap(), None, None, None).unwrap_err();
        assert_eq!(err.code(), "pkcs11_module_unavailable");
    }
}
