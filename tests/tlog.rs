//! The transparency log library against published vectors (RFC 6962 / CT roots, the
//! transparency-dev proof cases, Go's signed-note keys) and against a naive MTH.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use sohoa::tlog::{self, Checkpoint, Hash, MemoryLog, Note, SignerKey, VerifierKey};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/merkle")
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(json_files(&path));
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    out.sort();
    out
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn b64(v: &Value) -> Vec<u8> {
    BASE64.decode(v.as_str().unwrap()).unwrap()
}

/// A proof as the vector gives it, `null` meaning empty; elements of any length.
fn b64_list(v: &Value) -> Vec<Vec<u8>> {
    v.as_array().map(|a| a.iter().map(b64).collect()).unwrap_or_default()
}

/// The eight CT test leaves.
fn ct_leaves() -> Vec<Vec<u8>> {
    let v = read(&vectors().join("rfc6962-roots.json"));
    v["leaves"].as_array().unwrap().iter().map(|l| hex::decode(l.as_str().unwrap()).unwrap()).collect()
}

fn ct_log() -> MemoryLog {
    MemoryLog::from_leaves(ct_leaves().iter().map(|l| tlog::leaf_hash(l)))
}

/// MTH straight from RFC 9162 §2.1.1, over leaf data.
fn naive_root(leaves: &[Vec<u8>]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => tlog::leaf_hash(&leaves[0]),
        n => {
            let k = split(n);
            tlog::node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

/// The largest power of two smaller than `n`.
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// PATH(m, D[n]) of §2.1.3.1.
fn naive_path(m: usize, leaves: &[Vec<u8>]) -> Vec<Hash> {
    let n = leaves.len();
    if n == 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut p = naive_path(m, &leaves[..k]);
        p.push(naive_root(&leaves[k..]));
        p
    } else {
        let mut p = naive_path(m - k, &leaves[k..]);
        p.push(naive_root(&leaves[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b) of §2.1.4.1.
fn naive_subproof(m: usize, leaves: &[Vec<u8>], whole: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if whole { Vec::new() } else { vec![naive_root(leaves)] };
    }
    let k = split(n);
    if m <= k {
        let mut p = naive_subproof(m, &leaves[..k], whole);
        p.push(naive_root(&leaves[k..]));
        p
    } else {
        let mut p = naive_subproof(m - k, &leaves[k..], false);
        p.push(naive_root(&leaves[..k]));
        p
    }
}

#[test]
fn ct_roots_for_every_prefix_of_the_eight_leaves() {
    let v = read(&vectors().join("rfc6962-roots.json"));
    let log = ct_log();
    assert_eq!(hex::encode(log.root_at(0).unwrap()), v["empty_root"].as_str().unwrap());
    let roots = v["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 8);
    for (i, want) in roots.iter().enumerate() {
        assert_eq!(hex::encode(log.root_at(i as u64 + 1).unwrap()), want.as_str().unwrap(), "size {}", i + 1);
        assert_eq!(hex::encode(naive_root(&ct_leaves()[..=i])), want.as_str().unwrap(), "naive size {}", i + 1);
    }
    assert_eq!(hex::encode(log.root()), "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
}

#[test]
fn inclusion_vectors_accept_and_reject_as_published() {
    let files = json_files(&vectors().join("inclusion"));
    assert_eq!(files.len(), 98, "the inclusion cases of tests/vectors/merkle");
    let log = ct_log();
    let mut happy = 0;
    for file in &files {
        let v = read(file);
        let (index, size) = (v["leafIdx"].as_u64().unwrap(), v["treeSize"].as_u64().unwrap());
        let proof = b64_list(&v["proof"]);
        let got = tlog::verify_inclusion(&b64(&v["leafHash"]), index, size, &proof, &b64(&v["root"]));
        assert_eq!(got.is_err(), v["wantErr"].as_bool().unwrap(), "{}: {got:?}", file.display());
        if file.ends_with("happy-path.json") && size <= 8 {
            // The published proof is the one the prover builds from the CT leaves.
            let ours: Vec<Vec<u8>> = log.inclusion_proof(index, size).unwrap().iter().map(|h| h.to_vec()).collect();
            assert_eq!(ours, proof, "{}", file.display());
            happy += 1;
        }
    }
    assert_eq!(happy, 5);
}

#[test]
fn consistency_vectors_accept_and_reject_as_published() {
    let files = json_files(&vectors().join("consistency"));
    assert_eq!(files.len(), 98, "the consistency cases of tests/vectors/merkle");
    let log = ct_log();
    let mut happy = 0;
    for file in &files {
        let v = read(file);
        let (m, n) = (v["size1"].as_u64().unwrap(), v["size2"].as_u64().unwrap());
        let proof = b64_list(&v["proof"]);
        let got = tlog::verify_consistency(m, n, &proof, &b64(&v["root1"]), &b64(&v["root2"]));
        assert_eq!(got.is_err(), v["wantErr"].as_bool().unwrap(), "{}: {got:?}", file.display());
        if file.ends_with("happy-path.json") {
            let ours: Vec<Vec<u8>> = log.consistency_proof(m, n).unwrap().iter().map(|h| h.to_vec()).collect();
            assert_eq!(ours, proof, "{}", file.display());
            assert_eq!(log.root_at(m).unwrap().to_vec(), b64(&v["root1"]));
            happy += 1;
        }
    }
    assert_eq!(happy, 5);
}

fn leaves(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("leaf {i}").into_bytes()).collect()
}

#[test]
fn every_root_and_inclusion_proof_up_to_70_leaves_matches_the_rfc() {
    let data = leaves(70);
    let log = MemoryLog::from_leaves(data.iter().map(|l| tlog::leaf_hash(l)));
    for n in 1..=70usize {
        let root = naive_root(&data[..n]);
        assert_eq!(log.root_at(n as u64).unwrap(), root, "size {n}");
        for (i, item) in data[..n].iter().enumerate() {
            let proof = log.inclusion_proof(i as u64, n as u64).unwrap();
            assert_eq!(proof, naive_path(i, &data[..n]), "leaf {i} of {n}");
            let leaf = tlog::leaf_hash(item);
            assert!(tlog::verify_inclusion(&leaf, i as u64, n as u64, &proof, &root).is_ok(), "leaf {i} of {n}");
            // The same path at another index, or for another leaf, fails. (The size is not
            // checked by the path alone: the signed checkpoint binds it to the root.)
            if n > 1 {
                let other = (i + 1) % n;
                assert!(tlog::verify_inclusion(&leaf, other as u64, n as u64, &proof, &root).is_err(), "leaf {i} as {other} of {n}");
                let wrong = tlog::leaf_hash(&data[other]);
                assert!(tlog::verify_inclusion(&wrong, i as u64, n as u64, &proof, &root).is_err());
            }
        }
    }
}

#[test]
fn every_consistency_proof_up_to_70_leaves_matches_the_rfc() {
    let data = leaves(70);
    let log = MemoryLog::from_leaves(data.iter().map(|l| tlog::leaf_hash(l)));
    for n in 1..=70usize {
        let new_root = naive_root(&data[..n]);
        for m in 1..=n {
            let old_root = naive_root(&data[..m]);
            let proof = log.consistency_proof(m as u64, n as u64).unwrap();
            assert_eq!(proof, naive_subproof(m, &data[..n], true), "{m} to {n}");
            assert!(tlog::verify_consistency(m as u64, n as u64, &proof, &old_root, &new_root).is_ok(), "{m} to {n}");
            if m < n {
                assert!(tlog::verify_consistency(m as u64, n as u64, &proof, &new_root, &new_root).is_err(), "{m} to {n}");
                assert!(tlog::verify_consistency(m as u64 + 1, n as u64, &proof, &old_root, &new_root).is_err(), "{m} to {n}");
            }
        }
    }
}

#[test]
fn a_rewritten_history_fails_consistency() {
    let data = leaves(40);
    let honest = MemoryLog::from_leaves(data.iter().map(|l| tlog::leaf_hash(l)));
    for changed in [0, 7, 16, 29] {
        let mut forged_data = data.clone();
        forged_data[changed] = b"forged".to_vec();
        let forged = MemoryLog::from_leaves(forged_data.iter().map(|l| tlog::leaf_hash(l)));
        for m in [changed + 1, 30] {
            let old_root = honest.root_at(m as u64).unwrap();
            let proof = forged.consistency_proof(m as u64, 40).unwrap();
            assert!(tlog::verify_consistency(m as u64, 40, &proof, &old_root, &forged.root()).is_err(), "leaf {changed}, from {m}");
        }
    }
}

#[test]
fn tampered_proofs_fail() {
    let log = MemoryLog::from_leaves(leaves(37).iter().map(|l| tlog::leaf_hash(l)));
    let root = log.root();
    let leaf = log.leaf(21).unwrap();
    let path = log.inclusion_proof(21, 37).unwrap();
    let mut wrong_root = root;
    wrong_root[0] ^= 1;
    assert!(tlog::verify_inclusion(&leaf, 21, 37, &path, &wrong_root).is_err());
    assert!(tlog::verify_inclusion(&leaf, 21, 37, &path[..path.len() - 1], &root).is_err());
    assert!(tlog::verify_inclusion(&leaf, 21, 37, &[path.clone(), vec![root]].concat(), &root).is_err());
    for i in 0..path.len() {
        let mut bad = path.clone();
        bad[i][31] ^= 0x80;
        assert!(tlog::verify_inclusion(&leaf, 21, 37, &bad, &root).is_err(), "element {i}");
    }
    let old = log.root_at(13).unwrap();
    let proof = log.consistency_proof(13, 37).unwrap();
    assert!(tlog::verify_consistency(13, 37, &proof[..proof.len() - 1], &old, &root).is_err());
    assert!(tlog::verify_consistency(13, 37, &proof, &old, &wrong_root).is_err());
    assert!(tlog::verify_consistency(13, 37, &proof, &wrong_root, &root).is_err());
    for i in 0..proof.len() {
        let mut bad = proof.clone();
        bad[i][0] ^= 1;
        assert!(tlog::verify_consistency(13, 37, &bad, &old, &root).is_err(), "element {i}");
    }
}

#[test]
fn proofs_at_a_million_leaves_take_well_under_a_millisecond() {
    let log = MemoryLog::from_leaves((0u64..1_000_000).map(|i| tlog::leaf_hash(&i.to_be_bytes())));
    let root = log.root();
    let rounds = 2_000u64;
    let started = Instant::now();
    for k in 0..rounds {
        let index = (k * 499_979) % 1_000_000;
        let proof = log.inclusion_proof(index, 1_000_000).unwrap();
        assert!(tlog::verify_inclusion(&log.leaf(index).unwrap(), index, 1_000_000, &proof, &root).is_ok());
        let m = 1 + (k * 7_919) % 999_999;
        std::hint::black_box(log.consistency_proof(m, 1_000_000).unwrap());
    }
    let each = started.elapsed() / rounds as u32;
    assert!(each.as_micros() < 250, "{each:?} for an inclusion proof, its check and a consistency proof");
}

// golang.org/x/mod/sumdb/note's test key and signed note (note_test.go).
const PETER_SKEY: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG: &str =
    "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

/// Go writes a signer key as `PRIVATE+KEY+<name>+<key id>+<base64(0x01 || seed)>`.
fn peter() -> SignerKey {
    let key = BASE64.decode(PETER_SKEY.strip_prefix("PRIVATE+KEY+PeterNeumann+c74f20a3+").unwrap()).unwrap();
    assert_eq!(key[0], 0x01, "Ed25519");
    let seed: [u8; 32] = key[1..].try_into().unwrap();
    SignerKey::from_seed("PeterNeumann", &seed).unwrap()
}

#[test]
fn go_note_key_and_signature_match() {
    let key = peter();
    assert_eq!(key.key_id(), 0xc74f20a3);
    assert_eq!(key.verifier().to_string(), PETER_VKEY);
    let signed = Note::sign(PETER_TEXT, &[&key]).unwrap();
    assert_eq!(signed, format!("{PETER_TEXT}\n{PETER_SIG}"));
    let vkey = VerifierKey::parse(PETER_VKEY).unwrap();
    let note = Note::open(signed.as_bytes(), &vkey).unwrap();
    assert_eq!(note.text, PETER_TEXT);
    let tampered = signed.replace("answer", "question");
    assert_eq!(Note::open(tampered.as_bytes(), &vkey).unwrap_err().code(), "tlog_bad_signature");
}

#[test]
fn checkpoints_sign_open_and_refuse_tampering() {
    let key = SignerKey::generate("sohoa.example/000.00.31.H29").unwrap();
    let log = ct_log();
    let cp = Checkpoint::new(key.name(), log.size(), log.root());
    let signed = cp.sign(&key).unwrap();
    assert!(signed.starts_with("sohoa.example/000.00.31.H29\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n\u{2014} "), "{signed}");
    let vkey = VerifierKey::parse(&key.verifier().to_string()).unwrap();
    assert_eq!(Checkpoint::open(signed.as_bytes(), &vkey).unwrap(), cp);
    let grown = signed.replacen("\n8\n", "\n9\n", 1);
    assert_eq!(Checkpoint::open(grown.as_bytes(), &vkey).unwrap_err().code(), "tlog_bad_signature");
    assert_eq!(Checkpoint::open(signed.as_bytes(), &peter().verifier()).unwrap_err().code(), "tlog_unknown_key");
    assert_eq!(Checkpoint::open(signed.trim_end().as_bytes(), &vkey).unwrap_err().code(), "tlog_note_malformed");
    // A validly signed note that is not a checkpoint.
    let not_cp = Note::sign("sohoa.example/000.00.31.H29\nseven\n", &[&key]).unwrap();
    assert_eq!(Checkpoint::open(not_cp.as_bytes(), &vkey).unwrap_err().code(), "tlog_checkpoint_malformed");
}

#[test]
fn storage_reads_only_what_the_needs_say() {
    // A store that holds only the needed nodes computes the same answers as a full one.
    let log = MemoryLog::from_leaves(leaves(1000).iter().map(|l| tlog::leaf_hash(l)));
    let subset = |ids: Vec<tlog::NodeId>| -> tlog::NodeMap { ids.into_iter().map(|id| (id, log.nodes()[&id])).collect() };
    for (i, n) in [(0u64, 1u64), (999, 1000), (500, 777), (3, 4)] {
        let nodes = subset(tlog::inclusion_needs(i, n).unwrap());
        assert_eq!(tlog::inclusion_proof(i, n, &nodes).unwrap(), log.inclusion_proof(i, n).unwrap());
    }
    for (m, n) in [(1u64, 1000u64), (512, 1000), (999, 1000), (333, 777)] {
        let nodes = subset(tlog::consistency_needs(m, n).unwrap());
        assert_eq!(tlog::consistency_proof(m, n, &nodes).unwrap(), log.consistency_proof(m, n).unwrap());
        let nodes = subset(tlog::root_needs(m));
        assert_eq!(tlog::root(m, &nodes).unwrap(), log.root_at(m).unwrap());
    }
    // Appending from only the needed nodes gives the nodes a full log stores.
    let mut store = tlog::NodeMap::new();
    for (size, leaf) in leaves(100).iter().enumerate() {
        let needed = subset_of(&store, tlog::append_needs(size as u64));
        store.extend(tlog::append_nodes(size as u64, tlog::leaf_hash(leaf), &needed).unwrap());
    }
    let full = MemoryLog::from_leaves(leaves(100).iter().map(|l| tlog::leaf_hash(l)));
    assert_eq!(&store, full.nodes());
}

fn subset_of(store: &tlog::NodeMap, ids: Vec<tlog::NodeId>) -> tlog::NodeMap {
    ids.into_iter().map(|id| (id, store[&id])).collect()
}
