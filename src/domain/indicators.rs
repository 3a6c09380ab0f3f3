//! Decision 766 service indicators of one agency over one month, from what is known of each
//! dossier. Resolution-based indicators (2.1, 4.1) count the dossiers resolved in the month;
//! intake-based ones (4.2, 4.3) the dossiers received in it. A rate scores full points at
//! 80 % or more and proportionally below.

use chrono::{Datelike, NaiveDate, TimeZone};
use serde::Serialize;

/// What the indicators need of one dossier; times are Unix milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierFacts {
    pub received_at_ms: i64,
    pub due_at_ms: i64,
    /// When its result was issued: the dossier is resolved.
    pub resolved_at_ms: Option<i64>,
    /// The issued result is a signed electronic document (at least one signature).
    pub result_signed: bool,
    /// Every required component is satisfied by a digitized record (scanned or reused).
    pub components_digitized: bool,
    /// At least one component was satisfied from an existing record instead of paper.
    pub reused: bool,
}

/// A month in Vietnam time, `[start, end)` in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| Month { year, month })
    }

    pub fn bounds_ms(&self) -> (i64, i64) {
        let first = NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a parsed month");
        let next = if self.month == 12 {
            NaiveDate::from_ymd_opt(self.year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(self.year, self.month + 1, 1)
        }
        .expect("the month after");
        let at = |d: NaiveDate| {
            let midnight = d.and_hms_opt(0, 0, 0).expect("midnight");
            super::vietnam_offset().from_local_datetime(&midnight).single().expect("a fixed offset").timestamp_millis()
        };
        (at(first), at(next))
    }

    pub fn of_ms(ms: i64) -> Month {
        let d = chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().with_timezone(&super::vietnam_offset());
        Month { year: d.year(), month: d.month() }
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// One indicator: how many of how many, the rate and the share of full points it scores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    pub code: &'static str,
    pub name: &'static str,
    pub numerator: u64,
    pub denominator: u64,
    /// `None` when there was nothing to count.
    pub rate: Option<f64>,
    /// 0 to 1: full points at 80 % or more, proportional below.
    pub score: Option<f64>,
}

/// The rate at which an indicator scores full points.
pub const FULL_POINTS_AT: f64 = 0.8;

fn indicator(code: &'static str, name: &'static str, numerator: u64, denominator: u64) -> Indicator {
    let rate = (denominator > 0).then(|| numerator as f64 / denominator as f64);
    Indicator { code, name, numerator, denominator, rate, score: rate.map(|r| (r / FULL_POINTS_AT).min(1.0)) }
}

/// The four indicators of `month` over `dossiers` (those of one agency; any others are
/// outside the month and not counted).
pub fn compute(dossiers: &[DossierFacts], month: Month) -> Vec<Indicator> {
    let (from, to) = month.bounds_ms();
    let within = |t: i64| from <= t && t < to;
    let resolved: Vec<_> = dossiers.iter().filter(|d| d.resolved_at_ms.is_some_and(within)).collect();
    let received: Vec<_> = dossiers.iter().filter(|d| within(d.received_at_ms)).collect();
    let count = |set: &[&DossierFacts], keep: &dyn Fn(&DossierFacts) -> bool| set.iter().filter(|d| keep(d)).count() as u64;
    vec![
        indicator(
            "2.1",
            "Hồ sơ giải quyết đúng hạn",
            count(&resolved, &|d| d.resolved_at_ms.is_some_and(|r| r <= d.due_at_ms)),
            resolved.len() as u64,
        ),
        indicator("4.1", "Kết quả giải quyết điện tử", count(&resolved, &|d| d.result_signed), resolved.len() as u64),
        indicator(
            "4.2",
            "Hồ sơ được số hóa thành phần và kết quả",
            count(&received, &|d| d.components_digitized && d.resolved_at_ms.is_some() && d.result_signed),
            received.len() as u64,
        ),
        indicator("4.3", "Hồ sơ tái sử dụng dữ liệu đã số hóa", count(&received, &|d| d.reused), received.len() as u64),
    ]
}

/// The indicators of `month` as JSON: `{agency, month, full_points_at, indicators: [...]}`.
pub fn report(agency: &str, month: Month, facts: &[DossierFacts]) -> serde_json::Value {
    serde_json::json!({
        "agency": agency,
        "month": month.to_string(),
        "full_points_at": FULL_POINTS_AT,
        "indicators": compute(facts, month),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn at(month: Month, day: i64) -> i64 {
        month.bounds_ms().0 + day * DAY
    }

    #[test]
    fn a_month_runs_from_midnight_in_vietnam() {
        let month = Month::parse("2026-11").unwrap();
        let (from, to) = month.bounds_ms();
        // 2026-11-01T00:00+07:00 is 2026-10-31T17:00Z
        assert_eq!(from, chrono::DateTime::parse_from_rfc3339("2026-10-31T17:00:00Z").unwrap().timestamp_millis());
        assert_eq!(to - from, 30 * DAY);
        assert_eq!(Month::of_ms(from), month);
        assert_eq!(Month::of_ms(from - 1), Month::parse("2026-10").unwrap());
        assert_eq!(Month::parse("2026-12").unwrap().bounds_ms().1, Month::parse("2027-01").unwrap().bounds_ms().0);
        for bad in ["2026-13", "2026-1", "26-11", "2026/11", "", "2026-00"] {
            assert_eq!(Month::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_indicators_of_a_known_month() {
        let month = Month::parse("2026-11").unwrap();
        let facts = |received: i64, due: i64, resolved: Option<i64>, signed: bool, digitized: bool, reused: bool| DossierFacts {
            received_at_ms: at(month, received),
            due_at_ms: at(month, due),
            resolved_at_ms: resolved.map(|r| at(month, r)),
            result_signed: signed,
            components_digitized: digitized,
            reused,
        };
        let dossiers = [
            // received and resolved in the month, on time, signed, digitized, reused
            facts(1, 5, Some(4), true, true, true),
            // resolved late
            facts(2, 5, Some(7), true, true, false),
            // resolved on its due day exactly: on time
            facts(3, 6, Some(6), true, false, false),
            // not resolved yet
            facts(10, 20, None, false, true, true),
            // received last month, resolved this month on time without a signed result
            facts(-5, 3, Some(2), false, true, false),
            // received this month, resolved next month
            facts(25, 40, Some(35), true, true, false),
        ];
        let got: Vec<_> = compute(&dossiers, month).into_iter().map(|i| (i.code, i.numerator, i.denominator)).collect();
        assert_eq!(got, [("2.1", 3, 4), ("4.1", 3, 4), ("4.2", 3, 5), ("4.3", 2, 5)]);
        let all = compute(&dossiers, month);
        assert_eq!(all[0].rate, Some(0.75));
        assert!((all[0].score.unwrap() - 0.9375).abs() < 1e-12, "75 % of 80 % scores 15/16");
        assert!((all[2].score.unwrap() - 0.75).abs() < 1e-12, "60 % of 80 % scores 3/4");
    }

    #[test]
    fn eighty_percent_or_more_scores_full_points_and_nothing_counted_scores_nothing() {
        assert_eq!(indicator("x", "x", 8, 10).score, Some(1.0));
        assert_eq!(indicator("x", "x", 10, 10).score, Some(1.0));
        assert_eq!(indicator("x", "x", 4, 10).score, Some(0.5));
        assert_eq!(indicator("x", "x", 0, 0).rate, None);
        assert_eq!(indicator("x", "x", 0, 0).score, None);
        let empty = compute(&[], Month::parse("2026-01").unwrap());
        assert!(empty.iter().all(|i| i.denominator == 0 && i.rate.is_none()));
    }
}
