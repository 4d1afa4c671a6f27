//! Parsing and explaining arbitrary SIWE text never panics, and an explanation always renders.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(explanation) = lit_companion_session::explain::explain_siwe(text) {
            assert!(!explanation.to_text().is_empty());
        }
        if let Ok(auth_sig) = lit_companion_session::AuthSig::from_json(text) {
            let _ = auth_sig.verify_signature();
        }
    }
});
