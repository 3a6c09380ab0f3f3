//! The metadata sheet of a back-file batch: a CSV file, one document a row, read and checked
//! row by row before anything is imported. A row that does not check is refused with its line
//! and the reason; a row that lacks the owner's id or the type is kept, to be flagged.

use crate::domain::{AgencyCode, CitizenId, EnterpriseCode};
use crate::policy::Catalog;
use chrono::NaiveDate;

/// The columns a sheet may have, in any order; only `file` is required.
pub const COLUMNS: [&str; 7] = ["file", "pages", "owner_id", "doc_type", "number", "issue_date", "agency"];
/// Separates the files of a document scanned one page a file.
const FILE_SEPARATOR: char = ';';

/// One document, as its row describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: u32,
    /// Paths inside the batch directory, the document's pages in order.
    pub files: Vec<String>,
    /// The pages of a PDF file that make the document, from 1; all of them when absent.
    pub pages: Option<(u32, u32)>,
    pub owner_id: Option<String>,
    pub doc_type: Option<String>,
    pub number: Option<String>,
    pub issue_date: Option<NaiveDate>,
    /// The issuing agency, in whose name the record is kept.
    pub agency: AgencyCode,
}

/// A row refused, with its line and a stable code.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    pub line: u32,
    /// The row's `file` cell, as written.
    pub file: String,
    pub code: &'static str,
    pub detail: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SheetError {
    #[error("the sheet has no header line")]
    Empty,
    #[error("the sheet has no `file` column (columns: {known})", known = COLUMNS.join(", "))]
    NoFileColumn,
    #[error("line 1: unknown column {0:?} (columns: {known})", known = COLUMNS.join(", "))]
    UnknownColumn(String),
    #[error("line 1: column {0:?} twice")]
    RepeatedColumn(String),
    #[error("line {0}: a quoted cell is not closed")]
    OpenQuote(u32),
}

impl SheetError {
    pub fn code(&self) -> &'static str {
        match self {
            SheetError::Empty => "sheet_empty",
            SheetError::NoFileColumn => "sheet_no_file_column",
            SheetError::UnknownColumn(_) => "sheet_unknown_column",
            SheetError::RepeatedColumn(_) => "sheet_repeated_column",
            SheetError::OpenQuote(_) => "sheet_open_quote",
        }
    }
}

/// What a row needs checked against: the catalog, the agency of rows that name none, and today.
pub struct Rules<'a> {
    pub catalog: &'a Catalog,
    pub agency: &'a AgencyCode,
    pub today: NaiveDate,
}

/// Reads every row of `text`, each checked on its own.
pub fn read(text: &str, rules: &Rules<'_>) -> Result<Vec<Result<Row, RowError>>, SheetError> {
    let records = records(text.strip_prefix('\u{feff}').unwrap_or(text))?;
    let mut records = records.into_iter();
    let (_, header) = records.next().ok_or(SheetError::Empty)?;
    let mut columns = Vec::new();
    for name in header {
        let name = name.trim().to_ascii_lowercase();
        if !COLUMNS.contains(&name.as_str()) {
            return Err(SheetError::UnknownColumn(name));
        }
        if columns.contains(&name) {
            return Err(SheetError::RepeatedColumn(name));
        }
        columns.push(name);
    }
    if !columns.iter().any(|c| c == "file") {
        return Err(SheetError::NoFileColumn);
    }
    Ok(records
        .filter(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()))
        .map(|(line, cells)| row(line, &columns, cells, rules))
        .collect())
}

/// A row of a batch without a sheet: the file alone, whose owner and type are left to review.
pub fn bare(line: u32, file: String, agency: &AgencyCode) -> Row {
    Row { line, files: vec![file], pages: None, owner_id: None, doc_type: None, number: None, issue_date: None, agency: agency.clone() }
}

fn row(line: u32, columns: &[String], cells: Vec<String>, rules: &Rules<'_>) -> Result<Row, RowError> {
    let cell = |name: &str| columns.iter().position(|c| c == name).and_then(|i| cells.get(i)).map(|c| c.trim()).filter(|c| !c.is_empty());
    let file = cell("file").unwrap_or_default().to_owned();
    let refuse = |code: &'static str, detail: String| RowError { line, file: file.clone(), code, detail };
    if cells.len() != columns.len() {
        return Err(refuse("row_malformed", format!("{} cells, the header has {}", cells.len(), columns.len())));
    }
    let files: Vec<String> = file.split(FILE_SEPARATOR).map(str::trim).filter(|f| !f.is_empty()).map(str::to_owned).collect();
    if files.is_empty() {
        return Err(refuse("file_missing", "no file named".into()));
    }
    let pages = cell("pages").map(|p| pages(p).ok_or_else(|| refuse("pages_invalid", format!("pages {p:?}: write N or N-M, from 1"))));
    let pages = pages.transpose()?;
    if pages.is_some() && files.len() > 1 {
        return Err(refuse("pages_invalid", "pages name the pages of one PDF file, not of several files".into()));
    }
    let owner_id = cell("owner_id")
        .map(|id| owner(id).ok_or_else(|| refuse("owner_id_invalid", format!("{id:?} is neither a citizen's id nor an enterprise code"))))
        .transpose()?;
    let doc_type = cell("doc_type").filter(|t| *t != "unknown").map(str::to_owned);
    if let Some(t) = &doc_type {
        if rules.catalog.doc_type(t).is_none() {
            return Err(refuse("doc_type_not_in_catalog", format!("document type {t:?} is not in the policy catalog")));
        }
    }
    let issue_date = cell("issue_date")
        .map(|d| date(d).ok_or_else(|| refuse("issue_date_invalid", format!("{d:?}: write YYYY-MM-DD or DD/MM/YYYY"))))
        .transpose()?;
    if let Some(d) = issue_date.filter(|d| *d > rules.today) {
        return Err(refuse("issue_date_in_future", format!("issued {d}, after today")));
    }
    let agency = match cell("agency") {
        None => rules.agency.clone(),
        Some(a) => AgencyCode::parse(a).map_err(|e| refuse("agency_invalid", e.to_string()))?,
    };
    if !rules.catalog.agencies.contains_key(&agency) {
        return Err(refuse("agency_not_in_catalog", format!("agency {agency} is not in the policy catalog")));
    }
    Ok(Row { line, files, pages, owner_id, doc_type, number: cell("number").map(str::to_owned), issue_date, agency })
}

/// A citizen's id or an enterprise code, as written once it parses.
pub(super) fn owner(id: &str) -> Option<String> {
    if let Ok(id) = CitizenId::parse(id) {
        return Some(id.as_str().to_owned());
    }
    EnterpriseCode::parse(id).ok().map(|c| c.as_str().to_owned())
}

fn pages(text: &str) -> Option<(u32, u32)> {
    let (from, to) = text.split_once('-').unwrap_or((text, text));
    let (from, to) = (from.trim().parse().ok()?, to.trim().parse().ok()?);
    (1 <= from && from <= to).then_some((from, to))
}

/// ISO dates, and the day-first dates Vietnamese registers are written in.
fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y")).ok()
}

/// The records of a CSV text (RFC 4180: quoted cells may hold commas, quotes doubled and line
/// breaks), each with the line it starts on.
fn records(text: &str) -> Result<Vec<(u32, Vec<String>)>, SheetError> {
    let (mut out, mut cells, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut line, mut start, mut quoted) = (1u32, 1u32, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => {
                line += u32::from(c == '\n');
                cell.push(c);
            }
            (false, '"') if cell.trim().is_empty() => {
                cell.clear();
                quoted = true;
            }
            (false, ',') => cells.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                cells.push(std::mem::take(&mut cell));
                out.push((start, std::mem::take(&mut cells)));
                line += 1;
                start = line;
            }
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err(SheetError::OpenQuote(start));
    }
    if !cell.is_empty() || !cells.is_empty() {
        cells.push(cell);
        out.push((start, cells));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        crate::policy::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/policies"))).unwrap()
    }

    fn read_with(text: &str) -> Result<Vec<Result<Row, RowError>>, SheetError> {
        let catalog = catalog();
        let agency = catalog.agencies.keys().next().unwrap().clone();
        read(text, &Rules { catalog: &catalog, agency: &agency, today: NaiveDate::from_ymd_opt(2026, 12, 2).unwrap() })
    }

    #[test]
    fn quoted_cells_keep_commas_quotes_and_line_breaks_and_lines_count_from_the_header() {
        let rows = records("a,b\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",z\nlast,1").unwrap();
        assert_eq!(rows[0], (1, vec!["a".into(), "b".into()]));
        assert_eq!(rows[1], (2, vec!["x, y".into(), "say \"hi\"".into()]));
        assert_eq!(rows[2], (3, vec!["two\nlines".into(), "z".into()]));
        assert_eq!(rows[3], (5, vec!["last".into(), "1".into()]));
        assert_eq!(records("a\n\"open"), Err(SheetError::OpenQuote(2)));
    }

    #[test]
    fn each_bad_row_is_refused_with_its_line_and_a_stable_code() {
        let text = "file,pages,owner_id,doc_type,number,issue_date\n\
            a.png,,001090012345,birth_certificate,12/2010,2010-05-04\n\
            b.pdf,3-1,,,,\n\
            c.png,,12345,,,\n\
            d.png,,,passport_of_mars,,\n\
            e.png,,,,,31/02/2011\n\
            f.png,,,,,2099-01-01\n\
            g.png,,\n\
            ,,,,,\n\
            h.pdf,2,,unknown,,04/05/2010\n";
        let rows = read_with(text).unwrap();
        let codes: Vec<(u32, &str)> = rows.iter().map(|r| r.as_ref().map_or_else(|e| (e.line, e.code), |r| (r.line, "ok"))).collect();
        assert_eq!(
            codes,
            [
                (2, "ok"),
                (3, "pages_invalid"),
                (4, "owner_id_invalid"),
                (5, "doc_type_not_in_catalog"),
                (6, "issue_date_invalid"),
                (7, "issue_date_in_future"),
                (8, "row_malformed"),
                (10, "ok")
            ]
        );
        let first = rows[0].as_ref().unwrap();
        assert_eq!(first.owner_id.as_deref(), Some("001090012345"));
        assert_eq!(first.issue_date, NaiveDate::from_ymd_opt(2010, 5, 4));
        let last = rows[7].as_ref().unwrap();
        assert_eq!((last.pages, last.doc_type.as_deref(), last.issue_date), (Some((2, 2)), None, NaiveDate::from_ymd_opt(2010, 5, 4)));
    }

    #[test]
    fn a_sheet_without_a_file_column_or_with_a_stranger_is_refused_whole() {
        assert_eq!(read_with("owner_id\n001090012345\n"), Err(SheetError::NoFileColumn));
        assert_eq!(read_with("file,colour\na.png,red\n"), Err(SheetError::UnknownColumn("colour".into())));
        assert_eq!(read_with(""), Err(SheetError::Empty));
        let rows = read_with("file,agency\na.png,999.99.99.X99\nb.png;c.png,not-a-code\n").unwrap();
        assert_eq!(rows[0].as_ref().unwrap_err().code, "agency_not_in_catalog");
        assert_eq!(rows[1].as_ref().unwrap_err().code, "agency_invalid");
    }
}
