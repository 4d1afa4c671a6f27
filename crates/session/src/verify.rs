//! A verifier that checks a session signature the way a Lit node does
//! (lit-node `auth/session_sigs.rs::validate_session_sig` and `validate_capabilities_array`),
//! in the node's order, with an injectable clock.
//!
//! Where the node is lax we are strict, never the other way round: `sessionKey` must equal the
//! signing key; the wallet AuthSig's JSON `address` must be EIP-55 and equal the SIWE address;
//! its ReCap must be the single last resource in canonical JSON, with the statement present.
//!
//! A PKP session's capability is the network's BLS signature (`algo` `LIT_BLS`), checked as
//! lit-peer `validate_bls_auth_sig_basic` does against the network key in [`NodeContext`];
//! with no network key known it is refused.

use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use crate::{
    authsig::{verify_delegation, AuthSig, VerifiedAuthSig},
    bls::NetworkKey,
    error::{AuthSigError, VerifyError},
    keys::SessionPublicKey,
    message::{session_uri, DELEGATION_URI},
    network::Generation,
    recap::Recap,
    resource::ResourceAbilityRequest,
    session_sigs::{
        node_host_port, SessionSig, SessionSigs, ALGO_ED25519, DERIVED_VIA_SESSION,
        MAX_SESSION_LIFETIME,
    },
    timefmt::parse_rfc3339,
    wallet::Address,
};

/// The clock skew nodes allow on the session's own times.
pub const GRACE: Duration = Duration::seconds(60);

/// The node's side of a check.
#[derive(Debug, Clone)]
pub struct NodeContext<'a> {
    /// This node's address: `host:port`, or a URL (the scheme is stripped as the node does).
    pub node_address: &'a str,
    /// The network generation the node runs.
    pub generation: Generation,
    /// The node's clock.
    pub now: OffsetDateTime,
    /// The resource and ability the incoming request needs, if any.
    pub request: Option<&'a ResourceAbilityRequest>,
    /// The network's BLS public key (the handshake's `networkPublicKey`), which verifies PKP
    /// session capabilities (`LIT_BLS`). Without it they are refused.
    pub network_key: Option<&'a NetworkKey>,
}

/// What a valid session signature grants.
#[derive(Debug, Clone)]
pub struct VerifiedSession {
    /// The session key.
    pub session_key: SessionPublicKey,
    /// The wallet whose AuthSig empowers it; for a PKP session, the PKP's address (the SIWE
    /// address of the network-signed capability).
    pub wallet: Address,
    /// The session's `issuedAt`.
    pub issued_at: OffsetDateTime,
    /// The session's `expiration`.
    pub expiration: OffsetDateTime,
    /// What the session asked for.
    pub requests: Vec<ResourceAbilityRequest>,
    /// What the wallet granted.
    pub recap: Recap,
    /// Delegation AuthSigs carried along (each verified).
    pub delegations: Vec<Address>,
    /// Naga: `maxPrice` in wei.
    pub max_price_wei: Option<u128>,
}

/// `signedMessage` as nodes read it (`SessionKeySignedMessageV2`): unknown keys are ignored,
/// every field here is required (`maxPrice` on Naga only).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignedMessage {
    session_key: String,
    resource_ability_requests: Vec<ResourceAbilityRequest>,
    capabilities: Vec<serde_json::Value>,
    issued_at: String,
    expiration: String,
    node_address: String,
    #[serde(default)]
    max_price: Option<String>,
}

/// Looks up the node's entry in a map and verifies it.
pub fn verify_for_node(
    map: &SessionSigs,
    node_url: &str,
    ctx: &NodeContext<'_>,
) -> Result<VerifiedSession, VerifyError> {
    let entry = map
        .get(node_url)
        .ok_or_else(|| VerifyError::NoEntry(node_url.to_owned()))?;
    verify_session_sig(entry, ctx)
}

/// Verifies one session signature as the node named in `ctx` would.
pub fn verify_session_sig(
    entry: &SessionSig,
    ctx: &NodeContext<'_>,
) -> Result<VerifiedSession, VerifyError> {
    // 1. It is an ed25519 session signature, and it verifies (strictly) over the exact bytes.
    if entry.derived_via != DERIVED_VIA_SESSION || entry.algo.as_deref() != Some(ALGO_ED25519) {
        return Err(VerifyError::Algorithm);
    }
    let key = SessionPublicKey::from_hex(&entry.address).map_err(|_| VerifyError::SessionKey)?;
    let sig = parse_ed25519_sig(&entry.sig).ok_or(VerifyError::Signature)?;
    if !key.verify_strict(entry.signed_message.as_bytes(), &sig) {
        return Err(VerifyError::Signature);
    }

    // 2. The signed JSON.
    let msg: SignedMessage = serde_json::from_str(&entry.signed_message)
        .map_err(|e| VerifyError::Message(e.to_string()))?;
    if msg.session_key != entry.address {
        return Err(VerifyError::SessionKeyMismatch);
    }

    // 3. The requested resource is among resourceAbilityRequests (nodes match prefix and id).
    if let Some(req) = ctx.request {
        let listed = msg.resource_ability_requests.iter().any(|r| {
            r.resource.prefix() == req.resource.prefix()
                && (r.resource.is_wildcard() || r.resource == req.resource)
        });
        if !listed {
            return Err(VerifyError::NotRequested(req.resource.key()));
        }
    }

    // 4. Times, with the node's 60 s grace.
    let issued_at = parse_rfc3339(&msg.issued_at)
        .ok_or_else(|| VerifyError::Message("issuedAt is not RFC 3339".into()))?;
    let expiration = parse_rfc3339(&msg.expiration)
        .ok_or_else(|| VerifyError::Message("expiration is not RFC 3339".into()))?;
    if issued_at > ctx.now + GRACE {
        return Err(VerifyError::IssuedInFuture);
    }
    if expiration < issued_at {
        return Err(VerifyError::ExpiresBeforeIssued);
    }
    if expiration < ctx.now - GRACE {
        return Err(VerifyError::Expired);
    }
    if expiration > issued_at + MAX_SESSION_LIFETIME {
        return Err(VerifyError::LifetimeTooLong);
    }

    // 5. Addressed to this node.
    let expected = node_host_port(ctx.node_address);
    let found = node_host_port(&msg.node_address);
    if expected != found {
        return Err(VerifyError::WrongNode { expected, found });
    }

    // 6. Naga prices: `maxPrice` is "0x<hex>" (nodes read other text as decimal; the SDK writes hex).
    let max_price_wei = match ctx.generation {
        Generation::Naga => {
            Some(parse_max_price(msg.max_price.as_deref()).ok_or(VerifyError::MaxPrice)?)
        }
        Generation::Datil => None,
    };

    // 7. Capabilities: the first session AuthSig that validates wins; delegations must all validate.
    let mut auth_sigs = Vec::with_capacity(msg.capabilities.len());
    for value in msg.capabilities {
        auth_sigs.push(AuthSig::from_value(value)?);
    }
    let uri = session_uri(&entry.address);
    let mut first_error: Option<AuthSigError> = None;
    let mut granted: Option<VerifiedAuthSig> = None;
    for cap in auth_sigs.iter().filter(|a| !is_delegation(a)) {
        match check_session_capability(cap, &uri, ctx) {
            Ok(v) => {
                granted = Some(v);
                break;
            }
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    let granted = match (granted, first_error) {
        (Some(v), _) => v,
        (None, Some(e)) => return Err(VerifyError::Capability(e)),
        (None, None) => return Err(VerifyError::NoCapability),
    };
    let mut delegations = Vec::new();
    for cap in auth_sigs.iter().filter(|a| is_delegation(a)) {
        delegations.push(verify_delegation(cap, granted.signer, ctx.now)?.signer);
    }

    Ok(VerifiedSession {
        session_key: key,
        wallet: granted.signer,
        issued_at,
        expiration,
        requests: msg.resource_ability_requests,
        recap: granted.recap,
        delegations,
        max_price_wei,
    })
}

fn check_session_capability(
    cap: &AuthSig,
    uri: &str,
    ctx: &NodeContext<'_>,
) -> Result<VerifiedAuthSig, AuthSigError> {
    let verified = if cap.is_lit_bls() {
        let key = ctx.network_key.ok_or(AuthSigError::NoNetworkKey)?;
        cap.verify_lit_bls(key, uri, ctx.now)?
    } else {
        cap.verify(uri, ctx.now)?
    };
    if let Some(req) = ctx.request {
        if !verified.recap.covers(req) {
            return Err(AuthSigError::NotCovered(req.to_string()));
        }
    }
    Ok(verified)
}

/// A capability whose SIWE `uri` is the delegation URI. Decided on the parsed message so that
/// a malformed AuthSig is judged (and refused) as a session capability.
fn is_delegation(cap: &AuthSig) -> bool {
    cap.signed_message
        .parse::<siwe::Message>()
        .is_ok_and(|m| m.uri.as_str() == DELEGATION_URI)
}

/// 128 hex digits, all lowercase or all uppercase, no `0x` (ed25519 `Signature::from_str`).
fn parse_ed25519_sig(text: &str) -> Option<[u8; 64]> {
    let mixed = text.bytes().any(|b| b.is_ascii_lowercase())
        && text.bytes().any(|b| b.is_ascii_uppercase());
    if text.len() != 128 || mixed {
        return None;
    }
    let mut out = [0u8; 64];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}

fn parse_max_price(text: Option<&str>) -> Option<u128> {
    let hex = text?.strip_prefix("0x")?;
    if hex.is_empty() {
        return None;
    }
    u128::from_str_radix(hex, 16).ok()
}
