//! What became of each document of a batch, and the end report in CSV and JSON.

use super::sheet::{Row, RowError};
use crate::domain::import::ImportOutcome;
use serde::Serialize;

/// One document's outcome, as the report lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub line: u32,
    pub file: String,
    /// The entry (from 1) of a register page, which is a record of its own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<u32>,
    pub pages: Option<u32>,
    pub outcome: ImportOutcome,
    /// The stable code of a duplicate, flag or failure, with what it refers to.
    pub reason: Option<String>,
    pub record: Option<String>,
    pub owner_id: Option<String>,
    pub doc_type: Option<String>,
    pub number: Option<String>,
    /// Settled by an earlier run of the same batch.
    pub earlier: bool,
    /// The outcome could not be kept in the index; the next run does the row again.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub unkept: bool,
}

impl Outcome {
    pub fn of(row: &Row, outcome: ImportOutcome, reason: Option<String>, record: Option<String>) -> Outcome {
        Outcome {
            line: row.line,
            file: row.files.join(";"),
            entry: None,
            pages: None,
            outcome,
            reason,
            record,
            owner_id: row.owner_id.clone(),
            doc_type: row.doc_type.clone(),
            number: row.number.clone(),
            earlier: false,
            unkept: false,
        }
    }

    /// A row refused before anything of it was read.
    pub fn refused(e: &RowError) -> Outcome {
        Outcome {
            line: e.line,
            file: e.file.clone(),
            entry: None,
            pages: None,
            outcome: ImportOutcome::Failed,
            reason: Some(format!("{}: {}", e.code, e.detail)),
            record: None,
            owner_id: None,
            doc_type: None,
            number: None,
            earlier: false,
            unkept: false,
        }
    }

    pub fn pages(self, pages: u32) -> Outcome {
        Outcome { pages: Some(pages), ..self }
    }

    pub fn entry(self, entry: u32) -> Outcome {
        Outcome { entry: Some(entry), ..self }
    }

    pub fn earlier(self) -> Outcome {
        Outcome { earlier: true, ..self }
    }

    pub fn unkept(self) -> Outcome {
        Outcome { unkept: true, ..self }
    }
}

/// The counts of a batch's outcomes.
#[derive(Debug, Default, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Totals {
    pub imported: usize,
    pub duplicates: usize,
    pub flagged: usize,
    pub failed: usize,
    /// Of those, settled by an earlier run.
    pub earlier: usize,
    pub pages: u64,
}

impl Totals {
    pub fn of(outcomes: &[Outcome]) -> Totals {
        let mut t = Totals::default();
        for o in outcomes {
            match o.outcome {
                ImportOutcome::Imported => t.imported += 1,
                ImportOutcome::Duplicate => t.duplicates += 1,
                ImportOutcome::Flagged => t.flagged += 1,
                ImportOutcome::Failed | ImportOutcome::Started => t.failed += 1,
            }
            t.earlier += usize::from(o.earlier);
            t.pages += u64::from(o.pages.unwrap_or(0));
        }
        t
    }
}

/// The end report: the batch, whether anything was written, the totals and every document.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub batch: &'a str,
    pub dry_run: bool,
    /// Stopped before every document was done (Ctrl-C): running the batch again resumes it.
    pub interrupted: bool,
    pub totals: Totals,
    pub seconds: f64,
    pub documents: &'a [Outcome],
}

impl Report<'_> {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// One line a document (a register entry): line, file, pages, outcome, reason, record,
    /// owner, type, number, whether an earlier run settled it, entry.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("line,file,pages,outcome,reason,record,owner_id,doc_type,number,earlier,entry\n");
        for o in self.documents {
            let cells = [
                o.line.to_string(),
                o.file.clone(),
                o.pages.map(|p| p.to_string()).unwrap_or_default(),
                o.outcome.as_str().to_owned(),
                o.reason.clone().unwrap_or_default(),
                o.record.clone().unwrap_or_default(),
                o.owner_id.clone().unwrap_or_default(),
                o.doc_type.clone().unwrap_or_default(),
                o.number.clone().unwrap_or_default(),
                o.earlier.to_string(),
                o.entry.map(|e| e.to_string()).unwrap_or_default(),
            ];
            out.push_str(&cells.iter().map(|c| quote(c)).collect::<Vec<_>>().join(","));
            out.push('\n');
        }
        out
    }
}

/// A CSV cell, quoted when it holds a comma, a quote or a line break.
fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_with_commas_and_quotes_are_quoted() {
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(quote("plain"), "plain");
    }
}
