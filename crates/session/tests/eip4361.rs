//! EIP-4361 parsing vectors: positives parse and re-print byte for byte (what a node relies on
//! when it verifies the wallet signature over the re-printed text); negatives are refused.
#![allow(clippy::unwrap_used, reason = "test")]

use std::str::FromStr;

use serde_json::Value;

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/eip4361.json")).unwrap()
}

#[test]
fn positive_vectors_parse_and_round_trip() {
    let v = vectors();
    let cases = v["positive"].as_object().unwrap();
    assert!(cases.len() >= 8);
    for (name, text) in cases {
        let text = text.as_str().unwrap();
        let m = siwe::Message::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(m.to_string(), text, "{name}");
    }
}

#[test]
fn negative_vectors_are_refused() {
    let v = vectors();
    let cases = v["negative"].as_object().unwrap();
    assert!(cases.len() >= 10);
    for (name, text) in cases {
        assert!(
            siwe::Message::from_str(text.as_str().unwrap()).is_err(),
            "{name} should not parse"
        );
    }
}

#[test]
fn explain_refuses_messages_without_a_valid_recap() {
    let v = vectors();
    let plain = v["positive"]["with statement"].as_str().unwrap();
    assert!(lit_companion_session::explain::explain_siwe(plain).is_err());
    let golden = v["positive"]["official SDK v7 session message"]
        .as_str()
        .unwrap();
    let e = lit_companion_session::explain::explain_siwe(golden).unwrap();
    assert_eq!(e.granted.len(), 3);
    assert_eq!(e.risk, lit_companion_session::explain::Risk::Danger);
    assert!(e
        .flags
        .contains(&lit_companion_session::explain::RiskFlag::LifetimeOverLimit));
}
