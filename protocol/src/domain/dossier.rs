use super::{all_digits, string_newtype, AgencyCode, ParseError};
use chrono::NaiveDate;

/// Dossier code `<agency>-<YYMMDD>-<NNNN>`: agency, date of receipt and the day's sequence.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DossierCode(String);

impl DossierCode {
    /// Largest daily sequence number that fits the four digits.
    pub const MAX_SEQUENCE: u32 = 9999;

    pub fn new(agency: &AgencyCode, received: NaiveDate, sequence: u32) -> Result<Self, ParseError> {
        if sequence == 0 || sequence > Self::MAX_SEQUENCE {
            return Err(ParseError::new("dossier code", &sequence.to_string(), "sequence must be 1 to 9999"));
        }
        Ok(DossierCode(format!("{agency}-{}-{sequence:04}", received.format("%y%m%d"))))
    }

    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = |reason| ParseError::new("dossier code", s, reason);
        let mut parts = s.rsplitn(3, '-');
        let (seq, date, agency) = match (parts.next(), parts.next(), parts.next()) {
            (Some(q), Some(d), Some(a)) => (q, d, a),
            _ => return Err(err("expected <agency>-<YYMMDD>-<NNNN>")),
        };
        AgencyCode::parse(agency).map_err(|_| err("the agency part is not a dotted agency code"))?;
        if date.len() != 6 || !all_digits(date) || NaiveDate::parse_from_str(date, "%y%m%d").is_err() {
            return Err(err("the date part must be a real YYMMDD date"));
        }
        if seq.len() != 4 || !all_digits(seq) || seq == "0000" {
            return Err(err("the sequence part must be 4 digits, 0001 to 9999"));
        }
        Ok(DossierCode(s.to_owned()))
    }

    pub fn agency(&self) -> AgencyCode {
        // The code parsed, so its agency part parses too.
        let agency = self.0.rsplitn(3, '-').nth(2).unwrap_or_default();
        AgencyCode::parse(agency).expect("agency part of a parsed dossier code")
    }
}

string_newtype!(DossierCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_parses_codes() {
        let agency = AgencyCode::parse("000.00.31.H29").unwrap();
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let code = DossierCode::new(&agency, day, 1).unwrap();
        assert_eq!(code.as_str(), "000.00.31.H29-261124-0001");
        assert_eq!(DossierCode::parse(code.as_str()).unwrap(), code);
        assert_eq!(code.agency(), agency);
        assert!(DossierCode::new(&agency, day, 10_000).is_err());
        assert!(DossierCode::new(&agency, day, 0).is_err());
    }

    #[test]
    fn rejects_malformed_codes() {
        for bad in [
            "",
            "000.00.31.H29-261124",
            "000.00.31.H29-261124-001",
            "000.00.31.H29-261124-0000",
            "000.00.31.H29-261324-0001", // month 13
            "000.00.31.H29-26112a-0001",
            "H29-261124-0001",
            "000.00.31.H29-261124-00012",
        ] {
            assert!(DossierCode::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
