//! `sohoa import`, as an operator runs it: a batch of scans with a metadata sheet, imported
//! into an installation set up with `sohoa init` (SQLite file, `file://` archive), stopped
//! with `kill -9` and run again, tried dry, and its records looked up and proved.

mod common;

use common::served::{call, reqwest, Served, SOHOA};
use common::sql_count;
use image::{GrayImage, ImageFormat, Luma};
use serde_json::Value;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const WHO: &str = "Tổ số hóa phường";

/// A page of `seed`'s own grey pattern: distinct seeds give distinct pages.
fn page(seed: u32) -> Vec<u8> {
    let img = GrayImage::from_fn(240, 320, |x, y| Luma([((x * 13 + y * 7 + seed * 31) % 251) as u8]));
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

/// An A4 PDF of a page each of `pages`: a line of its own text over a grey box, or blank paper.
fn book(pages: &[Option<u32>]) -> Vec<u8> {
    book_of((595, 842), pages)
}

/// As [`book`], on pages `size` points large (at least 300 by 300).
fn book_of(size: (i64, i64), pages: &[Option<u32>]) -> Vec<u8> {
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let n = pages.len() as u32;
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let kids: Vec<Object> = pages
        .iter()
        .map(|page| {
            let text = match page {
                Some(i) => format!("0.3 g 30 60 200 120 re f 0 g BT /F1 18 Tf 30 {} Td (SO DANG KY {i}/2009) Tj ET", size.1 - 60),
                None => String::new(),
            };
            let content = doc.add_object(Stream::new(dictionary! {}, text.into_bytes()));
            doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "MediaBox" => vec![0.into(), 0.into(), size.0.into(), size.1.into()],
                "Contents" => content, "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
            })
            .into()
        })
        .collect();
    doc.objects.insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => n }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// An installation in a temp dir, set up with `sohoa init` and not served: its index is a
/// SQLite file there, or the PostgreSQL database `index_url` names.
struct Installation {
    dir: tempfile::TempDir,
    index_url: String,
}

impl Installation {
    fn new() -> Installation {
        Installation::with_index(None)
    }

    fn with_index(index_url: Option<&str>) -> Installation {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        let index_url = index_url.map_or_else(|| format!("sqlite://{d}/data/sohoa.db"), str::to_owned);
        let config = format!(
            "data_dir = \"{d}/data\"\nindex_url = \"{index_url}\"\narchive_url = \"file://{d}/data/archive\"\npolicies_dir = \"{p}\"\ntlog_key = \"{d}/data/tlog.key\"\n",
            p = common::served::policies().display(),
        );
        std::fs::write(dir.path().join("sohoa.toml"), config).unwrap();
        let init = Command::new(SOHOA).arg("--config").arg(dir.path().join("sohoa.toml")).arg("init").output().unwrap();
        assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
        Installation { dir, index_url }
    }
}

/// A batch directory of `n` pages `p<i>.png` under `root`, with `sheet` as `sheet.csv`.
fn batch(root: &Path, name: &str, seeds: impl IntoIterator<Item = u32>, sheet: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for seed in seeds {
        std::fs::write(dir.join(format!("p{seed}.png")), page(seed)).unwrap();
    }
    std::fs::write(dir.join("sheet.csv"), sheet).unwrap();
    dir
}

/// A sheet of one birth certificate a page, owners and numbers from `seeds`.
fn sheet_of(seeds: impl IntoIterator<Item = u32>) -> String {
    let mut sheet = String::from("file,owner_id,doc_type,number,issue_date\n");
    for seed in seeds {
        sheet.push_str(&format!("p{seed}.png,0010900{seed:05},birth_certificate,{seed}/2009,2009-03-0{}\n", seed % 9 + 1));
    }
    sheet
}

fn import_command(config: &Path, dir: &Path, more: &[&str]) -> Command {
    let mut cmd = Command::new(SOHOA);
    cmd.arg("--config").arg(config).arg("import").arg("--batch").arg(dir).arg("--csv").arg(dir.join("sheet.csv")).args(["--by", WHO]);
    cmd.args(more);
    cmd
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn count(index_url: &str, sql: &str) -> i64 {
    reqwest::runtime().block_on(sql_count(index_url, sql))
}

/// Records, log leaves, import progress rows and audit lines: what an import writes.
fn footprint(index_url: &str) -> [i64; 4] {
    [
        count(index_url, "SELECT COUNT(*) FROM records"),
        count(index_url, "SELECT COUNT(*) FROM tlog_nodes WHERE level = 0"),
        count(index_url, "SELECT COUNT(*) FROM import_items"),
        count(index_url, "SELECT COUNT(*) FROM audit"),
    ]
}

fn files_under(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path()) } else { 1 }).sum()
}

#[test]
fn a_batch_with_a_sheet_becomes_sealed_records_found_by_owner_with_duplicates_and_bad_rows_reported() {
    let served = Served::start(0);
    let root = served.dir.path();
    let index_url = served.index_url.clone();
    let sheet = "file,pages,owner_id,doc_type,number,issue_date\n\
        p1.png,,001090000001,birth_certificate,1/2009,2009-03-01\n\
        p2.png;p3.png,,001090000002,marriage_certificate,2/2009,02/03/2009\n\
        book.pdf,1-2,0101234567,enterprise_registration,0101234567,2009-03-03\n\
        book.pdf,3,001090000004,decision,45/QĐ-UBND,2009-03-04\n\
        p4.png,,001090000005,birth_certificate,1/2009,2009-03-05\n\
        copy.png,,001090000006,birth_certificate,6/2009,2009-03-06\n\
        p5.png,,12345,birth_certificate,7/2009,2009-03-07\n\
        p6.png,,001090000008,passport_of_mars,8/2009,2009-03-08\n\
        gone.png,,001090000009,birth_certificate,9/2009,2009-03-09\n\
        book.pdf,4-5,001090000010,decision,10/QĐ-UBND,2009-03-10\n\
        p7.png,,,birth_certificate,11/2009,2029-13-01\n\
        p8.png,,,birth_certificate,12/2009,2009-03-12\n";
    let dir = batch(root, "batch", 1..=8, sheet);
    std::fs::write(dir.join("copy.png"), page(1)).unwrap();
    std::fs::write(dir.join("book.pdf"), book(&[Some(1), Some(2), Some(3)])).unwrap();

    let before = footprint(&index_url);
    // served without workers: a row without its owner's id is flagged, not read
    let args = ["--jobs", "1", "--no-ocr", "--report"];
    let out = import_command(&served.config_file(), &dir, &args).arg(root.join("report")).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "rows failed: exit 1\n{}", text(&out));
    let report: Value = serde_json::from_slice(&std::fs::read(root.join("report.json")).unwrap()).unwrap();
    let totals = &report["totals"];
    assert_eq!((totals["imported"].as_u64(), totals["duplicates"].as_u64()), (Some(4), Some(2)), "{report:#}");
    assert_eq!((totals["flagged"].as_u64(), totals["failed"].as_u64()), (Some(1), Some(5)), "{report:#}");
    let by_line = |line: u64| report["documents"].as_array().unwrap().iter().find(|d| d["line"] == line).unwrap().clone();
    let reason = |line: u64| by_line(line)["reason"].as_str().unwrap_or_default().to_owned();
    assert!(reason(6).starts_with("same_number: line 2"), "{}", reason(6));
    assert!(reason(7).starts_with("same_content: line 2"), "{}", reason(7));
    assert!(reason(8).starts_with("owner_id_invalid"), "{}", reason(8));
    assert!(reason(9).starts_with("doc_type_not_in_catalog"), "{}", reason(9));
    assert!(reason(10).starts_with("file_not_found"), "{}", reason(10));
    assert!(reason(11).starts_with("pages_out_of_range"), "{}", reason(11));
    assert!(reason(12).starts_with("issue_date_invalid"), "{}", reason(12));
    assert_eq!(reason(13), "owner_id_missing");
    assert_eq!((by_line(3)["pages"].as_u64(), by_line(4)["pages"].as_u64()), (Some(2), Some(2)), "two files, two PDF pages");
    let csv = std::fs::read_to_string(root.join("report.csv")).unwrap();
    assert_eq!(csv.lines().count(), 13, "a header and a line a row:\n{csv}");
    assert!(text(&out).contains("line 8: p5.png failed: owner_id_invalid"), "{}", text(&out));

    // Nothing of a bad row is written: four records, each with its leaf and audit line.
    let after = footprint(&index_url);
    assert_eq!(after[0] - before[0], 4);
    assert_eq!(after[1] - before[1], 4, "one log leaf a record");
    assert_eq!(after[2], 7, "progress is kept for the rows that were read, not for the refused ones");
    assert_eq!(count(&index_url, "SELECT COUNT(*) FROM audit WHERE action = 'record.import'"), 4);

    // The reuse lookup finds them, in the issuing agency's name, with who digitized them.
    let consumer = served.token("consumer");
    let (status, found) = call("GET", &format!("{}/api/v1/records?owner=0101234567", served.base), &consumer, None);
    assert_eq!(status, 200, "{found}");
    let record = &found["records"][0];
    assert_eq!((record["kind"].as_str(), record["doc_type"].as_str()), (Some("backfile"), Some("enterprise_registration")), "{found}");
    assert_eq!((record["agency"].as_str(), record["issue_date"].as_str()), (Some(common::AGENCY), Some("2009-03-03")));
    assert_eq!(record["digitized"]["by"], WHO, "{record}");
    assert_eq!(record["signatures"][0]["kind"], "seal");
    let id = record["id"].as_str().unwrap().to_owned();

    // Its seal verifies against the installation's root, and its log leaf against the checkpoint.
    let content = reqwest::runtime().block_on(async {
        let url = format!("{}/api/v1/records/{id}/content", served.base);
        ::reqwest::Client::new().get(url).bearer_auth(&consumer).send().await.unwrap().bytes().await.unwrap()
    });
    std::fs::write(root.join("content.pdf"), &content).unwrap();
    // `sohoa init` keeps the demo PKI where the default `seal_key` points, under the working directory.
    let trust = std::env::current_dir().unwrap().join("data/pki/root.pem");
    let verified = Command::new(SOHOA).arg("verify").arg(root.join("content.pdf")).arg("--trust").arg(trust).output().unwrap();
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
    let (status, proof) = call("GET", &format!("{}/api/v1/records/{id}/proof", served.base), &consumer, None);
    assert_eq!(status, 200, "{proof}");
    std::fs::write(root.join("proof.json"), proof.to_string()).unwrap();
    let checkpoint = reqwest::runtime().block_on(async {
        let url = format!("{}/api/v1/tlog/checkpoint", served.base);
        ::reqwest::Client::new().get(url).bearer_auth(&consumer).send().await.unwrap().text().await.unwrap()
    });
    std::fs::write(root.join("checkpoint.txt"), checkpoint).unwrap();
    let tlog = Command::new(SOHOA)
        .args(["tlog", "verify", "--checkpoint"])
        .arg(root.join("checkpoint.txt"))
        .arg("--key")
        .arg(root.join("data/tlog.pub"))
        .args(["--record", &id, "--proof"])
        .arg(root.join("proof.json"))
        .output()
        .unwrap();
    assert_eq!(tlog.status.code(), Some(0), "{}", text(&tlog));

    // A later batch: the same pages again, or the same number, are duplicates of the records.
    let again = "file,owner_id,doc_type,number,issue_date\n\
        p1.png,001090000021,birth_certificate,21/2009,2009-04-01\n\
        p9.png,001090000022,birth_certificate,1/2009,2009-04-02\n\
        p10.png,001090000023,birth_certificate,23/2009,2009-04-03\n";
    let second = batch(root, "second", [9, 10], again);
    std::fs::write(second.join("p1.png"), page(1)).unwrap();
    let out = import_command(&served.config_file(), &second, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = text(&out);
    let first = count(&index_url, "SELECT COUNT(*) FROM records WHERE number = '1/2009'");
    assert_eq!(first, 1);
    assert!(said.contains("line 2: p1.png duplicate: same_content: record "), "{said}");
    assert!(said.contains("line 3: p9.png duplicate: same_number: record "), "{said}");
    assert!(said.contains("imported 1, duplicates 2, flagged 0, failed 0"), "{said}");
    assert!(served.stop().success());
}

#[test]
fn a_batch_killed_mid_way_resumes_and_imports_nothing_twice() {
    killed_and_resumed(&Installation::new(), 150);
}

#[test]
fn a_batch_killed_mid_way_resumes_and_imports_nothing_twice_on_postgresql() {
    let Some(server) = common::postgres::server() else {
        eprintln!("SOHOA_TEST_POSTGRES_URL is not set: the import is not run on PostgreSQL");
        return;
    };
    let database = reqwest::runtime().block_on(common::postgres::scratch_database(&server));
    killed_and_resumed(&Installation::with_index(Some(&database.url)), 100);
}

/// Imports a batch of `documents`, kills the import with `kill -9` once ten are in, and
/// runs it again twice.
fn killed_and_resumed(install: &Installation, documents: u32) {
    let root = install.dir.path();
    let config = root.join("sohoa.toml");
    let index_url = install.index_url.clone();
    let dir = batch(root, "batch", 1..=documents, &sheet_of(1..=documents));

    let mut child = import_command(&config, &dir, &["--jobs", "2"]).stdout(std::process::Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&index_url, "SELECT COUNT(*) FROM import_items WHERE outcome = 'imported'") < 10 {
        assert!(Instant::now() < deadline, "the import did not get going");
        assert!(child.try_wait().unwrap().is_none(), "the import ended before it was killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let stored = count(&index_url, "SELECT COUNT(*) FROM records");
    assert!((10..i64::from(documents)).contains(&stored), "killed mid-way: {stored} records");

    let out = import_command(&config, &dir, &["--report"]).arg(root.join("resumed.json")).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: Value = serde_json::from_slice(&std::fs::read(root.join("resumed.json")).unwrap()).unwrap();
    assert_eq!(report["totals"]["imported"].as_u64(), Some(u64::from(documents)), "{}", text(&out));
    assert!(report["totals"]["earlier"].as_i64().unwrap() >= 10, "{}", report["totals"]);
    let [records, leaves, items, _] = footprint(&index_url);
    assert_eq!((records, leaves, items), (i64::from(documents), i64::from(documents), i64::from(documents)), "nothing imported twice");
    assert_eq!(count(&index_url, "SELECT COUNT(DISTINCT owner_id) FROM records"), i64::from(documents));
    assert_eq!(count(&index_url, "SELECT COUNT(DISTINCT record) FROM import_items WHERE outcome = 'imported'"), i64::from(documents));

    // A third run finds everything settled and writes nothing.
    let out = import_command(&config, &dir, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("imported {documents}, duplicates 0, flagged 0, failed 0 ({documents} settled by an earlier run)")),
        "{}",
        text(&out)
    );
    assert_eq!(footprint(&index_url)[0], i64::from(documents));
}

#[test]
fn a_dry_run_says_what_would_happen_and_writes_nothing() {
    let install = Installation::new();
    let root = install.dir.path();
    let config = root.join("sohoa.toml");
    let index_url = install.index_url.clone();
    let first = batch(root, "first", 1..=2, &sheet_of(1..=2));
    assert!(import_command(&config, &first, &[]).status().unwrap().success());

    let before = (footprint(&index_url), files_under(&root.join("data/archive")));
    let next = batch(root, "next", [1, 3, 4, 5], &sheet_of([1, 3, 4, 5]));
    let out = import_command(&config, &next, &["--dry-run", "--report"]).arg(root.join("dry")).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("dry run, nothing written: would import 3, duplicates 1"), "{}", text(&out));
    assert!(text(&out).contains("line 2: p1.png duplicate: same_content: record "), "{}", text(&out));
    assert_eq!((footprint(&index_url), files_under(&root.join("data/archive"))), before, "a dry run writes nothing");
    assert!(root.join("dry.csv").exists() && root.join("dry.json").exists());

    // Without a sheet, each file is a document whose owner and type are left for review.
    let out =
        Command::new(SOHOA).arg("--config").arg(&config).args(["import", "--dry-run", "--by", WHO, "--batch"]).arg(&next).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("would import 0, duplicates 1, flagged 3, failed 0"), "{}", text(&out));
    assert!(text(&out).contains("p3.png flagged: owner_id_missing;type_unknown"), "{}", text(&out));
    assert_eq!(footprint(&index_url), before.0);
}

#[test]
fn a_pdf_is_split_at_blank_pages_into_the_documents_its_rows_name() {
    let install = Installation::new();
    let root = install.dir.path();
    let config = root.join("sohoa.toml");
    let sheet = "file,owner_id,doc_type,number\n\
        register.pdf,001090000001,birth_certificate,1/2009\n\
        register.pdf,001090000002,birth_certificate,2/2009\n\
        register.pdf,001090000003,birth_certificate,3/2009\n\
        register.pdf,001090000004,birth_certificate,4/2009\n";
    let dir = batch(root, "batch", [], sheet);
    // small pages: blank paper is told by drawing each page, and the test's build is unoptimised
    std::fs::write(dir.join("register.pdf"), book_of((300, 300), &[Some(1), Some(2), None, Some(3), None, None, Some(4)])).unwrap();

    let out = import_command(&config, &dir, &["--split-at-blank", "--report"]).arg(root.join("split")).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("imported 3, duplicates 0, flagged 0, failed 1"), "{}", text(&out));
    assert!(text(&out).contains("line 5: register.pdf failed: separator_no_document"), "{}", text(&out));
    let report: Value = serde_json::from_slice(&std::fs::read(root.join("split.json")).unwrap()).unwrap();
    let pages: Vec<Option<u64>> = report["documents"].as_array().unwrap().iter().map(|d| d["pages"].as_u64()).collect();
    assert_eq!(pages, [Some(2), Some(1), Some(1), None], "{report:#}");
    assert_eq!(count(&install.index_url, "SELECT COUNT(*) FROM records WHERE kind = 'backfile'"), 3);

    // Without a sheet, each document between blank pages is one to review.
    let out = Command::new(SOHOA)
        .arg("--config")
        .arg(&config)
        .args(["import", "--dry-run", "--split-at-blank", "--by", WHO, "--batch"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("would import 0, duplicates 3, flagged 0, failed 0"), "{}", text(&out));
}

/// `n` generated documents of `types` in turn and `unrelated` out-of-scope pages, clean, in
/// `dir`: the pages and their labels (`NNNN-TYPE-clean.json`: type and fields).
fn generated(dir: &Path, types: &str, n: u32, unrelated: u32, seed: u32) -> Vec<(String, Value)> {
    let out = Command::new(common::worker_binary())
        .args(["samples", "--quality", "clean", "--types", types, "--count", &n.to_string()])
        .args(["--out-of-scope", &unrelated.to_string(), "--seed", &seed.to_string(), "--policies"])
        .arg(common::served::policies())
        .arg("-o")
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let mut pages: Vec<(String, Value)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".png") || name.ends_with(".jpg"))
        .map(|name| {
            let labels = std::fs::read(dir.join(Path::new(&name).with_extension("json"))).unwrap();
            (name, serde_json::from_slice(&labels).unwrap())
        })
        .collect();
    pages.sort_by(|a, b| a.0.cmp(&b.0));
    pages
}

fn bare_import(config: &Path, dir: &Path, more: &[&str]) -> Output {
    Command::new(SOHOA).arg("--config").arg(config).args(["import", "--by", WHO, "--batch"]).arg(dir).args(more).output().unwrap()
}

#[test]
fn a_batch_without_a_sheet_is_read_by_the_desks_workers_and_found_by_the_owners_the_pages_show() {
    let served = Served::start(1);
    let root = served.dir.path();
    let index_url = format!("sqlite://{}/data/sohoa.db", root.display());
    let dir = root.join("batch");
    let pages = generated(&dir, "birth_certificate,marriage_certificate", 2, 1, 11);
    assert_eq!(pages.len(), 3);

    let report_path = root.join("report").display().to_string();
    let out = bare_import(&served.config_file(), &dir, &["--ocr-timeout", "120", "--report", &report_path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: Value = serde_json::from_slice(&std::fs::read(root.join("report.json")).unwrap()).unwrap();
    let documents = report["documents"].as_array().unwrap();
    let consumer = served.token("consumer");
    for (file, labels) in &pages {
        let document = documents.iter().find(|d| d["file"] == file.as_str()).unwrap_or_else(|| panic!("{file}: {report:#}"));
        if labels["doc_type"] == "unknown" {
            // an out-of-scope page is left for review, not imported
            assert_eq!(document["outcome"], "flagged", "{document}");
            let reason = document["reason"].as_str().unwrap();
            assert!(reason.contains("type_unknown") || reason.contains("low_confidence"), "{document}");
            continue;
        }
        assert_eq!(document["outcome"], "imported", "{file}: {document}");
        let owner = labels["fields"]["owner_id"].as_str().unwrap();
        let (status, found) = call("GET", &format!("{}/api/v1/records?owner={owner}&purpose=1.001193", served.base), &consumer, None);
        assert_eq!(status, 200, "{found}");
        let record = &found["records"][0];
        assert_eq!((record["kind"].as_str(), record["doc_type"].clone()), (Some("backfile"), labels["doc_type"].clone()), "{found}");
        assert_eq!(record["digitized"]["by"], WHO, "{record}");
    }
    assert_eq!(count(&index_url, "SELECT COUNT(*) FROM records WHERE kind = 'backfile'"), 2);
    assert_eq!(count(&index_url, "SELECT COUNT(*) FROM jobs WHERE kind = 'ocr' AND priority = 1 AND state = 'done'"), 3);

    // Run again: every document is settled, no page is read twice.
    let out = bare_import(&served.config_file(), &dir, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("imported 2, duplicates 0, flagged 1, failed 0 (3 settled by an earlier run)"), "{}", text(&out));
    assert_eq!(count(&index_url, "SELECT COUNT(*) FROM jobs WHERE kind = 'ocr'"), 3);
    assert!(served.stop().success());
}

#[test]
fn with_no_worker_a_batch_killed_or_timed_out_imports_nothing_and_queues_each_page_once() {
    let served = Served::start(0);
    let root = served.dir.path();
    let index_url = format!("sqlite://{}/data/sohoa.db", root.display());
    let dir = batch(root, "batch", 1..=3, "");
    std::fs::remove_file(dir.join("sheet.csv")).unwrap();
    // killed outright while it waits for its first two documents
    let mut import = Command::new(SOHOA)
        .arg("--config")
        .arg(served.config_file())
        .args(["import", "--by", WHO, "--ocr-timeout", "60", "--jobs", "2", "--batch"])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&index_url, "SELECT COUNT(*) FROM jobs") < 2 {
        assert!(Instant::now() < deadline, "the import queued no jobs");
        std::thread::sleep(Duration::from_millis(100));
    }
    import.kill().unwrap();
    import.wait().unwrap();
    for _ in 0..2 {
        let started = Instant::now();
        let out = bare_import(&served.config_file(), &dir, &["--ocr-timeout", "2", "--jobs", "2"]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(started.elapsed() < Duration::from_secs(20), "one wait for the batch, not one a document");
        assert!(text(&out).contains("imported 0, duplicates 0, flagged 0, failed 3"), "{}", text(&out));
        assert!(text(&out).contains("p1.png failed: ocr_timeout: no worker read the batch's documents for 2s"), "{}", text(&out));
        assert_eq!(count(&index_url, "SELECT COUNT(*) FROM records"), 0);
    }
    // the documents under way when it was killed were queued once, found again by each run after
    let queued = count(&index_url, "SELECT COUNT(*) FROM jobs WHERE kind = 'ocr' AND state = 'queued' AND priority = 1");
    assert_eq!(queued, 2, "two documents at a time");
    assert!(served.stop().success());
}

#[test]
fn a_desk_scan_queued_while_an_import_waits_for_its_pages_is_claimed_first() {
    let served = Served::start(0);
    let root = served.dir.path();
    let index_url = format!("sqlite://{}/data/sohoa.db", root.display());
    let dir = batch(root, "batch", 1..=2, "");
    std::fs::remove_file(dir.join("sheet.csv")).unwrap();
    let mut import = Command::new(SOHOA)
        .arg("--config")
        .arg(served.config_file())
        .args(["import", "--by", WHO, "--ocr-timeout", "60", "--batch"])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while count(&index_url, "SELECT COUNT(*) FROM jobs WHERE priority = 1") < 2 {
        assert!(Instant::now() < deadline, "the import queued no jobs");
        std::thread::sleep(Duration::from_millis(100));
    }

    // A citizen's scan at the desk, queued after the import's pages.
    let scanner = served.token("scanner");
    let body = serde_json::json!({
        "procedure": "birth-registration",
        "applicant": {"kind": "citizen", "id": "001303012345", "name": "Nguyễn Thị An"}
    });
    let (status, dossier) =
        call("POST", &format!("{}/api/v1/dossiers", served.base), &scanner, Some(("application/json", body.to_string().into_bytes())));
    assert_eq!(status, 201, "{dossier}");
    let code = dossier["code"].as_str().unwrap();
    let url = format!("{}/api/v1/dossiers/{code}/components/hospital_birth_notice/scans", served.base);
    let (status, scan) = call("POST", &url, &scanner, Some(("image/png", common::sample_scan())));
    assert_eq!(status, 202, "{scan}");

    let worker = served.token("worker");
    let claim = || {
        let body = br#"{"kinds": ["ocr"]}"#.to_vec();
        call("POST", &format!("{}/api/v1/jobs/claim", served.base), &worker, Some(("application/json", body)))
    };
    let (status, first) = claim();
    assert_eq!(status, 200, "{first}");
    // the desk's scan first, queued last
    assert!(first["payload"]["scan"].is_i64() && first["id"] == 3, "{first}");
    let (status, second) = claim();
    assert_eq!(status, 200, "{second}");
    assert!(second["payload"]["import"]["line"].is_u64() && second["id"].as_i64() < Some(3), "then the import's pages: {second}");
    import.kill().unwrap();
    import.wait().unwrap();
}
