//! The transparency log: an RFC 9162 Merkle tree with one leaf per archived record,
//! C2SP signed checkpoints, and inclusion and consistency proofs.

mod checkpoint;
mod memory;
mod merkle;
mod note;
mod proof;
mod verify;

pub use checkpoint::Checkpoint;
pub use memory::MemoryLog;
pub use merkle::{
    append_batch, append_batch_needs, append_needs, append_nodes, consistency_needs, consistency_proof, empty_root, inclusion_needs,
    inclusion_proof, leaf_hash, node_hash, root, root_needs, Hash, MerkleError, NodeId, NodeMap,
};
pub use note::{Note, NoteError, NoteSignature, SignerKey, VerifierKey};
pub use proof::{manifest_leaf_hash, ConsistencyProof, InclusionProof};
pub use verify::{verify_consistency, verify_inclusion};
