//! The transparency logs as clients read them: signed checkpoints, consistency proofs and
//! records' inclusion proofs, each computed from the index's stored nodes for the tree size
//! read at its start. Two trees share this code: the records' log and the access log.

use super::{Result, ServiceError};
use crate::domain::record::Record;
use crate::index::Index;
use crate::tlog::{self, Checkpoint, ConsistencyProof, Hash, InclusionProof, MerkleError, NodeId, SignerKey};
use std::sync::{Arc, Mutex};

/// Which of the index's trees: one leaf per record, or one per read of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    Records,
    Access,
}

/// The log's signing key and the last checkpoint it signed, reused while the tree is the
/// same size.
pub struct LogSigner {
    key: SignerKey,
    last: Mutex<Option<(u64, Arc<str>)>>,
}

impl LogSigner {
    pub fn new(key: SignerKey) -> Self {
        LogSigner { key, last: Mutex::new(None) }
    }

    pub fn key(&self) -> &SignerKey {
        &self.key
    }

    /// The signed checkpoint of the tree of `size` leaves.
    async fn checkpoint(&self, index: &dyn Index, tree: Tree, size: u64) -> Result<Arc<str>> {
        let poisoned = |e: std::sync::PoisonError<_>| internal("checkpoint cache", e);
        let last = self.last.lock().map_err(poisoned)?.clone();
        if let Some((_, text)) = last.filter(|(cached, _)| *cached == size) {
            return Ok(text);
        }
        let root = root(index, tree, size).await?;
        let text: Arc<str> =
            Checkpoint::new(self.key.name(), size, root).sign(&self.key).map_err(|e| internal("signing a checkpoint", e))?.into();
        let mut last = self.last.lock().map_err(poisoned)?;
        // Keep the largest: a slower request for an older size must not evict a newer one.
        if last.as_ref().is_none_or(|(cached, _)| *cached < size) {
            *last = Some((size, text.clone()));
        }
        Ok(text)
    }
}

fn internal(context: &'static str, e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal { context, detail: e.to_string() }
}

impl From<MerkleError> for ServiceError {
    fn from(e: MerkleError) -> Self {
        match e {
            MerkleError::IndexOutOfRange { .. } | MerkleError::BadRange { .. } => {
                ServiceError::BadRequest { code: e.code(), detail: e.to_string() }
            }
            // The index lacks a node the tree needs: the store is damaged, not the request.
            MerkleError::MissingNode(_) | MerkleError::BadProof(_) => internal("transparency log", e),
        }
    }
}

async fn nodes_for(index: &dyn Index, tree: Tree, ids: Vec<NodeId>) -> Result<tlog::NodeMap> {
    Ok(match tree {
        Tree::Records => index.tlog_nodes(&ids).await?,
        Tree::Access => index.access_nodes(&ids).await?,
    })
}

async fn size_of(index: &dyn Index, tree: Tree) -> Result<u64> {
    Ok(match tree {
        Tree::Records => index.tlog_size().await?,
        Tree::Access => index.access_size().await?,
    })
}

async fn root(index: &dyn Index, tree: Tree, size: u64) -> Result<Hash> {
    let nodes = nodes_for(index, tree, tlog::root_needs(size)).await?;
    Ok(tlog::root(size, &nodes)?)
}

/// A log over the index, signed with `signer` when the installation has its key.
pub struct Log<'a> {
    pub index: &'a dyn Index,
    pub tree: Tree,
    pub signer: Option<&'a LogSigner>,
}

impl Log<'_> {
    fn signer(&self) -> Result<&LogSigner> {
        self.signer.ok_or_else(|| ServiceError::Unavailable {
            code: "tlog_no_key",
            detail: "the transparency log has no signing key configured".into(),
        })
    }

    /// The current tree, as a signed note.
    pub async fn checkpoint(&self) -> Result<Arc<str>> {
        let signer = self.signer()?;
        let size = size_of(self.index, self.tree).await?;
        signer.checkpoint(self.index, self.tree, size).await
    }

    /// That the tree of `from` leaves is a prefix of the one of `to` (the current size when none).
    pub async fn consistency(&self, from: u64, to: Option<u64>) -> Result<ConsistencyProof> {
        let size = size_of(self.index, self.tree).await?;
        let to = to.unwrap_or(size);
        if to > size {
            return Err(ServiceError::BadRequest { code: "tlog_bad_range", detail: format!("the log has {size} leaves, not {to}") });
        }
        let nodes = nodes_for(self.index, self.tree, tlog::consistency_needs(from, to)?).await?;
        let hashes = tlog::consistency_proof(from, to, &nodes)?;
        Ok(ConsistencyProof { from, to, hashes })
    }

    /// `record`'s inclusion in the current tree, with the signed checkpoint of that tree when
    /// the log has a key.
    pub async fn inclusion(&self, record: Record) -> Result<InclusionProof> {
        let id = &record.id;
        let leaf_index = record
            .log_index
            .ok_or_else(|| ServiceError::Conflict { code: "record_not_logged", detail: format!("record {id} has no log leaf yet") })?;
        let size = self.index.tlog_size().await?;
        let nodes = nodes_for(self.index, Tree::Records, tlog::inclusion_needs(leaf_index, size)?).await?;
        let hashes = tlog::inclusion_proof(leaf_index, size, &nodes)?;
        let checkpoint = match self.signer {
            Some(signer) => Some(signer.checkpoint(self.index, Tree::Records, size).await?.to_string()),
            None => None,
        };
        Ok(InclusionProof {
            leaf_hash: tlog::manifest_leaf_hash(&record.manifest_digest),
            manifest: record.manifest_digest,
            record: record.id,
            leaf_index,
            tree_size: size,
            hashes,
            checkpoint,
        })
    }

    /// Leaves in the log now.
    pub async fn size(&self) -> Result<u64> {
        size_of(self.index, self.tree).await
    }
}
