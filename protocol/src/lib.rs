//! What the sohoa service and its workers share: the identifiers both read, the policy
//! catalog, the scan's pages as both decode them, the recognition a worker reports and the
//! searchable copy assembled from it, the classifier and the scan quality measures. Nothing
//! here serves HTTP or stores anything: a worker links this crate, not the service's.

pub mod classify;
pub mod custody;
pub mod domain;
pub mod intake;
pub mod job;
pub mod pages;
pub mod policy;
pub mod quality;
pub mod register;

/// The environment variable naming, in a worker the service started, the read end of a pipe
/// whose only writer is the service: when it closes, the service is gone and the worker stops.
pub const LIFELINE_FD_ENV: &str = "SOHOA_LIFELINE_FD";
