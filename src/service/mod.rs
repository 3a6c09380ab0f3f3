//! The application layer, between the HTTP handlers (and the service's own stages) and the
//! storage traits: each service reads what it needs, asks the domain's states for the next
//! ones, and hands the index the effects to persist in one transaction.

pub mod desk;
pub mod jobs;
