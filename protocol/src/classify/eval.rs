//! Measuring classification and extraction against labelled scans: top-1 accuracy on
//! in-scope scans, abstention on out-of-scope ones, exact matches per field, and the
//! confusion matrix. Shared by `sohoa classify eval` and the quality tests.

use super::{FieldValue, UNKNOWN};
use std::collections::BTreeMap;
use std::fmt::Write;
use unicode_normalization::UnicodeNormalization;

/// Fields read from the top level of a label that has no `fields` object (the names
/// extraction reports).
const FIELD_NAMES: [&str; 6] = ["owner_id", "enterprise_code", "full_name", "date_of_birth", "document_number", "issue_date"];

/// What a labelled scan should give.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// A catalog type, or `unknown` for a page that is none.
    pub doc_type: String,
    pub fields: BTreeMap<String, String>,
}

impl Label {
    /// `{"doc_type": ..., "fields": {...}}` as the desk's corrections and the sample
    /// generator write it; a label without `fields` may hold them at the top level.
    pub fn from_json(value: &serde_json::Value) -> Option<Label> {
        let doc_type = value["doc_type"].as_str()?.to_owned();
        let strings = |map: &serde_json::Map<String, serde_json::Value>, only_known: bool| -> BTreeMap<String, String> {
            map.iter()
                .filter(|(k, _)| !only_known || FIELD_NAMES.contains(&k.as_str()))
                .filter_map(|(k, v)| v.as_str().filter(|s| !s.trim().is_empty()).map(|s| (k.clone(), s.to_owned())))
                .collect()
        };
        let fields = match (value["fields"].as_object(), value.as_object()) {
            (Some(fields), _) => strings(fields, false),
            (None, Some(top)) => strings(top, true),
            (None, None) => BTreeMap::new(),
        };
        Some(Label { doc_type, fields })
    }
}

/// Hits out of a total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rate {
    pub hits: usize,
    pub total: usize,
}

impl Rate {
    /// 0 to 1; 1 when there was nothing to count.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.hits as f64 / self.total as f64
        }
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:6.2} % ({}/{})", 100.0 * self.ratio(), self.hits, self.total)
    }
}

/// Counts over labelled scans.
#[derive(Debug, Default)]
pub struct Tally {
    /// (truth, classified) to count.
    confusion: BTreeMap<(String, String), usize>,
    fields: BTreeMap<String, Rate>,
    /// Fields whose extracted value differed: (field, truth, extracted or empty).
    misread: Vec<(String, String, String)>,
}

/// Values compare in NFC with whitespace collapsed: the same text however it was keyed.
fn same(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").nfc().collect::<String>();
    norm(a) == norm(b)
}

impl Tally {
    /// Counts one scan: its label, the type it was classified as and the fields extracted.
    pub fn add(&mut self, label: &Label, classified: &str, extracted: &BTreeMap<String, FieldValue>) {
        *self.confusion.entry((label.doc_type.clone(), classified.to_owned())).or_default() += 1;
        for (name, truth) in &label.fields {
            let got = extracted.get(name).map(|f| f.value.as_str());
            let rate = self.fields.entry(name.clone()).or_default();
            rate.total += 1;
            if got.is_some_and(|g| same(g, truth)) {
                rate.hits += 1;
            } else {
                self.misread.push((name.clone(), truth.clone(), got.unwrap_or_default().to_owned()));
            }
        }
    }

    fn count(&self, pick: impl Fn(&str, &str) -> bool) -> usize {
        self.confusion.iter().filter(|((t, c), _)| pick(t, c)).map(|(_, n)| n).sum()
    }

    /// In-scope scans classified as their type.
    pub fn accuracy(&self) -> Rate {
        Rate { hits: self.count(|t, c| t != UNKNOWN && t == c), total: self.count(|t, _| t != UNKNOWN) }
    }

    /// Out-of-scope scans answered `unknown`.
    pub fn abstention(&self) -> Rate {
        Rate { hits: self.count(|t, c| t == UNKNOWN && c == UNKNOWN), total: self.count(|t, _| t == UNKNOWN) }
    }

    /// Exact matches of one field over the scans whose label holds it.
    pub fn field(&self, name: &str) -> Rate {
        self.fields.get(name).copied().unwrap_or_default()
    }

    /// Rates, field matches, the confusion matrix (rows truth, columns classified) and the
    /// mistakes, as printed by `sohoa classify eval`.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let (accuracy, abstention) = (self.accuracy(), self.abstention());
        let _ =
            writeln!(out, "scans: {} ({} in scope, {} out of scope)", accuracy.total + abstention.total, accuracy.total, abstention.total);
        if accuracy.total > 0 {
            let _ = writeln!(out, "top-1 accuracy:                {accuracy}");
        }
        if abstention.total > 0 {
            let _ = writeln!(out, "out of scope answered unknown: {abstention}");
        }
        if !self.fields.is_empty() {
            let _ = writeln!(out, "field exact match:");
            for (name, rate) in &self.fields {
                let _ = writeln!(out, "  {name:<20} {rate}");
            }
        }
        self.matrix(&mut out);
        let mistakes: Vec<_> = self.confusion.iter().filter(|((t, c), _)| t != c).collect();
        if !mistakes.is_empty() {
            let _ = writeln!(out, "mistakes (truth -> classified: count):");
            for ((truth, classified), n) in mistakes {
                let _ = writeln!(out, "  {truth:<32} -> {classified:<32} {n}");
            }
        }
        if !self.misread.is_empty() {
            let _ = writeln!(out, "fields misread (first 20 of {}):", self.misread.len());
            for (name, truth, got) in self.misread.iter().take(20) {
                let _ = writeln!(out, "  {name:<16} {truth:?} read {got:?}");
            }
        }
        out
    }

    /// Types are numbered so that the columns stay narrow; `unknown` comes last.
    fn matrix(&self, out: &mut String) {
        let mut types: Vec<&str> = self.confusion.keys().flat_map(|(t, c)| [t.as_str(), c.as_str()]).collect();
        types.sort_by_key(|t| (*t == UNKNOWN, *t));
        types.dedup();
        let _ = writeln!(out, "confusion (rows truth, columns classified, . for none):");
        let _ = write!(out, "{:36}", "");
        for i in 1..=types.len() {
            let _ = write!(out, "{i:>4}");
        }
        out.push('\n');
        for (i, truth) in types.iter().enumerate() {
            if !self.confusion.keys().any(|(t, _)| t == truth) {
                continue;
            }
            let _ = write!(out, "{:>3} {truth:<32}", i + 1);
            for classified in &types {
                match self.confusion.get(&((*truth).to_owned(), (*classified).to_owned())) {
                    Some(n) => {
                        let _ = write!(out, "{n:>4}");
                    }
                    None => out.push_str("   ."),
                }
            }
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn value(v: &str) -> FieldValue {
        FieldValue { value: v.to_owned(), confidence: 0.9, ..FieldValue::default() }
    }

    #[test]
    fn labels_hold_fields_in_an_object_or_at_the_top() {
        let desk = Label::from_json(&json!({"doc_type": "birth_certificate", "fields": {"owner_id": "001303012345"}})).unwrap();
        assert_eq!(desk.fields["owner_id"], "001303012345");
        let old =
            Label::from_json(&json!({"doc_type": "identity_card", "owner_id": "001303012345", "dpi": 300, "quality": "clean"})).unwrap();
        assert_eq!(old.fields.keys().collect::<Vec<_>>(), ["owner_id"]);
        assert!(Label::from_json(&json!({"fields": {}})).is_none());
    }

    #[test]
    fn rates_count_types_abstention_and_fields() {
        let mut tally = Tally::default();
        let birth = Label { doc_type: "birth_certificate".into(), fields: [("full_name".into(), "Lê  Thị Mai".into())].into() };
        let extracted: BTreeMap<String, FieldValue> = [("full_name".to_owned(), value("Lê Thị Mai"))].into();
        tally.add(&birth, "birth_certificate", &extracted);
        tally.add(&birth, "birth_extract", &BTreeMap::new());
        let news = Label { doc_type: UNKNOWN.into(), fields: BTreeMap::new() };
        tally.add(&news, UNKNOWN, &BTreeMap::new());
        assert_eq!(tally.accuracy(), Rate { hits: 1, total: 2 });
        assert_eq!(tally.abstention(), Rate { hits: 1, total: 1 });
        assert_eq!(tally.field("full_name"), Rate { hits: 1, total: 2 });
        let report = tally.report();
        assert!(report.contains("birth_certificate                -> birth_extract"), "{report}");
        assert!(report.contains("  1 birth_certificate                  1   1   ."), "{report}");
    }
}
