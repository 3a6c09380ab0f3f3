//! Index conformance suite: every test runs against each backend `index::open` knows:
//! SQLite (a real file in a temp dir) and PostgreSQL (a database of its own on the server
//! `SOHOA_TEST_POSTGRES_URL` names; `make test` starts one). Without that variable the
//! PostgreSQL half is left out and each test says so on stderr. `SOHOA_TEST_ENGINES`
//! (`sqlite`, `postgres`, or both comma-separated) runs the named engines only.

use chrono::NaiveDate;
use sohoa::domain::{AgencyCode, ComponentStatus, Digest, DossierCode, DossierStatus, Role, ScanEvent, ScanStatus};
use sohoa::index::{
    self, Actor, Applicant, AuditEntry, AuditFilter, ComponentCheck, Finish, Index, IndexError, NewDossier, NewRecord, NewScan,
    RecordCursor, RecordFilter,
};
use sohoa::queue::{Failure, JobKind, JobState, RetryPolicy};
use sohoa::service::jobs;
use sohoa::tlog;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

#[path = "common/postgres.rs"]
mod postgres;

const DAY: i64 = 86_400_000;

/// What keeps a test's database alive: SQLite's temp dir, PostgreSQL's scratch database.
type Keep = Box<dyn std::any::Any + Send>;

/// A database of each engine the run covers, empty, with what keeps it.
async fn databases() -> Vec<(&'static str, String, Keep)> {
    let wanted = std::env::var("SOHOA_TEST_ENGINES").unwrap_or_else(|_| "sqlite,postgres".into());
    let wants = |engine: &str| wanted.split(',').any(|w| w.trim() == engine);
    let mut out = Vec::new();
    if wants("sqlite") {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("index.db").display());
        out.push(("sqlite", url, Box::new(dir) as Keep));
    }
    if wants("postgres") {
        match postgres::server() {
            Some(server) => {
                let scratch = postgres::scratch_database(&server).await;
                out.push(("postgres", scratch.url.clone(), Box::new(scratch) as Keep));
            }
            None if std::env::var("SOHOA_TEST_ENGINES").is_ok() => {
                panic!("SOHOA_TEST_ENGINES asks for postgres but SOHOA_TEST_POSTGRES_URL is not set")
            }
            None => warn_sqlite_only(),
        }
    }
    out
}

/// Says once per run, past the test harness's capture of `eprintln!`, that PostgreSQL was
/// left out: a run without it must not look like a run on both engines.
fn warn_sqlite_only() {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        use std::io::Write;
        let text = "\nWARNING: SOHOA_TEST_POSTGRES_URL is not set: tests/index.rs ran on SQLite only, NOT on PostgreSQL \
                    (scripts/postgres-start.sh starts a server and prints the variable)\n";
        std::io::stderr().write_all(text.as_bytes()).ok();
    });
}

/// Each engine's index, opened on an empty database.
async fn backends() -> Vec<(String, Arc<dyn Index>, Keep)> {
    let mut out = Vec::new();
    for (name, url, dir) in databases().await {
        out.push((name.to_owned(), index::open(&url).await.unwrap(), dir));
    }
    out
}

fn agency(code: &str) -> AgencyCode {
    AgencyCode::parse(code).unwrap()
}

fn audit(action: &'static str, target: &str) -> AuditEntry {
    AuditEntry {
        actor: Actor { id: "token:1".into(), role: "scanner".into(), agency: "000.00.31.H29".into(), request_id: "req-1".into() },
        action,
        target: target.into(),
        detail: serde_json::json!({}),
    }
}

fn policy(max_attempts: u32) -> RetryPolicy {
    RetryPolicy { base: Duration::from_secs(5), max_attempts, lease: Duration::from_secs(60) }
}

fn new_dossier(agency_code: &str, day: NaiveDate) -> NewDossier {
    NewDossier {
        agency: agency(agency_code),
        day,
        procedure: "1.001193".into(),
        applicant: Applicant { kind: "citizen".into(), id: "001204012345".into(), name: "Nguyễn Văn An".into() },
        received_at_ms: 1_790_000_000_000,
        due_at_ms: 1_790_000_000_000 + DAY,
        components: vec![
            ("application_form".into(), true),
            ("hospital_birth_notice".into(), true),
            ("parents_marriage_certificate".into(), false),
        ],
    }
}

async fn dossier_with_scan(index: &dyn Index, key: Option<&str>) -> (DossierCode, i64) {
    let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let code = index.create_dossier(new_dossier("000.00.31.H29", day), audit("dossier.create", "d")).await.unwrap();
    let scan = new_scan(&code, b"page", key);
    let scan = index.create_scan(scan, JobKind::Ocr, policy(3), audit("scan.create", "s")).await.unwrap();
    (code, scan.job)
}

fn new_scan(code: &DossierCode, bytes: &[u8], key: Option<&str>) -> NewScan {
    NewScan {
        dossier: code.clone(),
        component: "hospital_birth_notice".into(),
        digest: Digest::of(bytes),
        media_type: "image/png".into(),
        size: bytes.len() as u64,
        pages: 1,
        idempotency_key: key.map(str::to_owned),
        quality: None,
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[tokio::test]
async fn dossier_codes_count_per_agency_per_day_under_concurrency() {
    for (name, index, _dir) in backends().await {
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let mut tasks = Vec::new();
        for i in 0..24 {
            let index = index.clone();
            let code = if i % 3 == 0 { "000.00.31.H01" } else { "000.00.31.H29" };
            tasks.push(tokio::spawn(async move { index.create_dossier(new_dossier(code, day), audit("dossier.create", "d")).await }));
        }
        let mut codes: Vec<String> = Vec::new();
        for t in tasks {
            codes.push(t.await.unwrap().unwrap().as_str().to_owned());
        }
        codes.sort();
        let h01: Vec<_> = codes.iter().filter(|c| c.starts_with("000.00.31.H01")).collect();
        let h29: Vec<_> = codes.iter().filter(|c| c.starts_with("000.00.31.H29")).collect();
        assert_eq!(h01.len(), 8, "{name}");
        assert_eq!(h01.first().unwrap().as_str(), "000.00.31.H01-261124-0001", "{name}");
        assert_eq!(h01.last().unwrap().as_str(), "000.00.31.H01-261124-0008", "{name}");
        assert_eq!(h29.last().unwrap().as_str(), "000.00.31.H29-261124-0016", "{name}");
        let next_day =
            index.create_dossier(new_dossier("000.00.31.H29", day.succ_opt().unwrap()), audit("dossier.create", "d")).await.unwrap();
        assert_eq!(next_day.as_str(), "000.00.31.H29-261125-0001", "{name}: the sequence restarts each day");
    }
}

#[tokio::test]
async fn dossier_round_trips_with_checklist_and_audit() {
    for (name, index, _dir) in backends().await {
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let code = index.create_dossier(new_dossier("000.00.31.H29", day), audit("dossier.create", "")).await.unwrap();
        let d = index.dossier(&code).await.unwrap().expect("stored");
        assert_eq!(d.applicant.name, "Nguyễn Văn An", "{name}");
        let checklist: Vec<_> = d.components.iter().map(|c| (c.component.as_str(), c.required, c.status.as_str())).collect();
        assert_eq!(
            checklist,
            [
                ("application_form", true, "missing"),
                ("hospital_birth_notice", true, "missing"),
                ("parents_marriage_certificate", false, "missing")
            ],
            "{name}"
        );
        let log = index.audit_log(None, Some(code.as_str()), 10).await.unwrap();
        assert_eq!(log.len(), 1, "{name}: the audit entry names the allocated code");
        assert_eq!((log[0].action.as_str(), log[0].request_id.as_str()), ("dossier.create", "req-1"), "{name}");
        let missing = DossierCode::parse("000.00.31.H29-261124-9999").unwrap();
        assert!(index.dossier(&missing).await.unwrap().is_none(), "{name}");
    }
}

#[tokio::test]
async fn tokens_are_found_by_hash_until_revoked() {
    for (name, index, _dir) in backends().await {
        let id = index
            .create_token(Role::Signer, &agency("000.00.31.H29"), "demo", &Default::default(), "ab".repeat(32).as_str())
            .await
            .unwrap();
        let found = index.token_by_hash(&"ab".repeat(32)).await.unwrap().expect("found");
        assert_eq!((found.id, found.role, found.agency.as_str()), (id, Role::Signer, "000.00.31.H29"), "{name}");
        assert!(index.token_by_hash(&"cd".repeat(32)).await.unwrap().is_none(), "{name}");
        index.revoke_token(id).await.unwrap();
        assert!(index.token_by_hash(&"ab".repeat(32)).await.unwrap().is_none(), "{name}: revoked");
    }
}

#[tokio::test]
async fn an_agencys_tokens_are_listed_revoked_within_it_and_audited() {
    for (name, index, _dir) in backends().await {
        let (home, other) = (agency("000.00.31.H29"), agency("000.00.09.H29"));
        let scope = Default::default();
        let worker =
            index.create_token_audited(Role::Worker, &home, "may-1", &scope, &"a1".repeat(32), audit("token.create", "")).await.unwrap();
        let theirs = index.create_token(Role::Scanner, &other, "", &scope, &"b2".repeat(32)).await.unwrap();
        let listed = index.list_tokens(Some(&home), None).await.unwrap();
        assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), [worker], "{name}");
        assert_eq!(listed[0].last_seen_at_ms, None, "{name}");
        index.touch_token(worker, 1_700_000_000_000).await.unwrap();
        let workers = index.list_tokens(None, Some(Role::Worker)).await.unwrap();
        assert_eq!((workers.len(), workers[0].last_seen_at_ms), (1, Some(1_700_000_000_000)), "{name}");
        assert_eq!(index.list_tokens(None, None).await.unwrap().len(), 2, "{name}");

        // another agency's token is not this agency's to revoke
        assert!(index.revoke_agency_token(theirs, &home, audit("token.revoke", "")).await.unwrap().is_none(), "{name}");
        assert!(index.token_by_hash(&"b2".repeat(32)).await.unwrap().is_some(), "{name}");
        let revoked = index.revoke_agency_token(worker, &home, audit("token.revoke", "")).await.unwrap().expect("revoked");
        let first = revoked.revoked_at_ms.expect("a revocation time");
        let again = index.revoke_agency_token(worker, &home, audit("token.revoke", "")).await.unwrap().unwrap();
        assert_eq!(again.revoked_at_ms, Some(first), "{name}: revoking twice keeps the first time");
        assert!(index.token_by_hash(&"a1".repeat(32)).await.unwrap().is_none(), "{name}");

        let target = format!("token:{worker}");
        let filter = |action: Option<&str>| AuditFilter {
            target: Some(target.clone()),
            action: action.map(str::to_owned),
            limit: 10,
            ..Default::default()
        };
        let entries = index.search_audit(&filter(None)).await.unwrap();
        let actions: Vec<_> = entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["token.revoke", "token.create"], "{name}: one entry per change, newest first");
        assert_eq!(index.search_audit(&filter(Some("token"))).await.unwrap().len(), 2, "{name}");
        assert_eq!(index.search_audit(&filter(Some("token.create"))).await.unwrap().len(), 1, "{name}");
        assert_eq!(index.search_audit(&filter(Some("toke"))).await.unwrap().len(), 0, "{name}");
        let later = AuditFilter { from_ms: Some(now_ms() + 60_000), ..filter(None) };
        assert!(index.search_audit(&later).await.unwrap().is_empty(), "{name}");
        let other_agency = AuditFilter { agency: Some(other.clone()), ..filter(None) };
        assert!(index.search_audit(&other_agency).await.unwrap().is_empty(), "{name}");
    }
}

#[tokio::test]
async fn records_are_found_by_their_contents_digest() {
    for (name, index, _dir) in backends().await {
        let (code, job) = dossier_with_scan(index.as_ref(), None).await;
        let scan = index.job(job).await.unwrap().unwrap().payload["scan"].as_i64().unwrap();
        let record = index
            .create_record(
                new_record("r-content", &code, Some(scan), "001204012345", (None, None)),
                ComponentCheck::satisfied(),
                audit("record.create", ""),
            )
            .await
            .unwrap();
        let found = index.records_with_content(&Digest::of(b"r-content")).await.unwrap();
        assert_eq!(found.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [record.id.as_str()], "{name}");
        assert!(found[0].log_index.is_some(), "{name}");
        assert!(index.records_with_content(&Digest::of(b"something else")).await.unwrap().is_empty(), "{name}");
    }
}

#[tokio::test]
async fn scan_queues_one_job_and_its_idempotency_key_is_unique() {
    for (name, index, _dir) in backends().await {
        let (code, job) = dossier_with_scan(index.as_ref(), Some("000.00.31.H29:k1")).await;
        let d = index.dossier(&code).await.unwrap().unwrap();
        assert_eq!(d.components[1].status, ComponentStatus::Pending, "{name}");
        assert_eq!(index.job(job).await.unwrap().unwrap().state, JobState::Queued, "{name}");
        let again = index
            .create_scan(new_scan(&code, b"other", Some("000.00.31.H29:k1")), JobKind::Ocr, policy(3), audit("scan.create", "s"))
            .await;
        assert!(matches!(again, Err(IndexError::Conflict)), "{name}: {again:?}");
        assert_eq!(index.jobs_in_state(JobState::Queued, None, 10).await.unwrap().len(), 1, "{name}: the refused scan queued nothing");
        assert_eq!(index.scan_by_idempotency_key("000.00.31.H29:k1").await.unwrap().unwrap().job, job, "{name}");
    }
}

#[tokio::test]
async fn concurrent_claims_hand_a_job_to_exactly_one_worker() {
    for (name, index, _dir) in backends().await {
        dossier_with_scan(index.as_ref(), None).await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let index = index.clone();
            tasks.push(tokio::spawn(async move {
                jobs::claim(index.as_ref(), &[JobKind::Ocr], None, &format!("lease-{i}"), 60_000, now_ms()).await.unwrap()
            }));
        }
        let mut got = 0;
        for t in tasks {
            got += usize::from(t.await.unwrap().is_some());
        }
        assert_eq!(got, 1, "{name}");
    }
}

#[tokio::test]
async fn a_desk_scan_is_claimed_before_an_import_page_queued_earlier() {
    use sohoa::index::NewJob;
    use sohoa::queue::{ImportDocument, OcrPayload, Priority};
    for (name, index, _dir) in backends().await {
        let page = |line: u32| NewJob {
            kind: JobKind::Ocr,
            agency: agency("000.00.31.H29"),
            payload: serde_json::to_string(&OcrPayload {
                scan: None,
                import: Some(ImportDocument { batch: "b1".into(), line }),
                digest: Digest::of(format!("page {line}").as_bytes()),
                media_type: "application/pdf".into(),
                register: false,
            })
            .unwrap(),
            max_attempts: 3,
            key: format!("ocr:import:b1:{line}"),
            priority: Priority::Import,
        };
        let first = index.queue_job(page(2)).await.unwrap();
        assert_eq!(index.queue_job(page(2)).await.unwrap(), first, "{name}: the same page is queued once");
        let second = index.queue_job(page(3)).await.unwrap();
        let (_, desk) = dossier_with_scan(index.as_ref(), None).await;
        let claim = |lease: &'static str| {
            let index = index.clone();
            async move { jobs::claim(index.as_ref(), &[JobKind::Ocr], None, lease, 60_000, now_ms()).await.unwrap().map(|j| j.id) }
        };
        assert_eq!(claim("l1").await, Some(desk), "{name}: the desk's scan comes first");
        assert_eq!(claim("l2").await, Some(first), "{name}: then the import's pages, oldest first");
        assert_eq!(claim("l3").await, Some(second), "{name}");
        assert_eq!(claim("l4").await, None, "{name}");

        // An import page's result is kept on its job; no scan changes and nothing follows.
        let result = serde_json::json!({"pages": []});
        assert_eq!(jobs::complete(index.as_ref(), first, "l2", result.clone(), audit("job.complete", "")).await.unwrap(), Finish::Done);
        assert_eq!(index.job_result(first).await.unwrap(), Some(result), "{name}");
        assert_eq!(index.job_result(second).await.unwrap(), None, "{name}");
        assert!(jobs::claim(index.as_ref(), &[JobKind::Seal], None, "l5", 60_000, now_ms()).await.unwrap().is_none(), "{name}");
    }
}

#[tokio::test]
async fn an_expired_lease_returns_the_job_and_the_old_holder_is_refused() {
    for (name, index, _dir) in backends().await {
        let (code, job) = dossier_with_scan(index.as_ref(), None).await;
        let t0 = now_ms();
        let other = agency("000.00.09.H29");
        assert!(
            jobs::claim(index.as_ref(), &[JobKind::Ocr], Some(&other), "lease-x", 1_000, t0).await.unwrap().is_none(),
            "{name}: another agency's"
        );
        let first =
            jobs::claim(index.as_ref(), &[JobKind::Ocr], Some(&code.agency()), "lease-a", 1_000, t0).await.unwrap().expect("claimed");
        assert_eq!((first.id, &first.agency), (job, &code.agency()), "{name}");
        assert!(index.jobs_in_state(JobState::Running, Some(&other), 10).await.unwrap().is_empty(), "{name}");
        assert_eq!(index.jobs_in_state(JobState::Running, Some(&code.agency()), 10).await.unwrap().len(), 1, "{name}");
        assert!(
            jobs::claim(index.as_ref(), &[JobKind::Ocr], None, "lease-b", 1_000, t0 + 500).await.unwrap().is_none(),
            "{name}: lease still live"
        );
        assert!(!index.heartbeat(job, "lease-b", t0 + 5_000).await.unwrap(), "{name}: only the holder heartbeats");
        let second = jobs::claim(index.as_ref(), &[JobKind::Ocr], None, "lease-b", 60_000, t0 + 2_000)
            .await
            .unwrap()
            .expect("reclaimed after expiry");
        assert_eq!((second.id, second.attempts), (job, 2), "{name}");
        let stale = jobs::complete(index.as_ref(), job, "lease-a", serde_json::json!({"n": 1}), audit("job.complete", "j")).await.unwrap();
        assert_eq!(stale, Finish::NotLeaseHolder, "{name}");
        let done = jobs::complete(index.as_ref(), job, "lease-b", serde_json::json!({"n": 2}), audit("job.complete", "j")).await.unwrap();
        assert_eq!(done, Finish::Done, "{name}");
        let again = jobs::complete(index.as_ref(), job, "lease-b", serde_json::json!({"n": 2}), audit("job.complete", "j")).await.unwrap();
        assert_eq!(again, Finish::Done, "{name}: completing twice under the same lease is idempotent");
        let d = index.dossier(&code).await.unwrap().unwrap();
        assert_eq!(d.components[1].status, ComponentStatus::Digitized, "{name}");
    }
}

#[tokio::test]
async fn failures_back_off_then_die_and_requeue_restores_attempts() {
    for (name, index, _dir) in backends().await {
        let (code, job) = dossier_with_scan(index.as_ref(), None).await;
        let transient = Failure { code: "engine_busy".into(), message: "try later".into(), permanent: false };
        let far = now_ms() + DAY;
        for attempt in 1..=3 {
            let lease = format!("lease-{attempt}");
            let claimed = jobs::claim(index.as_ref(), &[JobKind::Ocr], None, &lease, 60_000, far * attempt)
                .await
                .unwrap()
                .expect("ready again after backoff");
            assert!(
                jobs::claim(index.as_ref(), &[JobKind::Ocr], None, "x", 60_000, now_ms()).await.unwrap().is_none(),
                "{name}: backoff not yet over"
            );
            assert_eq!(claimed.attempts, attempt as u32, "{name}");
            let finish = jobs::fail(index.as_ref(), job, &lease, &transient, policy(3), audit("job.fail", "j")).await.unwrap();
            assert_eq!(finish, if attempt < 3 { Finish::Retrying } else { Finish::Dead }, "{name}: attempt {attempt}");
        }
        let dead = index.jobs_in_state(JobState::Dead, None, 10).await.unwrap();
        assert_eq!(dead.iter().map(|j| j.id).collect::<Vec<_>>(), [job], "{name}");
        assert_eq!(dead[0].last_error.as_deref().map(|e| e.contains("engine_busy")), Some(true), "{name}");
        assert_eq!(index.dossier(&code).await.unwrap().unwrap().components[1].status, ComponentStatus::Failed, "{name}");
        assert!(jobs::requeue(index.as_ref(), job, audit("job.requeue", "j")).await.unwrap(), "{name}");
        let back = index.job(job).await.unwrap().unwrap();
        assert_eq!((back.state, back.attempts), (JobState::Queued, 0), "{name}");
        assert!(!jobs::requeue(index.as_ref(), job, audit("job.requeue", "j")).await.unwrap(), "{name}: only dead jobs requeue");
    }
}

#[tokio::test]
async fn a_permanent_failure_is_dead_at_once_with_its_code_on_the_scan() {
    for (name, index, _dir) in backends().await {
        let (code, job) = dossier_with_scan(index.as_ref(), None).await;
        jobs::claim(index.as_ref(), &[JobKind::Ocr], None, "lease", 60_000, now_ms()).await.unwrap().expect("claimed");
        let bad = Failure { code: "corrupt_image".into(), message: "truncated PNG".into(), permanent: true };
        assert_eq!(
            jobs::fail(index.as_ref(), job, "lease", &bad, policy(5), audit("job.fail", "j")).await.unwrap(),
            Finish::Dead,
            "{name}"
        );
        let d = index.dossier(&code).await.unwrap().unwrap();
        assert_eq!(d.components[1].status, ComponentStatus::Failed, "{name}");
        assert_eq!(d.scans[0].error_code.as_deref(), Some("corrupt_image"), "{name}");
    }
}

#[tokio::test]
async fn a_job_whose_holder_vanished_with_no_attempt_left_dies_at_the_next_claim() {
    for (name, index, _dir) in backends().await {
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let code = index.create_dossier(new_dossier("000.00.31.H29", day), audit("dossier.create", "d")).await.unwrap();
        let scan = index.create_scan(new_scan(&code, b"page", None), JobKind::Ocr, policy(1), audit("scan.create", "s")).await.unwrap();
        let t0 = now_ms();
        jobs::claim(index.as_ref(), &[JobKind::Ocr], None, "lease-a", 1_000, t0).await.unwrap().expect("claimed");
        let again = jobs::claim(index.as_ref(), &[JobKind::Ocr], None, "lease-b", 1_000, t0 + 2_000).await.unwrap();
        assert!(again.is_none(), "{name}: out of attempts, it is not handed out again");
        let dead = index.job(scan.job).await.unwrap().unwrap();
        assert_eq!(dead.state, JobState::Dead, "{name}");
        assert!(dead.last_error.as_deref().is_some_and(|e| e.starts_with("lease_expired")), "{name}: {:?}", dead.last_error);
        let d = index.dossier(&code).await.unwrap().unwrap();
        assert_eq!((d.scans[0].status, d.components[1].status), (ScanStatus::Failed, ComponentStatus::Failed), "{name}");
        assert_eq!(d.scans[0].error_code.as_deref(), Some("lease_expired"), "{name}");
    }
}

#[tokio::test]
async fn a_step_the_scan_state_does_not_allow_is_refused_and_changes_nothing() {
    for (name, index, _dir) in backends().await {
        let (code, _job) = dossier_with_scan(index.as_ref(), None).await;
        let scan = index.dossier(&code).await.unwrap().unwrap().scans[0].id;
        // a queued scan was never recognised: it cannot be left unsealed
        let mut step = jobs::scan_step(ScanEvent::LeftUnsealed, None, None);
        step.flags = Some(vec!["no_seal_key".into()]);
        let refused = index.step_scan(scan, step, audit("scan.unsealed", "")).await;
        assert!(matches!(refused, Err(IndexError::Refused { code: "illegal_transition", .. })), "{name}: {refused:?}");
        let d = index.dossier(&code).await.unwrap().unwrap();
        assert_eq!((d.scans[0].status, d.components[1].status), (ScanStatus::Queued, ComponentStatus::Pending), "{name}");
        assert!(d.components[1].flags.is_empty(), "{name}");
        assert!(index.audit_log(None, Some(&format!("scan:{scan}")), 10).await.unwrap().len() == 1, "{name}: only the upload's entry");
    }
}

fn new_record(id: &str, code: &DossierCode, scan: Option<i64>, owner: &str, valid: (Option<NaiveDate>, Option<NaiveDate>)) -> NewRecord {
    NewRecord {
        id: id.into(),
        kind: "digitized_copy",
        agency: agency("000.00.31.H29"),
        dossier: Some(code.clone()),
        component: Some("hospital_birth_notice".into()),
        scan,
        owner_id: Some(owner.into()),
        doc_type: "hospital_birth_notice".into(),
        number: None,
        issue_date: valid.0,
        valid_from: valid.0,
        valid_until: valid.1,
        digest: Digest::of(id.as_bytes()),
        size: 10,
        manifest_digest: Digest::of(format!("manifest {id}").as_bytes()),
        summary: serde_json::json!({"signatures": []}),
    }
}

#[tokio::test]
async fn records_are_one_per_scan_and_found_by_owner_type_validity_and_cursor() {
    for (name, index, _dir) in backends().await {
        let (code, job) = dossier_with_scan(index.as_ref(), None).await;
        let scan = index.job(job).await.unwrap().unwrap().payload["scan"].as_i64().unwrap();
        let satisfied = || ComponentCheck::satisfied();
        let first = index
            .create_record(new_record("r1", &code, Some(scan), "001204012345", (None, None)), satisfied(), audit("record.create", ""))
            .await
            .unwrap();
        // sealing the same scan again keeps the first record
        let again = index
            .create_record(new_record("r2", &code, Some(scan), "001204012345", (None, None)), satisfied(), audit("record.create", ""))
            .await
            .unwrap();
        assert_eq!(again.id, first.id, "{name}");
        assert!(index.record("r2").await.unwrap().is_none(), "{name}");
        let d = index.dossier(&code).await.unwrap().unwrap();
        let c = d.components.iter().find(|c| c.component == "hospital_birth_notice").unwrap();
        assert_eq!((c.status.as_str(), c.record.as_deref()), ("satisfied", Some("r1")), "{name}");
        assert_eq!(d.status, DossierStatus::Received, "{name}: the application form is still missing");
        assert_eq!(index.scan(scan).await.unwrap().unwrap().status, ScanStatus::Sealed, "{name}");

        let day = |d| NaiveDate::from_ymd_opt(2026, 1, d);
        let expired = (day(1), day(10));
        index.create_record(new_record("r3", &code, None, "001204012345", expired), satisfied(), audit("record.create", "")).await.unwrap();
        index
            .create_record(new_record("r4", &code, None, "079204000001", (None, None)), satisfied(), audit("record.create", ""))
            .await
            .unwrap();
        let ids = |rs: Vec<sohoa::index::Record>| rs.into_iter().map(|r| r.id).collect::<Vec<_>>();
        let filter =
            |owner: Option<&str>, valid_at| RecordFilter { owner_id: owner.map(str::to_owned), valid_at, limit: 10, ..Default::default() };
        assert_eq!(ids(index.find_records(&filter(Some("001204012345"), None)).await.unwrap()), ["r1", "r3"], "{name}");
        assert_eq!(ids(index.find_records(&filter(Some("001204012345"), day(20))).await.unwrap()), ["r1"], "{name}: r3 expired");
        assert_eq!(ids(index.find_records(&filter(Some("001204012345"), day(5))).await.unwrap()), ["r1", "r3"], "{name}");
        let other_agency = RecordFilter { agencies: vec![agency("000.00.09.H29")], limit: 10, ..Default::default() };
        assert!(index.find_records(&other_agency).await.unwrap().is_empty(), "{name}");
        // pages of one, following the cursor, visit every record once
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = index.find_records(&RecordFilter { after: after.clone(), limit: 1, ..Default::default() }).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(RecordCursor { created_at_ms: last.created_at_ms, id: last.id.clone() });
            seen.extend(ids(page));
        }
        seen.sort();
        assert_eq!(seen, ["r1", "r3", "r4"], "{name}");
    }
}

/// A dossier is read as of one moment: a scan shown sealed has its component checked beside it,
/// however the reads and the sealing interleave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dossier_read_while_its_scans_are_sealed_never_shows_a_sealed_scan_unchecked() {
    for (name, index, _dir) in backends().await {
        let mut dossiers = Vec::new();
        for _ in 0..200 {
            let (code, job) = dossier_with_scan(index.as_ref(), None).await;
            let scan = index.job(job).await.unwrap().unwrap().payload["scan"].as_i64().unwrap();
            dossiers.push((code, scan));
        }
        // the reader keeps to the dossier being sealed
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let sealing = {
            let (index, dossiers, next) = (index.clone(), dossiers.clone(), next.clone());
            tokio::spawn(async move {
                for (i, (code, scan)) in dossiers.iter().enumerate() {
                    next.store(i, std::sync::atomic::Ordering::SeqCst);
                    let record = new_record(&format!("t{i}"), code, Some(*scan), "001204012345", (None, None));
                    index.create_record(record, ComponentCheck::satisfied(), audit("record.create", "")).await.unwrap();
                }
            })
        };
        let (mut reads, mut sealed_seen) = (0, 0);
        while !sealing.is_finished() {
            let (code, _) = &dossiers[next.load(std::sync::atomic::Ordering::SeqCst)];
            let d = index.dossier(code).await.unwrap().unwrap();
            let c = d.components.iter().find(|c| c.component == "hospital_birth_notice").unwrap();
            if d.scans[0].status == ScanStatus::Sealed {
                sealed_seen += 1;
                assert!(c.record.is_some(), "{name}: scan sealed, component {:?} without its record ({reads} reads)", c.status);
            }
            reads += 1;
        }
        sealing.await.unwrap();
        assert!(sealed_seen > 0, "{name}: the reads never met a sealed scan");
    }
}

/// Every record's leaf, ordered by leaf index, against the index's stored tree.
async fn assert_tree_matches(name: &str, index: &dyn Index, mut records: Vec<sohoa::index::Record>) {
    records.sort_by_key(|r| r.log_index);
    let size = records.len() as u64;
    assert_eq!(records.iter().map(|r| r.log_index).collect::<Vec<_>>(), (0..size).map(Some).collect::<Vec<_>>(), "{name}");
    assert_eq!(index.tlog_size().await.unwrap(), size, "{name}");
    let log = tlog::MemoryLog::from_leaves(records.iter().map(|r| tlog::manifest_leaf_hash(&r.manifest_digest)));
    let nodes = index.tlog_nodes(&tlog::root_needs(size)).await.unwrap();
    assert_eq!(tlog::root(size, &nodes).unwrap(), log.root(), "{name}");
    for leaf in [0, size / 2, size - 1] {
        let nodes = index.tlog_nodes(&tlog::inclusion_needs(leaf, size).unwrap()).await.unwrap();
        assert_eq!(tlog::inclusion_proof(leaf, size, &nodes).unwrap(), log.inclusion_proof(leaf, size).unwrap(), "{name}");
    }
    let nodes = index.tlog_nodes(&tlog::consistency_needs(3, size).unwrap()).await.unwrap();
    assert_eq!(tlog::consistency_proof(3, size, &nodes).unwrap(), log.consistency_proof(3, size).unwrap(), "{name}");
}

#[tokio::test]
async fn each_record_takes_the_next_log_leaf_even_when_created_concurrently() {
    for (name, index, _dir) in backends().await {
        assert_eq!(index.tlog_size().await.unwrap(), 0, "{name}");
        let (code, job) = dossier_with_scan(index.as_ref(), None).await;
        let scan = index.job(job).await.unwrap().unwrap().payload["scan"].as_i64().unwrap();
        let satisfied = || ComponentCheck::satisfied();
        let creations = (0..12).map(|i| {
            let (index, code) = (index.clone(), code.clone());
            async move {
                let record = new_record(&format!("t{i}"), &code, None, "001204012345", (None, None));
                index.create_record(record, satisfied(), audit("record.create", "")).await.unwrap()
            }
        });
        let mut records = futures::future::join_all(creations).await;
        // sealing the same scan twice appends one leaf
        let sealed = index
            .create_record(new_record("s1", &code, Some(scan), "001204012345", (None, None)), satisfied(), audit("record.create", ""))
            .await
            .unwrap();
        let again = index
            .create_record(new_record("s2", &code, Some(scan), "001204012345", (None, None)), satisfied(), audit("record.create", ""))
            .await
            .unwrap();
        assert_eq!(again.log_index, sealed.log_index, "{name}");
        records.push(sealed);
        assert_tree_matches(&name, index.as_ref(), records).await;
    }
}

/// Records arriving together are committed together; one that is refused (its id taken)
/// leaves the others stored, each with its own leaf, in order.
#[tokio::test]
async fn a_refused_record_among_many_at_once_leaves_the_others_stored() {
    for (name, index, _dir) in backends().await {
        let (code, _) = dossier_with_scan(index.as_ref(), None).await;
        let satisfied = || ComponentCheck::satisfied();
        let ids: Vec<String> = (0..300).map(|i| if i == 150 { "g7".to_owned() } else { format!("g{i}") }).collect();
        let creations = ids.iter().map(|id| {
            let (index, code, id) = (index.clone(), code.clone(), id.clone());
            async move {
                let record = new_record(&id, &code, None, "001204012345", (None, None));
                index.create_record(record, satisfied(), audit("record.create", "")).await
            }
        });
        let answers = futures::future::join_all(creations).await;
        let refused: Vec<String> = answers.iter().filter_map(|a| a.as_ref().err().map(|e| e.to_string())).collect();
        assert_eq!(refused.len(), 1, "{name}: only the second g7 is refused: {refused:?}");
        let stored: Vec<sohoa::index::Record> = answers.into_iter().filter_map(Result::ok).collect();
        assert_eq!(stored.len(), 299, "{name}");
        for record in &stored {
            assert_eq!(index.record(&record.id).await.unwrap().as_ref().map(|r| r.log_index), Some(record.log_index), "{name}");
        }
        assert_tree_matches(&name, index.as_ref(), stored).await;
    }
}

/// Every record in the index, by pages of a thousand.
async fn all_records(index: &dyn Index) -> Vec<sohoa::index::Record> {
    let (mut all, mut after) = (Vec::new(), None);
    loop {
        let page = index.find_records(&RecordFilter { after: after.clone(), limit: 1000, ..Default::default() }).await.unwrap();
        let Some(last) = page.last() else { return all };
        after = Some(RecordCursor { created_at_ms: last.created_at_ms, id: last.id.clone() });
        all.extend(page);
    }
}

/// Many callers at once, their records committed in groups: each caller is answered with
/// its own record and leaf, the leaves have no gap, and leaf order is commit order (a later
/// leaf never has an earlier time). Two records for one scan in a group store the first,
/// and both callers are answered with it, as when they come one after another.
#[tokio::test]
async fn records_stored_at_once_are_committed_in_groups_each_caller_answered_with_its_own() {
    for (name, index, _dir) in backends().await {
        let (code, job) = dossier_with_scan(index.as_ref(), None).await;
        let scan = index.job(job).await.unwrap().unwrap().payload["scan"].as_i64().unwrap();
        let creations = (0..600).map(|i| {
            let (index, code) = (index.clone(), code.clone());
            tokio::spawn(async move {
                let id = format!("m{i}");
                // two of them name the same scan
                let sealed = if i == 200 || i == 201 { Some(scan) } else { None };
                let record = new_record(&id, &code, sealed, "001204012345", (None, None));
                (id, index.create_record(record, ComponentCheck::satisfied(), audit("record.create", "")).await.unwrap())
            })
        });
        let answers: Vec<(String, sohoa::index::Record)> =
            futures::future::join_all(creations).await.into_iter().map(Result::unwrap).collect();
        let scan_records: BTreeSet<String> = answers.iter().filter(|(_, r)| r.scan == Some(scan)).map(|(_, r)| r.id.clone()).collect();
        assert_eq!(scan_records.len(), 1, "{name}: one record for the scan: {scan_records:?}");
        let mut stored = Vec::new();
        for (asked, record) in answers {
            if record.scan == Some(scan) {
                assert!(["m200", "m201"].contains(&asked.as_str()), "{name}: {asked} got the scan's record");
            } else {
                assert_eq!(record.id, asked, "{name}: a caller got another's record");
            }
            let fetched = index.record(&record.id).await.unwrap().unwrap();
            assert_eq!((fetched.log_index, fetched.manifest_digest.clone()), (record.log_index, record.manifest_digest.clone()), "{name}");
            if !stored.iter().any(|r: &sohoa::index::Record| r.id == record.id) {
                stored.push(record);
            }
        }
        assert_eq!(stored.len(), 599, "{name}");
        assert_eq!(index.scan(scan).await.unwrap().unwrap().status, ScanStatus::Sealed, "{name}");
        stored.sort_by_key(|r| r.log_index);
        assert!(stored.windows(2).all(|w| w[0].created_at_ms <= w[1].created_at_ms), "{name}: leaves out of commit order");
        let audited = index.audit_log(None, None, 1000).await.unwrap().iter().filter(|a| a.action == "record.create").count();
        assert_eq!(audited, 599, "{name}: one audit entry per stored record");
        assert_tree_matches(&name, index.as_ref(), stored).await;
    }
}

/// A record whose failure is found only by writing it (it names a scan that does not exist)
/// fails its group's transaction; the group is stored again one record at a time, and only
/// that record fails.
#[tokio::test]
async fn a_record_failing_inside_a_group_fails_alone() {
    for (name, index, _dir) in backends().await {
        let (code, _) = dossier_with_scan(index.as_ref(), None).await;
        let creations = (0..200).map(|i| {
            let (index, code) = (index.clone(), code.clone());
            tokio::spawn(async move {
                let scan = if i == 100 { Some(999_999) } else { None };
                let record = new_record(&format!("f{i}"), &code, scan, "001204012345", (None, None));
                index.create_record(record, ComponentCheck::satisfied(), audit("record.create", "")).await
            })
        });
        let answers: Vec<_> = futures::future::join_all(creations).await.into_iter().map(Result::unwrap).collect();
        let failed: Vec<usize> = answers.iter().enumerate().filter(|(_, a)| a.is_err()).map(|(i, _)| i).collect();
        assert_eq!(failed, [100], "{name}");
        assert!(index.record("f100").await.unwrap().is_none(), "{name}");
        let stored: Vec<sohoa::index::Record> = answers.into_iter().filter_map(Result::ok).collect();
        assert_tree_matches(&name, index.as_ref(), stored).await;
    }
}

/// Set in the child process [`a_process_killed_while_storing_records_leaves_none_without_its_leaf`]
/// starts: the index it stores records into until it is killed.
const KILL_CHILD_INDEX: &str = "SOHOA_TEST_KILL_CHILD_INDEX";

/// `kill -9` of a process while its groups of records are being committed: after it, every
/// record stored has its leaf, every leaf its record, and the tree is the records' in leaf
/// order.
#[tokio::test]
async fn a_process_killed_while_storing_records_leaves_none_without_its_leaf() {
    use std::io::BufRead;
    for (name, url, _keep) in databases().await {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "store_records_until_killed", "--ignored", "--nocapture", "--test-threads=1"])
            .env(KILL_CHILD_INDEX, &url)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let stored_before_kill = tokio::task::spawn_blocking(move || {
            let mut lines = std::io::BufReader::new(stdout).lines();
            // well past the first groups, so that the kill lands among groups in flight
            let stored =
                lines.find_map(|l| l.unwrap().strip_prefix("stored ").and_then(|n| n.parse::<usize>().ok()).filter(|n| *n >= 1000));
            (stored, lines)
        })
        .await
        .unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        let at_least = stored_before_kill.0.unwrap_or_else(|| panic!("{name}: the child stopped before storing 1000 records"));

        let index = index::open(&url).await.unwrap();
        let records = all_records(index.as_ref()).await;
        assert!(records.len() >= at_least, "{name}: {} records, {at_least} acknowledged", records.len());
        assert!(records.iter().all(|r| r.log_index.is_some()), "{name}: a record without its leaf");
        assert_tree_matches(name, index.as_ref(), records).await;
    }
}

/// The child of [`a_process_killed_while_storing_records_leaves_none_without_its_leaf`]: stores
/// records, 64 in flight, and prints how many are stored, until killed. Does nothing when run
/// on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a helper process: a_process_killed_while_storing_records_leaves_none_without_its_leaf runs it and kills it"]
async fn store_records_until_killed() {
    use futures::StreamExt;
    use std::io::Write;
    let Ok(url) = std::env::var(KILL_CHILD_INDEX) else { return };
    let index = index::open(&url).await.unwrap();
    let (code, _) = dossier_with_scan(index.as_ref(), None).await;
    let mut creations = futures::stream::iter(0..)
        .map(|i| {
            let record = new_record(&format!("k{i}"), &code, None, "001204012345", (None, None));
            index.create_record(record, ComponentCheck::satisfied(), audit("record.create", ""))
        })
        .buffer_unordered(64);
    let mut stored = 0usize;
    while let Some(answer) = creations.next().await {
        answer.unwrap();
        stored += 1;
        if stored.is_multiple_of(64) {
            writeln!(std::io::stdout(), "stored {stored}").unwrap();
            std::io::stdout().flush().unwrap();
        }
    }
}

#[tokio::test]
async fn records_stored_before_the_log_existed_are_appended_on_open() {
    for (name, url, _dir) in databases().await {
        let index = index::open(&url).await.unwrap();
        let (code, _) = dossier_with_scan(index.as_ref(), None).await;
        for id in ["old1", "old2", "old3", "old4"] {
            let record = new_record(id, &code, None, "001204012345", (None, None));
            index.create_record(record, ComponentCheck::satisfied(), audit("record.create", "")).await.unwrap();
        }
        drop(index);
        // the database as it was before the log: records without leaves, no tree
        let forget = ["UPDATE records SET log_index = NULL", "DELETE FROM tlog_nodes"];
        if name == "sqlite" {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
            for sql in forget {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            pool.close().await;
        } else {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
            for sql in forget {
                sqlx::query(sql).execute(&pool).await.unwrap();
            }
            pool.close().await;
        }

        let index = index::open(&url).await.unwrap();
        let mut records = Vec::new();
        for id in ["old1", "old2", "old3", "old4"] {
            records.push(index.record(id).await.unwrap().unwrap());
        }
        assert_tree_matches(name, index.as_ref(), records).await;
    }
}

/// Two processes on one database (two replicas behind a load balancer), each with its own
/// connections: their workers, claiming at once, never get the same job, and every job is
/// handed out.
#[tokio::test]
async fn two_replicas_claiming_at_once_never_get_the_same_job() {
    for (name, url, _dir) in databases().await {
        let replicas = [index::open(&url).await.unwrap(), index::open(&url).await.unwrap()];
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let mut queued = BTreeSet::new();
        for i in 0..40 {
            let index = &replicas[i % 2];
            let code = index.create_dossier(new_dossier("000.00.31.H29", day), audit("dossier.create", "d")).await.unwrap();
            let scan = new_scan(&code, format!("page {i}").as_bytes(), None);
            queued.insert(index.create_scan(scan, JobKind::Ocr, policy(3), audit("scan.create", "s")).await.unwrap().job);
        }
        let workers = (0..8).map(|w| {
            let index = replicas[w % 2].clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                let lease = format!("replica-{}-worker-{w}", w % 2);
                while let Some(job) = jobs::claim(index.as_ref(), &[JobKind::Ocr], None, &lease, 60_000, now_ms()).await.unwrap() {
                    assert_eq!(job.lease.as_deref(), Some(lease.as_str()));
                    got.push(job.id);
                }
                got
            })
        });
        let mut claimed = Vec::new();
        for worker in futures::future::join_all(workers).await {
            claimed.extend(worker.unwrap());
        }
        let distinct: BTreeSet<i64> = claimed.iter().copied().collect();
        assert_eq!(distinct.len(), claimed.len(), "{name}: a job was handed to two workers: {claimed:?}");
        assert_eq!(distinct, queued, "{name}: every job is claimed once");
        let running = replicas[0].jobs_in_state(JobState::Running, None, 100).await.unwrap();
        assert!(running.iter().all(|j| j.attempts == 1), "{name}: no job was claimed twice");
        assert_eq!(running.len(), 40, "{name}");
    }
}

/// Two processes storing records at once into one log: the leaves have no gap and no
/// duplicate, each record's leaf is its manifest's, and both processes see the same tree.
#[tokio::test]
async fn two_replicas_appending_at_once_keep_one_gap_free_log() {
    for (name, url, _dir) in databases().await {
        let replicas = [index::open(&url).await.unwrap(), index::open(&url).await.unwrap()];
        let (code, _) = dossier_with_scan(replicas[0].as_ref(), None).await;
        let creations = (0..120).map(|i| {
            let (index, code) = (replicas[i % 2].clone(), code.clone());
            async move {
                let record = new_record(&format!("p{}-{i}", i % 2), &code, None, "001204012345", (None, None));
                index.create_record(record, ComponentCheck::satisfied(), audit("record.create", "")).await.unwrap()
            }
        });
        let records = futures::future::join_all(creations).await;
        let from_both = records.iter().map(|r| r.id.split('-').next().unwrap()).collect::<BTreeSet<_>>();
        assert_eq!(from_both.len(), 2, "{name}");
        assert_tree_matches(name, replicas[0].as_ref(), records.clone()).await;
        assert_tree_matches(name, replicas[1].as_ref(), records).await;
    }
}

/// A column as both engines can describe it: table, name, type class, and whether it may be
/// NULL (SQLite lets a non-integer primary key be NULL; PostgreSQL never does, so a key
/// column counts as NOT NULL in both).
type Column = (String, String, &'static str, bool);

fn type_class(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" => "integer",
        "boolean" => "boolean",
        "text" => "text",
        "blob" | "bytea" => "bytes",
        _ => "other",
    }
}

async fn sqlite_schema(url: &str) -> (BTreeSet<Column>, BTreeSet<String>) {
    use sqlx::Row;
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let columns = sqlx::query(
        "SELECT m.name AS t, p.name AS c, p.type AS ty, p.\"notnull\" AS nn, p.pk AS pk FROM sqlite_master m
         JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| {
        let ty: String = r.get("ty");
        (r.get("t"), r.get("c"), type_class(&ty), r.get::<i64, _>("nn") == 1 || r.get::<i64, _>("pk") > 0)
    })
    .collect();
    let indexes = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .collect();
    (columns, indexes)
}

async fn postgres_schema(pool: &sqlx::PgPool) -> (BTreeSet<Column>, BTreeSet<String>) {
    use sqlx::Row;
    let columns = sqlx::query(
        "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty, is_nullable::text AS n
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .map(|r| {
        let ty: String = r.get("ty");
        (r.get("t"), r.get("c"), type_class(&ty), r.get::<String, _>("n") == "NO")
    })
    .collect();
    // Indexes the schema names; those PostgreSQL makes for keys and UNIQUE columns (as
    // SQLite's `sqlite_autoindex_*`) are left out.
    let indexes = sqlx::query_scalar(
        "SELECT i.indexname::text FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename <> '_sqlx_migrations'
         AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname)",
    )
    .fetch_all(pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    (columns, indexes)
}

/// Flags are booleans in PostgreSQL and integers in SQLite; every other column has the same
/// class in both.
fn without_flag_types(columns: BTreeSet<Column>) -> BTreeSet<Column> {
    columns.into_iter().map(|(t, c, ty, nn)| (t, c, if ty == "boolean" { "integer" } else { ty }, nn)).collect()
}

#[tokio::test]
async fn both_engines_have_the_same_tables_columns_and_indexes() {
    let Some(server) = postgres::server() else {
        eprintln!("SOHOA_TEST_POSTGRES_URL is not set: the PostgreSQL schema is not compared");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("index.db").display());
    index::open(&sqlite_url).await.unwrap();
    let scratch = postgres::scratch_database(&server).await;
    let pool = index::postgres::connect(&scratch.url).await.unwrap();
    let (lite_columns, lite_indexes) = sqlite_schema(&sqlite_url).await;
    let (pg_columns, pg_indexes) = postgres_schema(&pool).await;
    assert!(lite_columns.len() > 100, "the SQLite schema is read: {} columns", lite_columns.len());
    let flags: Vec<_> = pg_columns.iter().filter(|c| c.2 == "boolean").map(|c| format!("{}.{}", c.0, c.1)).collect();
    assert_eq!(flags, ["components.required", "components.reused"]);
    let pg_columns = without_flag_types(pg_columns);
    let only_lite: Vec<_> = lite_columns.difference(&pg_columns).collect();
    let only_pg: Vec<_> = pg_columns.difference(&lite_columns).collect();
    assert!(only_lite.is_empty() && only_pg.is_empty(), "only in SQLite: {only_lite:?}\nonly in PostgreSQL: {only_pg:?}");
    assert_eq!(lite_indexes, pg_indexes);
    // The same migrations, by version, in both directories.
    let versions = |dir: &str| -> BTreeSet<String> {
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
    };
    assert_eq!(versions("migrations/sqlite"), versions("migrations/postgres"));
}

#[tokio::test]
async fn the_indicator_facts_are_the_dossiers_received_or_resolved_in_the_month() {
    use sohoa::domain::indicators::{self, Month};
    use sohoa::index::{NewResult, NewVersion};
    for (name, index, _dir) in backends().await {
        let now = chrono::Utc::now().timestamp_millis();
        let month = Month::of_ms(now);
        let (from, to) = month.bounds_ms();
        let day = chrono::Utc::now().date_naive();
        let received = |at: i64| {
            let mut d = new_dossier("000.00.31.H29", day);
            d.received_at_ms = at;
            d.due_at_ms = at + 30 * DAY;
            d
        };
        // received this month, one component reused from an earlier record
        let reusing = index.create_dossier(received(from), audit("dossier.create", "d")).await.unwrap();
        let earlier = index.create_dossier(received(from - 40 * DAY), audit("dossier.create", "d")).await.unwrap();
        let record = new_record("old-notice", &earlier, None, "001204012345", (None, None));
        index.create_record(record, ComponentCheck::satisfied(), audit("record.create", "")).await.unwrap();
        index.reuse_record(&reusing, "hospital_birth_notice", "old-notice", audit("dossier.reuse", "")).await.unwrap();
        // received last month, its signed result issued now: resolved on time this month
        let resolved = index.create_dossier(received(from - 5 * DAY), audit("dossier.create", "d")).await.unwrap();
        let digest = Digest::of(b"result v1");
        let result = NewResult {
            id: "kq-1".into(),
            agency: agency("000.00.31.H29"),
            dossier: resolved.clone(),
            doc_type: "birth_certificate".into(),
            number: Some("12/2026".into()),
            digest: digest.clone(),
            size: 9,
        };
        index.create_result(result, audit("result.attach", "")).await.unwrap();
        let signed = NewVersion {
            base: digest,
            digest: Digest::of(b"result v2"),
            size: 12,
            event: "signed",
            signer: "CN=Nguyễn Văn An".into(),
            session: None,
        };
        index.add_result_version("kq-1", signed, audit("result.sign", "")).await.unwrap();
        let issued = new_record("kq-record", &resolved, None, "001204012345", (None, None));
        index
            .create_record(NewRecord { component: None, ..issued }, ComponentCheck::satisfied(), audit("record.create", ""))
            .await
            .unwrap();
        index.issue_result("kq-1", "kq-record", audit("result.issue", "")).await.unwrap();
        // another agency's dossier, and one received next month, are not counted
        index.create_dossier(received(to), audit("dossier.create", "d")).await.unwrap();
        let mut elsewhere = received(from);
        elsewhere.agency = agency("000.00.09.H29");
        index.create_dossier(elsewhere, audit("dossier.create", "d")).await.unwrap();

        let facts = index.dossier_facts(&agency("000.00.31.H29"), from, to).await.unwrap();
        assert_eq!(facts.len(), 2, "{name}: {facts:?}");
        let got: Vec<_> = indicators::compute(&facts, month).into_iter().map(|i| (i.code, i.numerator, i.denominator)).collect();
        // 2.1 and 4.1 over the one resolved; 4.2 and 4.3 over the one received (the other
        // was received last month)
        assert_eq!(got, [("2.1", 1, 1), ("4.1", 1, 1), ("4.2", 0, 1), ("4.3", 1, 1)], "{name}");
    }
}

/// Uploads to a component while records for it are stored: each takes the component and
/// the dossier (an upload names the dossier by foreign key, a record settles its status),
/// and neither may wait on the other in a circle.
#[tokio::test]
async fn uploads_and_records_for_one_component_at_once_all_succeed() {
    for (name, index, _dir) in backends().await {
        let (code, _) = dossier_with_scan(index.as_ref(), None).await;
        let tasks = (0..60).map(|i| {
            let (index, code) = (index.clone(), code.clone());
            tokio::spawn(async move {
                if i % 2 == 0 {
                    let scan = new_scan(&code, format!("page {i}").as_bytes(), None);
                    index.create_scan(scan, JobKind::Ocr, policy(3), audit("scan.create", "s")).await.map(|_| ())
                } else {
                    let record = new_record(&format!("c{i}"), &code, None, "001204012345", (None, None));
                    index.create_record(record, ComponentCheck::satisfied(), audit("record.create", "")).await.map(|_| ())
                }
            })
        });
        for answer in futures::future::join_all(tasks).await {
            answer.unwrap().unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        assert_eq!(index.dossier(&code).await.unwrap().unwrap().scans.len(), 31, "{name}");
    }
}

/// A job one replica queues wakes the idle workers waiting on another at once, rather than
/// at their next look (PostgreSQL's NOTIFY; SQLite's one process signals its own).
#[tokio::test]
async fn a_job_queued_through_one_replica_wakes_the_other() {
    for (name, url, _keep) in databases().await {
        if name != "postgres" {
            continue;
        }
        let (a, b) = (index::open(&url).await.unwrap(), index::open(&url).await.unwrap());
        let queued = Arc::new(tokio::sync::Notify::new());
        b.wake_on_queued(queued.clone()).await.unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let code = a.create_dossier(new_dossier("000.00.31.H29", day), audit("dossier.create", "d")).await.unwrap();
        let woken = queued.notified();
        a.create_scan(new_scan(&code, b"page", None), JobKind::Ocr, policy(3), audit("scan.create", "s")).await.unwrap();
        tokio::time::timeout(Duration::from_secs(5), woken).await.unwrap_or_else(|_| panic!("{name}: the other replica was not woken"));
    }
}

/// Two replicas asking for one duty's lease at once: exactly one gets it, and the other
/// keeps being refused while it holds it.
#[tokio::test]
async fn two_holders_racing_for_a_lease_one_gets_it() {
    for (name, url, _keep) in databases().await {
        let replicas = [index::open(&url).await.unwrap(), index::open(&url).await.unwrap()];
        for round in 0..20 {
            let lease = format!("duty-{round}");
            let now = now_ms();
            let asks = (0..6).map(|i| {
                let (index, lease) = (replicas[i % 2].clone(), lease.clone());
                async move { (i, index.acquire_lease(&lease, &format!("holder-{i}"), now, 30_000).await.unwrap()) }
            });
            let winners: Vec<usize> = futures::future::join_all(asks).await.into_iter().filter(|(_, got)| *got).map(|(i, _)| i).collect();
            assert_eq!(winners.len(), 1, "{name}: round {round}: {winners:?}");
            let stored = replicas[1].lease(&lease).await.unwrap().unwrap();
            assert_eq!(stored.holder, format!("holder-{}", winners[0]), "{name}");
            assert_eq!(stored.expires_at_ms, now + 30_000, "{name}");
            let other = format!("holder-{}", (winners[0] + 1) % 6);
            assert!(!replicas[0].acquire_lease(&lease, &other, now + 29_999, 30_000).await.unwrap(), "{name}: taken while held");
        }
    }
}

/// An expired lease is taken over by another holder; the old holder can then neither renew
/// nor release it, and must ask again (refused while the new holder's lease runs).
#[tokio::test]
async fn an_expired_lease_is_taken_over_and_the_old_holder_is_refused() {
    for (name, url, _keep) in databases().await {
        let index = index::open(&url).await.unwrap();
        let t = now_ms();
        assert!(index.acquire_lease("fixity", "a", t, 1_000).await.unwrap(), "{name}");
        assert!(!index.acquire_lease("fixity", "b", t + 999, 1_000).await.unwrap(), "{name}: not yet expired");
        assert!(index.acquire_lease("fixity", "b", t + 1_000, 1_000).await.unwrap(), "{name}: expired, taken over");
        let lease = index.lease("fixity").await.unwrap().unwrap();
        assert_eq!((lease.holder.as_str(), lease.acquired_at_ms, lease.expires_at_ms), ("b", t + 1_000, t + 2_000), "{name}");
        assert!(!index.renew_lease("fixity", "a", t + 1_001, 1_000).await.unwrap(), "{name}: the old holder cannot renew");
        assert!(!index.release_lease("fixity", "a").await.unwrap(), "{name}: nor release");
        assert!(!index.acquire_lease("fixity", "a", t + 1_500, 1_000).await.unwrap(), "{name}: nor take it back while held");
        assert_eq!(index.lease("fixity").await.unwrap().unwrap().holder, "b", "{name}");
        // Released, it is free at once.
        assert!(index.release_lease("fixity", "b").await.unwrap(), "{name}");
        assert!(index.lease("fixity").await.unwrap().is_none(), "{name}");
        assert!(index.acquire_lease("fixity", "a", t + 1_600, 1_000).await.unwrap(), "{name}");
        // Leases are by name: another duty is free.
        assert!(index.acquire_lease("renewal", "b", t + 1_600, 1_000).await.unwrap(), "{name}");
    }
}

/// Only the holder renews, and only before its lease expires; asking again while holding
/// extends the lease and keeps when it was taken.
#[tokio::test]
async fn only_the_holder_renews_its_lease_before_it_expires() {
    for (name, url, _keep) in databases().await {
        let index = index::open(&url).await.unwrap();
        let t = now_ms();
        assert!(!index.renew_lease("fixity", "a", t, 1_000).await.unwrap(), "{name}: nothing to renew");
        assert!(index.acquire_lease("fixity", "a", t, 1_000).await.unwrap(), "{name}");
        assert!(!index.renew_lease("fixity", "b", t + 10, 1_000).await.unwrap(), "{name}: not the holder");
        assert!(index.renew_lease("fixity", "a", t + 500, 1_000).await.unwrap(), "{name}");
        assert_eq!(index.lease("fixity").await.unwrap().unwrap().expires_at_ms, t + 1_500, "{name}");
        assert!(!index.acquire_lease("fixity", "b", t + 1_200, 1_000).await.unwrap(), "{name}: renewed, so not expired");
        assert!(index.acquire_lease("fixity", "a", t + 1_400, 1_000).await.unwrap(), "{name}: the holder asking again");
        let lease = index.lease("fixity").await.unwrap().unwrap();
        assert_eq!((lease.acquired_at_ms, lease.expires_at_ms), (t, t + 2_400), "{name}: extended, taken at the first ask");
        assert!(!index.renew_lease("fixity", "a", t + 2_400, 1_000).await.unwrap(), "{name}: expired, not renewed");
        assert_eq!(index.lease("fixity").await.unwrap().unwrap().expires_at_ms, t + 2_400, "{name}: unchanged");
    }
}

fn new_read(
    token: i64,
    record: &str,
    record_agency: &str,
    owner: Option<&str>,
    read: sohoa::domain::reads::ReadKind,
) -> sohoa::index::NewRead {
    use sohoa::domain::reads::Reader;
    sohoa::index::NewRead {
        at_ms: now_ms(),
        reader: Reader {
            token_id: token,
            label: format!("token {token}"),
            role: "consumer".into(),
            agency: "000.00.09.H29".into(),
            request_id: format!("r{token}"),
        },
        record: record.into(),
        record_agency: agency(record_agency),
        owner_id: owner.map(str::to_owned),
        read,
        purpose: Some("procedure:1.001193".into()),
    }
}

/// Reads logged at once by many callers are numbered without gaps, each caller answered
/// with its own numbers; the access log's tree is the tree of the entries' canonical bytes,
/// kept apart from the records' log; an owner's reads are found by agency, newest first.
#[tokio::test]
async fn reads_logged_at_once_each_take_the_next_leaf_of_the_access_log() {
    use sohoa::domain::reads::{ReadFilter, ReadKind};
    for (name, index, _dir) in backends().await {
        let logging = (0..24).map(|i| {
            let index = index.clone();
            async move {
                let mut reads = vec![new_read(i, &format!("rec-{i}"), "000.00.31.H29", Some("001186012345"), ReadKind::Metadata)];
                if i % 3 == 0 {
                    // a lookup brings several records at once
                    reads.push(new_read(i, "rec-x", "000.00.09.H29", Some("001186012345"), ReadKind::Lookup));
                    reads.push(new_read(i, "rec-y", "000.00.31.H29", Some("0101234567"), ReadKind::Lookup));
                }
                (i, index.log_reads(reads.clone()).await.unwrap(), reads)
            }
        });
        let logged = futures::future::join_all(logging).await;
        let mut numbers: Vec<u64> = logged.iter().flat_map(|(_, seqs, _)| seqs.clone()).collect();
        for (_, seqs, reads) in &logged {
            assert_eq!(seqs.len(), reads.len(), "{name}");
            assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{name}: a caller's reads are numbered in a row: {seqs:?}");
        }
        numbers.sort();
        assert_eq!(numbers, (0..40).collect::<Vec<u64>>(), "{name}");
        assert_eq!(index.access_size().await.unwrap(), 40, "{name}");
        assert_eq!(index.tlog_size().await.unwrap(), 0, "{name}: the records' log is another tree");

        let entries = index.read_entries(0, 100).await.unwrap();
        assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), (0..40).collect::<Vec<u64>>(), "{name}");
        for (_, seqs, reads) in &logged {
            for (seq, read) in seqs.iter().zip(reads) {
                assert_eq!(&entries[*seq as usize].entry, read, "{name}: entry {seq} is stored as given");
            }
        }
        let log = tlog::MemoryLog::from_leaves(entries.iter().map(|e| tlog::leaf_hash(&e.leaf_data())));
        let nodes = index.access_nodes(&tlog::root_needs(40)).await.unwrap();
        assert_eq!(tlog::root(40, &nodes).unwrap(), log.root(), "{name}");
        assert_eq!(index.read_entries(38, 100).await.unwrap().len(), 2, "{name}");

        let home = ReadFilter { owner_id: "001186012345".into(), record_agency: Some(agency("000.00.31.H29")), before: None, limit: 100 };
        let found = index.reads_of_owner(&home).await.unwrap();
        assert_eq!(found.len(), 24, "{name}");
        assert!(found.windows(2).all(|w| w[0].seq > w[1].seq), "{name}: newest first");
        assert!(found.iter().all(|e| e.entry.record_agency.as_str() == "000.00.31.H29"), "{name}");
        let every = ReadFilter { record_agency: None, ..home.clone() };
        assert_eq!(index.reads_of_owner(&every).await.unwrap().len(), 32, "{name}");
        let page = ReadFilter { before: Some(found[4].seq), limit: 3, ..home };
        let next = index.reads_of_owner(&page).await.unwrap();
        assert_eq!(next.iter().map(|e| e.seq).collect::<Vec<_>>(), found[5..8].iter().map(|e| e.seq).collect::<Vec<_>>(), "{name}");
    }
}

#[tokio::test]
async fn import_progress_is_kept_by_batch_and_line_and_duplicates_are_found_by_content_or_number() {
    use sohoa::index::{ImportItem, ImportOutcome};
    for (name, index, _dir) in backends().await {
        let item = |line: u32, outcome: ImportOutcome, record: Option<&str>, source: &[u8]| ImportItem {
            batch: "b1".into(),
            line,
            outcome,
            record: record.map(str::to_owned),
            source: Some(Digest::of(source)),
            reason: None,
        };
        index.put_import_item(&item(3, ImportOutcome::Started, Some("r-import"), b"pages 3")).await.unwrap();
        index.put_import_item(&item(2, ImportOutcome::Flagged, None, b"pages 2")).await.unwrap();
        let kept = index.import_items("b1").await.unwrap();
        assert_eq!(
            kept.iter().map(|i| (i.line, i.outcome)).collect::<Vec<_>>(),
            [(2, ImportOutcome::Flagged), (3, ImportOutcome::Started)],
            "{name}"
        );
        assert!(index.import_items("b2").await.unwrap().is_empty(), "{name}");
        let home = agency("000.00.31.H29");
        let none = index.import_duplicate(&home, "birth_certificate", None, &Digest::of(b"pages 3")).await.unwrap();
        assert_eq!(none, None, "a started document is no duplicate yet: {name}");

        // Settled: its line is replaced, and its content is now a duplicate's.
        index.put_import_item(&item(3, ImportOutcome::Imported, Some("r-import"), b"pages 3")).await.unwrap();
        assert_eq!(index.import_items("b1").await.unwrap().len(), 2, "{name}");
        let same = index.import_duplicate(&home, "birth_certificate", None, &Digest::of(b"pages 3")).await.unwrap().unwrap();
        assert_eq!((same.record.as_str(), same.why), ("r-import", "same_content"), "{name}");

        // The same type and number in the same agency, whatever the content.
        let (code, _) = dossier_with_scan(index.as_ref(), None).await;
        let mut record = new_record("r-numbered", &code, None, "001204012345", (None, None));
        record.number = Some("12/2009".into());
        index.create_record(record, ComponentCheck::satisfied(), audit("record.create", "")).await.unwrap();
        let other = Digest::of(b"other pages");
        let same = index.import_duplicate(&home, "hospital_birth_notice", Some("12/2009"), &other).await.unwrap().unwrap();
        assert_eq!((same.record.as_str(), same.why), ("r-numbered", "same_number"), "{name}");
        assert_eq!(
            index.import_duplicate(&agency("000.00.09.H29"), "hospital_birth_notice", Some("12/2009"), &other).await.unwrap(),
            None,
            "{name}"
        );
        assert_eq!(index.import_duplicate(&home, "birth_certificate", Some("12/2009"), &other).await.unwrap(), None, "{name}");
    }
}
