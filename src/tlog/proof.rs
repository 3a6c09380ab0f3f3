//! Proofs as the API serves them and `sohoa tlog verify` reads them.

use super::merkle::{leaf_hash, Hash, MerkleError};
use super::verify::{verify_consistency, verify_inclusion};
use crate::domain::Digest;
use serde::{Deserialize, Serialize};

/// The leaf of an archived record: the 32 raw bytes of its manifest's SHA-256.
pub fn manifest_leaf_hash(manifest: &Digest) -> Hash {
    let mut raw = [0u8; 32];
    // A Digest holds 64 hex characters by construction.
    hex::decode_to_slice(manifest.as_str(), &mut raw).expect("a Digest is 64 hex characters");
    leaf_hash(&raw)
}

/// That the record's manifest is leaf `leaf_index` of the tree of `tree_size` leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    pub record: String,
    /// `sha256:<hex>` of the record's manifest.
    #[serde(with = "prefixed_digest")]
    pub manifest: Digest,
    pub leaf_index: u64,
    pub tree_size: u64,
    #[serde(with = "b64")]
    pub leaf_hash: Hash,
    #[serde(with = "b64_list")]
    pub hashes: Vec<Hash>,
    /// The signed checkpoint of `tree_size` that the proof leads to, when served with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

impl InclusionProof {
    /// Checks that the leaf is the manifest's and that the path leads to `root`.
    pub fn verify(&self, root: &Hash) -> Result<(), MerkleError> {
        if manifest_leaf_hash(&self.manifest) != self.leaf_hash {
            return Err(MerkleError::BadProof("the leaf hash is not the manifest's"));
        }
        verify_inclusion(&self.leaf_hash, self.leaf_index, self.tree_size, &self.hashes, root)
    }
}

/// That the tree of `from` leaves is a prefix of the tree of `to` leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    #[serde(with = "b64_list")]
    pub hashes: Vec<Hash>,
}

impl ConsistencyProof {
    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<(), MerkleError> {
        verify_consistency(self.from, self.to, &self.hashes, old_root, new_root)
    }
}

mod prefixed_digest {
    use crate::domain::Digest;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Digest, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&d.prefixed())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let text = String::deserialize(d)?;
        let hex = text.strip_prefix("sha256:").ok_or_else(|| serde::de::Error::custom("expected sha256:<hex>"))?;
        Digest::parse(hex).map_err(serde::de::Error::custom)
    }
}

mod b64 {
    use super::Hash;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(h))
    }

    pub fn decode<E: serde::de::Error>(text: &str) -> Result<Hash, E> {
        let raw = BASE64.decode(text).map_err(E::custom)?;
        raw.try_into().map_err(|_| E::custom("a hash is 32 bytes"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        decode(&String::deserialize(d)?)
    }
}

mod b64_list {
    use super::Hash;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(hashes: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(hashes.iter().map(|h| BASE64.encode(h)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        Vec::<String>::deserialize(d)?.iter().map(|t| super::b64::decode(t)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::MemoryLog;

    fn manifests() -> Vec<Digest> {
        (0u8..6).map(|i| Digest::of(&[i])).collect()
    }

    #[test]
    fn the_leaf_is_the_raw_manifest_digest() {
        let d = Digest::of(b"manifest");
        let raw = hex::decode(d.as_str()).unwrap();
        assert_eq!(manifest_leaf_hash(&d), leaf_hash(&raw));
        assert_ne!(manifest_leaf_hash(&d), leaf_hash(d.as_str().as_bytes()));
    }

    #[test]
    fn inclusion_proofs_round_trip_through_json() {
        let log = MemoryLog::from_leaves(manifests().iter().map(manifest_leaf_hash));
        let proof = InclusionProof {
            record: "r4".into(),
            manifest: manifests()[4].clone(),
            leaf_index: 4,
            tree_size: 6,
            leaf_hash: log.leaf(4).unwrap(),
            hashes: log.inclusion_proof(4, 6).unwrap(),
            checkpoint: None,
        };
        let json = serde_json::to_value(&proof).unwrap();
        assert_eq!(json["manifest"], manifests()[4].prefixed());
        assert!(json.get("checkpoint").is_none());
        let back: InclusionProof = serde_json::from_value(json).unwrap();
        assert_eq!(back, proof);
        assert!(back.verify(&log.root()).is_ok());
        let other = InclusionProof { manifest: manifests()[3].clone(), ..back };
        assert_eq!(other.verify(&log.root()).unwrap_err().code(), "tlog_bad_proof");
    }

    #[test]
    fn consistency_proofs_round_trip_through_json() {
        let log = MemoryLog::from_leaves(manifests().iter().map(manifest_leaf_hash));
        let proof = ConsistencyProof { from: 3, to: 6, hashes: log.consistency_proof(3, 6).unwrap() };
        let back: ConsistencyProof = serde_json::from_str(&serde_json::to_string(&proof).unwrap()).unwrap();
        assert!(back.verify(&log.root_at(3).unwrap(), &log.root()).is_ok());
        assert!(back.verify(&log.root_at(2).unwrap(), &log.root()).is_err());
    }

    #[test]
    fn short_hashes_do_not_parse() {
        let json = r#"{"from": 1, "to": 2, "hashes": ["AAAA"]}"#;
        assert!(serde_json::from_str::<ConsistencyProof>(json).is_err());
    }
}
