//! Document-type classification of recognised text, driven only by the policy catalog:
//! titles (weighted by where they stand: the title zone of page 1 counts most), keywords,
//! patterns and negative keywords, matched on folded text so that OCR slips and lost
//! diacritics still count. Pure: no I/O.

mod eval;
mod fields;
mod identity;
mod text;

use crate::policy::{Catalog, DocType};
pub use eval::{Label, Rate, Tally};
pub use fields::{extract, FieldValue};
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
/// Similarity below which a title or keyword does not count.
const MIN_SIMILARITY: f32 = 0.8;
/// Titles share words ("GIẤY CHỨNG ..."): they must match closer than keywords.
const TITLE_SIMILARITY: f32 = 0.86;
/// A line of the title zone one OCR slip away from a title of at least this many
/// characters is that title, however short ("TỪ KHAI" for "TỜ KHAI"): no two titles of
/// the catalog are fewer than two edits apart.
const TITLE_ONE_SLIP_CHARS: usize = 6;
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
    /// 0 to 1: the best score's share of the evidence of the two best.
    pub confidence: f32,
    /// The best types, best first.
    pub candidates: Vec<Candidate>,
}

pub const UNKNOWN: &str = "unknown";

struct Compiled {
    id: String,
    titles: Vec<String>,
    keywords: Vec<String>,
    negatives: Vec<String>,
    patterns: Vec<regex::Regex>,
}

/// The catalog's document types, prepared for matching.
pub struct Classifier {
    types: Vec<Compiled>,
}

impl Classifier {
    pub fn new(catalog: &Catalog) -> Classifier {
        let types = catalog.doc_types.values().map(compile).collect();
        Classifier { types }
    }

    /// Classifies the text of a scan's pages (page 1 first).
    pub fn classify(&self, pages: &[&str]) -> Classification {
        let first = pages.first().copied().unwrap_or("");
        let zone: Vec<String> = first
            .lines()
            .map(fold)
            .filter(|l| !l.is_empty() && !HEADER.iter().any(|h| best_match(h, l) > 0.85))
            .take(TITLE_ZONE_LINES)
            .collect();
        let zone = zone.join("\n");
        let raw: String = pages.join("\n");
        let all = fold(&raw);
        let mut candidates: Vec<Candidate> =
            self.types.iter().map(|t| Candidate { doc_type: t.id.clone(), score: score(t, &zone, &all, &raw) }).collect();
        candidates.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.doc_type.cmp(&b.doc_type)));
        candidates.truncate(3);
        let top = candidates.first().map_or(0.0, |c| c.score.max(0.0));
        let second = candidates.get(1).map_or(0.0, |c| c.score.max(0.0));
        // the best type's share of the evidence for the two best
        let confidence = if top <= 0.0 { 0.0 } else { top / (top + second + 1.0) };
        let doc_type = if top >= MIN_SCORE && confidence >= MIN_CONFIDENCE { candidates[0].doc_type.clone() } else { UNKNOWN.to_owned() };
        Classification { doc_type, confidence: (confidence * 1000.0).round() / 1000.0, candidates }
    }
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
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        Classifier::new(&crate::policy::load(&dir).unwrap())
    }

    const HEADER_LINES: &str = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n";

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
        // ờ read as ừ in a short title
        let form = format!("{HEADER_LINES}TỪ KHAI\nKính gửi: Ủy ban nhân dân xã Tân Lập\nNgười yêu cầu: Lê Văn Nam\nTôi cam đoan");
        let got = c.classify(&[&form]);
        assert_eq!(got.doc_type, "application_form", "{got:?}");
    }

    #[test]
    fn pages_without_evidence_are_unknown() {
        let c = classifier();
        let news = "Giá vàng hôm nay tăng mạnh trên thị trường thế giới, các nhà đầu tư lo ngại lạm phát.";
        let got = c.classify(&[news]);
        assert_eq!(got.doc_type, UNKNOWN, "{got:?}");
        assert_eq!(c.classify(&[""]).doc_type, UNKNOWN);
        // the national header alone says nothing about the type
        assert_eq!(c.classify(&[HEADER_LINES]).doc_type, UNKNOWN);
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
