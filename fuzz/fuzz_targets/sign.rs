//! Any bytes given to signing end in a signed document that verifies, or an error; never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fixture = sohoa_fuzz::fixture();
    if let Ok(signed) = sohoa::sign::sign_pdf(data, &fixture.signer, sohoa_fuzz::options()) {
        // what signing accepts, verification must read back
        let report = sohoa::verify::verify_pdf(&signed, &fixture.anchors, sohoa_fuzz::now());
        assert!(report.is_ok(), "a document sohoa signed is unreadable to sohoa: {:?}", report.err());
    }
});
