//! C2SP signed notes with Ed25519 keys: a text, a blank line, then one signature line
//! `— <name> <base64(key id || signature)>` per signer.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, ED25519};
use sha2::{Digest as _, Sha256};
use std::fmt;

/// The signature algorithm byte that prefixes an Ed25519 public key.
const ALG_ED25519: u8 = 0x01;
/// Signature lines start with an em dash and a space.
const SIG_PREFIX: &str = "\u{2014} ";
/// More signatures than this is an attack, not a note.
const MAX_SIGNATURES: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed signed note: {0}")]
    Malformed(&'static str),
    #[error("no signature by key {name}+{key_id:08x}")]
    UnknownKey { name: String, key_id: u32 },
    #[error("signature by {name} does not verify")]
    BadSignature { name: String },
    #[error("bad key: {0}")]
    BadKey(&'static str),
    #[error("malformed checkpoint: {0}")]
    BadCheckpoint(&'static str),
    #[error("checkpoint origin {got:?} is not the key's log {want:?}")]
    OriginMismatch { want: String, got: String },
}

impl NoteError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            NoteError::Malformed(_) => "tlog_note_malformed",
            NoteError::UnknownKey { .. } => "tlog_unknown_key",
            NoteError::BadSignature { .. } => "tlog_bad_signature",
            NoteError::BadKey(_) => "tlog_bad_key",
            NoteError::BadCheckpoint(_) => "tlog_checkpoint_malformed",
            NoteError::OriginMismatch { .. } => "tlog_origin_mismatch",
        }
    }
}

/// A key name: non-empty, no white space, no `+`.
fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(char::is_whitespace) || name.contains('+') {
        return Err(NoteError::BadKey("a key name must be non-empty, without spaces or '+'"));
    }
    Ok(())
}

/// First four bytes of `SHA-256(name || "\n" || 0x01 || public key)`.
fn key_id(name: &str, public: &[u8]) -> u32 {
    let h = Sha256::new().chain_update(name).chain_update(b"\n").chain_update([ALG_ED25519]).chain_update(public).finalize();
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// An Ed25519 signing key and the name (the log's origin) it signs as.
pub struct SignerKey {
    name: String,
    key_id: u32,
    pair: Ed25519KeyPair,
    pkcs8: Vec<u8>,
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignerKey({}+{:08x})", self.name, self.key_id)
    }
}

impl SignerKey {
    /// A fresh random key.
    pub fn generate(name: &str) -> Result<Self, NoteError> {
        let doc = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new())
            .map_err(|_| NoteError::BadKey("the system random source failed"))?;
        Self::from_pkcs8_der(name, doc.as_ref())
    }

    /// From a 32-byte Ed25519 seed (RFC 8032 private key).
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        // RFC 8410 OneAsymmetricKey v1 for Ed25519: a fixed header, then the seed.
        let mut der = hex::decode("302e020100300506032b657004220420").expect("constant hex");
        der.extend_from_slice(seed);
        Self::from_pkcs8_der(name, &der)
    }

    /// From a PKCS#8 Ed25519 key, PEM (`PRIVATE KEY`) or DER.
    pub fn from_pkcs8(name: &str, bytes: &[u8]) -> Result<Self, NoteError> {
        let text = bytes.trim_ascii();
        if text.starts_with(b"-----BEGIN") {
            let (label, der) = der::pem::decode_vec(text).map_err(|_| NoteError::BadKey("unreadable PEM"))?;
            if label != "PRIVATE KEY" {
                return Err(NoteError::BadKey("expected a PEM `PRIVATE KEY` (PKCS#8)"));
            }
            return Self::from_pkcs8_der(name, &der);
        }
        Self::from_pkcs8_der(name, bytes)
    }

    fn from_pkcs8_der(name: &str, der: &[u8]) -> Result<Self, NoteError> {
        check_name(name)?;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|_| NoteError::BadKey("not a PKCS#8 Ed25519 key"))?;
        let key_id = key_id(name, pair.public_key().as_ref());
        Ok(SignerKey { name: name.to_owned(), key_id, pair, pkcs8: der.to_vec() })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The PKCS#8 key as PEM, for `tlog.key`.
    pub fn to_pkcs8_pem(&self) -> String {
        der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &self.pkcs8).expect("PEM encoding of a small key")
    }

    /// The matching verifier key.
    pub fn verifier(&self) -> VerifierKey {
        let mut public = [0u8; 32];
        public.copy_from_slice(self.pair.public_key().as_ref());
        VerifierKey { name: self.name.clone(), key_id: self.key_id, public }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

/// An Ed25519 public key with its name, written `<name>+<hex key id>+<base64(0x01 || key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    key_id: u32,
    public: [u8; 32],
}

impl VerifierKey {
    /// Parses a verifier key string; the key id must match the name and key.
    pub fn parse(s: &str) -> Result<Self, NoteError> {
        let s = s.trim_end_matches(['\n', '\r']);
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(key_b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::BadKey("a verifier key is <name>+<key id>+<key>"));
        };
        check_name(name)?;
        if id_hex.len() != 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(NoteError::BadKey("the key id is not 8 hex digits"));
        }
        let id = u32::from_str_radix(id_hex, 16).map_err(|_| NoteError::BadKey("the key id is not 8 hex digits"))?;
        let key = BASE64.decode(key_b64).map_err(|_| NoteError::BadKey("the key is not base64"))?;
        let (&alg, public) = key.split_first().ok_or(NoteError::BadKey("empty key"))?;
        if alg != ALG_ED25519 {
            return Err(NoteError::BadKey("not an Ed25519 key (algorithm byte 0x01)"));
        }
        let public: [u8; 32] = public.try_into().map_err(|_| NoteError::BadKey("an Ed25519 key is 32 bytes"))?;
        if key_id(name, &public) != id {
            return Err(NoteError::BadKey("the key id does not match the name and key"));
        }
        Ok(VerifierKey { name: name.to_owned(), key_id: id, public })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, self.public).verify(message, signature).is_ok()
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = vec![ALG_ED25519];
        key.extend_from_slice(&self.public);
        write!(f, "{}+{:08x}+{}", self.name, self.key_id, BASE64.encode(key))
    }
}

impl std::str::FromStr for VerifierKey {
    type Err = NoteError;
    fn from_str(s: &str) -> Result<Self, NoteError> {
        VerifierKey::parse(s)
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    pub signature: Vec<u8>,
}

/// A signed note as read, before any signature is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

/// Note text: non-empty UTF-8 lines, each ending in a newline, without control characters.
fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("the text does not end with a newline"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed("the text holds control characters"));
    }
    Ok(())
}

impl Note {
    /// Signs `text` with every key: the signed note.
    pub fn sign(text: &str, keys: &[&SignerKey]) -> Result<String, NoteError> {
        check_text(text)?;
        if keys.is_empty() {
            return Err(NoteError::Malformed("a note needs at least one signature"));
        }
        let mut out = format!("{text}\n");
        for key in keys {
            let mut sig = key.key_id.to_be_bytes().to_vec();
            sig.extend(key.sign(text.as_bytes()));
            out.push_str(&format!("{SIG_PREFIX}{} {}\n", key.name, BASE64.encode(sig)));
        }
        Ok(out)
    }

    /// Splits a signed note into its text and signature lines; verifies nothing.
    pub fn parse(bytes: &[u8]) -> Result<Note, NoteError> {
        let msg = std::str::from_utf8(bytes).map_err(|_| NoteError::Malformed("not UTF-8"))?;
        let split = msg.rfind("\n\n").ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let (text, sigs) = (&msg[..split + 1], &msg[split + 2..]);
        check_text(text)?;
        if sigs.is_empty() || !sigs.ends_with('\n') {
            return Err(NoteError::Malformed("the signatures do not end with a newline"));
        }
        let mut signatures = Vec::new();
        for line in sigs[..sigs.len() - 1].split('\n') {
            let rest = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed("a signature line does not start with '— '"))?;
            let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed("a signature line has no signature"))?;
            check_name(name).map_err(|_| NoteError::Malformed("a signature line has a bad key name"))?;
            let raw = BASE64.decode(b64).map_err(|_| NoteError::Malformed("a signature is not base64"))?;
            if raw.len() < 5 {
                return Err(NoteError::Malformed("a signature is too short"));
            }
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::Malformed("too many signatures"));
            }
            let key_id = u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]);
            signatures.push(NoteSignature { name: name.to_owned(), key_id, signature: raw[4..].to_vec() });
        }
        Ok(Note { text: text.to_owned(), signatures })
    }

    /// Checks that `key` signed the text: at least one of its signatures is present and
    /// every one present verifies. Signatures by other keys are ignored.
    pub fn verify(&self, key: &VerifierKey) -> Result<(), NoteError> {
        let mut by_key = self.signatures.iter().filter(|s| s.name == key.name && s.key_id == key.key_id).peekable();
        if by_key.peek().is_none() {
            return Err(NoteError::UnknownKey { name: key.name.clone(), key_id: key.key_id });
        }
        for sig in by_key {
            if !key.verifies(self.text.as_bytes(), &sig.signature) {
                return Err(NoteError::BadSignature { name: sig.name.clone() });
            }
        }
        Ok(())
    }

    /// Parses and verifies in one step.
    pub fn open(bytes: &[u8], key: &VerifierKey) -> Result<Note, NoteError> {
        let note = Note::parse(bytes)?;
        note.verify(key)?;
        Ok(note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SignerKey {
        SignerKey::from_seed("example.com/log", &[7; 32]).unwrap()
    }

    #[test]
    fn verifier_keys_round_trip_and_check_their_id() {
        let vkey = key().verifier();
        let text = vkey.to_string();
        assert!(text.starts_with(&format!("example.com/log+{:08x}+A", vkey.key_id())), "{text}");
        assert_eq!(VerifierKey::parse(&text).unwrap(), vkey);
        let other_id = format!("example.com/log+{:08x}+{}", vkey.key_id() ^ 1, text.splitn(3, '+').nth(2).unwrap());
        assert_eq!(VerifierKey::parse(&other_id).unwrap_err().code(), "tlog_bad_key");
        for bad in ["", "name", "name+0000", "na me+00000000+AQ==", "name+zzzzzzzz+AQ==", "name+00000000+AgAA"] {
            assert_eq!(VerifierKey::parse(bad).unwrap_err().code(), "tlog_bad_key", "{bad:?}");
        }
    }

    #[test]
    fn pkcs8_pem_round_trips() {
        let k = SignerKey::generate("log").unwrap();
        let again = SignerKey::from_pkcs8("log", k.to_pkcs8_pem().as_bytes()).unwrap();
        assert_eq!(again.verifier(), k.verifier());
        assert!(SignerKey::from_pkcs8("log", b"-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n").is_err());
        assert!(SignerKey::from_pkcs8("bad name", k.to_pkcs8_pem().as_bytes()).is_err());
    }

    #[test]
    fn signed_notes_open_with_their_key_only() {
        let (k, other) = (key(), SignerKey::from_seed("example.com/log", &[8; 32]).unwrap());
        let signed = Note::sign("hello\nworld\n", &[&k, &other]).unwrap();
        let note = Note::open(signed.as_bytes(), &k.verifier()).unwrap();
        assert_eq!(note.text, "hello\nworld\n");
        assert_eq!(note.signatures.len(), 2);
        let stranger = SignerKey::from_seed("elsewhere", &[7; 32]).unwrap();
        assert_eq!(Note::open(signed.as_bytes(), &stranger.verifier()).unwrap_err().code(), "tlog_unknown_key");
        let forged = signed.replacen("world", "w0rld", 1);
        assert_eq!(Note::open(forged.as_bytes(), &k.verifier()).unwrap_err().code(), "tlog_bad_signature");
    }

    #[test]
    fn malformed_notes_are_refused() {
        let k = key();
        assert_eq!(Note::sign("no newline", &[&k]).unwrap_err().code(), "tlog_note_malformed");
        assert_eq!(Note::sign("tab\there\n", &[&k]).unwrap_err().code(), "tlog_note_malformed");
        let good = Note::sign("text\n", &[&k]).unwrap();
        let cases = [
            good.trim_end().to_owned(),
            good.replace("\n\n", "\n"),
            good.replace('\u{2014}', "-"),
            good.replacen(" ", "", 1),
            format!("{good}\n"),
            "text\n\n".to_owned(),
            good.replace("text\n", "\u{1}\n"),
        ];
        for bad in cases {
            assert_eq!(Note::parse(bad.as_bytes()).unwrap_err().code(), "tlog_note_malformed", "{bad:?}");
        }
        assert!(Note::parse(&[0xff, b'\n', b'\n']).is_err());
    }
}
