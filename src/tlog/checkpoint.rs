//! C2SP tlog-checkpoint: the origin, the tree size and the root hash, as a signed note.

use super::merkle::Hash;
use super::note::{Note, NoteError, SignerKey, VerifierKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

/// A log's state: `size` leaves with root `root`, as signed by the log named `origin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Optional lines after the root, kept as given.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Self {
        Checkpoint { origin: origin.into(), size, root, extensions: Vec::new() }
    }

    /// The note text: origin, size, base64 root, then the extension lines.
    pub fn body(&self) -> String {
        let mut body = format!("{}\n{}\n{}\n", self.origin, self.size, BASE64.encode(self.root));
        for line in &self.extensions {
            body.push_str(line);
            body.push('\n');
        }
        body
    }

    /// The signed checkpoint, ready to serve.
    pub fn sign(&self, key: &SignerKey) -> Result<String, NoteError> {
        let body = self.body();
        // What `parse_body` would refuse must never be signed.
        if Checkpoint::parse_body(&body)? != *self {
            return Err(NoteError::BadCheckpoint("origin or extension lines are not single non-empty lines"));
        }
        Note::sign(&body, &[key])
    }

    /// Reads a signed checkpoint: the key must have signed it, and its origin must be the
    /// key's name.
    pub fn open(bytes: &[u8], key: &VerifierKey) -> Result<Checkpoint, NoteError> {
        let note = Note::open(bytes, key)?;
        let checkpoint = Checkpoint::parse_body(&note.text)?;
        if checkpoint.origin != key.name() {
            return Err(NoteError::OriginMismatch { want: key.name().to_owned(), got: checkpoint.origin });
        }
        Ok(checkpoint)
    }

    /// Parses a checkpoint body (the note text), strictly: a canonical decimal size and a
    /// canonical base64 SHA-256 root.
    pub fn parse_body(text: &str) -> Result<Checkpoint, NoteError> {
        let lines = text.strip_suffix('\n').ok_or(NoteError::BadCheckpoint("the body does not end with a newline"))?;
        let mut lines = lines.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
            return Err(NoteError::BadCheckpoint("fewer than three lines"));
        };
        if origin.is_empty() {
            return Err(NoteError::BadCheckpoint("empty origin"));
        }
        let canonical = size == "0" || (!size.starts_with('0') && !size.is_empty() && size.bytes().all(|b| b.is_ascii_digit()));
        let size: u64 = size.parse().ok().filter(|_| canonical).ok_or(NoteError::BadCheckpoint("the size is not a decimal number"))?;
        let root = BASE64.decode(root).map_err(|_| NoteError::BadCheckpoint("the root is not base64"))?;
        let root: Hash = root.try_into().map_err(|_| NoteError::BadCheckpoint("the root is not 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(NoteError::BadCheckpoint("empty extension line"));
        }
        Ok(Checkpoint { origin: origin.to_owned(), size, root, extensions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::merkle::empty_root;

    fn key() -> SignerKey {
        SignerKey::from_seed("sohoa.example/test", &[1; 32]).unwrap()
    }

    #[test]
    fn signs_and_opens() {
        let mut cp = Checkpoint::new("sohoa.example/test", 3, [9; 32]);
        cp.extensions.push("extra".into());
        let signed = cp.sign(&key()).unwrap();
        assert!(signed.starts_with("sohoa.example/test\n3\nCQkJ"), "{signed}");
        assert_eq!(Checkpoint::open(signed.as_bytes(), &key().verifier()).unwrap(), cp);
    }

    #[test]
    fn body_is_origin_size_root() {
        let cp = Checkpoint::new("o", 0, empty_root());
        assert_eq!(cp.body(), "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
    }

    #[test]
    fn origin_must_be_the_key_name() {
        let other = SignerKey::from_seed("other.example/log", &[1; 32]).unwrap();
        let signed = Checkpoint::new("sohoa.example/test", 1, [0; 32]).sign(&other).unwrap();
        assert_eq!(Checkpoint::open(signed.as_bytes(), &other.verifier()).unwrap_err().code(), "tlog_origin_mismatch");
    }

    #[test]
    fn refuses_what_it_cannot_read_back() {
        assert!(Checkpoint::new("two\nlines", 1, [0; 32]).sign(&key()).is_err());
        assert!(Checkpoint::new("", 1, [0; 32]).sign(&key()).is_err());
        let mut cp = Checkpoint::new("o", 1, [0; 32]);
        cp.extensions.push(String::new());
        assert!(cp.sign(&key()).is_err());
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let root = BASE64.encode([0u8; 32]);
        for bad in [
            format!("o\n1\n{root}"),
            format!("o\n01\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n-1\n{root}\n"),
            format!("o\n\n{root}\n"),
            format!("o\n18446744073709551616\n{root}\n"),
            format!("\n1\n{root}\n"),
            "o\n1\nAAAA\n".to_owned(),
            format!("o\n1\n{}\n", root.trim_end_matches('=')),
            format!("o\n1\n{root}\n\n"),
            "o\n1\n".to_owned(),
        ] {
            assert_eq!(Checkpoint::parse_body(&bad).unwrap_err().code(), "tlog_checkpoint_malformed", "{bad:?}");
        }
        assert_eq!(Checkpoint::parse_body(&format!("o\n0\n{root}\n")).unwrap().size, 0);
    }
}
