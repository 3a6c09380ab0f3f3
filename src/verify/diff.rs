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

/// Most objects compared for one signature; a larger document cannot be judged and is not valid.
const MAX_OBJECTS: usize = 500_000;
/// Deepest nesting of direct objects followed.
const MAX_DEPTH: usize = 64;
/// Most top-level fields looked at for signature widgets.
const MAX_FIELDS: usize = 10_000;
/// Most `/Parent` links followed to name a field.
const MAX_NAME_DEPTH: usize = 32;

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
enum Role {
    Any,
    Catalog,
    AcroForm,
    /// An entry of a page's `/Annots`.
    Annotation,
}

struct Walk<'a, 'f, R> {
    old: &'a Revision<'f, R>,
    new: &'a Revision<'f, R>,
    /// Pairs of (old, new) object numbers already compared.
    seen: HashSet<(u32, u32)>,
    out: Vec<Change>,
    visited: usize,
    /// Widgets listed as kids of the newest form's signature fields, found when first needed.
    signature_kids: Option<HashSet<u32>>,
}

fn label(id: ObjectId) -> String {
    format!("{} {} R", id.0, id.1)
}

impl<R: Read + Seek> Walk<'_, '_, R> {
    fn push(&mut self, needs: Needs, code: &'static str, object: String, what: String) {
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
    fn values(&mut self, a: &Object, b: &Object, at: &str, role: Role, depth: usize) {
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
        } else if role == Role::Annotation {
            self.annotation(a, b, at, depth)
        } else {
            self.generic(a, b, at, depth, &[])
        }
    }

    /// Every key compared, except `skip` (handled by the caller); `/Parent` and `/P` point
    /// back up the tree and are compared as references only.
    fn generic(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize, skip: &[&[u8]]) {
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

    fn catalog(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
        let handled: &[&[u8]] = &[b"AcroForm", b"DSS", b"Metadata", b"Version", b"Extensions", b"MarkInfo", b"Names"];
        self.generic(a, b, at, depth, handled);
        if a.get(b"DSS").ok() != b.get(b"DSS").ok() {
            self.push(Needs::LongTerm, "dss_updated", at.into(), "validation data (DSS) added or updated".into());
        }
        for key in [&b"Version"[..], b"Extensions", b"MarkInfo"] {
            if a.get(key).ok() != b.get(key).ok() {
                self.push(Needs::LongTerm, "version_updated", at.into(), format!("/{} updated", name(key)));
            }
        }
        if a.get(b"Metadata").ok() != b.get(b"Metadata").ok() || self.metadata_changed(a, b) {
            self.push(Needs::LongTerm, "metadata_updated", at.into(), "XMP metadata updated".into());
        }
        self.names(a, b, at, depth);
        match (a.get(b"AcroForm"), b.get(b"AcroForm")) {
            (Ok(x), Ok(y)) => self.values(x, y, at, Role::AcroForm, depth + 1),
            (Err(_), Ok(y)) => {
                let fields = self.new.resolve(y).ok().and_then(|f| f.as_dict().ok().and_then(|d| d.get(b"Fields").ok().cloned()));
                let fields = self.new_array(fields.as_ref());
                self.added_entries(&[], &fields, at, true);
            }
            (Ok(_), Err(_)) => self.push(Needs::Nothing, "form_removed", at.into(), "/AcroForm removed".into()),
            (Err(_), Err(_)) => {}
        }
    }

    fn metadata_changed(&mut self, a: &Dictionary, b: &Dictionary) -> bool {
        match (a.get(b"Metadata").and_then(Object::as_reference), b.get(b"Metadata").and_then(Object::as_reference)) {
            (Ok(x), Ok(y)) => !(x == y && self.new.same_entry(self.old, x.0)),
            _ => false,
        }
    }

    /// The name dictionary: JavaScript and embedded files are never allowed in later.
    fn names(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
        let (before, after) = (a.get(b"Names").ok(), b.get(b"Names").ok());
        let keys = |rev: &Revision<R>, o: Option<&Object>| -> Option<Dictionary> { rev.resolve(o?).ok()?.as_dict().ok().cloned() };
        let (old_names, new_names) = (keys(self.old, before), keys(self.new, after));
        for (key, code) in [(&b"JavaScript"[..], "javascript_added"), (b"EmbeddedFiles", "embedded_file_added")] {
            let had = old_names.as_ref().and_then(|d| d.get(key).ok());
            let has = new_names.as_ref().and_then(|d| d.get(key).ok());
            if has.is_some() && had.is_none() {
                self.push(Needs::Nothing, code, at.into(), format!("/Names /{} added", name(key)));
            }
        }
        match (before, after) {
            (Some(x), Some(y)) => self.values(x, y, at, Role::Any, depth + 1),
            (None, Some(_)) => self.push(Needs::Nothing, "names_added", at.into(), "/Names added".into()),
            (Some(_), None) => self.push(Needs::Nothing, "object_changed", at.into(), "/Names removed".into()),
            (None, None) => {}
        }
    }

    fn form(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
        let plumbing: &[&[u8]] = &[b"Fields", b"SigFlags", b"DA", b"DR", b"NeedAppearances"];
        self.generic(a, b, at, depth, plumbing);
        for key in &plumbing[1..] {
            if a.get(key).ok() != b.get(key).ok() {
                self.push(Needs::FormFilling, "form_updated", at.into(), format!("form /{} updated", name(key)));
            }
        }
        let (x, y) = (self.old_array(a.get(b"Fields").ok()), self.new_array(b.get(b"Fields").ok()));
        self.kept_entries(&x, &y, at, ("field_removed", Needs::Nothing), Role::Any, depth);
        self.added_entries(&x, &y, at, true);
    }

    fn page(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
        self.generic(a, b, at, depth, &[b"Annots"]);
        let (x, y) = (self.old_array(a.get(b"Annots").ok()), self.new_array(b.get(b"Annots").ok()));
        self.kept_entries(&x, &y, at, ("annotation_removed", Needs::Annotations), Role::Annotation, depth);
        self.added_entries(&x, &y, at, false);
    }

    /// A form field or widget that the signed revision had: its value and appearance may
    /// change by filling, an empty signature field may be signed; nothing else. A signed
    /// signature field keeps its value and its appearance.
    fn field(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
        let fillable: &[&[u8]] = &[b"V", b"AP", b"AS", b"Kids"];
        self.generic(a, b, at, depth, fillable);
        let (x, y) = (self.old_array(a.get(b"Kids").ok()), self.new_array(b.get(b"Kids").ok()));
        self.kept_entries(&x, &y, at, ("field_removed", Needs::Nothing), Role::Any, depth);
        self.added_entries(&x, &y, at, true);
        let is_sig = self.field_type(a).as_deref() == Some(&b"Sig"[..]);
        let signed = is_sig && inherited(self.old, a, b"V").is_some_and(|v| !matches!(self.old.resolve(&v), Ok(Object::Null)));
        for key in [&b"AP"[..], b"AS"] {
            let (x, y) = (a.get(key).ok(), b.get(key).ok());
            if signed {
                match (x, y) {
                    (Some(x), Some(y)) => self.values(x, y, at, Role::Any, depth + 1),
                    _ if x != y => self.push(
                        Needs::Nothing,
                        "signature_appearance_changed",
                        at.into(),
                        format!("/{} of a signed field changed", name(key)),
                    ),
                    _ => {}
                }
            } else if self.differs(x, y) {
                self.push(Needs::FormFilling, "appearance_updated", at.into(), format!("field /{} updated", name(key)));
            }
        }
        match (a.get(b"V").ok(), b.get(b"V").ok()) {
            // A signature value is signed content: it may never change.
            (Some(x), Some(y)) if is_sig => self.values(x, y, at, Role::Any, depth + 1),
            (None, Some(v)) if is_sig => {
                let timestamp = self.is_timestamp(v);
                let (needs, code, what) = if timestamp {
                    (Needs::LongTerm, "timestamp_added", "document time-stamp added")
                } else {
                    (Needs::FormFilling, "signature_added", "empty signature field signed")
                };
                self.push(needs, code, at.into(), what.into());
            }
            (x, y) if !is_sig && self.differs(x, y) => {
                let field = self.qualified_name(a);
                self.out.push(Change {
                    code: "form_filled",
                    object: at.into(),
                    what: format!("value of field {:?} changed", field.as_deref().unwrap_or("")),
                    needs: Needs::FormFilling,
                    field,
                    allowed: false,
                });
            }
            _ => {}
        }
    }

    /// Whether two values differ, counting a reference to an object placed anew as a change.
    fn differs(&self, x: Option<&Object>, y: Option<&Object>) -> bool {
        x != y || matches!(x, Some(Object::Reference(r)) if !self.new.same_entry(self.old, r.0))
    }

    /// An annotation other than a widget: any change to it needs the annotations permission.
    fn annotation(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
        let mark = self.out.len();
        self.generic(a, b, at, depth, &[]);
        // Whatever changed inside an annotation is one annotation change, unless it could
        // not be read at all.
        let inside: Vec<Change> = self.out.drain(mark..).collect();
        if inside.iter().any(|c| c.code == "object_unreadable" || c.code == "analysis_limit") {
            self.out.extend(inside);
        } else if !inside.is_empty() {
            self.push(Needs::Annotations, "annotation_changed", at.into(), "annotation changed".into());
        }
    }

    /// Entries of `before` must stay in `after`, each compared with itself.
    fn kept_entries(&mut self, before: &[Object], after: &[Object], at: &str, removed: (&'static str, Needs), role: Role, depth: usize) {
        let (code, needs) = removed;
        for (i, x) in before.iter().enumerate() {
            let found = match x {
                Object::Reference(id) => after.iter().find(|y| y.as_reference().ok().is_some_and(|r| r.0 == id.0)),
                _ => after.get(i),
            };
            match found {
                Some(y) => self.values(x, y, at, role, depth + 1),
                None => self.push(needs, code, at.into(), format!("{} removed", describe(x))),
            }
        }
    }

    /// Entries of `after` that `before` lacks: new annotations or fields.
    fn added_entries(&mut self, before: &[Object], after: &[Object], at: &str, fields: bool) {
        let known: HashSet<u32> = before.iter().filter_map(|o| o.as_reference().ok()).map(|r| r.0).collect();
        for y in after {
            if y.as_reference().is_ok_and(|r| known.contains(&r.0)) {
                continue;
            }
            if y.as_reference().is_err() && before.contains(y) {
                continue;
            }
            let object = y.as_reference().map(label).unwrap_or_else(|_| at.to_string());
            let dict = match self.new.resolve(y) {
                Ok(Object::Dictionary(d)) => d,
                Ok(_) => {
                    self.push(Needs::Nothing, "object_changed", object, "an entry that is no dictionary added".into());
                    continue;
                }
                Err(e) => {
                    self.push(Needs::Nothing, "object_unreadable", object, e.to_string());
                    continue;
                }
            };
            let (needs, code, what) = self.classify_new(&dict, y.as_reference().ok(), fields);
            self.push(needs, code, object, what);
        }
    }

    /// What a new field or annotation is: a signature (or time-stamp) field is allowed
    /// with signing, another annotation with annotations, a new form field never.
    fn classify_new(&mut self, d: &Dictionary, id: Option<ObjectId>, field: bool) -> (Needs, &'static str, String) {
        if d.has(b"A") || d.has(b"AA") {
            return (Needs::Nothing, "action_added", "a new field or annotation carries an action".into());
        }
        let is_widget = d.get(b"Subtype").and_then(Object::as_name).is_ok_and(|n| n == b"Widget");
        if self.new_field_type(d).as_deref() == Some(&b"Sig"[..]) || is_widget && self.is_signature_kid(id) {
            return match d.get(b"V") {
                Ok(v) if self.is_timestamp(v) => (Needs::LongTerm, "timestamp_added", "document time-stamp added".into()),
                _ => (Needs::FormFilling, "signature_added", "signature field added".into()),
            };
        }
        if field || is_widget {
            return (Needs::Nothing, "field_added", "a form field other than a signature added".into());
        }
        let subtype = d.get(b"Subtype").and_then(Object::as_name).map(name).unwrap_or_default();
        (Needs::Annotations, "annotation_added", format!("/{subtype} annotation added"))
    }

    /// Whether `id` is a widget that a signature field of the newest form lists in its
    /// `/Kids` (a widget need not point back at its field with `/Parent`).
    fn is_signature_kid(&mut self, id: Option<ObjectId>) -> bool {
        let Some(id) = id else { return false };
        if self.signature_kids.is_none() {
            let mut kids = HashSet::new();
            let form = self.new.catalog().ok().and_then(|(_, c)| c.get(b"AcroForm").ok().and_then(|f| self.new.dictionary(f, "form").ok()));
            let fields = array(self.new, form.as_ref().and_then(|f| f.get(b"Fields").ok()));
            for field in fields.iter().take(MAX_FIELDS).filter_map(|f| self.new.dictionary(f, "field").ok()) {
                if field.get(b"FT").and_then(Object::as_name).is_ok_and(|t| t == b"Sig") {
                    kids.extend(array(self.new, field.get(b"Kids").ok()).iter().filter_map(|k| k.as_reference().ok()).map(|r| r.0));
                }
            }
            self.signature_kids = Some(kids);
        }
        self.signature_kids.as_ref().is_some_and(|k| k.contains(&id.0))
    }

    fn is_timestamp(&self, v: &Object) -> bool {
        self.new
            .resolve(v)
            .ok()
            .and_then(|o| o.as_dict().ok().and_then(|d| d.get(b"Type").and_then(Object::as_name).ok().map(<[u8]>::to_vec)))
            .is_some_and(|t| t == b"DocTimeStamp")
    }

    /// `/FT`, inherited from the parent field when the widget lacks it (signed revision).
    fn field_type(&self, d: &Dictionary) -> Option<Vec<u8>> {
        inherited(self.old, d, b"FT").and_then(|o| o.as_name().ok().map(<[u8]>::to_vec))
    }

    fn new_field_type(&self, d: &Dictionary) -> Option<Vec<u8>> {
        inherited(self.new, d, b"FT").and_then(|o| o.as_name().ok().map(<[u8]>::to_vec))
    }

    /// The field's fully qualified name in the signed revision (`parent.child`).
    fn qualified_name(&self, d: &Dictionary) -> Option<String> {
        let mut parts = Vec::new();
        let mut current = d.clone();
        for _ in 0..MAX_NAME_DEPTH {
            if let Ok(t) = current.get(b"T").and_then(Object::as_str) {
                parts.push(pdf::decode_text(t));
            }
            match current.get(b"Parent").ok().and_then(|p| self.old.dictionary(p, "parent field").ok()) {
                Some(parent) => current = parent,
                None => break,
            }
        }
        parts.reverse();
        (!parts.is_empty()).then(|| parts.join("."))
    }

    fn old_array(&self, o: Option<&Object>) -> Vec<Object> {
        array(self.old, o)
    }

    fn new_array(&self, o: Option<&Object>) -> Vec<Object> {
        array(self.new, o)
    }
}

fn array<R: Read + Seek>(rev: &Revision<R>, o: Option<&Object>) -> Vec<Object> {
    match o.and_then(|o| rev.resolve(o).ok()) {
        Some(Object::Array(a)) => a,
        _ => Vec::new(),
    }
}

fn inherited<R: Read + Seek>(rev: &Revision<R>, d: &Dictionary, key: &[u8]) -> Option<Object> {
    let mut current = d.clone();
    for _ in 0..MAX_NAME_DEPTH {
        if let Ok(v) = current.get(key) {
            return Some(v.clone());
        }
        current = current.get(b"Parent").ok().and_then(|p| rev.dictionary(p, "parent field").ok())?;
    }
    None
}

fn name(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

fn describe(o: &Object) -> String {
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
