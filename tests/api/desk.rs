//! The desk's files at `/` and the routes it needs beyond the rest of the API: who a token
//! is (`/me`) and verification for anyone (`/public/verify`). The pages themselves are
//! driven in a browser by tests/browser.rs.

use crate::common::*;
use serde_json::Value;
use sohoa::domain::Role;

#[tokio::test]
async fn the_desk_is_served_at_the_root_from_its_own_files_only() {
    let app = TestApp::spawn().await;
    let page = app.http.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"vi\">"), "{html}");
    // every file the page names is served here, and none names another origin
    let mut named = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            named.push(part.split('"').next().unwrap().to_owned());
        }
    }
    let files: Vec<_> = named.iter().filter(|n| n.starts_with('/')).collect();
    assert_eq!(files.len(), 2, "{named:?}");
    let mut bodies = vec![html.clone()];
    for file in files {
        let answer = app.http.get(format!("{}{file}", app.base)).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{file}");
        assert_eq!(answer.headers()["x-content-type-options"], "nosniff");
        bodies.push(answer.text().await.unwrap());
    }
    for body in &bodies {
        assert!(!body.contains("http://") && !body.contains("https://"), "a desk file names another origin");
    }
    assert_eq!(app.http.get(format!("{}/assets/none.js", app.base)).send().await.unwrap().status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn a_token_says_who_it_is() {
    let app = TestApp::spawn().await;
    let (status, me) = app.get_json(app.token(Role::Signer), "/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!((me["role"].as_str(), me["agency"].as_str()), (Some("signer"), Some(AGENCY)));
    let unknown = app.http.get(app.url("/me")).bearer_auth("not-a-token").send().await.unwrap();
    assert_problem(unknown, 401, "invalid_token").await;
    app.stop().await;
}

#[tokio::test]
async fn anyone_verifies_a_pdf_without_a_token() {
    let app = TestApp::spawn().await;
    let post = |pdf: Vec<u8>| app.http.post(app.url("/public/verify")).header("content-type", "application/pdf").body(pdf).send();
    let sealed = sealed_sample();
    let answer = post(sealed.clone()).await.unwrap();
    assert_eq!(answer.status(), 200);
    let report: Value = answer.json().await.unwrap();
    assert_eq!(report["valid"], true, "{report}");
    assert!(report["signatures"][0]["signer"].as_str().unwrap().contains("CN="), "{report}");

    let report: Value = post(tampered(&sealed)).await.unwrap().json().await.unwrap();
    assert_eq!(report["valid"], false, "{report}");
    let codes: Vec<_> = report["signatures"][0]["problems"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"digest_mismatch"), "{codes:?}");

    let refused = post(b"not a pdf".to_vec()).await.unwrap();
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert!(problem["code"].as_str().unwrap().starts_with("pdf_"), "{problem}");
    app.stop().await;
}
