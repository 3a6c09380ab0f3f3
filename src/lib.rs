//! sohoa: digitize one-stop desk dossiers, seal and sign results, archive them write-once
//! and reuse them.

pub mod domain;
pub mod policy;
pub mod config;
pub mod index;
pub mod queue;
pub mod archive;
pub mod intake;
pub mod api;
pub mod startup;
pub mod supervise;
pub mod cli;
