//! Writes (to stdout, as JSON) BLS shares this crate deals and signs, their combinations, and
//! a PKP session AuthSig (`LIT_BLS`) this crate's verifier accepts, for the official SDK to
//! check (`tests/sdk/bls-crosscheck.mjs`). Fixed seeds and times: the output never changes.
//!
//! `cargo run -q -p lit-companion-session --example bls_fixture > bls-rust.json`

use std::{error::Error, io::Write as _};

use lit_companion_session::{
    authsig::AuthSig,
    bls::{network_key_from_seed, session_hash, KeyShare, SignatureShare},
    message::{session_uri, SessionMessage},
    timefmt::{iso_millis, parse_rfc3339},
    Ability, BlsSignature, LitResource, ResourceAbilityRequest, ResourcePrefix, SessionKeyPair,
    SessionSeed, WalletKey,
};
use serde_json::{json, Value};
use time::Duration;

/// One dealt network: `threshold` of `of`, the shares `used` sign `msg`.
fn network(
    seed: &[u8],
    threshold: u16,
    of: u16,
    used: &[u16],
    msg: &[u8],
) -> Result<Value, Box<dyn Error>> {
    let key = network_key_from_seed(seed)?;
    let mut shares: Vec<SignatureShare> = Vec::new();
    for i in used {
        shares.push(KeyShare::deal(seed, *i, of, threshold)?.sign(msg));
    }
    let combined = BlsSignature::combine(&shares, usize::from(threshold))?;
    combined.verify(&key, msg)?;
    let v7: Result<Vec<Value>, _> = shares.iter().map(SignatureShare::to_v7_json).collect();
    Ok(json!({
        "seed": String::from_utf8_lossy(seed),
        "threshold": threshold,
        "of": of,
        "networkKey": key.to_hex(),
        "messageHex": hex::encode(msg),
        "sharesV7": v7?,
        "sharesV8": shares.iter().map(SignatureShare::to_v8_json).collect::<Vec<_>>(),
        "combined": combined.to_hex(),
    }))
}

fn main() -> Result<(), Box<dyn Error>> {
    let seed = b"lit-companion bls fixture";
    let session = SessionKeyPair::from_seed(&SessionSeed::from_bytes([7; 32]));
    // Any secp256k1 key stands in for the PKP's.
    let pkp_key = WalletKey::from_bytes(&[0x22; 32])?;
    let pkp = pkp_key.address();
    let issued_at = parse_rfc3339("2026-11-24T12:00:00.000Z").ok_or("time")?;
    let request = ResourceAbilityRequest::new(
        LitResource::wildcard(ResourcePrefix::Pkp),
        Ability::PkpSigning,
    )?;
    let siwe = SessionMessage {
        domain: "localhost",
        address: pkp,
        statement: "Lit Protocol PKP session signature",
        session_key: &session.public_key().to_hex(),
        nonce: &format!("0x{}", "ab".repeat(32)),
        issued_at,
        expiration: issued_at + Duration::hours(24),
        grant: &[request],
    }
    .build()?;
    let msg = session_hash(&siwe);

    let datil = network(seed, 2, 3, &[1, 2, 3], &msg)?;
    let wider = network(b"lit-companion bls fixture 3 of 5", 3, 5, &[2, 4, 5], &msg)?;

    let key = network_key_from_seed(seed)?;
    let mut shares = Vec::new();
    for i in [1, 3] {
        shares.push(KeyShare::deal(seed, i, 3, 2)?.sign(&msg));
    }
    let sig = BlsSignature::combine(&shares, 2)?;
    let auth_sig = AuthSig::lit_bls(&sig, siwe.clone(), pkp.to_checksum());
    let now = issued_at + Duration::minutes(1);
    let verified =
        auth_sig.verify_lit_bls(&key, &session_uri(&session.public_key().to_hex()), now)?;

    let out = json!({
        "about": "BLS shares dealt and signed by lit-companion-session (blsful Bls12381G2Impl, proof of possession), their combinations, and a LIT_BLS AuthSig its verifier accepts.",
        "siweMessage": siwe,
        "dataSigned": hex::encode(msg),
        "networks": [datil, wider],
        "pkpSession": {
            "networkKey": key.to_hex(),
            "pkpPublicKey": format!("0x{}", hex::encode(pkp_key.public_key_uncompressed())),
            "sessionKey": session.public_key().to_hex(),
            "now": iso_millis(now)?,
            "authSig": auth_sig,
            "authSigJson": serde_json::to_string(&auth_sig)?,
            "acceptedBy": "AuthSig::verify_lit_bls (verify::verify_session_sig's check of a LIT_BLS capability)",
            "signer": verified.signer.to_checksum(),
        },
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", serde_json::to_string_pretty(&out)?)?;
    Ok(())
}
