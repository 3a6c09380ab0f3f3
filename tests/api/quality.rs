//! The scan quality gate through the real app: the upload's answer and the stored scan
//! carry the gate's findings, with a reason in Vietnamese, so the desk scans a bad page again.

use crate::common::*;
use image::{GrayImage, ImageFormat};
use serde_json::Value;
use sohoa::domain::Role;
use std::io::Cursor;

/// The sample scan blurred past reading (a Gaussian radius of about 0.6 mm at 150 dpi).
fn blurred_scan() -> Vec<u8> {
    let page: GrayImage = image::load_from_memory(&sample_scan()).unwrap().to_luma8();
    let blurred = image::imageops::fast_blur(&page, 3.5);
    let mut out = Cursor::new(Vec::new());
    blurred.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

fn finding<'a>(quality: &'a Value, code: &str) -> Option<&'a Value> {
    quality["findings"].as_array().unwrap().iter().find(|f| f["code"] == code)
}

#[tokio::test]
async fn a_blurred_page_is_answered_with_rescan_advised_and_a_vietnamese_reason() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    let scanner = app.token(Role::Scanner);

    let sharp = app.upload(scanner, &code, "hospital_birth_notice", sample_scan(), None).await;
    assert_eq!(sharp.status(), 202);
    let sharp: Value = sharp.json().await.unwrap();
    let quality = &sharp["scan"]["quality"];
    assert_eq!(quality["rescan_advised"], false, "{quality}");
    assert_eq!(quality["findings"].as_array().unwrap().len(), 0, "{quality}");
    assert_eq!(quality["pages"][0]["page"], 1);

    let blurred = app.upload(scanner, &code, "application_form", blurred_scan(), Some("blurred-1")).await;
    assert_eq!(blurred.status(), 202);
    let answer: Value = blurred.json().await.unwrap();
    let quality = &answer["scan"]["quality"];
    assert_eq!(quality["rescan_advised"], true, "{quality}");
    let found = finding(quality, "blurred").unwrap_or_else(|| panic!("no blur finding in {quality}"));
    assert_eq!(found["page"], 1);
    assert_eq!(found["reason"], "Ảnh bị mờ, đề nghị quét lại");
    assert!(found["value"].as_f64().unwrap() > found["limit"].as_f64().unwrap(), "{found}");

    // The stored scan carries the same findings: read back alone, in its dossier, and on a
    // replay of the upload.
    let id = answer["scan"]["id"].as_i64().unwrap();
    let (status, scan) = app.get_json(scanner, &format!("/scans/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(scan["quality"], *quality);
    let (_, dossier) = app.get_json(scanner, &format!("/dossiers/{code}")).await;
    let listed = dossier["scans"].as_array().unwrap().iter().find(|s| s["id"] == id).unwrap();
    assert_eq!(listed["quality"]["rescan_advised"], true);
    let again: Value = app.upload(scanner, &code, "application_form", blurred_scan(), Some("blurred-1")).await.json().await.unwrap();
    assert_eq!(again["scan"]["quality"], *quality);
    app.stop().await;
}
