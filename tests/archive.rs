//! Archive conformance: one suite of checks, run against `file://` here and against a
//! real Garage S3 server in `archive/garage.rs`.

#[path = "archive/garage.rs"]
mod garage;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest as _, Sha256};
use sohoa::archive::{self, blob_key, manifest_key, Archive};
use sohoa::config::Config;
use sohoa::domain::Digest;
use std::sync::Arc;

const MIB: usize = 1024 * 1024;

/// An archive, its replica, and the primary's store reached directly (to damage it).
pub struct Fixture {
    pub archive: Archive,
    pub replica: Archive,
    pub raw: Arc<dyn ObjectStore>,
    pub _dir: Option<tempfile::TempDir>,
}

fn file_fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = |name: &str| format!("file://{}", dir.path().join(name).display());
    let config = Config::default();
    let archive = Archive::open_url(&url("archive"), &config).unwrap();
    let replica = Archive::open_url(&url("replica"), &config).unwrap();
    let raw = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir.path().join("archive")).unwrap());
    Fixture { archive, replica, raw, _dir: Some(dir) }
}

/// Deterministic, incompressible content: `len` bytes in 1 MiB chunks.
pub fn content(seed: u64, len: usize) -> impl Stream<Item = std::io::Result<Bytes>> + Send {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let chunks = len.div_ceil(MIB);
    futures::stream::iter(0..chunks).map(move |i| {
        let n = MIB.min(len - i * MIB);
        let mut chunk = Vec::with_capacity(n + 8);
        while chunk.len() < n {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            chunk.extend_from_slice(&state.to_le_bytes());
        }
        chunk.truncate(n);
        Ok(Bytes::from(chunk))
    })
}

pub async fn digest_of(seed: u64, len: usize) -> Digest {
    let mut hasher = Sha256::new();
    let mut chunks = std::pin::pin!(content(seed, len));
    while let Some(chunk) = chunks.next().await {
        hasher.update(chunk.unwrap());
    }
    Digest::from_hasher(hasher)
}

pub fn seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 ^ u64::from(std::process::id())
}

/// Drains a blob stream: the bytes passed on, and the code of the error it ended with.
pub async fn drain(archive: &Archive, digest: &Digest) -> (u64, Option<&'static str>) {
    let mut stream = archive.get_blob_stream(digest).await.unwrap();
    let mut hasher = Sha256::new();
    let mut seen = 0u64;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                seen += c.len() as u64;
                hasher.update(&c);
            }
            Err(e) => return (seen, Some(e.code())),
        }
    }
    assert_eq!(&Digest::from_hasher(hasher), digest, "a stream that ended well served exactly the content");
    (seen, None)
}

async fn overwrite(raw: &Arc<dyn ObjectStore>, key: &ObjectPath, len: usize) {
    raw.put(key, PutPayload::from(vec![0x5a; len])).await.unwrap();
}

pub async fn round_trip(f: &Fixture) {
    let small = Bytes::from(format!("small object {}", seed()));
    let digest = f.archive.put_blob(small.clone()).await.unwrap();
    assert_eq!(digest, Digest::of(&small));
    assert_eq!(f.archive.put_blob(small.clone()).await.unwrap(), digest, "putting the same content again is idempotent");
    assert_eq!(f.archive.get_blob(&digest).await.unwrap(), small);
    assert!(f.archive.contains(&digest).await.unwrap());
    assert!(!f.archive.contains(&Digest::of(b"never stored")).await.unwrap());

    // Over 8 MiB: a multipart upload through tmp/, streamed back.
    let s = seed();
    let len = 20 * MIB + 123;
    let stored = f.archive.put_stream(content(s, len)).await.unwrap();
    assert_eq!(stored.digest, digest_of(s, len).await);
    assert_eq!(stored.size, len as u64);
    assert_eq!(drain(&f.archive, &stored.digest).await, (len as u64, None));
    let again = f.archive.put_stream(content(s, len)).await.unwrap();
    assert_eq!(again, stored, "the same stream again is idempotent");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.bin");
    assert_eq!(f.archive.get_blob_to_file(&stored.digest, &path).await.unwrap(), len as u64);
    let from_file = f.archive.put_file(&path).await.unwrap();
    assert_eq!(from_file, stored);

    let listed: Vec<_> = f.archive.list_blobs().map(|b| b.unwrap().digest).collect().await;
    assert!(listed.contains(&digest) && listed.contains(&stored.digest), "{listed:?}");
    let tmp: Vec<_> = f.raw.list(Some(&ObjectPath::from("tmp"))).collect().await;
    assert!(tmp.is_empty(), "temporary uploads are removed: {tmp:?}");
}

pub async fn manifests_are_written_once(f: &Fixture) {
    let id = format!("rec{}", seed());
    let first = Bytes::from(format!("{{\"record\":\"{id}\",\"n\":1}}"));
    let other = Bytes::from(format!("{{\"record\":\"{id}\",\"n\":2}}"));
    let digest = f.archive.put_manifest(&id, first.clone()).await.unwrap();
    assert_eq!(digest, Digest::of(&first));
    assert_eq!(f.archive.put_manifest(&id, first.clone()).await.unwrap(), digest, "the same manifest again is accepted");
    let err = f.archive.put_manifest(&id, other.clone()).await.unwrap_err();
    assert_eq!(err.code(), "manifest_exists", "{err}");
    assert!(err.to_string().contains(&format!("records/{id}.json")), "{err}");
    assert_eq!(f.archive.get_manifest(&id, &digest).await.unwrap(), first, "the first manifest is kept");
    let err = f.archive.get_manifest(&id, &Digest::of(&other)).await.unwrap_err();
    assert_eq!(err.code(), "archive_corrupt", "a manifest not matching the index's digest is never served");
    assert_eq!(f.archive.get_manifest("no-such-record", &digest).await.unwrap_err().code(), "archive_missing");
}

pub async fn corruption_is_caught_and_restored(f: &Fixture) {
    let s = seed();
    let small = Bytes::from(format!("content to damage {s}"));
    let small_digest = f.archive.put_blob(small.clone()).await.unwrap();
    f.replica.put_blob(small.clone()).await.unwrap();
    let len = 12 * MIB;
    let large = f.archive.put_stream(content(s, len)).await.unwrap();
    f.replica.put_stream(content(s, len)).await.unwrap();
    let id = format!("rec{s}");
    let manifest = Bytes::from(format!("{{\"record\":\"{id}\"}}"));
    let manifest_digest = f.archive.put_manifest(&id, manifest.clone()).await.unwrap();
    f.replica.put_manifest(&id, manifest.clone()).await.unwrap();

    overwrite(&f.raw, &blob_key(&small_digest), small.len()).await;
    overwrite(&f.raw, &blob_key(&large.digest), len).await;
    overwrite(&f.raw, &manifest_key(&id).unwrap(), manifest.len()).await;

    let err = f.archive.get_blob(&small_digest).await.unwrap_err();
    assert_eq!(err.code(), "archive_corrupt");
    assert!(err.to_string().contains(blob_key(&small_digest).as_ref()), "the error names the object: {err}");
    let (served, err) = drain(&f.archive, &large.digest).await;
    assert_eq!(err, Some("archive_corrupt"), "the stream ends in an error");
    assert!(served < len as u64, "the last chunk is held back: {served} of {len} bytes passed on");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.bin");
    assert!(f.archive.get_blob_to_file(&large.digest, &path).await.is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file, not even a partial one");
    assert_eq!(f.archive.get_manifest(&id, &manifest_digest).await.unwrap_err().code(), "archive_corrupt");

    let manifests = [(id.clone(), manifest_digest.clone())];
    let report = archive::fixity_with(&f.archive, None, &[], Some(&manifests), None).await.unwrap();
    assert_eq!((report.corrupt, report.missing, report.restored), (3, 0, 0), "{report:?}");
    assert!(!report.clean());
    let keys: Vec<_> = report.problems.iter().map(|p| p.key.as_str()).collect();
    assert!(keys.contains(&blob_key(&small_digest).as_ref()) && keys.contains(&manifest_key(&id).unwrap().as_ref()), "{keys:?}");

    let report = archive::fixity_with(&f.archive, Some(&f.replica), &[], Some(&manifests), None).await.unwrap();
    assert_eq!((report.corrupt, report.restored), (3, 3), "{report:?}");
    assert_eq!(f.archive.get_blob(&small_digest).await.unwrap(), small);
    assert_eq!(drain(&f.archive, &large.digest).await, (len as u64, None));
    assert_eq!(f.archive.get_manifest(&id, &manifest_digest).await.unwrap(), manifest);
    let report = archive::fixity_with(&f.archive, Some(&f.replica), &[], Some(&manifests), None).await.unwrap();
    assert!(report.clean(), "{report:?}");
    assert_eq!(report.ok, report.checked);
    // the pass tells how far it is after each object, the whole known from the start
    let steps = std::sync::Mutex::new(Vec::new());
    let record = |done: u64, total: u64| steps.lock().unwrap().push((done, total));
    let report = archive::fixity_reporting(&f.archive, Some(&f.replica), &[], Some(&manifests), None, &record).await.unwrap();
    let steps = steps.into_inner().unwrap();
    let total = report.checked;
    assert_eq!(steps, (0..=total).map(|done| (done, total)).collect::<Vec<_>>());
}

pub async fn a_deleted_object_is_missing(f: &Fixture) {
    let bytes = Bytes::from(format!("content to lose {}", seed()));
    let digest = f.archive.put_blob(bytes.clone()).await.unwrap();
    f.replica.put_blob(bytes.clone()).await.unwrap();
    f.raw.delete(&blob_key(&digest)).await.unwrap();

    let err = f.archive.get_blob(&digest).await.unwrap_err();
    assert_eq!(err.code(), "archive_missing");
    assert!(err.to_string().contains(blob_key(&digest).as_ref()), "{err}");
    assert_eq!(f.archive.get_blob_stream(&digest).await.err().map(|e| e.code()), Some("archive_missing"));

    // The index names what must be there; without it, the replica's listing does.
    let report = archive::fixity_with(&f.archive, None, std::slice::from_ref(&digest), None, None).await.unwrap();
    assert_eq!((report.missing, report.restored), (1, 0), "{report:?}");
    let report = archive::fixity(&f.archive, Some(&f.replica)).await.unwrap();
    assert_eq!((report.missing, report.restored), (1, 1), "{report:?}");
    assert_eq!(f.archive.get_blob(&digest).await.unwrap(), bytes);
}

pub async fn large_streams_go_up_in_parts(f: &Fixture) {
    let s = seed();
    let len = 200 * MIB;
    let stored = f.archive.put_stream(content(s, len)).await.unwrap();
    assert_eq!(stored.size, len as u64);
    assert_eq!(stored.digest, digest_of(s, len).await);
    let mut stream = f.archive.get_blob_stream(&stored.digest).await.unwrap();
    assert_eq!(stream.size(), len as u64);
    let mut hasher = Sha256::new();
    while let Some(chunk) = stream.next().await {
        hasher.update(chunk.unwrap());
    }
    assert_eq!(Digest::from_hasher(hasher), stored.digest);
    let tmp: Vec<_> = f.raw.list(Some(&ObjectPath::from("tmp"))).collect().await;
    assert!(tmp.is_empty(), "{tmp:?}");
}

/// Leftovers of interrupted writes (a `tmp/` object, and in a file archive a staging file)
/// are reported by fixity as orphans and removed by `remove_leftovers`, archived blobs kept;
/// ones written after the cut-off are neither.
pub async fn leftovers_are_reported_and_removed(f: &Fixture) {
    let digest = f.archive.put_blob(Bytes::from_static(b"kept")).await.unwrap();
    f.raw.put(&ObjectPath::from("tmp/cut-short"), PutPayload::from_static(b"half an upload")).await.unwrap();
    let mut expected = vec!["tmp/cut-short".to_owned()];
    if let Some(dir) = &f._dir {
        let staged = format!("{}#1", blob_key(&Digest::of(b"never finished")));
        let path = dir.path().join("archive").join(&staged);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"half a blob").unwrap();
        expected.push(staged);
    }
    expected.sort();

    let long_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    assert!(f.archive.leftovers(long_ago).await.unwrap().is_empty(), "a write after the cut-off is not a leftover");
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(2);
    let report = archive::fixity_with(&f.archive, None, &[], None, Some(later)).await.unwrap();
    assert_eq!(report.orphans, expected.len() as u64, "{report:?}");
    let mut orphans: Vec<String> = report.problems.iter().filter(|p| p.kind == "orphan").map(|p| p.key.clone()).collect();
    orphans.sort();
    assert_eq!(orphans, expected);
    assert!(report.clean(), "orphans hold no archived content: {report:?}");

    assert_eq!(f.archive.remove_leftovers(later).await.unwrap(), expected.len());
    assert!(f.archive.leftovers(later).await.unwrap().is_empty());
    assert_eq!(archive::fixity_with(&f.archive, None, &[], None, Some(later)).await.unwrap().orphans, 0);
    assert_eq!(f.archive.get_blob(&digest).await.unwrap(), Bytes::from_static(b"kept"));
}

#[tokio::test]
async fn file_leftovers_are_reported_and_removed() {
    leftovers_are_reported_and_removed(&file_fixture()).await;
}

#[tokio::test]
async fn file_round_trip() {
    round_trip(&file_fixture()).await;
}

#[tokio::test]
async fn file_manifests_are_written_once() {
    manifests_are_written_once(&file_fixture()).await;
}

#[tokio::test]
async fn file_corruption_is_caught_and_restored() {
    corruption_is_caught_and_restored(&file_fixture()).await;
}

#[tokio::test]
async fn file_a_deleted_object_is_missing() {
    a_deleted_object_is_missing(&file_fixture()).await;
}

#[tokio::test]
async fn file_large_streams_go_up_in_parts() {
    large_streams_go_up_in_parts(&file_fixture()).await;
}

#[test]
fn unknown_schemes_are_refused() {
    let err = Archive::open_url("ftp://x", &Config::default()).unwrap_err();
    assert_eq!(err.code(), "archive_url_unsupported");
}
