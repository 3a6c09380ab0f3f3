//! The operator's pages through the API: an administrator's tokens (created with the secret
//! shown once, listed, revoked, audited, within its own agency), the workers with their last
//! sign of life, and the audit search's filters.

use crate::common::*;
use serde_json::{json, Value};
use sohoa::domain::{AgencyCode, Role};

#[tokio::test]
async fn an_administrator_creates_lists_and_revokes_its_agencys_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin);
    let (status, made) = app.post_json(admin, "/tokens", json!({"role": "scanner", "label": "quầy 2"})).await;
    assert_eq!(status, 201, "{made}");
    let secret = made["secret"].as_str().unwrap().to_owned();
    let id = made["token"]["id"].as_i64().unwrap();
    assert_eq!((made["token"]["agency"].as_str(), made["token"]["label"].as_str()), (Some(AGENCY), Some("quầy 2")));
    // the new token works at once and is who it was made to be
    let (status, me) = app.get_json(&secret, "/me").await;
    assert_eq!((status, me["role"].as_str()), (200, Some("scanner")), "{me}");

    // listed without its secret or hash
    let (status, listed) = app.get_json(admin, "/tokens").await;
    assert_eq!(status, 200, "{listed}");
    let text = listed.to_string();
    assert!(!text.contains(&secret) && !text.contains("hash"), "{listed}");
    let row = listed["tokens"].as_array().unwrap().iter().find(|t| t["id"] == id).expect("the new token is listed").clone();
    assert_eq!(row["role"], "scanner");
    let (_, signers) = app.get_json(admin, "/tokens?role=signer").await;
    assert!(signers["tokens"].as_array().unwrap().iter().all(|t| t["role"] == "signer"), "{signers}");

    // revoked: refused from then on, gone from the live list, kept with revoked=true
    let (status, revoked) = app.post_json(admin, &format!("/tokens/{id}/revoke"), json!({})).await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["token"]["revoked_at_ms"].as_i64().is_some(), "{revoked}");
    assert_problem(app.http.get(app.url("/me")).bearer_auth(&secret).send().await.unwrap(), 401, "invalid_token").await;
    let (_, live) = app.get_json(admin, "/tokens").await;
    assert!(live["tokens"].as_array().unwrap().iter().all(|t| t["id"] != id), "{live}");
    let (_, all) = app.get_json(admin, "/tokens?revoked=true").await;
    assert!(all["tokens"].as_array().unwrap().iter().any(|t| t["id"] == id), "{all}");

    // both changes are audited under the token, by the administrator
    let (status, audit) = app.get_json(admin, &format!("/audit?target=token:{id}")).await;
    assert_eq!(status, 200, "{audit}");
    let actions: Vec<_> = audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["token.revoke", "token.create"], "{audit}");
    assert!(!audit.to_string().contains(&secret));
    app.stop().await;
}

#[tokio::test]
async fn token_administration_stays_within_the_agency_and_the_role() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin);
    for role in [Role::Scanner, Role::Operator, Role::Auditor] {
        let (status, _) = app.get_json(app.token(role), "/tokens").await;
        assert_eq!(status, 403, "{role}");
    }
    assert_problem(
        app.http.post(app.url("/tokens")).bearer_auth(admin).json(&json!({"role": "operator"})).send().await.unwrap(),
        403,
        "forbidden_role",
    )
    .await;
    let bad = |body: Value| app.http.post(app.url("/tokens")).bearer_auth(admin).json(&body).send();
    assert_problem(bad(json!({"role": "chief"})).await.unwrap(), 422, "invalid_role").await;
    assert_problem(bad(json!({"role": "worker"})).await.unwrap(), 422, "label_required").await;
    assert_problem(bad(json!({"role": "scanner", "doc_types": ["birth_certificate"]})).await.unwrap(), 422, "scope_not_allowed").await;
    assert_problem(bad(json!({"role": "consumer", "read_agencies": ["999.99.99.Z99"]})).await.unwrap(), 422, "unknown_agency").await;
    let (status, consumer) =
        app.post_json(admin, "/tokens", json!({"role": "consumer", "label": "sở tư pháp", "doc_types": ["birth_certificate"]})).await;
    assert_eq!(status, 201, "{consumer}");
    assert_eq!(consumer["token"]["scope"]["doc_types"], json!(["birth_certificate"]));

    // another agency's token is answered as absent, and stays valid
    let other = AgencyCode::parse(OTHER_AGENCY).unwrap();
    let (theirs, secret) = sohoa::api::issue_token(app.state.index.as_ref(), Role::Scanner, &other, "").await.unwrap();
    let (_, listed) = app.get_json(admin, "/tokens").await;
    assert!(listed["tokens"].as_array().unwrap().iter().all(|t| t["agency"] == AGENCY), "{listed}");
    assert_problem(
        app.http.post(app.url(&format!("/tokens/{theirs}/revoke"))).bearer_auth(admin).send().await.unwrap(),
        404,
        "token_not_found",
    )
    .await;
    assert_eq!(app.get_json(&secret, "/me").await.0, 200);
    let (_, me) = app.get_json(admin, "/me").await;
    assert_eq!(me["role"], "admin");
    app.stop().await;
}

#[tokio::test]
async fn workers_are_listed_with_their_last_claim() {
    let app = TestApp::spawn().await;
    let agency = AgencyCode::parse(AGENCY).unwrap();
    let (id, worker) = sohoa::api::issue_token(app.state.index.as_ref(), Role::Worker, &agency, "may-quet-1").await.unwrap();
    let (status, before) = app.get_json(app.token(Role::Operator), "/workers").await;
    assert_eq!(status, 200, "{before}");
    let row = |list: &Value| list["workers"].as_array().unwrap().iter().find(|w| w["id"] == id).cloned().expect("the worker is listed");
    assert_eq!(row(&before)["last_seen_at_ms"], Value::Null);
    assert_eq!(row(&before)["label"], "may-quet-1");

    let started = chrono::Utc::now().timestamp_millis();
    let (status, _) = app.post_json(&worker, "/jobs/claim", json!({"kinds": ["ocr"], "wait_ms": 0})).await;
    assert!(status == 204 || status == 200, "{status}");
    let (_, after) = app.get_json(app.token(Role::Operator), "/workers").await;
    let seen = row(&after)["last_seen_at_ms"].as_i64().expect("a claim is a sign of life");
    assert!(seen >= started, "{after}");
    // the administrator sees its agency's workers; other roles none
    let (status, own) = app.get_json(app.token(Role::Admin), "/workers").await;
    assert_eq!(status, 200);
    assert!(own["workers"].as_array().unwrap().iter().all(|w| w["agency"] == AGENCY), "{own}");
    assert_eq!(app.get_json(app.token(Role::Scanner), "/workers").await.0, 403);
    app.stop().await;
}

#[tokio::test]
async fn the_audit_search_filters_by_action_actor_and_time() {
    let app = TestApp::spawn().await;
    let admin = app.token(Role::Admin);
    let before = chrono::Utc::now().timestamp_millis();
    let code = app.birth_dossier().await;
    let (_, made) = app.post_json(admin, "/tokens", json!({"role": "auditor", "label": "thanh tra"})).await;
    let made_id = made["token"]["id"].as_i64().unwrap();
    let auditor = app.token(Role::Auditor);

    let (status, family) = app.get_json(auditor, "/audit?action=token").await;
    assert_eq!(status, 200, "{family}");
    let entries = family["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{family}");
    assert_eq!(entries[0]["target"], format!("token:{made_id}"));
    let (_, exact) = app.get_json(auditor, "/audit?action=dossier.create").await;
    assert!(
        exact["entries"].as_array().unwrap().iter().all(|e| e["action"] == "dossier.create" && e["target"] == code.as_str()),
        "{exact}"
    );
    assert_eq!(exact["entries"].as_array().unwrap().len(), 1);
    // a prefix that is not a whole family matches nothing
    let (_, partial) = app.get_json(auditor, "/audit?action=tok").await;
    assert_eq!(partial["entries"].as_array().unwrap().len(), 0, "{partial}");

    let actor = entries[0]["actor"].as_str().unwrap().to_owned();
    let (_, by_actor) = app.get_json(auditor, &format!("/audit?actor={actor}")).await;
    assert!(
        !by_actor["entries"].as_array().unwrap().is_empty()
            && by_actor["entries"].as_array().unwrap().iter().all(|e| e["actor"] == actor.as_str())
    );
    let (_, earlier) = app.get_json(auditor, &format!("/audit?to_ms={before}")).await;
    assert_eq!(earlier["entries"].as_array().unwrap().len(), 0, "{earlier}");
    let (_, later) = app.get_json(auditor, &format!("/audit?from_ms={before}&limit=1")).await;
    assert_eq!(later["entries"].as_array().unwrap().len(), 1, "{later}");
    assert_eq!(app.get_json(auditor, "/audit?from_ms=yesterday").await.0, 400);
    app.stop().await;
}

#[tokio::test]
async fn the_queue_depth_counts_the_agencys_jobs_by_kind() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    for _ in 0..2 {
        let upload = app.upload(app.token(Role::Scanner), &code, "hospital_birth_notice", png(64, 64), None).await;
        assert_eq!(upload.status(), 202);
    }
    let ocr = |body: &Value| body["depth"].as_array().unwrap().iter().find(|k| k["kind"] == "ocr").cloned();
    let (status, depth) = app.get_json(app.token(Role::Auditor), "/jobs/depth").await;
    assert_eq!(status, 200, "{depth}");
    let row = ocr(&depth).expect("ocr jobs are counted");
    assert_eq!((row["queued"].as_u64(), row["running"].as_u64(), row["dead"].as_u64()), (Some(2), Some(0), Some(0)), "{depth}");
    // another agency's administrator counts its own jobs: none
    let other = AgencyCode::parse(OTHER_AGENCY).unwrap();
    let (_, theirs) = sohoa::api::issue_token(app.state.index.as_ref(), Role::Admin, &other, "").await.unwrap();
    let (_, depth) = app.get_json(&theirs, "/jobs/depth").await;
    assert!(ocr(&depth).is_none(), "{depth}");
    let (_, depth) = app.get_json(app.token(Role::Operator), "/jobs/depth").await;
    assert_eq!(ocr(&depth).unwrap()["queued"], 2);
    assert_eq!(app.get_json(app.token(Role::Scanner), "/jobs/depth").await.0, 403);
    app.stop().await;
}
