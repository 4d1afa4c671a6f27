//! Node handshakes with timeouts, retries and agreement across nodes.

use std::{collections::HashMap, sync::Arc, time::Duration};

use rand_core::{OsRng, RngCore};
use serde::Deserialize;

use crate::body::{read_capped, BodyError};

/// Why the network could not give us what we need.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetError {
    /// No node URLs to ask.
    #[error("no Lit node URLs are known for this request")]
    NoNodes,
    /// A node could not be reached.
    #[error("node {node} could not be reached: {reason}")]
    Unreachable {
        /// The node.
        node: String,
        /// What failed.
        reason: String,
    },
    /// A node answered something we cannot use.
    #[error("node {node} answered unexpectedly: {reason}")]
    BadResponse {
        /// The node.
        node: String,
        /// What was wrong.
        reason: String,
    },
    /// A node refused what it was asked, in its own words (one line, capped).
    #[error("node {node} refused: {reason}")]
    Refused {
        /// The node.
        node: String,
        /// What it said.
        reason: String,
    },
    /// Too few nodes answered.
    #[error("only {answered} of {asked} Lit nodes answered; {needed} are needed")]
    TooFewNodes {
        /// Nodes asked.
        asked: usize,
        /// Nodes that answered.
        answered: usize,
        /// Answers needed.
        needed: usize,
    },
    /// A node's answer is larger than its endpoint's cap (it was cut off, not read whole).
    #[error("node {node} answered more than {cap} bytes to {endpoint}")]
    TooLarge {
        /// The node.
        node: String,
        /// The endpoint (`/web/handshake`).
        endpoint: &'static str,
        /// The most that endpoint's answer may hold.
        cap: usize,
    },
    /// The nodes disagree on the latest block hash.
    #[error("the Lit nodes disagree on the latest block hash ({0} different answers)")]
    Disagree(usize),
    /// The node set could not be read from the chain.
    #[error("the node set could not be read from the chain: {0}")]
    Chain(#[from] crate::staking::ChainError),
}

impl NetError {
    /// What kind of failure this is: always the network's.
    pub fn kind(&self) -> lit_companion_session::ErrorKind {
        lit_companion_session::ErrorKind::Network
    }
}

/// The most a handshake answer may hold. A real one is 2–5 KiB: a handful of 33–97 byte keys
/// in hex, `hdRootPubkeys` (one key per root), and on Naga a SEV-SNP attestation (a 1,184-byte
/// report, base64, with its signatures). 64 KiB leaves room for growth while a hostile node
/// can make us hold no more than that.
pub const HANDSHAKE_BODY_CAP: usize = 64 * 1024;

/// The most handshakes in flight at once in one round: a node set may hold up to
/// [`crate::staking::MAX_VALIDATORS`] nodes, and one socket each at once would spend the
/// process's file descriptors (often 1,024) on a hostile chain's list.
pub const HANDSHAKE_CONCURRENCY: usize = 32;

/// What a handshake tells us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// `0x` + 64 hex: the nonce for SIWE messages.
    pub latest_blockhash: String,
    /// Naga nodes only.
    pub node_version: Option<String>,
    /// Naga nodes only.
    pub epoch: Option<u64>,
    /// The network's BLS root key (96 hex, G1) that PKP session AuthSigs verify against:
    /// `networkPublicKey` (nodes also send it as `subnetPublicKey` and
    /// `networkPublicKeySet`; lit-peer `web_client::handshake`). `None` when absent or not
    /// 96 hex (a node without keys).
    pub network_public_key: Option<String>,
    /// Naga: the node's X25519 key for end-to-end encrypted `/v2` bodies (64 hex).
    pub node_identity_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHandshake {
    latest_blockhash: Option<String>,
    node_version: Option<String>,
    epoch: Option<serde_json::Value>,
    network_public_key: Option<serde_json::Value>,
    node_identity_key: Option<serde_json::Value>,
}

/// `0x` stripped, lowercase, when `value` is a string of exactly `len` hex digits.
fn hex_field(value: Option<serde_json::Value>, len: usize) -> Option<String> {
    let text = value?.as_str()?.to_owned();
    let digits = text.strip_prefix("0x").unwrap_or(&text);
    (digits.len() == len && digits.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| digits.to_ascii_lowercase())
}

/// The HTTP client for Lit nodes (rustls; no platform TLS).
#[derive(Debug, Clone)]
pub struct LitNetClient {
    pub(crate) http: reqwest::Client,
    attempts: u32,
    backoff: Duration,
}

impl LitNetClient {
    /// A client with `timeout` per attempt and `attempts` tries per node.
    pub fn new(timeout: Duration, attempts: u32) -> Result<Self, NetError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("lit-companion/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| NetError::Unreachable {
                node: String::new(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            attempts: attempts.max(1),
            backoff: Duration::from_millis(200),
        })
    }

    /// One node's handshake, retried on transport errors and 5xx answers. Redirects are not
    /// followed: a 3xx, like a 4xx, fails the node.
    pub async fn handshake(&self, node: &str) -> Result<Handshake, NetError> {
        let mut challenge = [0u8; 32];
        OsRng.fill_bytes(&mut challenge);
        let body =
            serde_json::json!({ "clientPublicKey": "test", "challenge": hex::encode(challenge) });
        let url = format!("{}/web/handshake", node.trim_end_matches('/'));
        let mut last = NetError::NoNodes;
        for attempt in 0..self.attempts {
            if attempt > 0 {
                tokio::time::sleep(self.backoff * attempt).await;
            }
            match self.http.post(&url).json(&body).send().await {
                Ok(resp) if resp.status().is_success() => {
                    let bytes =
                        read_capped(resp, HANDSHAKE_BODY_CAP)
                            .await
                            .map_err(|e| match e {
                                BodyError::TooLarge => NetError::TooLarge {
                                    node: node.to_owned(),
                                    endpoint: "/web/handshake",
                                    cap: HANDSHAKE_BODY_CAP,
                                },
                                BodyError::Transport(e) => NetError::BadResponse {
                                    node: node.to_owned(),
                                    reason: transport_reason(&e),
                                },
                            })?;
                    let value: serde_json::Value =
                        serde_json::from_slice(&bytes).map_err(|e| NetError::BadResponse {
                            node: node.to_owned(),
                            reason: e.to_string(),
                        })?;
                    return parse_handshake(node, value);
                }
                Ok(resp) => {
                    last = NetError::BadResponse {
                        node: node.to_owned(),
                        reason: format!("HTTP {}", resp.status()),
                    };
                    if !resp.status().is_server_error() {
                        return Err(last);
                    }
                }
                Err(e) => {
                    last = NetError::Unreachable {
                        node: node.to_owned(),
                        reason: transport_reason(&e),
                    };
                }
            }
        }
        Err(last)
    }

    /// Asks every node for its handshake, [`HANDSHAKE_CONCURRENCY`] at a time: which
    /// answered, which failed, and what each said. [`Outcome::into_agreement`] decides.
    pub async fn agree(&self, nodes: &[String]) -> Outcome {
        let mut tasks = tokio::task::JoinSet::new();
        let slots = Arc::new(tokio::sync::Semaphore::new(HANDSHAKE_CONCURRENCY));
        for node in nodes {
            let client = self.clone();
            let node = node.clone();
            let slots = slots.clone();
            tasks.spawn(async move {
                // The semaphore is never closed, so a permit always comes.
                let _slot = slots.acquire_owned().await;
                let r = client.handshake(&node).await;
                (node, r)
            });
        }
        let mut outcome = Outcome {
            asked: nodes.len(),
            ..Outcome::default()
        };
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((node, Ok(h))) => {
                    outcome.answered.push(node.clone());
                    outcome.handshakes.push((node, h));
                }
                Ok((node, Err(e))) => {
                    tracing::warn!(node = %node, error = %e, "Lit node handshake failed");
                    outcome.failed.push(node);
                }
                Err(e) => tracing::error!(error = %e, "a handshake task failed"),
            }
        }
        outcome
    }
}

/// What the nodes answered to a round of handshakes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// How many nodes were asked.
    pub asked: usize,
    /// Nodes that completed the handshake.
    pub answered: Vec<String>,
    /// Nodes that did not.
    pub failed: Vec<String>,
    /// Each answering node's handshake (its latest block hash, keys, epoch).
    pub handshakes: Vec<(String, Handshake)>,
}

impl Outcome {
    /// The block hash more than half of the nodes asked agree on, and the nodes that gave it
    /// (a node that answered another hash gets no sessionSigs with this nonce).
    pub fn into_agreement(self) -> Result<crate::Agreement, NetError> {
        if self.asked == 0 {
            return Err(NetError::NoNodes);
        }
        let needed = self.asked / 2 + 1;
        if self.answered.len() < needed {
            return Err(NetError::TooFewNodes {
                asked: self.asked,
                answered: self.answered.len(),
                needed,
            });
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (_, h) in &self.handshakes {
            *counts.entry(&h.latest_blockhash).or_default() += 1;
        }
        let (best, count) = counts
            .iter()
            .max_by_key(|(_, c)| **c)
            .map(|(h, c)| ((*h).to_owned(), *c))
            .ok_or(NetError::NoNodes)?;
        if count < needed {
            return Err(NetError::Disagree(counts.len()));
        }
        let handshakes: Vec<(String, Handshake)> = self
            .handshakes
            .into_iter()
            .filter(|(_, h)| h.latest_blockhash == best)
            .collect();
        let nodes = handshakes.iter().map(|(n, _)| n.clone()).collect();
        Ok(crate::Agreement {
            nonce: best,
            nodes,
            handshakes,
        })
    }
}

/// A transport failure in words, for the log.
pub(crate) fn transport_reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else {
        e.to_string()
    }
}

fn parse_handshake(node: &str, value: serde_json::Value) -> Result<Handshake, NetError> {
    let bad = |reason: &str| NetError::BadResponse {
        node: node.to_owned(),
        reason: reason.to_owned(),
    };
    // Naga wraps the answer: {"ok":true,"error":null,"errorObject":null,"data":{…}}.
    let inner = match value.get("data") {
        Some(data) if value.get("ok").is_some() => {
            if value.get("ok") != Some(&serde_json::Value::Bool(true)) {
                return Err(bad("the node reported an error"));
            }
            data.clone()
        }
        _ => value,
    };
    let raw: RawHandshake = serde_json::from_value(inner).map_err(|e| bad(&e.to_string()))?;
    let hash = raw
        .latest_blockhash
        .ok_or_else(|| bad("no latestBlockhash"))?;
    let digits = hash
        .strip_prefix("0x")
        .ok_or_else(|| bad("latestBlockhash is not 0x-hex"))?;
    if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("latestBlockhash is not 32 bytes of hex"));
    }
    let epoch = raw.epoch.and_then(|e| {
        e.as_u64()
            .or_else(|| e.as_str().and_then(|s| s.parse().ok()))
    });
    Ok(Handshake {
        latest_blockhash: hash.to_ascii_lowercase(),
        node_version: raw.node_version,
        epoch,
        network_public_key: hex_field(raw.network_public_key, 96),
        node_identity_key: hex_field(raw.node_identity_key, 64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_handshake_shapes_parse() {
        let h = format!("0x{}", "ab".repeat(32));
        let datil = serde_json::json!({"serverPublicKey":"x","latestBlockhash": h});
        let naga = serde_json::json!({"ok":true,"error":null,"errorObject":null,"data":{"latestBlockhash": h,"nodeVersion":"8.0.0","epoch":42}});
        assert_eq!(parse_handshake("n", datil).unwrap().latest_blockhash, h);
        let n = parse_handshake("n", naga).unwrap();
        assert_eq!(
            (n.node_version.as_deref(), n.epoch),
            (Some("8.0.0"), Some(42))
        );
        let failed = serde_json::json!({"ok":false,"data":{"latestBlockhash": h}});
        assert!(parse_handshake("n", failed).is_err());
        assert!(parse_handshake("n", serde_json::json!({"latestBlockhash":"0x12"})).is_err());
    }
}
