//! A log held in memory, for tests and tools.

use super::merkle::{self, Hash, NodeMap, Result};

/// Every perfect subtree of a growing tree, leaves included.
#[derive(Debug, Clone, Default)]
pub struct MemoryLog {
    size: u64,
    nodes: NodeMap,
}

impl MemoryLog {
    pub fn new() -> Self {
        Self::default()
    }

    /// A log of these leaf hashes, in order.
    pub fn from_leaves(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut log = Self::new();
        for leaf in leaves {
            log.append(leaf);
        }
        log
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn nodes(&self) -> &NodeMap {
        &self.nodes
    }

    /// Appends a leaf hash and returns its index.
    pub fn append(&mut self, leaf: Hash) -> u64 {
        let index = self.size;
        // A MemoryLog stores every node, so the ones appending reads are always there.
        let new = merkle::append_nodes(index, leaf, &self.nodes).expect("a memory log holds every node");
        self.nodes.extend(new);
        self.size += 1;
        index
    }

    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.nodes.get(&merkle::NodeId::new(0, index)).copied()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        merkle::root(self.size, &self.nodes).expect("a memory log holds every node")
    }

    /// The root when the log had `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        merkle::root(size, &self.nodes)
    }

    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.check_size(size)?;
        merkle::inclusion_proof(index, size, &self.nodes)
    }

    pub fn consistency_proof(&self, m: u64, n: u64) -> Result<Vec<Hash>> {
        self.check_size(n)?;
        merkle::consistency_proof(m, n, &self.nodes)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        if size > self.size {
            return Err(merkle::MerkleError::IndexOutOfRange { index: size, size: self.size });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tlog::{leaf_hash, node_hash, verify_consistency, verify_inclusion};

    #[test]
    fn roots_follow_the_rfc_split() {
        let leaves: Vec<Hash> = (0u8..5).map(|i| leaf_hash(&[i])).collect();
        let log = MemoryLog::from_leaves(leaves.clone());
        let left = node_hash(&node_hash(&leaves[0], &leaves[1]), &node_hash(&leaves[2], &leaves[3]));
        assert_eq!(log.root(), node_hash(&left, &leaves[4]));
        assert_eq!(log.root_at(1).unwrap(), leaves[0]);
        assert_eq!(log.root_at(0).unwrap(), merkle::empty_root());
        assert_eq!(log.root_at(6).unwrap_err().code(), "tlog_index_out_of_range");
        assert_eq!(log.leaf(4), Some(leaves[4]));
    }

    #[test]
    fn proofs_verify_across_growth() {
        let mut log = MemoryLog::new();
        for i in 0u32..20 {
            log.append(leaf_hash(&i.to_be_bytes()));
        }
        let (old, new) = (log.root_at(13).unwrap(), log.root());
        let proof = log.consistency_proof(13, 20).unwrap();
        assert!(verify_consistency(13, 20, &proof, &old, &new).is_ok());
        let path = log.inclusion_proof(12, 13).unwrap();
        assert!(verify_inclusion(&log.leaf(12).unwrap(), 12, 13, &path, &old).is_ok());
        assert!(verify_inclusion(&log.leaf(12).unwrap(), 12, 13, &path, &new).is_err());
    }
}
