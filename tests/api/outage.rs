//! A job the service's own outage stopped: a worker that could not get its input or store
//! its output because the service's archive or index was down reports the service's code,
//! and the job is queued again without using up an attempt, however long the outage.

use crate::common::*;
use serde_json::json;
use sohoa::domain::Role;

#[tokio::test]
async fn failures_for_the_services_outage_use_up_no_attempt_and_the_jobs_own_still_do() {
    let app = TestApp::spawn_with(|c| {
        c.retry_base_seconds = 0;
        c.max_attempts = 2;
    })
    .await;
    let (code, id) = super::queued_job(&app).await;
    let worker = app.token(Role::Worker);
    let fail = |lease: serde_json::Value, code: &str| json!({"lease": lease, "code": code, "message": "input answered 503"});

    // A long outage: more failed tries than the job has attempts, each one given back.
    for outage in ["archive_unavailable", "index_unavailable", "archive_unavailable"] {
        let job = super::claim(&app).await.expect("the job, queued again after the outage's failure");
        assert_eq!((job["id"].as_i64(), job["attempts"].as_i64()), (Some(id), Some(1)), "{outage}");
        let (status, body) = app.post_json(worker, &format!("/jobs/{id}/fail"), fail(job["lease"].clone(), outage)).await;
        assert_eq!((status, body["state"].as_str()), (200, Some("queued")), "{outage}: {body}");
    }
    let (_, dossier) = app.get_json(app.token(Role::Scanner), &format!("/dossiers/{code}")).await;
    assert_eq!(dossier["scans"][0]["error_code"], "archive_unavailable", "the outage stays in view: {dossier}");

    // The job's own failures still count, and the last one buries it.
    let job = super::claim(&app).await.expect("the job after the outage");
    let (_, body) = app.post_json(worker, &format!("/jobs/{id}/fail"), fail(job["lease"].clone(), "engine_error")).await;
    assert_eq!(body["state"], "queued");
    let job = super::claim(&app).await.expect("the last attempt");
    assert_eq!(job["attempts"], 2);
    let (_, body) = app.post_json(worker, &format!("/jobs/{id}/fail"), fail(job["lease"].clone(), "engine_error")).await;
    assert_eq!(body["state"], "dead");
    app.stop().await;
}
