//! Agencies as tenants of one installation: another agency's workers, admins and auditors
//! neither reach nor see this agency's jobs, and another agency's scans are never sealed
//! with this agency's seal.

use crate::common::{assert_problem, page_text, png, recognition, TestApp, AGENCY, OTHER_AGENCY};
use serde_json::{json, Value};
use sohoa::api::issue_token;
use sohoa::domain::{AgencyCode, Role};
use std::time::Duration;

async fn other_token(app: &TestApp, role: Role) -> String {
    let other = AgencyCode::parse(OTHER_AGENCY).unwrap();
    issue_token(app.state.index.as_ref(), role, &other, "other").await.unwrap().1
}

fn claim_now() -> Value {
    json!({"kinds": ["ocr"], "wait_ms": 0})
}

#[tokio::test]
async fn a_worker_of_another_agency_can_neither_claim_nor_finish_this_agencys_job() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    let upload = app.upload(app.token(Role::Scanner), &code, "hospital_birth_notice", png(64, 64), None).await;
    assert_eq!(upload.status(), 202);
    let accepted: Value = upload.json().await.unwrap();
    let id = accepted["job"].as_i64().unwrap();
    let input = accepted["scan"]["digest"].as_str().unwrap().to_owned();
    let intruder = other_token(&app, Role::Worker).await;

    let (status, _) = app.post_json(&intruder, "/jobs/claim", claim_now()).await;
    assert_eq!(status, 204, "another agency's worker finds nothing to claim");
    let (status, job) = app.post_json(app.token(Role::Worker), "/jobs/claim", claim_now()).await;
    assert_eq!((status, job["id"].as_i64(), job["agency"].as_str()), (200, Some(id), Some(AGENCY)));
    let lease = job["lease"].as_str().unwrap().to_owned();

    // Even with the lease in hand the intruder meets a job that does not exist.
    let read = app.http.get(app.url(&format!("/jobs/{id}/input"))).bearer_auth(&intruder).query(&[("lease", &lease)]);
    assert_problem(read.send().await.unwrap(), 404, "job_not_found").await;
    let write = app.http.post(app.url(&format!("/jobs/{id}/output"))).bearer_auth(&intruder).query(&[("lease", &lease)]);
    assert_problem(write.body(recognition(&input, json!([])).to_string()).send().await.unwrap(), 404, "job_not_found").await;
    let stored = app.post_output(id, &lease, recognition(&input, json!([page_text(1, 64, 64, "")])).to_string().into_bytes()).await;
    let result = json!({"input": input, "recognition": stored});
    for (action, body) in [
        ("heartbeat", json!({"lease": lease})),
        ("complete", json!({"lease": lease, "result": result})),
        ("fail", json!({"lease": lease, "code": "engine_error", "message": "stopped", "permanent": true})),
    ] {
        let (status, answer) = app.post_json(&intruder, &format!("/jobs/{id}/{action}"), body.clone()).await;
        assert_eq!((status, answer["code"].as_str()), (404, Some("job_not_found")), "{action} by another agency's worker");
        let (status, answer) = app.post_json(&intruder, &format!("/jobs/{}/{action}", id + 1000), body).await;
        assert_eq!((status, answer["code"].as_str()), (404, Some("job_not_found")), "{action} of a missing job answers alike");
    }
    let (status, _) = app.post_json(app.token(Role::Worker), &format!("/jobs/{id}/heartbeat"), json!({"lease": lease})).await;
    assert_eq!(status, 200, "the job still runs under its own worker's lease");

    // Another agency's admin and auditor see none of it, and cannot requeue it.
    let other_admin = other_token(&app, Role::Admin).await;
    let other_auditor = other_token(&app, Role::Auditor).await;
    let (_, running) = app.get_json(app.token(Role::Admin), "/jobs?state=running").await;
    assert_eq!(running["jobs"][0]["id"], id);
    let (_, running) = app.get_json(&other_auditor, "/jobs?state=running").await;
    assert_eq!(running["jobs"], json!([]));
    let failure = json!({"lease": lease, "code": "engine_error", "message": "cannot go on", "permanent": true});
    let (_, answer) = app.post_json(app.token(Role::Worker), &format!("/jobs/{id}/fail"), failure).await;
    assert_eq!(answer["state"], "dead");
    let (_, dead) = app.get_json(&other_admin, "/jobs?state=dead").await;
    assert_eq!(dead["jobs"], json!([]));
    let (status, answer) = app.post_json(&other_admin, &format!("/jobs/{id}/requeue"), json!({})).await;
    assert_eq!((status, answer["code"].as_str()), (404, Some("job_not_found")));
    let (status, _) = app.post_json(app.token(Role::Admin), &format!("/jobs/{id}/requeue"), json!({})).await;
    assert_eq!(status, 200);

    let (_, audit) = app.get_json(&other_auditor, "/audit").await;
    assert!(audit["entries"].as_array().unwrap().iter().all(|e| e["agency"] == OTHER_AGENCY), "{audit}");
    assert!(!audit.to_string().contains(&code), "{audit}");
    let (_, audit) = app.get_json(app.token(Role::Auditor), &format!("/audit?target=job:{id}")).await;
    let actions: Vec<&str> = audit["entries"].as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["job.requeue", "job.fail"], "only this agency's worker and admin touched the job");
    app.stop().await;
}

#[tokio::test]
async fn a_scan_of_another_agencys_dossier_is_never_sealed_with_this_agencys_seal() {
    let app = TestApp::spawn().await;
    let applicant =
        json!({"procedure": "birth-registration", "applicant": {"kind": "citizen", "id": "001303012345", "name": "Trần Văn Minh"}});
    let created = app.create_dossier(&app.other_scanner, applicant).await;
    assert_eq!(created.status(), 201);
    let code = created.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned();
    assert!(code.starts_with(OTHER_AGENCY), "{code}");
    let upload = app.upload(&app.other_scanner, &code, "hospital_birth_notice", png(64, 64), None).await;
    assert_eq!(upload.status(), 202);
    let accepted: Value = upload.json().await.unwrap();
    let (id, scan) = (accepted["job"].as_i64().unwrap(), accepted["scan"]["id"].as_i64().unwrap());

    let (status, _) = app.post_json(app.token(Role::Worker), "/jobs/claim", claim_now()).await;
    assert_eq!(status, 204, "this agency's worker does not get another agency's job");
    let worker = other_token(&app, Role::Worker).await;
    let (status, job) = app.post_json(&worker, "/jobs/claim", claim_now()).await;
    assert_eq!((status, job["id"].as_i64(), job["agency"].as_str()), (200, Some(id), Some(OTHER_AGENCY)));
    let lease = job["lease"].as_str().unwrap();
    let text = "GIẤY CHỨNG SINH\nHọ và tên mẹ: Trần Thị Lan\nSố định danh cá nhân: 001303012345";
    let input = accepted["scan"]["digest"].as_str().unwrap();
    let (status, body) = app.complete_ocr(&worker, id, lease, input, json!([page_text(1, 64, 64, text)])).await;
    assert_eq!(status, 200, "{body}");

    // The service holds this agency's seal key only: the copy stays unsealed and flagged.
    let mut component = Value::Null;
    for _ in 0..600 {
        let (_, dossier) = app.get_json(&app.other_scanner, &format!("/dossiers/{code}")).await;
        component = dossier["checklist"].as_array().unwrap().iter().find(|c| c["component"] == "hospital_birth_notice").cloned().unwrap();
        if component["status"] != "digitized" && component["status"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!((component["status"].as_str(), component["flags"].clone()), (Some("flagged"), json!(["no_seal_key"])), "{component}");
    assert!(component["record"].is_null(), "{component}");
    assert!(app.state.index.record_for_scan(scan).await.unwrap().is_none(), "no record was made of the scan");
    let (_, records) = app.get_json(app.token(Role::Admin), "/records?owner=001303012345").await;
    assert_eq!(records["records"], json!([]), "{records}");

    let (status, seen) = app.get_json(&app.other_scanner, &format!("/scans/{scan}")).await;
    assert_eq!((status, seen["status"].as_str()), (200, Some("unsealed")), "its own scanner still sees the scan");
    assert_problem(app.get(app.token(Role::Scanner), &format!("/scans/{scan}")).await, 404, "scan_not_found").await;
    let (_, done) = app.get_json(app.token(Role::Admin), "/jobs?state=done").await;
    assert_eq!(done["jobs"], json!([]), "{done}");
    let other_admin = other_token(&app, Role::Admin).await;
    let (_, done) = app.get_json(&other_admin, "/jobs?state=done").await;
    let kinds: Vec<&str> = done["jobs"].as_array().unwrap().iter().filter_map(|j| j["kind"].as_str()).collect();
    assert_eq!(kinds, ["ocr", "seal"], "the seal job is done, with the scan left unsealed: {done}");
    let (_, audit) = app.get_json(&other_admin, &format!("/audit?target=scan:{scan}")).await;
    assert!(audit["entries"].as_array().unwrap().iter().any(|e| e["action"] == "scan.unsealed"), "{audit}");
    let (_, audit) = app.get_json(app.token(Role::Auditor), "/audit").await;
    assert!(!audit.to_string().contains(&code) && !audit.to_string().contains("scan.unsealed"), "{audit}");
    app.stop().await;
}

#[tokio::test]
async fn the_operator_runs_every_agencys_jobs_and_each_agency_audits_its_own() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    let home = app.upload(app.token(Role::Scanner), &code, "hospital_birth_notice", png(64, 64), None).await;
    let home_job = home.json::<Value>().await.unwrap()["job"].as_i64().unwrap();
    let applicant =
        json!({"procedure": "birth-registration", "applicant": {"kind": "citizen", "id": "001303012345", "name": "Trần Văn Minh"}});
    let created = app.create_dossier(&app.other_scanner, applicant).await;
    let other_code = created.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned();
    let other = app.upload(&app.other_scanner, &other_code, "hospital_birth_notice", png(80, 80), None).await;
    let other_job = other.json::<Value>().await.unwrap()["job"].as_i64().unwrap();

    // An operator token names an agency, but reaches the whole installation's queue.
    let operator = other_token(&app, Role::Operator).await;
    let (_, queued) = app.get_json(&operator, "/jobs?state=queued").await;
    let ids: Vec<i64> = queued["jobs"].as_array().unwrap().iter().filter_map(|j| j["id"].as_i64()).collect();
    assert_eq!(ids, [home_job, other_job]);
    let (_, first) = app.post_json(&operator, "/jobs/claim", claim_now()).await;
    let (_, second) = app.post_json(&operator, "/jobs/claim", claim_now()).await;
    assert_eq!((first["id"].as_i64(), first["agency"].as_str()), (Some(home_job), Some(AGENCY)));
    assert_eq!((second["id"].as_i64(), second["agency"].as_str()), (Some(other_job), Some(OTHER_AGENCY)));
    let failure = json!({"lease": first["lease"], "code": "engine_error", "message": "cannot go on", "permanent": true});
    let (_, answer) = app.post_json(&operator, &format!("/jobs/{home_job}/fail"), failure).await;
    assert_eq!(answer["state"], "dead");
    let (status, _) = app.post_json(&operator, &format!("/jobs/{home_job}/requeue"), json!({})).await;
    assert_eq!(status, 200);

    // The operator's work on this agency's job is in this agency's audit log, and only there.
    let (_, audit) = app.get_json(app.token(Role::Auditor), &format!("/audit?target=job:{home_job}")).await;
    let entries: Vec<(&str, &str)> =
        audit["entries"].as_array().unwrap().iter().filter_map(|e| Some((e["action"].as_str()?, e["role"].as_str()?))).collect();
    assert_eq!(entries, [("job.requeue", "operator"), ("job.fail", "operator")]);
    let other_auditor = other_token(&app, Role::Auditor).await;
    let (_, audit) = app.get_json(&other_auditor, &format!("/audit?target=job:{home_job}")).await;
    assert_eq!(audit["entries"], json!([]));
    let (_, audit) = app.get_json(&operator, "/audit").await;
    let agencies: std::collections::HashSet<&str> =
        audit["entries"].as_array().unwrap().iter().filter_map(|e| e["agency"].as_str()).collect();
    assert!(agencies.contains(AGENCY) && agencies.contains(OTHER_AGENCY), "the operator reads every agency's entries: {agencies:?}");
    // and nothing of an agency's desk
    assert_problem(app.get(&operator, &format!("/dossiers/{code}")).await, 403, "forbidden_role").await;
    app.stop().await;
}
