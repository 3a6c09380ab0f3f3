//! What may change in each kind of object: the catalog and its name tree, the form and
//! its fields, pages and their annotations; and how new entries are classified.

use super::{array, describe, inherited, label, name, Change, Needs, Role, Walk, MAX_FIELDS, MAX_NAME_DEPTH};
use crate::pdf::{self, Revision};
use lopdf::{Dictionary, Object, ObjectId};
use std::collections::HashSet;
use std::io::{Read, Seek};

impl<R: Read + Seek> Walk<'_, '_, R> {
    pub(super) fn catalog(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
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

    pub(super) fn form(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
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

    pub(super) fn page(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
        self.generic(a, b, at, depth, &[b"Annots"]);
        let (x, y) = (self.old_array(a.get(b"Annots").ok()), self.new_array(b.get(b"Annots").ok()));
        self.kept_entries(&x, &y, at, ("annotation_removed", Needs::Annotations), Role::Annotation, depth);
        self.added_entries(&x, &y, at, false);
    }

    /// A form field or widget that the signed revision had: its value and appearance may
    /// change by filling, an empty signature field may be signed; nothing else. A signed
    /// signature field keeps its value and its appearance.
    pub(super) fn field(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
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
                // Filling redraws the appearance of a new value; a new appearance over the
                // same value shows what the signer did not see (the shadow attack "replace").
                if self.value_changed(a, b) {
                    self.push(Needs::FormFilling, "appearance_updated", at.into(), format!("field /{} updated", name(key)));
                } else {
                    self.push(
                        Needs::Nothing,
                        "appearance_changed",
                        at.into(),
                        format!("field /{} redrawn, its value unchanged", name(key)),
                    );
                }
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

    /// Whether the field's value (its own `/V`, or its parent field's) differs between the
    /// signed revision (`a`) and the newest one (`b`).
    fn value_changed(&self, a: &Dictionary, b: &Dictionary) -> bool {
        let value = |rev: &Revision<R>, d: &Dictionary| inherited(rev, d, b"V").and_then(|v| rev.resolve(&v).ok());
        value(self.old, a) != value(self.new, b)
    }

    /// Whether two values differ, counting a reference to an object placed anew as a change.
    fn differs(&self, x: Option<&Object>, y: Option<&Object>) -> bool {
        x != y || matches!(x, Some(Object::Reference(r)) if !self.new.same_entry(self.old, r.0))
    }

    /// An annotation other than a widget: any change to it needs the annotations permission.
    pub(super) fn annotation(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
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
    pub(super) fn kept_entries(
        &mut self,
        before: &[Object],
        after: &[Object],
        at: &str,
        removed: (&'static str, Needs),
        role: Role,
        depth: usize,
    ) {
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
