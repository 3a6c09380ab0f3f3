use super::{all_digits, string_newtype, ParseError};

/// Enterprise code (also the tax code): 10 digits, or 10 digits, `-` and 3 digits for a
/// branch or dependent unit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnterpriseCode(String);

impl EnterpriseCode {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let err = |reason| ParseError::new("enterprise code", s, reason);
        let (main, branch) = match s.split_once('-') {
            Some((m, b)) => (m, Some(b)),
            None => (s, None),
        };
        if main.len() != 10 || !all_digits(main) {
            return Err(err("expected 10 digits"));
        }
        if let Some(b) = branch {
            if b.len() != 3 || !all_digits(b) {
                return Err(err("a branch suffix is '-' and 3 digits"));
            }
        }
        Ok(EnterpriseCode(s.to_owned()))
    }

    /// The parent enterprise's 10-digit code.
    pub fn parent(&self) -> &str {
        &self.0[..10]
    }

    pub fn is_branch(&self) -> bool {
        self.0.len() > 10
    }
}

string_newtype!(EnterpriseCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_main_and_branch_codes() {
        let main = EnterpriseCode::parse("0101243150").unwrap();
        assert!(!main.is_branch());
        let branch = EnterpriseCode::parse("0101243150-001").unwrap();
        assert!(branch.is_branch());
        assert_eq!(branch.parent(), "0101243150");
    }

    #[test]
    fn rejects_malformed_codes() {
        for bad in ["", "010124315", "01012431500", "0101243150-01", "0101243150-0011", "0101243150-", "01012a3150", "0101243150_001"] {
            assert!(EnterpriseCode::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
