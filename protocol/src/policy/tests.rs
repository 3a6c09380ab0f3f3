use super::*;
use std::path::{Path, PathBuf};

fn texts(files: &[(&str, &str)]) -> Result<Catalog, CatalogError> {
    let sources: Vec<(PathBuf, String)> = files.iter().map(|(f, t)| (PathBuf::from(f), t.to_string())).collect();
    check(&sources)
}

fn problems(files: &[(&str, &str)]) -> Vec<String> {
    match texts(files) {
        Err(CatalogError::Invalid(p)) => p.iter().map(ToString::to_string).collect(),
        other => panic!("expected problems, got {other:?}"),
    }
}

const AGENCY: &str = "[[agency]]\ncode = \"000.00.31.H29\"\nname = \"UBND\"\nlevel = \"commune\"\n";
const DOC: &str = r#"
[[doc_type]]
id = "birth_certificate"
titles = ["GIẤY KHAI SINH"]
fields = ["owner_id"]
validity = "permanent"
reusable = true
"#;

#[test]
fn the_shipped_catalog_is_valid_and_complete() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let catalog = load(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(catalog.doc_types.len() >= 14);
    assert!(catalog.procedures.len() >= 8);
    for t in [
        "birth_certificate",
        "birth_extract",
        "identity_card",
        "marriage_certificate",
        "marital_status_certificate",
        "death_extract",
        "death_notice",
        "hospital_birth_notice",
        "criminal_record_certificate",
        "enterprise_registration",
        "land_use_right_certificate",
        "construction_permit",
        "decision",
        "application_form",
    ] {
        assert!(catalog.doc_type(t).is_some(), "missing document type {t}");
    }
    let birth = catalog.procedure("birth-registration").unwrap();
    assert_eq!(catalog.procedure("1.001193").unwrap().slug, birth.slug);
    assert_eq!(birth.result.as_str(), "birth_certificate");
    let required: Vec<_> = birth.components.iter().filter(|c| c.required).map(|c| c.id.as_str()).collect();
    assert_eq!(required, ["application_form", "hospital_birth_notice"]);
    assert!(!catalog.doc_type("application_form").unwrap().reusable);
    assert_eq!(catalog.doc_type("marital_status_certificate").unwrap().validity, Validity::MonthsFromIssue(6));
}

#[test]
fn reports_every_problem_with_file_and_line() {
    let procedures = r#"
[[procedure]]
code = "1.001193"
slug = "birth-registration"
name = "Đăng ký khai sinh"
level = "commune"
processing_days = 1
result = "no_such_type"

  [[procedure.component]]
  id = "form"
  name = "Tờ khai"
  doc_types = ["birth_certificate", "ghost"]
  required = true

[[procedure]]
code = "1.001193"
slug = "again"
name = "Trùng"
level = "commune"
processing_days = 1
result = "birth_certificate"

  [[procedure.component]]
  id = "form"
  name = "Tờ khai"
  doc_types = ["birth_certificate"]
  required = true
"#;
    let docs = r#"
[[doc_type]]
id = "birth_certificate"
titles = ["GIẤY KHAI SINH"]
fields = ["owner_id"]
validity = "permanent"
reusable = true

[[doc_type]]
id = "birth_certificate"
titles = ["X"]
fields = ["owner_id"]
validity = "permanent"
reusable = true

[[doc_type]]
id = "broken"
titles = ["Y"]
patterns = ['Số:\s*(\d+']
fields = ["owner_id", "shoe_size"]
validity = "permanent"

[[doc_type]]
id = "bad_validity"
titles = ["Z"]
fields = []
validity = "forever"
reusable = true
"#;
    let p = problems(&[("agencies.toml", AGENCY), ("docs.toml", docs), ("procs.toml", procedures)]);
    let expect = [
        "docs.toml:10: duplicate document type id `birth_certificate`",
        "docs.toml:16: document type `broken`: missing field `reusable`",
        "docs.toml:19: document type `broken`: bad pattern",
        "docs.toml:20: document type `broken`: unknown field `shoe_size`",
        "docs.toml:27: document type `bad_validity`: validity `forever`",
        "procs.toml:8: procedure `1.001193`: unknown document type `no_such_type`",
        "procs.toml:13: procedure `1.001193` component `form`: unknown document type `ghost`",
        "procs.toml:17: duplicate procedure code `1.001193`",
    ];
    for e in expect {
        assert!(p.iter().any(|line| line.starts_with(e)), "missing {e:?} in\n{}", p.join("\n"));
    }
    assert_eq!(p.len(), expect.len(), "unexpected problems:\n{}", p.join("\n"));
}

#[test]
fn a_syntax_error_is_reported_with_its_line_alongside_other_files() {
    let p = problems(&[
        ("a.toml", AGENCY),
        ("b.toml", "[[doc_type]]\nid = \"x\"\ntitles = [\"T\"\n"),
        ("c.toml", "[[agency]]\ncode = \"bad code\"\nname = \"n\"\nlevel = \"commune\"\n"),
    ]);
    assert!(p.iter().any(|l| l.starts_with("b.toml:") && l.contains("invalid array")), "{p:?}");
    assert!(p.iter().any(|l| l.starts_with("c.toml:2: invalid agency code")), "{p:?}");
}

#[test]
fn unknown_keys_and_missing_fields_are_problems() {
    let p = problems(&[("a.toml", AGENCY), ("d.toml", &format!("{DOC}colour = \"red\"\n"))]);
    assert!(p[0].contains("unknown field `colour`"), "{p:?}");
    let p = problems(&[("a.toml", "[[agency]]\ncode = \"000.00.31.H29\"\n")]);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].starts_with("a.toml:1: agency `000.00.31.H29`: missing field `name`"), "{p:?}");
}

#[test]
fn a_minimal_catalog_loads() {
    let catalog = texts(&[("a.toml", AGENCY), ("d.toml", DOC)]).unwrap();
    assert_eq!(catalog.agencies.len(), 1);
    assert_eq!(catalog.doc_types.len(), 1);
}

#[test]
fn reuse_of_a_non_reusable_type_is_rejected() {
    let docs =
        format!("{DOC}\n[[doc_type]]\nid = \"form\"\ntitles = [\"TỜ KHAI\"]\nfields = []\nvalidity = \"per_document\"\nreusable = false\n");
    let proc = "[[procedure]]\ncode = \"1.000001\"\nslug = \"p\"\nname = \"P\"\nlevel = \"commune\"\nprocessing_days = 1\nresult = \"birth_certificate\"\n[[procedure.component]]\nid = \"f\"\nname = \"F\"\ndoc_types = [\"form\"]\nrequired = true\nreuse = true\n";
    let p = problems(&[("a.toml", AGENCY), ("d.toml", &docs), ("p.toml", proc)]);
    assert!(p[0].contains("not reusable"), "{p:?}");
}

#[test]
fn scan_quality_limits_default_are_read_and_checked() {
    assert_eq!(texts(&[("a.toml", AGENCY)]).unwrap().scan_quality, ScanQuality::default());
    let shipped = load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")).unwrap();
    assert_eq!(shipped.scan_quality, ScanQuality::default(), "the built-in defaults are the shipped file's");
    let set = texts(&[("a.toml", AGENCY), ("q.toml", "[scan_quality]\nmin_dpi = 150\nmax_cut_marks = 2\n")]).unwrap();
    assert_eq!((set.scan_quality.min_dpi, set.scan_quality.max_cut_marks), (150.0, 2));
    assert_eq!(set.scan_quality.max_blur_mm, ScanQuality::default().max_blur_mm);
    let bad = problems(&[("a.toml", AGENCY), ("q.toml", "[scan_quality]\nmin_dpi = 150\nmax_blur_mm = -1\nblur = 2\n")]);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(bad[0].starts_with("q.toml:") && bad[0].contains("blur"), "{bad:?}");
    let twice =
        problems(&[("a.toml", AGENCY), ("q.toml", "[scan_quality]\nmin_dpi = 150\n"), ("r.toml", "[scan_quality]\nmin_dpi = 160\n")]);
    assert!(twice[0].starts_with("r.toml:1") && twice[0].contains("duplicate"), "{twice:?}");
}
