//! Access transparency: every read of a record is logged with who, which agency, what and
//! why; a consumer reading a person's record names its purpose; the owner's reads are listed
//! by the API and by `sohoa access report`; `sohoa access verify` finds an edited entry.

use crate::common::*;
use serde_json::Value;
use sohoa::domain::Role;
use std::process::{Command, Output};

const OWNER: &str = "001186012345";

/// `sohoa ARGS` against the app's index, with its log key.
fn sohoa(app: &TestApp, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sohoa"))
        .args(args)
        .env("SOHOA_INDEX_URL", &app.config.index_url)
        .env("SOHOA_ARCHIVE_URL", &app.config.archive_url)
        .env("SOHOA_TLOG_KEY", &app.config.tlog_key)
        .env("SOHOA_AGENCY", AGENCY)
        .env("SOHOA_LOG", "warn")
        .output()
        .expect("run sohoa")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Another agency's consumer allowed this agency's birth certificates.
async fn other_agencys_consumer(app: &TestApp) -> String {
    use sohoa::domain::AgencyCode;
    use sohoa::index::Scope;
    let scope = Scope { agencies: vec![AGENCY.into()], doc_types: vec!["birth_certificate".into()], ..Scope::default() };
    let other = AgencyCode::parse(OTHER_AGENCY).unwrap();
    sohoa::api::issue_scoped_token(app.state.index.as_ref(), Role::Consumer, &other, "bảo hiểm xã hội", &scope).await.unwrap().1
}

#[tokio::test]
async fn a_consumer_reads_a_persons_record_only_for_a_purpose_and_the_owner_sees_who_read_it() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    archived_record(&app, "khaisinh", &code, "birth_certificate", "1990-05-01").await;
    let consumer = app.token(Role::Consumer);

    for path in ["/records/khaisinh", "/records/khaisinh/content", "/records/khaisinh/manifest", "/records/khaisinh/proof"] {
        assert_problem(app.get(consumer, path).await, 400, "purpose_required").await;
    }
    assert_problem(app.get(consumer, &format!("/records?owner={OWNER}")).await, 400, "purpose_required").await;
    assert_problem(app.get(consumer, "/records/khaisinh?purpose=curiosity").await, 400, "invalid_purpose").await;
    // a purpose does not open another agency's or an unknown record: still 404
    assert_problem(app.get(consumer, "/records/nope?purpose=1.001193").await, 404, "record_not_found").await;

    let (status, record) = app.get_json(consumer, "/records/khaisinh?purpose=1.001193").await;
    assert_eq!((status, record["id"].as_str()), (200, Some("khaisinh")), "{record}");
    let content = app.get(consumer, &format!("/records/khaisinh/content?purpose=dossier:{code}")).await;
    assert_eq!(content.status(), 200);
    let (status, found) = app.get_json(consumer, &format!("/records?owner={OWNER}&purpose=procedure:1.001193")).await;
    assert_eq!((status, found["records"].as_array().unwrap().len()), (200, 1), "{found}");
    // staff at the desk read without naming a purpose
    assert_eq!(app.get(app.token(Role::Scanner), "/records/khaisinh").await.status(), 200);
    let insurer = other_agencys_consumer(&app).await;
    assert_eq!(app.get(&insurer, "/records/khaisinh/proof?purpose=1.001193").await.status(), 200);

    let (status, listed) = app.get_json(app.token(Role::Scanner), &format!("/owners/{OWNER}/access")).await;
    assert_eq!(status, 200, "{listed}");
    let entries = listed["entries"].as_array().unwrap();
    let seen: Vec<(&str, &str, &str, Option<&str>)> = entries
        .iter()
        .map(|e| {
            (
                e["reader"]["agency"].as_str().unwrap(),
                e["reader"]["role"].as_str().unwrap(),
                e["read"].as_str().unwrap(),
                e["purpose"].as_str(),
            )
        })
        .collect();
    let dossier_purpose = format!("dossier:{code}");
    // newest first; refused reads left nothing
    assert_eq!(
        seen,
        [
            (OTHER_AGENCY, "consumer", "proof", Some("procedure:1.001193")),
            (AGENCY, "scanner", "metadata", None),
            (AGENCY, "consumer", "lookup", Some("procedure:1.001193")),
            (AGENCY, "consumer", "content", Some(dossier_purpose.as_str())),
            (AGENCY, "consumer", "metadata", Some("procedure:1.001193")),
        ],
        "{listed}"
    );
    assert_eq!(entries[0]["reader"]["label"], "bảo hiểm xã hội");
    assert_eq!(entries[0]["record"], "khaisinh");
    assert_eq!(entries[0]["record_agency"], AGENCY);
    assert!(entries[0]["at"].as_str().unwrap().ends_with("+07:00"));
    assert!(entries.iter().all(|e| e["request_id"].as_str().is_some_and(|r| !r.is_empty())));
    let (_, page) = app.get_json(app.token(Role::Admin), &format!("/owners/{OWNER}/access?limit=2")).await;
    let cursor = page["next_cursor"].as_u64().unwrap();
    let (_, rest) = app.get_json(app.token(Role::Admin), &format!("/owners/{OWNER}/access?cursor={cursor}")).await;
    assert_eq!(rest["entries"].as_array().unwrap().len(), 3, "{rest}");

    // the other agency holds no record of this owner: it sees no reads
    let (status, theirs) = app.get_json(&app.other_scanner, &format!("/owners/{OWNER}/access")).await;
    assert_eq!((status, theirs["entries"].as_array().unwrap().len()), (200, 0), "{theirs}");
    assert_problem(app.get(consumer, &format!("/owners/{OWNER}/access")).await, 403, "forbidden_role").await;
    assert_problem(app.get(app.token(Role::Scanner), "/owners/nobody/access").await, 400, "invalid_owner").await;

    // the command line lists the same reads
    let out = sohoa(&app, &["access", "report", "--owner", OWNER, "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["entries"], listed["entries"]);
    let out = sohoa(&app, &["access", "report", "--owner", OWNER]);
    let table = text(&out);
    assert!(out.status.success(), "{table}");
    assert!(table.contains("Reads of the records of 001186012345: 5"), "{table}");
    assert!(table.lines().any(|l| l.contains(OTHER_AGENCY) && l.contains("proof") && l.contains("procedure:1.001193")), "{table}");
    app.stop().await;
}

#[tokio::test]
async fn accepting_a_record_into_a_dossier_is_a_read_for_that_dossier() {
    let app = TestApp::spawn().await;
    let old = app.birth_dossier().await;
    archived_record(&app, "giaykethon", &old, "marriage_certificate", "2015-03-02").await;
    let scanner = app.token(Role::Scanner);
    let body =
        serde_json::json!({"procedure": "birth-registration", "applicant": {"kind": "citizen", "id": OWNER, "name": "Nguyễn Văn Ba"}});
    let code = app.create_dossier(scanner, body).await.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned();
    let path = format!("/dossiers/{code}/components/parents_marriage_certificate/reuse");
    let (status, reused) = app.post_json(scanner, &path, serde_json::json!({"record": "giaykethon"})).await;
    assert_eq!(status, 200, "{reused}");
    let (_, listed) = app.get_json(scanner, &format!("/owners/{OWNER}/access")).await;
    let entry = &listed["entries"][0];
    assert_eq!((entry["read"].as_str(), entry["record"].as_str()), (Some("reuse"), Some("giaykethon")), "{listed}");
    assert_eq!(entry["purpose"], format!("dossier:{code}"));
    app.stop().await;
}

#[tokio::test]
async fn an_access_log_entry_edited_in_the_database_is_found_by_access_verify() {
    let app = TestApp::spawn().await;
    let code = app.birth_dossier().await;
    archived_record(&app, "khaisinh", &code, "birth_certificate", "1990-05-01").await;
    let consumer = app.token(Role::Consumer);
    for purpose in ["1.001193", "2.000488", "1.001193"] {
        assert_eq!(app.get(consumer, &format!("/records/khaisinh?purpose={purpose}")).await.status(), 200);
    }
    let checkpoint = app.get(consumer, "/access/checkpoint").await.text().await.unwrap();
    assert!(checkpoint.starts_with(&format!("sohoa.example/{AGENCY}/access\n3\n")), "{checkpoint}");
    let file = app.dir.path().join("access-checkpoint.txt");
    std::fs::write(&file, &checkpoint).unwrap();
    let checkpoint_arg = file.to_str().unwrap();
    let (status, proof) = app.get_json(consumer, "/access/consistency?from=1&to=3").await;
    assert_eq!((status, proof["hashes"].as_array().map(Vec::len)), (200, Some(2)), "{proof}");

    let out = sohoa(&app, &["access", "verify", "--checkpoint", checkpoint_arg]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("ok checkpoint: sohoa.example/000.00.31.H29/access at size 3"), "{}", text(&out));
    // the records' log key does not sign the access log
    let pem = std::fs::read(&app.config.tlog_key).unwrap();
    let records_key = sohoa::tlog::SignerKey::from_pkcs8(&format!("sohoa.example/{AGENCY}"), &pem).unwrap().verifier().to_string();
    let out = sohoa(&app, &["access", "verify", "--checkpoint", checkpoint_arg, "--key", &records_key]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // someone hides why the second read was made
    sql_execute(&app.config.index_url, "UPDATE access_log SET purpose = 'procedure:1.001193' WHERE seq = 1").await;
    let out = sohoa(&app, &["access", "verify", "--checkpoint", checkpoint_arg]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("FAILED entry 1 (metadata of record khaisinh) does not hash to its leaf"), "{said}");
    assert!(said.contains("do not hash to the checkpoint's root"), "{said}");
    // without a checkpoint the stored tree still gives the edit away
    let out = sohoa(&app, &["access", "verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // and removing the last entry with its leaf is found against the checkpoint
    sql_execute(&app.config.index_url, "UPDATE access_log SET purpose = 'procedure:2.000488' WHERE seq = 1").await;
    sql_execute(&app.config.index_url, "DELETE FROM access_log WHERE seq = 2").await;
    sql_execute(&app.config.index_url, "DELETE FROM access_nodes WHERE level = 0 AND idx = 2").await;
    let out = sohoa(&app, &["access", "verify", "--checkpoint", checkpoint_arg]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("entries were removed"), "{}", text(&out));
    app.stop().await;
}
