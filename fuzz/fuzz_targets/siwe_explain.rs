//! Explaining arbitrary SIWE text never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = lit_companion_session::explain::explain_siwe(text);
    }
});
