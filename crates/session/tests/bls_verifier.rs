//! PKP sessions: a capability the network signed (`algo: "LIT_BLS"`) is accepted exactly when
//! a node would accept it against the network key, and refused, with its reason, otherwise.
#![allow(clippy::unwrap_used, reason = "test fixtures panic on bad setup")]

mod common;

use common::*;
use lit_companion_session::{
    authsig::AuthSig,
    bls::{network_key_from_seed, session_hash, KeyShare},
    message::SessionMessage,
    timefmt::parse_rfc3339,
    verify::{verify_session_sig, NodeContext},
    Address, BlsSignature, Generation, NetworkKey, SessionKeyPair, SessionSig, WalletKey,
};
use serde_json::{json, Value};
use time::Duration;

const SEED: &[u8] = b"bls verifier test network";

fn network_key() -> NetworkKey {
    network_key_from_seed(SEED).unwrap()
}

/// The PKP's address (any secp256k1 key stands in for the PKP's).
fn pkp_address() -> Address {
    WalletKey::from_bytes(&[0x22; 32]).unwrap().address()
}

/// What 2 of 3 simulated nodes sign for `text`, combined.
fn network_sign(seed: &[u8], text: &str) -> BlsSignature {
    let msg = session_hash(text);
    let shares: Vec<_> = [1, 3]
        .iter()
        .map(|i| KeyShare::deal(seed, *i, 3, 2).unwrap().sign(&msg))
        .collect();
    BlsSignature::combine(&shares, 2).unwrap()
}

/// The SIWE text nodes would sign for `session_key`, valid for `lifetime` from t0.
fn pkp_siwe(session_key: &SessionKeyPair, lifetime: Duration) -> String {
    SessionMessage {
        domain: "app.example.com",
        address: pkp_address(),
        statement: "Lit Protocol PKP session signature",
        session_key: &session_key.public_key().to_hex(),
        nonce: NONCE,
        issued_at: t0(),
        expiration: t0() + lifetime,
        grant: &[pkp_request()],
    }
    .build()
    .unwrap()
}

fn pkp_auth_sig(text: String) -> AuthSig {
    let sig = network_sign(SEED, &text);
    AuthSig::lit_bls(&sig, text, pkp_address().to_checksum())
}

/// A Datil session whose only capability is `cap`, signed by the fixture session key.
fn with_capability(cap: &AuthSig) -> SessionSig {
    let cap = serde_json::to_value(cap).unwrap();
    resign(&entry(&valid_datil()), |v| v["capabilities"] = json!([cap]))
}

fn check_with(entry: &SessionSig, key: Option<&NetworkKey>) -> Result<Address, &'static str> {
    let req = pkp_request();
    let ctx = NodeContext {
        node_address: NODE,
        generation: Generation::Datil,
        now: t0() + Duration::minutes(5),
        request: Some(&req),
        network_key: key,
    };
    verify_session_sig(entry, &ctx)
        .map(|v| v.wallet)
        .map_err(|e| e.code())
}

fn check(entry: &SessionSig) -> Result<Address, &'static str> {
    check_with(entry, Some(&network_key()))
}

#[test]
fn a_pkp_session_is_accepted_and_names_the_pkp() {
    let cap = pkp_auth_sig(pkp_siwe(&session(), Duration::hours(24)));
    assert_eq!(check(&with_capability(&cap)), Ok(pkp_address()));
}

#[test]
fn the_authsig_is_written_in_the_sdks_key_order() {
    let text = pkp_siwe(&session(), Duration::hours(24));
    let sig = network_sign(SEED, &text);
    let cap = AuthSig::lit_bls(&sig, text.clone(), pkp_address().to_checksum());
    let written = serde_json::to_string(&cap).unwrap();
    let expected = format!(
        r#"{{"sig":{},"algo":"LIT_BLS","derivedVia":"lit.bls","signedMessage":{},"address":"{}"}}"#,
        Value::String(format!(r#"{{"ProofOfPossession":"{}"}}"#, sig.to_hex())),
        Value::String(text),
        pkp_address().to_checksum(),
    );
    assert_eq!(written, expected);
    assert_eq!(AuthSig::from_json(&written).unwrap(), cap);
}

#[test]
fn a_wallet_authsig_is_written_as_before_without_algo() {
    let auth = wallet_auth_sig(&wallet(), &session(), &[pkp_request()], Duration::hours(1));
    let written = serde_json::to_string(&auth).unwrap();
    let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(&written)
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, ["sig", "derivedVia", "signedMessage", "address"]);
    assert!(!written.contains("algo"));
}

#[test]
fn without_a_network_key_it_is_refused() {
    let cap = pkp_auth_sig(pkp_siwe(&session(), Duration::hours(24)));
    assert_eq!(
        check_with(&with_capability(&cap), None),
        Err("no_network_key")
    );
}

#[test]
fn under_another_network_key_it_is_refused() {
    let cap = pkp_auth_sig(pkp_siwe(&session(), Duration::hours(24)));
    let other = network_key_from_seed(b"another network").unwrap();
    assert_eq!(
        check_with(&with_capability(&cap), Some(&other)),
        Err("authsig_bad_bls_signature")
    );
    // Signed by another network, checked against ours: the same.
    let text = pkp_siwe(&session(), Duration::hours(24));
    let foreign = AuthSig::lit_bls(
        &network_sign(b"another network", &text),
        text,
        pkp_address().to_checksum(),
    );
    assert_eq!(
        check(&with_capability(&foreign)),
        Err("authsig_bad_bls_signature")
    );
}

#[test]
fn a_capability_for_another_session_key_is_refused() {
    let other = SessionKeyPair::from_seed(&lit_companion_session::SessionSeed::from_bytes([9; 32]));
    let cap = pkp_auth_sig(pkp_siwe(&other, Duration::hours(24)));
    assert_eq!(check(&with_capability(&cap)), Err("authsig_uri_mismatch"));
}

#[test]
fn an_expired_siwe_is_refused() {
    let cap = pkp_auth_sig(pkp_siwe(&session(), Duration::minutes(4)));
    assert_eq!(check(&with_capability(&cap)), Err("authsig_expired"));
}

#[test]
fn a_tampered_signed_message_is_refused() {
    let mut cap = pkp_auth_sig(pkp_siwe(&session(), Duration::hours(24)));
    cap.signed_message = cap
        .signed_message
        .replace("app.example.com", "evil.example.com");
    assert_eq!(
        check(&with_capability(&cap)),
        Err("authsig_bad_bls_signature")
    );
    // A signature over other text, however well formed, is refused too.
    let mut cap = pkp_auth_sig(pkp_siwe(&session(), Duration::hours(24)));
    cap.sig = network_sign(SEED, "other text").to_authsig_sig();
    assert_eq!(
        check(&with_capability(&cap)),
        Err("authsig_bad_bls_signature")
    );
}

#[test]
fn malformed_pkp_authsigs_are_refused_with_their_reason() {
    let good = pkp_auth_sig(pkp_siwe(&session(), Duration::hours(24)));
    let code_of = |edit: &dyn Fn(&mut Value)| {
        let mut v = serde_json::to_value(&good).unwrap();
        edit(&mut v);
        let e = resign(&entry(&valid_datil()), |m| m["capabilities"] = json!([v]));
        check(&e)
    };
    assert_eq!(
        code_of(&|v| v["algo"] = json!("ed25519")),
        Err("authsig_malformed")
    );
    assert_eq!(
        code_of(&|v| v["derivedVia"] = json!("web3.eth.personal.sign")),
        Err("authsig_derived_via")
    );
    assert_eq!(
        code_of(&|v| v["algo"] = Value::Null),
        Err("authsig_derived_via")
    );
    assert_eq!(
        code_of(&|v| v["sig"] = json!(good.sig.replace("ProofOfPossession", "Basic"))),
        Err("authsig_bls_malformed")
    );
    assert_eq!(
        code_of(&|v| v["address"] = json!(wallet().address().to_checksum())),
        Err("authsig_address_mismatch")
    );
    assert_eq!(
        code_of(&|v| v["address"] = json!(pkp_address().to_checksum().to_lowercase())),
        Err("authsig_address_not_checksummed")
    );
}

#[test]
fn a_wallet_signed_capability_still_needs_no_network_key() {
    assert_eq!(
        check_with(&entry(&valid_datil()), None),
        Ok(wallet().address())
    );
}

/// The message lit-peer's nodes build (models/mod.rs test `serialize`: statement written
/// twice, resolved auth context in the ReCap, whole-second issuedAt) passes our strict checks
/// when signed by a network we know.
#[test]
fn a_node_built_siwe_message_passes_the_strict_checks() {
    let vectors: Value = serde_json::from_str(include_str!("vectors/bls.json")).unwrap();
    let data = &vectors["litPeerSignSessionKeyV2"]["response"]["data"];
    let text = data["siweMessage"].as_str().unwrap().to_owned();
    let siwe: siwe::Message = text.parse().unwrap();
    let address = lit_companion_session::Address(siwe.address).to_checksum();
    let cap = AuthSig::lit_bls(&network_sign(SEED, &text), text, address.clone());
    let uri = siwe.uri.to_string();
    let now = parse_rfc3339("2025-05-10T00:00:00Z").unwrap();
    let v = cap.verify_lit_bls(&network_key(), &uri, now).unwrap();
    assert_eq!(v.signer.to_checksum(), address);
    assert!(v.recap.attenuations().contains_key("lit-litaction://*"));
    let late = parse_rfc3339("2025-05-15T00:00:00Z").unwrap();
    assert!(cap.verify_lit_bls(&network_key(), &uri, late).is_err());
    assert!(cap
        .verify_lit_bls(&network_key(), "lit:session:00", now)
        .is_err());
}
