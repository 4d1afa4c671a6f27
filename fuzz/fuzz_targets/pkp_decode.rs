//! What PKP sessions read from the network never panics: a node's signature share (either
//! form), the `LIT_BLS` AuthSig `sig`, a whole AuthSig checked against a network key, a sealed
//! `/v2` envelope, and the nodes' rebuilt message checked against an approval.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lit_companion_net::e2ee::{Envelope, IdentitySecret};
use lit_companion_session::{
    bls::{BlsSignature, NetworkKey, SignatureShare},
    pkp_session::{check_network_message, Approved},
    Address, AuthSig,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(text) {
        if let Ok(share) = SignatureShare::from_json(&value) {
            // What parses writes back in its own form and reads again as itself.
            let again = match share.to_v7_json() {
                Ok(v7) => SignatureShare::from_json(&v7),
                Err(_) => SignatureShare::from_json(&share.to_v8_json()),
            };
            assert_eq!(again.ok(), Some(share));
        }
        if let Ok(envelope) = serde_json::from_value::<Envelope>(value.clone()) {
            let _ = envelope.open(&IdentitySecret::from_bytes(&[7; 32]));
        }
        if let Ok(auth) = AuthSig::from_value(value) {
            let key: NetworkKey = "8acb0d87dcd4fc8ecb971690b5aa28ed74b205ae449dbb558729c7cff87eec278a6959eb3ee3c03366e0eabac42db3e4"
                .parse()
                .expect("a valid key");
            let _ = auth.verify_lit_bls(&key, "lit:session:00", time::OffsetDateTime::UNIX_EPOCH);
        }
    }
    if let Ok(sig) = BlsSignature::from_authsig_sig(text) {
        assert_eq!(sig.to_authsig_sig(), text);
    }
    let _ = check_network_message(
        text,
        &Approved {
            pkp: Address([0x11; 20]),
            session_key: &"ab".repeat(32),
            expiration: time::OffsetDateTime::UNIX_EPOCH,
            grant: &[],
        },
    );
});
