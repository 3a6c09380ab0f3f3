use super::{string_newtype, ParseError};

/// Procedure code in the national procedure database, form `N.NNNNNN` (e.g. `1.001193`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcedureCode(String);

impl ProcedureCode {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let b = s.as_bytes();
        let ok = b.len() == 8 && b[0].is_ascii_digit() && b[1] == b'.' && b[2..].iter().all(u8::is_ascii_digit);
        if ok {
            Ok(ProcedureCode(s.to_owned()))
        } else {
            Err(ParseError::new("procedure code", s, "expected the form N.NNNNNN"))
        }
    }
}

string_newtype!(ProcedureCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_national_form() {
        assert_eq!(ProcedureCode::parse("1.001193").unwrap().as_str(), "1.001193");
        assert!(ProcedureCode::parse("2.000488").is_ok());
        for bad in ["", "1001193", "1.00119", "1.0011933", "a.001193", "1-001193", "12.00119"] {
            assert!(ProcedureCode::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
