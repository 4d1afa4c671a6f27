//! The work a companion does per dapp request: sign sessionSigs for a whole network (30 nodes),
//! verify one node's entry, and create a wallet AuthSig (SIWE + ReCap + EIP-191).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use lit_companion_session::{
    authsig::AuthSig,
    message::SessionMessage,
    session_sigs::{sign_session_sigs, SessionParams},
    timefmt::parse_rfc3339,
    verify::{verify_session_sig, NodeContext},
    Ability, Generation, LitResource, ResourceAbilityRequest, ResourcePrefix, SessionKeyPair,
    SessionSeed, WalletKey,
};
use time::Duration;

fn bench(c: &mut Criterion) {
    let wallet = WalletKey::from_bytes(&[0x11; 32]).unwrap();
    let session = SessionKeyPair::from_seed(&SessionSeed::from_bytes([7; 32]));
    let requests = [
        ResourceAbilityRequest::new(
            LitResource::new(ResourcePrefix::Pkp, "0x1234").unwrap(),
            Ability::PkpSigning,
        )
        .unwrap(),
        ResourceAbilityRequest::new(
            LitResource::wildcard(ResourcePrefix::LitAction),
            Ability::LitActionExecution,
        )
        .unwrap(),
    ];
    let issued_at = parse_rfc3339("2026-11-24T12:00:00.000Z").unwrap();
    let expiration = issued_at + Duration::hours(24);
    let session_hex = session.public_key().to_hex();
    let nonce = format!("0x{}", "ab".repeat(32));
    let make_auth_sig = || {
        let text = SessionMessage {
            domain: "app.example.com",
            address: wallet.address(),
            statement: "",
            session_key: &session_hex,
            nonce: &nonce,
            issued_at,
            expiration,
            grant: &requests,
        }
        .build()
        .unwrap();
        AuthSig::sign(&wallet, text).unwrap()
    };
    let auth_sig = make_auth_sig();
    let nodes: Vec<String> = (0..30)
        .map(|i| format!("https://192.0.2.{}:7470", i + 1))
        .collect();
    let params = SessionParams {
        generation: Generation::Datil,
        session_key: &session,
        requests: &requests,
        wallet_auth_sig: &auth_sig,
        delegation_auth_sigs: &[],
        issued_at,
        expiration,
        node_urls: &nodes,
        max_price_wei: None,
    };

    c.bench_function("create wallet AuthSig (SIWE + ReCap + EIP-191)", |b| {
        b.iter(|| black_box(make_auth_sig()))
    });
    c.bench_function("sign sessionSigs for 30 nodes", |b| {
        b.iter(|| black_box(sign_session_sigs(&params).unwrap()))
    });

    let map = sign_session_sigs(&params).unwrap();
    let (url, entry) = &map.entries()[0];
    let ctx = NodeContext {
        node_address: url,
        generation: Generation::Datil,
        now: issued_at + Duration::minutes(1),
        request: Some(&requests[0]),
        network_key: None,
    };
    c.bench_function("verify one node's entry", |b| {
        b.iter(|| black_box(verify_session_sig(entry, &ctx).unwrap()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
