//! What later revisions changed in the objects a signature covered, and whether each change
//! is one that signing allows (new signature fields and their form plumbing, DSS data).

use crate::pdf::{self, Revision};
use lopdf::{Dictionary, Object, ObjectId};
use serde::Serialize;
use std::io::{Read, Seek};

/// One changed object after a signature.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub object: String,
    pub what: String,
    pub allowed: bool,
}

/// Compares the signed revision `old` with the newest one, `new`, object by object, for the
/// objects that later cross-reference sections placed anew.
pub(crate) fn changes<R: Read + Seek>(old: &Revision<R>, new: &Revision<R>) -> Vec<Change> {
    let ids = pdf::redefined_since(new, old);
    if ids.is_empty() {
        return Vec::new();
    }
    let pages: Vec<ObjectId> = pdf::pages(old).unwrap_or_default();
    let root = old.trailer().get(b"Root").and_then(Object::as_reference).ok();
    let info = old.trailer().get(b"Info").and_then(Object::as_reference).ok();
    let form = old.catalog().ok().and_then(|(_, c)| c.get(b"AcroForm").and_then(Object::as_reference).ok());
    let mut out = Vec::new();
    for id in ids {
        let label = format!("{} {} R", id.0, id.1);
        let (before, obj) = match (old.object(id), new.object(id)) {
            (Ok(before), Ok(obj)) => (before, obj),
            (_, Err(e)) | (Err(e), _) => {
                out.push(Change { object: label, what: format!("unreadable: {e}"), allowed: false });
                continue;
            }
        };
        if before == obj || before == Object::Null {
            continue;
        }
        let change = if Some(id) == root {
            dict_change(&before, &obj, &[b"AcroForm", b"DSS", b"Extensions", b"Version", b"Metadata"], "catalog")
        } else if Some(id) == info {
            ("document information (producer, dates) updated".to_string(), true)
        } else if is_metadata(&before) && is_metadata(&obj) {
            ("XMP metadata updated".to_string(), true)
        } else if Some(id) == form {
            dict_change(&before, &obj, &[b"Fields", b"SigFlags", b"DR", b"DA", b"NeedAppearances"], "form")
        } else if let Some(index) = pages.iter().position(|p| *p == id) {
            page_change(&before, &obj, old, new, index + 1)
        } else if let (Ok(a), Ok(b)) = (before.as_array(), obj.as_array()) {
            if a.iter().all(|x| b.contains(x)) {
                ("array extended (annotations or fields added)".to_string(), true)
            } else {
                ("array entries removed or replaced".to_string(), false)
            }
        } else if is_signature_field(&obj) && is_signature_field(&before) {
            ("signature field filled".to_string(), true)
        } else {
            (format!("{} modified", kind(&before)), false)
        };
        out.push(Change { object: label, what: change.0, allowed: change.1 });
    }
    out
}

/// A dictionary change is allowed when only `keys` differ.
fn dict_change(before: &Object, after: &Object, keys: &[&[u8]], what: &str) -> (String, bool) {
    let (Ok(a), Ok(b)) = (before.as_dict(), after.as_dict()) else { return (format!("{what} replaced"), false) };
    let changed = changed_keys(a, b);
    let disallowed: Vec<&String> = changed.iter().filter(|k| !keys.iter().any(|ok| ok == &k.as_bytes())).collect();
    if disallowed.is_empty() {
        (format!("{what}: {} updated", changed.join(", ")), true)
    } else {
        (format!("{what}: {} changed", disallowed.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")), false)
    }
}

/// A page may only gain annotations, and only signature widgets.
fn page_change<R: Read + Seek>(before: &Object, after: &Object, old: &Revision<R>, new: &Revision<R>, number: usize) -> (String, bool) {
    let (Ok(a), Ok(b)) = (before.as_dict(), after.as_dict()) else { return (format!("page {number} replaced"), false) };
    let changed = changed_keys(a, b);
    if changed.iter().any(|k| k != "Annots") {
        return (format!("page {number}: {} changed", changed.join(", ")), false);
    }
    let old_annots = annots(a, old);
    let new_annots = annots(b, new);
    if !old_annots.iter().all(|x| new_annots.contains(x)) {
        return (format!("page {number}: annotations removed"), false);
    }
    let added: Vec<&Object> = new_annots.iter().filter(|x| !old_annots.contains(x)).collect();
    let all_sig = added.iter().all(|o| new.resolve(o).is_ok_and(|w| is_signature_field(&w)));
    if all_sig {
        (format!("page {number}: signature field added"), true)
    } else {
        (format!("page {number}: annotations other than signatures added"), false)
    }
}

fn annots<R: Read + Seek>(page: &Dictionary, rev: &Revision<R>) -> Vec<Object> {
    match page.get(b"Annots").ok().and_then(|a| rev.resolve(a).ok()) {
        Some(Object::Array(a)) => a,
        _ => Vec::new(),
    }
}

fn changed_keys(a: &Dictionary, b: &Dictionary) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (k, v) in a.iter() {
        if b.get(k).ok() != Some(v) {
            keys.push(String::from_utf8_lossy(k).into_owned());
        }
    }
    for (k, _) in b.iter() {
        if !a.has(k) {
            keys.push(String::from_utf8_lossy(k).into_owned());
        }
    }
    keys
}

fn is_metadata(o: &Object) -> bool {
    o.as_stream().ok().and_then(|s| s.dict.get(b"Type").and_then(Object::as_name).ok()).is_some_and(|n| n == b"Metadata")
}

fn is_signature_field(o: &Object) -> bool {
    o.as_dict().ok().and_then(|d| d.get(b"FT").and_then(Object::as_name).ok()).is_some_and(|n| n == b"Sig")
}

fn kind(o: &Object) -> String {
    match o {
        Object::Stream(s) => match s.dict.get(b"Type").and_then(Object::as_name) {
            Ok(t) => format!("{} stream", String::from_utf8_lossy(t)),
            Err(_) => "stream (page content or image)".into(),
        },
        Object::Dictionary(d) => match d.get(b"Type").and_then(Object::as_name) {
            Ok(t) => format!("/{} dictionary", String::from_utf8_lossy(t)),
            Err(_) => "dictionary".into(),
        },
        _ => "object".into(),
    }
}
