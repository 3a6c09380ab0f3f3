use super::{all_digits, string_newtype, ParseError};

/// Which card the number belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CitizenIdKind {
    /// 12-digit personal identification number (số định danh cá nhân, CCCD).
    Personal,
    /// 9-digit legacy identity card number (CMND).
    LegacyCmnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// Province codes that birth registrations carry in digits 1-3 (the 63 provinces of the
/// Ministry of Public Security's list; the range 001-096 has gaps).
const PROVINCES: [u16; 63] = [
    1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37, 38, 40, 42, 44, 45, 46, 48, 49, 51, 52,
    54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77, 79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96,
];

/// A citizen identity number: 12 digits with province, century/sex and birth year encoded,
/// or a 9-digit legacy CMND number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CitizenId(String);

impl CitizenId {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = |reason| ParseError::new("citizen id", s, reason);
        if !all_digits(s) {
            return Err(err("only digits are allowed"));
        }
        match s.len() {
            9 => Ok(CitizenId(s.to_owned())),
            12 => {
                let province: u32 = s[0..3].parse().map_err(|_| err("bad province"))?;
                if !(1..=96).contains(&province) {
                    return Err(err("province code (digits 1-3) must be 001 to 096"));
                }
                if s.as_bytes()[3] > b'5' {
                    return Err(err("century and sex digit (digit 4) must be 0 to 5"));
                }
                Ok(CitizenId(s.to_owned()))
            }
            _ => Err(err("expected 12 digits (or 9 for a legacy card)")),
        }
    }

    pub fn kind(&self) -> CitizenIdKind {
        if self.0.len() == 12 {
            CitizenIdKind::Personal
        } else {
            CitizenIdKind::LegacyCmnd
        }
    }

    /// Province code of birth registration (12-digit numbers only).
    pub fn province(&self) -> Option<u16> {
        (self.kind() == CitizenIdKind::Personal).then(|| self.0[0..3].parse().unwrap_or(0))
    }

    /// Sex encoded in digit 4 (12-digit numbers only).
    pub fn sex(&self) -> Option<Sex> {
        let d = self.century_digit()?;
        Some(if d % 2 == 0 { Sex::Male } else { Sex::Female })
    }

    /// Full birth year from digits 4-6 (12-digit numbers only).
    pub fn birth_year(&self) -> Option<u16> {
        let century = 1900 + 100 * (self.century_digit()? / 2) as u16;
        let yy: u16 = self.0[4..6].parse().ok()?;
        Some(century + yy)
    }

    /// Whether digits 1-3 name a province of the list: a number read from a scan whose
    /// province does not exist was misread.
    pub fn province_exists(&self) -> bool {
        self.province().is_some_and(|p| PROVINCES.contains(&p))
    }

    fn century_digit(&self) -> Option<u8> {
        (self.kind() == CitizenIdKind::Personal).then(|| self.0.as_bytes()[3] - b'0')
    }
}

string_newtype!(CitizenId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_personal_numbers() {
        let id = CitizenId::parse("001303012345").unwrap();
        assert_eq!(id.kind(), CitizenIdKind::Personal);
        assert_eq!(id.province(), Some(1));
        assert_eq!(id.sex(), Some(Sex::Female));
        assert_eq!(id.birth_year(), Some(2003));

        let id = CitizenId::parse("079086000123").unwrap();
        assert_eq!(id.sex(), Some(Sex::Male));
        assert_eq!(id.birth_year(), Some(1986));
        assert_eq!(id.province(), Some(79));

        assert_eq!(CitizenId::parse("096500000001").unwrap().birth_year(), Some(2100));
        assert!(CitizenId::parse("048304779371").unwrap().province_exists());
        assert!(!CitizenId::parse("018304779371").unwrap().province_exists(), "no province has code 018");
    }

    #[test]
    fn accepts_legacy_cards_as_their_own_kind() {
        let id = CitizenId::parse("012345678").unwrap();
        assert_eq!(id.kind(), CitizenIdKind::LegacyCmnd);
        assert_eq!(id.birth_year(), None);
        assert_eq!(id.province(), None);
    }

    #[test]
    fn rejects_invalid_numbers() {
        for bad in [
            "",
            "00120301234",   // 11 digits
            "0012030123456", // 13 digits
            "000203012345",  // province 000
            "097203012345",  // province 097
            "001603012345",  // century digit 6
            "00120301234a",
            " 001203012345",
            "12345678",
        ] {
            assert!(CitizenId::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
