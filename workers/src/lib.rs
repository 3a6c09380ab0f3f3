//! sohoa-worker: claims jobs from the sohoa API over HTTP and processes them. The only
//! package that will link native OCR code, kept out of the service's process.

pub mod client;
pub mod run;
