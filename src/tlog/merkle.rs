//! RFC 9162 Merkle tree hashes over stored perfect subtrees.
//!
//! Storage keeps only the hashes of perfect subtrees ([`NodeId`]); every root, inclusion
//! proof and consistency proof of any tree size is computed from O(log n) of them. Each
//! computation comes as a pair: `*_needs` says which nodes to read, the function computes
//! from a [`NodeMap`] holding at least those.

use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::fmt;

/// A SHA-256 hash in the tree.
pub type Hash = [u8; 32];

/// The stored nodes a computation reads.
pub type NodeMap = HashMap<NodeId, Hash>;

/// A perfect subtree: `2^level` leaves starting at leaf `index << level`; level 0 is a leaf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    pub fn new(level: u8, index: u64) -> Self {
        NodeId { level, index }
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.level, self.index)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    #[error("leaf {index} is not in a tree of {size} leaves")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("no consistency proof from tree size {from} to {to}")]
    BadRange { from: u64, to: u64 },
    #[error("tree node {0} is not stored")]
    MissingNode(NodeId),
    #[error("the proof does not verify: {0}")]
    BadProof(&'static str),
}

impl MerkleError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            MerkleError::IndexOutOfRange { .. } => "tlog_index_out_of_range",
            MerkleError::BadRange { .. } => "tlog_bad_range",
            MerkleError::MissingNode(_) => "tlog_missing_node",
            MerkleError::BadProof(_) => "tlog_bad_proof",
        }
    }
}

pub type Result<T, E = MerkleError> = std::result::Result<T, E>;

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new().chain_update([0x00]).chain_update(data).finalize().into()
}

/// `SHA-256(0x01 || left || right)`; slices because verifiers hash proof bytes as given.
pub fn node_hash(left: &[u8], right: &[u8]) -> Hash {
    Sha256::new().chain_update([0x01]).chain_update(left).chain_update(right).finalize().into()
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The largest power of two smaller than `n` (`n > 1`): where RFC 9162 splits a tree.
fn split(n: u64) -> u64 {
    debug_assert!(n > 1);
    1 << (63 - (n - 1).leading_zeros())
}

/// The perfect subtrees that make up leaves `begin..end`, left to right. For the ranges the
/// RFC's recursion visits (`begin` aligned to the subtree it starts), folding them from the
/// right gives the range's MTH.
fn range_nodes(begin: u64, end: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut at = begin;
    while at < end {
        let level = at.trailing_zeros().min(63 - (end - at).leading_zeros());
        out.push(NodeId::new(level as u8, at >> level));
        at += 1 << level;
    }
    out
}

fn get(nodes: &NodeMap, id: NodeId) -> Result<Hash> {
    nodes.get(&id).copied().ok_or(MerkleError::MissingNode(id))
}

/// MTH of leaves `begin..end` (non-empty) from its perfect subtrees.
fn range_hash(begin: u64, end: u64, nodes: &NodeMap) -> Result<Hash> {
    let ids = range_nodes(begin, end);
    let (last, rest) = ids.split_last().ok_or(MerkleError::BadRange { from: begin, to: end })?;
    let mut hash = get(nodes, *last)?;
    for id in rest.iter().rev() {
        hash = node_hash(&get(nodes, *id)?, &hash);
    }
    Ok(hash)
}

fn needs_of(ranges: &[(u64, u64)]) -> Vec<NodeId> {
    ranges.iter().flat_map(|&(b, e)| range_nodes(b, e)).collect()
}

fn hashes_of(ranges: &[(u64, u64)], nodes: &NodeMap) -> Result<Vec<Hash>> {
    ranges.iter().map(|&(b, e)| range_hash(b, e, nodes)).collect()
}

/// The nodes [`root`] reads for a tree of `size` leaves.
pub fn root_needs(size: u64) -> Vec<NodeId> {
    range_nodes(0, size)
}

/// The root hash of the first `size` leaves.
pub fn root(size: u64, nodes: &NodeMap) -> Result<Hash> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(0, size, nodes)
}

/// The subtrees whose hashes form PATH(index, D[size]) of RFC 9162 §2.1.3.1, leaf first.
fn inclusion_ranges(index: u64, size: u64) -> Result<Vec<(u64, u64)>> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    let (mut begin, mut end) = (0, size);
    let mut out = Vec::new();
    while end - begin > 1 {
        let k = split(end - begin);
        if index < begin + k {
            out.push((begin + k, end));
            end = begin + k;
        } else {
            out.push((begin, begin + k));
            begin += k;
        }
    }
    out.reverse();
    Ok(out)
}

/// The nodes [`inclusion_proof`] reads.
pub fn inclusion_needs(index: u64, size: u64) -> Result<Vec<NodeId>> {
    Ok(needs_of(&inclusion_ranges(index, size)?))
}

/// The audit path of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof(index: u64, size: u64, nodes: &NodeMap) -> Result<Vec<Hash>> {
    hashes_of(&inclusion_ranges(index, size)?, nodes)
}

/// The subtrees whose hashes form PROOF(m, D[n]) of RFC 9162 §2.1.4.1, deepest first.
fn consistency_ranges(m: u64, n: u64) -> Result<Vec<(u64, u64)>> {
    if m == 0 || m > n {
        return Err(MerkleError::BadRange { from: m, to: n });
    }
    // SUBPROOF(m, D[begin..end], whole), unrolled: each step keeps one half and records the other.
    let (mut begin, mut end, mut whole) = (0, n, true);
    let mut out = Vec::new();
    while m - begin < end - begin {
        let k = split(end - begin);
        if m - begin <= k {
            out.push((begin + k, end));
            end = begin + k;
        } else {
            out.push((begin, begin + k));
            begin += k;
            whole = false;
        }
    }
    if !whole {
        out.push((begin, end));
    }
    out.reverse();
    Ok(out)
}

/// The nodes [`consistency_proof`] reads; `0 < m <= n`.
pub fn consistency_needs(m: u64, n: u64) -> Result<Vec<NodeId>> {
    Ok(needs_of(&consistency_ranges(m, n)?))
}

/// The proof that the tree of `m` leaves is a prefix of the tree of `n`; empty when `m == n`.
pub fn consistency_proof(m: u64, n: u64, nodes: &NodeMap) -> Result<Vec<Hash>> {
    hashes_of(&consistency_ranges(m, n)?, nodes)
}

/// The perfect subtrees that appending leaf number `size` completes, above the leaf
/// itself, as (new node, its left child, its right child).
fn completed(size: u64) -> impl Iterator<Item = (NodeId, NodeId, NodeId)> {
    let new_size = size + 1;
    (1..=new_size.trailing_zeros() as u8).map(move |level| {
        let index = (new_size >> level) - 1;
        (NodeId::new(level, index), NodeId::new(level - 1, 2 * index), NodeId::new(level - 1, 2 * index + 1))
    })
}

/// The stored nodes [`append_nodes`] reads: the left siblings on the new leaf's way up.
pub fn append_needs(size: u64) -> Vec<NodeId> {
    completed(size).map(|(_, left, _)| left).collect()
}

/// The nodes to store when leaf number `size` (0-based) is appended to a tree of `size`
/// leaves: the leaf and every perfect subtree it completes, bottom up.
pub fn append_nodes(size: u64, leaf: Hash, nodes: &NodeMap) -> Result<Vec<(NodeId, Hash)>> {
    let mut out = vec![(NodeId::new(0, size), leaf)];
    let mut right = leaf;
    for (id, left, _) in completed(size) {
        right = node_hash(&get(nodes, left)?, &right);
        out.push((id, right));
    }
    Ok(out)
}

/// The stored nodes [`append_batch`] reads to append `count` leaves to a tree of `size`:
/// the left siblings on each new leaf's way up that were complete before the batch (the
/// others the batch makes itself).
pub fn append_batch_needs(size: u64, count: u64) -> Vec<NodeId> {
    let stored = |id: &NodeId| (id.index + 1) << id.level <= size;
    let mut ids: Vec<NodeId> = (size..size + count).flat_map(append_needs).filter(stored).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// The nodes to store when `leaves` are appended in order to a tree of `size` leaves, as
/// [`append_nodes`] one after another would make them.
pub fn append_batch(size: u64, leaves: &[Hash], nodes: &NodeMap) -> Result<Vec<(NodeId, Hash)>> {
    let mut known = nodes.clone();
    let mut out = Vec::with_capacity(leaves.len() * 2);
    for (i, leaf) in leaves.iter().enumerate() {
        let new = append_nodes(size + i as u64, *leaf, &known)?;
        known.extend(new.iter().copied());
        out.extend(new);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_largest_smaller_power_of_two() {
        assert_eq!([2, 3, 4, 5, 8, 9].map(split), [1, 2, 2, 4, 4, 8]);
        assert_eq!(split(u64::MAX), 1 << 63);
    }

    #[test]
    fn ranges_decompose_into_aligned_perfect_subtrees() {
        assert_eq!(range_nodes(0, 7), [NodeId::new(2, 0), NodeId::new(1, 2), NodeId::new(0, 6)]);
        assert_eq!(range_nodes(4, 8), [NodeId::new(2, 1)]);
        assert_eq!(range_nodes(6, 7), [NodeId::new(0, 6)]);
    }

    #[test]
    fn appending_completes_each_subtree_once() {
        assert_eq!(append_needs(0), []);
        assert_eq!(append_needs(1), [NodeId::new(0, 0)]);
        assert_eq!(append_needs(2), []);
        assert_eq!(append_needs(7), [NodeId::new(0, 6), NodeId::new(1, 2), NodeId::new(2, 0)]);
    }

    #[test]
    fn a_batch_appends_as_one_leaf_after_another_reading_only_older_nodes() {
        let leaf = |i: u64| leaf_hash(&i.to_le_bytes());
        let mut stored = NodeMap::new();
        let mut size = 0;
        for count in [1u64, 2, 5, 1, 13, 8, 34] {
            let mut one_by_one = stored.clone();
            for i in size..size + count {
                let new = append_nodes(i, leaf(i), &one_by_one).unwrap();
                one_by_one.extend(new);
            }
            let needs = append_batch_needs(size, count);
            assert!(needs.iter().all(|id| stored.contains_key(id)), "size {size} count {count}: {needs:?}");
            let given: NodeMap = needs.iter().map(|id| (*id, stored[id])).collect();
            let leaves: Vec<Hash> = (size..size + count).map(leaf).collect();
            stored.extend(append_batch(size, &leaves, &given).unwrap());
            assert_eq!(stored, one_by_one, "size {size} count {count}");
            size += count;
        }
        assert_eq!(root(size, &stored).unwrap(), crate::tlog::MemoryLog::from_leaves((0..size).map(leaf)).root());
    }

    #[test]
    fn missing_nodes_are_named() {
        let err = root(2, &NodeMap::new()).unwrap_err();
        assert_eq!(err, MerkleError::MissingNode(NodeId::new(1, 0)));
        assert_eq!(err.code(), "tlog_missing_node");
    }

    #[test]
    fn out_of_range_requests_are_refused() {
        assert_eq!(inclusion_needs(3, 3).unwrap_err().code(), "tlog_index_out_of_range");
        assert_eq!(consistency_needs(0, 3).unwrap_err().code(), "tlog_bad_range");
        assert_eq!(consistency_needs(4, 3).unwrap_err().code(), "tlog_bad_range");
        assert_eq!(consistency_needs(3, 3).unwrap(), []);
    }

    #[test]
    fn proofs_read_logarithmically_many_nodes() {
        let n = 1_000_001;
        for i in [0, 1, 500_000, 999_999, 1_000_000] {
            assert!(inclusion_needs(i, n).unwrap().len() <= 2 * 21, "index {i}");
        }
        for m in [1, 3, 524_288, 999_999, 1_000_000] {
            assert!(consistency_needs(m, n).unwrap().len() <= 2 * 21, "m {m}");
        }
    }
}
