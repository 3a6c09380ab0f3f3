use super::{string_newtype, ParseError};

/// Agency code in the dotted national form, e.g. `000.00.31.H29`: dot-separated groups of
/// ASCII upper-case letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyCode(String);

impl AgencyCode {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = |reason| ParseError::new("agency code", s, reason);
        if s.len() > 40 {
            return Err(err("longer than 40 characters"));
        }
        let groups: Vec<&str> = s.split('.').collect();
        if groups.len() < 2 {
            return Err(err("expected dot-separated groups such as 000.00.31.H29"));
        }
        for g in groups {
            if g.is_empty() || g.len() > 6 {
                return Err(err("each group has 1 to 6 characters"));
            }
            if !g.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()) {
                return Err(err("groups hold only digits and upper-case letters"));
            }
        }
        Ok(AgencyCode(s.to_owned()))
    }
}

string_newtype!(AgencyCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_national_codes() {
        for ok in ["000.00.31.H29", "000.00.00.G22", "H29.01", "000.30.12.H29"] {
            assert_eq!(AgencyCode::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_malformed_codes() {
        for bad in ["", "H29", "000..31", "000.00.31.h29", "000.00.31.H29.", "a b.c", "0000000.1"] {
            assert!(AgencyCode::parse(bad).is_err(), "{bad} should not parse");
        }
    }
}
