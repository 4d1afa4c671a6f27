//! Shared fixtures: a valid session with fixed keys and times, and ways to bend it.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    reason = "each test binary uses a different subset"
)]
#![allow(clippy::unwrap_used, reason = "test fixtures panic on bad setup")]

use lit_companion_session::{
    authsig::AuthSig,
    message::SessionMessage,
    session_sigs::{sign_session_sigs, SessionParams, SessionSig, SessionSigs},
    timefmt::parse_rfc3339,
    Ability, Generation, LitResource, ResourceAbilityRequest, ResourcePrefix, SessionKeyPair,
    SessionSeed, WalletKey,
};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

pub const NODE: &str = "http://127.0.0.1:7470";
pub const OTHER_NODE: &str = "http://127.0.0.1:7471";
pub const NONCE: &str = "0xabababababababababababababababababababababababababababababababab";
pub const PKP: &str = "3f9a000000000000000000000000000000000000000000000000000000001234";

pub fn t0() -> OffsetDateTime {
    parse_rfc3339("2026-11-24T12:00:00.000Z").unwrap()
}

pub fn wallet() -> WalletKey {
    WalletKey::from_bytes(&[0x11; 32]).unwrap()
}

pub fn session() -> SessionKeyPair {
    SessionKeyPair::from_seed(&SessionSeed::from_bytes([7; 32]))
}

pub fn pkp_request() -> ResourceAbilityRequest {
    ResourceAbilityRequest::new(
        LitResource::new(ResourcePrefix::Pkp, PKP).unwrap(),
        Ability::PkpSigning,
    )
    .unwrap()
}

pub fn request(prefix: ResourcePrefix, id: &str, ability: Ability) -> ResourceAbilityRequest {
    let r = if id == "*" {
        LitResource::wildcard(prefix)
    } else {
        LitResource::new(prefix, id).unwrap()
    };
    ResourceAbilityRequest::new(r, ability).unwrap()
}

/// A wallet AuthSig for `session` granting exactly `requests`, valid for `lifetime` from t0.
pub fn wallet_auth_sig(
    wallet: &WalletKey,
    session: &SessionKeyPair,
    requests: &[ResourceAbilityRequest],
    lifetime: Duration,
) -> AuthSig {
    let text = SessionMessage {
        domain: "app.example.com",
        address: wallet.address(),
        statement: "",
        session_key: &session.public_key().to_hex(),
        nonce: NONCE,
        issued_at: t0(),
        expiration: t0() + lifetime,
        grant: requests,
    }
    .build()
    .unwrap();
    AuthSig::sign(wallet, text).unwrap()
}

pub fn sign(
    generation: Generation,
    requests: &[ResourceAbilityRequest],
    auth_sig: &AuthSig,
    lifetime: Duration,
) -> SessionSigs {
    sign_session_sigs(&SessionParams {
        generation,
        session_key: &session(),
        requests,
        wallet_auth_sig: auth_sig,
        delegation_auth_sigs: &[],
        issued_at: t0(),
        expiration: t0() + lifetime,
        node_urls: &[NODE.to_owned(), OTHER_NODE.to_owned()],
        max_price_wei: (generation == Generation::Naga).then_some(1_000_000_000_000_000),
    })
    .unwrap()
}

/// A valid Datil session for the PKP request, 24 h long.
pub fn valid_datil() -> SessionSigs {
    let reqs = [pkp_request()];
    let auth = wallet_auth_sig(&wallet(), &session(), &reqs, Duration::hours(24));
    sign(Generation::Datil, &reqs, &auth, Duration::hours(24))
}

pub fn entry(map: &SessionSigs) -> SessionSig {
    map.get(NODE).unwrap().clone()
}

/// Edits the signed JSON, then re-signs it with `key` (so only the edited check can fail).
pub fn resign_with(
    entry: &SessionSig,
    key: &SessionKeyPair,
    edit: impl FnOnce(&mut Value),
) -> SessionSig {
    let mut value: Value = serde_json::from_str(&entry.signed_message).unwrap();
    edit(&mut value);
    let signed_message = serde_json::to_string(&value).unwrap();
    SessionSig {
        sig: hex::encode(key.sign(signed_message.as_bytes())),
        signed_message,
        ..entry.clone()
    }
}

pub fn resign(entry: &SessionSig, edit: impl FnOnce(&mut Value)) -> SessionSig {
    resign_with(entry, &session(), edit)
}

/// Signs arbitrary SIWE text with the fixture wallet (for messages `message::build` refuses to make).
pub fn raw_auth_sig(text: &str) -> AuthSig {
    AuthSig::sign(&wallet(), text.to_owned()).unwrap()
}
