//! The layering of the crate, checked on its source: the HTTP layer on top, then the
//! services, then storage (the index, the archive, the log), then the domain. A module may
//! name those below it, never those above. Below them all, the crate shared with the worker
//! (`sohoa-protocol`) names nothing of the service, and the worker links neither the
//! service nor its web and storage stacks.

use std::path::{Path, PathBuf};

/// Modules that make up the top: the HTTP handlers, the desk and the server, the process's
/// start-up, the command line. Only they may name one another.
const TOP: &[&str] = &["api", "desk", "server", "startup", "cli", "main.rs", "lib.rs"];
/// The application layer: services and the service's own stages.
const SERVICES: &[&str] = &["service", "seal", "registry", "renewal", "supervise", "custody", "export"];
/// Storage: what persists.
const STORAGE: &[&str] = &["index", "archive", "tlog"];

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
            if above.contains(&name.as_str()) && name != module {
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

/// Packages of the web and storage stacks, the seal's keys and the service itself: what the
/// worker and the crate it shares with the service must not link. (reqwest, the worker's
/// client, brings hyper's client and tower-http's redirects: hyper is barred as a server.)
const SERVICE_STACK: &[&str] =
    &["sohoa", "axum", "sqlx", "sqlx-core", "object_store", "cryptoki", "indicatif", "rcgen", "x509-parser", "cms"];

/// The packages `package` links in a normal build, each with the features it is built with.
fn links(package: &str) -> Vec<(String, Vec<String>)> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["tree", "-p", package, "-e", "normal", "--prefix", "none", "--format", "{p}|{f}"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(out.status.success(), "cargo tree -p {package}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut found: Vec<(String, Vec<String>)> = text
        .lines()
        .filter_map(|line| line.split_once('|'))
        .map(|(p, f)| {
            let name = p.split_whitespace().next().unwrap_or_default().to_owned();
            let features = f.split(" (*)").next().unwrap_or_default().split(',').filter(|f| !f.is_empty()).map(str::to_owned).collect();
            (name, features)
        })
        .collect();
    found.sort();
    found.dedup();
    found
}

/// What of the service's stacks `links` holds: a package of `SERVICE_STACK`, or hyper built
/// to serve.
fn service_stack(links: &[(String, Vec<String>)]) -> Vec<String> {
    links
        .iter()
        .filter(|(name, features)| {
            SERVICE_STACK.contains(&name.as_str())
                || name.starts_with("sqlx")
                || (name.starts_with("hyper") && features.iter().any(|f| f.starts_with("server")))
        })
        .map(|(name, features)| format!("{name} ({})", features.join(",")))
        .collect()
}

#[test]
fn the_worker_links_neither_the_service_nor_its_web_and_storage_stacks() {
    for package in ["sohoa-worker", "sohoa-protocol"] {
        let links = links(package);
        assert!(links.iter().any(|(name, _)| name == "sohoa-protocol"), "{package}: {links:?}");
        let found = service_stack(&links);
        assert!(found.is_empty(), "{package} links {}", found.join(", "));
    }
    // the service itself does link them: the check reads what it is meant to
    let service = service_stack(&links("sohoa"));
    for name in ["sohoa", "axum", "sqlx", "object_store"] {
        assert!(service.iter().any(|f| f.starts_with(&format!("{name} "))), "{name} in {service:?}");
    }
    assert!(service.iter().any(|f| f.starts_with("hyper ") && f.contains("server")), "{service:?}");
}

#[test]
fn the_shared_crate_names_nothing_of_the_service() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("protocol");
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    assert!(files.len() > 20, "{} sources", files.len());
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("sohoa::") || code.contains("sohoa_worker::") {
                found.push(format!("{}:{}", file.strip_prefix(&root).unwrap().display(), n + 1));
            }
        }
    }
    assert!(found.is_empty(), "the shared crate names the service or the worker:\n{}", found.join("\n"));
}
