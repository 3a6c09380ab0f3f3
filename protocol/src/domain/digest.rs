use super::{string_newtype, ParseError};
use sha2::{Digest as _, Sha256};

/// A SHA-256 digest, kept as 64 lower-case hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    /// Accepts 64 hex characters, optionally prefixed by `sha256:`; upper case is folded.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let hex = s.strip_prefix("sha256:").unwrap_or(s);
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseError::new("digest", s, "expected 64 hex characters of SHA-256"));
        }
        Ok(Digest(hex.to_ascii_lowercase()))
    }

    pub fn of(bytes: &[u8]) -> Self {
        Digest(hex::encode(Sha256::digest(bytes)))
    }

    pub fn from_hasher(h: Sha256) -> Self {
        Digest(hex::encode(h.finalize()))
    }

    /// `sha256:<hex>`, the form used in manifests and API responses.
    pub fn prefixed(&self) -> String {
        format!("sha256:{}", self.0)
    }
}

string_newtype!(Digest);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_parses() {
        let d = Digest::of(b"abc");
        assert_eq!(d.as_str(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(Digest::parse(&d.prefixed()).unwrap(), d);
        assert_eq!(Digest::parse(&d.as_str().to_uppercase()).unwrap(), d);
    }

    #[test]
    fn rejects_non_digests() {
        for bad in ["", "abc", "sha1:ba7816bf", &"g".repeat(64), &"a".repeat(63), &"a".repeat(65)] {
            assert!(Digest::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
