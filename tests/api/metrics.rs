//! `/metrics`: the operator's Prometheus reads requests by route, the queue, jobs, seals,
//! pages and signatures in the text format `promtool check metrics` accepts.

use crate::common::{page_text, TestApp};
use serde_json::{json, Value};
use sohoa::domain::Role;

/// The value of the sample `name` (with its labels, as written) in `text`, 0 when absent.
fn sample(text: &str, name: &str) -> f64 {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok()).unwrap_or(0.0)
}

fn metrics_url(app: &TestApp) -> String {
    format!("{}/metrics", app.base)
}

async fn scrape(app: &TestApp) -> String {
    let response = app.http.get(metrics_url(app)).bearer_auth(app.token(Role::Operator)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    response.text().await.unwrap()
}

#[tokio::test]
async fn metrics_count_requests_jobs_seals_and_pages_for_the_operator_only() {
    let app = TestApp::spawn().await;
    assert_eq!(app.http.get(metrics_url(&app)).send().await.unwrap().status(), 401);
    assert_eq!(app.http.get(metrics_url(&app)).bearer_auth(app.token(Role::Scanner)).send().await.unwrap().status(), 403);
    let before = scrape(&app).await;

    let code = app.birth_dossier().await;
    assert_eq!(app.get(app.token(Role::Scanner), &format!("/dossiers/{code}")).await.status(), 200);
    let accepted: Value =
        app.upload(app.token(Role::Scanner), &code, "hospital_birth_notice", crate::common::png(120, 90), None).await.json().await.unwrap();
    let (job, input) = (accepted["job"].as_i64().unwrap(), accepted["scan"]["digest"].as_str().unwrap().to_owned());
    let queued = scrape(&app).await;
    assert_eq!(sample(&queued, "sohoa_jobs{kind=\"ocr\",state=\"queued\"}"), 1.0, "{queued}");

    let worker = app.token(Role::Worker);
    let (_, claimed) = app.post_json(worker, "/jobs/claim", json!({"kinds": ["ocr"], "wait_ms": 0})).await;
    let lease = claimed["lease"].as_str().unwrap().to_owned();
    let notice = "GIẤY CHỨNG SINH\nHọ và tên mẹ: Nguyễn Thị An\nSố định danh cá nhân: 001303012345";
    let (status, answer) = app.complete_ocr(worker, job, &lease, &input, json!([page_text(1, 120, 90, notice)])).await;
    assert_eq!(status, 200, "{answer}");
    app.wait_for_component(&code, "hospital_birth_notice", "satisfied").await;
    // a job's duration is counted when its worker's report is settled, which may come a
    // moment after the component it satisfied is shown so
    let settled = "sohoa_job_duration_seconds_count{kind=\"seal\",outcome=\"done\"}";
    let mut after = scrape(&app).await;
    for _ in 0..50 {
        if sample(&after, settled) > sample(&before, settled) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        after = scrape(&app).await;
    }

    // requests are counted by their route's pattern, never by the path with its ids
    let route = "sohoa_http_requests_total{route=\"/api/v1/dossiers/{code}\",method=\"GET\",status=\"200\"}";
    assert!(sample(&after, route) >= sample(&before, route) + 1.0, "{after}");
    assert!(!after.contains(&code), "a dossier's code is no label");
    assert!(after.contains("sohoa_http_request_duration_seconds_bucket{route=\"/api/v1/dossiers\",le=\"+Inf\"}"));
    let grew = |name: &str| sample(&after, name) > sample(&before, name);
    assert!(grew("sohoa_ocr_pages_total"), "{after}");
    assert!(grew("sohoa_signatures_total{kind=\"seal\"}"), "{after}");
    assert!(grew("sohoa_seal_duration_seconds_count{outcome=\"sealed\"}"), "{after}");
    assert!(grew("sohoa_job_duration_seconds_count{kind=\"ocr\",outcome=\"done\"}"), "{after}");
    assert!(grew("sohoa_job_duration_seconds_count{kind=\"seal\",outcome=\"done\"}"), "{after}");
    assert_eq!(sample(&after, "sohoa_jobs{kind=\"ocr\",state=\"done\"}"), 1.0);
    assert!(sample(&after, "sohoa_log_leaves") >= 1.0, "the sealed copy's record is a leaf: {after}");
    assert_eq!(sample(&after, "sohoa_up"), 1.0);

    // the format, as Prometheus's own checker reads it
    let mut check = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package, installed by scripts/install-deps.sh)");
    use std::io::Write;
    check.stdin.take().unwrap().write_all(after.as_bytes()).unwrap();
    let out = check.wait_with_output().unwrap();
    assert!(out.status.success(), "promtool: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    app.stop().await;
}
