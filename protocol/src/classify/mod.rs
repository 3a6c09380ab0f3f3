//! Document-type classification of recognised text, driven only by the policy catalog.
//! The title decides first: a line of page 1's title zone that is a known title, or that
//! begins with a type's title prefix (a form word: "TỜ KHAI", "ĐƠN", "PHIẾU YÊU CẦU",
//! "GIẤY ĐỀ NGHỊ", ...), gives the type whatever else the page says; what follows a form
//! word is the document's subject. Without a title in the zone, evidence is weighed (a
//! title elsewhere, keywords, patterns, negative keywords); a page with no known title at
//! all is `unknown`. Text is matched folded, so that OCR slips and lost diacritics still
//! count. Pure: no I/O.

mod eval;
mod fields;
mod identity;
mod names;
mod text;

use crate::policy::{Catalog, DocType};
pub use eval::{Label, Rate, Tally};
pub use fields::{code_read_on_line, date_in_text, extract, id_on_line, id_read_on_line, locate, FieldValue, WordBox};
pub use names::spelled as spelled_name;
use serde::Serialize;
pub use text::{best_match, fold};

/// A title found in the title zone of page 1.
const TITLE_ZONE_WEIGHT: f32 = 10.0;
/// A title found anywhere else.
const TITLE_ELSEWHERE_WEIGHT: f32 = 3.0;
const KEYWORD_WEIGHT: f32 = 1.5;
const PATTERN_WEIGHT: f32 = 1.0;
const NEGATIVE_WEIGHT: f32 = 8.0;
/// Lines of page 1, after the national header, where titles stand.
const TITLE_ZONE_LINES: usize = 8;
/// Lines of a page's text the national header is looked for in.
const HEADER_REACH: usize = 24;
/// Similarity below which a title or keyword does not count.
const MIN_SIMILARITY: f32 = 0.8;
/// Titles share words ("GIẤY CHỨNG ..."): they must match closer than keywords.
const TITLE_SIMILARITY: f32 = 0.86;
/// A line of the title zone one OCR slip away from a title of at least this many
/// characters is that title, however short ("TỪ KHAI" for "TỜ KHAI"): no two titles of
/// the catalog are fewer than two edits apart. Title prefixes of this length allow one
/// slip too; shorter ones ("ĐƠN") must be read exactly.
const TITLE_ONE_SLIP_CHARS: usize = 6;
/// Share of a line's letters in capitals for it to be set as a title: a prefix counts
/// only on such a line ("ĐƠN ĐỀ NGHỊ ..." is a title, "Đơn vị tính: ..." is not).
const TITLE_CAPITALS: f32 = 0.75;
/// Below this score no type has enough evidence: the scan goes to manual review.
const MIN_SCORE: f32 = 8.0;
/// Below this confidence the best type is too close to the next one.
const MIN_CONFIDENCE: f32 = 0.5;

/// The national header on every paper: never evidence of a type.
const HEADER: [&str; 2] = ["cong hoa xa hoi chu nghia viet nam", "doc lap tu do hanh phuc"];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Candidate {
    pub doc_type: String,
    pub score: f32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Classification {
    /// The type, or `unknown` when the classifier abstains.
    pub doc_type: String,
    /// 0 to 1. Decided by a title in the zone: how closely it was read, less half of how
    /// closely another type's title was read there. Otherwise the best score's share of the
    /// evidence of the two best times how closely that type's title was read elsewhere: 0
    /// when it was not.
    pub confidence: f32,
    /// The best types, the one decided first.
    pub candidates: Vec<Candidate>,
    /// What a title that begins with a title prefix is about ("ĐĂNG KÝ KHAI SINH" of
    /// "TỜ KHAI ĐĂNG KÝ KHAI SINH"), as read, with the classification's confidence and the
    /// line of the text it begins on: a field like those `extract` gives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<FieldValue>,
}

pub const UNKNOWN: &str = "unknown";

struct Compiled {
    id: String,
    titles: Vec<String>,
    /// Folded, longest first.
    prefixes: Vec<String>,
    keywords: Vec<String>,
    negatives: Vec<String>,
    patterns: Vec<regex::Regex>,
}

/// The catalog's document types, prepared for matching.
pub struct Classifier {
    types: Vec<Compiled>,
}

/// A line of the title zone as read and folded.
struct ZoneLine {
    /// Its line in the text.
    index: usize,
    raw: String,
    folded: String,
}

/// A type's title read on a line of the title zone.
struct TitleHit {
    kind: usize,
    similarity: f32,
    /// First zone line it stands on.
    line: usize,
    /// Zone lines it takes up (a wrapped title takes two, a form title its subject's).
    lines: usize,
    subject: Option<String>,
}

/// The first lines of a page's text under the national header, where a title stands; each
/// line's index counted in the pages' text joined, `offset` lines before this page's. When
/// the header is read among the page's first `HEADER_REACH` lines, the zone begins after it:
/// a page whose labels' column was read before its header and title ("Họ và tên:", "Số
/// định danh", ... then "CỘNG HÒA ...") still has its title in the zone. Second, the lines
/// read before the header, the last `TITLE_ZONE_LINES` of them: where a title stands that
/// was read before the header ("Số: 378/2022", "GIẤY BÁO TỬ", then "CỘNG HÒA ..."), asked
/// only when the first zone holds no title.
fn title_zones(page: &str, offset: usize) -> [Vec<ZoneLine>; 2] {
    let lines: Vec<ZoneLine> = page
        .lines()
        .enumerate()
        .map(|(index, raw)| {
            let folded = if capitals(raw) { letters_for_figures(&fold(raw)) } else { fold(raw) };
            ZoneLine { index: offset + index, raw: raw.trim().to_owned(), folded }
        })
        .filter(|l| !l.folded.is_empty())
        .collect();
    let header = |l: &ZoneLine| HEADER.iter().any(|h| best_match(h, &l.folded) > 0.85);
    let headed: Vec<bool> = lines.iter().map(header).collect();
    let after = headed.iter().take(HEADER_REACH).rposition(|&h| h).map_or(0, |i| i + 1);
    let first = headed.iter().position(|&h| h).filter(|&i| i < after).unwrap_or(0);
    let mut lines = lines.into_iter().zip(headed);
    let before: Vec<ZoneLine> = lines.by_ref().take(first).map(|(l, _)| l).collect();
    let zone = lines.skip(after - first).filter(|(_, h)| !h).map(|(l, _)| l).take(TITLE_ZONE_LINES).collect();
    let before = before.into_iter().rev().take(TITLE_ZONE_LINES).rev().collect();
    [zone, before]
}

impl Classifier {
    pub fn new(catalog: &Catalog) -> Classifier {
        let types = catalog.doc_types.values().map(compile).collect();
        Classifier { types }
    }

    /// Classifies the text of a scan's pages (page 1 first).
    pub fn classify(&self, pages: &[&str]) -> Classification {
        // the title zone of the first page that has a title (a document handed in last page
        // first has its title on another page), else of page 1
        let mut offset = 0;
        let mut zones = Vec::new();
        for page in pages.iter().chain(pages.is_empty().then_some(&"")) {
            let [zone, before] = title_zones(page, offset);
            offset += page.lines().count().max(1);
            let hits = self.titles_in_zone(&zone);
            if decide(&hits).is_none() && !before.is_empty() {
                let earlier = self.titles_in_zone(&before);
                if decide(&earlier).is_some() {
                    zones.push((before, earlier));
                    continue;
                }
            }
            zones.push((zone, hits));
        }
        let chosen = zones.iter().position(|(_, hits)| decide(hits).is_some()).unwrap_or(0);
        let (zone, hits) = zones.swap_remove(chosen);
        let zone_text = zone.iter().map(|l| l.folded.as_str()).collect::<Vec<_>>().join("\n");
        let raw: String = pages.join("\n");
        let all = fold(&raw);
        let mut candidates: Vec<Candidate> =
            self.types.iter().map(|t| Candidate { doc_type: t.id.clone(), score: score(t, &zone_text, &all, &raw) }).collect();
        let decided = decide(&hits);
        let (doc_type, confidence, subject) = match decided {
            Some((hit, rival)) => {
                let id = &self.types[hit.kind].id;
                let confidence = hit.similarity * (1.0 - 0.5 * rival);
                let doc_type = if confidence >= MIN_CONFIDENCE { id.clone() } else { UNKNOWN.to_owned() };
                // the decided type leads the candidates whatever the other evidence
                if let Some(c) = candidates.iter_mut().find(|c| &c.doc_type == id) {
                    c.score = c.score.max(hit.similarity * TITLE_ZONE_WEIGHT * 1.4);
                }
                candidates.sort_by(|a, b| {
                    (&b.doc_type == id)
                        .cmp(&(&a.doc_type == id))
                        .then(b.score.total_cmp(&a.score))
                        .then_with(|| a.doc_type.cmp(&b.doc_type))
                });
                let subject =
                    hit.subject.clone().map(|value| FieldValue { value, confidence, line: zone[hit.line].index, ..FieldValue::default() });
                (doc_type, confidence, subject)
            }
            None => {
                candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.doc_type.cmp(&b.doc_type)));
                let top = candidates.first().map_or(0.0, |c| c.score.max(0.0));
                let second = candidates.get(1).map_or(0.0, |c| c.score.max(0.0));
                // the best type's share of the evidence for the two best, times how well its
                // title was read somewhere: without its title, no amount of keywords makes a type
                let share = if top <= 0.0 { 0.0 } else { top / (top + second + 1.0) };
                let title = candidates
                    .first()
                    .and_then(|c| self.types.iter().find(|t| t.id == c.doc_type))
                    .map_or(0.0, |t| t.titles.iter().map(|title| best_match(title, &all)).fold(0.0, f32::max));
                let confidence = if title >= TITLE_SIMILARITY { share * title } else { 0.0 };
                let doc_type =
                    if top >= MIN_SCORE && confidence >= MIN_CONFIDENCE { candidates[0].doc_type.clone() } else { UNKNOWN.to_owned() };
                (doc_type, confidence, None)
            }
        };
        candidates.truncate(3);
        let confidence = (confidence * 1000.0).round() / 1000.0;
        let subject = subject.filter(|_| doc_type != UNKNOWN).map(|s| FieldValue { confidence, ..s });
        Classification { doc_type, confidence, candidates, subject }
    }

    /// Every type's best title read on the zone's lines set in capitals: a line (or two,
    /// wrapped) that is a title, or one that begins with a title prefix.
    fn titles_in_zone(&self, zone: &[ZoneLine]) -> Vec<TitleHit> {
        let mut hits: Vec<TitleHit> = Vec::new();
        for (i, line) in zone.iter().enumerate() {
            if !capitals(&line.raw) {
                continue;
            }
            for (kind, t) in self.types.iter().enumerate() {
                let Some((words, similarity)) = t.prefixes.iter().find_map(|p| prefix_of(p, &line.folded)) else { continue };
                let mut subject: Vec<&str> = line.raw.split_whitespace().skip(words).collect();
                let mut lines = 1;
                // the subject on the next line, or continued there: a line in capitals that
                // is no title itself
                if let Some(next) = zone.get(i + 1) {
                    let titled = self.types.iter().any(|t| t.titles.iter().any(|x| line_similarity(x, &next.folded) >= TITLE_SIMILARITY));
                    if capitals(&next.raw) && !titled {
                        subject.extend(next.raw.split_whitespace());
                        lines = 2;
                    }
                }
                let subject = subject.join(" ");
                let subject = subject.trim_matches(|c: char| !c.is_alphanumeric());
                let subject = (!subject.is_empty()).then(|| subject.to_owned());
                hits.push(TitleHit { kind, similarity, line: i, lines, subject });
            }
        }
        // lines a form title takes are no other type's title, and titles are set in capitals:
        // a line of running text one slip from a short title ("bạn Lan," for BẢN ÁN) is none
        let no_title: Vec<bool> =
            (0..zone.len()).map(|i| !capitals(&zone[i].raw) || hits.iter().any(|h| (h.line..h.line + h.lines).contains(&i))).collect();
        for (kind, t) in self.types.iter().enumerate() {
            let mut best: Option<TitleHit> = None;
            for i in 0..zone.len() {
                if no_title[i] {
                    continue;
                }
                let joined = zone.get(i + 1).filter(|_| !no_title[i + 1]).map(|n| format!("{} {}", zone[i].folded, n.folded));
                for title in &t.titles {
                    let one = line_similarity(title, &zone[i].folded);
                    let two = joined.as_deref().map_or(0.0, |j| line_similarity(title, j));
                    let (similarity, lines) = if two > one { (two, 2) } else { (one, 1) };
                    if similarity >= TITLE_SIMILARITY && best.as_ref().is_none_or(|b| similarity > b.similarity) {
                        best = Some(TitleHit { kind, similarity, line: i, lines, subject: None });
                    }
                }
            }
            hits.extend(best);
        }
        hits
    }
}

/// The title that decides and the similarity of the best title of another type (0 if
/// none): the closest read, then the first.
fn decide(hits: &[TitleHit]) -> Option<(&TitleHit, f32)> {
    let best = hits.iter().min_by(|a, b| b.similarity.total_cmp(&a.similarity).then(a.line.cmp(&b.line)))?;
    let rival = hits.iter().filter(|h| h.kind != best.kind).map(|h| h.similarity).fold(0.0, f32::max);
    Some((best, rival))
}

/// Whether a line is set in capitals, as titles are.
fn capitals(raw: &str) -> bool {
    let letters = raw.chars().filter(|c| c.is_alphabetic() && !text::SPACING_MODIFIERS.contains(c)).count();
    let upper = raw.chars().filter(|c| c.is_uppercase()).count();
    letters >= 3 && upper as f32 >= TITLE_CAPITALS * letters as f32
}

/// A folded line set in capitals with each figure inside a word that also holds letters
/// read as the letter it resembles: a title in a face whose G, O or B the engine takes for
/// 6, 0 or 8 ("6IẤY BÁ0 TỬ") is still that title. Numbers (words of figures alone) stay.
fn letters_for_figures(folded: &str) -> String {
    let letter = |c: char| match c {
        '0' => 'o',
        '1' => 'i',
        '4' => 'a',
        '5' => 's',
        '6' => 'g',
        '8' => 'b',
        c => c,
    };
    let word = |w: &str| {
        if w.chars().any(char::is_alphabetic) && w.chars().any(|c| c.is_ascii_digit()) {
            w.chars().map(letter).collect()
        } else {
            w.to_owned()
        }
    };
    folded.split(' ').map(word).collect::<Vec<_>>().join(" ")
}

/// Whether the folded `line` begins with the folded `prefix` as whole words (one slip
/// allowed in a prefix of some length): the prefix's word count and the similarity.
fn prefix_of(prefix: &str, line: &str) -> Option<(usize, f32)> {
    let n = prefix.split(' ').count();
    let words: Vec<&str> = line.split(' ').collect();
    if words.len() < n {
        return None;
    }
    let head: Vec<char> = words[..n].join(" ").chars().collect();
    let p: Vec<char> = prefix.chars().collect();
    let edits = line_edits(&p, &head);
    let allowed = usize::from(p.len() >= TITLE_ONE_SLIP_CHARS);
    let similarity = 1.0 - edits as f32 / p.len().max(head.len()) as f32;
    (edits <= allowed).then(|| (n, if edits == 0 { 1.0 } else { similarity.max(TITLE_SIMILARITY) }))
}

/// Similarity of a title to a whole line: edits over the longer of the two, so that a
/// line holding more than the title (another title with the same first words) scores low.
/// A single slip in a title of some length counts as a match.
fn line_similarity(title: &str, line: &str) -> f32 {
    let (a, b): (Vec<char>, Vec<char>) = (title.chars().collect(), line.chars().collect());
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 0.0;
    }
    let edits = line_edits(&a, &b);
    let similarity = 1.0 - edits as f32 / longest as f32;
    if edits <= 1 && a.len() >= TITLE_ONE_SLIP_CHARS {
        similarity.max(TITLE_SIMILARITY)
    } else {
        similarity
    }
}

/// Levenshtein distance.
fn line_edits(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn compile(t: &DocType) -> Compiled {
    Compiled {
        id: t.id.to_string(),
        titles: t.titles.iter().map(|s| fold(s)).collect(),
        prefixes: {
            let mut p: Vec<String> = t.title_prefixes.iter().map(|s| fold(s)).collect();
            p.sort_by_key(|p| std::cmp::Reverse(p.chars().count()));
            p
        },
        keywords: t.keywords.iter().map(|s| fold(s)).collect(),
        negatives: t.negative_keywords.iter().map(|s| fold(s)).collect(),
        // the catalog check has compiled every pattern already
        patterns: t.patterns.iter().filter_map(|p| regex::Regex::new(p).ok()).collect(),
    }
}

fn score(t: &Compiled, zone: &str, all: &str, raw: &str) -> f32 {
    let similar = |pattern: &str, text: &str| {
        let s = best_match(pattern, text);
        if s >= MIN_SIMILARITY {
            s
        } else {
            0.0
        }
    };
    // the best of the type's titles; longer titles are stronger evidence
    let title = t
        .titles
        .iter()
        .map(|title| {
            let length = (title.chars().count() as f32 / 14.0).clamp(0.8, 1.4);
            // a title stands on a line of its own: compare whole lines in the zone
            let in_zone = zone.lines().map(|line| line_similarity(title, line)).fold(0.0, f32::max);
            let in_zone = if in_zone >= TITLE_SIMILARITY { in_zone * TITLE_ZONE_WEIGHT } else { 0.0 };
            let elsewhere = best_match(title, all);
            let elsewhere = if elsewhere >= TITLE_SIMILARITY { elsewhere * TITLE_ELSEWHERE_WEIGHT } else { 0.0 };
            in_zone.max(elsewhere) * length
        })
        .fold(0.0, f32::max);
    let keywords: f32 = t.keywords.iter().map(|k| similar(k, all) * KEYWORD_WEIGHT).sum();
    let patterns = t.patterns.iter().filter(|p| p.is_match(raw)).count() as f32 * PATTERN_WEIGHT;
    let negatives = t.negatives.iter().filter(|n| similar(n, zone) > 0.0).count() as f32 * NEGATIVE_WEIGHT;
    title + keywords + patterns - negatives
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classifier() -> Classifier {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
        Classifier::new(&crate::policy::load(&dir).unwrap())
    }

    const HEADER_LINES: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n";

    #[test]
    fn a_title_read_after_a_column_of_labels_still_decides() {
        // the labels' column read first, then the header, the title and the values
        let page = "Số: 545/2022\nHọ và tên:\nSố định danh\nNgày, tháng,\nHọ, chữ đệm,\nHọ, chữ đệm,\nNơi cư trú\n\
                    Ngày đăng ký\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n6IẤY CHỨNG NHẬN KẾT HÔN\n\
                    Hoàng Văn Lan\ncá nhân: 004178410224\nnăm sinh: 22/12/1978";
        let got = classifier().classify(&[page]);
        assert_eq!(got.doc_type, "marriage_certificate", "{got:?}");
        // a header far down the text (a quoted letter) does not move the zone
        let late = format!(
            "GIẤY KHAI SINH\nHọ và tên: Nguyễn Văn An\n{}CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nQUYẾT ĐỊNH",
            "Nơi sinh: Hà Nội\n".repeat(30)
        );
        assert_eq!(classifier().classify(&[&late]).doc_type, "birth_certificate");
    }

    #[test]
    fn a_title_read_before_the_header_decides_when_none_follows_it() {
        // a table's left column read first: the number and the title, then the header
        let page = "Số: 378/2022\n6IẤY BÁ0 TỪ\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc tập - Tự do - Hạnh phúc -\n\
                    Họ và tên Lê Thị Bình\nSố định danh cá nhân 092065679339\nĐã chết vào lúc 25/01/1991\n\
                    Nơi chết\nthị trấn Phong Điền\nNguyên nhân chết\nBệnh già\nTrích lục khai tử số 12";
        let got = classifier().classify(&[page]);
        assert_eq!(got.doc_type, "death_notice", "{got:?}");
        assert!(got.confidence >= 0.9, "{got:?}");
        // a title after the header decides over a capitals line before it
        let page = "ỦY BAN NHÂN DÂN\nGIẤY KHAI SINH\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\
                    TRÍCH LỤC KHAI SINH\nHọ và tên: Lê Thị Mai\nNơi sinh: Huế";
        assert_eq!(classifier().classify(&[page]).doc_type, "birth_extract");
    }

    #[test]
    fn titles_decide_even_without_diacritics_or_with_ocr_slips() {
        let c = classifier();
        let birth = format!("{HEADER_LINES}Số: 12/2020\nGIẤY KHAI SINH\nHọ và tên: Nguyễn Văn An\nNơi sinh: Hà Nội\nDân tộc: Kinh");
        let got = c.classify(&[&birth]);
        assert_eq!(got.doc_type, "birth_certificate", "{got:?}");
        let folded = "CONG HOA XA HOI CHU NGHIA VIET NAM\nGIAY KHAI SlNH\nHo va ten: Nguyen Van An\nNoi sinh: Ha Noi";
        assert_eq!(c.classify(&[folded]).doc_type, "birth_certificate");
        let extract = format!("{HEADER_LINES}TRÍCH LỤC KHAI SINH\n(Bản sao)\nHọ và tên: Lê Thị Mai\nNơi sinh: Huế");
        let got = c.classify(&[&extract]);
        assert_eq!(got.doc_type, "birth_extract", "{got:?}");
        // a monospaced title's G and O read as figures, a stray mark after them
        let notice = format!("{HEADER_LINES}Số:\n6IẤY BÁ0' TỬ\nHọ và tên: Phan Minh Bình\nĐã chết vào lúc: 14/02/2008");
        let got = c.classify(&[&notice]);
        assert_eq!(got.doc_type, "death_notice", "{got:?}");
        assert_eq!(letters_for_figures("6iay ba0 tu so 12 2020"), "giay bao tu so 12 2020");
        // ờ read as ừ in a short title
        let form = format!("{HEADER_LINES}TỪ KHAI\nKính gửi: Ủy ban nhân dân xã Tân Lập\nNgười yêu cầu: Lê Văn Nam\nTôi cam đoan");
        let got = c.classify(&[&form]);
        assert_eq!(got.doc_type, "application_form", "{got:?}");
    }

    #[test]
    fn a_form_word_title_is_an_application_form_whatever_it_is_about() {
        let c = classifier();
        let cases = [
            ("TỜ KHAI ĐĂNG KÝ KHAI SINH", "ĐĂNG KÝ KHAI SINH"),
            ("PHIẾU YÊU CẦU CẤP PHIẾU LÝ LỊCH TƯ PHÁP", "CẤP PHIẾU LÝ LỊCH TƯ PHÁP"),
            ("GIẤY ĐỀ NGHỊ ĐĂNG KÝ DOANH NGHIỆP", "ĐĂNG KÝ DOANH NGHIỆP"),
            ("ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP XÂY DỰNG", "CẤP GIẤY PHÉP XÂY DỰNG"),
            ("TỪ KHAI ĐĂNG KÝ KẾT HÔN", "ĐĂNG KÝ KẾT HÔN"),
        ];
        for (title, subject) in cases {
            // the body speaks of the subject's own document type
            let text = format!(
                "{HEADER_LINES}{title}\nKính gửi: Ủy ban nhân dân xã Tân Lập\nHọ, chữ đệm, tên người được khai sinh: Lê Văn An\n\
                 Ngày, tháng, năm sinh: 03/09/2022\nNơi sinh: Hà Nội\nDân tộc: Kinh\nQuê quán: Nam Định\nTình trạng án tích: không có án tích\n\
                 Mã số doanh nghiệp: 0102030405\nSố: 12/2020"
            );
            let got = c.classify(&[&text]);
            assert_eq!(got.doc_type, "application_form", "{title}: {got:?}");
            assert_eq!(got.subject.as_ref().map(|s| s.value.as_str()), Some(subject), "{title}: {got:?}");
            assert_eq!(got.subject.as_ref().map(|s| s.line), Some(2), "{got:?}");
            assert!(got.confidence >= MIN_CONFIDENCE, "{got:?}");
            assert_eq!(got.candidates[0].doc_type, "application_form");
        }
        // the subject on the next line, as forms set a long title
        let text = format!("{HEADER_LINES}TỜ KHAI\nCẤP BẢN SAO TRÍCH LỤC HỘ TỊCH\nKính gửi: Ủy ban nhân dân xã Tân Lập");
        let got = c.classify(&[&text]);
        let subject = got.subject.as_ref().map(|s| s.value.as_str());
        assert_eq!((got.doc_type.as_str(), subject), ("application_form", Some("CẤP BẢN SAO TRÍCH LỤC HỘ TỊCH")), "{got:?}");
        // the documents those forms apply for keep their own type
        for (title, doc_type) in [
            ("PHIẾU LÝ LỊCH TƯ PHÁP", "criminal_record_certificate"),
            ("GIẤY CHỨNG NHẬN ĐĂNG KÝ DOANH NGHIỆP", "enterprise_registration"),
            ("GIẤY PHÉP XÂY DỰNG", "construction_permit"),
        ] {
            let got = c.classify(&[&format!("{HEADER_LINES}Số: 15/2021\n{title}\nHọ và tên: Lê Văn An")]);
            assert_eq!((got.doc_type.as_str(), got.subject), (doc_type, None));
        }
    }

    #[test]
    fn a_form_word_counts_only_at_the_start_of_a_line_in_capitals() {
        let c = classifier();
        for text in [
            "CÔNG TY TNHH HỒNG HÀ\nHÓA ĐƠN GIÁ TRỊ GIA TĂNG\nĐơn vị tính: đồng\nĐơn giá: 20.000",
            "QUÁN ĂN GIA ĐÌNH\nTHỰC ĐƠN\nPhở bò 45.000 đ",
            "Đơn vị: Công ty An Phát\nĐơn hàng số 12 đã được giao",
        ] {
            let got = c.classify(&[text]);
            assert_eq!(got.doc_type, UNKNOWN, "{text}: {got:?}");
        }
    }

    #[test]
    fn every_cleanly_read_title_decides_and_no_title_abstains() {
        let c = classifier();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
        let catalog = crate::policy::load(&dir).unwrap();
        for t in catalog.doc_types.values() {
            for title in &t.titles {
                let got = c.classify(&[&format!("{HEADER_LINES}{title}\nHọ và tên: Lê Văn An")]);
                assert_eq!(got.doc_type, t.id.as_str(), "{title}: {got:?}");
                assert!(got.confidence >= MIN_CONFIDENCE, "{title}: {got:?}");
            }
            // all of its keywords, no title: abstains (unless a keyword holds a title)
            if t.keywords.iter().any(|k| catalog.doc_types.values().flat_map(|d| &d.titles).any(|x| fold(k).contains(&fold(x)))) {
                continue;
            }
            let keywords = t.keywords.iter().map(|k| format!("{k}: x")).collect::<Vec<_>>().join("\n");
            let got = c.classify(&[&format!("{HEADER_LINES}Số: 12/2020\n{keywords}")]);
            assert_eq!(got.doc_type, UNKNOWN, "{}: {got:?}", t.id);
        }
        // a long title wrapped over two lines
        let land = format!(
            "{HEADER_LINES}GIẤY CHỨNG NHẬN QUYỀN SỬ DỤNG ĐẤT, QUYỀN SỞ HỮU NHÀ Ở\nVÀ TÀI SẢN KHÁC GẮN LIỀN VỚI ĐẤT\nThửa đất số: 12"
        );
        assert_eq!(c.classify(&[&land]).doc_type, "land_use_right_certificate");
    }

    #[test]
    fn a_title_on_a_later_page_decides_when_page_one_has_none() {
        let c = classifier();
        let terms = "Trang 2/2\nĐiều 1. Người được cấp có trách nhiệm xuất trình giấy tờ này.\nHà Nội, ngày 3 tháng 9 năm 2022";
        let form = format!("{HEADER_LINES}TỜ KHAI ĐĂNG KÝ KHAI SINH\nHọ và tên: Nguyễn Văn An\nNơi sinh: Hà Nội");
        let backwards = c.classify(&[terms, &form]);
        assert_eq!(backwards.doc_type, "application_form", "{backwards:?}");
        let subject = backwards.subject.expect("the form's subject");
        assert_eq!(subject.value, "ĐĂNG KÝ KHAI SINH");
        assert_eq!(subject.line, terms.lines().count() + HEADER_LINES.lines().count(), "the title's line in the pages' text joined");
        assert_eq!(c.classify(&[&form, terms]).doc_type, "application_form");
        // a title on page 1 decides before any on a later page
        let birth = format!("{HEADER_LINES}GIẤY KHAI SINH\nHọ và tên: Nguyễn Văn An");
        assert_eq!(c.classify(&[&birth, &form]).doc_type, "birth_certificate");
        // and continuation pages alone have no type
        assert_eq!(c.classify(&[terms, terms]).doc_type, UNKNOWN);
    }

    #[test]
    fn pages_without_evidence_are_unknown() {
        let c = classifier();
        let news = "Giá vàng hôm nay tăng mạnh trên thị trường thế giới, các nhà đầu tư lo ngại lạm phát.";
        let got = c.classify(&[news]);
        assert_eq!((got.doc_type.as_str(), got.confidence), (UNKNOWN, 0.0), "{got:?}");
        assert_eq!(c.classify(&[""]).doc_type, UNKNOWN);
        // the national header alone says nothing about the type
        assert_eq!(c.classify(&[HEADER_LINES]).doc_type, UNKNOWN);
        // a letter's line of running text one slip from a short title is no title; the same
        // words set in capitals are
        let letter = "Đà Nẵng, ngày 2 tháng 3 năm 2021\nbạn Lan,\nlâu rồi mình không viết thư cho bạn.\nTháng sau mình về quê ăn giỗ.";
        let got = c.classify(&[letter]);
        assert_eq!(got.doc_type, UNKNOWN, "{got:?}");
        let ruling = letter.replace("bạn Lan,", "BẢN ÁN");
        assert_eq!(c.classify(&[&ruling]).doc_type, "divorce_ruling");
    }

    #[test]
    fn candidates_are_ranked_and_confidence_is_a_share() {
        let c = classifier();
        let text = format!("{HEADER_LINES}GIẤY CHỨNG NHẬN KẾT HÔN\nHọ, chữ đệm, tên chồng: Trần Văn Bình\nHọ, chữ đệm, tên vợ: Lê Thị Lan");
        let got = c.classify(&[&text]);
        assert_eq!(got.doc_type, "marriage_certificate", "{got:?}");
        assert!(got.candidates.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(got.confidence >= 0.5 && got.confidence <= 1.0, "{got:?}");
    }
}
