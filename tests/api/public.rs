//! What a citizen holding an issued result can check: the QR code in each signature leads to
//! the public verification page of that result (read back from the signed PDF rendered by
//! poppler, decoded by zbar), the signatures still validate with pdfsig and pyHanko, the page
//! shows only what the public may see, and a posted file is found in the log by its content.

use crate::common::*;
use serde_json::{json, Value};
use sohoa::api::issue_token;
use sohoa::domain::{AgencyCode, Role};
use std::path::Path;
use std::process::Command;

const PUBLIC_URL: &str = "https://motcua.example.gov.vn";

/// The QR codes zbar reads on page 1 of `pdf`, rendered at 200 dpi by poppler.
fn qr_codes(pdf: &Path) -> Vec<String> {
    let stem = pdf.with_extension("");
    let render = Command::new("pdftoppm")
        .args(["-r", "200", "-png", "-f", "1", "-l", "1", "-singlefile"])
        .arg(pdf)
        .arg(&stem)
        .output()
        .expect("pdftoppm runs (poppler-utils)");
    assert!(render.status.success(), "{}", String::from_utf8_lossy(&render.stderr));
    let read = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(stem.with_extension("png"))
        .output()
        .expect("zbarimg runs: scripts/install-deps.sh installs zbar-tools");
    String::from_utf8_lossy(&read.stdout).lines().map(str::to_owned).filter(|l| !l.is_empty()).collect()
}

#[tokio::test]
async fn an_issued_result_carries_a_qr_code_to_its_public_verification_page() {
    let app = TestApp::spawn_with(|c| c.public_url = Some(format!("{PUBLIC_URL}/"))).await;
    let agency = AgencyCode::parse(AGENCY).unwrap();
    let (_, chairman) = issue_token(app.state.index.as_ref(), Role::Signer, &agency, "official1").await.unwrap();
    let code = app.birth_dossier().await;
    let attach = app
        .http
        .post(app.url(&format!("/dossiers/{code}/results?number=15/QĐ-UBND&signers=official1")))
        .bearer_auth(&chairman)
        .header("content-type", "application/pdf")
        .body(sample_pdf(false))
        .send()
        .await
        .unwrap();
    assert_eq!(attach.status(), 201);
    let id = attach.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    // a draft is nobody's business
    let draft = app.http.get(app.url(&format!("/public/records/{id}"))).send().await.unwrap();
    assert_problem(draft, 404, "record_not_found").await;

    let (status, signed) = app.post_json(&chairman, &format!("/results/{id}/sign"), json!({})).await;
    assert_eq!(status, 200, "{signed}");
    let (status, issued) = app.post_json(&chairman, &format!("/results/{id}/issue"), json!({})).await;
    assert_eq!(status, 200, "{issued}");
    let pdf = app.get(&chairman, &format!("/results/{id}/content")).await.bytes().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ket-qua.pdf");
    std::fs::write(&file, &pdf).unwrap();

    assert_eq!(qr_codes(&file), [format!("{PUBLIC_URL}/#/xac-minh/{id}")]);
    let text = Command::new("pdftotext").arg(&file).arg("-").output().unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains(&format!("Mã xác minh: {id}")), "the short id is printed beside the code");
    let pdfsig = Command::new("pdfsig").arg(&file).output().unwrap();
    let pdfsig = String::from_utf8_lossy(&pdfsig.stdout).into_owned();
    assert!(pdfsig.contains("Signature Validation: Signature is Valid."), "{pdfsig}");
    let pyhanko = std::env::var("SOHOA_PYHANKO_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| Path::new(&std::env::var("HOME").unwrap()).join(".venv/sohoa-pyhanko"))
        .join("bin/pyhanko");
    let validated = Command::new(&pyhanko)
        .args(["sign", "validate", "--no-revocation-check", "--trust"])
        .arg(demo_pki().join("root.pem"))
        .arg(&file)
        .output()
        .expect("pyHanko runs: scripts/install-test-tools.sh installs it");
    let validated = String::from_utf8_lossy(&validated.stdout).into_owned() + &String::from_utf8_lossy(&validated.stderr);
    assert!(validated.contains("INTACT:TRUSTED"), "{validated}");

    // the page the code leads to: who issued what and when, nothing about the applicant
    let page = app.http.get(app.url(&format!("/public/records/{id}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page: Value = page.json().await.unwrap();
    assert_eq!(
        (page["status"].as_str(), page["agency"].as_str(), page["in_log"].as_bool()),
        (Some("active"), Some(AGENCY), Some(true)),
        "{page}"
    );
    assert!(page["agency_name"].as_str().is_some_and(|n| !n.is_empty()), "{page}");
    let record = issued["record"]["id"].as_str().unwrap();
    let (_, full) = app.get_json(app.token(Role::Admin), &format!("/records/{record}")).await;
    let shown = page.to_string();
    for private in ["001303012345", "Nguyễn Thị An", "15/QĐ-UBND", code.as_str(), record] {
        assert!(!shown.contains(private), "the public page shows {private}: {page}");
    }
    assert!(page["issue_date"].is_string() && page["issue_date"] == full["issue_date"], "{page} {full}");
    for unknown in ["kq-00000000", "a%20b", "x".repeat(80).as_str()] {
        let answer = app.http.get(app.url(&format!("/public/records/{unknown}"))).send().await.unwrap();
        assert_problem(answer, 404, "record_not_found").await;
    }

    // the issued file is found in the log by its content; a changed copy is not
    let verify = |bytes: Vec<u8>| app.http.post(app.url("/public/verify")).header("content-type", "application/pdf").body(bytes).send();
    let report: Value = verify(pdf.to_vec()).await.unwrap().json().await.unwrap();
    let found = report["records"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!((found[0]["log_index"].clone(), found[0]["kind"].as_str()), (page["log_index"].clone(), Some("result")), "{report}");
    let report: Value = verify(tampered(&pdf)).await.unwrap().json().await.unwrap();
    assert_eq!(report["records"], json!([]), "{report}");
    let report: Value = verify(sample_pdf(false)).await.unwrap().json().await.unwrap();
    assert_eq!(report["records"], json!([]), "an unsigned draft's bytes are in no record: {report}");
    app.stop().await;
}
