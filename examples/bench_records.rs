//! Records benchmark driver (not a test): fills an index with generated records, ingests
//! records through the archive and the index, and times the two lookups that must stay fast
//! at a million records: the reuse lookup (owner, type, valid on a date) and the inclusion
//! proof. `scripts/bench-records.sh` runs it and `wrk` against `sohoa serve` on the same file.
//!
//!   bench_records seed DB COUNT POLICIES            # COUNT records into the index only
//!   bench_records ingest URL DB COUNT BYTES POLICIES # content and manifest archived, then indexed
//!                                                    # (URL `none`: the index alone)
//!   bench_records lookup DB SAMPLES POLICIES IDS    # reuse lookups and proofs; IDS gets record ids
//!
//! Records are generated from their number alone (owner, type, dates, id), so `lookup` knows
//! what `seed` stored without reading it back. Each line printed is `key=value` figures. DB is
//! a SQLite file or a `postgres://` URL.

use futures::{StreamExt, TryStreamExt};
use sohoa::archive::Archive;
use sohoa::config::Config;
use sohoa::domain::{vietnam_today, AgencyCode, Digest};
use sohoa::index::{Actor, AuditEntry, ComponentCheck, Index, NewRecord, RecordFilter};
use sohoa::policy::validity_window;
use sohoa::policy::{Catalog, DocType};
use sohoa::seal::manifest;
use sohoa::tlog;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Owners the records are spread over: at a million records, two or three documents each.
const OWNERS: u64 = 400_000;
/// Ingest requests in flight at once, as concurrent sealing jobs would be.
const IN_FLIGHT: usize = 16;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["seed", db, count, policies] => seed(db, count.parse()?, &Corpus::load(policies)?).await,
        ["ingest", url, db, count, bytes, policies] => ingest(url, db, count.parse()?, bytes.parse()?, &Corpus::load(policies)?).await,
        ["lookup", db, samples, policies, ids] => lookup(db, samples.parse()?, &Corpus::load(policies)?, Path::new(ids)).await,
        _ => anyhow::bail!(
            "usage: bench_records seed DB COUNT POLICIES | ingest URL DB COUNT BYTES POLICIES | lookup DB SAMPLES POLICIES IDS"
        ),
    }
}

/// What generated records are made of: the catalog's reusable types and the configured
/// agency (`SOHOA_AGENCY`), whose tokens can then read them.
struct Corpus {
    agency: AgencyCode,
    types: Vec<DocType>,
}

impl Corpus {
    fn load(policies: &str) -> anyhow::Result<Corpus> {
        let catalog: Catalog = sohoa::policy::load(Path::new(policies))?;
        let agency = AgencyCode::parse(&config()?.agency)?;
        anyhow::ensure!(catalog.agencies.contains_key(&agency), "agency {agency} is not in the catalog");
        let types: Vec<DocType> = catalog.doc_types.values().filter(|t| t.reusable).cloned().collect();
        anyhow::ensure!(!types.is_empty(), "the catalog has no reusable document type");
        Ok(Corpus { agency, types })
    }

    /// Record `n` of a run, its content digest and size given.
    fn record(&self, n: u64, digest: Digest, size: u64) -> NewRecord {
        let owner = mix(n ^ 0x5eed) % OWNERS;
        let doc_type = &self.types[(mix(n ^ 0x7e9e) % self.types.len() as u64) as usize];
        let issued = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).and_then(|d| d.checked_add_days(chrono::Days::new(mix(n) % 4000)));
        let (valid_from, valid_until) = validity_window(Some(doc_type.validity), issued, None);
        NewRecord {
            id: record_id(n),
            kind: "digitized_copy",
            agency: self.agency.clone(),
            dossier: None,
            component: None,
            scan: None,
            owner_id: Some(citizen_id(owner)),
            doc_type: doc_type.id.as_str().to_owned(),
            number: Some(format!("{}/2025/BENCH", n % 100_000)),
            issue_date: issued,
            valid_from,
            valid_until,
            digest,
            size,
            manifest_digest: Digest::of(b""),
            summary: serde_json::json!({"signatures": [], "classification": {"doc_type": doc_type.id.as_str(), "confidence": 0.97}}),
        }
    }

    /// The (owner, type) pair of record `n`, the reuse lookup's key.
    fn key(&self, n: u64) -> (String, String) {
        let r = self.record(n, Digest::of(b""), 0);
        (r.owner_id.unwrap_or_default(), r.doc_type)
    }
}

/// Defaults overlaid with the `SOHOA_*` environment, for the agency and the S3 settings.
fn config() -> anyhow::Result<Config> {
    let mut config = Config::default();
    config.apply_env(|k| std::env::var(k).ok())?;
    Ok(config)
}

/// SplitMix64: spreads consecutive numbers over the whole range.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A 12-digit citizen identity number: Hanoi (001), born in the 2000s (gender digit 2 or 3).
fn citizen_id(owner: u64) -> String {
    format!("001{}{:02}{:06}", 2 + owner % 2, (owner / 2) % 25, owner % 1_000_000)
}

fn record_id(n: u64) -> String {
    format!("{:016x}{:016x}", mix(n), mix(!n))
}

fn manifest_of(record: &mut NewRecord) -> Vec<u8> {
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let bytes = manifest::canonical(record, &created_at);
    record.manifest_digest = manifest::digest(&bytes);
    bytes
}

fn audit() -> AuditEntry {
    AuditEntry { actor: Actor::system("bench"), action: "record.create", target: String::new(), detail: serde_json::json!({}) }
}

fn no_component() -> ComponentCheck {
    ComponentCheck::satisfied()
}

async fn open(db: &str) -> anyhow::Result<std::sync::Arc<dyn Index>> {
    let url = if db.starts_with("postgres://") { db.to_owned() } else { format!("sqlite://{db}") };
    Ok(sohoa::index::open(&url).await?)
}

/// Index-only fill, numbered after what the index already holds so that a run can be resumed;
/// `IN_FLIGHT` at a time, so records are committed in groups as sealing jobs' would be. A
/// record a stopped run stored past the log's size is found taken and left as it is.
async fn seed(db: &str, count: u64, corpus: &Corpus) -> anyhow::Result<()> {
    let index = open(db).await?;
    let first = index.tlog_size().await?;
    let start = Instant::now();
    let index = &index;
    futures::stream::iter(first..count)
        .map(|n| async move {
            let mut record = corpus.record(n, Digest::of(&n.to_le_bytes()), 4096);
            manifest_of(&mut record);
            match index.create_record(record, no_component(), audit()).await {
                Ok(_) | Err(sohoa::index::IndexError::Conflict) => {}
                Err(e) => return Err(e.into()),
            }
            if n % 100_000 == 99_999 {
                eprintln!("seeded {} records, {:.0}/s", n + 1, (n + 1 - first) as f64 / start.elapsed().as_secs_f64());
            }
            anyhow::Ok(())
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<()>()
        .await?;
    let added = count.saturating_sub(first);
    println!(
        "seed_records_s={:.0} added={added} total={} agency={}",
        added as f64 / start.elapsed().as_secs_f64().max(1e-9),
        count.max(first),
        corpus.agency
    );
    Ok(())
}

/// The whole path a sealed copy takes once signed: content and manifest into the archive,
/// then the record and its log leaf into the index; with `url` `none`, the index alone.
async fn ingest(url: &str, db: &str, count: u64, bytes: usize, corpus: &Corpus) -> anyhow::Result<()> {
    let archive = if url == "none" { None } else { Some(Archive::open_url(url, &config()?)?) };
    let index = open(db).await?;
    let run = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64;
    let (archive, index) = (archive.as_ref(), &index);
    let start = Instant::now();
    futures::stream::iter(0..count)
        .map(|i| async move {
            let n = mix(run ^ i);
            let mut content = format!("%PDF-1.7 record {n} ").into_bytes();
            content.resize(bytes.max(content.len()), b'.');
            let size = content.len() as u64;
            let digest = match archive {
                Some(archive) => archive.put_blob(content.into()).await?,
                None => Digest::of(&content),
            };
            let mut record = corpus.record(n, digest, size);
            let manifest = manifest_of(&mut record);
            if let Some(archive) = archive {
                archive.put_manifest(&record.id, manifest.into()).await?;
            }
            index.create_record(record, no_component(), audit()).await?;
            anyhow::Ok(())
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<()>()
        .await?;
    println!("ingest_records_s={:.0} count={count} bytes={bytes}", count as f64 / start.elapsed().as_secs_f64());
    Ok(())
}

/// Times `samples` reuse lookups and `samples` inclusion proofs over the seeded records, one
/// at a time as a request would make them, and writes `samples` record ids to `ids` for wrk.
async fn lookup(db: &str, samples: u64, corpus: &Corpus, ids: &Path) -> anyhow::Result<()> {
    let index = open(db).await?;
    let size = index.tlog_size().await?;
    anyhow::ensure!(size > 0, "the index has no records: run seed first");
    let today = vietnam_today();
    let picks: Vec<u64> = (0..samples).map(|i| mix(i ^ 0xbe9c) % size).collect();

    let mut found = 0usize;
    let mut times = Vec::with_capacity(picks.len());
    for &n in &picks {
        let (owner, doc_type) = corpus.key(n);
        let filter =
            RecordFilter { owner_id: Some(owner), doc_type: Some(doc_type), valid_at: Some(today), limit: 5, ..Default::default() };
        let start = Instant::now();
        found += index.find_records(&filter).await?.len();
        times.push(start.elapsed());
    }
    println!("reuse {} found={found}", percentiles(&mut times));

    let root = tlog::root(size, &index.tlog_nodes(&tlog::root_needs(size)).await?)?;
    let mut times = Vec::with_capacity(picks.len());
    for &n in &picks {
        let start = Instant::now();
        let record = index.record(&record_id(n)).await?.ok_or_else(|| anyhow::anyhow!("record {n} is not in the index"))?;
        let leaf = record.log_index.ok_or_else(|| anyhow::anyhow!("record {n} has no leaf"))?;
        let nodes = index.tlog_nodes(&tlog::inclusion_needs(leaf, size)?).await?;
        let hashes = tlog::inclusion_proof(leaf, size, &nodes)?;
        times.push(start.elapsed());
        let proof = tlog::InclusionProof {
            record: record.id,
            leaf_hash: tlog::manifest_leaf_hash(&record.manifest_digest),
            manifest: record.manifest_digest,
            leaf_index: leaf,
            tree_size: size,
            hashes,
            checkpoint: None,
        };
        proof.verify(&root)?;
    }
    println!("proof {} tree_size={size}", percentiles(&mut times));

    let mut out = std::io::BufWriter::new(std::fs::File::create(ids)?);
    for &n in &picks {
        writeln!(out, "{}", record_id(n))?;
    }
    out.flush()?;
    Ok(())
}

fn percentiles(times: &mut [Duration]) -> String {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e6;
    format!("p50_us={:.0} p99_us={:.0} max_us={:.0} samples={}", at(0.5), at(0.99), at(1.0), times.len())
}
