//! `lit-companion session verify --network-key`: a PKP session (its capability the network's
//! `LIT_BLS` signature) verifies against the network key, and is refused without it or under
//! another.

use std::process::Output;

use lit_companion_session::{
    authsig::AuthSig,
    bls::{network_key_from_seed, session_hash, KeyShare},
    message::SessionMessage,
    session_sigs::{SessionGrant, SessionParams},
    timefmt::parse_rfc3339,
    Ability, BlsSignature, Generation, LitResource, ResourceAbilityRequest, ResourcePrefix,
    SessionKeyPair, SessionSeed, WalletKey,
};
use time::Duration;

use super::run;

const NODE: &str = "http://127.0.0.1:7470";
const SEED: &[u8] = b"cli verify pkp network";

/// A Datil sessionSigs map whose capability 2 of 3 simulated nodes signed for a PKP.
fn pkp_session() -> (String, String) {
    let session = SessionKeyPair::from_seed(&SessionSeed::from_bytes([7; 32]));
    let pkp = WalletKey::from_bytes(&[0x22; 32]).unwrap().address();
    let t0 = parse_rfc3339("2026-11-24T12:00:00.000Z").unwrap();
    let requests = [ResourceAbilityRequest::new(
        LitResource::wildcard(ResourcePrefix::Pkp),
        Ability::PkpSigning,
    )
    .unwrap()];
    let text = SessionMessage {
        domain: "localhost",
        address: pkp,
        statement: "Lit Protocol PKP session signature",
        session_key: &session.public_key().to_hex(),
        nonce: &format!("0x{}", "ab".repeat(32)),
        issued_at: t0,
        expiration: t0 + Duration::hours(24),
        grant: &requests,
    }
    .build()
    .unwrap();
    let msg = session_hash(&text);
    let shares: Vec<_> = [2, 3]
        .iter()
        .map(|i| KeyShare::deal(SEED, *i, 3, 2).unwrap().sign(&msg))
        .collect();
    let sig = BlsSignature::combine(&shares, 2).unwrap();
    let auth = AuthSig::lit_bls(&sig, text, pkp.to_checksum());
    let key = network_key_from_seed(SEED).unwrap();
    let map = SessionGrant::check_network(&auth, &session, &key, t0)
        .unwrap()
        .sign(&SessionParams {
            generation: Generation::Datil,
            session_key: &session,
            requests: &requests,
            wallet_auth_sig: &auth,
            delegation_auth_sigs: &[],
            issued_at: t0,
            expiration: t0 + Duration::hours(1),
            node_urls: &[NODE.to_owned()],
            max_price_wei: None,
        })
        .unwrap();
    (serde_json::to_string(&map).unwrap(), pkp.to_checksum())
}

fn verify(map: &str, key: Option<&str>) -> Output {
    let mut args = vec![
        "session",
        "verify",
        "--node",
        NODE,
        "--now",
        "2026-11-24T12:05:00Z",
        "--resource",
        "lit-pkp://3f9a1234",
        "--ability",
        "pkp-signing",
    ];
    if let Some(k) = key {
        args.extend(["--network-key", k]);
    }
    run(&args, map)
}

#[test]
fn a_pkp_session_verifies_against_the_network_key_only() {
    let (map, pkp) = pkp_session();
    let key = network_key_from_seed(SEED).unwrap().to_hex();

    let ok = verify(&map, Some(&key));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!(summary["wallet"], pkp.as_str());
    // `0x` and upper case are read too.
    let upper = format!("0x{}", key.to_uppercase());
    assert!(verify(&map, Some(&upper)).status.success());

    let refused = |key: Option<&str>, code: &str| {
        let out = verify(&map, key);
        assert_eq!(out.status.code(), Some(1), "{key:?}");
        let line = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(line.contains(code), "{key:?}: {line}");
    };
    refused(None, "no_network_key");
    let other = network_key_from_seed(b"another network").unwrap().to_hex();
    refused(Some(&other), "authsig_bad_bls_signature");

    // Not a key: the argument is refused (exit 2) before anything is checked.
    let bad = verify(&map, Some("0x1234"));
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--network-key"));
}
