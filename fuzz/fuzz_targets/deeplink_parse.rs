//! Parsing a deep link never panics. A link that parses expires within the allowed window, is
//! claimed once only, and its answer URL carries the answer sealed to the link's page key: the
//! seeds' key (RFC 7748's test key) opens it with the link's nonce as aad, and nothing else does.
#![no_main]
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hpke::{aead::AesGcm128, kdf::HkdfSha256, kem::X25519HkdfSha256, Deserializable, Kem, OpModeR};
use libfuzzer_sys::fuzz_target;
use lit_companion_bridge::deeplink::{parse, ReplayGuard, MAX_VALIDITY, SEAL_INFO};
use lit_companion_wire::Response;
use time::macros::datetime;

/// RFC 7748 §6.1, Alice's private key; its public key is in the seeds' `pk`.
const PAGE_SECRET: &str = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const PAGE_PUBLIC: &str = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(url) = std::str::from_utf8(data) else {
        return;
    };
    // The seeds' links expire at 2026-11-24T12:05:00Z.
    let now = datetime!(2026-11-24 12:00:00 UTC);
    let Ok(link) = parse(url, now) else { return };
    assert!(link.expires > now && link.expires <= now + MAX_VALIDITY);
    let _ = link.caller();
    let guard = ReplayGuard::default();
    assert!(guard.claim(&link, now).unwrap());
    assert!(!guard.claim(&link, now).unwrap(), "a link works once");

    let result = serde_json::json!({"sessionSigs": {"n": {"sig": "secret-signature"}}});
    let answer = link
        .answer_url(&Response::ok(serde_json::Value::Null, result.clone()))
        .unwrap();
    let sealed = answer
        .strip_prefix(&format!("{}#litCompanion=", link.callback))
        .expect("the answer rides in the callback's fragment");
    assert!(!answer.contains("secret-signature"));
    let bytes = URL_SAFE_NO_PAD.decode(sealed).unwrap();
    assert!(bytes.len() > 32);
    if link.page_key.as_slice() != hex(PAGE_PUBLIC).as_slice() {
        return;
    }
    let (enc, ct) = bytes.split_at(32);
    let enc = <X25519HkdfSha256 as Kem>::EncappedKey::from_bytes(enc).unwrap();
    let secret = <X25519HkdfSha256 as Kem>::PrivateKey::from_bytes(&hex(PAGE_SECRET)).unwrap();
    let open = |aad: &[u8]| {
        hpke::single_shot_open::<AesGcm128, HkdfSha256, X25519HkdfSha256>(
            &OpModeR::Base,
            &secret,
            &enc,
            SEAL_INFO,
            ct,
            aad,
        )
    };
    let plain: serde_json::Value =
        serde_json::from_slice(&open(link.nonce.as_bytes()).unwrap()).unwrap();
    assert_eq!(plain["result"], result);
    assert!(
        open(b"another nonce").is_err(),
        "the answer is bound to the link's nonce"
    );
});
