//! Parsing a sessionSigs map and verifying each entry never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lit_companion_session::{
    verify::{verify_session_sig, NodeContext},
    Generation, SessionSigs,
};

fuzz_target!(|data: &[u8]| {
    let Ok(map) = serde_json::from_slice::<SessionSigs>(data) else {
        return;
    };
    for generation in [Generation::Datil, Generation::Naga] {
        let ctx = NodeContext {
            node_address: "127.0.0.1:7470",
            generation,
            now: time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000),
            request: None,
            network_key: None,
        };
        for (_, entry) in map.entries() {
            let _ = verify_session_sig(entry, &ctx);
        }
    }
});
