//! API tests: the app on port 0, real SQLite and archive in a temp dir, real worker binary;
//! with `SOHOA_TEST_INDEX=postgres`, the index on PostgreSQL instead (`make test` runs both).
//! The transparency log's routes are in api/tlog.rs, agency isolation in api/isolation.rs,
//! the chain of custody from scan to seal in api/custody.rs and hostile clients in
//! api/hardening.rs, the scan quality gate in api/quality.rs and the operator's metrics in
//! api/metrics.rs, the desk's files and public verification in api/desk.rs, the fields boxed on
//! a scan's page in api/field_boxes.rs, the access log in api/access.rs, back-file batches posted
//! to the service in api/imports.rs, in this same test binary.

#[path = "api/access.rs"]
mod access;
mod common;
#[path = "api/custody.rs"]
mod custody;
#[path = "api/desk.rs"]
mod desk;
#[path = "api/field_boxes.rs"]
mod field_boxes;
#[path = "api/hardening.rs"]
mod hardening;
#[path = "api/imports.rs"]
mod imports;
#[path = "api/isolation.rs"]
mod isolation;
#[path = "api/metrics.rs"]
mod metrics;
#[path = "api/operator.rs"]
mod operator;
#[path = "api/outage.rs"]
mod outage;
#[path = "api/public.rs"]
mod public;
#[path = "api/quality.rs"]
mod quality;
#[path = "api/signing_desk.rs"]
mod signing_desk;
#[path = "api/tlog.rs"]
mod tlog;

use common::*;
use serde_json::{json, Value};
use sohoa::domain::Role;
use std::collections::HashSet;
use std::time::Duration;

fn citizen(id: &str) -> Value {
    json!({"procedure": "birth-registration", "applicant": {"kind": "citizen", "id": id, "name": "Nguyễn Thị An"}})
}

#[tokio::test]
async fn creating_a_dossier_returns_its_code_and_checklist() {
    let app = TestApp::spawn().await;
    let response = app.create_dossier(app.token(Role::Scanner), citizen("001303012345")).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    let code = body["code"].as_str().unwrap();
    let today = chrono::Utc::now().with_timezone(&sohoa::domain::vietnam_offset()).format("%y%m%d").to_string();
    assert_eq!(code, format!("{AGENCY}-{today}-0001"));
    assert_eq!(location, format!("/api/v1/dossiers/{code}"));
    assert_eq!(body["status"], "received");
    let components: Vec<_> = body["checklist"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["component"].as_str().unwrap(), c["required"].as_bool().unwrap()))
        .collect();
    assert_eq!(components, [("application_form", true), ("hospital_birth_notice", true), ("parents_marriage_certificate", false)]);
    assert!(body["checklist"].as_array().unwrap().iter().all(|c| c["status"] == "missing" && c["reuse_candidates"] == json!([])));
    assert!(body["received_at"].as_str().unwrap().ends_with("+07:00"));

    let (status, got) = app.get_json(app.token(Role::Auditor), &format!("/dossiers/{code}")).await;
    assert_eq!(status, 200);
    assert_eq!(got["applicant"]["id"], "001303012345");

    let (_, audit) = app.get_json(app.token(Role::Auditor), &format!("/audit?target={code}")).await;
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["action"], "dossier.create");
    assert_eq!(entries[0]["role"], "scanner");

    let (_, list) = app.get_json(app.token(Role::Scanner), "/dossiers?status=received").await;
    assert_eq!(list["dossiers"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn enterprise_applicants_and_procedure_codes_are_accepted() {
    let app = TestApp::spawn().await;
    let body =
        json!({"procedure": "2.001610", "applicant": {"kind": "enterprise", "id": "0101243150-001", "name": "Công ty TNHH Sao Mai"}});
    let response = app.create_dossier(app.token(Role::Scanner), body).await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["procedure"], "2.001610");
    assert_eq!(body["checklist"].as_array().unwrap().len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn concurrent_creations_get_unique_consecutive_codes() {
    let app = TestApp::spawn().await;
    let requests = (0..40).map(|_| app.create_dossier(app.token(Role::Scanner), citizen("001303012345")));
    let responses = futures::future::join_all(requests).await;
    let mut sequences = HashSet::new();
    for r in responses {
        assert_eq!(r.status(), 201);
        let code = r.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned();
        sequences.insert(code.rsplit('-').next().unwrap().parse::<u32>().unwrap());
    }
    assert_eq!(sequences, (1..=40).collect::<HashSet<_>>());
    app.stop().await;
}

#[tokio::test]
async fn bad_requests_get_problems_and_write_nothing() {
    let app = TestApp::spawn_with(|c| {
        c.max_upload_bytes = 200_000;
        c.max_pixels = 1_000_000;
    })
    .await;
    let code = app.birth_dossier().await;
    let before = app.footprint().await;
    let scanner = app.token(Role::Scanner);

    let malformed =
        app.http.post(app.url("/dossiers")).bearer_auth(scanner).header("content-type", "application/json").body("{\"procedure\": ");
    let malformed = malformed.send().await.unwrap();
    assert_problem(malformed, 400, "malformed_json").await;
    let unknown = json!({"procedure": "9.999999", "applicant": {"kind": "citizen", "id": "001303012345", "name": "A"}});
    assert_problem(app.create_dossier(scanner, unknown).await, 422, "unknown_procedure").await;
    assert_problem(app.create_dossier(scanner, citizen("000303012345")).await, 422, "invalid_citizen_id").await;
    assert_problem(app.create_dossier(scanner, citizen("12345")).await, 422, "invalid_citizen_id").await;
    assert_problem(app.create_dossier(app.token(Role::Consumer), citizen("001303012345")).await, 403, "forbidden_role").await;
    let no_token = app.http.post(app.url("/dossiers")).json(&citizen("001303012345")).send().await.unwrap();
    assert_problem(no_token, 401, "missing_token").await;
    let bad_token = app.http.post(app.url("/dossiers")).bearer_auth("sohoa_nope").json(&citizen("001303012345")).send().await.unwrap();
    assert_problem(bad_token, 401, "invalid_token").await;

    let component = "hospital_birth_notice";
    // another agency's dossier is answered as a missing one
    assert_problem(app.upload(&app.other_scanner, &code, component, png(50, 50), None).await, 404, "dossier_not_found").await;
    let (status, body) = app.get_json(&app.other_scanner, &format!("/dossiers/{code}")).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("dossier_not_found")));
    assert_problem(app.upload(app.token(Role::Signer), &code, component, png(50, 50), None).await, 403, "forbidden_role").await;
    assert_problem(app.upload(scanner, &code, component, vec![0u8; 200_001], None).await, 413, "upload_too_large").await;
    assert_problem(app.upload(scanner, &code, component, b"just some text, not a PNG".to_vec(), None).await, 415, "unsupported_media_type")
        .await;
    let whole = png(300, 300);
    assert_problem(app.upload(scanner, &code, component, whole[..whole.len() / 2].to_vec(), None).await, 422, "corrupt_image").await;
    assert_problem(app.upload(scanner, &code, component, blank_png(2001, 1000), None).await, 422, "too_many_pixels").await;
    assert_problem(app.upload(scanner, &code, "no_such_component", png(50, 50), None).await, 404, "component_not_found").await;
    assert_problem(app.upload(scanner, "000.00.31.H29-261124-9999", component, png(50, 50), None).await, 404, "dossier_not_found").await;
    assert_problem(app.upload(scanner, &code, component, Vec::new(), None).await, 400, "empty_upload").await;

    assert_eq!(app.footprint().await, before, "a rejected request wrote something");
    app.stop().await;
}

#[tokio::test]
async fn an_upload_is_processed_by_a_separate_worker_process_and_sealed_as_a_record() {
    let app = TestApp::spawn_with(|c| c.workers = 1).await;
    // the mother registers the birth: the birth notice names her identity number
    let body = json!({"procedure": "birth-registration", "applicant": {"kind": "citizen", "id": "001186012345", "name": "Nguyễn Thị Hoa"}});
    let created = app.create_dossier(app.token(Role::Scanner), body).await;
    let code = created.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned();
    let scan = sample_scan();
    let response = app.upload(app.token(Role::Scanner), &code, "hospital_birth_notice", scan.clone(), None).await;
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["scan"]["media_type"], "image/png");
    assert_eq!(accepted["scan"]["digest"], sohoa::domain::Digest::of(&scan).prefixed());

    let dossier = app.wait_for_component(&code, "hospital_birth_notice", "satisfied").await;
    assert_eq!(dossier["scans"][0]["status"], "sealed");
    let job = app.state.index.job(accepted["job"].as_i64().unwrap()).await.unwrap().unwrap();
    assert_eq!(job.state, sohoa::queue::JobState::Done);
    assert_eq!(job.attempts, 1);
    let stored = app.state.archive.get_blob(&sohoa::domain::Digest::of(&scan)).await.unwrap();
    assert_eq!(stored.as_ref(), scan.as_slice());

    // the searchable PDF is in the archive and its text is the recognised text
    let scan_id = accepted["scan"]["id"].as_i64().unwrap();
    let (status, result) = app.get_json(app.token(Role::Scanner), &format!("/scans/{scan_id}/result")).await;
    assert_eq!(status, 200);
    let text = result["pages"][0]["text"].as_str().unwrap();
    assert!(text.contains("GIẤY CHỨNG SINH") && text.contains("001186012345"), "{text}");
    let words = result["pages"][0]["words"].as_array().unwrap();
    assert!(words.iter().all(|w| w["conf"].as_f64().unwrap() > 0.0 && w["w"].as_u64().unwrap() > 0));
    let pdf_digest = sohoa::domain::Digest::parse(result["pdf"]["digest"].as_str().unwrap()).unwrap();
    let pdf = app.state.archive.get_blob(&pdf_digest).await.unwrap();
    let response = app.get(app.token(Role::Scanner), &format!("/scans/{scan_id}/pdf")).await;
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(response.bytes().await.unwrap(), pdf);
    let extracted = common::pdftotext(&pdf);
    assert!(extracted.contains("GIẤY CHỨNG SINH") && extracted.contains("Nguyễn Thị Hoa"), "{extracted}");

    // the sealed copy is a record: classified, owned by the applicant, sealed by the agency
    let item = dossier["checklist"].as_array().unwrap().iter().find(|c| c["component"] == "hospital_birth_notice").unwrap().clone();
    assert_eq!(item["flags"], json!([]));
    assert_eq!(dossier["status"], "received", "the application form is still missing");
    let id = item["record"].as_str().expect("the component names its record").to_owned();
    let consumer = app.token(Role::Consumer);
    let (status, record) = app.get_json(consumer, &format!("/records/{id}?purpose=1.001193")).await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["doc_type"], "hospital_birth_notice");
    assert_eq!(record["owner_id"], "001186012345");
    assert_eq!(record["status"], "active");
    assert_eq!(record["signatures"][0]["kind"], "seal");
    assert_ne!(record["digest"], result["pdf"]["digest"], "the record is the sealed PDF, not the unsealed one");

    let response = app.get(consumer, &format!("/records/{id}/content?purpose=1.001193")).await;
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", record["digest"].as_str().unwrap()));
    let sealed = response.bytes().await.unwrap();
    assert_eq!(sohoa::domain::Digest::of(&sealed).prefixed(), record["digest"]);
    assert!(sealed.starts_with(&pdf), "the seal is an incremental update of the searchable PDF");
    let root = sohoa::sign::load_certificates(&common::demo_pki().join("root.pem")).unwrap();
    let report = sohoa::verify::verify_pdf(&sealed, &root, chrono::Utc::now()).unwrap();
    assert!(report.valid, "{report:?}");
    assert_eq!(report.signatures[0].reason.as_deref(), Some("Bản sao điện tử"));
    assert!(common::pdftotext(&sealed).contains("GIẤY CHỨNG SINH"), "the text layer survives sealing");

    let partial = app
        .http
        .get(app.url(&format!("/records/{id}/content?purpose=1.001193")))
        .bearer_auth(consumer)
        .header("range", "bytes=0-4")
        .send()
        .await
        .unwrap();
    assert_eq!(partial.status(), 206);
    assert_eq!(partial.bytes().await.unwrap().as_ref(), b"%PDF-");
    let cached = app
        .http
        .get(app.url(&format!("/records/{id}/content?purpose=1.001193")))
        .bearer_auth(consumer)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    // the manifest is what the record's digest says, and names the content
    let manifest = app.get(consumer, &format!("/records/{id}/manifest?purpose=1.001193")).await.bytes().await.unwrap();
    assert_eq!(sohoa::domain::Digest::of(&manifest).prefixed(), record["manifest_digest"]);
    let manifest_digest = sohoa::domain::Digest::of(&manifest);
    let manifest: Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(manifest["content"]["digest"], record["digest"]);
    assert_eq!(manifest["id"], id);

    // the manifest is the record's leaf in the transparency log, provably
    assert_eq!(record["log_index"], 0);
    let (status, proof) = app.get_json(consumer, &format!("/records/{id}/proof?purpose=1.001193")).await;
    assert_eq!(status, 200, "{proof}");
    let proof: sohoa::tlog::InclusionProof = serde_json::from_value(proof).unwrap();
    assert_eq!(proof.leaf_hash, sohoa::tlog::manifest_leaf_hash(&manifest_digest));
    let key = app.state.log_signer.as_ref().unwrap().key().verifier();
    let checkpoint = sohoa::tlog::Checkpoint::open(proof.checkpoint.as_deref().unwrap().as_bytes(), &key).unwrap();
    proof.verify(&checkpoint.root).unwrap();

    // found by owner and type, valid today; not by another owner; not by another agency
    let (_, found) =
        app.get_json(consumer, "/records?owner=001186012345&type=hospital_birth_notice&valid_at=2026-11-25&purpose=1.001193").await;
    assert_eq!(found["records"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["records"][0]["id"], id);
    let (_, none) = app.get_json(consumer, "/records?owner=001303012345&purpose=1.001193").await;
    assert_eq!(none["records"], json!([]));
    let (status, _) = app.get_json(&app.other_scanner, &format!("/records/{id}")).await;
    assert_eq!(status, 404);
    let (status, _) = app.get_json(app.token(Role::Worker), &format!("/records/{id}")).await;
    assert_eq!(status, 403);

    // any role verifies a PDF against the service's trust anchors
    let verify = |bytes: Vec<u8>| app.http.post(app.url("/verify")).bearer_auth(app.token(Role::Auditor)).body(bytes).send();
    let report: Value = verify(sealed.to_vec()).await.unwrap().json().await.unwrap();
    assert_eq!(report["valid"], true, "{report}");
    let mut tampered = sealed.to_vec();
    let at = pdf.len() / 2;
    tampered[at] ^= 0x01;
    let report: Value = verify(tampered).await.unwrap().json().await.unwrap();
    assert_eq!(report["valid"], false, "{report}");
    assert_problem(verify(b"not a pdf".to_vec()).await.unwrap(), 422, "pdf_unreadable").await;
    app.stop().await;
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_answer() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    let scanner = app.token(Role::Scanner);
    let first = app.upload(scanner, &code, "application_form", png(80, 60), Some("k-1")).await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let again = app.upload(scanner, &code, "application_form", png(80, 60), Some("k-1")).await;
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["scan"]["id"], first["scan"]["id"]);
    assert_eq!(again["job"], first["job"]);
    assert_problem(app.upload(scanner, &code, "application_form", png(81, 60), Some("k-1")).await, 422, "idempotency_key_reused").await;

    // Concurrent retries of one upload make one scan.
    let racing = (0..6).map(|_| app.upload(scanner, &code, "hospital_birth_notice", png(90, 70), Some("k-2")));
    let mut ids = HashSet::new();
    for response in futures::future::join_all(racing).await {
        assert_eq!(response.status(), 202);
        ids.insert(response.json::<Value>().await.unwrap()["scan"]["id"].as_i64().unwrap());
    }
    assert_eq!(ids.len(), 1);
    let (counts, _) = app.footprint().await;
    assert_eq!(counts.iter().find(|(t, _)| t == "jobs").unwrap().1, 2);
    app.stop().await;
}

async fn queued_job(app: &TestApp) -> (String, i64) {
    let code = app.birth_dossier().await;
    let response = app.upload(app.token(Role::Scanner), &code, "hospital_birth_notice", png(64, 64), None).await;
    assert_eq!(response.status(), 202);
    (code, response.json::<Value>().await.unwrap()["job"].as_i64().unwrap())
}

async fn claim(app: &TestApp) -> Option<Value> {
    let (status, job) = app.post_json(app.token(Role::Worker), "/jobs/claim", json!({"kinds": ["ocr"]})).await;
    (status == 200).then_some(job)
}

#[tokio::test]
async fn the_queue_retries_with_backoff_then_buries_and_requeues() {
    let app = TestApp::spawn_with(|c| {
        c.retry_base_seconds = 0;
        c.max_attempts = 2;
    })
    .await;
    let (code, id) = queued_job(&app).await;
    let worker = app.token(Role::Worker);
    assert_problem(
        app.http.post(app.url("/jobs/claim")).bearer_auth(app.token(Role::Scanner)).json(&json!({"kinds": ["ocr"]})).send().await.unwrap(),
        403,
        "forbidden_role",
    )
    .await;

    let job = claim(&app).await.expect("a job");
    assert_eq!(job["id"], id);
    assert_eq!(job["attempts"], 1);
    assert!(claim(&app).await.is_none(), "a leased job is not handed out twice");
    let lease = job["lease"].as_str().unwrap();
    let (status, _) = app.post_json(worker, &format!("/jobs/{id}/heartbeat"), json!({"lease": "not-mine"})).await;
    assert_eq!(status, 409);
    let (status, _) = app.post_json(worker, &format!("/jobs/{id}/heartbeat"), json!({"lease": lease})).await;
    assert_eq!(status, 200);

    let failure = json!({"lease": lease, "code": "engine_error", "message": "try again"});
    let (status, body) = app.post_json(worker, &format!("/jobs/{id}/fail"), failure).await;
    assert_eq!((status, body["state"].as_str()), (200, Some("queued")));

    let job = claim(&app).await.expect("the retry");
    assert_eq!(job["attempts"], 2);
    let failure = json!({"lease": job["lease"], "code": "engine_error", "message": "still broken"});
    let (_, body) = app.post_json(worker, &format!("/jobs/{id}/fail"), failure).await;
    assert_eq!(body["state"], "dead");
    let dossier = app.wait_for_component(&code, "hospital_birth_notice", "failed").await;
    assert_eq!(dossier["scans"][0]["error_code"], "engine_error");

    let (_, dead) = app.get_json(app.token(Role::Admin), "/jobs?state=dead").await;
    assert_eq!(dead["jobs"][0]["id"], id);
    let (status, _) = app.post_json(app.token(Role::Scanner), &format!("/jobs/{id}/requeue"), json!({})).await;
    assert_eq!(status, 403);
    let (status, _) = app.post_json(app.token(Role::Admin), &format!("/jobs/{id}/requeue"), json!({})).await;
    assert_eq!(status, 200);
    let job = claim(&app).await.expect("requeued job");
    assert_eq!(job["attempts"], 1);
    app.stop().await;
}

#[tokio::test]
async fn a_job_whose_last_lease_expires_keeps_the_error_an_earlier_attempt_reported() {
    let app = TestApp::spawn_with(|c| {
        c.retry_base_seconds = 0;
        c.max_attempts = 2;
        c.lease_seconds = 1;
    })
    .await;
    let (code, id) = queued_job(&app).await;
    let first = claim(&app).await.unwrap();
    let failure = json!({"lease": first["lease"], "code": "output_unavailable", "message": "output answered 413", "permanent": false});
    let (_, body) = app.post_json(app.token(Role::Worker), &format!("/jobs/{id}/fail"), failure).await;
    assert_eq!(body["state"], "queued");
    claim(&app).await.expect("the second attempt");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(claim(&app).await.is_none(), "no attempts are left");
    let job = app.state.index.job(id).await.unwrap().unwrap();
    let error = job.last_error.unwrap_or_default();
    assert!(error.starts_with("lease_expired") && error.contains("output_unavailable: output answered 413"), "{error}");
    app.wait_for_component(&code, "hospital_birth_notice", "failed").await;
    app.stop().await;
}

#[tokio::test]
async fn a_permanent_failure_is_dead_at_once() {
    let app = TestApp::spawn().await;
    let (code, id) = queued_job(&app).await;
    let job = claim(&app).await.unwrap();
    let failure = json!({"lease": job["lease"], "code": "corrupt_image", "message": "cannot decode", "permanent": true});
    let (_, body) = app.post_json(app.token(Role::Worker), &format!("/jobs/{id}/fail"), failure).await;
    assert_eq!(body["state"], "dead");
    app.wait_for_component(&code, "hospital_birth_notice", "failed").await;
    app.stop().await;
}

#[tokio::test]
async fn an_expired_lease_passes_the_job_on_and_only_one_result_counts() {
    let app = TestApp::spawn_with(|c| c.lease_seconds = 1).await;
    let (code, id) = queued_job(&app).await;
    let worker = app.token(Role::Worker);
    let first = claim(&app).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let second = claim(&app).await.expect("the expired job is handed out again");
    assert_eq!(second["id"], id);
    assert_eq!(second["attempts"], 2);

    let digest = sohoa::domain::Digest::of(&png(64, 64)).prefixed();
    let pages = json!([page_text(1, 64, 64, "")]);
    let stored = app.post_output(id, second["lease"].as_str().unwrap(), recognition(&digest, pages.clone()).to_string().into_bytes()).await;
    let result = |input: &str| json!({"input": input, "recognition": stored});
    let late = json!({"lease": first["lease"], "result": result(&digest)});
    let (status, body) = app.post_json(worker, &format!("/jobs/{id}/complete"), late).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("lease_lost")));
    let wrong = json!({"lease": second["lease"], "result": result(&sohoa::domain::Digest::of(b"other").prefixed())});
    let (status, body) = app.post_json(worker, &format!("/jobs/{id}/complete"), wrong).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("digest_mismatch")));
    let missing = json!({"lease": second["lease"], "result": {"input": digest, "recognition": sohoa::domain::Digest::of(b"x").prefixed()}});
    let (status, body) = app.post_json(worker, &format!("/jobs/{id}/complete"), missing).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("output_missing")));
    let done = json!({"lease": second["lease"], "result": result(&digest)});
    let (status, _) = app.post_json(worker, &format!("/jobs/{id}/complete"), done.clone()).await;
    assert_eq!(status, 200);
    let (status, _) = app.post_json(worker, &format!("/jobs/{id}/complete"), done).await;
    assert_eq!(status, 200, "a repeated completion by the holder is idempotent");

    app.wait_for_component(&code, "hospital_birth_notice", "digitized").await;
    let (_, audit) = app.get_json(app.token(Role::Auditor), &format!("/audit?target=job:{id}")).await;
    let completions = audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "job.complete").count();
    assert_eq!(completions, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_worker_fetches_only_the_input_it_holds_the_lease_for() {
    let app = TestApp::spawn().await;
    let (_, id) = queued_job(&app).await;
    let worker = app.token(Role::Worker);
    let get = |lease: String| app.http.get(app.url(&format!("/jobs/{id}/input"))).bearer_auth(worker).query(&[("lease", lease)]).send();
    assert_eq!(get("x".into()).await.unwrap().status(), 409);
    let job = claim(&app).await.unwrap();
    let input = get(job["lease"].as_str().unwrap().to_owned()).await.unwrap();
    assert_eq!(input.status(), 200);
    assert_eq!(input.bytes().await.unwrap().as_ref(), png(64, 64).as_slice());
    app.stop().await;
}

#[tokio::test]
async fn catalog_and_health_endpoints() {
    let app = TestApp::spawn().await;
    let (status, procedures) = app.get_json(app.token(Role::Consumer), "/procedures").await;
    assert_eq!(status, 200);
    assert!(procedures["procedures"].as_array().unwrap().len() >= 8);
    let (status, p) = app.get_json(app.token(Role::Signer), "/procedures/criminal-record-certificate").await;
    assert_eq!((status, p["code"].as_str()), (200, Some("2.000488")));
    let (status, types) = app.get_json(app.token(Role::Auditor), "/doc-types").await;
    assert_eq!(status, 200);
    assert!(types["doc_types"].as_array().unwrap().len() >= 14);
    let anonymous = app.http.get(app.url("/procedures")).send().await.unwrap();
    assert_problem(anonymous, 401, "missing_token").await;
    let health = app.http.get(format!("{}/healthz", app.base)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let ready: Value = app.http.get(format!("{}/readyz", app.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(ready, json!({"index": "ok", "archive": "ok"}));
    assert_problem(app.http.get(app.url("/nowhere")).send().await.unwrap(), 404, "not_found").await;
    app.stop().await;
}

#[tokio::test]
async fn a_scan_the_worker_cannot_read_fails_with_its_code_and_the_worker_goes_on() {
    let app = TestApp::spawn_with(|c| c.workers = 1).await;
    let code = app.birth_dossier().await;
    let scanner = app.token(Role::Scanner);
    // a valid 1x1 PNG passes intake but holds no text
    let response = app.upload(scanner, &code, "hospital_birth_notice", blank_png(1, 1), None).await;
    assert_eq!(response.status(), 202);
    let dossier = app.wait_for_component(&code, "hospital_birth_notice", "failed").await;
    assert_eq!(dossier["scans"][0]["error_code"], "image_too_small", "{dossier}");
    let job = dossier["scans"][0]["job"].as_i64().unwrap();
    assert_eq!(app.state.index.job(job).await.unwrap().unwrap().state, sohoa::queue::JobState::Dead, "no retry for bad input");

    // the same worker process takes the next scan
    let response = app.upload(scanner, &code, "application_form", sample_scan(), None).await;
    assert_eq!(response.status(), 202);
    app.wait_for_component(&code, "application_form", "digitized").await;
    app.stop().await;
}

/// A PDF of `pages` copies of the sample scan, as JPEG pages.
fn multi_page_pdf(pages: usize) -> Vec<u8> {
    use lopdf::{dictionary, Object, Stream};
    let image = image::load_from_memory(&sample_scan()).unwrap().to_luma8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85).encode_image(&image).unwrap();
    let mut doc = lopdf::Document::with_version("1.7");
    let tree = doc.new_object_id();
    let mut kids = Vec::new();
    for _ in 0..pages {
        let im = doc.add_object(Stream::new(
            dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => image.width(), "Height" => image.height(),
            "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode" },
            jpeg.clone(),
        ));
        let content = doc.add_object(Stream::new(dictionary! {}, b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec()));
        kids.push(Object::from(doc.add_object(dictionary! { "Type" => "Page", "Parent" => tree,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()], "Contents" => content,
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => im } } })));
    }
    doc.objects.insert(tree, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => pages as i64 }));
    let root = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => tree });
    doc.trailer.set("Root", root);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[tokio::test]
async fn a_worker_killed_mid_page_loses_its_lease_and_another_finishes_the_job_once() {
    let app = TestApp::spawn_with(|c| c.lease_seconds = 2).await;
    let token_file = app.dir.path().join("worker.token");
    std::fs::write(&token_file, app.token(Role::Worker)).unwrap();
    let start_worker = |id: &str| {
        std::process::Command::new(common::worker_binary())
            .args(["--api", &app.base, "--id", id])
            .arg("--token-file")
            .arg(&token_file)
            .env("OMP_THREAD_LIMIT", "1")
            .spawn()
            .unwrap()
    };
    let code = app.birth_dossier().await;
    let response = app.upload(app.token(Role::Scanner), &code, "hospital_birth_notice", multi_page_pdf(6), None).await;
    assert_eq!(response.status(), 202);
    let job: i64 = response.json::<Value>().await.unwrap()["job"].as_i64().unwrap();

    let mut first = start_worker("first");
    for _ in 0..600 {
        if app.state.index.job(job).await.unwrap().unwrap().state == sohoa::queue::JobState::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(app.state.index.job(job).await.unwrap().unwrap().state, sohoa::queue::JobState::Running, "killed mid-page");

    let mut second = start_worker("second");
    let dossier = app.wait_for_component(&code, "hospital_birth_notice", "digitized").await;
    second.kill().unwrap();
    second.wait().unwrap();
    let done = app.state.index.job(job).await.unwrap().unwrap();
    assert_eq!((done.state, done.attempts), (sohoa::queue::JobState::Done, 2));
    let (_, audit) = app.get_json(app.token(Role::Auditor), &format!("/audit?target=job:{job}")).await;
    let completions = audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "job.complete").count();
    assert_eq!(completions, 1, "exactly one result recorded");
    let scan = dossier["scans"][0]["id"].as_i64().unwrap();
    let (_, result) = app.get_json(app.token(Role::Scanner), &format!("/scans/{scan}/result")).await;
    assert_eq!(result["pages"].as_array().unwrap().len(), 6);
    app.stop().await;
}

#[tokio::test]
async fn an_earlier_record_is_offered_and_reused_instead_of_a_new_scan() {
    let app = TestApp::spawn().await;
    let scanner = app.token(Role::Scanner);
    let citizen = "001090012345";
    let dossier_for =
        |procedure: &str, id: &str| json!({"procedure": procedure, "applicant": {"kind": "citizen", "id": id, "name": "Lê Văn Bình"}});
    // a criminal-record request in which the identity card was scanned and sealed
    let first: Value = app.create_dossier(scanner, dossier_for("criminal-record-certificate", citizen)).await.json().await.unwrap();
    let first_code = sohoa::domain::DossierCode::parse(first["code"].as_str().unwrap()).unwrap();
    let today = chrono::Utc::now().date_naive();
    let record = |id: &str, owner: &str, doc_type: &str, until: Option<chrono::NaiveDate>| sohoa::index::NewRecord {
        id: id.into(),
        kind: "digitized_copy",
        agency: sohoa::domain::AgencyCode::parse(AGENCY).unwrap(),
        dossier: Some(first_code.clone()),
        component: Some("identity_card".into()),
        scan: None,
        owner_id: Some(owner.into()),
        doc_type: doc_type.into(),
        number: None,
        issue_date: None,
        valid_from: None,
        valid_until: until,
        digest: sohoa::domain::Digest::of(id.as_bytes()),
        size: 1,
        manifest_digest: sohoa::domain::Digest::of(id.as_bytes()),
        summary: json!({}),
    };
    let index = &app.state.index;
    let check = || sohoa::index::ComponentCheck::satisfied();
    let audit = || sohoa::index::AuditEntry {
        actor: sohoa::index::Actor::system("test"),
        action: "record.create",
        target: String::new(),
        detail: json!({}),
    };
    index.create_record(record("cccd1", citizen, "identity_card", None), check(), audit()).await.unwrap();
    index
        .create_record(record("expired1", citizen, "identity_card", Some(today - chrono::Duration::days(400))), check(), audit())
        .await
        .unwrap();
    index.create_record(record("someone1", "079090000001", "identity_card", None), check(), audit()).await.unwrap();
    index.create_record(record("birth1", citizen, "birth_certificate", None), check(), audit()).await.unwrap();

    // the marriage registration offers the valid identity card of the same citizen only
    let second: Value = app.create_dossier(scanner, dossier_for("marriage-registration", citizen)).await.json().await.unwrap();
    let code = second["code"].as_str().unwrap();
    let item = |d: &Value, c: &str| d["checklist"].as_array().unwrap().iter().find(|i| i["component"] == c).unwrap().clone();
    let husband = item(&second, "identity_card_husband");
    let offered: Vec<&str> = husband["reuse_candidates"].as_array().unwrap().iter().map(|c| c["record"].as_str().unwrap()).collect();
    assert_eq!(offered, ["cccd1"], "{second}");
    assert_eq!(item(&second, "application_form")["reuse_candidates"], json!([]));

    let app = &app;
    let reuse = |component: &str, id: &str| {
        let path = format!("/dossiers/{code}/components/{component}/reuse");
        let body = json!({"record": id});
        async move { app.post_json(scanner, &path, body).await }
    };
    assert_eq!(reuse("identity_card_husband", "someone1").await.0, 404, "another person's record");
    let (status, body) = reuse("identity_card_husband", "expired1").await;
    assert_eq!((status, body["code"].as_str()), (422, Some("record_not_valid")));
    let (status, body) = reuse("identity_card_husband", "birth1").await;
    assert_eq!((status, body["code"].as_str()), (422, Some("record_wrong_type")));
    let (status, body) = reuse("application_form", "cccd1").await;
    assert_eq!((status, body["code"].as_str()), (422, Some("reuse_not_allowed")));
    let (status, _) = app
        .post_json(&app.other_scanner, &format!("/dossiers/{code}/components/identity_card_husband/reuse"), json!({"record": "cccd1"}))
        .await;
    assert_eq!(status, 404, "another agency's scanner meets no such dossier");

    let (status, body) = reuse("identity_card_husband", "cccd1").await;
    assert_eq!(status, 200, "{body}");
    let accepted = item(&body["dossier"], "identity_card_husband");
    assert_eq!(
        (accepted["status"].as_str(), accepted["record"].as_str(), accepted["reused"].as_bool()),
        (Some("satisfied"), Some("cccd1"), Some(true))
    );
    assert_eq!(body["dossier"]["status"], "received", "other required components are still missing");
    let (_, log) = app.get_json(app.token(Role::Auditor), &format!("/audit?target=dossier:{code}")).await;
    assert!(log["entries"].as_array().unwrap().iter().any(|e| e["action"] == "component.reuse"), "{log}");
}

#[tokio::test]
async fn records_are_revoked_superseded_held_and_disposed_of_only_after_retention() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    let admin = app.token(Role::Admin);
    // criminal record certificates are kept 5 years; birth certificates permanently
    let old = archived_record(&app, "old-lylich", &code, "criminal_record_certificate", "2015-03-01").await;
    archived_record(&app, "new-lylich", &code, "criminal_record_certificate", "2026-01-05").await;
    archived_record(&app, "khaisinh", &code, "birth_certificate", "1990-05-01").await;

    // revoking needs an admin and a reason; the record stays retrievable, marked revoked
    let (status, _) = app.post_json(app.token(Role::Consumer), "/records/new-lylich/revoke", json!({"reason": "cấp nhầm"})).await;
    assert_eq!(status, 403);
    let (status, body) = app.post_json(admin, "/records/new-lylich/revoke", json!({"reason": "  "})).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_reason")));
    let (status, body) = app.post_json(admin, "/records/new-lylich/revoke", json!({"reason": "cấp nhầm"})).await;
    assert_eq!((status, body["status"].as_str(), body["status_reason"].as_str()), (200, Some("revoked"), Some("cấp nhầm")), "{body}");
    let (status, body) = app.post_json(admin, "/records/new-lylich/revoke", json!({"reason": "again"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("record_not_active")));
    let response = app.get(app.token(Role::Consumer), "/records/new-lylich/content?purpose=1.001193").await;
    assert_eq!(response.status(), 200, "a revoked record keeps its content");
    let (_, valid) = app.get_json(app.token(Role::Consumer), "/records?owner=001186012345&valid_at=2026-11-25&purpose=1.001193").await;
    assert!(valid["records"].as_array().unwrap().iter().all(|r| r["id"] != "new-lylich"), "{valid}");

    // superseding names an active record of the same agency
    let (status, body) = app.post_json(admin, "/records/old-lylich/supersede", json!({"reason": "cấp lại", "by": "new-lylich"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("successor_not_found")), "a revoked successor does not count");

    // past retention and under no hold: listed for review, nothing disposed of by itself
    let (status, review) = app.get_json(app.token(Role::Auditor), "/disposal").await;
    assert_eq!(status, 200);
    let listed: Vec<_> = review["records"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(listed, ["old-lylich"], "{review}");
    assert_eq!(app.state.index.record("old-lylich").await.unwrap().unwrap().status.as_str(), "active");
    let (status, body) = app.post_json(admin, "/records/new-lylich/dispose", json!({"reason": "hết hạn"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("retention_not_over")));
    let (status, body) = app.post_json(admin, "/records/khaisinh/dispose", json!({"reason": "hết hạn"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("retention_permanent")));

    // a hold on the dossier blocks disposal until it is released
    let (status, hold) = app.post_json(admin, "/holds", json!({"dossier": code, "reason": "thanh tra"})).await;
    assert_eq!(status, 201, "{hold}");
    let (_, review) = app.get_json(admin, "/disposal").await;
    assert_eq!(review["records"], json!([]), "a held record is not offered for disposal");
    let (status, body) = app.post_json(admin, "/records/old-lylich/dispose", json!({"reason": "hết hạn"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("legal_hold")));
    let (status, body) = app.post_json(admin, "/holds", json!({"record": "old-lylich", "dossier": code, "reason": "x"})).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_hold_target")));
    let (status, _) = app.post_json(admin, "/holds", json!({"record": "no-such", "reason": "x"})).await;
    assert_eq!(status, 404);
    let (_, holds) = app.get_json(app.token(Role::Auditor), "/holds?in_force=true").await;
    assert_eq!(holds["holds"].as_array().unwrap().len(), 1, "{holds}");
    let path = format!("/holds/{}/release", hold["id"]);
    let (status, released) = app.post_json(admin, &path, json!({})).await;
    assert_eq!((status, released["in_force"].as_bool()), (200, Some(false)), "{released}");
    let (status, _) = app.post_json(admin, &path, json!({})).await;
    assert_eq!(status, 404, "a released hold is not in force");

    // disposal removes the content; the manifest and the audit trail stay
    let (status, body) = app.post_json(admin, "/records/old-lylich/dispose", json!({"reason": "hết hạn lưu trữ"})).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("disposed")), "{body}");
    assert!(matches!(app.state.archive.get_blob(&old.digest).await, Err(sohoa::archive::ArchiveError::Missing { .. })));
    assert!(app.state.archive.get_manifest(&old.id, &old.manifest_digest).await.is_ok());
    assert_problem(app.get(app.token(Role::Consumer), "/records/old-lylich/content?purpose=1.001193").await, 410, "record_disposed").await;
    assert_eq!(app.get(app.token(Role::Consumer), "/records/old-lylich/manifest?purpose=1.001193").await.status(), 200);
    let (status, body) = app.post_json(admin, "/records/old-lylich/dispose", json!({"reason": "again"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("record_disposed")));
    let (_, audit) = app.get_json(app.token(Role::Auditor), "/audit?target=record:old-lylich").await;
    let actions: HashSet<_> = audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
    assert!(actions.contains("record.dispose"), "{audit}");
    assert_eq!(app.get(app.token(Role::Consumer), "/records/khaisinh/content?purpose=1.001193").await.status(), 200);
    app.stop().await;
}

fn bagit_validate(bag: &std::path::Path) -> std::process::Output {
    let venv = tools_venv();
    std::process::Command::new(venv.join("bin/python")).arg(venv.join("bin/bagit.py")).arg("--validate").arg(bag).output().unwrap()
}

#[tokio::test]
async fn a_dossier_exports_as_a_bag_that_the_bagit_tool_validates() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    archived_record(&app, "ban-sao-1", &code, "hospital_birth_notice", "2026-11-20").await;
    archived_record(&app, "ban-sao-2", &code, "application_form", "2026-11-20").await;
    let export = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sohoa"))
            .args(["export", "bagit"])
            .args(args)
            .env("SOHOA_INDEX_URL", &app.config.index_url)
            .env("SOHOA_ARCHIVE_URL", &app.config.archive_url)
            .env("SOHOA_TLOG_KEY", &app.config.tlog_key)
            .env("SOHOA_AGENCY", AGENCY)
            .output()
            .unwrap()
    };
    let bag = app.dir.path().join("bag");
    let out = export(&["--dossier", &code, "-o", bag.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 records, 9 files"), "{}", String::from_utf8_lossy(&out.stdout));
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(info.contains(&format!("External-Identifier: {code}")), "{info}");
    let valid = bagit_validate(&bag);
    assert!(valid.status.success(), "{}", String::from_utf8_lossy(&valid.stderr));
    let manifest = std::fs::read(bag.join("data/records/ban-sao-1/manifest.json")).unwrap();
    let record: Value = serde_json::from_slice(&std::fs::read(bag.join("data/records/ban-sao-1/record.json")).unwrap()).unwrap();
    assert_eq!(sohoa::domain::Digest::of(&manifest).as_str(), record["manifest_digest"].as_str().unwrap());
    // the record's proof leads to the bag's signed checkpoint
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sohoa"))
        .args(["tlog", "verify", "--record", "ban-sao-1"])
        .arg("--checkpoint")
        .arg(bag.join("data/checkpoint.txt"))
        .arg("--proof")
        .arg(bag.join("data/records/ban-sao-1/proof.json"))
        .arg("--key")
        .arg(
            sohoa::tlog::SignerKey::from_pkcs8(&app.config.log_origin(), &std::fs::read(&app.config.tlog_key).unwrap())
                .unwrap()
                .verifier()
                .to_string(),
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    // the bag's checksums catch a changed byte
    let content = bag.join("data/records/ban-sao-1/content.pdf");
    let mut bytes = std::fs::read(&content).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&content, bytes).unwrap();
    assert!(!bagit_validate(&bag).status.success(), "bagit accepted a changed payload");

    // an existing target or an empty selection is refused, and nothing is written
    let out = export(&["--dossier", &code, "-o", bag.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("export_target_exists"));
    let empty = app.dir.path().join("empty");
    let out = export(&["--owner", "079204000001", "-o", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("export_empty"));
    assert!(!empty.exists());
    let leftovers: Vec<_> = std::fs::read_dir(app.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_result_is_signed_by_two_officials_then_issued_as_a_record() {
    use base64::Engine as _;
    use sohoa::sign::Signer as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    let agency = sohoa::domain::AgencyCode::parse(AGENCY).unwrap();
    let index = app.state.index.as_ref();
    // the chairman has a key held by the service; the vice-chairman signs with her own token
    let (_, chairman) = sohoa::api::issue_token(index, Role::Signer, &agency, "official1").await.unwrap();
    let (_, vice) = sohoa::api::issue_token(index, Role::Signer, &agency, "vice-chairman").await.unwrap();
    let post_pdf = |token: &str, path: &str, body: Vec<u8>| {
        app.http.post(app.url(path)).bearer_auth(token).header("content-type", "application/pdf").body(body).send()
    };

    let path = format!("/dossiers/{code}/results?number=123/QĐ-UBND");
    assert_eq!(post_pdf(app.token(Role::Scanner), &path, sample_pdf(false)).await.unwrap().status(), 403);
    assert_problem(post_pdf(&chairman, &path, b"%PDF-1.7 nothing else".to_vec()).await.unwrap(), 422, "pdf_unreadable").await;
    let response = post_pdf(&chairman, &path, sample_pdf(false)).await.unwrap();
    assert_eq!(response.status(), 201);
    let result: Value = response.json().await.unwrap();
    assert_eq!((result["doc_type"].as_str(), result["status"].as_str()), (Some("birth_certificate"), Some("draft")), "{result}");
    let id = result["id"].as_str().unwrap().to_owned();
    let (status, _) = app.post_json(&chairman, &format!("/results/{id}/issue"), json!({})).await;
    assert_eq!(status, 409, "an unsigned result is not issued");

    // server-held key
    let (status, signed) = app.post_json(&chairman, &format!("/results/{id}/sign"), json!({"reason": "Phê duyệt"})).await;
    assert_eq!((status, signed["signatures"].as_u64()), (200, Some(1)), "{signed}");
    let (status, body) = app.post_json(&vice, &format!("/results/{id}/sign"), json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("no_server_key")));

    // deferred: the service hands out the signed attributes, the official's token signs them
    let pki = demo_pki();
    let token = sohoa::sign::FileSigner::from_files(&pki.join("official2.key"), &pki.join("official2.pem"), None).unwrap();
    let cert = b64.encode(token.certificate()).replace('+', "-").replace('/', "_");
    let (status, session) = app.get_json(&vice, &format!("/results/{id}/signing-digest?certificate={cert}&reason=Ký%20thay")).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["algorithm"], "ecdsa_p256_sha256");
    let attributes = b64.decode(session["signed_attributes"].as_str().unwrap()).unwrap();
    assert_eq!(sohoa::domain::Digest::of(&attributes).as_str(), session["digest_sha256"].as_str().unwrap());
    // a signature by another key is refused and nothing changes
    let chairman_key = sohoa::sign::FileSigner::from_files(&pki.join("official1.key"), &pki.join("official1.pem"), None).unwrap();
    let forged = b64.encode(chairman_key.sign(&attributes).unwrap());
    let (status, body) =
        app.post_json(&vice, &format!("/results/{id}/signature"), json!({"session": session["session"], "signature": forged})).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("signature_invalid")), "{body}");
    let signature = b64.encode(token.sign(&attributes).unwrap());
    let (status, signed) =
        app.post_json(&vice, &format!("/results/{id}/signature"), json!({"session": session["session"], "signature": signature})).await;
    assert_eq!((status, signed["signatures"].as_u64()), (200, Some(2)), "{signed}");
    let events: Vec<_> = signed["versions"].as_array().unwrap().iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["attached", "signed", "signed_deferred"]);
    let (status, body) =
        app.post_json(&vice, &format!("/results/{id}/signature"), json!({"session": session["session"], "signature": signature})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("session_used")));

    // both signatures hold in the final document
    let pdf = app.get(&chairman, &format!("/results/{id}/content")).await.bytes().await.unwrap();
    let root = sohoa::sign::load_certificates(&pki.join("root.pem")).unwrap();
    let report = sohoa::verify::verify_pdf(&pdf, &root, chrono::Utc::now()).unwrap();
    assert!(report.valid, "{report:?}");
    let signers: Vec<_> = report.signatures.iter().map(|s| s.signer.clone().unwrap_or_default()).collect();
    assert!(signers[0].contains("Nguyễn Văn An") && signers[1].contains("Trần Thị Bình"), "{signers:?}");
    assert!(common::pdftotext(&pdf).contains("QUYET DINH"));

    // issued: a record of the applicant, found like any other
    let (status, issued) = app.post_json(&chairman, &format!("/results/{id}/issue"), json!({})).await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!((issued["record"]["kind"].as_str(), issued["record"]["owner_id"].as_str()), (Some("result"), Some("001303012345")));
    assert_eq!(issued["record"]["number"], "123/QĐ-UBND");
    let (status, record) = app.get_json(app.token(Role::Consumer), &format!("/records/{id}?purpose=1.001193")).await;
    assert_eq!((status, record["digest"].clone()), (200, signed["digest"].clone()), "{record}");
    assert_eq!(record["signatures"].as_array().unwrap().len(), 2);
    let (status, body) = app.post_json(&chairman, &format!("/results/{id}/sign"), json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("result_issued")));
    app.stop().await;
}

#[tokio::test]
async fn an_incomplete_dossier_moves_on_only_with_an_override_reason_kept_in_the_audit() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    let path = format!("/dossiers/{code}/forward");
    let (status, body) = app.post_json(app.token(Role::Scanner), &path, json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("dossier_incomplete")), "{body}");
    assert!(body["detail"].as_str().unwrap().contains("hospital_birth_notice"), "{body}");
    let (status, _) = app.post_json(app.token(Role::Consumer), &path, json!({"override_reason": "x"})).await;
    assert_eq!(status, 403);
    let (status, body) = app.post_json(app.token(Role::Scanner), &path, json!({"override_reason": "   "})).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_reason")));
    let reason = "Giấy chứng sinh bổ sung sau theo cam kết";
    let (status, dossier) = app.post_json(app.token(Role::Scanner), &path, json!({"override_reason": reason})).await;
    assert_eq!((status, dossier["status"].as_str()), (200, Some("in_processing")), "{dossier}");
    let (status, body) = app.post_json(app.token(Role::Scanner), &path, json!({"override_reason": reason})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("dossier_not_open")));
    let (_, audit) = app.get_json(app.token(Role::Auditor), &format!("/audit?target=dossier:{code}")).await;
    let entry = audit["entries"].as_array().unwrap().iter().find(|e| e["action"] == "dossier.forward").expect("audited").clone();
    assert_eq!(entry["detail"]["override_reason"], reason);
    assert!(entry["detail"]["missing"].as_array().unwrap().iter().any(|m| m == "hospital_birth_notice"), "{entry}");
    app.stop().await;
}

#[tokio::test]
async fn a_correction_supersedes_the_sealed_record_rechecks_the_component_and_is_kept_as_a_label() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    let scanner = app.token(Role::Scanner);
    let upload: Value = app.upload(scanner, &code, "hospital_birth_notice", png(64, 64), None).await.json().await.unwrap();
    let scan = upload["scan"]["id"].as_i64().unwrap();
    let path = format!("/scans/{scan}/correction");
    let (status, body) = app.post_json(scanner, &path, json!({"doc_type": "hospital_birth_notice"})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("scan_not_sealed")));

    // sealed as the wrong type: the component is flagged
    let old = sealed_as_wrong_type(&app, "sealed-1", &code, scan).await;

    let (status, body) = app.post_json(scanner, &path, json!({"doc_type": "hospital_birth_notice", "fields": {"shoe_size": "42"}})).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("unknown_field")));
    let (status, body) = app.post_json(scanner, &path, json!({"doc_type": "hospital_birth_notice", "fields": {"owner_id": "12345"}})).await;
    assert_eq!((status, body["code"].as_str()), (422, Some("invalid_field")));
    let (status, body) = app.post_json(&app.other_scanner, &path, json!({"doc_type": "hospital_birth_notice"})).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("scan_not_found")), "another agency's scanner meets no such scan");

    let label = json!({"doc_type": "hospital_birth_notice", "fields": {"owner_id": "001303012345"}});
    let (status, fixed) = app.post_json(scanner, &path, label.clone()).await;
    assert_eq!(status, 200, "{fixed}");
    assert_eq!((fixed["record"]["doc_type"].as_str(), fixed["replaces"].as_str()), (Some("hospital_birth_notice"), Some("sealed-1")));
    assert_eq!(fixed["record"]["digest"], old.digest.prefixed(), "the same sealed content");
    assert_eq!(fixed["record"]["log_index"].as_u64(), Some(old.log_index.unwrap() + 1), "a new log leaf");
    let item =
        fixed["dossier"]["checklist"].as_array().unwrap().iter().find(|c| c["component"] == "hospital_birth_notice").unwrap().clone();
    assert_eq!((item["status"].as_str(), item["flags"].clone()), (Some("satisfied"), json!([])), "{item}");
    assert_eq!(item["record"], fixed["record"]["id"]);
    let before = app.state.index.record("sealed-1").await.unwrap().unwrap();
    assert_eq!((before.status.as_str(), before.superseded_by.as_deref()), ("superseded", fixed["record"]["id"].as_str()));

    // a second correction follows the chain; an owner other than the applicant is flagged
    let (status, again) =
        app.post_json(scanner, &path, json!({"doc_type": "hospital_birth_notice", "fields": {"owner_id": "079204000001"}})).await;
    assert_eq!((status, again["replaces"].clone()), (200, fixed["record"]["id"].clone()), "{again}");
    let item =
        again["dossier"]["checklist"].as_array().unwrap().iter().find(|c| c["component"] == "hospital_birth_notice").unwrap().clone();
    assert_eq!((item["status"].as_str(), item["flags"].clone()), (Some("flagged"), json!(["wrong_owner"])), "{item}");

    let (status, list) = app.get_json(app.token(Role::Auditor), "/corrections").await;
    assert_eq!(status, 200);
    let labels: Vec<_> = list["corrections"].as_array().unwrap().iter().map(|c| c["label"].clone()).collect();
    assert_eq!(labels.len(), 2);
    assert_eq!(labels[1], label, "oldest last; the label as the desk gave it");
    app.stop().await;
}

#[tokio::test]
async fn corrections_export_as_labelled_text_that_eval_scores() {
    let app = TestApp::spawn().await;
    let (code, job) = queued_job(&app).await;
    let claimed = claim(&app).await.unwrap();
    let lease = claimed["lease"].as_str().unwrap();
    let text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nGIẤY CHỨNG SINH\nHọ và tên mẹ: Lê Thị Mai\n\
        Số định danh cá nhân: 001303012345\nĐã sinh con vào lúc: 8 giờ 30\nCân nặng: 3200 gram";
    let input = sohoa::domain::Digest::of(&png(64, 64)).prefixed();
    let (status, body) = app.complete_ocr(app.token(Role::Worker), job, lease, &input, json!([page_text(1, 64, 64, text)])).await;
    assert_eq!(status, 200, "{body}");
    let scan = app.state.index.job(job).await.unwrap().unwrap().payload["scan"].as_i64().unwrap();

    // sealed as the wrong type, then corrected by the desk
    sealed_as_wrong_type(&app, "sealed-2", &code, scan).await;
    let label = json!({"doc_type": "hospital_birth_notice", "fields": {"owner_id": "001303012345"}});
    let (status, body) = app.post_json(app.token(Role::Scanner), &format!("/scans/{scan}/correction"), label).await;
    assert_eq!(status, 200, "{body}");

    let sohoa = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sohoa"))
            .args(args)
            .env("SOHOA_INDEX_URL", &app.config.index_url)
            .env("SOHOA_AGENCY", AGENCY)
            .env("SOHOA_POLICIES_DIR", &app.config.policies_dir)
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
    };
    let dir = app.dir.path().join("labelled");
    let (exit, out) = sohoa(&["classify", "export-corrections", "-o", dir.to_str().unwrap()]);
    assert_eq!(exit, Some(0), "{out}");
    let written: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(format!("scan-{scan}.json"))).unwrap()).unwrap();
    assert_eq!(
        (written["doc_type"].clone(), written["fields"].clone()),
        (json!("hospital_birth_notice"), json!({"owner_id": "001303012345"}))
    );
    assert_eq!(std::fs::read_to_string(dir.join(format!("scan-{scan}.ocr.txt"))).unwrap(), text);
    let (exit, report) = sohoa(&["classify", "eval", dir.to_str().unwrap()]);
    assert_eq!(exit, Some(0), "{report}");
    assert!(report.contains("top-1 accuracy:                100.00 % (1/1)"), "{report}");
    assert!(report.contains("owner_id             100.00 % (1/1)"), "{report}");
    let (exit, _) = sohoa(&["classify", "eval", app.dir.path().join("missing").to_str().unwrap()]);
    assert_eq!(exit, Some(2), "an unreadable directory");
    app.stop().await;
}

#[tokio::test]
async fn auditors_read_the_latest_fixity_report_naming_each_bad_object() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get_json(app.token(Role::Auditor), "/archive/fixity").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("fixity_not_run")), "{body}");
    let (status, _) = app.get_json(app.token(Role::Scanner), "/archive/fixity").await;
    assert_eq!(status, 403, "scanners do not read integrity reports");

    let digest = app.state.archive.put_blob(bytes::Bytes::from_static(b"a page that will rot")).await.unwrap();
    let key = sohoa::archive::blob_key(&digest);
    std::fs::write(app.dir.path().join("data/archive").join(key.as_ref()), b"a page that has rotted").unwrap();
    let report = sohoa::archive::audit(app.state.index.as_ref(), &app.state.archive, None).await.unwrap();
    assert_eq!((report.corrupt, report.restored), (1, 0));

    for role in [Role::Auditor, Role::Admin] {
        let (status, body) = app.get_json(app.token(role), "/archive/fixity").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["clean"], false);
        assert_eq!(body["report"]["corrupt"], 1);
        assert_eq!(body["report"]["problems"][0]["key"], key.as_ref());
        assert_eq!(body["report"]["problems"][0]["kind"], "corrupt");
    }
}

#[tokio::test]
async fn serve_runs_fixity_on_its_schedule() {
    let app = TestApp::spawn_with(|c| c.fixity_interval = sohoa::config::Interval(Duration::from_millis(300))).await;
    app.state.archive.put_blob(bytes::Bytes::from_static(b"kept intact")).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = app.get_json(app.token(Role::Auditor), "/archive/fixity").await;
        if status == 200 {
            assert_eq!(body["clean"], true, "{body}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no scheduled fixity pass: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_consumer_reads_only_the_agencies_and_types_its_scope_names() {
    use sohoa::domain::AgencyCode;
    use sohoa::index::Scope;
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    archived_record(&app, "lylich", &code, "criminal_record_certificate", "2026-01-05").await;
    archived_record(&app, "khaisinh", &code, "birth_certificate", "1990-05-01").await;
    let index = app.state.index.as_ref();
    let other = AgencyCode::parse(OTHER_AGENCY).unwrap();
    let scoped = |agencies: &[&str], doc_types: &[&str]| Scope {
        agencies: agencies.iter().map(|a| a.to_string()).collect(),
        doc_types: doc_types.iter().map(|t| t.to_string()).collect(),
        ..Scope::default()
    };
    // another agency's system, allowed this agency's birth certificates only
    let (_, births) =
        sohoa::api::issue_scoped_token(index, Role::Consumer, &other, "hộ tịch", &scoped(&[AGENCY], &["birth_certificate"])).await.unwrap();
    // another agency's system with no scope: its own agency only
    let (_, unscoped) = sohoa::api::issue_token(index, Role::Consumer, &other, "khác").await.unwrap();
    // a scope means nothing on other roles: a scanner of the other agency stays there
    let (_, scanner) = sohoa::api::issue_scoped_token(index, Role::Scanner, &other, "x", &scoped(&[AGENCY], &[])).await.unwrap();

    let ids = |body: &Value| body["records"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    let (status, found) = app.get_json(&births, "/records?owner=001186012345&purpose=1.001193").await;
    assert_eq!((status, ids(&found)), (200, vec!["khaisinh".to_owned()]), "{found}");
    let (_, found) = app.get_json(&births, "/records?owner=001186012345&type=criminal_record_certificate&purpose=1.001193").await;
    assert_eq!(ids(&found), Vec::<String>::new(), "a type outside the scope is not listed");
    assert_eq!(app.get(&births, "/records/khaisinh?purpose=1.001193").await.status(), 200);
    assert_eq!(app.get(&births, "/records/khaisinh/content?purpose=1.001193").await.status(), 200);
    assert_eq!(app.get(&births, "/records/khaisinh/proof?purpose=1.001193").await.status(), 200);
    for path in ["/records/lylich", "/records/lylich/content", "/records/lylich/manifest", "/records/lylich/proof"] {
        let (status, body) = app.get_json(&births, path).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("record_not_found")), "{path}: {body}");
    }
    for token in [&unscoped, &scanner] {
        let (_, found) = app.get_json(token, "/records?owner=001186012345&purpose=1.001193").await;
        assert_eq!(ids(&found), Vec::<String>::new(), "{found}");
        assert_eq!(app.get(token, "/records/khaisinh").await.status(), 404);
    }
    // the home agency's own consumer is unaffected
    let (_, found) = app.get_json(app.token(Role::Consumer), "/records?owner=001186012345&purpose=1.001193").await;
    assert_eq!(ids(&found).len(), 2, "{found}");
}

/// A sealed record of `scan` classified as an application form, flagged as the wrong type
/// for the hospital birth notice it was uploaded to: what the desk then corrects.
async fn sealed_as_wrong_type(app: &TestApp, id: &str, code: &str, scan: i64) -> sohoa::index::Record {
    use sohoa::domain::{AgencyCode, DossierCode};
    use sohoa::index::{Actor, AuditEntry, ComponentCheck, NewRecord};
    let content = bytes::Bytes::from_static(b"%PDF-1.7 sealed scan");
    let digest = app.state.archive.put_blob(content.clone()).await.unwrap();
    let manifest = app.state.archive.put_manifest(id, bytes::Bytes::from_static(b"{}")).await.unwrap();
    let sealed = NewRecord {
        id: id.into(),
        kind: "digitized_copy",
        agency: AgencyCode::parse(AGENCY).unwrap(),
        dossier: Some(DossierCode::parse(code).unwrap()),
        component: Some("hospital_birth_notice".into()),
        scan: Some(scan),
        owner_id: None,
        doc_type: "application_form".into(),
        number: None,
        issue_date: None,
        valid_from: None,
        valid_until: None,
        digest,
        size: content.len() as u64,
        manifest_digest: manifest,
        summary: json!({"signatures": [{"kind": "seal"}], "classification": {"doc_type": "application_form", "confidence": 0.4}}),
    };
    let check = ComponentCheck::from_flags(vec!["wrong_type".into()]);
    let audit = AuditEntry { actor: Actor::system("test"), action: "record.create", target: String::new(), detail: json!({}) };
    app.state.index.create_record(sealed, check, audit).await.unwrap()
}

/// `sohoa tsa serve` on a free port with the demo TSA key, stopped when dropped.
struct TestTsa(std::process::Child, String);

impl TestTsa {
    fn start() -> TestTsa {
        use std::io::BufRead;
        let pki = demo_pki();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sohoa"))
            .args(["tsa", "serve", "--addr", "127.0.0.1:0"])
            .arg("--cert")
            .arg(pki.join("tsa.pem"))
            .arg("--key")
            .arg(pki.join("tsa.key"))
            .arg("--chain")
            .arg(pki.join("root.pem"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let url = line.trim().strip_prefix("listening on ").unwrap().to_string();
        TestTsa(child, url)
    }
}

impl Drop for TestTsa {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn renewal_adds_a_document_time_stamp_as_a_new_version_and_keeps_the_old_one() {
    use sohoa::index::{Actor, AuditEntry, ComponentCheck, NewRecord, RecordStatus};
    let tsa = TestTsa::start();
    let app = TestApp::spawn_with(|c| c.tsa_url = Some(tsa.1.clone())).await;
    let code = app.birth_dossier().await;
    let pki = demo_pki();
    let signer = sohoa::sign::FileSigner::from_files(&pki.join("seal.key"), &pki.join("seal.pem"), Some(&pki.join("root.pem"))).unwrap();
    let time = chrono::Utc::now().with_timezone(&sohoa::domain::vietnam_offset());
    let sealed = sohoa::seal::seal_pdf_long_term(&sample_pdf(false), &signer, "UBND phường Dịch Vọng", time, &tsa.1).await.unwrap();
    let report =
        sohoa::verify::verify_pdf(&sealed, &sohoa::sign::load_certificates(&pki.join("root.pem")).unwrap(), chrono::Utc::now()).unwrap();
    assert!(report.valid, "{report:?}");
    assert_eq!(report.signatures.iter().find(|s| s.kind == "signature").unwrap().level, "B-LTA");

    let digest = app.state.archive.put_blob(sealed.clone().into()).await.unwrap();
    let manifest = app.state.archive.put_manifest("copy-1", bytes::Bytes::from_static(b"{}")).await.unwrap();
    let record = NewRecord {
        id: "copy-1".into(),
        kind: "digitized_copy",
        agency: sohoa::domain::AgencyCode::parse(AGENCY).unwrap(),
        dossier: Some(sohoa::domain::DossierCode::parse(&code).unwrap()),
        component: Some("hospital_birth_notice".into()),
        scan: None,
        owner_id: Some("001303012345".into()),
        doc_type: "hospital_birth_notice".into(),
        number: None,
        issue_date: None,
        valid_from: None,
        valid_until: None,
        digest: digest.clone(),
        size: sealed.len() as u64,
        manifest_digest: manifest,
        summary: json!({"signatures": [{"kind": "seal", "level": "B-LTA"}], "flags": []}),
    };
    let audit = AuditEntry { actor: Actor::system("test"), action: "record.create", target: String::new(), detail: json!({}) };
    let old = app.state.index.create_record(record, ComponentCheck::satisfied(), audit).await.unwrap();

    let renewal = |margin_days: u64| sohoa::renewal::Renewal {
        tsa_url: tsa.1.clone(),
        margin: Duration::from_secs(margin_days * 86_400),
        revocation: sohoa::sign::ltv::Revocation { crls: Vec::new(), fetch: false },
    };
    // the demo TSA's certificate is good for two years: with a month's margin nothing is due
    let quiet = sohoa::renewal::run(&app.state.index, &app.state.archive, &renewal(30), false).await.unwrap();
    assert_eq!((quiet.checked, quiet.due.len()), (1, 0), "{quiet:?}");
    // with a margin past its expiry the record is renewed
    let pass = sohoa::renewal::run(&app.state.index, &app.state.archive, &renewal(3650), false).await.unwrap();
    assert_eq!(pass.renewed.len(), 1, "{pass:?}");
    let new_id = &pass.renewed[0].1;
    let old_now = app.state.index.record(&old.id).await.unwrap().unwrap();
    assert_eq!((old_now.status, old_now.superseded_by.as_deref()), (RecordStatus::Superseded, Some(new_id.as_str())));
    assert_eq!(app.state.archive.get_blob(&digest).await.unwrap().as_ref(), &sealed[..], "the earlier version stays");
    let new = app.state.index.record(new_id).await.unwrap().unwrap();
    assert_eq!(new.summary["renews"], old.id);
    assert!(new.log_index > old.log_index, "its own log leaf");
    let renewed = app.state.archive.get_blob(&new.digest).await.unwrap();
    assert_eq!(&renewed[..sealed.len()], &sealed[..], "the renewal appends");
    let report =
        sohoa::verify::verify_pdf(&renewed, &sohoa::sign::load_certificates(&pki.join("root.pem")).unwrap(), chrono::Utc::now()).unwrap();
    assert!(report.valid, "{report:?}");
    assert_eq!(report.signatures.iter().filter(|s| s.kind == "document_timestamp").count(), 2);
    let (_, dossier) = app.get_json(app.token(Role::Scanner), &format!("/dossiers/{code}")).await;
    let component = dossier["checklist"].as_array().unwrap().iter().find(|c| c["component"] == "hospital_birth_notice").unwrap().clone();
    assert_eq!(component["record"], json!(new_id), "{component}");
}
