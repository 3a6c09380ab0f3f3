//! The structure tree of a tagged PDF (ISO 32000-1 §14.7): a new signature field adds a
//! structure element that points at its widget, an entry in the parent tree and a higher
//! `/ParentTreeNextKey`, as Word's and iText's signers write them. Those additions go with
//! signing; changing or removing existing elements (what screen readers read) never does.

use super::{inherited, label, name, Needs, Role, Walk};
use lopdf::{Dictionary, Object};
use std::io::{Read, Seek};

/// Most kids of a new structure element looked at.
const MAX_KIDS: usize = 64;

impl<R: Read + Seek> Walk<'_, '_, R> {
    /// `/StructTreeRoot`: its kids and parent tree may grow, its next key increase.
    pub(super) fn structure_root(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
        self.generic(a, b, at, depth, &[b"K", b"ParentTree", b"ParentTreeNextKey"]);
        self.structure_kids(a, b, at, depth);
        let next = |d: &Dictionary| d.get(b"ParentTreeNextKey").and_then(Object::as_i64).ok();
        match (next(a), next(b)) {
            (x, y) if x == y => {}
            (Some(x), Some(y)) if y > x => {
                self.push(Needs::FormFilling, "structure_updated", at.into(), "/ParentTreeNextKey raised".into())
            }
            _ => self.push(Needs::Nothing, "structure_changed", at.into(), "/ParentTreeNextKey changed".into()),
        }
        let tree =
            |rev: &crate::pdf::Revision<R>, d: &Dictionary| d.get(b"ParentTree").ok().and_then(|t| rev.dictionary(t, "parent tree").ok());
        match (tree(self.old, a), tree(self.new, b)) {
            (Some(x), Some(y)) if !x.has(b"Kids") && !y.has(b"Kids") => self.parent_tree(&x, &y, at, depth),
            _ => match (a.get(b"ParentTree").ok(), b.get(b"ParentTree").ok()) {
                (Some(x), Some(y)) => self.values(x, y, at, Role::Any, depth + 1),
                (None, None) => {}
                _ => self.push(Needs::Nothing, "structure_changed", at.into(), "/ParentTree added or removed".into()),
            },
        }
    }

    /// A structure element: its kids may only grow, by elements that tag new signature fields.
    pub(super) fn structure_element(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
        self.generic(a, b, at, depth, &[b"K"]);
        self.structure_kids(a, b, at, depth);
    }

    fn structure_kids(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
        let kids = |rev: &crate::pdf::Revision<R>, d: &Dictionary| match d.get(b"K").ok().map(|k| (k, rev.resolve(k))) {
            Some((_, Ok(Object::Array(items)))) => items,
            Some((k, _)) => vec![k.clone()],
            None => Vec::new(),
        };
        let (before, after) = (kids(self.old, a), kids(self.new, b));
        self.kept_entries(&before, &after, at, ("structure_changed", Needs::Nothing), Role::Any, depth);
        for kid in after.iter().skip(before.len()) {
            let known = kid.as_reference().is_ok_and(|r| before.iter().any(|o| o.as_reference().is_ok_and(|x| x.0 == r.0)));
            if known {
                continue;
            }
            let object = kid.as_reference().map(label).unwrap_or_else(|_| at.to_string());
            if self.tags_a_signature(kid) {
                self.push(Needs::FormFilling, "structure_updated", object, "structure element for a signature field added".into());
            } else {
                self.push(Needs::Nothing, "structure_changed", object, "structure element added".into());
            }
        }
    }

    /// The parent tree's `/Nums`: every earlier pair stays as it was; new pairs come with
    /// new structure elements, judged where those are added.
    fn parent_tree(&mut self, a: &Dictionary, b: &Dictionary, at: &str, depth: usize) {
        self.generic(a, b, at, depth, &[b"Nums"]);
        let pairs = |rev: &crate::pdf::Revision<R>, d: &Dictionary| match d.get(b"Nums").ok().map(|n| rev.resolve(n)) {
            Some(Ok(Object::Array(items))) => items.chunks_exact(2).map(|p| (p[0].as_i64().ok(), p[1].clone())).collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let (before, after) = (pairs(self.old, a), pairs(self.new, b));
        for (key, value) in &before {
            match after.iter().find(|(k, _)| k == key) {
                Some((_, new)) => self.values(value, new, at, Role::Any, depth + 1),
                None => self.push(Needs::Nothing, "structure_changed", at.into(), format!("parent tree entry {key:?} removed")),
            }
        }
        if after.len() > before.len() {
            self.push(Needs::FormFilling, "structure_updated", at.into(), "parent tree entries added".into());
        }
    }

    /// Whether a new structure element's kids are only object references to signature widgets.
    fn tags_a_signature(&self, kid: &Object) -> bool {
        let Ok(element) = self.new.dictionary(kid, "structure element") else { return false };
        let kids = match element.get(b"K").ok().map(|k| self.new.resolve(k)) {
            Some(Ok(Object::Array(items))) => items,
            Some(Ok(other)) => vec![other],
            _ => return false,
        };
        !kids.is_empty()
            && kids.len() <= MAX_KIDS
            && kids.iter().all(|k| {
                let Ok(objr) = self.new.dictionary(k, "object reference") else { return false };
                let is_objr = objr.get(b"Type").and_then(Object::as_name).is_ok_and(|t| t == b"OBJR");
                let widget = objr.get(b"Obj").ok().and_then(|o| self.new.dictionary(o, "widget").ok());
                is_objr
                    && widget
                        .is_some_and(|w| inherited(self.new, &w, b"FT").and_then(|t| t.as_name().ok().map(name)).as_deref() == Some("Sig"))
            })
    }
}
