//! Civil-status register books (sổ hộ tịch), imported entry by entry. A register page is read
//! by the desk's workers as any back-file page is, its job asking also for the entries of its
//! ruled rows; the page's copy is stored once, by digest, and each entry becomes a `backfile`
//! record of its own: the extract type of its book, the entry's row cut from the page and
//! sealed in the issuing agency's name, its fields, and the page's digest and the row's region
//! in its metadata. An entry whose owner's id is not written (books kept before identity
//! numbers) or not valid is kept too, flagged `owner_id_missing` for review. Progress is kept
//! per entry, under the batch's id and the page's line, so that a page stopped half-way
//! resumes at its first entry not settled.

use super::report::Outcome;
use super::sheet::{self, Row, RowError};
use super::{copy, reason, Batch, ImportError, Importer, KIND, OWNER_ID_MISSING};
use crate::domain::import::{ImportItem, ImportOutcome};
use crate::domain::{random_hex, vietnam_today, Digest};
use crate::index::NewRecord;
use crate::pages::PageError;
use crate::policy::validity_window;
use chrono::NaiveDate;
use serde_json::json;
use sohoa_protocol::register::Entry;
use std::collections::HashMap;

mod image;

/// Which register book the pages come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Book {
    /// Sổ đăng ký khai sinh.
    Birth,
    /// Sổ đăng ký khai tử.
    Death,
}

impl Book {
    pub fn as_str(self) -> &'static str {
        match self {
            Book::Birth => "birth",
            Book::Death => "death",
        }
    }

    /// The catalog type of an entry's record: the extract a civil-status office issues from
    /// the entry is what a citizen would otherwise bring.
    pub fn doc_type(self) -> &'static str {
        match self {
            Book::Birth => "birth_extract",
            Book::Death => "death_extract",
        }
    }
}

impl std::str::FromStr for Book {
    type Err = String;

    fn from_str(s: &str) -> Result<Book, String> {
        match s {
            "birth" => Ok(Book::Birth),
            "death" => Ok(Book::Death),
            _ => Err(format!("{s:?}: a register book is birth or death")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("register pages are read by the workers; this run reads nothing (drop --no-ocr)")]
    Unread,
    #[error("the worker's entry {entry} lies outside its page: {detail}")]
    Outside { entry: usize, detail: String },
    #[error(transparent)]
    Page(#[from] PageError),
    #[error("cannot write an entry's image: {0}")]
    Image(String),
}

impl RegisterError {
    pub fn code(&self) -> &'static str {
        match self {
            RegisterError::Unread => "register_needs_ocr",
            RegisterError::Outside { .. } => "ocr_result_invalid",
            RegisterError::Page(e) => e.code(),
            RegisterError::Image(_) => "pdf_write_failed",
        }
    }
}

/// Refuses a sheet row of a register batch that says what only the entries say.
pub fn check_row(row: Result<Row, RowError>) -> Result<Row, RowError> {
    let row = row?;
    if row.owner_id.is_some() || row.doc_type.is_some() || row.number.is_some() || row.issue_date.is_some() {
        let detail = "a register page's row names its file, pages and agency; its entries carry their owners, type, numbers and dates";
        return Err(RowError { line: row.line, file: row.files.join(";"), code: "register_row_fields", detail: detail.into() });
    }
    Ok(row)
}

/// The batch name under which a page's entries keep their progress, by entry number.
fn entries_batch(batch: &Batch, line: u32) -> String {
    format!("{}/{line}", batch.id)
}

/// An entry as the importer settles it.
struct Settled {
    outcome: ImportOutcome,
    reason: Option<String>,
    record: Option<String>,
}

impl Importer<'_> {
    /// Imports one row of `batch`: a document, or under `register` a page whose entries each
    /// make a record; what became of each.
    pub async fn import_rows(&self, batch: &Batch, row: &Result<Row, RowError>, earlier: Option<&ImportItem>) -> Vec<Outcome> {
        match self.register {
            None => vec![self.import(batch, row, earlier).await],
            Some(book) => self.import_page(batch, row, earlier, book).await,
        }
    }

    async fn import_page(&self, batch: &Batch, row: &Result<Row, RowError>, earlier: Option<&ImportItem>, book: Book) -> Vec<Outcome> {
        let row = match row {
            Ok(row) => row,
            Err(refused) => return vec![Outcome::refused(refused)],
        };
        if let Some(item) = earlier.filter(|i| i.outcome.is_settled()) {
            // a page settled by an earlier run: its entries as they were kept
            let kept = match self.index.import_items(&entries_batch(batch, row.line)).await {
                Ok(kept) => kept,
                Err(e) => return vec![Outcome::of(row, ImportOutcome::Failed, Some(reason(&e.into())), None)],
            };
            if kept.is_empty() {
                return vec![Outcome::of(row, item.outcome, item.reason.clone(), item.record.clone()).earlier()];
            }
            let entry = |i: &ImportItem| Outcome::of(row, i.outcome, i.reason.clone(), i.record.clone()).entry(i.line).earlier();
            return kept.iter().map(entry).collect();
        }
        match self.try_page(batch, row, book).await {
            Ok(outcomes) => outcomes,
            Err((e, source)) => {
                tracing::warn!(batch = %batch.id, line = row.line, code = e.code(), error = %e, "register page not imported");
                vec![self.settle(batch, row, ImportOutcome::Failed, Some(reason(&e)), None, source).await]
            }
        }
    }

    async fn try_page(&self, batch: &Batch, row: &Row, book: Book) -> Result<Vec<Outcome>, (ImportError, Option<Digest>)> {
        let copy = self.copy_of(batch, row).await.map_err(|e| (e, None))?;
        let source = Digest::of(&copy.pdf);
        let at = |e: ImportError| (e, Some(source.clone()));
        let pages = copy.pages;
        if let Some(duplicate) = self.duplicate(row, &source).await.map_err(at)? {
            return Ok(vec![self.settle(batch, row, ImportOutcome::Duplicate, Some(duplicate), None, Some(source)).await.pages(pages)]);
        }
        if self.dry_run {
            let said = Some("register page: its entries are read when the batch runs".to_owned());
            return Ok(vec![Outcome::of(row, ImportOutcome::Imported, said, None).pages(pages)]);
        }
        let seal = self.seals.get(&row.agency).ok_or_else(|| at(ImportError::NoSealKey(row.agency.clone())))?;
        let reader = self.reader.as_ref().ok_or_else(|| at(RegisterError::Unread.into()))?;
        let reading = reader.read_register(&batch.id, row.line, &row.agency, &copy.pdf).await.map_err(|e| at(e.into()))?;
        if reading.entries.is_empty() {
            let flag = Some("register_no_entries: no ruled table with named columns was read on the page".to_owned());
            return Ok(vec![self.settle(batch, row, ImportOutcome::Flagged, flag, None, Some(source)).await.pages(pages)]);
        }
        let (pdf, texts, entries, limits) = (copy.pdf, reading.result.pages.clone(), reading.entries.clone(), self.limits);
        let images = tokio::task::spawn_blocking(move || image::entry_images(&pdf, &texts, &entries, limits))
            .await
            .map_err(|e| at(super::CopyError::Stopped(e.to_string()).into()))?
            .map_err(|e| at(e.into()))?;
        let ocr = json!({
            "job": reading.job,
            "recognition": reading.result.recognition,
            "worker": reading.result.worker,
            "engine": reading.result.engine,
        });

        let kept: HashMap<u32, ImportItem> = self
            .index
            .import_items(&entries_batch(batch, row.line))
            .await
            .map_err(|e| at(e.into()))?
            .into_iter()
            .map(|i| (i.line, i))
            .collect();
        let mut outcomes = Vec::with_capacity(reading.entries.len());
        for (i, (entry, image)) in reading.entries.iter().zip(images).enumerate() {
            let n = i as u32 + 1;
            let page = Page { batch, row, book, source: &source, ocr: &ocr };
            let settled = self.entry(&page, seal, n, entry, image, kept.get(&n)).await;
            let owner = owner_of(entry);
            let mut said = Outcome::of(row, settled.outcome, settled.reason, settled.record).entry(n);
            (said.owner_id, said.doc_type, said.number) = (owner, Some(book.doc_type().to_owned()), field(entry, "entry_number"));
            said.earlier = kept.get(&n).is_some_and(|k| k.outcome.is_settled());
            outcomes.push(said);
        }
        // The page is settled once every entry is; a failed entry is tried again by the next run.
        let failed = outcomes.iter().filter(|o| o.outcome == ImportOutcome::Failed).count();
        let first = outcomes.iter().find_map(|o| o.record.clone());
        let (outcome, why) = match failed {
            0 => (ImportOutcome::Imported, None),
            _ => (ImportOutcome::Failed, Some(format!("register_entries_failed: {failed} of {} entries", outcomes.len()))),
        };
        let page = self.settle(batch, row, outcome, why, first, Some(source)).await;
        if page.unkept {
            outcomes.iter_mut().for_each(|o| o.unkept = true);
        }
        if let Some(o) = outcomes.first_mut() {
            o.pages = Some(pages);
        }
        Ok(outcomes)
    }

    /// Imports entry `n` of a page unless an earlier run settled it (`kept`).
    async fn entry(
        &self,
        page: &Page<'_>,
        seal: &crate::seal::AgencySeal,
        n: u32,
        entry: &Entry,
        image: Vec<u8>,
        kept: Option<&ImportItem>,
    ) -> Settled {
        let flagged = owner_of(entry).is_none();
        let done = |record: String| Settled {
            outcome: if flagged { ImportOutcome::Flagged } else { ImportOutcome::Imported },
            reason: flagged.then(|| OWNER_ID_MISSING.to_owned()),
            record: Some(record),
        };
        if let Some(item) = kept.filter(|i| i.outcome.is_settled()) {
            return Settled { outcome: item.outcome, reason: item.reason.clone(), record: item.record.clone() };
        }
        let item = |settled: &Settled| ImportItem {
            batch: entries_batch(page.batch, page.row.line),
            line: n,
            outcome: settled.outcome,
            record: settled.record.clone(),
            source: None,
            reason: settled.reason.clone(),
        };
        // A record named before a stop is in the index, or was never stored at all.
        let started = kept.filter(|i| i.outcome == ImportOutcome::Started).and_then(|i| i.record.clone());
        let stored = match started {
            Some(id) => match self.index.record(&id).await {
                Ok(found) => found.map(|r| r.id),
                Err(e) => return failed(&e.into()),
            },
            None => None,
        };
        let record = match stored {
            Some(id) => id,
            None => {
                let id = random_hex(16);
                let started = Settled { outcome: ImportOutcome::Started, reason: None, record: Some(id.clone()) };
                if let Err(e) = self.index.put_import_item(&item(&started)).await {
                    return failed(&e.into());
                }
                match self.store_entry(page, seal, id, n, entry, image).await {
                    Ok(id) => id,
                    Err(e) => {
                        tracing::warn!(batch = %page.batch.id, line = page.row.line, entry = n, code = e.code(), error = %e, "entry not imported");
                        let settled = failed(&e);
                        // not kept: the next run tries the entry again all the same
                        let _ = self.index.put_import_item(&item(&settled)).await;
                        return settled;
                    }
                }
            }
        };
        let settled = done(record);
        if let Err(e) = self.index.put_import_item(&item(&settled)).await {
            tracing::warn!(batch = %page.batch.id, line = page.row.line, entry = n, error = %e, "cannot keep an entry's progress");
        }
        settled
    }

    /// Seals the entry's row image in the issuing agency's name and stores it as a record.
    async fn store_entry(
        &self,
        page: &Page<'_>,
        seal: &crate::seal::AgencySeal,
        id: String,
        n: u32,
        entry: &Entry,
        image: Vec<u8>,
    ) -> Result<String, ImportError> {
        let (row, book) = (page.row, page.book);
        let limits = self.limits;
        let copy = tokio::task::spawn_blocking(move || copy::unsealed(vec![image], None, limits))
            .await
            .map_err(|e| super::CopyError::Stopped(e.to_string()))??;
        let super::Sealed { digest, size, signing_time, signature: sealed_with } = self.seal_and_put(seal, copy.pdf).await?;
        let owner_id = owner_of(entry);
        // the entry's registration is the issue of what the state holds of it
        let issue_date = field(entry, "registration_date")
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
            .filter(|d| *d <= vietnam_today());
        let validity = self.catalog.doc_type(book.doc_type()).map(|t| t.validity);
        let (valid_from, valid_until) = validity_window(validity, issue_date, None);
        let when = signing_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        let r = entry.region;
        let summary = json!({
            "signatures": [sealed_with],
            // who digitized the book and when, and where in it the entry is: the page's copy,
            // stored once for all its entries, and the entry's row on it
            "digitized": {
                "by": self.by, "at": when, "batch": page.batch.id, "line": row.line,
                "register": {
                    "book": book.as_str(), "entry": n, "page": entry.page, "page_digest": page.source.prefixed(),
                    "region": {"x": r.x, "y": r.y, "w": r.w, "h": r.h, "frame": "upright_deskewed_pixels"},
                },
            },
            "source": { "files": row.files, "pages": row.pages.map(|(a, b)| format!("{a}-{b}")), "digest": page.source.prefixed() },
            "fields": entry.fields,
            "register": { "text": entry.text },
            "ocr": page.ocr,
            "flags": if owner_id.is_none() { vec![OWNER_ID_MISSING] } else { Vec::new() },
        });
        let record = NewRecord {
            id,
            kind: KIND,
            agency: row.agency.clone(),
            dossier: None,
            component: None,
            scan: None,
            owner_id,
            doc_type: book.doc_type().to_owned(),
            number: None,
            issue_date,
            valid_from,
            valid_until,
            digest,
            size,
            manifest_digest: Digest::of(b""),
            summary,
        };
        let detail = json!({"batch": page.batch.id, "line": row.line, "entry": n, "doc_type": record.doc_type});
        self.store_record(record, &page.batch.id, detail).await
    }
}

/// The page an entry is on, as its record names it.
struct Page<'p> {
    batch: &'p Batch,
    row: &'p Row,
    book: Book,
    /// The digest of the page's copy.
    source: &'p Digest,
    /// Who read the page with what.
    ocr: &'p serde_json::Value,
}

fn failed(e: &ImportError) -> Settled {
    Settled { outcome: ImportOutcome::Failed, reason: Some(reason(e)), record: None }
}

fn field(entry: &Entry, name: &str) -> Option<String> {
    entry.fields.get(name).map(|c| c.value.clone())
}

/// The entry's owner's id, when written and valid by the id rules.
fn owner_of(entry: &Entry) -> Option<String> {
    field(entry, "owner_id").and_then(|id| sheet::owner(&id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_register_row_names_only_its_page() {
        let catalog = crate::policy::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/policies"))).unwrap();
        let agency = catalog.agencies.keys().next().unwrap().clone();
        let page = sheet::bare(2, "p1.png".into(), &agency);
        assert!(check_row(Ok(page.clone())).is_ok());
        let with_owner = Row { owner_id: Some("001090012345".into()), ..page };
        assert_eq!(check_row(Ok(with_owner)).unwrap_err().code, "register_row_fields");
        assert_eq!("death".parse::<Book>().map(Book::doc_type), Ok("death_extract"));
        assert!("marriage".parse::<Book>().is_err());
    }
}
