//! Per-node session signatures: the `sessionSigs` map a dapp hands to the Lit SDK.
//!
//! For each node URL the session key signs (ed25519, over the exact UTF-8 bytes) a JSON text
//! with keys in the SDK's order: `sessionKey, resourceAbilityRequests, capabilities, issuedAt,
//! expiration, nodeAddress` and, on Naga, `maxPrice` (`"0x<hex wei>"`). `capabilities` holds
//! any delegation AuthSigs first and the wallet AuthSig last, as the SDK orders them.

use std::fmt;

use serde::{
    de::{MapAccess, Visitor},
    ser::SerializeMap,
    Deserialize, Deserializer, Serialize, Serializer,
};
use time::{Duration, OffsetDateTime};

use crate::{
    authsig::AuthSig,
    error::SignError,
    keys::SessionKeyPair,
    message::session_uri,
    network::Generation,
    resource::{ResourceAbilityRequest, WireRequest},
    timefmt::iso_millis,
};

/// `derivedVia` of a session signature.
pub const DERIVED_VIA_SESSION: &str = "litSessionSignViaNacl";
/// `algo` of a session signature.
pub const ALGO_ED25519: &str = "ed25519";
/// Nodes refuse sessions whose `expiration − issuedAt` exceeds this.
pub const MAX_SESSION_LIFETIME: Duration = Duration::days(30);

/// One node's entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSig {
    /// 128 hex, no `0x`: the ed25519 signature over `signedMessage`.
    pub sig: String,
    /// `litSessionSignViaNacl`.
    #[serde(rename = "derivedVia")]
    pub derived_via: String,
    /// The signed JSON text.
    #[serde(rename = "signedMessage")]
    pub signed_message: String,
    /// The session public key, 64 hex.
    pub address: String,
    /// `ed25519`. Nodes treat an entry without it as a wallet signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algo: Option<String>,
}

/// The `sessionSigs` map: node URL → entry, in insertion order (the SDK's object order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionSigs {
    entries: Vec<(String, SessionSig)>,
}

impl SessionSigs {
    /// The entries in order.
    pub fn entries(&self) -> &[(String, SessionSig)] {
        &self.entries
    }

    /// The entry for a node URL.
    pub fn get(&self, node_url: &str) -> Option<&SessionSig> {
        self.entries
            .iter()
            .find(|(k, _)| k == node_url)
            .map(|(_, v)| v)
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Serialize for SessionSigs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for SessionSigs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SessionSigs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of node URL to session signature")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<SessionSigs, A::Error> {
                let mut entries: Vec<(String, SessionSig)> = Vec::new();
                while let Some((k, v)) = access.next_entry::<String, SessionSig>()? {
                    if entries.iter().any(|(e, _)| *e == k) {
                        return Err(serde::de::Error::custom(format!("duplicate node {k}")));
                    }
                    entries.push((k, v));
                }
                Ok(SessionSigs { entries })
            }
        }
        deserializer.deserialize_map(V)
    }
}

/// The JSON text each node's signature covers, in the SDK's key order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SigningTemplate<'a> {
    session_key: &'a str,
    resource_ability_requests: &'a [WireRequest<'a>],
    capabilities: &'a [AuthSig],
    issued_at: &'a str,
    expiration: &'a str,
    node_address: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_price: Option<&'a str>,
}

/// Everything needed to sign a session for a set of nodes.
#[derive(Debug, Clone)]
pub struct SessionParams<'a> {
    /// Datil (v7 format) or Naga (v8 format).
    pub generation: Generation,
    /// The session key.
    pub session_key: &'a SessionKeyPair,
    /// What the session asks the nodes for.
    pub requests: &'a [ResourceAbilityRequest],
    /// The wallet AuthSig empowering this session key (goes last in `capabilities`).
    pub wallet_auth_sig: &'a AuthSig,
    /// Capacity or payment delegation AuthSigs (go first).
    pub delegation_auth_sigs: &'a [AuthSig],
    /// `issuedAt` of the per-node messages.
    pub issued_at: OffsetDateTime,
    /// `expiration` of the per-node messages.
    pub expiration: OffsetDateTime,
    /// Node URLs (`http(s)://host:port`), used verbatim as `nodeAddress` and map keys.
    pub node_urls: &'a [String],
    /// Naga only: the most the user pays a node per request, in wei.
    pub max_price_wei: Option<u128>,
}

/// Signs one entry per node.
///
/// Refuses to give the session key more than its AuthSig grants: every request must be covered
/// by the wallet AuthSig's ReCap, and the AuthSig must name this session key. Checks the
/// AuthSig's signature each time; a signer of many requests checks it once with
/// [`SessionGrant::check`] and signs with [`SessionGrant::sign`].
pub fn sign_session_sigs(p: &SessionParams<'_>) -> Result<SessionSigs, SignError> {
    SessionGrant::check(p.wallet_auth_sig, p.session_key)?.sign(p)
}

/// A wallet AuthSig checked once for the session key it empowers: its EIP-191 signature
/// recovers, its `uri` names this key (`lit:session:<key>`), and its ReCap is decoded. Signing
/// with it needs no signature recovery, only the coverage check against the ReCap.
#[derive(Debug, Clone)]
pub struct SessionGrant {
    auth_sig: AuthSig,
    session_key: String,
    recap: crate::recap::Recap,
}

impl SessionGrant {
    /// Checks `auth_sig` (signature, form, ReCap) and that it names `session_key`.
    pub fn check(auth_sig: &AuthSig, session_key: &SessionKeyPair) -> Result<Self, SignError> {
        let public_hex = session_key.public_key().to_hex();
        let wallet = auth_sig.verify_signature()?;
        let uri = session_uri(&public_hex);
        if wallet.message.uri.as_str() != uri {
            return Err(SignError::AuthSig(crate::error::AuthSigError::Uri {
                expected: uri,
                found: wallet.message.uri.to_string(),
            }));
        }
        Ok(Self {
            auth_sig: auth_sig.clone(),
            session_key: public_hex,
            recap: wallet.recap,
        })
    }

    /// Checks a PKP session's AuthSig (`LIT_BLS`, the network's signature for the PKP) as a
    /// node does at `now` — against `network_key`, naming `session_key` — and decodes its
    /// ReCap (which also holds the nodes' `lit-resolvedauthcontext` entry).
    pub fn check_network(
        auth_sig: &AuthSig,
        session_key: &SessionKeyPair,
        network_key: &crate::bls::NetworkKey,
        now: OffsetDateTime,
    ) -> Result<Self, SignError> {
        let public_hex = session_key.public_key().to_hex();
        let verified = auth_sig.verify_lit_bls(network_key, &session_uri(&public_hex), now)?;
        Ok(Self {
            auth_sig: auth_sig.clone(),
            session_key: public_hex,
            recap: verified.recap,
        })
    }

    /// Signs one entry per node ([`sign_session_sigs`]) with the AuthSig and session key this
    /// grant was checked for; any other is refused.
    pub fn sign(&self, p: &SessionParams<'_>) -> Result<SessionSigs, SignError> {
        if p.wallet_auth_sig != &self.auth_sig {
            return Err(SignError::NotGranted(
                "an AuthSig other than the one checked".into(),
            ));
        }
        let public_hex = p.session_key.public_key().to_hex();
        if public_hex != self.session_key {
            return Err(SignError::AuthSig(crate::error::AuthSigError::Uri {
                expected: session_uri(&public_hex),
                found: session_uri(&self.session_key),
            }));
        }
        if p.node_urls.is_empty() {
            return Err(SignError::NoNodes);
        }
        for url in p.node_urls {
            check_node_url(url)?;
        }
        for r in p.requests {
            r.check_generation(p.generation)?;
        }
        let lifetime = p.expiration - p.issued_at;
        if lifetime <= Duration::ZERO || lifetime > MAX_SESSION_LIFETIME {
            return Err(SignError::Lifetime);
        }
        let max_price = match (p.generation, p.max_price_wei) {
            (Generation::Naga, Some(wei)) => Some(format!("0x{wei:x}")),
            (Generation::Datil, None) => None,
            _ => return Err(SignError::MaxPrice),
        };
        let missing = self.recap.missing(p.requests);
        if !missing.is_empty() {
            let names: Vec<String> = missing.iter().map(ToString::to_string).collect();
            return Err(SignError::NotGranted(names.join(", ")));
        }
        sign_entries(p, &public_hex, max_price.as_deref())
    }
}

fn sign_entries(
    p: &SessionParams<'_>,
    public_hex: &str,
    max_price: Option<&str>,
) -> Result<SessionSigs, SignError> {
    let wire: Vec<WireRequest<'_>> = p.requests.iter().map(|r| r.to_wire(p.generation)).collect();
    let mut capabilities: Vec<AuthSig> = p.delegation_auth_sigs.to_vec();
    capabilities.push(p.wallet_auth_sig.clone());
    let issued_at = iso_millis(p.issued_at)?;
    let expiration = iso_millis(p.expiration)?;

    let mut entries = Vec::with_capacity(p.node_urls.len());
    for url in p.node_urls {
        if entries.iter().any(|(k, _)| k == url) {
            continue;
        }
        let template = SigningTemplate {
            session_key: public_hex,
            resource_ability_requests: &wire,
            capabilities: &capabilities,
            issued_at: &issued_at,
            expiration: &expiration,
            node_address: url,
            max_price,
        };
        let signed_message = serde_json::to_string(&template).map_err(|e| {
            SignError::NodeUrl(format!("cannot serialise the session message: {e}"))
        })?;
        let sig = p.session_key.sign(signed_message.as_bytes());
        entries.push((
            url.clone(),
            SessionSig {
                sig: hex::encode(sig),
                derived_via: DERIVED_VIA_SESSION.to_owned(),
                signed_message,
                address: public_hex.to_owned(),
                algo: Some(ALGO_ED25519.to_owned()),
            },
        ));
    }
    Ok(SessionSigs { entries })
}

/// A node URL must be `http://` or `https://`, a host and a port, nothing else: the node
/// compares `nodeAddress` (scheme stripped) with its own `host:port` byte for byte.
pub fn check_node_url(url: &str) -> Result<(), SignError> {
    let bad = || SignError::NodeUrl(url.to_owned());
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(bad)?;
    let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-[]:".contains(&b));
    let port_ok = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    if host_ok && port_ok && port.parse::<u16>().is_ok() {
        Ok(())
    } else {
        Err(bad())
    }
}

/// The node's view of `nodeAddress` (Lit node `prepare_domain_name`): trimmed, `https://` then
/// `http://` stripped, `localhost` replaced by `127.0.0.1`.
pub fn node_host_port(node_address: &str) -> String {
    let t = node_address.trim();
    let t = t.strip_prefix("https://").unwrap_or(t);
    let t = t.strip_prefix("http://").unwrap_or(t);
    t.replace("localhost", "127.0.0.1")
}
