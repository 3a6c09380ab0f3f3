//! The transparency log over HTTP: checkpoints, record proofs and consistency proofs, each
//! checked with the library and with the built `sohoa tlog verify`.

use crate::common::{assert_problem, TestApp, AGENCY};
use serde_json::{json, Value};
use sohoa::domain::{AgencyCode, Digest, Role};
use sohoa::index::{Actor, AuditEntry, ComponentCheck, NewRecord};
use sohoa::tlog::{Checkpoint, ConsistencyProof, InclusionProof, VerifierKey};
use std::process::Command;

/// Stores records straight in the index, as sealing does once a copy is archived.
async fn add_records(app: &TestApp, ids: &[&str]) {
    for id in ids {
        let record = NewRecord {
            id: (*id).into(),
            kind: "digitized_copy",
            agency: AgencyCode::parse(AGENCY).unwrap(),
            dossier: None,
            component: None,
            scan: None,
            owner_id: Some("001090012345".into()),
            doc_type: "identity_card".into(),
            number: None,
            issue_date: None,
            valid_from: None,
            valid_until: None,
            digest: Digest::of(id.as_bytes()),
            size: 1,
            manifest_digest: Digest::of(format!("manifest of {id}").as_bytes()),
            summary: json!({}),
        };
        let check = ComponentCheck::satisfied();
        let audit = AuditEntry { actor: Actor::system("test"), action: "record.create", target: String::new(), detail: json!({}) };
        app.state.index.create_record(record, check, audit).await.unwrap();
    }
}

fn verifier(app: &TestApp) -> VerifierKey {
    app.state.log_signer.as_ref().expect("the test config has a log key").key().verifier()
}

async fn checkpoint_text(app: &TestApp, token: &str) -> String {
    let response = app.get(token, "/tlog/checkpoint").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
    response.text().await.unwrap()
}

async fn proof(app: &TestApp, id: &str) -> InclusionProof {
    let (status, body) = app.get_json(app.token(Role::Consumer), &format!("/records/{id}/proof?purpose=1.001193")).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_value(body).unwrap()
}

#[tokio::test]
async fn records_are_logged_and_proven_against_signed_checkpoints() {
    let app = TestApp::spawn().await;
    let vkey = verifier(&app);
    assert_eq!(vkey.name(), "sohoa.example/000.00.31.H29");
    let consumer = app.token(Role::Consumer);

    let empty = Checkpoint::open(checkpoint_text(&app, consumer).await.as_bytes(), &vkey).unwrap();
    assert_eq!((empty.size, empty.root), (0, sohoa::tlog::empty_root()));

    add_records(&app, &["r0", "r1", "r2", "r3", "r4"]).await;
    let text5 = checkpoint_text(&app, app.token(Role::Auditor)).await;
    let cp5 = Checkpoint::open(text5.as_bytes(), &vkey).unwrap();
    assert_eq!(cp5.size, 5);
    let (_, record) = app.get_json(consumer, "/records/r2?purpose=1.001193").await;
    assert_eq!(record["log_index"], 2);

    let p = proof(&app, "r2").await;
    assert_eq!((p.record.as_str(), p.leaf_index, p.tree_size), ("r2", 2, 5));
    assert_eq!(p.manifest.prefixed(), record["manifest_digest"]);
    assert_eq!(p.checkpoint.as_deref(), Some(text5.as_str()), "the proof comes with the checkpoint it leads to");
    p.verify(&cp5.root).unwrap();

    add_records(&app, &["r5", "r6", "r7"]).await;
    let text8 = checkpoint_text(&app, consumer).await;
    let cp8 = Checkpoint::open(text8.as_bytes(), &vkey).unwrap();
    assert_eq!(cp8.size, 8);
    assert!(p.verify(&cp8.root).is_err(), "a proof holds for its own tree size only");
    let (status, body) = app.get_json(app.token(Role::Scanner), "/tlog/consistency?from=5&to=8").await;
    assert_eq!(status, 200, "{body}");
    let consistency: ConsistencyProof = serde_json::from_value(body).unwrap();
    consistency.verify(&cp5.root, &cp8.root).unwrap();
    let (_, to_now) = app.get_json(consumer, "/tlog/consistency?from=5").await;
    assert_eq!(to_now["to"], 8);

    // The same answers, checked offline by the command line.
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let p8 = proof(&app, "r6").await;
    let args = |proof_file: &std::path::Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sohoa"));
        c.args(["tlog", "verify", "--key", &vkey.to_string(), "--record", "r6", "--checkpoint"])
            .arg(dir.path().join("cp8"))
            .arg("--proof")
            .arg(proof_file)
            .arg("--old-checkpoint")
            .arg(dir.path().join("cp5"))
            .arg("--consistency")
            .arg(dir.path().join("consistency.json"));
        c.output().unwrap()
    };
    file("cp5", text5.as_bytes());
    file("cp8", text8.as_bytes());
    file("consistency.json", &serde_json::to_vec(&consistency).unwrap());
    let good = file("proof.json", &serde_json::to_vec(&p8).unwrap());
    let out = args(&good);
    assert_eq!(out.status.code(), Some(0), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let moved = file("moved.json", &serde_json::to_vec(&InclusionProof { leaf_index: 5, ..p8.clone() }).unwrap());
    let out = args(&moved);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAILED inclusion"));
    app.stop().await;
}

#[tokio::test]
async fn log_routes_refuse_bad_ranges_strangers_and_other_agencies() {
    let app = TestApp::spawn().await;
    add_records(&app, &["a", "b", "c"]).await;
    let consumer = app.token(Role::Consumer);
    for query in ["from=0&to=3", "from=3&to=2", "from=1&to=4"] {
        assert_problem(app.get(consumer, &format!("/tlog/consistency?{query}")).await, 400, "tlog_bad_range").await;
    }
    let (status, same) = app.get_json(consumer, "/tlog/consistency?from=3&to=3").await;
    assert_eq!((status, &same["hashes"]), (200, &json!([])));
    assert_problem(app.http.get(app.url("/tlog/checkpoint")).send().await.unwrap(), 401, "missing_token").await;
    assert_problem(app.get(&app.other_scanner, "/records/b/proof").await, 404, "record_not_found").await;
    assert_problem(app.get(app.token(Role::Worker), "/records/b/proof").await, 403, "forbidden_role").await;
    assert_problem(app.get(consumer, "/records/nope/proof").await, 404, "record_not_found").await;
    app.stop().await;
}

#[tokio::test]
async fn without_a_key_records_are_still_logged_but_no_checkpoint_is_signed() {
    let app = TestApp::spawn_with(|c| c.tlog_key = c.data_dir.join("absent.key")).await;
    add_records(&app, &["x"]).await;
    assert_problem(app.get(app.token(Role::Consumer), "/tlog/checkpoint").await, 503, "tlog_no_key").await;
    let p = proof(&app, "x").await;
    assert_eq!((p.tree_size, p.checkpoint), (1, None));
    let (_, record): (u16, Value) = app.get_json(app.token(Role::Consumer), "/records/x?purpose=1.001193").await;
    assert_eq!(record["log_index"], 0);
    app.stop().await;
}
