//! Reading the owner's citizen id from recognised text. On degraded scans OCR confuses a few
//! digits (1 and 4, 1 and 7, 3 and 8, 5 and 6, 6 and 8) and splits one digit in two (a
//! stroke read as an extra 1). A number on the id line that cannot be an id (13 digits,
//! a province that does not exist) is corrected when exactly one reading one slip away can
//! be, and agrees with the printed date of birth; an 11-digit number on the id line lost its
//! leading 0 (every province code begins with one).

use crate::domain::CitizenId;

/// Digit confusions, the commonest first: a thin stroke read as a 1.
const CONFUSED: [&[(u8, u8)]; 2] = [&[(b'1', b'4'), (b'1', b'7')], &[(b'3', b'8'), (b'5', b'6'), (b'6', b'8')]];

/// How an id was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reading {
    /// A valid id that agrees with the date of birth, or there is none.
    AsPrinted,
    /// The only valid id one slip away from what was read.
    Corrected,
    /// Valid in form but doubtful: its birth year or its province disagree.
    Doubtful,
}

/// Whether `id` can be the id of someone born in `born`.
fn plausible(id: &CitizenId, born: Option<i32>) -> bool {
    match id.birth_year() {
        // a legacy 9-digit card says nothing about its holder
        None => true,
        Some(year) => id.province_exists() && born.is_none_or(|b| b == i32::from(year)),
    }
}

/// The single plausible id among `readings`; none when there are none or several.
fn the_only(readings: impl Iterator<Item = Vec<u8>>, born: Option<i32>) -> Option<CitizenId> {
    let mut found: Option<CitizenId> = None;
    for reading in readings {
        let Ok(id) = CitizenId::parse(&String::from_utf8_lossy(&reading)) else { continue };
        if !plausible(&id, born) {
            continue;
        }
        match &found {
            Some(other) if *other != id => return None,
            _ => found = Some(id),
        }
    }
    found
}

fn substitutions<'a>(digits: &'a [u8], pairs: &'a [(u8, u8)]) -> impl Iterator<Item = Vec<u8>> + 'a {
    (0..digits.len()).flat_map(move |i| {
        pairs.iter().filter_map(move |&(a, b)| {
            let to = if digits[i] == a {
                b
            } else if digits[i] == b {
                a
            } else {
                return None;
            };
            let mut changed = digits.to_vec();
            changed[i] = to;
            Some(changed)
        })
    })
}

/// `digits` less one character; with `only`, less one of those characters.
fn deletions(digits: &[u8], only: Option<u8>) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..digits.len()).filter(move |&i| only.is_none_or(|c| digits[i] == c)).map(move |i| {
        let mut shorter = digits.to_vec();
        shorter.remove(i);
        shorter
    })
}

/// The id in a run of digits; `labelled` runs (on the id's line) may be corrected.
pub(super) fn read(digits: &str, labelled: bool, born: Option<i32>) -> Option<(CitizenId, Reading)> {
    if let Ok(id) = CitizenId::parse(digits) {
        if id.birth_year().is_none() || id.province_exists() {
            let reading = if plausible(&id, born) { Reading::AsPrinted } else { Reading::Doubtful };
            return Some((id, reading));
        }
    }
    let bytes = digits.as_bytes();
    if !labelled || !bytes.iter().all(u8::is_ascii_digit) {
        return CitizenId::parse(digits).ok().map(|id| (id, Reading::Doubtful));
    }
    let correct = |born: Option<i32>| match bytes.len() {
        12 => CONFUSED.iter().find_map(|pairs| the_only(substitutions(bytes, pairs), born)),
        // a spurious stroke is most often read as a 1
        13 => the_only(deletions(bytes, Some(b'1')), born).or_else(|| the_only(deletions(bytes, None), born)),
        // every province code begins with 0: a leading 0 OCR lost
        11 => the_only(std::iter::once([b"0", bytes].concat()), born),
        _ => None,
    };
    // the date of birth may be misread too: then it cannot choose
    let corrected = correct(born).or_else(|| born.and_then(|_| correct(None)));
    match corrected {
        Some(id) => Some((id, Reading::Corrected)),
        None => CitizenId::parse(digits).ok().map(|id| (id, Reading::Doubtful)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(digits: &str, born: Option<i32>) -> Option<(String, Reading)> {
        read(digits, true, born).map(|(id, r)| (id.as_str().to_owned(), r))
    }

    #[test]
    fn valid_ids_are_taken_as_printed() {
        assert_eq!(value("046084177431", Some(1984)), Some(("046084177431".into(), Reading::AsPrinted)));
        assert_eq!(value("046084177431", Some(1985)), Some(("046084177431".into(), Reading::Doubtful)));
        assert_eq!(value("012345678", None), Some(("012345678".into(), Reading::AsPrinted)));
    }

    #[test]
    fn one_slip_is_corrected_when_only_one_reading_fits() {
        // no province has code 018: 1 for 4
        assert_eq!(value("018304779371", None), Some(("048304779371".into(), Reading::Corrected)));
        // "4" read as "41"
        assert_eq!(value("0416084177431", Some(1984)), Some(("046084177431".into(), Reading::Corrected)));
        assert_eq!(value("0041151161459", Some(1951)), Some(("004151161459".into(), Reading::Corrected)));
        // a leading 0 lost
        assert_eq!(value("04191871978", Some(1991)), Some(("004191871978".into(), Reading::Corrected)));
        assert_eq!(value("99191871978", None), None);
        // unlabelled numbers are not corrected
        assert!(read("0416084177431", false, Some(1984)).is_none());
    }

    #[test]
    fn ambiguous_or_hopeless_readings_are_not_guessed() {
        // 2 for 4 is no confusion this reader corrects
        assert_eq!(value("026084177431", None), Some(("026084177431".into(), Reading::AsPrinted)));
        // two deletions give valid ids, born the same year
        assert_eq!(value("0046084177432", Some(1984)), None);
        // 016 is no province: 1 for 4 (046) comes before 6 for 5 (056)
        assert_eq!(value("016166219980", Some(1966)), Some(("046166219980".into(), Reading::Corrected)));
        // a date of birth misread (1981 for 1984) does not stand in the way
        assert_eq!(value("0416084177431", Some(1981)), Some(("046084177431".into(), Reading::Corrected)));
        // an extra digit in the sequence: any of several could go
        assert_eq!(value("0221835057000", Some(1983)), None);
        assert_eq!(value("0990", None), None);
    }
}
