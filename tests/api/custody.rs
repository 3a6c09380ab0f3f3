//! Chain of custody: a worker reports words, never the copy. The service assembles the
//! searchable copy from the stored scan, refuses a report that does not fit the scan, and
//! seals only what it assembled, with the dossier's own agency's seal.

use crate::common::{assert_problem, page_text, png, sample_pdf, sql_execute, TestApp, AGENCY, SEALED_AGENCY};
use serde_json::{json, Value};
use sohoa::api::{issue_scoped_token, issue_token};
use sohoa::domain::{AgencyCode, Role};
use sohoa::index::Scope;

const NOTICE: &str = "GIẤY CHỨNG SINH\nHọ và tên mẹ: Nguyễn Thị An\nSố định danh cá nhân: 001303012345";

fn claim_now() -> Value {
    json!({"kinds": ["ocr"], "wait_ms": 0})
}

/// The IDAT data of a PNG: what the copy must embed as the page image, byte for byte.
fn idat(png: &[u8]) -> Vec<u8> {
    let (mut pos, mut out) = (8, Vec::new());
    while pos + 12 <= png.len() {
        let len = u32::from_be_bytes(png[pos..pos + 4].try_into().unwrap()) as usize;
        if &png[pos + 4..pos + 8] == b"IDAT" {
            out.extend_from_slice(&png[pos + 8..pos + 8 + len]);
        }
        pos += 12 + len;
    }
    out
}

/// The image streams of every page of `pdf`.
fn page_images(pdf: &[u8]) -> Vec<Vec<u8>> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    doc.get_pages().values().flat_map(|page| doc.get_page_images(*page).unwrap().into_iter().map(|i| i.content.to_vec())).collect()
}

#[tokio::test]
async fn a_report_that_does_not_show_the_uploaded_pages_is_refused_and_the_copy_is_the_services_own() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    let scan_bytes = png(120, 90);
    let accepted: Value =
        app.upload(app.token(Role::Scanner), &code, "hospital_birth_notice", scan_bytes.clone(), None).await.json().await.unwrap();
    let (job, scan) = (accepted["job"].as_i64().unwrap(), accepted["scan"]["id"].as_i64().unwrap());
    let input = accepted["scan"]["digest"].as_str().unwrap().to_owned();
    let worker = app.token(Role::Worker);

    let mut text_not_words = page_text(1, 120, 90, NOTICE);
    text_not_words["text"] = json!("GIẤY KHAI SINH\nSố định danh cá nhân: 001099000001");
    let mut word_off_page = page_text(1, 120, 90, NOTICE);
    word_off_page["words"][0]["x"] = json!(119);
    let forgeries = [
        ("another page added", json!([page_text(1, 120, 90, NOTICE), page_text(2, 120, 90, NOTICE)])),
        ("another image", json!([page_text(1, 1240, 1754, NOTICE)])),
        ("a text that is not its words", json!([text_not_words])),
        ("a word off the page", json!([word_off_page])),
    ];
    for (attempt, (what, pages)) in forgeries.into_iter().enumerate() {
        let (status, claimed) = app.post_json(worker, "/jobs/claim", claim_now()).await;
        assert_eq!((status, claimed["id"].as_i64()), (200, Some(job)), "{what}: the job is back in the queue");
        let lease = claimed["lease"].as_str().unwrap();
        let (status, answer) = app.complete_ocr(worker, job, lease, &input, pages).await;
        assert_eq!((status, answer["code"].as_str()), (422, Some("output_mismatch")), "{what}: {answer}");
        let stored = app.state.index.job(job).await.unwrap().unwrap();
        assert_eq!(stored.attempts as usize, attempt + 1);
        // retried at once rather than after the back-off, for the test
        sqlx_run(&app, &format!("UPDATE jobs SET run_after = 0 WHERE id = {job}")).await;
    }
    // A PDF of the worker's own is no output at all.
    let (_, claimed) = app.post_json(worker, "/jobs/claim", claim_now()).await;
    let lease = claimed["lease"].as_str().unwrap().to_owned();
    let post = app.http.post(app.url(&format!("/jobs/{job}/output"))).bearer_auth(worker).query(&[("lease", &lease)]);
    assert_problem(post.body(sample_pdf(false)).send().await.unwrap(), 422, "invalid_output").await;
    let (_, audit) = app.get_json(app.token(Role::Auditor), &format!("/audit?target=job:{job}")).await;
    let refused = audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "job.output_refused").count();
    assert_eq!(refused, 4, "{audit}");
    assert!(app.state.index.record_for_scan(scan).await.unwrap().is_none(), "nothing was sealed from a refused report");

    let (status, answer) = app.complete_ocr(worker, job, &lease, &input, json!([page_text(1, 120, 90, NOTICE)])).await;
    assert_eq!(status, 200, "{answer}");
    app.wait_for_component(&code, "hospital_birth_notice", "satisfied").await;
    let record = app.state.index.record_for_scan(scan).await.unwrap().expect("sealed from the genuine report");
    let (status, result) = app.get_json(app.token(Role::Scanner), &format!("/scans/{scan}/result")).await;
    assert_eq!(status, 200);
    let copy = app.state.archive.get_blob(&sohoa::domain::Digest::parse(result["pdf"]["digest"].as_str().unwrap()).unwrap()).await.unwrap();
    assert_eq!(page_images(&copy), vec![idat(&scan_bytes)], "the copy embeds the uploaded page image, byte for byte");
    let sealed =
        app.get(app.token(Role::Consumer), &format!("/records/{}/content?purpose=1.001193", record.id)).await.bytes().await.unwrap();
    assert_eq!(page_images(&sealed), vec![idat(&scan_bytes)]);
    let file = app.dir.path().join("sealed.pdf");
    std::fs::write(&file, &sealed).unwrap();
    let layer = std::process::Command::new("pdftotext").arg(&file).arg("-").output().unwrap();
    let layer: String = String::from_utf8_lossy(&layer.stdout).split_whitespace().collect();
    assert!(layer.contains("NguyễnThịAn") && layer.contains("1303012345"), "the text layer is the words the service classified: {layer:?}");

    // The manifest names the scan, the copy, the words and who gave them.
    let manifest: Value =
        serde_json::from_slice(&app.state.archive.get_manifest(&record.id, &record.manifest_digest).await.unwrap()).unwrap();
    // each field with the box of the words it was read from, as the worker reported them
    let owner = &manifest["summary"]["fields"]["owner_id"];
    assert_eq!(owner["value"], "001303012345");
    assert_eq!(owner["boxes"], json!([{"page": 1, "x": 15, "y": 6, "w": 2, "h": 2}]), "{owner}");
    let source = &manifest["summary"]["source"];
    assert_eq!(source["digest"], input);
    assert_eq!(source["searchable_pdf"], result["pdf"]["digest"]);
    assert_eq!(source["worker"]["role"], "worker");
    assert_eq!(source["engine"]["model"], "vie:test");
    assert!(source["recognition"].as_str().unwrap().starts_with("sha256:"));
    app.stop().await;
}

/// The record sealed from `scan`, waited for up to 30 s.
async fn sealed_record(app: &TestApp, scan: i64) -> sohoa::index::Record {
    for _ in 0..600 {
        if let Some(record) = app.state.index.record_for_scan(scan).await.unwrap() {
            return record;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("scan {scan} is not sealed within 30 s")
}

async fn sqlx_run(app: &TestApp, sql: &str) {
    sql_execute(&app.config.index_url, sql).await;
}

#[tokio::test]
async fn each_agency_seals_its_own_dossiers_copies_with_its_own_seal() {
    let app = TestApp::spawn().await;
    let agency = AgencyCode::parse(SEALED_AGENCY).unwrap();
    let scanner = issue_token(app.state.index.as_ref(), Role::Scanner, &agency, "desk").await.unwrap().1;
    // the installation's shared worker, whose token names the home agency and runs every agency's jobs
    let shared = Scope { every_agency: true, ..Scope::default() };
    let home = AgencyCode::parse(AGENCY).unwrap();
    let worker = issue_scoped_token(app.state.index.as_ref(), Role::Worker, &home, "shared-1", &shared).await.unwrap().1;
    let applicant =
        json!({"procedure": "birth-registration", "applicant": {"kind": "citizen", "id": "001303012345", "name": "Nguyễn Thị An"}});
    let code = app.create_dossier(&scanner, applicant).await.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned();
    let accepted: Value = app.upload(&scanner, &code, "hospital_birth_notice", png(64, 64), None).await.json().await.unwrap();
    let (job, scan) = (accepted["job"].as_i64().unwrap(), accepted["scan"]["id"].as_i64().unwrap());
    let (status, claimed) = app.post_json(&worker, "/jobs/claim", claim_now()).await;
    assert_eq!((status, claimed["agency"].as_str()), (200, Some(SEALED_AGENCY)), "{claimed}");
    let input = accepted["scan"]["digest"].as_str().unwrap();
    let (status, answer) =
        app.complete_ocr(&worker, job, claimed["lease"].as_str().unwrap(), input, json!([page_text(1, 64, 64, NOTICE)])).await;
    assert_eq!(status, 200, "{answer}");

    let record = sealed_record(&app, scan).await;
    assert_eq!(record.agency.as_str(), SEALED_AGENCY);
    let signer = record.summary["signatures"][0]["signer"].as_str().unwrap();
    assert!(signer.contains("Sở Tư pháp"), "sealed with the dossier's agency's seal: {signer}");
    assert_ne!(record.agency.as_str(), AGENCY);
    let manifest: Value =
        serde_json::from_slice(&app.state.archive.get_manifest(&record.id, &record.manifest_digest).await.unwrap()).unwrap();
    assert_eq!(manifest["summary"]["source"]["worker"]["label"], "shared-1");
    app.stop().await;
}

/// A scanned PDF whose page carries a hidden text layer (render mode 3) saying `hidden`
/// over a gray image, on a 595 x 842 pt page cropped and turned by /Rotate 90.
fn pdf_with_hidden_text(hidden: &str) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let image = doc.add_object(Stream::new(
        dictionary! { "Type" => "XObject", "Subtype" => "Image", "Width" => 120, "Height" => 170, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
        (0..120 * 170).map(|i| if (i / 7) % 5 == 0 { 40u8 } else { 230 }).collect(),
    ));
    let content = format!("q 595 0 0 842 0 0 cm /Im0 Do Q BT 3 Tr /F1 12 Tf 72 700 Td ({hidden}) Tj ET");
    let content = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "CropBox" => vec![10.into(), 20.into(), 585.into(), 822.into()], "Rotate" => 90,
        "Contents" => content, "Resources" => dictionary! { "Font" => dictionary! { "F1" => font }, "XObject" => dictionary! { "Im0" => image } },
    });
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

#[tokio::test]
async fn a_scanned_pdf_keeps_its_page_and_its_hidden_text_never_reaches_the_sealed_copy() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    let scan_bytes = pdf_with_hidden_text("So dinh danh ca nhan: 009999999999");
    let accepted: Value =
        app.upload(app.token(Role::Scanner), &code, "hospital_birth_notice", scan_bytes.clone(), None).await.json().await.unwrap();
    let (job, scan) = (accepted["job"].as_i64().unwrap(), accepted["scan"]["id"].as_i64().unwrap());
    let input = accepted["scan"]["digest"].as_str().unwrap().to_owned();
    // the page as the worker's renderer draws it: cropped, turned, at 100 dpi (the image is coarser)
    let (width, height) = ((802.0f32 / 72.0 * 100.0).round() as u32, (575.0f32 / 72.0 * 100.0).round() as u32);
    let worker = app.token(Role::Worker);
    let (_, claimed) = app.post_json(worker, "/jobs/claim", claim_now()).await;
    let lease = claimed["lease"].as_str().unwrap().to_owned();
    let (status, answer) = app.complete_ocr(worker, job, &lease, &input, json!([page_text(1, width, height, NOTICE)])).await;
    assert_eq!(status, 200, "{answer}");
    app.wait_for_component(&code, "hospital_birth_notice", "satisfied").await;
    let record = app.state.index.record_for_scan(scan).await.unwrap().expect("sealed");
    let sealed =
        app.get(app.token(Role::Consumer), &format!("/records/{}/content?purpose=1.001193", record.id)).await.bytes().await.unwrap();
    let doc = lopdf::Document::load_mem(&sealed).unwrap();
    let (_, page) = doc.get_pages().into_iter().next().unwrap();
    let page = doc.get_dictionary(page).unwrap();
    let numbers = |key: &[u8]| -> Vec<f32> { page.get(key).unwrap().as_array().unwrap().iter().map(|o| o.as_float().unwrap()).collect() };
    assert_eq!(numbers(b"MediaBox"), vec![0.0, 0.0, 595.0, 842.0]);
    assert_eq!(numbers(b"CropBox"), vec![10.0, 20.0, 585.0, 822.0]);
    assert_eq!(page.get(b"Rotate").unwrap().as_i64().unwrap(), 90);
    let file = app.dir.path().join("sealed.pdf");
    std::fs::write(&file, &sealed).unwrap();
    let layer = std::process::Command::new("pdftotext").arg(&file).arg("-").output().unwrap();
    let layer: String = String::from_utf8_lossy(&layer.stdout).split_whitespace().collect();
    assert!(layer.contains("NguyễnThịAn") && layer.contains("1303012345"), "the recognised words: {layer:?}");
    assert!(!layer.contains("009999999999"), "the uploader's hidden text is gone: {layer:?}");
    app.stop().await;
}

/// A PDF page with visible text keeps it: the worker must report exactly the text the page
/// carries (read again by the service), not words it says it recognised; the sealed copy
/// shows that text once, with no second layer.
#[tokio::test]
async fn a_page_with_visible_text_is_sealed_with_its_own_text_and_nothing_else() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    let scan_bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/scanned/text-layer.pdf")).unwrap();
    let accepted: Value =
        app.upload(app.token(Role::Scanner), &code, "hospital_birth_notice", scan_bytes.clone(), None).await.json().await.unwrap();
    let (job, scan) = (accepted["job"].as_i64().unwrap(), accepted["scan"]["id"].as_i64().unwrap());
    let input = accepted["scan"]["digest"].as_str().unwrap().to_owned();
    let limits = sohoa::intake::MediaLimits { max_pixels: 40_000_000, max_pages: 10, max_scan_pixels: u64::MAX };
    let mut own = None;
    let want = sohoa::pages::Want { pixels: false, original: false, text: Some(sohoa::custody::SERVICE_POLICY) };
    sohoa::pages::for_each(&scan_bytes, limits, want, |p| {
        own = Some(sohoa::custody::PageText::of_own_text(1, p.width, p.height, p.dpi, p.kept_text.as_deref().unwrap()));
        Ok::<_, sohoa::pages::PageError>(())
    })
    .unwrap();
    let own = serde_json::to_value(own.unwrap()).unwrap();
    let (width, height) = (own["width"].as_u64().unwrap() as u32, own["height"].as_u64().unwrap() as u32);
    let worker = app.token(Role::Worker);

    let (_, claimed) = app.post_json(worker, "/jobs/claim", claim_now()).await;
    let lease = claimed["lease"].as_str().unwrap().to_owned();
    let (status, answer) = app.complete_ocr(worker, job, &lease, &input, json!([page_text(1, width, height, NOTICE)])).await;
    assert_eq!((status, answer["code"].as_str()), (422, Some("output_mismatch")), "other words than the page's: {answer}");
    sqlx_run(&app, &format!("UPDATE jobs SET run_after = 0 WHERE id = {job}")).await;

    let (_, claimed) = app.post_json(worker, "/jobs/claim", claim_now()).await;
    let lease = claimed["lease"].as_str().unwrap().to_owned();
    let (status, answer) = app.complete_ocr(worker, job, &lease, &input, json!([own])).await;
    assert_eq!(status, 200, "{answer}");
    let record = sealed_record(&app, scan).await;
    let sealed =
        app.get(app.token(Role::Consumer), &format!("/records/{}/content?purpose=1.001193", record.id)).await.bytes().await.unwrap();
    let file = app.dir.path().join("sealed.pdf");
    std::fs::write(&file, &sealed).unwrap();
    let layer = std::process::Command::new("pdftotext").arg(&file).arg("-").output().unwrap();
    let layer = String::from_utf8_lossy(&layer.stdout);
    assert_eq!(layer.matches("Phan Văn Trị").count(), 1, "the page's own text, once: {layer:?}");
    app.stop().await;
}
