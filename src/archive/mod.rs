//! The write-once, content-addressed archive over `object_store`: `file://` or `s3://`.
//! Nothing is overwritten, and every read is re-hashed before it is served.

use crate::config::Config;
use crate::domain::Digest;
use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("unsupported archive url {0:?}: use file://PATH or s3://BUCKET")]
    UnsupportedUrl(String),
    #[error("archive object {key}: {source}")]
    Store { key: String, source: object_store::Error },
    #[error("archive object {key} is missing")]
    Missing { key: String },
    #[error("archive object {key} is corrupt: expected sha256 {expected}, found {actual}")]
    Corrupt { key: String, expected: Digest, actual: Digest },
    #[error("cannot prepare archive directory {path}: {source}")]
    Directory { path: String, source: std::io::Error },
}

pub type Result<T, E = ArchiveError> = std::result::Result<T, E>;

#[derive(Clone)]
pub struct Archive {
    store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Archive({})", self.store)
    }
}

/// Object key of a blob: `blobs/sha256/ab/cd/<hex>`.
pub fn blob_key(digest: &Digest) -> ObjectPath {
    let hex = digest.as_str();
    ObjectPath::from(format!("blobs/sha256/{}/{}/{hex}", &hex[0..2], &hex[2..4]))
}

impl Archive {
    /// Opens the store named by `config.archive_url`.
    pub fn open(config: &Config) -> Result<Archive> {
        let url = config.archive_url.as_str();
        let store: Arc<dyn ObjectStore> = if let Some(path) = url.strip_prefix("file://") {
            // `file://data/archive` is relative to the working directory, unlike a strict URL.
            let dir_err = |source| ArchiveError::Directory { path: path.to_owned(), source };
            std::fs::create_dir_all(path).map_err(dir_err)?;
            let fs = LocalFileSystem::new_with_prefix(path).map_err(|source| ArchiveError::Store { key: path.to_owned(), source })?;
            Arc::new(fs)
        } else if let Some(bucket) = url.strip_prefix("s3://") {
            let bucket = bucket.trim_end_matches('/');
            let mut builder =
                AmazonS3Builder::new().with_bucket_name(bucket).with_region(&config.s3_region).with_allow_http(config.s3_allow_http);
            if let Some(endpoint) = &config.s3_endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if let (Some(id), Some(secret)) = (&config.s3_access_key_id, &config.s3_secret_access_key) {
                builder = builder.with_access_key_id(id).with_secret_access_key(secret);
            }
            let s3 = builder.build().map_err(|source| ArchiveError::Store { key: bucket.to_owned(), source })?;
            Arc::new(s3)
        } else {
            return Err(ArchiveError::UnsupportedUrl(url.to_owned()));
        };
        Ok(Archive { store })
    }

    /// Stores `bytes` under their digest unless already there; returns the digest.
    pub async fn put_blob(&self, bytes: Bytes) -> Result<Digest> {
        let digest = hash(bytes.clone()).await;
        let key = blob_key(&digest);
        match self.store.head(&key).await {
            Ok(_) => return Ok(digest),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(source) => return Err(ArchiveError::Store { key: key.to_string(), source }),
        }
        self.store.put(&key, PutPayload::from_bytes(bytes)).await.map_err(|source| ArchiveError::Store { key: key.to_string(), source })?;
        Ok(digest)
    }

    /// Whether a blob is stored under `digest`.
    pub async fn contains(&self, digest: &Digest) -> Result<bool> {
        let key = blob_key(digest);
        match self.store.head(&key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(source) => Err(ArchiveError::Store { key: key.to_string(), source }),
        }
    }

    /// Reads a blob and checks it still hashes to its name.
    pub async fn get_blob(&self, digest: &Digest) -> Result<Bytes> {
        let key = blob_key(digest);
        let bytes = match self.store.get(&key).await {
            Ok(got) => got.bytes().await,
            Err(e) => Err(e),
        }
        .map_err(|source| match source {
            object_store::Error::NotFound { .. } => ArchiveError::Missing { key: key.to_string() },
            source => ArchiveError::Store { key: key.to_string(), source },
        })?;
        let actual = hash(bytes.clone()).await;
        if &actual != digest {
            return Err(ArchiveError::Corrupt { key: key.to_string(), expected: digest.clone(), actual });
        }
        Ok(bytes)
    }

    /// Whether the archive answers at all.
    /// Removes a blob: only disposal after retention review does this. Absent is fine.
    pub async fn delete_blob(&self, digest: &Digest) -> Result<()> {
        let key = blob_key(digest);
        match self.store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(ArchiveError::Store { key: key.to_string(), source }),
        }
    }

    pub async fn ping(&self) -> Result<()> {
        let key = ObjectPath::from("blobs");
        match self.store.list_with_delimiter(Some(&key)).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(ArchiveError::Store { key: key.to_string(), source }),
        }
    }
}

/// SHA-256 off the async threads: inputs can be tens of megabytes.
async fn hash(bytes: Bytes) -> Digest {
    if bytes.len() < 64 * 1024 {
        return Digest::of(&bytes);
    }
    match tokio::task::spawn_blocking(move || Digest::of(&bytes)).await {
        Ok(d) => d,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
