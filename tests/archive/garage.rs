//! The archive suite against Garage (`make test` starts it and sets SOHOA_TEST_S3_*); each
//! test works under its own prefix of the shared buckets. Skipped, saying so, only when
//! SOHOA_TEST_S3_ENDPOINT is unset.

use super::*;
use object_store::aws::AmazonS3Builder;
use object_store::prefix::PrefixStore;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// The S3 settings from the environment (or a file of `export K=V` lines).
#[derive(Clone)]
struct S3 {
    vars: HashMap<String, String>,
}

impl S3 {
    fn from_env() -> Option<S3> {
        if std::env::var("SOHOA_TEST_S3_ENDPOINT").is_err() {
            // Straight to stderr, past the test harness's capture, so that a skip is never silent.
            let _ = writeln!(
                std::io::stderr().lock(),
                "skipping Garage test: SOHOA_TEST_S3_ENDPOINT is unset (`make test` starts Garage and sets it)"
            );
            return None;
        }
        Some(S3 { vars: std::env::vars().filter(|(k, _)| k.starts_with("SOHOA_TEST_")).collect() })
    }

    fn from_exports(text: &str) -> S3 {
        let vars =
            text.lines().filter_map(|l| l.strip_prefix("export ")?.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        S3 { vars }
    }

    fn var(&self, name: &str) -> String {
        self.vars.get(&format!("SOHOA_TEST_S3_{name}")).cloned().unwrap_or_else(|| panic!("SOHOA_TEST_S3_{name} is unset"))
    }

    fn config(&self, bucket: &str, prefix: &str) -> Config {
        Config {
            archive_url: format!("s3://{bucket}/{prefix}"),
            s3_endpoint: Some(self.var("ENDPOINT")),
            s3_region: self.vars.get("SOHOA_TEST_S3_REGION").cloned().unwrap_or_else(|| "garage".into()),
            s3_access_key_id: Some(self.var("KEY_ID")),
            s3_secret_access_key: Some(self.var("SECRET")),
            s3_allow_http: true,
            ..Config::default()
        }
    }

    fn raw(&self, bucket: &str, prefix: &str) -> Arc<dyn ObjectStore> {
        let s3 = AmazonS3Builder::new()
            .with_endpoint(self.var("ENDPOINT"))
            .with_bucket_name(bucket)
            .with_region("garage")
            .with_access_key_id(self.var("KEY_ID"))
            .with_secret_access_key(self.var("SECRET"))
            .with_allow_http(true)
            .build()
            .unwrap();
        Arc::new(PrefixStore::new(s3, prefix))
    }

    fn fixture(&self) -> Fixture {
        let prefix = format!("t{}", seed());
        let (bucket, replica_bucket) = (self.var("BUCKET"), self.var("REPLICA_BUCKET"));
        let config = self.config(&bucket, &prefix);
        let archive = Archive::open(&config).unwrap();
        let replica = Archive::open_url(&format!("s3://{replica_bucket}/{prefix}"), &config).unwrap();
        Fixture { archive, replica, raw: self.raw(&bucket, &prefix), _dir: None }
    }
}

#[tokio::test]
async fn garage_round_trip() {
    let Some(s3) = S3::from_env() else { return };
    round_trip(&s3.fixture()).await;
}

#[tokio::test]
async fn garage_manifests_are_written_once() {
    let Some(s3) = S3::from_env() else { return };
    manifests_are_written_once(&s3.fixture()).await;
}

#[tokio::test]
async fn garage_corruption_is_caught_and_restored() {
    let Some(s3) = S3::from_env() else { return };
    corruption_is_caught_and_restored(&s3.fixture()).await;
}

#[tokio::test]
async fn garage_a_deleted_object_is_missing() {
    let Some(s3) = S3::from_env() else { return };
    a_deleted_object_is_missing(&s3.fixture()).await;
}

#[tokio::test]
async fn garage_large_streams_go_up_in_parts() {
    let Some(s3) = S3::from_env() else { return };
    large_streams_go_up_in_parts(&s3.fixture()).await;
}

#[tokio::test]
async fn garage_leftovers_are_reported_and_removed() {
    let Some(s3) = S3::from_env() else { return };
    leftovers_are_reported_and_removed(&s3.fixture()).await;
}

/// A Garage of this test's own, in a temp dir, so that killing it disturbs no other test.
struct OwnGarage {
    dir: tempfile::TempDir,
}

impl OwnGarage {
    fn script(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(name)
    }

    fn start(dir: &Path) -> S3 {
        let out = Command::new(Self::script("garage-start.sh")).arg(dir).output().expect("run garage-start.sh");
        assert!(out.status.success(), "garage-start.sh failed: {}", String::from_utf8_lossy(&out.stderr));
        S3::from_exports(&String::from_utf8_lossy(&out.stdout))
    }

    fn kill(&self) {
        let pid = std::fs::read_to_string(self.dir.path().join("pid")).expect("garage pid file");
        let status = Command::new("kill").args(["-9", pid.trim()]).status().expect("run kill");
        assert!(status.success());
        // Wait until it is gone, so that the restart binds its ports again.
        for _ in 0..100 {
            if !Path::new(&format!("/proc/{}", pid.trim())).exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for OwnGarage {
    fn drop(&mut self) {
        let _ = Command::new(Self::script("garage-stop.sh")).arg(self.dir.path()).status();
    }
}

#[tokio::test]
async fn garage_killed_mid_upload_leaves_nothing_and_a_retry_succeeds() {
    if S3::from_env().is_none() {
        return;
    }
    let garage = OwnGarage { dir: tempfile::tempdir().unwrap() };
    let s3 = OwnGarage::start(garage.dir.path());
    // No retries: the upload fails as soon as the server is gone instead of waiting for it.
    let config = Config { s3_max_retries: 0, ..s3.config(&s3.var("BUCKET"), "killed") };
    let archive = Archive::open(&config).unwrap();
    let s = seed();
    let len = 64 * MIB;
    let digest = digest_of(s, len).await;

    let mut chunk = 0;
    let dying = content(s, len).map(|c| {
        chunk += 1;
        if chunk == 24 {
            garage.kill();
        }
        c
    });
    let err = archive.put_stream(dying).await.expect_err("the upload fails when the server dies");
    assert_eq!(err.code(), "archive_unavailable", "{err}");

    OwnGarage::start(garage.dir.path());
    // From here on, retries ride out the moments the restarted server takes to settle.
    let archive = Archive::open(&s3.config(&s3.var("BUCKET"), "killed")).unwrap();
    assert!(!archive.contains(&digest).await.unwrap(), "nothing at the final key");
    let raw = s3.raw(&s3.var("BUCKET"), "killed");
    let blobs: Vec<_> = raw.list(Some(&ObjectPath::from("blobs"))).collect().await;
    assert!(blobs.is_empty(), "{blobs:?}");

    let stored = archive.put_stream(content(s, len)).await.expect("the retry after the restart succeeds");
    assert_eq!(stored.digest, digest);
    assert_eq!(drain(&archive, &digest).await, (len as u64, None));
}
