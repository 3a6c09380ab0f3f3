//! A person's name as read, its family name and middle names set right against the
//! lists of those in use. Vietnamese family names are a closed set (a hundred or so, the
//! first fourteen borne by nine people in ten) and so, nearly, are middle names; a tone mark
//! OCR lost or added there ("Pham" for Phạm, "Trận" for Trần, "Thi" for Thị, "Ngoc" for
//! Ngọc) or a first letter misread ("Wguyễn") is therefore put back. Given names are an open
//! set and stay as read: "Chỉ" may be someone's name.

use super::fields::edits;
use super::text::fold;
use unicode_normalization::UnicodeNormalization;

/// Family names in use in Vietnam, the common ones and the rarer ones OCR could otherwise
/// turn a common one into.
const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đào", "Đoàn",
    "Vương", "Trịnh", "Trương", "Đinh", "Lâm", "Phùng", "Mai", "Tô", "Hà", "Tạ", "Châu", "Lương", "Lưu", "Cao", "Kiều", "Quách", "Thái",
    "Tăng", "Từ", "Văn", "Đàm", "Lục", "Hứa", "Khúc", "Mạc", "Nông", "La", "Lã", "Triệu", "Chu", "Giang", "Diệp", "Âu", "Tôn", "Thân",
    "Lạc", "Hầu", "Khổng", "Ông", "Mạnh", "Doãn", "Nghiêm", "Quan", "Thạch", "Kim", "Lại", "Phí", "Ninh", "Vi", "Lò", "Tòng", "Đồng",
    "Tống", "Bạch", "Thiều", "Sầm", "Hàn", "Lữ", "Mã", "Ma", "Bế", "Cù", "Công", "Viên", "Phó", "Tiêu", "Mẫn", "Ứng", "Khương", "Phương",
    "Quang", "Nhan", "Đậu", "Trà", "Ôn", "Cấn", "Chử", "Cung", "Diêm", "Khuất", "Lỗ", "Nhữ", "Quản", "Tiết",
];

/// Middle names in common use (the part between the family name and the given name).
const MIDDLE: &[&str] = &[
    "Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Thành", "Quốc", "Công", "Đình", "Xuân", "Thu", "Hồng", "Kim", "Bảo", "Gia",
    "Hoàng", "Mạnh", "Quang", "Tuấn", "Anh", "Phương", "Trọng", "Duy", "Thế", "Bá", "Khánh", "Như", "Ánh", "Diệu", "Mỹ", "Hoài", "Nhật",
    "Tiến", "Trung", "Việt", "Tấn", "Thúy", "Cẩm", "Bích", "Hải", "Đăng", "Huy", "Phúc", "Vĩnh", "Thiên", "Tường", "Thái", "Lan", "Kiều",
    "Diễm", "Mai", "Trí", "Nhựt", "Cao", "Chí", "Tất", "Huyền", "Thùy",
];

/// A misread letter is put back only in a name this long (folded), as Nguyễn: in a shorter
/// one a slip makes another name in use ("Thành" and "Thạch", "Lê" and "Lý").
const SLIP_LETTERS: usize = 6;

/// `name` (words apart by single spaces, as read) with its family name and middle names
/// spelled as in use: a word not on its list that folds to exactly one entry (or, long
/// enough, has one letter other than exactly one) takes that entry, in capitals if the name
/// is set in capitals. Anything else stays as read. Also whether a word was changed.
pub fn spelled(name: &str) -> (String, bool) {
    let words: Vec<String> = name.split(' ').map(|w| w.nfc().collect()).collect();
    let capitals = words.iter().all(|w| !w.chars().any(char::is_lowercase));
    let n = words.len();
    let mut out = Vec::with_capacity(n);
    let mut changed = false;
    for (i, word) in words.iter().enumerate() {
        let list: &[&str] = match i {
            0 => FAMILY,
            i if i + 1 < n => MIDDLE,
            _ => &[],
        };
        let entry = if n >= 2 { entry_for(word, list) } else { None };
        changed |= entry.is_some();
        out.push(match entry {
            Some(e) if capitals => e.to_uppercase(),
            Some(e) => e.to_owned(),
            None => word.clone(),
        });
    }
    (out.join(" "), changed)
}

/// The list's entry `word` was read for, if it is on the list in other case, or folds to
/// one entry only, or (long enough) has one letter other than one only.
fn entry_for<'a>(word: &str, list: &[&'a str]) -> Option<&'a str> {
    if list.is_empty() || list.contains(&word) {
        return None;
    }
    let folded = fold(word);
    let one = |matches: Vec<&'a str>| (matches.len() == 1).then(|| matches[0]);
    let same: Vec<&str> = list.iter().copied().filter(|e| fold(e) == folded).collect();
    if !same.is_empty() {
        // a case slip ("HOàng") on the entry itself, else the only entry folded alike
        let cased = list.iter().copied().find(|e| e.to_lowercase() == word.to_lowercase());
        return cased.or_else(|| one(same));
    }
    // one letter read for another, as "W" for "N": the same length, one letter apart
    let letters = folded.chars().count();
    if letters < SLIP_LETTERS {
        return None;
    }
    one(list.iter().copied().filter(|e| fold(e).chars().count() == letters && edits(&fold(e), &folded) == 1).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_name_or_middle_name_misread_is_spelled_as_in_use() {
        for (read, meant) in [
            ("Pham Thanh Dũng", "Phạm Thanh Dũng"),
            ("Đăng Văn Hà", "Đặng Văn Hà"),
            ("Trận Hữu Mai", "Trần Hữu Mai"),
            ("HOàng Hữu An", "Hoàng Hữu An"),
            ("Wguyễn Thi Nam", "Nguyễn Thị Nam"),
            ("Võ Thi Giang", "Võ Thị Giang"),
            ("Lê Ngoc An", "Lê Ngọc An"),
            ("Nguyễn Vặn Mai", "Nguyễn Văn Mai"),
            ("Trần Đúc Giang", "Trần Đức Giang"),
            ("PHAM VAN AN", "PHẠM VĂN AN"),
        ] {
            assert_eq!(spelled(read), (meant.to_owned(), true), "{read}");
        }
    }

    #[test]
    fn names_in_use_given_names_and_doubtful_slips_stay_as_read() {
        for name in [
            // on the lists, or given names (an open set)
            "Nguyễn Thị Chỉ",
            "Lã Văn Chi",
            // folded alike to two entries (La, Lã); no entry folded alike and too short for
            // a slip (Thành, a letter from Thạch); a middle name folded alike to two (Thanh,
            // Thành)
            "Lá Văn An",
            "Thành Văn Nam",
            "Lê Thánh Tông",
            // a single word is no name to spell
            "Pham",
        ] {
            assert_eq!(spelled(name), (name.to_owned(), false), "{name}");
        }
    }
}
