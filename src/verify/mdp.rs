//! What a signature permits after it: DocMDP (the certification level of the first
//! signature) and FieldMDP (fields a signature locks), applied to the later changes.

use super::{Needs, Problem, SignatureReport};
use crate::pdf::{self, SignatureEntry};

/// The permissions in force after each signature: the certification level, if the first
/// signature certifies, and each signature's field locks.
pub(crate) struct Permissions {
    /// Offset where the certified revision ends, and its `/P`.
    pub certification: Option<(u64, i64)>,
    /// Fields that signatures lock, with the end of each signer's revision.
    locks: Vec<(u64, pdf::FieldLock)>,
}

impl Permissions {
    pub fn of(entries: &[SignatureEntry]) -> Self {
        let first = entries.iter().filter(|e| e.unreadable.is_none()).map(end_of).min();
        let certification =
            entries.iter().find(|e| e.docmdp.is_some() && Some(end_of(e)) == first).and_then(|e| e.docmdp.map(|p| (end_of(e), p)));
        let locks = entries.iter().filter_map(|e| e.locks.clone().map(|l| (end_of(e), l))).collect();
        Permissions { certification, locks }
    }

    /// The most a change after the revision ending at `signed` may need.
    fn allowed(&self, signed: u64) -> Needs {
        match self.certification {
            Some((certified, p)) if certified <= signed => match p {
                1 => Needs::LongTerm,
                2 => Needs::FormFilling,
                _ => Needs::Annotations,
            },
            // Approval signatures: new signatures and form filling, as pyHanko and Adobe
            // judge them; annotations only under a certification that permits them.
            _ => Needs::FormFilling,
        }
    }

    /// Whether a change to field `name` breaks the lock of a signature at or before `signed`.
    fn locked(&self, signed: u64, name: &str) -> bool {
        self.locks.iter().any(|(end, lock)| *end <= signed && lock.locks(name))
    }
}

/// Where the revision a signature covers ends.
pub(crate) fn end_of(e: &SignatureEntry) -> u64 {
    match e.byte_range[..] {
        [_, _, o2, l2] => o2.saturating_add(l2).max(0) as u64,
        _ => 0,
    }
}

/// Marks each later change allowed or not, and reports the ones that are not.
pub(crate) fn judge(r: &mut SignatureReport, permissions: &Permissions) {
    let allowed = permissions.allowed(r.signed_bytes);
    for c in &mut r.changes_after {
        let locked = c.field.as_deref().is_some_and(|f| permissions.locked(r.signed_bytes, f));
        c.allowed = c.needs <= allowed && !locked;
        if !c.allowed {
            let why = if locked {
                "a field this signature locks".to_string()
            } else if c.needs == Needs::Nothing {
                "never allowed after a signature".to_string()
            } else {
                format!("not permitted by the certification (DocMDP P={})", permissions.certification.map_or(0, |(_, p)| p))
            };
            r.problems.push(Problem::new("modified_after_signing", format!("{} {}: {} ({why})", c.code, c.object, c.what)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdf::FieldLock;

    fn entry(end: i64, docmdp: Option<i64>, locks: Option<FieldLock>) -> SignatureEntry {
        SignatureEntry { byte_range: vec![0, 10, 20, end - 20], docmdp, locks, ..Default::default() }
    }

    #[test]
    fn the_first_signature_sets_the_certification_level_for_every_later_change() {
        for (p, most) in [(1, Needs::LongTerm), (2, Needs::FormFilling), (3, Needs::Annotations)] {
            let perms = Permissions::of(&[entry(100, Some(p), None), entry(200, None, None)]);
            assert_eq!((perms.allowed(100), perms.allowed(200)), (most, most), "P={p}");
        }
        let approval = Permissions::of(&[entry(100, None, None)]);
        assert_eq!(approval.allowed(100), Needs::FormFilling, "approval signatures do not permit annotations");
    }

    #[test]
    fn a_certification_after_the_first_signature_sets_nothing() {
        let perms = Permissions::of(&[entry(100, None, None), entry(200, Some(1), None)]);
        assert_eq!(perms.certification, None);
        assert_eq!(perms.allowed(200), Needs::FormFilling);
    }

    #[test]
    fn field_locks_hold_from_their_signature_on() {
        let perms = Permissions::of(&[entry(100, None, Some(FieldLock::Include(vec!["owner".into()]))), entry(200, None, None)]);
        assert!(perms.locked(100, "owner") && perms.locked(200, "owner"));
        assert!(!perms.locked(100, "number"));
        assert!(!perms.locked(50, "owner"), "a change before the locking signature is not its business");
        assert!(FieldLock::Exclude(vec!["a".into()]).locks("b") && !FieldLock::Exclude(vec!["a".into()]).locks("a"));
        assert!(FieldLock::All.locks("anything"));
    }
}
