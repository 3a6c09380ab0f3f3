//! Keys and certificates from files: PEM or DER, PKCS#8 or PKCS#1 keys, signed with `ring`.

use super::{KeyAlgorithm, SignError, Signer};
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use std::path::Path;

/// Largest key or certificate file read (PEM bundles of a long chain stay far below).
const MAX_FILE_BYTES: u64 = 1 << 20;

enum Key {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

/// A private key held in memory, read from a file, with its certificate and chain.
pub struct FileSigner {
    key: Key,
    certificate: Vec<u8>,
    chain: Vec<Vec<u8>>,
    rng: SystemRandom,
}

// The key never appears in debug output or logs.
impl std::fmt::Debug for FileSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSigner").field("algorithm", &self.algorithm()).finish_non_exhaustive()
    }
}

impl FileSigner {
    /// Reads the key, the signer's certificate (first in `cert`) and the chain (the rest of
    /// `cert`, then `chain`), and checks that the key belongs to the certificate.
    pub fn from_files(key: &Path, cert: &Path, chain: Option<&Path>) -> Result<Self, SignError> {
        let key_bytes = read_limited(key)?;
        let mut certs = load_certificates(cert)?;
        if certs.is_empty() {
            return Err(SignError::Certificate(format!("{}: no certificate found", cert.display())));
        }
        if let Some(chain) = chain {
            certs.extend(load_certificates(chain)?);
        }
        let certificate = certs.remove(0);
        let mut signer = Self::from_der_or_pem(&key_bytes, certificate, certs).map_err(|e| match e {
            SignError::Key { reason, .. } => SignError::Key { path: key.display().to_string(), reason },
            other => other,
        })?;
        signer.chain.retain(|c| c != &signer.certificate);
        signer.chain.dedup();
        Ok(signer)
    }

    /// Reads a PKCS#12 file (`.p12`/`.pfx`): the key, the certificate that matches it, and
    /// the other certificates as the chain, plus `chain` if given.
    pub fn from_pkcs12(path: &Path, password: &str, chain: Option<&Path>) -> Result<Self, SignError> {
        let bytes = read_limited(path)?;
        let key_err = |reason: String| SignError::Key { path: path.display().to_string(), reason };
        let archive = p12_keystore::Pkcs12Archive::from_pkcs12(&bytes, password).map_err(|e| key_err(format!("PKCS#12: {e}")))?;
        let key = archive.keys.first().ok_or_else(|| key_err("no private key in the PKCS#12 file".into()))?;
        let mut certs: Vec<Vec<u8>> = archive.certs.iter().map(|c| c.cert.as_der().to_vec()).collect();
        if let Some(chain) = chain {
            certs.extend(load_certificates(chain)?);
        }
        for i in 0..certs.len() {
            let others: Vec<Vec<u8>> = certs.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, c)| c.clone()).collect();
            match Self::from_der_or_pem(key.key.as_der(), certs[i].clone(), others) {
                Ok(signer) => return Ok(signer),
                Err(SignError::KeyMismatch(_)) | Err(SignError::Certificate(_)) => continue,
                Err(SignError::Key { reason, .. }) => return Err(key_err(reason)),
                Err(e) => return Err(e),
            }
        }
        Err(key_err("no certificate in the PKCS#12 file matches its key".into()))
    }

    /// Builds a signer from key bytes (PEM or DER; PKCS#8 or PKCS#1 RSA) and DER certificates.
    pub fn from_der_or_pem(key: &[u8], certificate: Vec<u8>, chain: Vec<Vec<u8>>) -> Result<Self, SignError> {
        let (label, der_bytes) = match pem_blocks(key).into_iter().find(|(l, _)| l.ends_with("PRIVATE KEY")) {
            Some(block) => block,
            None if key.starts_with(b"-----") => return Err(key_error("no PRIVATE KEY block in the PEM file")),
            None => ("PRIVATE KEY".to_string(), key.to_vec()),
        };
        let rng = SystemRandom::new();
        let key = match label.as_str() {
            "PRIVATE KEY" => {
                if let Ok(k) = RsaKeyPair::from_pkcs8(&der_bytes) {
                    Key::Rsa(k)
                } else {
                    EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &der_bytes, &rng)
                        .map(Key::Ecdsa)
                        .map_err(|_| key_error("not an RSA (2048 to 4096 bits) or ECDSA P-256 PKCS#8 key"))?
                }
            }
            "RSA PRIVATE KEY" => Key::Rsa(RsaKeyPair::from_der(&der_bytes).map_err(|_| key_error("not an RSA key of 2048 to 4096 bits"))?),
            "ENCRYPTED PRIVATE KEY" => return Err(key_error("encrypted keys are not supported; decrypt with `openssl pkcs8`")),
            "EC PRIVATE KEY" => return Err(key_error("SEC1 EC keys are not supported; convert with `openssl pkcs8 -topk8 -nocrypt`")),
            other => return Err(key_error(&format!("unsupported key type {other}"))),
        };
        let public = match &key {
            Key::Rsa(k) => k.public_key().as_ref().to_vec(),
            Key::Ecdsa(k) => k.public_key().as_ref().to_vec(),
        };
        let (_, parsed) = x509_parser::parse_x509_certificate(&certificate).map_err(|e| SignError::Certificate(e.to_string()))?;
        if parsed.public_key().subject_public_key.data.as_ref() != public.as_slice() {
            return Err(SignError::KeyMismatch(parsed.subject().to_string()));
        }
        Ok(FileSigner { key, certificate, chain, rng })
    }
}

fn key_error(reason: &str) -> SignError {
    SignError::Key { path: String::new(), reason: reason.to_string() }
}

impl Signer for FileSigner {
    fn certificate(&self) -> &[u8] {
        &self.certificate
    }
    fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }
    fn algorithm(&self) -> KeyAlgorithm {
        match self.key {
            Key::Rsa(_) => KeyAlgorithm::RsaSha256,
            Key::Ecdsa(_) => KeyAlgorithm::EcdsaP256Sha256,
        }
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        match &self.key {
            Key::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &self.rng, message, &mut sig)
                    .map_err(|_| SignError::Signing("RSA signing failed".into()))?;
                Ok(sig)
            }
            Key::Ecdsa(k) => {
                Ok(k.sign(&self.rng, message).map_err(|_| SignError::Signing("ECDSA signing failed".into()))?.as_ref().to_vec())
            }
        }
    }
}

fn read_limited(path: &Path) -> Result<Vec<u8>, SignError> {
    let err = |source| SignError::Read { path: path.display().to_string(), source };
    let meta = std::fs::metadata(path).map_err(err)?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(SignError::Key { path: path.display().to_string(), reason: format!("larger than {MAX_FILE_BYTES} bytes") });
    }
    std::fs::read(path).map_err(err)
}

/// DER certificates from a PEM bundle (every `CERTIFICATE` block) or a single DER file.
pub fn load_certificates(path: &Path) -> Result<Vec<Vec<u8>>, SignError> {
    let bytes = read_limited(path)?;
    let certs = parse_certificates(&bytes);
    if certs.is_empty() && !bytes.is_empty() {
        return Err(SignError::Certificate(format!("{}: no readable certificate", path.display())));
    }
    Ok(certs)
}

pub(crate) fn parse_certificates(bytes: &[u8]) -> Vec<Vec<u8>> {
    let blocks = pem_blocks(bytes);
    let certs: Vec<Vec<u8>> = if blocks.is_empty() && bytes.first() == Some(&0x30) {
        vec![bytes.to_vec()]
    } else {
        blocks.into_iter().filter(|(l, _)| l == "CERTIFICATE").map(|(_, d)| d).collect()
    };
    certs.into_iter().filter(|c| x509_parser::parse_x509_certificate(c).is_ok()).collect()
}

/// Every PEM block in `bytes` as (label, DER); undecodable blocks are skipped.
pub(crate) fn pem_blocks(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let Ok(text) = std::str::from_utf8(bytes) else { return Vec::new() };
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(begin) = rest.find("-----BEGIN ") {
        let after = &rest[begin..];
        let Some(label_end) = after[11..].find("-----") else { break };
        let label = &after[11..11 + label_end];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = after.find(&end_marker) else { break };
        let block = &after[..end + end_marker.len()];
        if let Ok((l, der_bytes)) = der::pem::decode_vec(block.as_bytes()) {
            out.push((l.to_string(), der_bytes));
        }
        rest = &after[end + end_marker.len()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_are_split_and_labelled() {
        let pem = "junk\n-----BEGIN A-----\nAQID\n-----END A-----\n-----BEGIN B KEY-----\nBAU=\n-----END B KEY-----\n";
        let blocks = pem_blocks(pem.as_bytes());
        assert_eq!(blocks, vec![("A".to_string(), vec![1, 2, 3]), ("B KEY".to_string(), vec![4, 5])]);
        assert!(pem_blocks(b"\xff\xfe").is_empty());
    }

    #[test]
    fn garbage_keys_are_rejected_without_panic() {
        assert!(FileSigner::from_der_or_pem(b"nonsense", vec![], vec![]).is_err());
        assert!(
            FileSigner::from_der_or_pem(b"-----BEGIN EC PRIVATE KEY-----\nAQID\n-----END EC PRIVATE KEY-----\n", vec![], vec![]).is_err()
        );
    }
}
