//! The window in which a document is valid, by its type's rule.

use super::Validity;
use chrono::NaiveDate;

/// From and until for a document type's validity rule, counted from the issue date; until
/// the expiry printed on the document (`expiry`, "Có giá trị đến") where the rule says it
/// states its own; open-ended where the rule is, or the expiry was not read.
pub fn validity_window(
    validity: Option<Validity>,
    issued: Option<NaiveDate>,
    expiry: Option<NaiveDate>,
) -> (Option<NaiveDate>, Option<NaiveDate>) {
    match validity {
        Some(Validity::UntilExpiry | Validity::PerDocument) => (issued, expiry.filter(|e| issued.is_none_or(|i| *e >= i))),
        Some(Validity::MonthsFromIssue(n)) => {
            let until = issued.and_then(|d| d.checked_add_months(chrono::Months::new(n))).and_then(|d| d.pred_opt());
            (issued, until)
        }
        _ => (issued, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_that_states_its_expiry_is_valid_until_it() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok();
        let (issued, expiry) = (day("2025-05-12"), day("2040-05-12"));
        assert_eq!(validity_window(Some(Validity::UntilExpiry), issued, expiry), (issued, expiry));
        assert_eq!(validity_window(Some(Validity::PerDocument), issued, expiry), (issued, expiry));
        // an expiry before the issue was misread
        assert_eq!(validity_window(Some(Validity::UntilExpiry), expiry, issued), (expiry, None));
        // the rule of the type decides: a printed date does not end a permanent document
        assert_eq!(validity_window(Some(Validity::Permanent), issued, expiry), (issued, None));
        assert_eq!(validity_window(Some(Validity::MonthsFromIssue(6)), issued, expiry), (issued, day("2025-11-11")));
    }
}
