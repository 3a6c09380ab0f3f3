//! Field extraction from recognised text: the owner's identity (checked by the citizen id
//! rules, or an enterprise code), full name, dates, document number. Labels are matched
//! on folded text; values are read from the original line.

use super::identity::{self, Reading};
use super::text::{best_match, fold};
use crate::domain::EnterpriseCode;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FieldValue {
    pub value: String,
    /// 0 to 1: labelled and checked values rank above bare matches.
    pub confidence: f32,
    /// Line of the text (0-based) it was read from.
    pub line: usize,
}

/// Labels (folded) that introduce each field on a line.
const NAME_LABELS: [&str; 4] = ["ho va ten", "ho chu dem ten", "ho ten", "full name"];
const BIRTH_LABELS: [&str; 3] = ["ngay thang nam sinh", "sinh ngay", "date of birth"];
const ID_LABELS: [&str; 5] = ["so dinh danh ca nhan", "so cccd", "can cuoc cong dan", "so cmnd", "so giay to tuy than"];
const ENTERPRISE_LABELS: [&str; 3] = ["ma so doanh nghiep", "ma so thue", "ma so chi nhanh"];

/// Digits as OCR sometimes reads them inside a number.
fn digit_like(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        'O' | 'o' | 'D' => Some('0'),
        'l' | 'I' | '|' => Some('1'),
        _ => None,
    }
}

/// Runs of digits (with OCR look-alikes when the run is mostly digits) on a line.
fn numbers(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    for token in line.split(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | ';' | '(' | ')')) {
        let token = token.trim_matches(|c: char| c == '.');
        let mapped: Option<String> = token.chars().map(|c| if c == '-' { Some('-') } else { digit_like(c) }).collect();
        let real = token.chars().filter(char::is_ascii_digit).count();
        if let Some(m) = mapped {
            if real * 2 > token.chars().count() && real >= 6 {
                out.push(m);
            }
        }
    }
    out
}

/// Whether the words before the line's first digit are an id label, OCR slips allowed.
fn id_labelled(line: &str) -> bool {
    let head = fold(line.split(|c: char| c.is_ascii_digit()).next().unwrap_or_default());
    ID_LABELS.iter().any(|l| best_match(l, &head) >= 0.8)
}

/// The digits after an id label, with the spaces and marks OCR put between them removed.
fn joined_digits(line: &str) -> Option<String> {
    let start = line.find(|c: char| c.is_ascii_digit())?;
    let tail: String = line[start..].chars().filter(|c| !c.is_whitespace() && !matches!(c, '.' | ',' | '-' | '\'')).collect();
    let digits: Option<String> = tail.chars().map(digit_like).collect();
    digits.filter(|d| (9..=13).contains(&d.len()))
}

fn after_label<'a>(line: &'a str, labels: &[&str]) -> Option<&'a str> {
    let folded = fold(line);
    // OCR sometimes loses the space between two words of a label ("Họvà tên")
    let compact = folded.replace(' ', "");
    let found = |l: &&str| folded.starts_with(l) || folded.contains(&format!(" {l}")) || compact.starts_with(&l.replace(' ', ""));
    if !labels.iter().any(found) {
        return None;
    }
    line.split_once(':').map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// A person's name: two to six capitalised words, with the specks and stray marks OCR
/// puts around a line left out; any other word after the name refuses the value.
fn name_in(value: &str) -> Option<String> {
    let letters = |w: &&str| w.chars().filter(|c| c.is_alphabetic()).count();
    let words: Vec<&str> = value.split_whitespace().skip_while(|w| letters(w) == 0).collect();
    let n = words.iter().take_while(|w| w.chars().all(char::is_alphabetic) && w.starts_with(char::is_uppercase)).count();
    let noise_after = words[n..].iter().all(|w| letters(w) <= 1);
    ((2..=6).contains(&n) && noise_after).then(|| words[..n].join(" "))
}

fn date_in(text: &str) -> Option<String> {
    // OCR reads a slash as a comma or a space, or loses it
    let re = regex::Regex::new(r"\b(\d{1,2})\s*[/.,\-]?\s*(\d{1,2})\s*[/.,\-]?\s*(\d{4})\b").ok()?;
    let c = re.captures(text)?;
    let (d, m, y): (u32, u32, i32) = (c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
    // digits run together ("12/10 20044") can fit the pattern with a year no paper bears
    if !(1900..=2100).contains(&y) {
        return None;
    }
    chrono::NaiveDate::from_ymd_opt(y, m, d).map(|date| date.format("%Y-%m-%d").to_string())
}

/// "ngày 5 tháng 7 năm 2020", the way documents state where and when they were issued.
fn spelled_date(line: &str) -> Option<String> {
    let re = regex::Regex::new(r"ngay (\d{1,2}) thang (\d{1,2}) nam (\d{4})").ok()?;
    let folded = fold(line);
    let c = re.captures(&folded)?;
    let (d, m, y): (u32, u32, i32) = (c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
    chrono::NaiveDate::from_ymd_opt(y, m, d).map(|date| date.format("%Y-%m-%d").to_string())
}

/// "Số: 145/2015" near the top of a document.
static DOCUMENT_NUMBER: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"^\s*S[ốoóỏ6]\s*[:.]\s*([0-9][0-9A-Za-zĐđ/\-.]*)").expect("a valid pattern"));

/// Keeps `value` unless the field has one read with more confidence.
fn put(fields: &mut BTreeMap<String, FieldValue>, name: &str, value: String, confidence: f32, line: usize) {
    if fields.get(name).is_none_or(|old| old.confidence < confidence) {
        fields.insert(name.to_owned(), FieldValue { value, confidence, line });
    }
}

/// Extracts what it can find; absent fields are left out.
pub fn extract(text: &str) -> BTreeMap<String, FieldValue> {
    let mut fields = BTreeMap::new();
    // the last "ngày … tháng … năm …" line is the place and date of issue
    let mut issued = None;
    // numbers that may be the owner's id, read once the date of birth is known
    let mut ids: Vec<(String, bool, usize)> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let labelled = id_labelled(line);
        let mut found = numbers(line);
        if labelled {
            found.extend(joined_digits(line));
        }
        for number in found {
            if (9..=13).contains(&number.len()) {
                ids.push((number.clone(), labelled, i));
            }
            if after_label(line, &ENTERPRISE_LABELS).is_some() {
                if let Ok(code) = EnterpriseCode::parse(&number) {
                    put(&mut fields, "enterprise_code", code.as_str().to_owned(), 0.9, i);
                }
            }
        }
        if let Some(name) = after_label(line, &NAME_LABELS).and_then(name_in) {
            put(&mut fields, "full_name", name, 0.9, i);
        }
        if let Some(value) = after_label(line, &BIRTH_LABELS) {
            if let Some(date) = date_in(value) {
                put(&mut fields, "date_of_birth", date, 0.9, i);
            }
        }
        if i < 6 {
            if let Some(c) = DOCUMENT_NUMBER.captures(line) {
                put(&mut fields, "document_number", c[1].trim_end_matches('.').to_owned(), 0.85, i);
            }
        }
        if let Some(date) = spelled_date(line) {
            issued = Some((date, i));
        }
    }
    if let Some((date, line)) = issued {
        put(&mut fields, "issue_date", date, 0.8, line);
    }
    let born = fields.get("date_of_birth").and_then(|d| d.value.get(..4)?.parse().ok());
    for (digits, labelled, line) in ids {
        if let Some((id, reading)) = identity::read(&digits, labelled, born) {
            let base = if labelled { 0.95 } else { 0.7 };
            let confidence = match reading {
                Reading::AsPrinted => base,
                Reading::Corrected => base - 0.1,
                Reading::Doubtful => base - 0.2,
            };
            put(&mut fields, "owner_id", id.as_str().to_owned(), confidence, line);
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nSố: 472/2025\nGIẤY KHAI SINH\n\
        Họ và tên: Đặng Đức Hùng\nSố định danh cá nhân: 022205784857\nNgày, tháng, năm sinh: 17/06/2005\n\
        Mã số doanh nghiệp: 0101234567-001\nHà Nội, ngày 28 tháng 4 năm 2024";

    #[test]
    fn reads_labelled_fields() {
        let f = extract(TEXT);
        assert_eq!(f["owner_id"].value, "022205784857");
        assert_eq!(f["owner_id"].confidence, 0.95);
        assert_eq!(f["full_name"].value, "Đặng Đức Hùng");
        assert_eq!(f["date_of_birth"].value, "2005-06-17");
        assert_eq!(f["document_number"].value, "472/2025");
        assert_eq!(f["issue_date"].value, "2024-04-28");
        assert_eq!(f["enterprise_code"].value, "0101234567-001");
    }

    #[test]
    fn ids_split_or_slipped_by_ocr_are_read() {
        assert_eq!(extract("Số định danh cá nhân: 0-18062987081")["owner_id"].value, "048062987081");
        assert_eq!(extract("Số định danh rá nhân: 0483 0477 9371")["owner_id"].value, "048304779371");
        let f = extract("Sổ định danh cá nhân: 0331839438511\nNgày, tháng, năm sinh: 12/10,1989");
        assert_eq!((f["owner_id"].value.as_str(), f["date_of_birth"].value.as_str()), ("033189438511", "1989-10-12"));
        assert!(f["owner_id"].confidence < 0.95, "a corrected id ranks below one read as printed");
    }

    #[test]
    fn names_are_read_through_specks_and_a_lost_space() {
        assert_eq!(extract(". Họ và tên: Trần Thị An '")["full_name"].value, "Trần Thị An");
        assert_eq!(extract("- Họvà tên: Phạm Minh Dũng - :")["full_name"].value, "Phạm Minh Dũng");
        assert_eq!(extract("Họ và tên: Trắn Thị An ˆ")["full_name"].value, "Trắn Thị An");
        // words after the name, or a value that is no name, are refused
        for line in ["Họ và tên: Nguyễn Văn An sinh năm 1990", "Họ và tên: 06/11/2002", "Họ và tên: Lê"] {
            assert!(!extract(line).contains_key("full_name"), "{line}");
        }
    }

    #[test]
    fn ocr_look_alikes_are_read_and_invalid_ids_refused() {
        let f = extract("So dinh danh ca nhan: O22205784857");
        assert_eq!(f["owner_id"].value, "022205784857");
        // province 099 does not exist
        assert!(!extract("Số định danh cá nhân: 099205784857").contains_key("owner_id"));
        assert!(!extract("Ngày, tháng, năm sinh: 31/02/2005").contains_key("date_of_birth"));
        assert!(!extract("Ngày, tháng, năm sinh: 12/10 20044").contains_key("date_of_birth"));
        for slipped in ["10 06/1951", "2401/1951", "24/01,1951"] {
            let f = extract(&format!("Ngày, tháng, năm sinh: {slipped}"));
            assert!(f["date_of_birth"].value.starts_with("1951-"), "{slipped}");
        }
    }
}
