//! What later revisions changed in the document a signature covered, judged on the resolved
//! documents: from the trailer's `/Root` of the signed revision and of the newest one, the
//! two object graphs are walked side by side (catalog, page tree, pages, contents,
//! resources, annotations, form fields, actions, names), and every difference is classified
//! by the least permission that allows it (ISO 32000-2 §12.8.2.2, PAdES: DSS and document
//! time-stamps, then signing and form filling, then annotations).

use crate::pdf::{self, Revision};
use lopdf::{Dictionary, Object, ObjectId};
use serde::Serialize;
use std::collections::HashSet;
use std::io::{Read, Seek};

mod rules;
mod structure;

/// Most objects compared for one signature; a larger document cannot be judged and is not valid.
const MAX_OBJECTS: usize = 500_000;
/// Deepest nesting of direct objects followed.
const MAX_DEPTH: usize = 64;
/// Most top-level fields looked at for signature widgets.
pub(super) const MAX_FIELDS: usize = 10_000;
/// Most `/Parent` links followed to name a field.
pub(super) const MAX_NAME_DEPTH: usize = 32;

/// The least permission under which a change is allowed, from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Needs {
    /// DSS (validation data) and document time-stamps: allowed after any signature.
    LongTerm,
    /// New signatures, filling form fields and the form plumbing they need (DocMDP P=2).
    FormFilling,
    /// Adding, changing or removing annotations (DocMDP P=3).
    Annotations,
    /// Never allowed after a signature.
    Nothing,
}

/// One change a later revision made.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Stable code: what kind of change.
    pub code: &'static str,
    /// The object, as `N G R` in the newest revision (or `trailer`).
    pub object: String,
    pub what: String,
    pub needs: Needs,
    /// Fully qualified name of the form field whose value changed, for FieldMDP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Whether the permissions in force allow it; set by the verifier.
    pub allowed: bool,
}

/// Every change from the signed revision `old` to the newest one, `new`.
pub(crate) fn changes<R: Read + Seek>(old: &Revision<R>, new: &Revision<R>) -> Vec<Change> {
    let mut walk = Walk { old, new, seen: HashSet::new(), out: Vec::new(), visited: 0, signature_kids: None };
    // Nothing the signed revision holds was placed anew: what its catalog reaches is the
    // same, and only the trailer needs a look.
    let root = |rev: &Revision<R>| rev.trailer().get(b"Root").ok().cloned();
    let untouched = pdf::changed_since(new, old).is_empty() && root(old) == root(new);
    walk.trailer(untouched);
    for id in pdf::reused_since(new, old) {
        walk.push(Needs::Nothing, "object_number_reused", format!("{id} 0 R"), "a freed object number is used again".into());
    }
    // A new field shows up in the page's annotations and in the form's fields: once is enough.
    let mut seen = HashSet::new();
    walk.out.retain(|c| seen.insert((c.code, c.object.clone(), c.what.clone())));
    walk.out
}

/// The role an object plays, which decides what may change in it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Any,
    Catalog,
    AcroForm,
    /// An entry of a page's `/Annots`.
    Annotation,
}

pub(super) struct Walk<'a, 'f, R> {
    pub(super) old: &'a Revision<'f, R>,
    pub(super) new: &'a Revision<'f, R>,
    /// Pairs of (old, new) object numbers already compared.
    pub(super) seen: HashSet<(u32, u32)>,
    pub(super) out: Vec<Change>,
    pub(super) visited: usize,
    /// Widgets listed as kids of the newest form's signature fields, found when first needed.
    pub(super) signature_kids: Option<HashSet<u32>>,
}

pub(super) fn label(id: ObjectId) -> String {
    format!("{} {} R", id.0, id.1)
}

impl<R: Read + Seek> Walk<'_, '_, R> {
    pub(super) fn push(&mut self, needs: Needs, code: &'static str, object: String, what: String) {
        self.out.push(Change { code, object, what, needs, field: None, allowed: false });
    }

    fn trailer(&mut self, untouched: bool) {
        let root = |rev: &Revision<R>| rev.trailer().get(b"Root").and_then(Object::as_reference).ok();
        let (Some(old_root), new_root) = (root(self.old), root(self.new)) else { return };
        match new_root {
            Some(_) if untouched => {}
            Some(r) => {
                // A catalog under a new number is judged by what it holds: a faithful copy
                // changes nothing, a substituted document differs below it.
                if r.0 != old_root.0 {
                    let what = format!("the trailer's /Root names {} instead of the signed catalog {}", label(r), label(old_root));
                    self.push(Needs::LongTerm, "root_moved", label(r), what);
                }
                self.objects(old_root, r, Role::Catalog)
            }
            None => self.push(Needs::Nothing, "root_replaced", "trailer".into(), "the trailer has no /Root".into()),
        }
        // Keys a writer sets in every section; anything else added to the trailer is not
        // the business of a later revision.
        let routine: &[&[u8]] =
            &[b"Size", b"Prev", b"Root", b"Info", b"ID", b"XRefStm", b"Type", b"W", b"Index", b"Length", b"Filter", b"DecodeParms", b"DL"];
        let (old_trailer, new_trailer) = (self.old.trailer().clone(), self.new.trailer().clone());
        for (key, value) in new_trailer.iter().filter(|(k, _)| !routine.contains(&k.as_slice())) {
            if old_trailer.get(key).ok() != Some(value) {
                self.push(Needs::Nothing, "trailer_changed", "trailer".into(), format!("trailer /{} added or changed", name(key)));
            }
        }
        let info = |rev: &Revision<R>| rev.trailer().get(b"Info").ok().and_then(|i| rev.resolve(i).ok());
        if info(self.old) != info(self.new) {
            self.push(Needs::LongTerm, "info_updated", "trailer".into(), "document information (producer, dates) updated".into());
        }
    }

    /// Compares object `a` of the signed revision with object `b` of the newest one.
    fn objects(&mut self, a: ObjectId, b: ObjectId, role: Role) {
        if !self.seen.insert((a.0, b.0)) {
            return;
        }
        self.visited += 1;
        if self.visited == MAX_OBJECTS {
            self.push(Needs::Nothing, "analysis_limit", label(b), format!("more than {MAX_OBJECTS} objects to compare"));
        }
        if self.visited >= MAX_OBJECTS {
            return;
        }
        // The signed revision was read when it was signed; an object it cannot read was
        // unreadable then too, and there is nothing to compare it with.
        let Ok(before) = self.old.object_shallow(a) else { return };
        let unchanged = a.0 == b.0 && self.new.same_entry(self.old, a.0);
        let after = if unchanged {
            before.clone()
        } else {
            match self.new.object_shallow(b) {
                Ok(o) => o,
                Err(e) => {
                    return self.push(Needs::Nothing, "object_unreadable", label(b), format!("does not read in the newest revision: {e}"))
                }
            }
        };
        if after == Object::Null && before != Object::Null {
            let what = if self.new.is_free(b.0) { "freed by a later cross-reference section" } else { "no longer defined" };
            return self.push(Needs::Nothing, "object_freed", label(b), format!("{} {what}", kind(&before)));
        }
        if let (Object::Stream(_), Object::Stream(_)) = (&before, &after) {
            if !unchanged && !self.same_stream_data(a, b) {
                self.push(Needs::Nothing, "content_changed", label(b), format!("{} data changed", kind(&before)));
            }
        }
        self.values(&before, &after, &label(b), role, 0);
    }

    fn same_stream_data(&mut self, a: ObjectId, b: ObjectId) -> bool {
        match (self.old.object(a), self.new.object(b)) {
            (Ok(Object::Stream(x)), Ok(Object::Stream(y))) => x.content == y.content,
            _ => false,
        }
    }

    /// Compares two values found at the same place; references are followed on each side.
    pub(super) fn values(&mut self, a: &Object, b: &Object, at: &str, role: Role, depth: usize) {
        if depth > MAX_DEPTH {
            return self.push(Needs::Nothing, "analysis_limit", at.into(), "objects nest too deeply".into());
        }
        match (a, b) {
            (Object::Reference(x), Object::Reference(y)) => self.objects(*x, *y, role),
            (Object::Reference(_), _) | (_, Object::Reference(_)) => {
                let resolved = (self.old.resolve(a), self.new.resolve(b));
                match resolved {
                    (Ok(x), Ok(y)) => self.values(&x, &y, at, role, depth + 1),
                    (_, Err(e)) => self.push(Needs::Nothing, "object_unreadable", at.into(), e.to_string()),
                    (Err(_), _) => {}
                }
            }
            (Object::Dictionary(x), Object::Dictionary(y)) => self.dictionaries(x, y, at, role, depth),
            (Object::Stream(x), Object::Stream(y)) => {
                // A stream's length follows its data, which was compared on its own.
                let (mut a, mut b) = (x.dict.clone(), y.dict.clone());
                a.remove(b"Length");
                b.remove(b"Length");
                self.dictionaries(&a, &b, at, role, depth)
            }
            (Object::Array(x), Object::Array(y)) if x.len() == y.len() => {
                for (i, j) in x.iter().zip(y) {
                    self.values(i, j, at, Role::Any, depth + 1);
                }
            }
            _ if a == b => {}
            _ => self.push(Needs::Nothing, "object_changed", at.into(), format!("{} changed", kind(a))),
        }
    }

    fn dictionaries(&mut self, a: &Dictionary, b: &Dictionary, at: &str, role: Role, depth: usize) {
        let is = |d: &Dictionary, key: &[u8], value: &[u8]| d.get(key).and_then(Object::as_name).is_ok_and(|n| n == value);
        if role == Role::Catalog {
            self.catalog(a, b, at, depth)
        } else if role == Role::AcroForm {
            self.form(a, b, at, depth)
        } else if is(a, b"Type", b"Page") {
            self.page(a, b, at, depth)
        } else if a.has(b"FT") || is(a, b"Subtype", b"Widget") {
            self.field(a, b, at, depth)
        } else if is(a, b"Type", b"StructTreeRoot") {
            self.structure_root(a, b, at, depth)
        } else if is(a, b"Type", b"StructElem") || (a.has(b"S") && a.has(b"P") && !a.has(b"Type")) {
            self.structure_element(a, b, at, depth)
        } else if role == Role::Annotation {
            self.annotation(a, b, at, depth)
        } else {
            self.generic(a, b, at, depth, &[])
        }
    }

    /// Every key compared, except `skip` (handled by the caller); `/Parent` and `/P` point
    /// back up the tree and are compared as references only.
    pub(super) fn generic(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize, skip: &[&[u8]]) {
        for (key, before) in a.iter() {
            if skip.contains(&key.as_slice()) {
                continue;
            }
            match b.get(key) {
                Ok(after) if key == b"Parent" || key == b"P" => {
                    if before != after {
                        self.push(Needs::Nothing, "object_changed", at.into(), format!("/{} now points elsewhere", name(key)));
                    }
                }
                Ok(after) => self.values(before, after, at, Role::Any, depth + 1),
                Err(_) => self.push(Needs::Nothing, "object_changed", at.into(), format!("/{} removed", name(key))),
            }
        }
        for (key, _) in b.iter().filter(|(k, _)| !a.has(k) && !skip.contains(&k.as_slice())) {
            let code = match key.as_slice() {
                b"OpenAction" | b"AA" | b"A" => "action_added",
                _ => "object_changed",
            };
            self.push(Needs::Nothing, code, at.into(), format!("/{} added", name(key)));
        }
    }
}

pub(super) fn array<R: Read + Seek>(rev: &Revision<R>, o: Option<&Object>) -> Vec<Object> {
    match o.and_then(|o| rev.resolve(o).ok()) {
        Some(Object::Array(a)) => a,
        _ => Vec::new(),
    }
}

pub(super) fn inherited<R: Read + Seek>(rev: &Revision<R>, d: &Dictionary, key: &[u8]) -> Option<Object> {
    let mut current = d.clone();
    for _ in 0..MAX_NAME_DEPTH {
        if let Ok(v) = current.get(key) {
            return Some(v.clone());
        }
        current = current.get(b"Parent").ok().and_then(|p| rev.dictionary(p, "parent field").ok())?;
    }
    None
}

pub(super) fn name(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

pub(super) fn describe(o: &Object) -> String {
    o.as_reference().map(label).unwrap_or_else(|_| "a direct entry".into())
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
        Object::Array(_) => "array".into(),
        _ => "value".into(),
    }
}
