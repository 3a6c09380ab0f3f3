//! The transparency log: signed checkpoints, consistency proofs and records' inclusion
//! proofs, computed from the index's stored nodes for the tree size read at the start.

use super::records::load;
use super::{ApiError, AppState, Principal};
use crate::index::Index;
use crate::tlog::{self, Checkpoint, ConsistencyProof, Hash, InclusionProof, MerkleError, NodeId, SignerKey};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::sync::{Arc, Mutex};

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
    async fn checkpoint(&self, index: &dyn Index, size: u64) -> Result<Arc<str>, ApiError> {
        let last = self.last.lock().map_err(|e| ApiError::internal("checkpoint cache", e))?.clone();
        if let Some((_, text)) = last.filter(|(cached, _)| *cached == size) {
            return Ok(text);
        }
        let root = root(index, size).await?;
        let text: Arc<str> =
            Checkpoint::new(self.key.name(), size, root).sign(&self.key).map_err(|e| ApiError::internal("signing a checkpoint", e))?.into();
        let mut last = self.last.lock().map_err(|e| ApiError::internal("checkpoint cache", e))?;
        // Keep the largest: a slower request for an older size must not evict a newer one.
        if last.as_ref().is_none_or(|(cached, _)| *cached < size) {
            *last = Some((size, text.clone()));
        }
        Ok(text)
    }
}

impl From<MerkleError> for ApiError {
    fn from(e: MerkleError) -> Self {
        match e {
            MerkleError::IndexOutOfRange { .. } | MerkleError::BadRange { .. } => ApiError::bad_request(e.code(), e.to_string()),
            // The index lacks a node the tree needs: the store is damaged, not the request.
            MerkleError::MissingNode(_) | MerkleError::BadProof(_) => ApiError::internal("transparency log", e),
        }
    }
}

fn signer(state: &AppState) -> Result<&LogSigner, ApiError> {
    state.log_signer.as_ref().ok_or_else(|| {
        ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, "tlog_no_key", "the transparency log has no signing key configured")
    })
}

async fn nodes_for(index: &dyn Index, ids: Vec<NodeId>) -> Result<tlog::NodeMap, ApiError> {
    Ok(index.tlog_nodes(&ids).await?)
}

async fn root(index: &dyn Index, size: u64) -> Result<Hash, ApiError> {
    let nodes = nodes_for(index, tlog::root_needs(size)).await?;
    Ok(tlog::root(size, &nodes)?)
}

/// `GET /tlog/checkpoint`: the current tree, as a signed note.
pub async fn checkpoint(State(state): State<Arc<AppState>>, _who: Principal) -> Result<Response, ApiError> {
    let signer = signer(&state)?;
    let size = state.index.tlog_size().await?;
    let text = signer.checkpoint(state.index.as_ref(), size).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text.to_string()).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyQuery {
    from: u64,
    /// Defaults to the current size.
    to: Option<u64>,
}

/// `GET /tlog/consistency?from=M&to=N`: that the tree of M leaves is a prefix of the one of N.
pub async fn consistency(
    State(state): State<Arc<AppState>>,
    _who: Principal,
    Query(q): Query<ConsistencyQuery>,
) -> Result<Json<ConsistencyProof>, ApiError> {
    let size = state.index.tlog_size().await?;
    let to = q.to.unwrap_or(size);
    if to > size {
        return Err(ApiError::bad_request("tlog_bad_range", format!("the log has {size} leaves, not {to}")));
    }
    let nodes = nodes_for(state.index.as_ref(), tlog::consistency_needs(q.from, to)?).await?;
    let hashes = tlog::consistency_proof(q.from, to, &nodes)?;
    Ok(Json(ConsistencyProof { from: q.from, to, hashes }))
}

/// `GET /records/{id}/proof`: the record's inclusion in the current tree, with the signed
/// checkpoint of that tree when the log has a key. Readers as for the record itself.
pub async fn record_proof(
    State(state): State<Arc<AppState>>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<InclusionProof>, ApiError> {
    let record = load(&state, &who, &id).await?;
    let leaf_index = record.log_index.ok_or_else(|| ApiError::conflict("record_not_logged", format!("record {id} has no log leaf yet")))?;
    let size = state.index.tlog_size().await?;
    let nodes = nodes_for(state.index.as_ref(), tlog::inclusion_needs(leaf_index, size)?).await?;
    let hashes = tlog::inclusion_proof(leaf_index, size, &nodes)?;
    let checkpoint = match &state.log_signer {
        Some(signer) => Some(signer.checkpoint(state.index.as_ref(), size).await?.to_string()),
        None => None,
    };
    Ok(Json(InclusionProof {
        record: record.id,
        leaf_hash: tlog::manifest_leaf_hash(&record.manifest_digest),
        manifest: record.manifest_digest,
        leaf_index,
        tree_size: size,
        hashes,
        checkpoint,
    }))
}
