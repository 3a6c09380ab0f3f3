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

    let app = TestApp::spawn_with(|c| c.workers = 1).await;
    let code = app.birth_dossier().await;
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

    let base = app.base.clone();
    let (scanner, operator, admin) =
        (app.token(Role::Scanner).to_owned(), app.token(Role::Operator).to_owned(), app.token(Role::Admin).to_owned());
    let (files_dir, shots_dir) = (files.path().to_owned(), shots.clone());
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
            .env("SOHOA_CHROMIUM", chromium)
            .output()
            .expect("node runs")
    })
    .await
    .unwrap();
    let out = String::from_utf8_lossy(&run.stdout).into_owned() + &String::from_utf8_lossy(&run.stderr);
    println!("{out}");
    assert!(run.status.success(), "the browser flows failed:\n{out}");
    for shot in
        ["dang-nhap", "trang-chu", "tra-cuu", "tiep-nhan", "ho-so", "ban-ghi", "chi-so", "hang-doi", "xac-minh-hop-le", "xac-minh-bi-sua"]
    {
        assert!(shots.join(format!("{shot}.png")).is_file(), "no screenshot {shot}.png");
    }

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
