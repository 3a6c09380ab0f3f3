//! sohoa: digitize one-stop desk dossiers, seal and sign results, archive them write-once
//! and reuse them.

pub mod api;
pub mod archive;
pub mod cli;
pub mod config;
pub mod custody;
pub mod desk;
pub mod domain;
pub mod export;
pub mod index;
pub mod metrics;
pub mod pdf;
pub mod pki;
pub mod queue;
pub mod registry;
pub mod renewal;
pub mod seal;
pub mod server;
pub mod service;
pub mod sign;
pub mod startup;
pub mod supervise;
pub mod tlog;
pub mod tsa;
pub mod verify;

pub use sohoa_protocol::{classify, intake, pages, policy, quality};
