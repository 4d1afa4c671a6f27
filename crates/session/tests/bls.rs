//! BLS12-381 threshold signatures (`LIT_BLS`): Lit's published vectors, dealing, combining and
//! verifying, the share wire forms, and the session hash nodes sign.
#![allow(clippy::unwrap_used, reason = "tests panic on bad setup")]

use lit_companion_session::{
    bls::{network_key_from_seed, session_hash, KeyShare, SignatureShare},
    BlsError, BlsSignature, NetworkKey,
};
use serde_json::{json, Value};

fn vectors() -> Value {
    serde_json::from_str(include_str!("vectors/bls.json")).unwrap()
}

fn key(v: &Value) -> NetworkKey {
    v["networkKey"].as_str().unwrap().parse().unwrap()
}

fn shares(v: &Value) -> Vec<SignatureShare> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| SignatureShare::from_json(s).unwrap())
        .collect()
}

#[test]
fn naga_vector_three_shares_combine_to_a_signature_that_verifies() {
    let v = &vectors()["nagaThreeShares"];
    let msg = hex::decode(v["messageHex"].as_str().unwrap()).unwrap();
    let all = shares(&v["shares"]);
    assert_eq!(all.len(), 3);
    // Full-scalar identifiers: no small number names them.
    assert!(all.iter().all(|s| s.identifier().is_none()));
    let sig = BlsSignature::combine(&all, 3).unwrap();
    sig.verify(&key(v), &msg).unwrap();
    // Every share matters: two of them interpolate another point.
    let two = BlsSignature::combine(&all[..2], 2).unwrap();
    assert_eq!(two.verify(&key(v), &msg), Err(BlsError::Verification));
    // The Naga form survives a round trip byte for byte.
    for (s, text) in all.iter().zip(v["shares"].as_array().unwrap()) {
        let written = serde_json::to_string(&s.to_v8_json()).unwrap();
        assert_eq!(written, text.as_str().unwrap());
        // A Naga identifier has no Datil form.
        assert_eq!(s.to_v7_json(), Err(BlsError::Identifier));
    }
}

/// The early wasm spec's two shares in the Datil form combine to a signature that verifies.
/// Its "new format" copies carry identifiers that are not 2c and 3c for any c, so they
/// interpolate another point: `@lit-protocol/crypto` 8.1.0 combines them to the same point we
/// do and refuses it too (`tests/sdk/bls-crosscheck.mjs`, `vectors/bls-sdk.json`).
#[test]
fn early_wasm_vector_datil_form_verifies_and_its_naga_copies_do_not() {
    let v = &vectors()["earlyWasmTwoForms"];
    let msg = v["messageUtf8"].as_str().unwrap().as_bytes();
    let datil = shares(&v["sharesDatil"]);
    assert_eq!(
        datil.iter().map(|s| s.identifier()).collect::<Vec<_>>(),
        [Some(2), Some(3)]
    );
    let naga = shares(&v["sharesNaga"]);
    let a = BlsSignature::combine(&datil, 2).unwrap();
    let b = BlsSignature::combine(&naga, 2).unwrap();
    a.verify(&key(v), msg).unwrap();
    assert_eq!(b.verify(&key(v), msg), Err(BlsError::Verification));
    for (s, text) in datil.iter().zip(v["sharesDatil"].as_array().unwrap()) {
        let written = serde_json::to_string(&s.to_v7_json().unwrap()).unwrap();
        assert_eq!(written, text.as_str().unwrap());
    }
}

#[test]
fn datil_vector_any_two_of_three_give_the_published_signature() {
    let v = &vectors()["datilThreeSharesAndSignature"];
    let msg = hex::decode(v["messageHex"].as_str().unwrap()).unwrap();
    let all: Vec<SignatureShare> = v["sharesHex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| SignatureShare::from_json(&json!({ "ProofOfPossession": h })).unwrap())
        .collect();
    let expected = BlsSignature::from_hex(v["signature"].as_str().unwrap()).unwrap();
    expected.verify(&key(v), &msg).unwrap();
    for pair in [[0, 1], [0, 2], [1, 2]] {
        let two = [all[pair[0]], all[pair[1]]];
        assert_eq!(
            BlsSignature::combine(&two, 2).unwrap(),
            expected,
            "{pair:?}"
        );
    }
    assert_eq!(BlsSignature::combine(&all, 2).unwrap(), expected);
    assert_eq!(expected.to_hex(), v["signature"].as_str().unwrap());
}

#[test]
fn session_hash_reproduces_lit_peers_data_signed() {
    let v = &vectors()["litPeerSignSessionKeyV2"]["response"]["data"];
    let siwe = v["siweMessage"].as_str().unwrap();
    assert_eq!(
        hex::encode(session_hash(siwe)),
        v["dataSigned"].as_str().unwrap()
    );
    assert!(v["dataSigned"].as_str().unwrap().starts_with("c30637f8"));
    // Its share and root key parse.
    let share = SignatureShare::from_json(&v["signatureShare"]).unwrap();
    assert_eq!(
        serde_json::to_value(share.to_v8_json()).unwrap(),
        v["signatureShare"]
    );
    let root: NetworkKey = v["blsRootPubkey"].as_str().unwrap().parse().unwrap();
    assert_eq!(root.to_hex(), v["blsRootPubkey"].as_str().unwrap());
}

/// Deals `n` shares of the key for `seed` with threshold `t`, each signing `msg`.
fn deal_and_sign(seed: &[u8], t: u16, n: u16, msg: &[u8]) -> Vec<SignatureShare> {
    (1..=n)
        .map(|i| KeyShare::deal(seed, i, n, t).unwrap().sign(msg))
        .collect()
}

#[test]
fn dealt_shares_combine_and_verify_for_several_thresholds() {
    let msg = session_hash("a SIWE text");
    for (t, n) in [(1, 1), (1, 3), (2, 3), (3, 3), (3, 5), (4, 7), (7, 10)] {
        let seed = format!("seed-{t}-{n}");
        let key = network_key_from_seed(seed.as_bytes()).unwrap();
        let all = deal_and_sign(seed.as_bytes(), t, n, &msg);
        let t = usize::from(t);
        let first = BlsSignature::combine(&all[..t], t).unwrap();
        first.verify(&key, &msg).unwrap();
        // Another subset, and all of them, give the same signature.
        let last = BlsSignature::combine(&all[all.len() - t..], t).unwrap();
        assert_eq!(first, last, "t={t} n={n}");
        assert_eq!(BlsSignature::combine(&all, t).unwrap(), first);
        // Too few are refused, whatever their identifiers.
        if t > 1 {
            assert_eq!(
                BlsSignature::combine(&all[..t - 1], t),
                Err(BlsError::TooFewShares {
                    got: t - 1,
                    need: t
                })
            );
        }
    }
}

#[test]
fn the_key_does_not_depend_on_threshold_or_count_and_shares_are_deterministic() {
    let msg = b"m";
    let a = BlsSignature::combine(&deal_and_sign(b"s", 2, 3, msg), 2).unwrap();
    let b = BlsSignature::combine(&deal_and_sign(b"s", 2, 9, msg), 2).unwrap();
    assert_eq!(a, b);
    let c = BlsSignature::combine(&deal_and_sign(b"s", 5, 9, msg), 5).unwrap();
    assert_eq!(a, c, "a signature is the key's, not the dealing's");
    assert_ne!(
        network_key_from_seed(b"s").unwrap(),
        network_key_from_seed(b"t").unwrap()
    );
}

#[test]
fn fewer_than_threshold_shares_are_refused_even_if_they_would_verify() {
    let all = deal_and_sign(b"seed", 1, 3, b"m");
    assert_eq!(
        BlsSignature::combine(&all[..1], 2),
        Err(BlsError::TooFewShares { got: 1, need: 2 })
    );
    assert_eq!(
        BlsSignature::combine(&[], 0),
        Err(BlsError::TooFewShares { got: 0, need: 1 })
    );
}

#[test]
fn a_share_over_another_message_spoils_the_signature() {
    let seed = b"seed";
    let key = network_key_from_seed(seed).unwrap();
    let mut all = deal_and_sign(seed, 2, 3, b"right");
    all[1] = KeyShare::deal(seed, 2, 3, 2).unwrap().sign(b"wrong");
    let sig = BlsSignature::combine(&all[..2], 2).unwrap();
    assert_eq!(sig.verify(&key, b"right"), Err(BlsError::Verification));
    assert_eq!(sig.verify(&key, b"wrong"), Err(BlsError::Verification));
}

#[test]
fn duplicate_identifiers_are_refused() {
    let all = deal_and_sign(b"seed", 2, 3, b"m");
    assert_eq!(
        BlsSignature::combine(&[all[0], all[0]], 2),
        Err(BlsError::DuplicateIdentifier)
    );
    // Same identifier, different value: still refused.
    let other = KeyShare::deal(b"other seed", 1, 3, 2).unwrap().sign(b"m");
    assert_eq!(
        BlsSignature::combine(&[all[0], all[1], other], 2),
        Err(BlsError::DuplicateIdentifier)
    );
}

#[test]
fn a_signature_does_not_verify_under_another_key_or_message() {
    let all = deal_and_sign(b"seed", 2, 3, b"m");
    let sig = BlsSignature::combine(&all, 2).unwrap();
    let other = network_key_from_seed(b"another seed").unwrap();
    assert_eq!(sig.verify(&other, b"m"), Err(BlsError::Verification));
    assert_eq!(
        sig.verify(&network_key_from_seed(b"seed").unwrap(), b"n"),
        Err(BlsError::Verification)
    );
}

#[test]
fn dealing_parameters_are_checked() {
    for (i, of, t) in [(0, 3, 2), (4, 3, 2), (1, 3, 0), (1, 3, 4), (1, 256, 2)] {
        assert!(
            matches!(KeyShare::deal(b"s", i, of, t), Err(BlsError::Dealing)),
            "{i} {of} {t}"
        );
    }
    assert_eq!(KeyShare::deal(b"s", 255, 255, 255).unwrap().index(), 255);
}

#[test]
fn shares_round_trip_through_both_json_forms_and_strings() {
    for share in deal_and_sign(b"seed", 2, 3, b"m") {
        let id = share.identifier().unwrap();
        let v7 = share.to_v7_json().unwrap();
        let hex194 = v7["ProofOfPossession"].as_str().unwrap();
        assert_eq!(hex194.len(), 194);
        assert_eq!(&hex194[..2], format!("{id:02x}"));
        let v8 = share.to_v8_json();
        let id_hex = v8["ProofOfPossession"]["identifier"].as_str().unwrap();
        assert_eq!(
            id_hex,
            format!("{id:02x}{}", "0".repeat(62)),
            "little-endian"
        );
        assert_eq!(
            v8["ProofOfPossession"]["value"].as_str().unwrap(),
            &hex194[2..]
        );
        for form in [v7.clone(), v8.clone()] {
            assert_eq!(SignatureShare::from_json(&form).unwrap(), share);
            let text = Value::String(form.to_string());
            assert_eq!(SignatureShare::from_json(&text).unwrap(), share);
        }
        let upper = json!({ "ProofOfPossession": hex194.to_uppercase() });
        assert_eq!(SignatureShare::from_json(&upper).unwrap(), share);
    }
}

#[test]
fn malformed_shares_are_refused() {
    let share = KeyShare::deal(b"seed", 1, 3, 2).unwrap().sign(b"m");
    let v7 = share.to_v7_json().unwrap()["ProofOfPossession"]
        .as_str()
        .unwrap()
        .to_owned();
    let v8 = share.to_v8_json();
    let value = v8["ProofOfPossession"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad = [
        json!(null),
        json!([]),
        json!({}),
        json!({ "Basic": v7 }),
        json!({ "ProofOfPossession": v7, "extra": 1 }),
        json!({ "ProofOfPossession": &v7[2..] }),
        json!({ "ProofOfPossession": format!("00{}", &v7[2..]) }),
        json!({ "ProofOfPossession": format!("01{}", "00".repeat(96)) }),
        json!({ "ProofOfPossession": { "identifier": "00".repeat(32), "value": value } }),
        json!({ "ProofOfPossession": { "identifier": "ff".repeat(32), "value": value } }),
        json!({ "ProofOfPossession": { "identifier": format!("01{}", "00".repeat(31)) } }),
        json!({ "ProofOfPossession": { "identifier": format!("01{}", "00".repeat(31)), "value": value, "x": 1 } }),
        json!({ "ProofOfPossession": 7 }),
        Value::String("not json".into()),
        Value::String(Value::String(v8.to_string()).to_string()),
    ];
    for b in bad {
        assert!(SignatureShare::from_json(&b).is_err(), "{b}");
    }
}

#[test]
fn keys_and_signatures_parse_strictly_and_print_lowercase() {
    let key = network_key_from_seed(b"seed").unwrap();
    let hex = key.to_hex();
    assert_eq!(hex.len(), 96);
    assert_eq!(format!("{key}"), hex);
    for text in [hex.clone(), format!("0x{hex}"), hex.to_uppercase()] {
        assert_eq!(text.parse::<NetworkKey>().unwrap(), key);
    }
    let identity = format!("c0{}", "00".repeat(47));
    for bad in [&hex[2..], "", "zz", identity.as_str()] {
        assert_eq!(
            bad.parse::<NetworkKey>(),
            Err(BlsError::NetworkKey),
            "{bad}"
        );
    }
    let sig = BlsSignature::combine(&deal_and_sign(b"seed", 2, 3, b"m"), 2).unwrap();
    let sig_hex = sig.to_hex();
    assert_eq!(sig_hex.len(), 192);
    assert_eq!(sig_hex, sig_hex.to_lowercase());
    assert_eq!(BlsSignature::from_hex(&sig_hex).unwrap(), sig);
    assert_eq!(
        BlsSignature::from_hex(&format!("c0{}", "00".repeat(95))),
        Err(BlsError::Signature)
    );
    assert_eq!(
        BlsSignature::from_hex(&sig_hex[2..]),
        Err(BlsError::Signature)
    );
}

#[test]
fn the_authsig_sig_is_exactly_what_the_sdk_stringifies() {
    let sig = BlsSignature::combine(&deal_and_sign(b"seed", 2, 3, b"m"), 2).unwrap();
    let text = sig.to_authsig_sig();
    assert_eq!(
        text,
        serde_json::to_string(&json!({ "ProofOfPossession": sig.to_hex() })).unwrap()
    );
    assert_eq!(BlsSignature::from_authsig_sig(&text).unwrap(), sig);
    for bad in [
        format!(r#"{{ "ProofOfPossession":"{}"}}"#, sig.to_hex()),
        format!(
            r#"{{"ProofOfPossession":"{}"}}"#,
            sig.to_hex().to_uppercase()
        ),
        format!(r#"{{"ProofOfPossession":"0x{}"}}"#, sig.to_hex()),
        format!(r#"{{"Basic":"{}"}}"#, sig.to_hex()),
        sig.to_hex(),
    ] {
        assert_eq!(
            BlsSignature::from_authsig_sig(&bad),
            Err(BlsError::AuthSigSig),
            "{bad}"
        );
    }
}

/// `vectors/bls-sdk.json`, made by `tests/sdk/bls-crosscheck.mjs make`: shares dealt by
/// `@noble/curves` (independently of us) and the published vectors, as the official SDK
/// (`@lit-protocol/crypto` 7.4.0 and 8.1.0) combines them.
fn sdk_made() -> Value {
    serde_json::from_str(include_str!("vectors/bls-sdk.json")).unwrap()
}

#[test]
fn we_combine_independently_dealt_shares_as_the_sdk_does() {
    let sdk = sdk_made();
    let msg = hex::decode(sdk["messageHex"].as_str().unwrap()).unwrap();
    for generation in ["naga", "datil"] {
        let v = &sdk[generation];
        let shares = shares(&v["shares"]);
        let threshold = usize::try_from(v["threshold"].as_u64().unwrap()).unwrap();
        let ours = BlsSignature::combine(&shares, threshold).unwrap();
        assert_eq!(
            ours.to_hex(),
            v["sdkCombined"].as_str().unwrap(),
            "{generation}"
        );
        ours.verify(&key(v), &msg).unwrap();
        // Our writing of each share is the SDK's input, byte for byte.
        for (s, given) in shares.iter().zip(v["shares"].as_array().unwrap()) {
            let written = match generation {
                "naga" => s.to_v8_json(),
                _ => s.to_v7_json().unwrap(),
            };
            assert_eq!(&written, given);
        }
    }
    // Naga's identifiers are full scalars.
    assert!(shares(&sdk["naga"]["shares"])
        .iter()
        .all(|s| s.identifier().is_none()));
}

#[test]
fn we_combine_the_published_vectors_as_the_sdk_does() {
    let sdk = &sdk_made()["published"];
    let v = vectors();
    let combined = |list: &Value, threshold| {
        BlsSignature::combine(&shares(list), threshold)
            .unwrap()
            .to_hex()
    };
    assert_eq!(
        combined(&v["nagaThreeShares"]["shares"], 3),
        sdk["nagaThreeShares"].as_str().unwrap()
    );
    assert_eq!(
        combined(&v["earlyWasmTwoForms"]["sharesNaga"], 2),
        sdk["earlyWasmTwoFormsNaga"].as_str().unwrap()
    );
    assert_eq!(
        combined(&v["earlyWasmTwoForms"]["sharesDatil"], 2),
        sdk["earlyWasmTwoFormsDatil"].as_str().unwrap()
    );
    let datil: Vec<SignatureShare> = v["datilThreeSharesAndSignature"]["sharesHex"]
        .as_array()
        .unwrap()[..2]
        .iter()
        .map(|h| SignatureShare::from_json(&json!({ "ProofOfPossession": h })).unwrap())
        .collect();
    assert_eq!(
        BlsSignature::combine(&datil, 2).unwrap().to_hex(),
        sdk["datilThreeSharesFirstTwo"].as_str().unwrap()
    );
}
