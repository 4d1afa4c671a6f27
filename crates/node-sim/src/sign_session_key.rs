//! `POST /web/sign_session_key/v1` (Datil) and `/v2` (Naga): a PKP's session key signed by the
//! network's BLS key share, after the checks lit-peer `endpoints/web_client.rs`
//! `sign_session_key` runs, in its order:
//!
//! 1. `curveType` must be `BLS`; an `authSig` field is refused (send it as an auth method).
//! 2. The SIWE parses; its statement must not mention `lit-resolvedauthcontext`.
//! 3. The node has a BLS root key.
//! 4. Every auth method verifies. Type 1 (an EOA, `pkp/auth/wallet.rs`): `accessToken` is a
//!    JSON AuthSig whose EIP-191 signature recovers to its `address`, whose SIWE `uri` does not
//!    start with `lit:session` or `lit:capability:delegation`, and whose times pass the same
//!    rules as 6 (an expiration is required). Other types need an OAuth provider or WebAuthn,
//!    which the simulator has not: refused.
//! 5. `pkpPublicKey` given: the SIWE address must be the PKP's address. Absent: the first
//!    auth method's PKP (on the chain, `PKPPermissions`; here the `--pkp` table).
//! 6. SIWE `uri` == `sessionKey`; `utils/siwe.rs` `validate_siwe`: `issuedAt <= now + 60 s`,
//!    an expiration, `expiration >= issuedAt`, `expiration >= now - 60 s`, `expiration <=
//!    issuedAt + 30 days` (whole seconds).
//! 7. A Lit Action (`code`, base64, or `litActionIpfsId`, not both): the node runs it and needs
//!    a response containing `true`. The simulator runs no JavaScript: an action whose CIDv0
//!    ([`lit_companion_session::ipfs`]) is in the PKP's `--action` list counts as having
//!    answered `true`; any other fails as a `false` would. Its CID joins the auth context.
//! 8. The SIWE nonce must be a block hash the node knows (here: its own), whose timestamp
//!    becomes the rebuilt `issuedAt` (here: [`crate::NodeConfig::block_time`], or now; whole
//!    seconds, `Z`).
//! 9. The user's ReCap (the last resource; statement must end with its text) may not name
//!    `lit-resolvedauthcontext`. The node REBUILDS the message: the PKP's address, its nonce
//!    and time, and one ReCap merging the user's with `lit-resolvedauthcontext://*` →
//!    `Auth/Auth` → `[{"auth_context": <AuthContext>}]`; the statement becomes the user's
//!    statement, a space, and the merged ReCap's statement (siwe-recap `build_message`), so a
//!    statement that already ended with a ReCap text holds two.
//! 10. `check_pkp_auth`: an auth method (type 1: the recovered wallet) or the action's CID must
//!     be permitted for the PKP.
//! 11. The share signs [`session_hash`] of the rebuilt text.
//!
//! The AuthContext is the node's `models::AuthContext` as JSON (camelCase; keys sorted by the
//! ReCap's canonical JSON): Datil (`LIT-Protocol/Node` `models/mod.rs`) has `actionIpfsIds`
//! and `actionIpfsIdStack`; Naga (lit-peer) only `actionIpfsIdStack`.

use std::str::FromStr;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use lit_companion_session::{
    bls::session_hash,
    ipfs::cid_v0,
    recap::Recap,
    resource::RecapAbility,
    wallet::{recover_personal, Address},
    AuthSig, PkpPublicKey,
};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use time::{format_description::well_known::Rfc3339, Duration, OffsetDateTime};

use crate::{
    errors::{self, Kind, NodeError},
    Node,
};

/// The ReCap scheme of the node's auth context (lit-node-core `LIT_RESOURCE_PREFIX_RAC`).
pub const RESOLVED_AUTH_CONTEXT: &str = "lit-resolvedauthcontext";
/// The clock skew nodes allow on SIWE times (`utils/siwe.rs`).
const GRACE: Duration = Duration::seconds(60);
/// The longest SIWE lifetime nodes accept (`siwe_db/utils.rs` `MAX_TIMESTAMP_VALIDITY_DAYS`).
const MAX_LIFETIME: Duration = Duration::days(30);
/// SIWE `uri` prefixes that may not authenticate (`auth/validators/wallet_sig.rs`).
const INVALID_SIWE_URIS_FOR_AUTH: [&str; 2] = ["lit:session", "lit:capability:delegation"];

/// Which endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    /// Datil, `/v1`.
    V1,
    /// Naga, `/v2`.
    V2,
}

/// The body both versions share (Datil `JsonSignSessionKeyRequestV1`, lit-node-core
/// `JsonSignSessionKeyRequestV2`). Neither refuses unknown keys, so neither does this.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestV1 {
    session_key: String,
    auth_methods: Vec<AuthMethod>,
    pkp_public_key: Option<String>,
    auth_sig: Option<Value>,
    siwe_message: String,
    curve_type: CurveType,
    code: Option<String>,
    lit_action_ipfs_id: Option<String>,
    #[allow(
        dead_code,
        reason = "read as nodes read it; the simulator runs no action"
    )]
    js_params: Option<Value>,
    #[serde(default)]
    #[allow(
        dead_code,
        reason = "read as nodes read it; the simulator has one epoch"
    )]
    epoch: u64,
}

/// Naga's body: the shared fields, and the node set and the most the client pays (both
/// required; `pkpKeySetId` and other unknown keys ignored).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RequestV2 {
    #[serde(flatten)]
    pub(crate) common: RequestV1,
    #[allow(
        dead_code,
        reason = "required as nodes require it; no payment is simulated"
    )]
    node_set: Vec<NodeSetEntry>,
    #[allow(
        dead_code,
        reason = "required as nodes require it; no payment is simulated"
    )]
    max_price: MaxPrice,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeSetEntry {
    #[allow(dead_code, reason = "shape only")]
    socket_address: String,
    #[allow(dead_code, reason = "shape only")]
    value: u64,
}

/// ethers `U256` as nodes read it: a hex string (`0x` optional), or a number.
struct MaxPrice;

impl<'de> Deserialize<'de> for MaxPrice {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) if n.is_u64() => Ok(Self),
            Value::String(s) => {
                let digits = s.strip_prefix("0x").unwrap_or(&s);
                if !digits.is_empty()
                    && digits.len() <= 64
                    && digits.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    Ok(Self)
                } else {
                    Err(serde::de::Error::custom("maxPrice is not a U256"))
                }
            }
            _ => Err(serde::de::Error::custom("maxPrice is not a U256")),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthMethod {
    auth_method_type: u32,
    access_token: String,
}

/// lit-node-core `CurveType`, by variant name.
#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
enum CurveType {
    #[serde(rename = "BLS")]
    Bls,
    K256,
    Ed25519,
    Ed448,
    Ristretto25519,
    P256,
    P384,
    RedJubjub,
    RedDecaf377,
    #[serde(rename = "BLS12381G1")]
    Bls12381G1,
}

/// One verified auth method (`models::AuthMethodResponse` as serialized).
struct AuthMethodContext {
    user_id: String,
    wallet: Address,
    auth_method_type: u32,
}

/// Runs the node's checks and signs: the answer's `data`.
pub(crate) fn sign(
    node: &Node,
    req: RequestV1,
    version: Version,
    now: OffsetDateTime,
) -> Result<Value, NodeError> {
    // 1.
    if req.curve_type != CurveType::Bls {
        return Err(NodeError::coded(
            "invalid curve type",
            Kind::Validation,
            errors::INVALID_CURVE_TYPE,
            format!(
                "Invalid curve_type: {:?} - only BLS curve type is allowed for this endpoint",
                req.curve_type
            ),
        ));
    }
    if req.auth_sig.is_some() {
        return Err(NodeError::coded(
            "auth sig not supported",
            Kind::Validation,
            errors::AUTH_SIG_FOR_SESSION_KEY,
            "You can't provide an AuthSig on this endpoint.  Instead, send it as an AuthMethod in the authMethods array.".into(),
        ));
    }

    // 2.
    let parsed = siwe::Message::from_str(&req.siwe_message).map_err(|e| {
        NodeError::coded(
            "malformed siwe",
            Kind::Parser,
            errors::SIWE_MESSAGE,
            format!("Error parsing SIWE message: {e}"),
        )
    })?;
    if parsed
        .statement
        .as_deref()
        .is_some_and(|s| s.contains(RESOLVED_AUTH_CONTEXT))
    {
        return Err(auth_context_resource("missing resource prefix"));
    }

    // 3.
    let Some(bls) = node.config.bls.as_ref() else {
        return Err(NodeError::coded(
            "no bls root key",
            Kind::Unexpected,
            errors::BLS_ROOT_KEY_NOT_FOUND,
            "No BLS root key found".into(),
        ));
    };

    // 4.
    let mut contexts = Vec::with_capacity(req.auth_methods.len());
    for method in &req.auth_methods {
        contexts.push(verify_auth_method(method, now)?);
    }

    // 5.
    let pkp = match &req.pkp_public_key {
        Some(text) => {
            let pkp = PkpPublicKey::parse(text).map_err(|_| {
                NodeError::uncoded(
                    "invalid pkp public key",
                    Kind::Conversion,
                    "Unable to convert PKP public key from hex to bytes".into(),
                )
            })?;
            if parsed.address != pkp.address().0 {
                return Err(NodeError::coded(
                    "siwe message does not contain the correct pkp public key",
                    Kind::Parser,
                    errors::SIWE_MESSAGE,
                    format!(
                        "Address in SIWE message {} does not match PKP ETH address {}",
                        hex::encode(parsed.address),
                        hex::encode(pkp.address().0)
                    ),
                ));
            }
            pkp
        }
        None => {
            let first = contexts.first().ok_or_else(|| {
                NodeError::uncoded(
                    "no auth method provided",
                    Kind::Validation,
                    "No auth methods provided".into(),
                )
            })?;
            node.config
                .pkps
                .iter()
                .find(|(_, permits)| permits.wallets.contains(&first.wallet))
                .map(|(pkp, _)| *pkp)
                .ok_or_else(|| {
                    NodeError::uncoded(
                        "can't get the pkp public key",
                        Kind::Unexpected,
                        "No PKP is registered for this auth method".into(),
                    )
                })?
        }
    };

    // 6.
    if parsed.uri.as_str() != req.session_key {
        return Err(NodeError::coded(
            "invalid siwe uri message",
            Kind::Parser,
            errors::SIWE_MESSAGE,
            format!(
                "URI in SIWE message {} does not match URI in request {}",
                parsed.uri, req.session_key
            ),
        ));
    }
    validate_siwe(&parsed, now).map_err(|mut e| {
        e.short = "invalid siwe message";
        e
    })?;

    // 7.
    let permits = node
        .config
        .pkps
        .iter()
        .find(|(k, _)| *k == pkp)
        .map(|(_, p)| p);
    let action = match (&req.code, &req.lit_action_ipfs_id) {
        (Some(_), Some(_)) => {
            return Err(NodeError::uncoded(
                "lit action code and ipfs id both present",
                Kind::Unexpected,
                "Can't provide both code & lit_action_ipfs_id".into(),
            ))
        }
        (None, None) => None,
        (Some(code), None) => {
            let bytes = STANDARD.decode(code.as_bytes()).map_err(|e| {
                NodeError::uncoded(
                    "can't decode lit action code from base64",
                    Kind::Conversion,
                    format!("Your Lit Action code could not be decoded from base64: {e}"),
                )
            })?;
            let text = String::from_utf8(bytes).map_err(|_| {
                NodeError::uncoded(
                    "can't convert decoded lit action code into utf8",
                    Kind::Conversion,
                    "Your Lit Action code could not be converted from base64 decoded bytes into a string.  Please check your base64 encoding code.".into(),
                )
            })?;
            Some(cid_v0(text.as_bytes()))
        }
        (None, Some(cid)) => Some(cid.clone()),
    };
    if let Some(cid) = &action {
        if !permits.is_some_and(|p| p.actions.contains(cid)) {
            return Err(NodeError::coded(
                "authentication failed for session_sig signing via lit action",
                Kind::Validation,
                errors::LIT_ACTION_AUTH_FAILED,
                "Authentication failed for session_sig signing via Lit Action".into(),
            )
            .with_detail(format!(
                "the simulator runs no JavaScript: action {cid} is not among this PKP's --action list"
            )));
        }
    }

    // 8.
    if parsed.nonce != node.config.blockhash {
        return Err(NodeError::uncoded(
            "can't fetch blockhash",
            Kind::Validation,
            format!(
                "Error fetching block from hash: no block with hash {}",
                parsed.nonce
            ),
        ));
    }
    let block_time = node
        .config
        .block_time
        .unwrap_or(now)
        .to_offset(time::UtcOffset::UTC);
    let block_time = block_time.replace_nanosecond(0).unwrap_or(block_time);

    // 9.
    let context = auth_context(&contexts, action.as_deref(), version);
    let text = rebuild(
        &parsed,
        pkp.address(),
        &node.config.blockhash,
        block_time,
        context,
    )?;

    // 10.
    let wallet_permitted = contexts
        .iter()
        .any(|c| c.auth_method_type == 1 && permits.is_some_and(|p| p.wallets.contains(&c.wallet)));
    let action_permitted = action
        .as_ref()
        .is_some_and(|cid| permits.is_some_and(|p| p.actions.contains(cid)));
    if !wallet_permitted && !action_permitted {
        let hex_pubkey = hex::encode(pkp.as_bytes());
        let mut e = NodeError::coded(
            "pkp is not authorized to sign",
            Kind::Validation,
            errors::PKP_NOT_AUTHORIZED,
            format!("You are not authorized to sign using this PKP: {hex_pubkey}"),
        );
        for c in &contexts {
            e = e.with_detail(format!(
                "auth method type {} for {} is not permitted for PKP {}",
                c.auth_method_type,
                c.wallet.to_checksum(),
                pkp.address().to_checksum()
            ));
        }
        return Err(e);
    }

    // 11.
    let to_sign = session_hash(&text);
    let share = bls.share.sign(&to_sign);
    let root = bls.network_key.to_hex();
    Ok(match version {
        Version::V1 => json!({
            "result": "success",
            "signatureShare": share.to_v7_json().map_err(|e| NodeError::uncoded(
                "unable to create signature share",
                Kind::Unexpected,
                e.to_string(),
            ))?,
            "shareIndex": u32::from(bls.share.index()) - 1,
            "curveType": "BLS",
            "siweMessage": text,
            "dataSigned": hex::encode(to_sign),
            "blsRootPubkey": root,
        }),
        Version::V2 => json!({
            "result": "success",
            "signatureShare": share.to_v8_json(),
            "shareId": share.identifier_hex(),
            "curveType": "BLS12381G1",
            "siweMessage": text,
            "dataSigned": hex::encode(to_sign),
            "blsRootPubkey": root,
        }),
    })
}

fn auth_context_resource(short: &'static str) -> NodeError {
    NodeError::coded(
        short,
        Kind::Validation,
        errors::INVALID_AUTH_CONTEXT_RESOURCE,
        "Can't define Auth Context resources in capability".into(),
    )
}

/// Type 1 (`pkp/auth/wallet.rs` `verify_wallet_auth_method` →
/// `auth/validators/wallet_sig.rs` `validate_wallet_sig`). A failure here reaches the client
/// as the first coded error in the chain, or 500 when there is none (`get_auth_context` wraps
/// it as "Failed to verify auth method").
fn verify_auth_method(
    method: &AuthMethod,
    now: OffsetDateTime,
) -> Result<AuthMethodContext, NodeError> {
    const SHORT: &str = "can't get auth context";
    let failed = |detail: String| {
        NodeError::uncoded(
            SHORT,
            Kind::Unexpected,
            format!("Failed to verify auth method: {detail}"),
        )
    };
    if method.auth_method_type != 1 {
        return Err(failed(format!(
            "auth method type {} needs a provider the simulator has not",
            method.auth_method_type
        )));
    }
    let auth_sig = AuthSig::from_json(&method.access_token).map_err(|e| {
        NodeError::coded(
            SHORT,
            Kind::Parser,
            errors::WALLET_SIGNATURE_JSON,
            format!("Unable to parse string into a JsonAuthSig: {e}"),
        )
    })?;
    if auth_sig.algo.is_some() {
        return Err(failed("an AuthSig with an algo is not a wallet's".into()));
    }
    let sig = parse_wallet_sig(&auth_sig.sig).ok_or_else(|| {
        NodeError::coded(
            SHORT,
            Kind::Parser,
            errors::AUTH_SIG_SIGNATURE_CONVERSION,
            "Error parsing the signature".into(),
        )
    })?;
    let presented = Address::parse_any_case(&auth_sig.address).map_err(|_| {
        NodeError::coded(
            SHORT,
            Kind::Validation,
            errors::AUTH_SIG_ADDRESS_CONVERSION,
            format!("Invalid address {:?}", auth_sig.address),
        )
    })?;
    if recover_personal(auth_sig.signed_message.as_bytes(), &sig) != Some(presented) {
        return Err(failed(
            "Invalid signature verification: the signature does not recover to the address".into(),
        ));
    }
    let message = siwe::Message::from_str(&auth_sig.signed_message)
        .map_err(|e| failed(format!("Parse error on SIWE: {e}")))?;
    let uri = message.uri.as_str();
    if INVALID_SIWE_URIS_FOR_AUTH
        .iter()
        .any(|u| uri.starts_with(u))
    {
        return Err(NodeError::coded(
            SHORT,
            Kind::Validation,
            errors::INVALID_AUTH_SIG,
            format!("Invalid URI for top level auth sig: {uri}"),
        ));
    }
    validate_siwe(&message, now).map_err(|mut e| {
        e.short = SHORT;
        e
    })?;
    // The node also verifies over its re-rendering of the parsed message.
    if message.to_string() != auth_sig.signed_message {
        return Err(failed(
            "Error verifying SIWE signature: the SIWE text is not in its canonical form".into(),
        ));
    }
    Ok(AuthMethodContext {
        user_id: auth_sig.address,
        wallet: presented,
        auth_method_type: 1,
    })
}

/// `0x` + 130 hex: r ‖ s ‖ v.
fn parse_wallet_sig(text: &str) -> Option<[u8; 65]> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let mut out = [0u8; 65];
    hex::decode_to_slice(digits, &mut out).ok()?;
    Some(out)
}

/// lit-peer `utils/siwe.rs` `validate_siwe`.
fn validate_siwe(message: &siwe::Message, now: OffsetDateTime) -> Result<(), NodeError> {
    let now_text = now.format(&Rfc3339).unwrap_or_default();
    let issued_at = *message.issued_at.as_ref();
    if issued_at > now + GRACE {
        return Err(NodeError::coded(
            "invalid siwe message",
            Kind::Validation,
            errors::SIWE_MESSAGE,
            format!(
                "Session key issued_at {} is in the future beyond the grace period of 60 seconds (now is {now_text})",
                message.issued_at
            ),
        ));
    }
    let Some(exp) = &message.expiration_time else {
        return Err(NodeError::coded(
            "invalid siwe message",
            Kind::Parser,
            errors::SIWE_MESSAGE,
            "Session key expiration time is not set".into(),
        ));
    };
    let expiration = *exp.as_ref();
    if expiration < issued_at {
        return Err(NodeError::coded(
            "invalid siwe message",
            Kind::Validation,
            errors::EXP_WRONG_OR_TOO_LARGE,
            format!(
                "Session key expiration {exp} is in behind issue_at which is {}",
                message.issued_at
            ),
        ));
    }
    if expiration < now - GRACE {
        return Err(NodeError::coded(
            "invalid siwe message",
            Kind::Validation,
            errors::SIWE_MESSAGE,
            format!(
                "Session key expiration {exp} is in the past beyond the grace period of 60 seconds (now is {now_text})"
            ),
        ));
    }
    if expiration.unix_timestamp() > issued_at.unix_timestamp() + MAX_LIFETIME.whole_seconds() {
        return Err(NodeError::coded(
            "invalid siwe message",
            Kind::Validation,
            errors::SIWE_MESSAGE,
            format!(
                "Session key expiration {exp} is beyond the max expiry timestamp of 30 days after issued_at {}",
                message.issued_at
            ),
        ));
    }
    Ok(())
}

/// The node's `AuthContext` for this request.
fn auth_context(contexts: &[AuthMethodContext], action: Option<&str>, version: Version) -> Value {
    let methods: Vec<Value> = contexts
        .iter()
        .map(|c| {
            json!({
                "userId": c.user_id,
                "appId": "lit",
                "authMethodType": c.auth_method_type,
                "usedForSignSessionKeyRequest": true,
            })
        })
        .collect();
    let stack: Vec<&str> = action.into_iter().collect();
    let mut out = Map::new();
    if version == Version::V1 {
        out.insert("actionIpfsIds".into(), json!([]));
    }
    out.insert("actionIpfsIdStack".into(), json!(stack));
    out.insert("authSigAddress".into(), Value::Null);
    out.insert("authMethodContexts".into(), Value::Array(methods));
    out.insert("resources".into(), json!([]));
    out.insert(
        "customAuthResource".into(),
        json!(if action.is_some() { "true" } else { "" }),
    );
    Value::Object(out)
}

/// The message the node signs: the user's fields, the PKP's address, the node's nonce and block
/// time, and one merged ReCap (siwe-recap `Capability::build_message`).
fn rebuild(
    parsed: &siwe::Message,
    pkp: Address,
    blockhash: &str,
    block_time: OffsetDateTime,
    auth_context: Value,
) -> Result<String, NodeError> {
    let invalid = |detail: String| {
        NodeError::coded(
            "can't extract capabilities",
            Kind::Parser,
            errors::SIWE_CAPABILITY_INVALID,
            format!("Unable to extract and verify user's capability object: {detail}"),
        )
    };
    let last_is_recap = parsed
        .resources
        .last()
        .is_some_and(|r| r.as_str().starts_with("urn:recap:"));
    if !last_is_recap {
        return Err(NodeError::uncoded(
            "can't convert SIWE into capabilities",
            Kind::Conversion,
            "Unable to convert SIWE into Capability object".into(),
        ));
    }
    let mut recap = Recap::extract(parsed.resources.iter().map(|r| r.as_str()))
        .map_err(|e| invalid(e.to_string()))?;
    recap
        .verify_statement(parsed.statement.as_deref())
        .map_err(|e| invalid(e.to_string()))?;
    if recap
        .attenuations()
        .keys()
        .any(|r| r.split("://").next() == Some(RESOLVED_AUTH_CONTEXT))
    {
        return Err(auth_context_resource("invalid auth context in resources"));
    }
    let mut caveat = Map::new();
    caveat.insert("auth_context".into(), auth_context);
    recap.add(
        &format!("{RESOLVED_AUTH_CONTEXT}://*"),
        RecapAbility::AUTH_AUTH,
        caveat,
    );
    let encoded = recap.encode().map_err(|e| {
        NodeError::uncoded(
            "can't build a siwe message from capabilities",
            Kind::Unexpected,
            e.to_string(),
        )
    })?;
    let statement = match parsed.statement.as_deref() {
        None | Some("") => recap.statement(),
        Some(s) => format!("{s} {}", recap.statement()),
    };
    let message = siwe::Message {
        domain: parsed.domain.clone(),
        address: pkp.0,
        statement: Some(statement),
        uri: parsed.uri.clone(),
        version: parsed.version,
        chain_id: parsed.chain_id,
        nonce: blockhash.to_owned(),
        issued_at: siwe::TimeStamp::from(block_time),
        expiration_time: parsed.expiration_time.clone(),
        not_before: parsed.not_before.clone(),
        request_id: parsed.request_id.clone(),
        resources: Vec::new(),
    };
    // siwe's Display writes resources as "\nResources:" then "\n- <uri>" each.
    Ok(format!("{message}\nResources:\n- {encoded}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]
    use super::*;
    use lit_companion_session::ResourcePrefix;

    /// lit-peer `lit-node/src/models/mod.rs` test `serialize`: a v2 answer from a node, whose
    /// `siweMessage` is the node's rebuild and whose `dataSigned` is its session hash.
    const PEER_SIWE: &str = "localhost:3000 wants you to sign in with your Ethereum account:\n0x9ADc989FeDCEE4666816a2630BcF340c6bCD7210\n\nI am delegating to a session key I further authorize the stated URI to perform the following actions on my behalf: (1) '*': '*' for 'lit-litaction://*'. I further authorize the stated URI to perform the following actions on my behalf: (1) '*': '*' for 'lit-litaction://*'. (2) 'Auth': 'Auth' for 'lit-resolvedauthcontext://*'.\n\nURI: lit:session:bc13ae76387c640ea0b02ccaab0a313274df62d6b8d41047723a82a8eeff9b2a\nVersion: 1\nChain ID: 1\nNonce: 0x6f0a76a256deb7f7716ffabf26e6612ae497dc30cb238edbd89df1e78dc429f0\nIssued At: 2025-05-07T16:12:23Z\nExpiration Time: 2025-05-14T16:12:41.068Z\nResources:\n- urn:recap:eyJhdHQiOnsibGl0LWxpdGFjdGlvbjovLyoiOnsiKi8qIjpbe31dfSwibGl0LXJlc29sdmVkYXV0aGNvbnRleHQ6Ly8qIjp7IkF1dGgvQXV0aCI6W3siYXV0aF9jb250ZXh0Ijp7ImFjdGlvbklwZnNJZHMiOltdLCJhdXRoTWV0aG9kQ29udGV4dHMiOlt7ImFwcElkIjoibGl0IiwiYXV0aE1ldGhvZFR5cGUiOjEsInVzZWRGb3JTaWduU2Vzc2lvbktleVJlcXVlc3QiOnRydWUsInVzZXJJZCI6IjB4QTREMTIxRTA4ZjEyNmQyQjdmM2VkMjE4MGZDQTk5MUU0NzkyY2UyNCJ9XSwiYXV0aFNpZ0FkZHJlc3MiOm51bGwsImN1c3RvbUF1dGhSZXNvdXJjZSI6IiIsInJlc291cmNlcyI6W119fV19fSwicHJmIjpbXX0";
    const PEER_DATA_SIGNED: &str =
        "c30637f8565daaf59e5c2761cb76d4db6c1aa6790755b5f6f6da0a03631bef01";

    /// The request the SDK would have sent for it: the same fields, its own time, the user's
    /// ReCap alone.
    fn user_siwe() -> String {
        let mut recap = Recap::new();
        recap.add(
            &lit_companion_session::LitResource::wildcard(ResourcePrefix::LitAction).key(),
            RecapAbility::ALL,
            Map::new(),
        );
        format!(
            "localhost:3000 wants you to sign in with your Ethereum account:\n0x9ADc989FeDCEE4666816a2630BcF340c6bCD7210\n\nI am delegating to a session key {}\n\nURI: lit:session:bc13ae76387c640ea0b02ccaab0a313274df62d6b8d41047723a82a8eeff9b2a\nVersion: 1\nChain ID: 1\nNonce: 0x6f0a76a256deb7f7716ffabf26e6612ae497dc30cb238edbd89df1e78dc429f0\nIssued At: 2025-05-07T16:12:41.068Z\nExpiration Time: 2025-05-14T16:12:41.068Z\nResources:\n- {}",
            recap.statement(),
            recap.encode().unwrap()
        )
    }

    #[test]
    fn rebuilds_lit_peers_message_byte_for_byte() {
        let parsed = siwe::Message::from_str(&user_siwe()).unwrap();
        let pkp = Address(parsed.address);
        // That node's AuthContext (an earlier Naga shape, with `actionIpfsIds`).
        let context = json!({
            "actionIpfsIds": [],
            "authMethodContexts": [{
                "appId": "lit",
                "authMethodType": 1,
                "usedForSignSessionKeyRequest": true,
                "userId": "0xA4D121E08f126d2B7f3ed2180fCA991E4792ce24",
            }],
            "authSigAddress": null,
            "customAuthResource": "",
            "resources": [],
        });
        let block_time = OffsetDateTime::parse("2025-05-07T16:12:23Z", &Rfc3339).unwrap();
        let text = rebuild(&parsed, pkp, &parsed.nonce, block_time, context).unwrap();
        assert_eq!(text, PEER_SIWE);
        assert_eq!(hex::encode(session_hash(&text)), PEER_DATA_SIGNED);
    }

    #[test]
    fn a_user_recap_naming_the_auth_context_is_refused() {
        let mut recap = Recap::new();
        recap.add(
            "lit-resolvedauthcontext://*",
            RecapAbility::AUTH_AUTH,
            Map::new(),
        );
        let text = user_siwe().replace(
            &user_siwe().lines().last().unwrap()[2..],
            &recap.encode().unwrap(),
        );
        let text = text.replace(
            "I further authorize the stated URI to perform the following actions on my behalf: (1) '*': '*' for 'lit-litaction://*'.",
            &recap.statement(),
        );
        let parsed = siwe::Message::from_str(&text).unwrap();
        let e = rebuild(
            &parsed,
            Address(parsed.address),
            &parsed.nonce,
            OffsetDateTime::now_utc(),
            json!({}),
        )
        .unwrap_err();
        assert_eq!(e.public()["errorCode"], "NodeInvalidAuthContextResource");
    }
}
