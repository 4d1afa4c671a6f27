//! Asking the nodes to sign a PKP's session key: each node checks the auth method, the PKP's
//! permissions and the session SIWE, then answers with its BLS signature share over its own
//! rebuilt form of the message (lit-peer `web_client.rs` `sign_session_key`).
//!
//! - Datil (SDK v7 `signSessionKey`): `POST /web/sign_session_key/v1` with the JSON body.
//! - Naga (SDK v8 `signSessionKey`): `POST /web/sign_session_key/v2`, the body sealed to the
//!   node's handshake `nodeIdentityKey` ([`crate::e2ee`]); the answer comes back sealed, a
//!   `{ok, error, errorObject, data}` object inside.
//!
//! This module only carries bodies and answers. What the shares are worth — enough of them,
//! combining to a signature the network key verifies, over a message that grants no more than
//! the user approved — the caller decides, before anything is stored.

use std::sync::Arc;

use lit_companion_session::Generation;
use serde::Deserialize;
use serde_json::Value;

use crate::{
    body::{read_capped, BodyError},
    client::{Handshake, LitNetClient, NetError, HANDSHAKE_CONCURRENCY},
    e2ee::{ClientChannel, Envelope, IdentityPublic},
};

/// The most a sign_session_key answer may hold: a real one is under 4 KiB (a 96-byte share in
/// hex, the rebuilt SIWE with two ReCaps, a 96-hex root key); sealed, about twice that.
pub const SIGN_SESSION_KEY_BODY_CAP: usize = 64 * 1024;

/// One node's share and what it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareAnswer {
    /// The node.
    pub node: String,
    /// `signatureShare` as the node sent it (`{"ProofOfPossession": …}`).
    pub signature_share: Value,
    /// The SIWE text the node rebuilt and signed (with its `lit-resolvedauthcontext` ReCap).
    pub siwe_message: String,
    /// The 32 bytes it signed, hex.
    pub data_signed: String,
    /// The root key it says it signed under (96 hex).
    pub bls_root_pubkey: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawAnswer {
    result: Option<String>,
    signature_share: Option<Value>,
    siwe_message: Option<String>,
    data_signed: Option<String>,
    bls_root_pubkey: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wrapped {
    ok: bool,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    data: Option<Value>,
}

impl LitNetClient {
    /// Sends `body` (the plaintext request, the same for every node) to each node of
    /// `handshakes`, [`HANDSHAKE_CONCURRENCY`] at a time, once each (a node that refuses is not
    /// asked again: its checks would refuse again). Answers each node's share or why it has
    /// none, in no particular order.
    pub async fn sign_session_key(
        &self,
        generation: Generation,
        handshakes: &[(String, Handshake)],
        body: Value,
    ) -> Vec<(String, Result<ShareAnswer, NetError>)> {
        let body = Arc::new(body);
        let slots = Arc::new(tokio::sync::Semaphore::new(HANDSHAKE_CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for (node, handshake) in handshakes {
            let (client, node, handshake, body, slots) = (
                self.clone(),
                node.clone(),
                handshake.clone(),
                body.clone(),
                slots.clone(),
            );
            tasks.spawn(async move {
                let _slot = slots.acquire_owned().await;
                let r = client.sign_one(generation, &node, &handshake, &body).await;
                (node, r)
            });
        }
        let mut out = Vec::with_capacity(handshakes.len());
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(answer) => out.push(answer),
                Err(e) => tracing::error!(error = %e, "a sign_session_key task failed"),
            }
        }
        out
    }

    async fn sign_one(
        &self,
        generation: Generation,
        node: &str,
        handshake: &Handshake,
        body: &Value,
    ) -> Result<ShareAnswer, NetError> {
        let bad = |reason: String| NetError::BadResponse {
            node: node.to_owned(),
            reason,
        };
        let base = node.trim_end_matches('/');
        let (url, channel, payload) = match generation {
            Generation::Datil => (
                format!("{base}/web/sign_session_key/v1"),
                None,
                body.clone(),
            ),
            Generation::Naga => {
                let key: IdentityPublic = handshake
                    .node_identity_key
                    .as_deref()
                    .ok_or_else(|| bad("its handshake gave no nodeIdentityKey".into()))?
                    .parse()
                    .map_err(|e| bad(format!("its nodeIdentityKey: {e}")))?;
                let channel = ClientChannel::new(key);
                let sealed = channel
                    .seal_request(body)
                    .map_err(|e| bad(format!("sealing the request: {e}")))?;
                let sealed = serde_json::to_value(&sealed).map_err(|e| bad(e.to_string()))?;
                (
                    format!("{base}/web/sign_session_key/v2"),
                    Some(channel),
                    sealed,
                )
            }
        };
        let resp = self
            .http
            .post(&url)
            .json(&payload)
            .send()
            .await
            .map_err(|e| NetError::Unreachable {
                node: node.to_owned(),
                reason: crate::client::transport_reason(&e),
            })?;
        let status = resp.status();
        let bytes = read_capped(resp, SIGN_SESSION_KEY_BODY_CAP)
            .await
            .map_err(|e| match e {
                BodyError::TooLarge => NetError::TooLarge {
                    node: node.to_owned(),
                    endpoint: "/web/sign_session_key",
                    cap: SIGN_SESSION_KEY_BODY_CAP,
                },
                BodyError::Transport(e) => bad(crate::client::transport_reason(&e)),
            })?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|_| bad(format!("HTTP {status}, not JSON")))?;
        let value = match &channel {
            None => value,
            Some(channel) => match serde_json::from_value::<Envelope>(value.clone()) {
                Ok(sealed) => {
                    let opened: Value = channel
                        .open_response(&sealed)
                        .map_err(|e| bad(format!("its sealed answer: {e}")))?;
                    let wrapped: Wrapped = serde_json::from_value(opened)
                        .map_err(|e| bad(format!("its answer: {e}")))?;
                    if !wrapped.ok {
                        return Err(NetError::Refused {
                            node: node.to_owned(),
                            reason: node_reason(wrapped.error.as_ref().unwrap_or(&Value::Null)),
                        });
                    }
                    wrapped.data.unwrap_or(Value::Null)
                }
                // Nodes answer errors before decryption (a stale key, a bad envelope) in clear.
                Err(_) => value,
            },
        };
        if !status.is_success() {
            return Err(NetError::Refused {
                node: node.to_owned(),
                reason: node_reason(&value),
            });
        }
        let raw: RawAnswer =
            serde_json::from_value(value).map_err(|e| bad(format!("its answer: {e}")))?;
        if raw.result.as_deref() != Some("success") {
            return Err(bad(format!("result {:?}", raw.result.unwrap_or_default())));
        }
        let missing = |field: &str| bad(format!("no {field}"));
        Ok(ShareAnswer {
            node: node.to_owned(),
            signature_share: raw
                .signature_share
                .ok_or_else(|| missing("signatureShare"))?,
            siwe_message: raw.siwe_message.ok_or_else(|| missing("siweMessage"))?,
            data_signed: raw.data_signed.ok_or_else(|| missing("dataSigned"))?,
            bls_root_pubkey: raw
                .bls_root_pubkey
                .ok_or_else(|| missing("blsRootPubkey"))?,
        })
    }
}

/// A node's own words for a refusal (`message`, `details`, or the error as text), on one line
/// and at most 300 characters: it reaches the user, so nothing long or multi-line passes.
fn node_reason(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Object(map) => ["message", "details", "errorKind"]
            .iter()
            .find_map(|k| match map.get(*k) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Array(a)) if !a.is_empty() => Some(
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                _ => None,
            })
            .unwrap_or_else(|| value.to_string()),
        other => other.to_string(),
    };
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(300)
        .collect();
    one_line.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_reasons_are_short_and_on_one_line() {
        let v =
            serde_json::json!({"errorKind": "Validation", "message": "PKP 0xAb is not\npermitted"});
        assert_eq!(node_reason(&v), "PKP 0xAb is not permitted");
        let long = "x".repeat(1000);
        assert_eq!(node_reason(&Value::String(long)).len(), 300);
        let details = serde_json::json!({"details": ["a", "b"]});
        assert_eq!(node_reason(&details), "a; b");
    }
}
