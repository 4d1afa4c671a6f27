//! ReCap decoding never panics, and what decodes re-encodes to the same URN.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lit_companion_session::Recap;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(recap) = Recap::decode(text) {
            assert_eq!(recap.encode().ok().as_deref(), Some(text));
        }
    }
});
