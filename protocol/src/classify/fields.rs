//! Field extraction from recognised text: the owner's identity (checked by the citizen id
//! rules, or an enterprise code), full name, dates (in figures or in words), the end of a
//! card's validity (`expiry_date`), document number. Labels are matched on folded text, after a colon or
//! inside a sentence ("Tôi tên là ..., số định danh cá nhân ..."); values are read from the
//! original line, and `locate` gives each the boxes of the words it was read from.

use super::identity::{self, Reading};
use super::names;
use super::text::{best_match, fold};
use crate::custody::Word;
use crate::domain::{CitizenId, EnterpriseCode};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Range;

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct FieldValue {
    pub value: String,
    /// 0 to 1: labelled and checked values rank above bare matches.
    pub confidence: f32,
    /// Line of the text (0-based) it was read from.
    pub line: usize,
    /// The words the value was read from, each with its page and box in the pixels of that
    /// page turned upright and deskewed (the frame of the page's recognised `words`); empty
    /// when the value was read from text alone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub boxes: Vec<WordBox>,
    /// Bytes of the line the value was read from; empty for the whole line.
    #[serde(skip)]
    pub(crate) span: Range<usize>,
}

/// Where a word of a field's value stands.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct WordBox {
    /// The page (from 1).
    pub page: u32,
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// Labels (folded) that introduce each field on a line.
const NAME_LABELS: [&str; 4] = ["ho va ten", "ho chu dem ten", "ho ten", "full name"];
/// Phrases a sentence names a person with (lower case, with their marks: "Bá" is a name):
/// "Tôi tên là Nguyễn Văn An, ...", "cấp cho ông/bà Trần Thị Mai".
const NAME_IN_SENTENCE: [&[&str]; 7] =
    [&["tôi", "tên", "là"], &["tên", "tôi", "là"], &["ông/bà"], &["bà/ông"], &["tôi", "là"], &["ông"], &["bà"]];
const BIRTH_LABELS: [&str; 4] = ["ngay thang nam sinh", "sinh ngay", "ngay sinh", "date of birth"];
const ID_LABELS: [&str; 5] = ["so dinh danh ca nhan", "so cccd", "can cuoc cong dan", "so cmnd", "so giay to tuy than"];
const ENTERPRISE_LABELS: [&str; 3] = ["ma so doanh nghiep", "ma so thue", "ma so chi nhanh"];
/// The end of a card's validity, as cards print it.
const EXPIRY_LABELS: [&str; 5] = ["co gia tri den", "gia tri den", "co gia tri su dung den", "ngay het han", "date of expiry"];
/// Labels that begin another field on the same line (two fields to a row): a value ends
/// where one of them begins.
const OTHER_LABELS: [&str; 12] = [
    "gioi tinh",
    "dan toc",
    "quoc tich",
    "noi sinh",
    "que quan",
    "noi thuong tru",
    "noi cu tru",
    "so dinh danh",
    "so cccd",
    "sinh ngay",
    "ngay thang nam sinh",
    "ma so doanh nghiep",
];

/// Digits as OCR sometimes reads them inside a number.
fn digit_like(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        'O' | 'o' | 'D' | 'Q' => Some('0'),
        'l' | 'I' | '|' => Some('1'),
        _ => None,
    }
}

/// More look-alikes, taken only inside an id's value after its label and only when the
/// result is a valid id: a slanted or handwritten 1 read as a slash, a bracket or an
/// exclamation mark, a slashed 0, a Z for 2, an S for 5, a B for 8, a G or b for 6.
fn id_digit_like(c: char) -> Option<char> {
    digit_like(c).or(match c {
        '/' | '!' | ']' | '[' => Some('1'),
        'Ø' | 'ø' => Some('0'),
        'Z' | 'z' => Some('2'),
        'S' => Some('5'),
        'B' => Some('8'),
        'G' | 'b' => Some('6'),
        _ => None,
    })
}

/// Marks OCR leaves around a number: leader dots, underscores, quotes.
const AROUND: [char; 12] = ['.', '…', '_', '\'', '„', '"', '“', '”', '‹', '›', '«', '»'];
/// `AROUND` and brackets, which only `id_digit_like` reads as 1s.
const AROUND_STRICT: [char; 14] = ['.', '…', '_', '\'', '„', '"', '“', '”', '‹', '›', '«', '»', '[', ']'];

/// A run of digits on a line, OCR look-alikes read as digits, with the bytes it covers.
#[derive(Debug, Clone)]
struct Group {
    digits: String,
    /// Whether a dash stood inside it (an enterprise code's branch).
    dash: bool,
    /// Whether it was read through `id_digit_like`'s look-alikes.
    loose: bool,
    span: Range<usize>,
}

/// Tokens of a line with the bytes they cover, split at spaces and list punctuation.
fn tokens(line: &str) -> impl Iterator<Item = (Range<usize>, &str)> {
    line.split_inclusive(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | ';' | '(' | ')'))
        .scan(0usize, |at, piece| {
            let start = *at;
            *at += piece.len();
            let token = piece.trim_end_matches(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | ';' | '(' | ')'));
            Some((start..start + token.len(), token))
        })
        .filter(|(_, t)| !t.is_empty())
}

/// Runs of digits on a line: tokens mostly of digits (look-alikes read as digits), leader
/// dots and marks around them left out.
fn digit_groups(line: &str) -> Vec<Group> {
    digit_groups_with(line, false)
}

/// `digit_groups`, with `id_digit_like`'s look-alikes too when `loose`.
fn digit_groups_with(line: &str, loose: bool) -> Vec<Group> {
    let like = if loose { id_digit_like } else { digit_like };
    let mut out = Vec::new();
    // marks around a number; brackets too where they are not read as 1s
    let around: &[char] = if loose { &AROUND } else { &AROUND_STRICT };
    for (range, token) in tokens(line) {
        let lead = token.len() - token.trim_start_matches(around).len();
        let core = token.trim_matches(around);
        if core.is_empty() {
            continue;
        }
        let real = core.chars().filter(char::is_ascii_digit).count();
        let inner = core.chars().filter(|c| matches!(c, '-' | '.' | '\'')).count();
        if real == 0 || real * 2 <= core.chars().count() - inner {
            continue;
        }
        let mapped: Option<String> = core.chars().filter(|c| !matches!(c, '-' | '.' | '\'')).map(like).collect();
        if let Some(digits) = mapped {
            let start = range.start + lead;
            let loose = core.chars().any(|c| digit_like(c).is_none() && !matches!(c, '-' | '.' | '\''));
            out.push(Group { digits, dash: core.contains('-'), loose, span: start..start + core.len() });
        }
    }
    out
}

/// Consecutive groups from `first` with nothing but spaces and marks between them, joined:
/// each longer run once ("0546637 160" gives "0546637" and "0546637160").
fn joined_from(line: &str, groups: &[Group], first: usize) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for (i, g) in groups.iter().enumerate().skip(first) {
        if let Some(last) = out.last() {
            let between = &line[groups[i - 1].span.end..g.span.start];
            if between.chars().any(char::is_alphanumeric) || between.len() > 6 {
                break;
            }
            let digits = format!("{}{}", last.digits, g.digits);
            let dash = last.dash || g.dash || between.contains('-');
            out.push(Group { digits, dash, loose: last.loose || g.loose, span: last.span.start..g.span.end });
        } else {
            out.push(g.clone());
        }
        if out.last().is_some_and(|g| g.digits.len() > 13) {
            break;
        }
    }
    out
}

/// Whether the words just before `at` on the line (since the last figure) are an id label,
/// OCR slips allowed.
fn id_labelled(line: &str, at: usize) -> bool {
    let before = &line[..at];
    let head = before.rsplit(|c: char| c.is_ascii_digit()).next().unwrap_or_default();
    let head = fold(head);
    ID_LABELS.iter().any(|l| best_match(l, &head) >= 0.8)
}

/// The edit distance between two short strings.
pub(super) fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A folded word of a line and the bytes of the token it comes from.
#[derive(Debug, Clone)]
struct Atom {
    word: String,
    span: Range<usize>,
}

/// The line's words folded, split where letters meet figures ("ngày3" is "ngay", "3").
fn atoms(line: &str) -> Vec<Atom> {
    let mut out = Vec::new();
    for (range, token) in tokens(line) {
        for word in fold(token).split(' ').filter(|w| !w.is_empty()) {
            let mut piece = String::new();
            // O, l and I next to figures are figures misread
            let mut figures = false;
            for c in word.chars() {
                let figure = c.is_ascii_digit() || (figures && matches!(c, 'o' | 'l' | 'i'));
                if !piece.is_empty() && figure != figures {
                    out.push(Atom { word: std::mem::take(&mut piece), span: range.clone() });
                }
                figures = figure;
                piece.push(c);
            }
            out.push(Atom { word: piece, span: range.clone() });
        }
    }
    out
}

/// Where `label` (folded words) stands among `atoms`: the first and one past the last atom.
/// A space OCR lost between two words ("Họvà tên") is allowed, and a slip in a label of
/// ten letters or more ("Vinh ngày" is one slip from "sinh ngày").
fn find_label(atoms: &[Atom], label: &str) -> Option<Range<usize>> {
    let compact: String = label.split(' ').collect();
    let slips = usize::from(compact.len() >= 10);
    for i in 0..atoms.len() {
        let mut joined = String::new();
        for (j, atom) in atoms.iter().enumerate().skip(i) {
            joined.push_str(&atom.word);
            if joined.len() + slips >= compact.len() && edits(&joined, &compact) <= slips {
                return Some(i..j + 1);
            }
            if joined.len() > compact.len() + slips {
                break;
            }
        }
    }
    None
}

/// The value that follows one of `labels` on a line: after the colon that follows the
/// label, or, without one, after the label itself; it ends where another field's label
/// begins. The value's bytes in the line.
fn after_label(line: &str, labels: &[&str]) -> Option<Range<usize>> {
    let atoms = atoms(line);
    let found = labels.iter().filter_map(|l| find_label(&atoms, l)).min_by_key(|r| r.start)?;
    let mut start = atoms[found.end - 1].span.end;
    // the value ends where another field's label begins (two fields to a row)
    let later: Vec<Atom> = atoms[found.end..].to_vec();
    let end = all_labels().filter_map(|l| find_label(&later, l)).map(|r| later[r.start].span.start).min();
    let end = end.unwrap_or(line.len()).max(start);
    // words between the label and a colon qualify the label ("tên người yêu cầu:")
    if let Some(colon) = line[start..end].find(':') {
        if !line[start..start + colon].contains(|c: char| c.is_ascii_digit()) {
            start += colon;
        }
    }
    let rest = &line[start..end];
    let trimmed = rest.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, ':' | '.' | '…' | '_'));
    start += rest.len() - trimmed.len();
    let value = line[start..end].trim_end();
    (!value.is_empty()).then(|| start..start + value.len())
}

/// Every label extraction knows.
fn all_labels() -> impl Iterator<Item = &'static str> {
    NAME_LABELS.iter().chain(&BIRTH_LABELS).chain(&ID_LABELS).chain(&ENTERPRISE_LABELS).chain(&EXPIRY_LABELS).chain(&OTHER_LABELS).copied()
}

/// Whether a line begins with a field's label: then it is no value of the line before.
fn atoms_of_labels(line: &str) -> bool {
    let atoms = atoms(line);
    all_labels().any(|l| find_label(&atoms, l).is_some_and(|r| r.start == 0))
}

/// Leader dots and rules around a written value, read as runs of dots or underscores.
fn without_leaders(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut run = 0;
    for c in value.chars() {
        if matches!(c, '.' | '…' | '_') {
            run += 1;
            continue;
        }
        match run {
            0 => {}
            1 => out.push('.'),
            _ => out.push(' '),
        }
        run = 0;
        out.push(c);
    }
    if run == 1 {
        out.push('.');
    }
    out
}

/// A person's name: two to six capitalised words, with the specks and stray marks OCR
/// puts around a line left out; any other word after the name refuses the value.
fn name_in(value: &str) -> Option<String> {
    let value = without_leaders(value);
    let letters = |w: &&str| w.chars().filter(|c| c.is_alphabetic()).count();
    let words: Vec<&str> = value.split_whitespace().skip_while(|w| letters(w) == 0).collect();
    let n = words.iter().take_while(|w| w.chars().all(char::is_alphabetic) && w.starts_with(char::is_uppercase)).count();
    let noise_after = words[n..].iter().all(|w| letters(w) <= 1);
    ((2..=6).contains(&n) && noise_after).then(|| words[..n].join(" "))
}

/// A name inside a sentence: the capitalised words that follow, up to a comma, a full stop
/// or a word in lower case.
fn name_in_sentence(value: &str) -> Option<String> {
    let mut words = Vec::new();
    for word in value.split_whitespace() {
        let bare = word.trim_end_matches([',', '.', ';', ':']);
        if bare.is_empty() || !bare.chars().all(char::is_alphabetic) || !bare.starts_with(char::is_uppercase) {
            break;
        }
        words.push(bare);
        if bare.len() != word.len() {
            break;
        }
    }
    (2..=6).contains(&words.len()).then(|| words.join(" "))
}

/// The name a sentence of the line gives after one of `NAME_IN_SENTENCE`, and its bytes.
fn named_in_sentence(line: &str) -> Option<(String, Range<usize>)> {
    let words: Vec<(Range<usize>, String)> = line
        .split_whitespace()
        .map(|w| (0..0, w))
        .scan(0usize, |at, (_, w)| {
            let start = *at + line[*at..].find(w).unwrap_or(0);
            *at = start + w.len();
            let bare = w.trim_matches(|c: char| !c.is_alphabetic() && c != '/').to_lowercase();
            Some((start..start + w.len(), bare))
        })
        .collect();
    for phrase in NAME_IN_SENTENCE {
        for at in 0..words.len().saturating_sub(phrase.len() - 1) {
            if words[at..at + phrase.len()].iter().zip(phrase.iter()).all(|((_, w), p)| w == p) {
                let start = words[at + phrase.len() - 1].0.end;
                if let Some(name) = name_in_sentence(line[start..].trim_start_matches(|c: char| c.is_whitespace() || c == ':')) {
                    let last = name.rsplit(' ').next().unwrap_or_default();
                    let end = line[start..].find(last).map_or(line.len(), |p| start + p + last.len());
                    return Some((name, start..end));
                }
            }
        }
    }
    None
}

fn date_in(text: &str) -> Option<(String, Range<usize>)> {
    // OCR reads a slash as a comma or a space, or loses it
    static DATE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b(\d{1,2})\s*[/.,\-]?\s*(\d{1,2})\s*[/.,\-]?\s*(\d{4})\b").expect("a valid pattern")
    });
    let c = DATE.captures(text)?;
    let (d, m, y): (u32, u32, i32) = (c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
    // digits run together ("12/10 20044") can fit the pattern with a year no paper bears
    if !(1900..=2100).contains(&y) {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(y, m, d)?;
    Some((date.format("%Y-%m-%d").to_string(), c.get(0)?.range()))
}

/// A number up to 31 written in figures (OCR look-alikes allowed) or in words ("mười
/// hai", "hai mươi mốt", "mồng ba"); `None` when the words are no number.
fn number_of(words: &[&str]) -> Option<u32> {
    let words: Vec<&str> = words.iter().copied().filter(|w| !matches!(*w, "mong" | "mung")).collect();
    if let [one] = words.as_slice() {
        if one.chars().any(|c| c.is_ascii_digit()) {
            let digits: Option<String> = one.chars().map(|c| digit_like(c).or(if c == 'i' { Some('1') } else { None })).collect();
            return digits?.parse().ok();
        }
    }
    let unit = |w: &str| -> Option<u32> {
        Some(match w {
            "mot" => 1,
            "hai" => 2,
            "ba" => 3,
            "bon" | "tu" => 4,
            "nam" | "lam" | "nham" => 5,
            "sau" => 6,
            "bay" => 7,
            "tam" => 8,
            "chin" => 9,
            _ => return None,
        })
    };
    match words.as_slice() {
        [w] => unit(w).filter(|_| *w != "tu" && *w != "lam" && *w != "nham").or(match *w {
            "muoi" => Some(10),
            "gieng" => Some(1),
            "chap" => Some(12),
            _ => None,
        }),
        ["muoi", u] => Some(10 + unit(u)?),
        [t, "muoi"] => Some(10 * unit(t)?),
        [t, "muoi", u] => Some(10 * unit(t)? + unit(u)?),
        _ => None,
    }
}

/// Whether a folded word is `keyword` with at most one OCR slip.
fn is_word(word: &str, keyword: &str) -> bool {
    word == keyword || (keyword.len() >= 4 && edits(word, keyword) <= 1)
}

/// "ngày 5 tháng 7 năm 2020", "ngày mồng ba tháng chín năm 2022": a date as documents state
/// where and when they were issued, in figures or words, with a slip in a word allowed.
fn spelled_date(line: &str) -> Option<(String, Range<usize>)> {
    let atoms = atoms(line);
    let words: Vec<&str> = atoms.iter().map(|a| a.word.as_str()).collect();
    // the day follows "ngày"; a line may begin with it when OCR lost "ngày"
    let starts = (0..words.len()).filter(|&i| is_word(words[i], "ngay")).map(|i| (i + 1, i)).chain([(0, 0)]);
    for (day_at, start) in starts {
        let Some(month_at) = (day_at..words.len().min(day_at + 4)).find(|&i| is_word(words[i], "thang")) else { continue };
        if month_at == day_at {
            continue;
        }
        // the year: four figures after "năm" ("năm" is five, too: the last one is the year's)
        let Some(year_at) = (month_at + 2..words.len().min(month_at + 6)).find(|&i| {
            words[i].len() == 4 && words[i].chars().all(|c| digit_like(c).is_some()) && matches!(words[i - 1], "nam" | "narn" | "nim")
        }) else {
            continue;
        };
        let year: i32 = words[year_at].chars().filter_map(digit_like).collect::<String>().parse().ok()?;
        let (Some(day), Some(month)) = (number_of(&words[day_at..month_at]), number_of(&words[month_at + 1..year_at - 1])) else {
            continue;
        };
        if !(1900..=2100).contains(&year) {
            continue;
        }
        if let Some(date) = chrono::NaiveDate::from_ymd_opt(year, month, day) {
            return Some((date.format("%Y-%m-%d").to_string(), atoms[start].span.start..atoms[year_at].span.end));
        }
    }
    None
}

/// A date in figures or in words, and its bytes in `text`.
/// The first date `text` gives, figures or words, as YYYY-MM-DD.
pub fn date_in_text(text: &str) -> Option<String> {
    any_date(text).map(|(date, _)| date)
}

fn any_date(text: &str) -> Option<(String, Range<usize>)> {
    date_in(text).or_else(|| spelled_date(text)).or_else(|| spelled_date(&format!("ngay {text}")).map(|(d, _)| (d, 0..text.len())))
}

/// "Số: 145/2015" near the top of a document.
static DOCUMENT_NUMBER: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"^\s*S[ốoóỏ6]\s*[:.]\s*([0-9][0-9A-Za-zĐđ/\-.]*)").expect("a valid pattern"));

/// Keeps `value` unless the field has one read with more confidence.
/// What a name's confidence loses when its family or middle name was respelled.
const RESPELLED_DOUBT: f32 = 0.1;

fn put(fields: &mut BTreeMap<String, FieldValue>, name: &str, value: String, confidence: f32, line: usize, span: Range<usize>) {
    if fields.get(name).is_none_or(|old| old.confidence < confidence) {
        fields.insert(name.to_owned(), FieldValue { value, confidence, line, boxes: Vec::new(), span });
    }
}

/// The owner's id candidates of a line: numbers standing alone, and on an id's label, the
/// digit groups after it joined (OCR splits a number: "033 192894690").
/// `above`: the line before is an id's label alone (a table's cell), which labels the
/// first number of this line.
fn id_candidates(line: &str, above: bool) -> Vec<(Group, bool)> {
    let valid = |r: &&Group| CitizenId::parse(&r.digits).is_ok_and(|id| id.birth_year().is_none() || id.province_exists());
    let mut out: Vec<(Group, bool)> = Vec::new();
    // then, when no valid id stands after a label, read through more look-alikes
    // ("033/90522257"), taking only a valid id so read
    for loose in [false, true] {
        let groups = digit_groups_with(line, loose);
        for (i, g) in groups.iter().enumerate() {
            let first = i == 0 && !line[..g.span.start].contains(char::is_alphabetic);
            let labelled = id_labelled(line, g.span.start) || (above && first);
            if labelled {
                // the longest joined run that is a valid id, else every run for correction
                let runs: Vec<Group> = joined_from(line, &groups, i).into_iter().filter(|r| (9..=13).contains(&r.digits.len())).collect();
                match runs.iter().rev().find(valid) {
                    Some(run) => out.push((run.clone(), true)),
                    None if !loose => out.extend(runs.into_iter().map(|r| (r, true))),
                    None => {}
                }
            } else if !loose && g.digits.len() >= 6 && (9..=13).contains(&g.digits.len()) {
                out.push((g.clone(), false));
            }
        }
        if out.iter().any(|(g, labelled)| *labelled && valid(&g)) {
            break;
        }
    }
    out
}

/// The byte after the owner's id label on a recognised line, if it has one.
fn id_label_end(line: &str) -> Option<usize> {
    let atoms = atoms(line);
    let label = ID_LABELS.iter().filter_map(|l| find_label(&atoms, l)).min_by_key(|r| r.start)?;
    Some(atoms[label.end - 1].span.end)
}

/// A recognised line that carries the owner's id label: the byte after the label, and how
/// surely the line gives the id after it, as `extract` would rate it (0 when it gives none:
/// the value lost, or misread past the id rules and their corrections). The worker reads
/// the rest of a line again, alone, when the id is not read as printed
/// (`sohoa-worker`'s second reading), and keeps the reading that rates higher.
pub fn id_on_line(line: &str) -> Option<(usize, f32)> {
    id_read_on_line(line).map(|(after, surely, _)| (after, surely))
}

/// As `id_on_line`, with the id the line gives after its label, when it gives one.
pub fn id_read_on_line(line: &str) -> Option<(usize, f32, Option<String>)> {
    let after = id_label_end(line)?;
    let best = id_candidates(line, false)
        .into_iter()
        .filter(|(g, labelled)| *labelled && g.span.start >= after)
        .filter_map(|(g, _)| identity::read(&g.digits, true, None).map(|(id, reading)| (id_confidence(true, reading, g.loose), id)))
        .fold(None, |best: Option<(f32, CitizenId)>, (surely, id)| match best {
            Some((top, _)) if top >= surely => best,
            _ => Some((surely, id)),
        });
    Some(match best {
        Some((surely, id)) => (after, surely, Some(id.as_str().to_owned())),
        None => (after, 0.0, None),
    })
}

/// As `id_read_on_line`, for an enterprise code: the byte after its label, how surely the
/// line gives a code after it (0.95 when it does, as `extract` reads one: ten figures, its
/// groups joined; 0 when it gives none) and the code. A code has no rule that a misread
/// figure breaks, so a code given is as surely read as the figures are.
pub fn code_read_on_line(line: &str) -> Option<(usize, f32, Option<String>)> {
    let atoms = atoms(line);
    let label = ENTERPRISE_LABELS.iter().filter_map(|l| find_label(&atoms, l)).min_by_key(|r| r.start)?;
    let after = atoms[label.end - 1].span.end;
    let code = enterprise_code(line, &(after..line.len())).map(|(code, _)| code);
    Some((after, if code.is_some() { 0.95 } else { 0.0 }, code))
}

/// The enterprise code after its label, its digit groups joined when OCR split them.
fn enterprise_code(line: &str, value: &Range<usize>) -> Option<(String, Range<usize>)> {
    let groups: Vec<Group> = digit_groups(line).into_iter().filter(|g| g.span.start >= value.start).collect();
    for first in 0..groups.len().min(3) {
        for run in joined_from(line, &groups, first).into_iter().rev() {
            let code = match run.digits.len() {
                10 => run.digits.clone(),
                13 if run.dash || groups[first].digits.len() >= 10 => format!("{}-{}", &run.digits[..10], &run.digits[10..]),
                _ => continue,
            };
            if let Ok(code) = EnterpriseCode::parse(&code) {
                return Some((code.as_str().to_owned(), run.span));
            }
        }
    }
    None
}

/// An owner's id's confidence: labelled above bare, read as printed above one read through
/// `id_digit_like`'s look-alikes, above the only valid reading one slip away, above a valid
/// one its date of birth or province disputes.
fn id_confidence(labelled: bool, reading: Reading, loose: bool) -> f32 {
    let base = if labelled { 0.95 } else { 0.7 };
    match reading {
        Reading::AsPrinted if loose => base - 0.15,
        Reading::AsPrinted => base,
        Reading::Corrected => base - 0.1,
        Reading::Doubtful => base - 0.2,
    }
}

/// Extracts what it can find; absent fields are left out.
pub fn extract(text: &str) -> BTreeMap<String, FieldValue> {
    let mut fields = BTreeMap::new();
    // the last "ngày … tháng … năm …" line is the place and date of issue
    let mut issued = None;
    // lines whose name was respelled
    let mut respelled_at: Vec<usize> = Vec::new();
    // numbers that may be the owner's id, read once the date of birth is known
    let mut ids: Vec<(Group, bool, usize)> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    // where a field's value may stand: after its label, or on the next line when the label
    // is alone on its line (a table's cell), its words qualifying it ("người yêu cầu")
    let values_of = |i: usize, labels: &[&str]| -> Vec<(usize, Range<usize>)> {
        let mut out = Vec::new();
        let atoms = atoms(lines[i]);
        let Some(label) = labels.iter().filter_map(|l| find_label(&atoms, l)).min_by_key(|r| r.start) else { return out };
        let after = after_label(lines[i], labels);
        let qualified = atoms[label.end..].iter().all(|a| a.word.chars().all(char::is_alphabetic)) && !lines[i].contains(':');
        out.extend(after.map(|v| (i, v)));
        if let Some(next) = lines.get(i + 1).filter(|_| out.is_empty() || qualified) {
            let trimmed = next.trim_end();
            if !atoms_of_labels(next) && !trimmed.trim_start().is_empty() {
                out.push((i + 1, next.len() - next.trim_start().len()..trimmed.len()));
            }
        }
        out
    };
    for (i, line) in lines.iter().enumerate() {
        let above = i > 0 && !lines[i - 1].contains(|c: char| c.is_ascii_digit()) && id_labelled(lines[i - 1], lines[i - 1].len());
        for (number, labelled) in id_candidates(line, above) {
            ids.push((number, labelled, i));
        }
        for (at, value) in values_of(i, &ENTERPRISE_LABELS) {
            if let Some((code, span)) = enterprise_code(lines[at], &value) {
                put(&mut fields, "enterprise_code", code, 0.9, at, span);
                break;
            }
        }
        for (at, value) in values_of(i, &NAME_LABELS) {
            if let Some(name) = name_in(&lines[at][value.clone()]) {
                let (name, respelled) = names::spelled(&name);
                respelled_at.extend(respelled.then_some(at));
                put(&mut fields, "full_name", name, 0.9, at, value);
                break;
            }
        }
        if let Some((name, span)) = named_in_sentence(line) {
            let (name, respelled) = names::spelled(&name);
            respelled_at.extend(respelled.then_some(i));
            put(&mut fields, "full_name", name, 0.75, i, span);
        }
        let birth = values_of(i, &BIRTH_LABELS);
        for (at, value) in &birth {
            if let Some((date, span)) = any_date(&lines[*at][value.clone()]) {
                put(&mut fields, "date_of_birth", date, 0.9, *at, value.start + span.start..value.start + span.end);
                break;
            }
        }
        let expiry = values_of(i, &EXPIRY_LABELS);
        for (at, value) in &expiry {
            if let Some((date, span)) = any_date(&lines[*at][value.clone()]) {
                put(&mut fields, "expiry_date", date, 0.85, *at, value.start + span.start..value.start + span.end);
                break;
            }
        }
        if i < 6 {
            if let Some(c) = DOCUMENT_NUMBER.captures(line) {
                let m = c.get(1).expect("the pattern has a group");
                put(&mut fields, "document_number", m.as_str().trim_end_matches('.').to_owned(), 0.85, i, m.range());
            }
        }
        // a date of birth or an expiry is no date of issue, on its label's line or the next
        let dated = |labels: &[&str]| (i.saturating_sub(1)..=i).any(|j| values_of(j, labels).iter().any(|(at, _)| *at == i));
        if !dated(&BIRTH_LABELS) && !dated(&EXPIRY_LABELS) {
            if let Some((date, span)) = spelled_date(line) {
                issued = Some((date, i, span));
            }
        }
    }
    if let Some((date, line, span)) = issued {
        put(&mut fields, "issue_date", date, 0.8, line, span);
    }
    // a name respelled (classify::names) is less sure than one read as it is in use; the
    // lowering comes after the choice, which stays with the first labelled name
    if let Some(name) = fields.get_mut("full_name").filter(|f| respelled_at.contains(&f.line)) {
        name.confidence -= RESPELLED_DOUBT;
    }
    let born = fields.get("date_of_birth").and_then(|d| d.value.get(..4)?.parse().ok());
    for (group, labelled, line) in ids {
        if let Some((id, reading)) = identity::read(&group.digits, labelled, born) {
            put(&mut fields, "owner_id", id.as_str().to_owned(), id_confidence(labelled, reading, group.loose), line, group.span);
        }
    }
    fields
}

/// Gives each field the boxes of the words it was read from. `text` is the text the fields
/// were extracted from: the pages' texts, as their words give them (`text_of`), joined by
/// blank lines or newlines; `pages` are each page's number and words. A line of `text` that
/// is not its page's line as the words give it gets no boxes.
pub fn locate(fields: &mut BTreeMap<String, FieldValue>, text: &str, pages: &[(u32, &[Word])]) {
    // each non-empty line of the pages: its page and its words
    let mut page_lines: Vec<(u32, &[Word])> = Vec::new();
    for (page, words) in pages {
        let mut start = 0;
        for i in 1..=words.len() {
            if i == words.len() || words[i].line != words[i - 1].line {
                page_lines.push((*page, &words[start..i]));
                start = i;
            }
        }
    }
    let mut next = page_lines.iter();
    let mut of_line: BTreeMap<usize, (u32, &[Word])> = BTreeMap::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.is_empty()) {
        let Some(&(page, words)) = next.next() else { break };
        let joined: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        if joined.join(" ") == line {
            of_line.insert(i, (page, words));
        }
    }
    for field in fields.values_mut() {
        let Some((page, words)) = of_line.get(&field.line) else { continue };
        let mut at = 0;
        field.boxes.clear();
        for w in *words {
            let span = at..at + w.text.len();
            at = span.end + 1;
            let inside = field.span.is_empty() || (span.start < field.span.end && field.span.start < span.end);
            if inside {
                field.boxes.push(WordBox { page: *page, x: w.x, y: w.y, w: w.w, h: w.h });
            }
        }
    }
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
    fn digit_groups_are_joined_only_into_values_the_rules_accept() {
        assert_eq!(extract("Mã số doanh nghiệp: 0546637 160")["enterprise_code"].value, "0546637160");
        assert_eq!(extract("Mã số doanh nghiệp: 0101 234 567 - 001")["enterprise_code"].value, "0101234567-001");
        // eleven digits are no code, however joined
        assert!(!extract("Mã số doanh nghiệp: 0546637 1601").contains_key("enterprise_code"));
        assert_eq!(extract("Số CCCD: 033 192894690")["owner_id"].value, "033192894690");
        // the first groups make a valid id: the figures after it are not taken in
        let f = extract("Số căn cước công dân: 001 203 012345 12");
        assert_eq!(f["owner_id"].value, "001203012345");
        // joined, 099 is no province: no id from the line's label
        assert!(extract("Số CCCD: 099 205 784857").get("owner_id").is_none_or(|id| id.confidence < 0.9));
        // a figure of a date before the label stands apart
        let f = extract("Sinh ngày 12/03/2003, số CCCD 001 203 012345");
        assert_eq!((f["owner_id"].value.as_str(), f["date_of_birth"].value.as_str()), ("001203012345", "2003-03-12"));
    }

    #[test]
    fn ids_and_names_inside_sentences_are_read() {
        let f = extract("Tôi tên là Nguyễn Văn An, số định danh cá nhân 001203012345, xin cấp bản sao.");
        assert_eq!(f["full_name"].value, "Nguyễn Văn An");
        assert_eq!(f["owner_id"].value, "001203012345");
        assert_eq!(f["owner_id"].confidence, 0.95);
        let f = extract("Cấp cho ông/bà Trần Thị Mai sinh năm 1990");
        assert_eq!(f["full_name"].value, "Trần Thị Mai");
        // a labelled name ranks above one in a sentence
        let f = extract("Bà Lê Thị Hoa đề nghị\nHọ và tên: Trần Văn Bình");
        assert_eq!(f["full_name"].value, "Trần Văn Bình");
        // a place is no name
        assert!(!extract("Nơi cư trú: tỉnh Bà Rịa - Vũng Tàu").contains_key("full_name"));
    }

    #[test]
    fn dates_in_words_are_read() {
        assert_eq!(extract("Hà Nội, ngày 3 tháng 9 năm 2022")["issue_date"].value, "2022-09-03");
        assert_eq!(extract("Vinh, ngày mồng ba tháng chín năm 2022")["issue_date"].value, "2022-09-03");
        assert_eq!(extract("ngày hai mươi mốt tháng mười hai năm 2021")["issue_date"].value, "2021-12-21");
        // "năm" is five too
        assert_eq!(extract("ngày năm tháng năm năm 2020")["issue_date"].value, "2020-05-05");
        // OCR slips: a lost space, a slipped word, O for 0
        assert_eq!(extract("Bắc Ninh, ngày3 thảng 1O năm 2O23")["issue_date"].value, "2023-10-03");
        assert_eq!(extract("Đan Phượng, ngàv 15 tháng 7 năm 2021")["issue_date"].value, "2021-07-15");
        // a date of birth in words is no issue date
        let f = extract("Sinh ngày 2 tháng 4 năm 1990\nHà Nội, ngày 5 tháng 6 năm 2024");
        assert_eq!((f["date_of_birth"].value.as_str(), f["issue_date"].value.as_str()), ("1990-04-02", "2024-06-05"));
        assert!(!extract("ngày 31 tháng 2 năm 2022").contains_key("issue_date"));
        // "ngày" lost at the start of the line
        assert_eq!(extract("10 tháng 12 năm 2022")["issue_date"].value, "2022-12-10");
        assert!(!extract("Điều 10 tháng 12 năm 2022").contains_key("issue_date"));
    }

    #[test]
    fn a_cards_expiry_is_its_validity_end() {
        let f = extract("CĂN CƯỚC CÔNG DÂN\nCó giá trị đến: 12/05/2040\nHà Nội, ngày 12 tháng 5 năm 2025");
        assert_eq!(f["expiry_date"].value, "2040-05-12");
        assert_eq!(f["issue_date"].value, "2025-05-12");
        assert_eq!(extract("Có giá trị đến ngày 1 tháng 2 năm 2041")["expiry_date"].value, "2041-02-01");
        assert!(!extract("Có giá trị đến").contains_key("expiry_date"));
    }

    #[test]
    fn a_label_alone_on_its_line_takes_the_next_line() {
        let f = extract("Họ và tên\nĐặng Đức Quyết\nSố định danh cá nhân\n046161676915\nMã số doanh nghiệp\n0101234567\nNgày, tháng, năm sinh\n20/03/1961");
        assert_eq!(f["full_name"].value, "Đặng Đức Quyết");
        assert_eq!(f["full_name"].line, 1);
        assert_eq!((f["owner_id"].value.as_str(), f["owner_id"].confidence), ("046161676915", 0.95));
        assert_eq!(f["enterprise_code"].value, "0101234567");
        assert_eq!(f["date_of_birth"].value, "1961-03-20");
        // a label on the next line is no value
        assert!(!extract("Họ và tên\nNgày, tháng, năm sinh\n20/03/1961").contains_key("full_name"));
    }

    #[test]
    fn values_on_leaders_and_two_to_a_row_are_cut_at_the_next_label() {
        let f = extract("Họ và tên: ......Nguyễn Văn An...........\nHọ và tên: Lê Thị Mai Ngày, tháng, năm sinh: 02/04/1990");
        assert_eq!(f["full_name"].value, "Nguyễn Văn An");
        let f = extract("Họ và tên: Lê Thị Mai Ngày, tháng, năm sinh: 02/04/1990");
        assert_eq!((f["full_name"].value.as_str(), f["date_of_birth"].value.as_str()), ("Lê Thị Mai", "1990-04-02"));
        let f = extract("Họ, chữ đệm, tên người yêu cầu: Trần Đức Giang\nHọ và tên Lê Thị Mai Ngày sinh: 02/04/1990");
        assert_eq!(f["full_name"].value, "Trần Đức Giang");
        assert_eq!(extract("Họ và tên Lê Thị Mai Ngày sinh: 02/04/1990")["full_name"].value, "Lê Thị Mai");
        assert_eq!(extract("Số CCCD: ......001203012345.......")["owner_id"].value, "001203012345");
    }

    #[test]
    fn names_are_read_through_specks_and_a_lost_space() {
        assert_eq!(extract(". Họ và tên: Trần Thị An '")["full_name"].value, "Trần Thị An");
        assert_eq!(extract("- Họvà tên: Phạm Minh Dũng - :")["full_name"].value, "Phạm Minh Dũng");
        // the family name's tone mark misread too: spelled as in use (classify::names)
        let respelled = &extract("Họ và tên: Trắn Thị An ˆ")["full_name"];
        assert_eq!(respelled.value, "Trần Thị An");
        assert!((respelled.confidence - 0.8).abs() < 1e-6, "{respelled:?}");
        assert_eq!(extract("Ông Pham Van Binh, sinh năm 1980")["full_name"].value, "Phạm Văn Binh");
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

    #[test]
    fn look_alikes_inside_an_ids_value_are_read_only_into_a_valid_id() {
        // a slanted 1 read as a slash, a bracket or an exclamation mark
        for line in ["Số CCCD: 033/90522257", "Số định danh cá nhân: 07908546147!", "Số CCCD:. 00106674967]"] {
            let f = extract(line);
            assert!(f.contains_key("owner_id"), "{line}");
            assert!(f["owner_id"].confidence < 0.85, "an id read through look-alikes ranks below one read as printed or corrected");
        }
        assert_eq!(extract("Số CCCD: 033/90522257")["owner_id"].value, "033190522257");
        assert_eq!(extract("Số căn cước công dân: Ø3318Z001066")["owner_id"].value, "033182001066");
        // a figure read as a mark gives no id where the result breaks the rules (099 is no province)
        assert!(!extract("Số CCCD: 099/90522257").contains_key("owner_id"));
        // nor anywhere but after an id's label: a date stays a date
        let f = extract("Ngày, tháng, năm sinh: 12/10/1989");
        assert!(!f.contains_key("owner_id"));
        assert_eq!(f["date_of_birth"].value, "1989-10-12");
    }

    #[test]
    fn marks_around_an_id_are_not_part_of_it() {
        // a bracket or a quote OCR put before the value, read as printed
        for line in ["Số định danh cá nhân: [092308434275", "Số định danh cá nhân: „.031151241299", "Số CCCD: «001203012345»"]
        {
            let f = extract(line);
            assert!(f.get("owner_id").is_some_and(|id| id.confidence >= 0.95), "{line}: {f:?}");
        }
        assert_eq!(extract("Số định danh cá nhân: [092308434275")["owner_id"].value, "092308434275");
        // a bracket inside the value, or closing it, is still read as a 1 when that makes a valid id
        assert_eq!(extract("Số CCCD: 033190522[57")["owner_id"].value, "033190522157");
        assert_eq!(extract("Số CCCD:. 00106674967]")["owner_id"].value, "001066749671");
    }

    #[test]
    fn a_line_rates_how_surely_it_gives_the_owners_id() {
        let label = "Số định danh cá nhân".len();
        assert_eq!(id_on_line("Số định danh cá nhân: 001203012345"), Some((label, 0.95)));
        // lost, or past the rules and their corrections: none
        assert_eq!(id_on_line("Giấy tờ tùy thân: Căn cước công dân"), Some(("Giấy tờ tùy thân: Căn cước công dân".len(), 0.0)));
        assert_eq!(id_on_line("Số CCCD: 099205784857"), Some(("Số CCCD".len(), 0.0)));
        assert_eq!(id_on_line("Số định danh cá nhân: 0331"), Some((label, 0.0)));
        // a slip corrected rates above a value read through look-alikes, both below one as printed
        let corrected = id_on_line("Số định danh cá nhân: 22088633477").unwrap().1;
        let loose = id_on_line("Số định danh cá nhân: 033/90522257").unwrap().1;
        assert!(0.0 < loose && loose < corrected && corrected < 0.95, "{loose} {corrected}");
        assert_eq!(id_on_line("Họ và tên: Trần Văn Bình"), None);
        assert_eq!(id_on_line("Mã số doanh nghiệp: 0101234567"), None);
        let after = "Mã số doanh nghiệp".len();
        assert_eq!(code_read_on_line("Mã số doanh nghiệp: 0101 234 567"), Some((after, 0.95, Some("0101234567".into()))));
        assert_eq!(code_read_on_line("Mã số doanh nghiệp: 01O1/234"), Some((after, 0.0, None)));
        assert_eq!(code_read_on_line("Số CCCD: 001090012345"), None);
        assert_eq!(id_read_on_line("Số định danh cá nhân: 001203012345").and_then(|r| r.2).as_deref(), Some("001203012345"));
        assert_eq!(id_read_on_line("Số CCCD: 099205784857").map(|r| r.2), Some(None), "no valid id, none given");
    }

    fn word(text: &str, x: u32, line: u32) -> Word {
        Word { text: text.into(), conf: 90.0, x, y: 10 * line, w: 5 * text.chars().count() as u32, h: 9, line }
    }

    #[test]
    fn fields_carry_the_boxes_of_the_words_they_were_read_from() {
        let one = [word("GIẤY", 0, 0), word("KHAI", 30, 0), word("SINH", 60, 0)];
        let two = [word("Mã", 0, 0), word("số", 15, 0), word("doanh", 30, 0), word("nghiệp:", 60, 0), word("0546637", 100, 0)];
        let two = [&two[..], &[word("160", 140, 0), word("Ngày", 0, 1), word("3", 30, 1)]].concat();
        let pages: Vec<(u32, &[Word])> = vec![(1, &one), (2, &two)];
        let text = "GIẤY KHAI SINH\n\nMã số doanh nghiệp: 0546637 160\nNgày 3";
        let mut f = extract(text);
        locate(&mut f, text, &pages);
        let code = &f["enterprise_code"];
        assert_eq!(code.value, "0546637160");
        assert_eq!(code.boxes, [WordBox { page: 2, x: 100, y: 0, w: 35, h: 9 }, WordBox { page: 2, x: 140, y: 0, w: 15, h: 9 }]);
        // the JSON keeps its fields and adds the boxes
        let json = serde_json::to_value(code).unwrap();
        assert_eq!(json["value"], "0546637160");
        assert_eq!(json["line"], 2);
        assert_eq!(json["boxes"][1]["x"], 140);
        // a text that is not the words' gives no boxes
        let mut f = extract("Mã số doanh nghiệp: 0546637160");
        locate(&mut f, "Mã số doanh nghiệp: 0546637160", &pages);
        assert!(f["enterprise_code"].boxes.is_empty());
        assert!(serde_json::to_value(&f["enterprise_code"]).unwrap().get("boxes").is_none());
    }
}
