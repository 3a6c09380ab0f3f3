//! The entities the service keeps (dossiers, scans, records, results) and their states with
//! the transitions between them; the identifiers and values that parse, shared with the
//! workers, come from `sohoa_protocol::domain` and are named here as well.

pub mod access;
pub mod audit;
pub mod desk;
pub mod import;
pub mod import_batch;
pub mod indicators;
pub mod reads;
pub mod record;
pub mod result;
mod role;
mod status;

pub use role::Role;
pub use sohoa_protocol::domain::{
    hidden_character, AgencyCode, CitizenId, CitizenIdKind, Digest, DossierCode, EnterpriseCode, ParseError, ProcedureCode, Sex,
};
pub use status::{ComponentStatus, DossierStatus, Finish, IllegalTransition, JobState, ResultStatus, ScanEvent, ScanStatus};

/// Vietnam's offset from UTC (+07:00, no daylight saving).
pub fn vietnam_offset() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(7 * 3600).expect("+07:00 is a valid offset")
}

/// Today's date in Vietnam, the day a desk reckons with.
pub fn vietnam_today() -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&vietnam_offset()).date_naive()
}

/// RFC 3339 time in Vietnam's offset for milliseconds since the epoch.
pub fn vietnam_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&vietnam_offset())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// `bytes` random bytes from the system generator, in hex: ids of records, results and
/// sessions, and leases.
pub fn random_hex(bytes: usize) -> String {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut buf = vec![0u8; bytes];
    // The system generator failing is not something a request can cause or fix.
    SystemRandom::new().fill(&mut buf).expect("the system random generator works");
    hex::encode(buf)
}
