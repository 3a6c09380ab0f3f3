//! The write-once, content-addressed archive over `object_store`: `file://` or `s3://`.
//! Nothing is overwritten, and every read is re-hashed before it is served.
//!
//! Blobs live at `blobs/sha256/ab/cd/<hex>`, record manifests at `records/<id>.json`, and
//! large uploads pass through `tmp/<random>` until their digest names them.

mod fixity;
mod leftovers;
mod stream;

pub use fixity::{
    audit, audit_reporting, fixity, fixity_reporting, fixity_with, FixityError, FixityProblem, FixityReport, Progress, LEFTOVER_GRACE,
};
pub use leftovers::Leftover;
use stream::Spooled;
pub use stream::{BlobStream, Stored};

use crate::config::Config;
use crate::domain::Digest;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig};
use std::sync::Arc;

/// Objects larger than this go up as multipart uploads, in parts of this size.
pub const MULTIPART_THRESHOLD: usize = 8 * 1024 * 1024;

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
    #[error("archive object {key} already holds a different manifest; manifests are written once")]
    ManifestExists { key: String },
    #[error("record id {0:?} cannot name a manifest: use letters, digits, '-' and '_'")]
    InvalidRecordId(String),
    #[error("cannot prepare archive directory {path}: {source}")]
    Directory { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    File { path: String, source: std::io::Error },
    #[error("reading the content to archive: {0}")]
    Input(std::io::Error),
}

impl ArchiveError {
    /// The store failed on `key`; counted for the operator's metrics.
    pub(crate) fn store(key: impl Into<String>, source: object_store::Error) -> ArchiveError {
        crate::metrics::count("sohoa_archive_errors_total", &[("error", "store")], 1);
        ArchiveError::Store { key: key.into(), source }
    }

    /// Stable machine code, for logs, job failures and API problems.
    pub fn code(&self) -> &'static str {
        match self {
            ArchiveError::UnsupportedUrl(_) => "archive_url_unsupported",
            ArchiveError::Store { .. } => "archive_unavailable",
            ArchiveError::Missing { .. } => "archive_missing",
            ArchiveError::Corrupt { .. } => "archive_corrupt",
            ArchiveError::ManifestExists { .. } => "manifest_exists",
            ArchiveError::InvalidRecordId(_) => "invalid_record_id",
            ArchiveError::Directory { .. } => "archive_directory",
            ArchiveError::File { .. } => "archive_file",
            ArchiveError::Input(_) => "archive_input",
        }
    }
}

pub type Result<T, E = ArchiveError> = std::result::Result<T, E>;

/// What the store can promise: a local directory refuses to create over an existing file;
/// S3 servers such as Garage ignore `If-None-Match: *`, so there the check is ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    File,
    S3,
}

#[derive(Clone)]
pub struct Archive {
    store: Arc<dyn ObjectStore>,
    backend: Backend,
    url: String,
    /// A file archive's directory, where its staging files are found.
    root: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Archive({})", self.url)
    }
}

/// One blob as listed: its digest (from its key) and stored size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    pub digest: Digest,
    pub size: u64,
}

/// Object key of a blob: `blobs/sha256/ab/cd/<hex>`.
pub fn blob_key(digest: &Digest) -> ObjectPath {
    let hex = digest.as_str();
    ObjectPath::from(format!("blobs/sha256/{}/{}/{hex}", &hex[0..2], &hex[2..4]))
}

/// Object key of a record's manifest: `records/<id>.json`.
pub fn manifest_key(id: &str) -> Result<ObjectPath> {
    let valid = !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid {
        return Err(ArchiveError::InvalidRecordId(id.to_owned()));
    }
    Ok(ObjectPath::from(format!("records/{id}.json")))
}

fn store_err(key: &ObjectPath) -> impl FnOnce(object_store::Error) -> ArchiveError + '_ {
    move |source| match source {
        object_store::Error::NotFound { .. } => ArchiveError::Missing { key: key.to_string() },
        source => ArchiveError::store(key.to_string(), source),
    }
}

impl Archive {
    /// Opens the store named by `config.archive_url`.
    pub fn open(config: &Config) -> Result<Archive> {
        Archive::open_url(&config.archive_url, config)
    }

    /// Opens the store named by `url`, with the S3 settings of `config` (the replica shares them).
    pub fn open_url(url: &str, config: &Config) -> Result<Archive> {
        let mut root = None;
        let (store, backend): (Arc<dyn ObjectStore>, _) = if let Some(path) = url.strip_prefix("file://") {
            // `file://data/archive` is relative to the working directory, unlike a strict URL.
            let dir_err = |source| ArchiveError::Directory { path: path.to_owned(), source };
            std::fs::create_dir_all(path).map_err(dir_err)?;
            let fs = LocalFileSystem::new_with_prefix(path).map_err(|source| ArchiveError::store(path.to_owned(), source))?;
            root = Some(std::path::PathBuf::from(path));
            // An archive promises durability: a write returns once the file and its directory
            // entry are on disk, as an S3 server's would.
            (Arc::new(fs.with_automatic_cleanup(true).with_fsync(true)), Backend::File)
        } else if let Some(rest) = url.strip_prefix("s3://") {
            // `s3://bucket/prefix` keeps the archive under a prefix of a shared bucket.
            let (bucket, prefix) = rest.trim_end_matches('/').split_once('/').unwrap_or((rest.trim_end_matches('/'), ""));
            // Bounded so that a client waiting on the archive is answered 503 rather than held.
            let retry =
                RetryConfig { max_retries: config.s3_max_retries, retry_timeout: config.s3_retry_timeout.0, ..RetryConfig::default() };
            let mut builder = AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_region(&config.s3_region)
                .with_allow_http(config.s3_allow_http)
                .with_retry(retry);
            if let Some(endpoint) = &config.s3_endpoint {
                builder = builder.with_endpoint(endpoint);
            }
            if let (Some(id), Some(secret)) = (&config.s3_access_key_id, &config.s3_secret_access_key) {
                builder = builder.with_access_key_id(id).with_secret_access_key(secret);
            }
            let s3 = builder.build().map_err(|source| ArchiveError::store(bucket.to_owned(), source))?;
            let store: Arc<dyn ObjectStore> =
                if prefix.is_empty() { Arc::new(s3) } else { Arc::new(PrefixStore::new(s3, ObjectPath::from(prefix))) };
            (store, Backend::S3)
        } else {
            return Err(ArchiveError::UnsupportedUrl(url.to_owned()));
        };
        Ok(Archive { store, backend, url: url.to_owned(), root })
    }

    /// The URL it was opened with.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stores `bytes` under their digest unless already there; returns the digest.
    pub async fn put_blob(&self, bytes: Bytes) -> Result<Digest> {
        if bytes.len() > MULTIPART_THRESHOLD {
            let stored = self.put_stream(futures::stream::iter([Ok(bytes)])).await?;
            return Ok(stored.digest);
        }
        let digest = hash(bytes.clone()).await;
        self.create(&blob_key(&digest), bytes).await?;
        Ok(digest)
    }

    /// Whether a blob is stored under `digest`.
    pub async fn contains(&self, digest: &Digest) -> Result<bool> {
        self.exists(&blob_key(digest)).await
    }

    /// Reads a blob and checks it still hashes to its name.
    pub async fn get_blob(&self, digest: &Digest) -> Result<Bytes> {
        let key = blob_key(digest);
        self.get_verified(&key, digest).await
    }

    /// Stores a record's manifest at `records/<id>.json`, once: the same bytes again are
    /// accepted, different bytes are `ManifestExists`. Returns the manifest's digest.
    pub async fn put_manifest(&self, id: &str, bytes: Bytes) -> Result<Digest> {
        let key = manifest_key(id)?;
        let digest = hash(bytes.clone()).await;
        if self.exists(&key).await? {
            return self.same_manifest(&key, digest).await;
        }
        match self.store.put_opts(&key, PutPayload::from_bytes(bytes), self.create_options()).await {
            Ok(_) => Ok(digest),
            Err(object_store::Error::AlreadyExists { .. }) => self.same_manifest(&key, digest).await,
            Err(source) => Err(ArchiveError::store(key.to_string(), source)),
        }
    }

    /// Reads a record's manifest and checks it against the digest the index holds.
    pub async fn get_manifest(&self, id: &str, expected: &Digest) -> Result<Bytes> {
        let key = manifest_key(id)?;
        self.get_verified(&key, expected).await
    }

    /// Every blob in the archive, in no particular order; keys that do not name a blob
    /// (stray files) are skipped with a warning.
    pub fn list_blobs(&self) -> BoxStream<'static, Result<BlobMeta>> {
        let prefix = ObjectPath::from("blobs/sha256");
        self.store
            .list(Some(&prefix))
            .map_err(|source| ArchiveError::store("blobs/sha256", source))
            .try_filter_map(|meta| async move {
                let digest = meta.location.filename().and_then(|name| Digest::parse(name).ok());
                match digest {
                    Some(digest) if blob_key(&digest) == meta.location => Ok(Some(BlobMeta { digest, size: meta.size })),
                    _ => {
                        tracing::warn!(key = %meta.location, "object under blobs/ does not name a blob");
                        Ok(None)
                    }
                }
            })
            .boxed()
    }

    /// Whether the archive answers at all.
    /// Removes a blob: only disposal after retention review does this. Absent is fine.
    pub async fn delete_blob(&self, digest: &Digest) -> Result<()> {
        let key = blob_key(digest);
        match self.store.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(ArchiveError::store(key.to_string(), source)),
        }
    }

    pub async fn ping(&self) -> Result<()> {
        let key = ObjectPath::from("blobs");
        match self.store.list_with_delimiter(Some(&key)).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(source) => Err(ArchiveError::store(key.to_string(), source)),
        }
    }

    async fn exists(&self, key: &ObjectPath) -> Result<bool> {
        match self.store.head(key).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(source) => Err(ArchiveError::store(key.to_string(), source)),
        }
    }

    /// `PutMode::Create` where the store enforces it; on S3 the HEAD before is the check.
    fn create_options(&self) -> PutOptions {
        match self.backend {
            Backend::File => PutMode::Create.into(),
            Backend::S3 => PutOptions::default(),
        }
    }

    /// Writes a content-addressed object unless it is there: the same key means the same bytes.
    async fn create(&self, key: &ObjectPath, bytes: Bytes) -> Result<()> {
        if self.exists(key).await? {
            return Ok(());
        }
        match self.store.put_opts(key, PutPayload::from_bytes(bytes), self.create_options()).await {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
            Err(source) => Err(ArchiveError::store(key.to_string(), source)),
        }
    }

    async fn same_manifest(&self, key: &ObjectPath, digest: Digest) -> Result<Digest> {
        let existing = self.store.get(key).await.map_err(store_err(key))?.bytes().await.map_err(store_err(key))?;
        if hash(existing).await == digest {
            Ok(digest)
        } else {
            Err(ArchiveError::ManifestExists { key: key.to_string() })
        }
    }

    async fn get_verified(&self, key: &ObjectPath, expected: &Digest) -> Result<Bytes> {
        let bytes = self.store.get(key).await.map_err(store_err(key))?.bytes().await.map_err(store_err(key))?;
        let actual = hash(bytes.clone()).await;
        if &actual != expected {
            crate::metrics::count("sohoa_archive_errors_total", &[("error", "corrupt")], 1);
            return Err(ArchiveError::Corrupt { key: key.to_string(), expected: expected.clone(), actual });
        }
        Ok(bytes)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_layout() {
        let d = Digest::of(b"abc");
        assert_eq!(blob_key(&d).as_ref(), format!("blobs/sha256/ba/78/{}", d.as_str()));
        assert_eq!(manifest_key("0a1b-c_d").unwrap().as_ref(), "records/0a1b-c_d.json");
        for bad in ["", "../x", "a/b", "a.json", "a b", &"a".repeat(129)] {
            assert_eq!(manifest_key(bad).unwrap_err().code(), "invalid_record_id", "{bad:?}");
        }
    }
}
