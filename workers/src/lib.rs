//! sohoa-worker: claims jobs from the sohoa API over HTTP and processes them. The only
//! package that links native OCR code, kept out of the service's process.

pub mod cli;
pub mod client;
pub mod ocr;
pub mod run;
pub mod samples;
