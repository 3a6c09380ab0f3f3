//! The policy catalog: agencies, document types, procedures, signing profiles and retention,
//! loaded from `policies/*.toml` into one immutable [`Catalog`].

mod check;
mod model;
mod raw;
mod validity;

pub use check::{check, load, CatalogError, Problem};
pub use model::{
    Agency, Catalog, Component, DocType, DocTypeId, Field, Level, Procedure, Retention, ScanQuality, SigningKind, SigningProfile, Validity,
};
pub use validity::validity_window;

#[cfg(test)]
mod tests;
