//! The layering of the crate, checked on its source: the HTTP layer on top, then the
//! services, then storage (the index, the archive, the log), then the domain. A module may
//! name those below it, never those above.

use std::path::{Path, PathBuf};

/// Modules that make up the top: the HTTP handlers, the desk and the server, the process's
/// start-up, the command line. Only they may name one another.
const TOP: &[&str] = &["api", "desk", "server", "startup", "cli", "main.rs", "lib.rs"];
/// The application layer: services and the service's own stages.
const SERVICES: &[&str] = &["service", "seal", "registry", "renewal", "supervise", "custody", "export"];
/// Storage: what persists.
const STORAGE: &[&str] = &["index", "archive", "tlog"];
/// Names that run up for a known reason, each until what it names moves down: a recognised
/// word's type lives in `custody` with the rest of the typed OCR result, until the job
/// protocol has a crate of its own.
const KNOWN: &[(&str, &str)] = &[("classify", "custody")];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`api` for `src/api/jobs.rs`).
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.strip_suffix(".rs").filter(|_| rel.components().count() == 1 && !TOP.contains(&first.as_str())).unwrap_or(&first).to_owned()
}

/// `crate::<module>` paths named in `text`, comments left out.
fn named(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let tail = &rest[at + "crate::".len()..];
            let name: String = tail.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push(name);
            }
            rest = tail;
        }
    }
    out
}

fn violations() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut found = Vec::new();
    for file in files {
        let module = module_of(&root, &file);
        let text = std::fs::read_to_string(&file).unwrap();
        for name in named(&text) {
            let above: &[&str] = if TOP.contains(&module.as_str()) {
                &[]
            } else if SERVICES.contains(&module.as_str()) {
                TOP
            } else if STORAGE.contains(&module.as_str()) {
                &[TOP, SERVICES].concat()
            } else {
                // the domain and the libraries beside it (pdf, sign, verify, policy, ...)
                &[TOP, SERVICES, STORAGE].concat()
            };
            if above.contains(&name.as_str()) && name != module && !KNOWN.contains(&(module.as_str(), name.as_str())) {
                found.push(format!("{} names crate::{name}", file.strip_prefix(&root).unwrap().display()));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn no_module_names_a_layer_above_it() {
    let found = violations();
    assert!(found.is_empty(), "imports running back up a layer:\n{}", found.join("\n"));
}

#[test]
fn the_check_sees_an_import_running_up() {
    assert_eq!(named("use crate::api::AppState; // crate::server"), ["api"]);
    assert_eq!(named("let x = crate::index::open(u); crate::seal::random_hex(4)"), ["index", "seal"]);
    let root = Path::new("/x/src");
    assert_eq!(module_of(root, Path::new("/x/src/api/jobs.rs")), "api");
    assert_eq!(module_of(root, Path::new("/x/src/registry.rs")), "registry");
    assert_eq!(module_of(root, Path::new("/x/src/main.rs")), "main.rs");
}

/// Storage the HTTP handlers reach only through a service.
const STORAGE_BEHIND_SERVICES: &[&str] = &["index", "archive", "tlog"];
/// The files of `api/` that still name storage, each for its reason: `mod.rs` holds the
/// index and the archive in the state the services are borrowed from (`startup` opens
/// them), and `error.rs` is the one mapping of their errors to HTTP statuses.
const API_NAMES_STORAGE: &[(&str, &str)] =
    &[("api/mod.rs", "index"), ("api/mod.rs", "archive"), ("api/error.rs", "index"), ("api/error.rs", "archive")];

#[test]
fn handlers_reach_storage_only_through_services() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root.join("api"), &mut files);
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        for name in named(&text) {
            if STORAGE_BEHIND_SERVICES.contains(&name.as_str()) && !API_NAMES_STORAGE.contains(&(rel.as_str(), name.as_str())) {
                found.push(format!("{rel} names crate::{name}"));
            }
        }
        // a field of the state, reached past the services
        for field in [".index.", ".archive."] {
            if text.lines().any(|l| l.split("//").next().unwrap_or("").contains(field)) && !rel.ends_with("mod.rs") {
                found.push(format!("{rel} reads the state's {}", field.trim_matches('.')));
            }
        }
    }
    found.sort();
    found.dedup();
    assert!(found.is_empty(), "handlers naming storage rather than a service:\n{}", found.join("\n"));
}
