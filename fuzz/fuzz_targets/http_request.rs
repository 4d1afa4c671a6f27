//! A whole HTTP request through the bridge's router (transport, caller checks, envelope, engine;
//! the approver rejects, so no node is contacted): never panics, and every answer is a JSON
//! envelope (unknown paths and methods included) or an empty preflight.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((status, body)) = lit_companion_fuzz::http_roundtrip(data) else {
        return;
    };
    assert!(
        status != 500,
        "an internal error: {}",
        String::from_utf8_lossy(&body)
    );
    if !body.is_empty() {
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|e| {
            panic!(
                "status {status}, a body that is not JSON ({e}): {}",
                String::from_utf8_lossy(&body)
            )
        });
        assert!(value.is_object());
    }
});
