//! What the signing desk needs of the API: the results waiting for the signed-in official
//! (named signers sign in their order; a result naming nobody waits for any signer until
//! signed), deferred signatures in WebCrypto's r‖s form, and pages drawn for a preview.

use crate::common::*;
use base64::Engine as _;
use serde_json::{json, Value};
use sohoa::api::issue_token;
use sohoa::domain::{AgencyCode, Role};

async fn attach(app: &TestApp, token: &str, code: &str, signers: &str) -> String {
    let response = app
        .http
        .post(app.url(&format!("/dossiers/{code}/results?signers={signers}")))
        .bearer_auth(token)
        .header("content-type", "application/pdf")
        .body(sample_pdf(false))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

async fn waiting(app: &TestApp, token: &str) -> Vec<String> {
    let (status, body) = app.get_json(token, "/results?waiting=me").await;
    assert_eq!(status, 200, "{body}");
    body["results"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_owned()).collect()
}

/// A raw ECDSA P-256 signature, r‖s, as WebCrypto gives it, by the demo's second official.
fn webcrypto_signature(message: &[u8]) -> Vec<u8> {
    use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let pem = std::fs::read_to_string(demo_pki().join("official2.key")).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
    let rng = ring::rand::SystemRandom::new();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng).unwrap();
    key.sign(&rng, message).unwrap().as_ref().to_vec()
}

#[tokio::test]
async fn results_wait_for_the_named_officials_in_their_order_and_only_in_their_agency() {
    let app = TestApp::spawn().await;
    let index = app.state.index.as_ref();
    let agency = AgencyCode::parse(AGENCY).unwrap();
    let other = AgencyCode::parse(OTHER_AGENCY).unwrap();
    // the vice-chairman signs with a token of her own; the chairman's key is held by the service
    let (_, vice) = issue_token(index, Role::Signer, &agency, "pho-chu-tich").await.unwrap();
    let (_, chairman) = issue_token(index, Role::Signer, &agency, "official1").await.unwrap();
    // another agency's official under the same label
    let (_, elsewhere) = issue_token(index, Role::Signer, &other, "pho-chu-tich").await.unwrap();

    let code = app.birth_dossier().await;
    let both = attach(&app, &vice, &code, "pho-chu-tich,official1").await;
    let chairman_only = attach(&app, &vice, &code, "official1").await;
    let anyone = attach(&app, &vice, &code, "").await;
    let body = json!({"procedure": "birth-registration", "applicant": {"kind": "citizen", "id": "001303012345", "name": "Lê Văn Bình"}});
    let response = app.create_dossier(&app.other_scanner, body).await;
    assert_eq!(response.status(), 201);
    let other_code = response.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned();
    let theirs = attach(&app, &elsewhere, &other_code, "pho-chu-tich").await;

    assert_eq!(waiting(&app, &vice).await, [both.clone(), anyone.clone()]);
    assert_eq!(waiting(&app, &chairman).await, [chairman_only.clone(), anyone.clone()]);
    assert_eq!(waiting(&app, &elsewhere).await, vec![theirs.clone()]);
    let (status, result) = app.get_json(&vice, &format!("/results/{both}")).await;
    assert_eq!(
        (status, result["signers"].clone(), result["next_signer"].clone()),
        (200, json!(["pho-chu-tich", "official1"]), json!("pho-chu-tich"))
    );

    // not the chairman's turn yet, on either path
    let (status, body) = app.post_json(&chairman, &format!("/results/{both}/sign"), json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_your_turn")), "{body}");
    let pki = demo_pki();
    let certificate = sohoa::sign::load_certificates(&pki.join("official2.pem")).unwrap().remove(0);
    let cert = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&certificate);
    let (status, body) = app.get_json(&chairman, &format!("/results/{both}/signing-digest?certificate={cert}")).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_your_turn")), "{body}");

    // the vice-chairman signs first, deferred, with the r‖s signature WebCrypto gives
    let (status, session) =
        app.get_json(&vice, &format!("/results/{both}/signing-digest?certificate={cert}&page=1&rect=60,80,200,60")).await;
    assert_eq!(status, 200, "{session}");
    let attributes = base64::engine::general_purpose::STANDARD.decode(session["signed_attributes"].as_str().unwrap()).unwrap();
    let raw = webcrypto_signature(&attributes);
    assert_eq!(raw.len(), 64);
    let signature = base64::engine::general_purpose::STANDARD.encode(&raw);
    let (status, signed) =
        app.post_json(&vice, &format!("/results/{both}/signature"), json!({"session": session["session"], "signature": signature})).await;
    assert_eq!((status, signed["signatures"].as_u64(), signed["next_signer"].as_str()), (200, Some(1), Some("official1")), "{signed}");
    let (status, body) = app.post_json(&vice, &format!("/results/{both}/issue"), json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("signatures_missing")), "{body}");

    // signed by her, it waits for the chairman and no longer for her
    assert_eq!(waiting(&app, &vice).await, vec![anyone.clone()]);
    assert_eq!(waiting(&app, &chairman).await, [both.clone(), chairman_only.clone(), anyone.clone()]);
    // a result naming nobody leaves every list once signed
    let (status, _) = app.post_json(&chairman, &format!("/results/{anyone}/sign"), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(waiting(&app, &vice).await, Vec::<String>::new());
    let (status, signed) = app.post_json(&chairman, &format!("/results/{both}/sign"), json!({"page": 1, "rect": [330, 80, 200, 60]})).await;
    assert_eq!((status, signed["signatures"].as_u64()), (200, Some(2)), "{signed}");
    let (status, body) = app.post_json(&chairman, &format!("/results/{both}/sign"), json!({})).await;
    assert_eq!((status, body["code"].as_str()), (409, Some("signers_done")), "{body}");
    let (status, issued) = app.post_json(&chairman, &format!("/results/{both}/issue"), json!({})).await;
    assert_eq!(status, 200, "{issued}");
    assert_eq!(waiting(&app, &chairman).await, vec![chairman_only.clone()]);

    // both signatures hold, each where it was placed
    let pdf = app.get(&chairman, &format!("/results/{both}/content")).await.bytes().await.unwrap();
    let root = sohoa::sign::load_certificates(&pki.join("root.pem")).unwrap();
    let report = sohoa::verify::verify_pdf(&pdf, &root, chrono::Utc::now()).unwrap();
    assert!(report.valid && report.signatures.len() == 2, "{report:?}");

    // the list is the signer's, and asks for exactly that
    let (status, _) = app.get_json(app.token(Role::Auditor), "/results?waiting=me").await;
    assert_eq!(status, 403);
    let (status, body) = app.get_json(&vice, "/results?waiting=all").await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_query")));
    let (status, _) = app.get_json(&vice, "/results").await;
    assert_eq!(status, 400);
    // bad signer lists are refused at attach
    let bad = app
        .http
        .post(app.url(&format!("/dossiers/{code}/results?signers=a,a")))
        .bearer_auth(&vice)
        .header("content-type", "application/pdf")
        .body(sample_pdf(false))
        .send()
        .await
        .unwrap();
    assert_problem(bad, 422, "invalid_signers").await;
    app.stop().await;
}

#[tokio::test]
async fn a_result_page_is_drawn_for_a_preview_within_limits() {
    let app = TestApp::spawn().await;
    let signer = app.token(Role::Signer).to_owned();
    let code = app.birth_dossier().await;
    let id = attach(&app, &signer, &code, "").await;
    let (status, pages) = app.get_json(&signer, &format!("/results/{id}/pages")).await;
    assert_eq!(status, 200, "{pages}");
    let page = &pages["pages"][0];
    let (width, height) = (page["width"].as_f64().unwrap(), page["height"].as_f64().unwrap());
    assert!((width - 595.0).abs() < 2.0 && (height - 842.0).abs() < 2.0, "{pages}");
    assert_eq!(page["to_user"], json!([1.0, 0.0, 0.0, 1.0, 0.0, 0.0]));

    let response = app.get(&signer, &format!("/results/{id}/pages/1/preview?width=300")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = image::load_from_memory(&response.bytes().await.unwrap()).unwrap().to_luma8();
    assert_eq!((png.width(), png.height()), (300, (300.0 * height / width).round() as u32));
    // the page's text is drawn: some pixels are dark
    assert!(png.pixels().filter(|p| p.0[0] < 160).count() > 50, "the preview is blank");

    assert_problem(app.get(&signer, &format!("/results/{id}/pages/1/preview?width=5000")).await, 422, "invalid_width").await;
    assert_problem(app.get(&signer, &format!("/results/{id}/pages/2/preview")).await, 404, "page_not_found").await;
    let agency = AgencyCode::parse(OTHER_AGENCY).unwrap();
    let (_, elsewhere) = issue_token(app.state.index.as_ref(), Role::Signer, &agency, "x").await.unwrap();
    assert_eq!(app.get(&elsewhere, &format!("/results/{id}/pages/1/preview")).await.status(), 404);
    assert_eq!(app.get(app.token(Role::Scanner), &format!("/results/{id}/pages")).await.status(), 403);
    app.stop().await;
}
