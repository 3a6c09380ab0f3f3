//! Text as the classifier compares it: NFC, lower case, Vietnamese diacritics folded away
//! (OCR drops and confuses them), whitespace collapsed; and approximate matching.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Unicode's spacing modifier letters ("ˆ", "˜", "ʼ"): letters to Unicode, but on a scan a
/// stray accent or speck the engine read beside a word, never a letter of the text.
pub(super) const SPACING_MODIFIERS: std::ops::RangeInclusive<char> = '\u{2b0}'..='\u{2ff}';

/// Lower case without diacritics: "Giấy Khai Sinh" and "GIAY KHAI SINH" both give
/// "giay khai sinh"; đ folds to d.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for ch in text.nfd().filter(|c| !is_combining_mark(*c)) {
        let ch = match ch {
            'đ' | 'Đ' => 'd',
            c => c,
        };
        if ch.is_alphanumeric() && !SPACING_MODIFIERS.contains(&ch) {
            out.extend(ch.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    out.trim_end().to_owned()
}

/// How well `pattern` occurs somewhere in `text` (both folded): 1 for an exact
/// occurrence, falling with the fewest edits any substring needs (Sellers' algorithm).
pub fn best_match(pattern: &str, text: &str) -> f32 {
    let p: Vec<char> = pattern.chars().collect();
    if p.is_empty() {
        return 0.0;
    }
    if text.contains(pattern) {
        return 1.0;
    }
    let mut prev: Vec<usize> = (0..=p.len()).collect();
    let mut best = p.len();
    for t in text.chars() {
        let mut cur = vec![0; p.len() + 1];
        for (i, &pc) in p.iter().enumerate() {
            cur[i + 1] = (prev[i] + usize::from(pc != t)).min(prev[i + 1] + 1).min(cur[i] + 1);
        }
        best = best.min(cur[p.len()]);
        prev = cur;
    }
    1.0 - best as f32 / p.len() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_diacritics_and_punctuation() {
        assert_eq!(fold("GIẤY KHAI SINH"), "giay khai sinh");
        assert_eq!(fold("Đăng  ký\nkết hôn:"), "dang ky ket hon");
        assert_eq!(fold("Gia\u{302}\u{301}y"), "giay");
        // a stray accent read as a spacing modifier letter is no word
        assert_eq!(fold("ĐIỀU LỆ ˆ_"), "dieu le");
        assert_eq!(fold("VIỆT NAM ˜"), "viet nam");
    }

    #[test]
    fn approximate_occurrences_score_by_edits() {
        assert_eq!(best_match("khai sinh", "giay khai sinh so 12"), 1.0);
        // one OCR slip in nine characters
        assert!((best_match("khai sinh", "giay khal sinh") - (1.0 - 1.0 / 9.0)).abs() < 1e-6);
        assert!(best_match("ket hon", "giay khai sinh") < 0.6);
    }
}
