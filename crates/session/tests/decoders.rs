//! Decoders never panic: every byte-level mutation of valid inputs (a recap URN, an AuthSig, a
//! sessionSigs map, a SIWE message, a request list) yields a value or a typed error. A cheap,
//! deterministic cousin of the cargo-fuzz targets in `fuzz/`.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use common::*;
use lit_companion_session::{
    explain::explain_siwe,
    verify::{verify_session_sig, NodeContext},
    AuthSig, Generation, Recap, ResourceAbilityRequest, SessionSigs,
};

const ROUNDS: usize = 1000;

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &str) -> String {
    let mut bytes = input.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(4) {
            0 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] = rng.next() as u8;
            }
            1 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes.truncate(i);
            }
            2 => {
                let i = rng.below(bytes.len() + 1);
                let pick = [b'"', b'{', b'}', b'\\', b'\n', b'0', b'/', 0xff][rng.below(8)];
                bytes.insert(i, pick);
            }
            _ if bytes.len() > 2 => {
                let a = rng.below(bytes.len());
                let b = rng.below(bytes.len());
                bytes.swap(a, b);
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn mutated_inputs_never_panic() {
    let map = valid_datil();
    let map_json = serde_json::to_string(&map).unwrap();
    let e = entry(&map);
    let auth_json = serde_json::to_string(&wallet_auth_sig(
        &wallet(),
        &session(),
        &[pkp_request()],
        time::Duration::hours(1),
    ))
    .unwrap();
    let siwe_text = AuthSig::from_json(&auth_json).unwrap().signed_message;
    let urn = siwe_text.rsplit("- ").next().unwrap().to_owned();
    let requests =
        r#"[{"resource":{"resource":"*","resourcePrefix":"lit-pkp"},"ability":"pkp-signing"}]"#;
    let req = pkp_request();
    let ctx = NodeContext {
        node_address: NODE,
        generation: Generation::Datil,
        now: t0(),
        request: Some(&req),
        network_key: None,
    };

    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut accepted = 0;
    for _ in 0..ROUNDS {
        let _ = Recap::decode(&mutate(&mut rng, &urn));
        let _ = AuthSig::from_json(&mutate(&mut rng, &auth_json)).map(|a| a.verify_signature());
        let _ = explain_siwe(&mutate(&mut rng, &siwe_text));
        let _ = ResourceAbilityRequest::parse_list(&mutate(&mut rng, requests));
        if let Ok(m) = serde_json::from_str::<SessionSigs>(&mutate(&mut rng, &map_json)) {
            for (_, entry) in m.entries() {
                let _ = verify_session_sig(entry, &ctx);
            }
        }
        let mut bent = e.clone();
        bent.signed_message = mutate(&mut rng, &e.signed_message);
        if verify_session_sig(&bent, &ctx).is_ok() {
            accepted += 1;
        }
    }
    // Only mutations that left the signed bytes unchanged can pass.
    assert!(
        accepted < ROUNDS / 10,
        "{accepted} mutated messages accepted"
    );
}
