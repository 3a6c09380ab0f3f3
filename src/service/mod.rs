//! The application layer, between the HTTP handlers (and the service's own stages) and the
//! storage traits: each service reads what it needs, asks the domain's states for the next
//! ones, and hands the index the effects to persist in one transaction.

pub mod desk;
pub mod duties;
pub mod imports;
pub mod jobs;
pub mod log;
pub mod operations;
pub mod preview;
pub mod queue;
pub mod reads;
pub mod records;
pub mod signing;
pub mod tokens;

use crate::archive::ArchiveError;
use crate::index::IndexError;
use crate::registry::RegistryError;

/// Why a service refused or failed; each kind maps to one HTTP status, `code` is stable.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Not in the target's present state, or not with what the installation holds.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String },
    /// The request or the document cannot be used.
    #[error("{detail}")]
    Invalid { code: &'static str, detail: String },
    #[error("{detail}")]
    NotFound { code: &'static str, detail: String },
    /// The request asks for what cannot be: a range past the log's end.
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    /// The installation lacks what the request needs (a key not configured).
    #[error("{detail}")]
    Unavailable { code: &'static str, detail: String },
    #[error("{detail}")]
    Forbidden { code: &'static str, detail: String },
    #[error("{detail}")]
    TooLarge { code: &'static str, detail: String },
    /// A media type the service does not take.
    #[error("{detail}")]
    Unsupported { code: &'static str, detail: String },
    /// The service's own fault; `context` says where.
    #[error("{context}: {detail}")]
    Internal { context: &'static str, detail: String },
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
}

impl From<RegistryError> for ServiceError {
    fn from(e: RegistryError) -> Self {
        match e {
            RegistryError::Archive(e) => ServiceError::Archive(e),
            RegistryError::Index(e) => ServiceError::Index(e),
        }
    }
}

impl From<crate::sign::SignError> for ServiceError {
    fn from(e: crate::sign::SignError) -> Self {
        ServiceError::Invalid { code: e.code(), detail: e.to_string() }
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;
