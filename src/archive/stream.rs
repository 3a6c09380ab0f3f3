//! Streaming puts and gets, for content too large to hold in memory: puts hash while they
//! upload (through `tmp/` when large), gets re-hash while they stream and hold back the last
//! chunk until the hash is checked, so a corrupt object never completes successfully.

use super::{blob_key, store_err, Archive, ArchiveError, Backend, Result, MULTIPART_THRESHOLD};
use crate::domain::Digest;
use bytes::{Bytes, BytesMut};
use futures::stream::BoxStream;
use futures::{Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStoreExt, WriteMultipart};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest as _, Sha256};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Parts in flight at once: bounds a streaming put's memory to about this many parts.
const PARTS_IN_FLIGHT: usize = 2;
/// Read size for files put from disk.
const FILE_CHUNK: usize = 1024 * 1024;
/// Chunks at least this large are hashed on the blocking pool.
const BLOCKING_HASH: usize = 256 * 1024;

/// What a streaming put stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub digest: Digest,
    pub size: u64,
}

/// Content read into the archive: small content in memory, large content already uploaded
/// to a temporary key.
pub(super) enum Spooled {
    Small { bytes: Bytes, digest: Digest },
    Large { tmp: ObjectPath, digest: Digest, size: u64 },
}

impl Archive {
    /// Stores a stream under its digest: hashed while it is read, uploaded in parts to
    /// `tmp/<random>` when over 8 MiB, then copied to its content-addressed key.
    pub async fn put_stream<S>(&self, stream: S) -> Result<Stored>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send,
    {
        match self.spool(stream).await? {
            Spooled::Small { bytes, digest } => {
                let size = bytes.len() as u64;
                self.create(&blob_key(&digest), bytes).await?;
                Ok(Stored { digest, size })
            }
            Spooled::Large { tmp, digest, size } => {
                let promoted = self.promote(&tmp, &blob_key(&digest)).await;
                self.remove_tmp(&tmp).await;
                promoted?;
                Ok(Stored { digest, size })
            }
        }
    }

    /// Stores a file under its digest, streaming it.
    pub async fn put_file(&self, path: &Path) -> Result<Stored> {
        let file_err = |source| ArchiveError::File { path: path.display().to_string(), source };
        let file = tokio::fs::File::open(path).await.map_err(file_err)?;
        let chunks = futures::stream::try_unfold(file, |mut file| async move {
            let mut buf = BytesMut::with_capacity(FILE_CHUNK);
            while buf.len() < FILE_CHUNK {
                if file.read_buf(&mut buf).await? == 0 {
                    break;
                }
            }
            Ok((!buf.is_empty()).then(|| (buf.freeze(), file)))
        });
        self.put_stream(chunks).await
    }

    /// Streams a blob, re-hashing as it goes; the stream ends in an error instead of its last
    /// chunk when the content does not hash to `digest`. Missing is an error up front.
    pub async fn get_blob_stream(&self, digest: &Digest) -> Result<BlobStream> {
        let key = blob_key(digest);
        let got = self.store.get(&key).await.map_err(store_err(&key))?;
        Ok(BlobStream {
            size: got.meta.size,
            inner: got.into_stream(),
            hasher: Sha256::new(),
            held: None,
            key: key.to_string(),
            expected: digest.clone(),
            done: false,
        })
    }

    /// Writes a verified blob to `path` (through `path.partial`, renamed only once the hash
    /// checks out); returns its size.
    pub async fn get_blob_to_file(&self, digest: &Digest, path: &Path) -> Result<u64> {
        let partial = path.with_extension("partial");
        let file_err = |source| ArchiveError::File { path: partial.display().to_string(), source };
        let result = async {
            let mut stream = self.get_blob_stream(digest).await?;
            let mut file = tokio::fs::File::create(&partial).await.map_err(file_err)?;
            let mut size = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk?;
                size += chunk.len() as u64;
                file.write_all(&chunk).await.map_err(file_err)?;
            }
            file.sync_all().await.map_err(file_err)?;
            tokio::fs::rename(&partial, path).await.map_err(|source| ArchiveError::File { path: path.display().to_string(), source })?;
            Ok(size)
        }
        .await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&partial).await;
        }
        result
    }

    /// Reads a stream while hashing it; past 8 MiB it goes up as a multipart upload to a
    /// temporary key, at most `PARTS_IN_FLIGHT` parts buffered.
    pub(super) async fn spool<S>(&self, stream: S) -> Result<Spooled>
    where
        S: Stream<Item = std::io::Result<Bytes>> + Send,
    {
        let mut stream = std::pin::pin!(stream);
        let mut hasher = Sha256::new();
        let mut head = Vec::new();
        let mut head_len = 0usize;
        while head_len <= MULTIPART_THRESHOLD {
            match stream.next().await {
                Some(chunk) => {
                    let chunk = chunk.map_err(ArchiveError::Input)?;
                    hasher = hash_more(hasher, chunk.clone()).await;
                    head_len += chunk.len();
                    head.push(chunk);
                }
                None => {
                    let bytes = match head.len() {
                        1 => head.remove(0),
                        _ => head.concat().into(),
                    };
                    return Ok(Spooled::Small { bytes, digest: Digest::from_hasher(hasher) });
                }
            }
        }
        let tmp = tmp_key();
        let upload = self.store.put_multipart(&tmp).await.map_err(store_err(&tmp))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, MULTIPART_THRESHOLD);
        let mut size = head_len as u64;
        head.into_iter().for_each(|chunk| writer.put(chunk));
        loop {
            if let Err(source) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                let _ = writer.abort().await;
                return Err(ArchiveError::store(tmp.to_string(), source));
            }
            match stream.next().await {
                Some(Ok(chunk)) => {
                    size += chunk.len() as u64;
                    hasher = hash_more(hasher, chunk.clone()).await;
                    writer.put(chunk);
                }
                Some(Err(e)) => {
                    let _ = writer.abort().await;
                    return Err(ArchiveError::Input(e));
                }
                None => break,
            }
        }
        // `finish` aborts the upload itself when a part or the completion fails.
        writer.finish().await.map_err(store_err(&tmp))?;
        Ok(Spooled::Large { tmp, digest: Digest::from_hasher(hasher), size })
    }

    /// Copies an uploaded temporary object to its content-addressed key unless it is there.
    async fn promote(&self, tmp: &ObjectPath, key: &ObjectPath) -> Result<()> {
        match self.backend {
            Backend::File => match self.store.copy_if_not_exists(tmp, key).await {
                Ok(()) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
                Err(source) => Err(ArchiveError::store(key.to_string(), source)),
            },
            Backend::S3 => {
                if self.exists(key).await? {
                    return Ok(());
                }
                self.store.copy(tmp, key).await.map_err(|source| ArchiveError::store(key.to_string(), source))
            }
        }
    }

    pub(super) async fn remove_tmp(&self, tmp: &ObjectPath) {
        if let Err(e) = self.store.delete(tmp).await {
            tracing::warn!(key = %tmp, error = %e, "cannot delete temporary archive object");
        }
    }
}

fn tmp_key() -> ObjectPath {
    let mut bytes = [0u8; 16];
    SystemRandom::new().fill(&mut bytes).expect("the system random generator works");
    ObjectPath::from(format!("tmp/{}", hex::encode(bytes)))
}

async fn hash_more(mut hasher: Sha256, chunk: Bytes) -> Sha256 {
    if chunk.len() < BLOCKING_HASH {
        hasher.update(&chunk);
        return hasher;
    }
    match tokio::task::spawn_blocking(move || {
        hasher.update(&chunk);
        hasher
    })
    .await
    {
        Ok(h) => h,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// A blob's content as it streams out of the store, checked against its digest: every chunk
/// but the last is passed on as it is hashed; the last only once the whole hash matches.
pub struct BlobStream {
    size: u64,
    inner: BoxStream<'static, object_store::Result<Bytes>>,
    hasher: Sha256,
    held: Option<Bytes>,
    key: String,
    expected: Digest,
    done: bool,
}

impl BlobStream {
    /// The stored size, from the store's metadata.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Stream for BlobStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match futures::ready!(this.inner.poll_next_unpin(cx)) {
                Some(Ok(chunk)) => {
                    if chunk.is_empty() {
                        continue;
                    }
                    // Store chunks are small (kilobytes): hashing them here does not stall the runtime.
                    this.hasher.update(&chunk);
                    if let Some(previous) = this.held.replace(chunk) {
                        return Poll::Ready(Some(Ok(previous)));
                    }
                }
                Some(Err(source)) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(ArchiveError::store(this.key.clone(), source))));
                }
                None => {
                    this.done = true;
                    let actual = Digest::from_hasher(std::mem::take(&mut this.hasher));
                    if actual != this.expected {
                        tracing::error!(key = %this.key, expected = %this.expected, actual = %actual, "archive object failed its hash check");
                        let expected = this.expected.clone();
                        return Poll::Ready(Some(Err(ArchiveError::Corrupt { key: this.key.clone(), expected, actual })));
                    }
                    return Poll::Ready(this.held.take().map(Ok));
                }
            }
        }
    }
}
