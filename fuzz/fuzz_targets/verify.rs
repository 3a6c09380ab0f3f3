//! Any bytes given to verification end in a report or an error, never a panic, a hang or
//! unbounded memory.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = sohoa_fuzz::fixture();
    let _ = sohoa::verify::verify_pdf(data, &fixture.anchors, sohoa_fuzz::now());
});
