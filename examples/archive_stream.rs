//! Archive benchmark driver (not a test): streams generated content through the archive, or
//! ingests many small records, and prints one line of figures. `scripts/bench-archive-memory.sh`
//! runs it under `/usr/bin/time -v` for peak memory against file:// and Garage.
//!
//!   archive_stream put-get URL MIB            # put_stream then get_blob_stream, MIB MiB
//!   archive_stream ingest URL COUNT BYTES     # COUNT records: a BYTES-byte blob and a manifest each
//!
//! S3 settings come from the usual SOHOA_S3_* environment.

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use sohoa::archive::Archive;
use sohoa::config::Config;
use std::time::Instant;

const MIB: usize = 1024 * 1024;
/// Records in flight at once while ingesting, as concurrent requests would be.
const IN_FLIGHT: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut config = Config::default();
    config.apply_env(|k| std::env::var(k).ok())?;
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["put-get", url, mib] => put_get(&Archive::open_url(url, &config)?, mib.parse()?).await,
        ["ingest", url, count, bytes] => ingest(&Archive::open_url(url, &config)?, count.parse()?, bytes.parse()?).await,
        _ => anyhow::bail!("usage: archive_stream put-get URL MIB | ingest URL COUNT BYTES"),
    }
}

/// Incompressible content, 1 MiB at a time so that only the archive holds memory: one random
/// block made once, each copy stamped with its number (no two chunks alike, none compressible),
/// so that this unoptimised example spends its time in the archive, not in generating bytes.
fn content(mib: usize) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Send {
    let mut state = 0x2545_f491_4f6c_dd1du64 ^ Instant::now().elapsed().as_nanos() as u64;
    let mut block = Vec::with_capacity(MIB);
    while block.len() < MIB {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        block.extend_from_slice(&state.to_le_bytes());
    }
    futures::stream::iter(0..mib).map(move |i| {
        let mut chunk = block.clone();
        chunk[..8].copy_from_slice(&(i as u64 ^ state).to_le_bytes());
        Ok(Bytes::from(chunk))
    })
}

async fn put_get(archive: &Archive, mib: usize) -> anyhow::Result<()> {
    let start = Instant::now();
    let stored = archive.put_stream(content(mib)).await?;
    let put = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut stream = archive.get_blob_stream(&stored.digest).await?;
    let mut size = 0u64;
    while let Some(chunk) = stream.try_next().await? {
        size += chunk.len() as u64;
    }
    let get = start.elapsed().as_secs_f64();
    anyhow::ensure!(size == stored.size, "read {size} bytes of {}", stored.size);
    println!("put_mib_s={:.0} get_mib_s={:.0} mib={mib}", mib as f64 / put, mib as f64 / get);
    Ok(())
}

async fn ingest(archive: &Archive, count: usize, bytes: usize) -> anyhow::Result<()> {
    let run = Instant::now().elapsed().as_nanos();
    let start = Instant::now();
    futures::stream::iter(0..count)
        .map(|i| async move {
            let mut content = format!("record {run}-{i} ").into_bytes();
            content.resize(bytes.max(content.len()), b'.');
            let digest = archive.put_blob(content.into()).await?;
            let manifest = format!("{{\"digest\":\"{}\",\"n\":{i}}}", digest.prefixed());
            archive.put_manifest(&format!("bench-{run}-{i}"), manifest.into()).await?;
            anyhow::Ok(())
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<()>()
        .await?;
    println!("records_s={:.0} count={count}", count as f64 / start.elapsed().as_secs_f64());
    Ok(())
}
