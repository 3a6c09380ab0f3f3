//! Whether a recognised word is a well-formed Vietnamese syllable: an initial consonant,
//! a vowel nucleus and a final consonant from the language's short lists, with at most one
//! tone mark. Text read upside down or sideways comes out as fragments that seldom are.

use unicode_normalization::UnicodeNormalization;

const ONSETS: [&str; 27] = [
    "ngh", "ng", "gh", "gi", "kh", "nh", "ph", "qu", "th", "tr", "ch", "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s",
    "t", "v", "x",
];
const CODAS: [&str; 8] = ["ng", "nh", "ch", "c", "m", "n", "p", "t"];
const NUCLEI: [&str; 56] = [
    "a", "ă", "â", "e", "ê", "i", "y", "o", "ô", "ơ", "u", "ư", "ai", "ao", "au", "ay", "âu", "ây", "eo", "êu", "ia", "iê", "iu", "oa",
    "oă", "oe", "oi", "ôi", "ơi", "oo", "ua", "uâ", "uê", "ui", "uô", "uơ", "uy", "ưa", "ưi", "ươ", "ưu", "yê", "iêu", "yêu", "oai", "oao",
    "oay", "oeo", "uây", "uôi", "ươi", "ươu", "uya", "uyê", "uyu", "uơi",
];
/// Grave, acute, tilde, hook above and dot below.
const TONES: [char; 5] = ['\u{300}', '\u{301}', '\u{303}', '\u{309}', '\u{323}'];

/// The letters of `word` (punctuation around it aside) when it is a well-formed syllable.
pub fn letters(word: &str) -> Option<usize> {
    let word = word.trim_matches(|c: char| !c.is_alphanumeric());
    if word.is_empty() || !word.chars().all(char::is_alphabetic) {
        return None;
    }
    let lower = word.to_lowercase();
    let decomposed: Vec<char> = lower.nfd().collect();
    if decomposed.iter().filter(|c| TONES.contains(c)).count() > 1 {
        return None;
    }
    let base: String = decomposed.into_iter().filter(|c| !TONES.contains(c)).nfc().collect();
    well_formed(&base).then(|| word.chars().count())
}

fn well_formed(base: &str) -> bool {
    let onsets = ONSETS.iter().copied().filter(|o| base.starts_with(o)).chain(std::iter::once(""));
    onsets.into_iter().any(|onset| {
        let rest = &base[onset.len()..];
        CODAS.iter().copied().filter(|c| rest.ends_with(c)).chain(std::iter::once("")).any(|coda| {
            let nucleus = &rest[..rest.len() - coda.len()];
            NUCLEI.contains(&nucleus)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables_pass_and_fragments_do_not() {
        for word in ["Nguyễn", "GIẤY", "khai", "sinh,", "(phường", "quốc", "người", "khuyên", "giữa", "nghiêng", "Đặng", "thuở"]
        {
            assert!(letters(word).is_some(), "{word}");
        }
        assert_eq!(letters("sinh,"), Some(4));
        for fragment in ["ɐuɥ", "ƃuọ", "2014", "ỏỏ", "ʇ", "ieq", "hnis", "qnỏ", "ĐKKS"] {
            assert_eq!(letters(fragment), None, "{fragment}");
        }
    }
}
