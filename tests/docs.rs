//! docs/scaling.md rests on measured figures: each is a row `| Mn |` naming the command that
//! produced it and the decision that records it. These tests fail when a cited script is
//! renamed or gone, a cited decision's heading changes, a figure is cited that the table does
//! not define (or defined and never used), or the README stops pointing at the document.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SCALING: &str = "docs/scaling.md";
const DECISIONS: &str = "docs/decisions.md";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every `scripts/...` path the text names, up to the first character a path cannot hold here.
fn script_paths(text: &str) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("scripts/") {
        let tail = &rest[at..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || "/._-".contains(c))).unwrap_or(tail.len());
        paths.insert(tail[..end].trim_end_matches('.').to_owned());
        rest = &tail[end..];
    }
    paths
}

/// The titles cited as `docs/decisions.md, "Title"`, a citation wrapped over lines read as one.
fn cited_decisions(text: &str) -> Vec<String> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let marker = format!("{DECISIONS}, \"");
    text.match_indices(&marker)
        .filter_map(|(at, _)| {
            let tail = &text[at + marker.len()..];
            tail.find('"').map(|end| tail[..end].to_owned())
        })
        .collect()
}

/// `Mn` tokens: those the figures table defines (`| Mn |` at a row's start) and those cited
/// anywhere else.
fn figures(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut defined = BTreeSet::new();
    let mut cited = BTreeSet::new();
    for line in text.lines() {
        let mut body = line;
        if let Some(row) = line.strip_prefix("| M") {
            let digits: String = row.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() && row[digits.len()..].starts_with(" |") {
                defined.insert(format!("M{digits}"));
                body = &row[digits.len()..];
            }
        }
        let chars: Vec<char> = body.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let starts_word = i == 0 || !chars[i - 1].is_alphanumeric();
            let digits: String = chars[i + 1..].iter().take_while(|c| c.is_ascii_digit()).collect();
            let ends_word = chars.get(i + 1 + digits.len()).is_none_or(|c| !c.is_alphanumeric());
            if c == 'M' && starts_word && !digits.is_empty() && ends_word {
                cited.insert(format!("M{digits}"));
            }
        }
    }
    (defined, cited)
}

#[test]
fn every_script_the_scaling_document_cites_exists_and_runs() {
    let text = read(SCALING);
    let paths = script_paths(&text);
    assert!(paths.iter().any(|p| p == "scripts/bench-pipeline.sh"), "the document cites no benchmark script: {paths:?}");
    let missing: Vec<_> = paths.iter().filter(|p| !Path::new(&root().join(p)).is_file()).collect();
    assert!(missing.is_empty(), "{SCALING} cites scripts that do not exist: {missing:?}");
    use std::os::unix::fs::PermissionsExt;
    let not_executable: Vec<_> = paths
        .iter()
        .filter(|p| p.ends_with(".sh"))
        .filter(|p| std::fs::metadata(root().join(p)).map(|m| m.permissions().mode() & 0o111 == 0).unwrap_or(true))
        .collect();
    assert!(not_executable.is_empty(), "{SCALING} cites scripts that are not executable: {not_executable:?}");
}

#[test]
fn every_decision_the_scaling_document_cites_is_a_heading_of_the_decisions() {
    let text = read(SCALING);
    let headings: BTreeSet<String> = read(DECISIONS).lines().filter_map(|l| l.strip_prefix("## ")).map(|t| t.trim().to_owned()).collect();
    let cited = cited_decisions(&text);
    assert!(!cited.is_empty(), "{SCALING} cites no decision");
    let unknown: Vec<_> = cited.iter().filter(|t| !headings.contains(t.as_str())).collect();
    assert!(unknown.is_empty(), "{SCALING} cites decisions {DECISIONS} has no heading for: {unknown:?}");
}

#[test]
fn every_measured_figure_cited_is_defined_and_every_one_defined_is_cited() {
    let (defined, cited) = figures(&read(SCALING));
    assert!(defined.len() >= 5, "the figures table of {SCALING} defines only {defined:?}");
    let undefined: Vec<_> = cited.difference(&defined).collect();
    assert!(undefined.is_empty(), "{SCALING} cites figures its table does not define: {undefined:?}");
    let unused: Vec<_> = defined.difference(&cited).collect();
    assert!(unused.is_empty(), "{SCALING} defines figures it never uses: {unused:?}");
}

#[test]
fn the_readme_points_at_the_scaling_document() {
    assert!(read("README.md").contains("scaling.md"), "README.md does not mention {SCALING}");
}

#[test]
fn the_citation_readers_find_what_they_look_for() {
    let text = "run `scripts/bench-records.sh 100000` and scripts/bench-ocr.sh. See docs/decisions.md,\n\"A\nb\" and (M2).\n| M1 | x (M3) |\nM4x LM5 M6";
    assert_eq!(script_paths(text), BTreeSet::from(["scripts/bench-records.sh".to_owned(), "scripts/bench-ocr.sh".to_owned()]));
    assert_eq!(cited_decisions(text), vec!["A b".to_owned()]);
    let (defined, cited) = figures(text);
    assert_eq!(defined, BTreeSet::from(["M1".to_owned()]));
    assert_eq!(cited, BTreeSet::from(["M2".to_owned(), "M3".to_owned(), "M6".to_owned()]));
}
