//! Proof verification exactly as RFC 9162 §2.1.3.2 and §2.1.4.2 write it. Hashes are taken
//! as byte slices: a value of the wrong length simply never matches.

use super::merkle::{node_hash, MerkleError, Result};

const HASH_LEN: usize = 32;

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`.
pub fn verify_inclusion<P: AsRef<[u8]>>(leaf_hash: &[u8], index: u64, size: u64, proof: &[P], root: &[u8]) -> Result<()> {
    if index >= size {
        return Err(MerkleError::BadProof("leaf index is not below the tree size"));
    }
    // A one-leaf tree's root is its leaf: only the length keeps "" from proving "".
    if leaf_hash.len() != HASH_LEN {
        return Err(MerkleError::BadProof("the leaf hash is not a SHA-256 hash"));
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = leaf_hash.to_vec();
    for p in proof {
        let p = p.as_ref();
        if sn == 0 {
            return Err(MerkleError::BadProof("inclusion proof is too long"));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r).to_vec();
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p).to_vec();
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(MerkleError::BadProof("inclusion proof is too short"));
    }
    if r != root {
        return Err(MerkleError::BadProof("inclusion proof does not lead to the root"));
    }
    Ok(())
}

/// Checks that the tree of `m` leaves with root `old_root` is a prefix of the tree of `n`
/// leaves with root `new_root`. `m == 0` is refused: every tree extends the empty one, so
/// such a proof shows nothing.
pub fn verify_consistency<P: AsRef<[u8]>>(m: u64, n: u64, proof: &[P], old_root: &[u8], new_root: &[u8]) -> Result<()> {
    if m == 0 {
        return Err(MerkleError::BadProof("consistency from the empty tree proves nothing"));
    }
    if m > n {
        return Err(MerkleError::BadProof("old tree is larger than the new one"));
    }
    if m == n {
        if !proof.is_empty() {
            return Err(MerkleError::BadProof("proof between equal sizes must be empty"));
        }
        if old_root != new_root {
            return Err(MerkleError::BadProof("equal sizes with different roots"));
        }
        return Ok(());
    }
    // 1. An empty path fails.
    if proof.is_empty() {
        return Err(MerkleError::BadProof("consistency proof is empty"));
    }
    // 2. If `first` is an exact power of two, the old root starts the path.
    let mut path: Vec<&[u8]> = proof.iter().map(AsRef::as_ref).collect();
    if m.is_power_of_two() {
        path.insert(0, old_root);
    }
    // 3, 4.
    let (mut fn_, mut sn) = (m - 1, n - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5.
    let mut fr = path[0].to_vec();
    let mut sr = path[0].to_vec();
    // 6.
    for c in &path[1..] {
        if sn == 0 {
            return Err(MerkleError::BadProof("consistency proof is too long"));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr).to_vec();
            sr = node_hash(c, &sr).to_vec();
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c).to_vec();
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7.
    if sn != 0 {
        return Err(MerkleError::BadProof("consistency proof is too short"));
    }
    if fr != old_root {
        return Err(MerkleError::BadProof("consistency proof does not lead to the old root"));
    }
    if sr != new_root {
        return Err(MerkleError::BadProof("consistency proof does not lead to the new root"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::merkle::{leaf_hash, Hash};

    #[test]
    fn single_leaf_tree_needs_no_path() {
        let leaf = leaf_hash(b"x");
        assert!(verify_inclusion::<Hash>(&leaf, 0, 1, &[], &leaf).is_ok());
        assert!(verify_inclusion::<Hash>(&leaf, 1, 1, &[], &leaf).is_err());
        assert!(verify_inclusion(&leaf, 0, 1, &[leaf], &leaf).is_err());
        assert!(verify_inclusion::<Hash>(b"", 0, 1, &[], b"").is_err());
    }

    #[test]
    fn two_leaf_tree_by_hand() {
        let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
        let root = node_hash(&a, &b);
        assert!(verify_inclusion(&a, 0, 2, &[b], &root).is_ok());
        assert!(verify_inclusion(&b, 1, 2, &[a], &root).is_ok());
        assert!(verify_inclusion(&a, 1, 2, &[b], &root).is_err());
        assert!(verify_consistency(1, 2, &[b], &a, &root).is_ok());
        assert!(verify_consistency(1, 2, &[a], &b, &root).is_err());
        assert_eq!(verify_consistency::<Hash>(0, 2, &[], &a, &root).unwrap_err().code(), "tlog_bad_proof");
    }
}
