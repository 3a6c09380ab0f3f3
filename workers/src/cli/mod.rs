//! Subcommands of `sohoa-worker` besides the default claim loop.

pub mod ocr;
pub mod samples;
pub mod scan;
