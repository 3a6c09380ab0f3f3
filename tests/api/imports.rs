//! `POST /imports` and `GET /imports/{id}`: a back-file batch posted by the desk, stored whole,
//! imported in the background by the replica holding the imports lease, and looked up.

use crate::common::*;
use image::{GrayImage, ImageFormat, Luma};
use serde_json::Value;
use sohoa::domain::Role;
use std::io::Cursor;
use std::time::{Duration, Instant};

/// A page of `seed`'s own grey pattern: distinct seeds give distinct pages.
fn page(seed: u32) -> Vec<u8> {
    let img = GrayImage::from_fn(240, 320, |x, y| Luma([((x * 13 + y * 7 + seed * 31) % 251) as u8]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// One part of a multipart body: its field name, its file name, its content.
type Part<'a> = (&'a str, Option<&'a str>, Vec<u8>);

/// A `multipart/form-data` body as a browser's form sends it, file names as given.
fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "sohoa-test-boundary-7d2f";
    let mut body = Vec::new();
    for (name, file, content) in parts {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"").into_bytes());
        if let Some(file) = file {
            body.extend(format!("; filename=\"{file}\"\r\nContent-Type: application/octet-stream").into_bytes());
        }
        body.extend(b"\r\n\r\n");
        body.extend(content);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").into_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_batch(app: &TestApp, token: &str, parts: &[Part<'_>]) -> reqwest::Response {
    let (media, body) = multipart(parts);
    app.http.post(app.url("/imports")).bearer_auth(token).header("content-type", media).body(body).send().await.unwrap()
}

/// The batch once it is no longer running.
async fn wait_until_ended(app: &TestApp, id: &str) -> Value {
    let started = Instant::now();
    loop {
        let (status, batch) = app.get_json(app.token(Role::Scanner), &format!("/imports/{id}")).await;
        assert_eq!(status, 200, "{batch}");
        if batch["state"] != "running" {
            return batch;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "batch {id} still running: {batch}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const SHEET: &str = "file,owner_id,doc_type,number,issue_date\n\
    p1.png,001090000001,birth_certificate,1/2009,2009-03-02\n\
    p2.png,001090000002,birth_certificate,2/2009,2009-03-03\n\
    p3.png,001090000003,birth_certificate,1/2009,2009-03-04\n\
    p1.png,001090000009,birth_certificate,9/2009,2009-03-05\n\
    p4.png,12345,birth_certificate,4/2009,2009-03-06\n";

fn batch_parts() -> Vec<Part<'static>> {
    let mut parts: Vec<Part<'static>> = vec![("sheet", Some("sheet.csv"), SHEET.as_bytes().to_vec())];
    for (seed, name) in [(1, "p1.png"), (2, "p2.png"), (3, "p3.png"), (4, "p4.png")] {
        parts.push(("files", Some(name), page(seed)));
    }
    parts
}

#[tokio::test]
async fn a_posted_batch_is_imported_in_the_background_with_duplicates_and_a_bad_row_reported() {
    let app = TestApp::spawn().await;
    let scanner = app.token(Role::Scanner);
    let response = post_batch(&app, scanner, &batch_parts()).await;
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let posted: Value = response.json().await.unwrap();
    let id = posted["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/imports/{id}"));
    assert_eq!((posted["agency"].as_str(), posted["by"].as_str()), (Some(AGENCY), Some("test")));
    assert_eq!(posted["files"].as_array().unwrap().len(), 4);

    let batch = wait_until_ended(&app, &id).await;
    assert_eq!(batch["state"], "done", "{batch}");
    let counts = &batch["counts"];
    assert_eq!(
        (counts["imported"].as_u64(), counts["duplicates"].as_u64(), counts["flagged"].as_u64(), counts["failed"].as_u64()),
        (Some(2), Some(2), Some(0), Some(1)),
        "{batch}"
    );
    // the report is the one `sohoa import --report` writes, a document a line of the sheet
    let documents = batch["report"]["documents"].as_array().unwrap();
    let reason = |line: u64| {
        let d = documents.iter().find(|d| d["line"] == line).unwrap();
        format!("{} {}", d["outcome"].as_str().unwrap(), d["reason"].as_str().unwrap_or_default())
    };
    assert!(reason(4).starts_with("duplicate same_number: line 2"), "{}", reason(4));
    assert!(reason(5).starts_with("duplicate same_content: line 2"), "{}", reason(5));
    assert!(reason(6).starts_with("failed owner_id_invalid"), "{}", reason(6));
    assert_eq!(batch["report"]["batch"], id.as_str());

    // the records are found by the reuse lookup, sealed back-file records digitized by the poster
    for owner in ["001090000001", "001090000002"] {
        let (status, found) = app.get_json(scanner, &format!("/records?owner={owner}")).await;
        assert_eq!(status, 200);
        let records = found["records"].as_array().unwrap();
        assert_eq!(records.len(), 1, "{found}");
        assert_eq!((records[0]["kind"].as_str(), records[0]["doc_type"].as_str()), (Some("backfile"), Some("birth_certificate")));
    }
    let (_, none) = app.get_json(scanner, "/records?owner=001090000003").await;
    assert_eq!(none["records"], serde_json::json!([]), "a duplicate became a record");
    let records = sql_count(&app.config.index_url, "SELECT COUNT(*) FROM records").await;
    assert_eq!(records, 2);

    // posted again: the same batch, nothing imported twice
    let again = post_batch(&app, scanner, &batch_parts()).await;
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(
        (again["id"].as_str(), again["state"].as_str(), again["restarted"].as_bool()),
        (Some(id.as_str()), Some("done"), Some(false))
    );
    assert_eq!(sql_count(&app.config.index_url, "SELECT COUNT(*) FROM import_batches").await, 1);
    assert_eq!(sql_count(&app.config.index_url, "SELECT COUNT(*) FROM records").await, 2);

    // another agency's caller meets it as a missing batch; a consumer may neither post nor read
    let (status, body) = app.get_json(&app.other_scanner, &format!("/imports/{id}")).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("import_not_found")));
    assert_problem(post_batch(&app, app.token(Role::Consumer), &batch_parts()).await, 403, "forbidden_role").await;
    let (status, body) = app.get_json(app.token(Role::Consumer), &format!("/imports/{id}")).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden_role")));
    app.stop().await;
}

#[tokio::test]
async fn an_oversized_path_named_or_foreign_batch_is_refused_with_nothing_stored() {
    let app = TestApp::spawn_with(|c| {
        c.max_upload_bytes = 200_000;
        c.max_import_bytes = 300_000;
        c.max_import_files = 3;
    })
    .await;
    let scanner = app.token(Role::Scanner);
    let before = app.footprint().await;
    let sheet = || ("sheet", Some("sheet.csv"), b"file,owner_id,doc_type\np1.png,001090000001,birth_certificate\n".to_vec());
    let refusals: Vec<(Vec<Part<'_>>, u16, &str)> = vec![
        (vec![sheet(), ("files", Some("../p1.png"), page(1))], 422, "file_name_invalid"),
        (vec![sheet(), ("files", Some("p1.png"), page(1)), ("files", Some("scans/p2.png"), page(2))], 422, "file_name_invalid"),
        (vec![("files", Some("p1.png"), page(1)), ("files", Some("big.png"), vec![7; 200_001])], 413, "file_too_large"),
        (vec![("files", Some("a.png"), vec![7; 150_000]), ("files", Some("b.png"), vec![7; 151_000])], 413, "batch_too_large"),
        (
            vec![
                ("files", Some("a.png"), page(1)),
                ("files", Some("b.png"), page(2)),
                ("files", Some("c.png"), page(3)),
                ("files", Some("d.png"), page(4)),
            ],
            413,
            "too_many_files",
        ),
        (vec![("files", Some("notes.txt"), b"hello".to_vec())], 422, "file_type_unsupported"),
        (vec![("files", Some("p1.png"), page(1)), ("files", Some("p1.png"), page(2))], 422, "file_name_repeated"),
        (vec![("files", Some("p1.png"), page(1)), ("agency", None, OTHER_AGENCY.as_bytes().to_vec())], 403, "agency_not_own"),
        (
            vec![("sheet", Some("s.csv"), b"owner_id\n001090000001\n".to_vec()), ("files", Some("p1.png"), page(1))],
            422,
            "sheet_no_file_column",
        ),
        (vec![sheet()], 422, "batch_empty"),
    ];
    for (parts, status, code) in refusals {
        assert_problem(post_batch(&app, scanner, &parts).await, status, code).await;
    }
    let json = app.http.post(app.url("/imports")).bearer_auth(scanner).json(&serde_json::json!({"files": []})).send().await.unwrap();
    assert_problem(json, 415, "unsupported_media_type").await;

    assert_eq!(app.footprint().await, before, "a refused batch wrote something");
    assert_eq!(sql_count(&app.config.index_url, "SELECT COUNT(*) FROM import_batches").await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_batch_left_running_by_a_replica_that_died_is_run_by_the_replica_that_takes_over() {
    // a lease of a second, renewed every third of it, so that the takeover is seen within seconds
    let app = TestApp::spawn_with(|c| c.duty_lease_seconds = 1).await;
    // another replica takes the imports lease, and dies holding it
    let now = chrono::Utc::now().timestamp_millis();
    let taken = format!(
        "INSERT INTO leases (name, holder, acquired_at, expires_at) VALUES ('imports', 'dead-replica', {now}, {}) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at",
        now + 4_000
    );
    sql_execute(&app.config.index_url, &taken).await;
    // this replica finds out at its next renewal
    tokio::time::sleep(Duration::from_millis(700)).await;
    let parts = vec![
        ("sheet", Some("sheet.csv"), b"file,owner_id,doc_type,number\np7.png,001090000007,birth_certificate,7/2009\n".to_vec()),
        ("files", Some("p7.png"), page(7)),
    ];
    let response = post_batch(&app, app.token(Role::Scanner), &parts).await;
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (_, waiting) = app.get_json(app.token(Role::Scanner), &format!("/imports/{id}")).await;
    assert_eq!((waiting["state"].as_str(), waiting["counts"]["imported"].as_u64()), (Some("running"), Some(0)), "{waiting}");

    // its lease runs out: this replica takes the duty and runs what was left running
    let batch = wait_until_ended(&app, &id).await;
    assert_eq!((batch["state"].as_str(), batch["counts"]["imported"].as_u64()), (Some("done"), Some(1)), "{batch}");
    let lease = app.state.index.lease("imports").await.unwrap().unwrap();
    assert_ne!(lease.holder, "dead-replica");
    let (_, found) = app.get_json(app.token(Role::Scanner), "/records?owner=001090000007").await;
    assert_eq!(found["records"].as_array().unwrap().len(), 1, "{found}");
    app.stop().await;
}
