//! The API's contract: schemathesis against the served OpenAPI document, and the access
//! matrix (every route, every role, own and other agency, and no token at all).

mod common;

use common::*;
use reqwest::Method;
use serde_json::{json, Value};
use sohoa::api::issue_token;
use sohoa::domain::{AgencyCode, Role};
use std::collections::HashMap;
use std::process::Command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// One schemathesis worker: CPython 3.11's parser is not safe across the threads that
// several workers start (hypothesis describes filters by parsing their source).
async fn the_api_keeps_to_its_openapi_document_under_schemathesis() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    archived_record(&app, "rec-1", &code, "criminal_record_certificate", "2015-01-01").await;
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200, "the document is served without a token");
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/records/{id}/content"]["get"].is_object());

    let venv = tools_venv();
    for role in [Role::Scanner, Role::Admin, Role::Consumer] {
        let output = tokio::task::spawn_blocking({
            let schemathesis = venv.join("bin/schemathesis");
            let url = app.url("/openapi.json");
            let auth = format!("Authorization: Bearer {}", app.token(role));
            let reports = app.dir.path().join(format!("schemathesis-{role}"));
            move || {
                Command::new(schemathesis)
                    .args(["run", &url, "-H", &auth])
                    .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"])
                    .args(["--max-examples", "12", "--seed", "7", "--workers", "1", "--report-dir"])
                    .arg(reports)
                    .output()
                    .expect("run schemathesis")
            }
        })
        .await
        .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        println!(
            "schemathesis as {role}:\n{}",
            stdout.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
        );
        assert!(output.status.success(), "schemathesis as {role} found problems:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    }
    app.stop().await;
}

/// One route of the matrix: who may call it, and whether it names a thing of one agency
/// (another agency's callers get 404 for it, as for a missing one).
struct Route {
    method: Method,
    /// As the OpenAPI document names it.
    template: &'static str,
    path: String,
    body: Option<Value>,
    allowed: &'static [Role],
    agency_scoped: bool,
}

const ANY: &[Role] = &Role::ALL;
const READERS: &[Role] = &[Role::Consumer, Role::Scanner, Role::Auditor, Role::Admin];
const WORKERS: &[Role] = &[Role::Worker, Role::Operator];

fn route(
    method: Method,
    template: &'static str,
    path: impl Into<String>,
    body: Option<Value>,
    allowed: &'static [Role],
    agency_scoped: bool,
) -> Route {
    Route { method, template, path: path.into(), body, allowed, agency_scoped }
}

#[tokio::test]
async fn every_route_answers_only_the_roles_and_the_agency_it_serves() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    archived_record(&app, "rec-1", &code, "criminal_record_certificate", "2015-01-01").await;
    let upload = app.upload(app.token(Role::Scanner), &code, "hospital_birth_notice", png(64, 64), None).await;
    let accepted: Value = upload.json().await.unwrap();
    let scan = accepted["scan"]["id"].as_i64().unwrap();
    let job = accepted["job"].as_i64().unwrap();
    let (status, hold) = app.post_json(app.token(Role::Admin), "/holds", json!({"record": "rec-1", "reason": "thanh tra"})).await;
    assert_eq!(status, 201);
    let hold = hold["id"].as_i64().unwrap();
    let attach = app
        .http
        .post(app.url(&format!("/dossiers/{code}/results")))
        .bearer_auth(app.token(Role::Signer))
        .header("content-type", "application/pdf")
        .body(sample_pdf(false))
        .send()
        .await
        .unwrap();
    assert_eq!(attach.status(), 201);
    let result = attach.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

    // a back-file batch of one scan, flagged unread
    let boundary = "matrix-boundary";
    let mut form = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"no_ocr\"\r\n\r\ntrue\r\n").into_bytes();
    form.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"p1.png\"\r\n\r\n").into_bytes());
    form.extend(png(64, 64));
    form.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let posted = app
        .http
        .post(app.url("/imports"))
        .bearer_auth(app.token(Role::Scanner))
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 202);
    let batch = posted.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();

    let other = AgencyCode::parse(OTHER_AGENCY).unwrap();
    let mut others = HashMap::new();
    for role in Role::ALL {
        let (_, secret) = issue_token(app.state.index.as_ref(), role, &other, "matrix").await.unwrap();
        others.insert(role, secret);
    }

    let home_agency = AgencyCode::parse(AGENCY).unwrap();
    let (spare, _) = issue_token(app.state.index.as_ref(), Role::Scanner, &home_agency, "spare").await.unwrap();

    use Method as M;
    let reason = || Some(json!({"reason": "kiểm tra"}));
    let routes = vec![
        route(M::GET, "/procedures", "/procedures", None, ANY, false),
        route(M::GET, "/procedures/{id}", "/procedures/birth-registration", None, ANY, false),
        route(M::GET, "/doc-types", "/doc-types", None, ANY, false),
        route(
            M::POST,
            "/dossiers",
            "/dossiers",
            Some(json!({"procedure": "birth-registration", "applicant": {"kind": "citizen", "id": "001303012345", "name": "Lê Văn Bình"}})),
            &[Role::Scanner],
            false,
        ),
        route(M::GET, "/dossiers", "/dossiers", None, &[Role::Scanner, Role::Auditor, Role::Admin], false),
        route(M::GET, "/dossiers/{code}", format!("/dossiers/{code}"), None, &[Role::Scanner, Role::Auditor, Role::Admin], true),
        route(
            M::POST,
            "/dossiers/{code}/components/{component}/reuse",
            format!("/dossiers/{code}/components/application_form/reuse"),
            Some(json!({"record": "rec-1"})),
            &[Role::Scanner],
            true,
        ),
        route(
            M::POST,
            "/dossiers/{code}/components/{component}/scans",
            format!("/dossiers/{code}/components/hospital_birth_notice/scans"),
            None,
            &[Role::Scanner],
            true,
        ),
        route(M::POST, "/dossiers/{code}/results", format!("/dossiers/{code}/results"), None, &[Role::Signer], true),
        route(M::GET, "/results", "/results?waiting=me", None, &[Role::Signer], false),
        route(M::GET, "/results/{id}", format!("/results/{result}"), None, &[Role::Signer, Role::Auditor, Role::Admin], true),
        route(M::GET, "/results/{id}/pages", format!("/results/{result}/pages"), None, &[Role::Signer, Role::Auditor, Role::Admin], true),
        route(
            M::GET,
            "/results/{id}/pages/{page}/preview",
            format!("/results/{result}/pages/1/preview"),
            None,
            &[Role::Signer, Role::Auditor, Role::Admin],
            true,
        ),
        route(
            M::GET,
            "/results/{id}/content",
            format!("/results/{result}/content"),
            None,
            &[Role::Signer, Role::Auditor, Role::Admin],
            true,
        ),
        route(M::POST, "/results/{id}/sign", format!("/results/{result}/sign"), Some(json!({})), &[Role::Signer], true),
        route(
            M::GET,
            "/results/{id}/signing-digest",
            format!("/results/{result}/signing-digest?certificate=AA"),
            None,
            &[Role::Signer],
            true,
        ),
        route(
            M::POST,
            "/results/{id}/signature",
            format!("/results/{result}/signature"),
            Some(json!({"session": "x", "signature": "AA"})),
            &[Role::Signer],
            true,
        ),
        route(M::POST, "/results/{id}/issue", format!("/results/{result}/issue"), None, &[Role::Signer], true),
        route(
            M::POST,
            "/dossiers/{code}/forward",
            format!("/dossiers/{code}/forward"),
            Some(json!({})),
            &[Role::Scanner, Role::Admin],
            true,
        ),
        route(M::GET, "/scans/{id}", format!("/scans/{scan}"), None, &[Role::Scanner, Role::Auditor, Role::Admin], true),
        route(M::GET, "/scans/{id}/result", format!("/scans/{scan}/result"), None, &[Role::Scanner, Role::Auditor, Role::Admin], true),
        route(M::GET, "/scans/{id}/pdf", format!("/scans/{scan}/pdf"), None, &[Role::Scanner, Role::Auditor, Role::Admin], true),
        route(M::GET, "/scans/{id}/pages", format!("/scans/{scan}/pages"), None, &[Role::Scanner, Role::Auditor, Role::Admin], true),
        route(
            M::GET,
            "/scans/{id}/pages/{page}/preview",
            format!("/scans/{scan}/pages/1/preview"),
            None,
            &[Role::Scanner, Role::Auditor, Role::Admin],
            true,
        ),
        route(
            M::POST,
            "/scans/{id}/correction",
            format!("/scans/{scan}/correction"),
            Some(json!({"doc_type": "hospital_birth_notice"})),
            &[Role::Scanner],
            true,
        ),
        route(M::GET, "/corrections", "/corrections", None, &[Role::Admin, Role::Auditor], false),
        route(M::GET, "/jobs", "/jobs?state=queued", None, &[Role::Admin, Role::Auditor, Role::Operator], false),
        route(M::POST, "/jobs/claim", "/jobs/claim", Some(json!({"kinds": ["ocr"], "wait_ms": 0})), WORKERS, false),
        route(M::GET, "/jobs/{id}/input", format!("/jobs/{job}/input?lease=x"), None, WORKERS, true),
        route(M::POST, "/jobs/{id}/output", format!("/jobs/{job}/output?lease=x"), None, WORKERS, true),
        route(M::POST, "/jobs/{id}/heartbeat", format!("/jobs/{job}/heartbeat"), Some(json!({"lease": "x"})), WORKERS, true),
        route(M::POST, "/jobs/{id}/complete", format!("/jobs/{job}/complete"), Some(json!({"lease": "x", "result": {}})), WORKERS, true),
        route(
            M::POST,
            "/jobs/{id}/fail",
            format!("/jobs/{job}/fail"),
            Some(json!({"lease": "x", "code": "x", "message": "x"})),
            WORKERS,
            true,
        ),
        route(M::POST, "/jobs/{id}/requeue", format!("/jobs/{job}/requeue"), None, &[Role::Admin, Role::Operator], true),
        route(M::GET, "/records", "/records", None, READERS, false),
        route(M::GET, "/records/{id}", "/records/rec-1", None, READERS, true),
        route(M::GET, "/owners/{id}/access", "/owners/001186012345/access", None, &[Role::Admin, Role::Scanner, Role::Auditor], false),
        route(M::GET, "/access/checkpoint", "/access/checkpoint", None, ANY, false),
        route(M::GET, "/access/consistency", "/access/consistency?from=0", None, ANY, false),
        route(M::GET, "/records/{id}/manifest", "/records/rec-1/manifest", None, READERS, true),
        route(M::GET, "/records/{id}/content", "/records/rec-1/content", None, READERS, true),
        route(M::GET, "/records/{id}/proof", "/records/rec-1/proof", None, READERS, true),
        route(M::GET, "/tlog/checkpoint", "/tlog/checkpoint", None, ANY, false),
        route(M::GET, "/tlog/consistency", "/tlog/consistency?from=1", None, ANY, false),
        route(
            M::POST,
            "/records/{id}/supersede",
            "/records/rec-1/supersede",
            Some(json!({"reason": "x", "by": "rec-1"})),
            &[Role::Admin],
            true,
        ),
        route(M::POST, "/records/{id}/dispose", "/records/rec-1/dispose", reason(), &[Role::Admin], true),
        route(M::POST, "/holds", "/holds", Some(json!({"record": "rec-1", "reason": "x"})), &[Role::Admin], true),
        route(M::GET, "/holds", "/holds", None, &[Role::Admin, Role::Auditor], false),
        route(M::POST, "/holds/{id}/release", format!("/holds/{hold}/release"), None, &[Role::Admin], true),
        route(M::GET, "/disposal", "/disposal", None, &[Role::Admin, Role::Auditor], false),
        route(M::POST, "/imports", "/imports", None, &[Role::Scanner, Role::Admin], false),
        route(M::GET, "/imports/{id}", format!("/imports/{batch}"), None, &[Role::Scanner, Role::Admin, Role::Auditor], true),
        route(M::GET, "/archive/fixity", "/archive/fixity", None, &[Role::Admin, Role::Auditor, Role::Operator], false),
        route(M::POST, "/verify", "/verify", None, ANY, false),
        route(M::GET, "/me", "/me", None, ANY, false),
        route(M::GET, "/stats/766", "/stats/766?month=2026-11", None, &[Role::Admin, Role::Auditor], false),
        route(M::GET, "/audit", "/audit", None, &[Role::Auditor, Role::Admin, Role::Operator], false),
        route(M::GET, "/tokens", "/tokens", None, &[Role::Admin], false),
        route(M::POST, "/tokens", "/tokens", Some(json!({"role": "scanner", "label": "x"})), &[Role::Admin], false),
        route(M::POST, "/tokens/{id}/revoke", format!("/tokens/{spare}/revoke"), None, &[Role::Admin], true),
        route(M::GET, "/jobs/depth", "/jobs/depth", None, &[Role::Admin, Role::Auditor, Role::Operator], false),
        route(M::GET, "/workers", "/workers", None, &[Role::Admin, Role::Operator], false),
        // last: it ends the record's active life
        route(M::POST, "/records/{id}/revoke", "/records/rec-1/revoke", reason(), &[Role::Admin], true),
    ];

    // Whatever of this agency another agency's caller must never see in an answer.
    let digest = accepted["scan"]["digest"].as_str().unwrap().to_owned();
    let home = [AGENCY, code.as_str(), "rec-1", result.as_str(), digest.as_str()];
    let mut failures = Vec::new();
    let mut requests = 0;
    for r in &routes {
        let mut send = |token: Option<&str>| {
            let mut request = app.http.request(r.method.clone(), app.url(&r.path));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request = match &r.body {
                Some(body) => request.json(body),
                None if r.method == M::POST => request.header("content-type", "application/pdf").body("%PDF-1.7\n"),
                None => request,
            };
            requests += 1;
            request.send()
        };
        let status = send(None).await.unwrap().status().as_u16();
        if status != 401 {
            failures.push(format!("{} {} without a token: {status}", r.method, r.path));
        }
        let status = send(Some("not-a-token")).await.unwrap().status().as_u16();
        if status != 401 {
            failures.push(format!("{} {} with an unknown token: {status}", r.method, r.path));
        }
        for role in Role::ALL {
            let allowed = r.allowed.contains(&role);
            // The operator runs the whole installation: whichever agency its token names, it
            // reaches every agency's jobs and sees every agency's entries.
            let scoped = r.agency_scoped && role != Role::Operator;
            // Another agency's caller first, so that it meets this agency's things as they were made.
            let response = send(Some(others[&role].as_str())).await.unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap_or_default();
            if !allowed && status != 403 {
                failures.push(format!("{} {} as {role} of another agency: {status}, should be 403", r.method, r.path));
            } else if allowed && scoped && r.method == M::GET && status != 404 {
                failures.push(format!("{} {} as {role} of another agency: {status}, should be 404", r.method, r.path));
            } else if allowed && scoped && !matches!(status, 403 | 404) {
                failures.push(format!("{} {} as {role} of another agency: {status}, should be 403 or 404", r.method, r.path));
            } else if allowed && !scoped && matches!(status, 401 | 403) {
                failures.push(format!("{} {} as {role} of another agency: {status}, should be served", r.method, r.path));
            }
            // Exempt: the logs' origins, which name the installation's home agency by design; a
            // refusal, which may echo the id asked for as it does for a missing one; the operator.
            let exempt = r.template.starts_with("/tlog/")
                || r.template.starts_with("/access/")
                || !(200..300).contains(&status)
                || role == Role::Operator;
            if let Some(leak) = home.iter().find(|h| !exempt && body.contains(*h)) {
                failures.push(format!("{} {} as {role} of another agency: the answer names {leak}: {body:.300}", r.method, r.path));
            }

            let status = send(Some(app.token(role))).await.unwrap().status().as_u16();
            if allowed && matches!(status, 401 | 403) {
                failures.push(format!("{} {} as {role}: {status}, should be served", r.method, r.path));
            }
            if !allowed && status != 403 {
                failures.push(format!("{} {} as {role}: {status}, should be 403", r.method, r.path));
            }
        }
    }
    println!(
        "access matrix: {} routes x {} roles x 2 agencies, plus no token and an unknown token: {requests} requests",
        routes.len(),
        Role::ALL.len()
    );
    assert!(failures.is_empty(), "{} access failures:\n{}", failures.len(), failures.join("\n"));

    // The public verification needs no token, and an unknown one is no reason to refuse it.
    for token in [None, Some("not-a-token")] {
        let mut request = app.http.post(app.url("/public/verify")).header("content-type", "application/pdf").body("%PDF-1.7\n");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let status = request.send().await.unwrap().status().as_u16();
        assert_eq!(status, 422, "POST /public/verify with {token:?}: an unreadable PDF is judged, not refused for want of a token");
    }

    // A verification link is read by anyone; a draft answers as absent.
    for token in [None, Some("not-a-token")] {
        let mut request = app.http.get(app.url(&format!("/public/records/{result}")));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let status = request.send().await.unwrap().status().as_u16();
        assert_eq!(status, 404, "GET /public/records/{{draft}} with {token:?}");
    }

    // the routes above are every route the document describes
    let doc: Value = app.http.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut tested: std::collections::HashSet<String> = routes.iter().map(|r| format!("{} {}", r.method, r.template)).collect();
    tested.insert("POST /public/verify".to_owned());
    tested.insert("GET /public/records/{short}".to_owned());
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let key = format!("{} {path}", method.to_uppercase());
            assert!(tested.contains(&key), "{key} is described but not in the access matrix");
        }
    }
    app.stop().await;
}
