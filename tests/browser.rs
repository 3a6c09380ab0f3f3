//! The desk in a real browser: `tests/browser/desk.mjs` drives Debian's chromium with
//! playwright-core against the app served on port 0 with a real index, archive and seeded
//! records; axe-core checks each page. Screenshots are left in `target/browser/`.
//! `scripts/install-test-tools.sh` installs the npm packages (`make test` runs it).

mod common;

use common::*;
use sohoa::domain::Role;
use std::path::Path;
use std::process::Command;

#[tokio::test]
async fn the_desk_signs_in_takes_in_a_dossier_finds_records_and_verifies_in_a_browser() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        script.join("node_modules/playwright-core").is_dir() && script.join("node_modules/axe-core").is_dir(),
        "the browser test's npm packages are missing: run scripts/install-test-tools.sh"
    );
    let chromium = std::env::var("SOHOA_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "no chromium at {chromium}: run scripts/install-deps.sh");

    // The officials' server-held keys under their tokens' labels: the chairman's is held, the
    // vice-chairman signs with her own key in the browser (the demo's second official).
    let officials = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(demo_pki()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), officials.path().join(entry.file_name())).unwrap();
        }
    }
    for ext in ["key", "pem", "png"] {
        std::fs::copy(demo_pki().join(format!("official1.{ext}")), officials.path().join(format!("chu-tich.{ext}"))).unwrap();
    }
    let officials_dir = officials.path().to_owned();
    let app = TestApp::spawn_with(|c| {
        c.workers = 1;
        c.officials_dir = officials_dir;
    })
    .await;
    let code = app.birth_dossier().await;
    let agency = sohoa::domain::AgencyCode::parse(AGENCY).unwrap();
    let (_, vice) = sohoa::api::issue_token(app.state.index.as_ref(), Role::Signer, &agency, "pho-chu-tich").await.unwrap();
    let (_, chairman) = sohoa::api::issue_token(app.state.index.as_ref(), Role::Signer, &agency, "chu-tich").await.unwrap();
    let attach = |signers: &'static str| {
        app.http
            .post(app.url(&format!("/dossiers/{code}/results?number=15/QĐ-UBND&signers={signers}")))
            .bearer_auth(&vice)
            .header("content-type", "application/pdf")
            .body(sample_pdf(false))
            .send()
    };
    let result: serde_json::Value = attach("pho-chu-tich,chu-tich").await.unwrap().json().await.unwrap();
    let result = result["id"].as_str().expect("a result is attached").to_owned();
    assert_eq!(attach("chu-tich").await.unwrap().status(), 201);
    archived_record(&app, "khaisinh-1", &code, "birth_certificate", "2024-03-01").await;
    archived_record(&app, "kethon-1", &code, "marriage_certificate", "2015-06-20").await;
    let files = tempfile::tempdir().unwrap();
    let sealed = sealed_sample();
    std::fs::write(files.path().join("ban-sao.pdf"), &sealed).unwrap();
    std::fs::write(files.path().join("ban-sao-bi-sua.pdf"), tampered(&sealed)).unwrap();
    std::fs::write(files.path().join("giay-chung-sinh.png"), sample_scan()).unwrap();
    // an application form as the samples generator prints one
    let made = Command::new(worker_binary())
        .args(["samples", "--types", "application_form", "--quality", "clean", "--seed", "3", "-o"])
        .arg(files.path().join("samples"))
        .arg("--policies")
        .arg(&app.config.policies_dir)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let form = files.path().join("samples/0000-application_form-clean.png");
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser");
    // a fixity pass for the dashboard to report
    let fixity = Command::new(env!("CARGO_BIN_EXE_sohoa"))
        .args(["archive", "fixity"])
        .env("SOHOA_INDEX_URL", &app.config.index_url)
        .env("SOHOA_ARCHIVE_URL", &app.config.archive_url)
        .output()
        .unwrap();
    assert!(fixity.status.success(), "{}", String::from_utf8_lossy(&fixity.stderr));

    let base = app.base.clone();
    let (scanner, operator, admin) =
        (app.token(Role::Scanner).to_owned(), app.token(Role::Operator).to_owned(), app.token(Role::Admin).to_owned());
    let (files_dir, shots_dir) = (files.path().to_owned(), shots.clone());
    let (vice_token, chairman_token, result_id) = (vice.clone(), chairman.clone(), result.clone());
    let run = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script.join("desk.mjs"))
            .current_dir(&script)
            .env("SOHOA_DESK_URL", base)
            .env("SOHOA_SHOTS", shots_dir)
            .env("SOHOA_SCANNER_TOKEN", scanner)
            .env("SOHOA_OPERATOR_TOKEN", operator)
            .env("SOHOA_ADMIN_TOKEN", admin)
            .env("SOHOA_OWNER", "001186012345")
            .env("SOHOA_SEALED_PDF", files_dir.join("ban-sao.pdf"))
            .env("SOHOA_TAMPERED_PDF", files_dir.join("ban-sao-bi-sua.pdf"))
            .env("SOHOA_BIRTH_NOTICE", files_dir.join("giay-chung-sinh.png"))
            .env("SOHOA_APPLICATION_FORM", form)
            .env("SOHOA_VICE_TOKEN", vice_token)
            .env("SOHOA_CHAIRMAN_TOKEN", chairman_token)
            .env("SOHOA_RESULT", result_id)
            .env("SOHOA_TOKEN_CERT", demo_pki().join("official2.pem"))
            .env("SOHOA_TOKEN_KEY", demo_pki().join("official2.key"))
            .env("SOHOA_CHROMIUM", chromium)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let out = String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    println!("{out}");
    assert!(run.status.success(), "the browser flows failed:\n{out}");
    for shot in [
        "dang-nhap",
        "trang-chu",
        "tra-cuu",
        "tiep-nhan",
        "ho-so",
        "ho-so-truong",
        "ban-ghi",
        "chi-so",
        "hang-doi",
        "may-xu-ly",
        "chi-so-van-hanh",
        "ma-truy-cap",
        "nhat-ky",
        "xac-minh-hop-le",
        "xac-minh-bi-sua",
        "ky-so",
        "ky-so-ket-qua",
        "ky-so-da-ky",
        "xac-minh-ma",
    ] {
        assert!(shots.join(format!("{shot}.png")).is_file(), "no screenshot {shot}.png");
    }

    // the result was signed where each official placed the box: the vice-chairman dragged hers
    // to the left half of the page, the chairman moved his up with the arrow keys
    let (status, issued) = app.get_json(&chairman, &format!("/results/{result}")).await;
    assert_eq!((status, issued["status"].as_str(), issued["signatures"].as_u64()), (200, Some("issued"), Some(2)), "{issued}");
    let pdf = app.get(&chairman, &format!("/results/{result}/content")).await.bytes().await.unwrap();
    let rects = signature_rects(&pdf);
    assert_eq!(rects.len(), 2, "{rects:?}");
    let (default_x, default_y) = (595.0 - 56.0 - 230.0, 56.0);
    assert!(rects[0][0] < default_x - 150.0 && rects[0][1] > default_y + 40.0, "the dragged box: {rects:?}");
    assert!((rects[1][0] - (default_x - 10.0)).abs() < 1.0 && (rects[1][1] - (default_y + 80.0)).abs() < 1.0, "the moved box: {rects:?}");

    // `sohoa stats 766 --json` reads the same figures from the index as the dashboard's API
    let month = sohoa::domain::indicators::Month::of_ms(chrono::Utc::now().timestamp_millis()).to_string();
    let (status, api) = app.get_json(app.token(Role::Admin), &format!("/stats/766?month={month}")).await;
    assert_eq!(status, 200, "{api}");
    let cli = Command::new(env!("CARGO_BIN_EXE_sohoa"))
        .args(["stats", "766", "--month", &month, "--json"])
        .env("SOHOA_INDEX_URL", &app.config.index_url)
        .env("SOHOA_AGENCY", AGENCY)
        .output()
        .unwrap();
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(printed, api);
    assert_eq!(api["indicators"][3]["numerator"], 1, "{api}");
    let (status, _) = app.get_json(app.token(Role::Admin), "/stats/766?month=2026-13").await;
    assert_eq!(status, 400);
    app.stop().await;
}

/// The `[x1 y1 x2 y2]` of each signature field's widget, in the order they were signed.
fn signature_rects(pdf: &[u8]) -> Vec<[f32; 4]> {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let mut found: Vec<(String, [f32; 4])> = Vec::new();
    for object in doc.objects.values() {
        let Ok(dict) = object.as_dict() else { continue };
        if dict.get(b"FT").and_then(|f| f.as_name()).ok() != Some(b"Sig".as_slice()) {
            continue;
        }
        let Ok(rect) = dict.get(b"Rect").and_then(|r| r.as_array()) else { continue };
        let v: Vec<f32> = rect.iter().filter_map(|n| n.as_float().ok()).collect();
        let name = dict.get(b"T").and_then(|t| t.as_str()).map(|t| String::from_utf8_lossy(t).into_owned()).unwrap_or_default();
        if let Ok(r) = <[f32; 4]>::try_from(v) {
            found.push((name, r));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found.into_iter().map(|(_, r)| r).collect()
}
