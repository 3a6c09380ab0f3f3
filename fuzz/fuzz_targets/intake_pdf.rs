//! Any bytes uploaded as PDF, through the service's intake check and the worker's decoders
//! with small pixel and page limits: pages within the limits or an error, never a panic, a
//! hang or memory past the limits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sohoa_fuzz::intake(data, sohoa_fuzz::Format::Pdf));
