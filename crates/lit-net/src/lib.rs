//! The Lit network, as the companion needs it: which networks exist ([`spec`]) and which nodes
//! each has ([`networks`], read from the chain by [`staking`]), and the SIWE nonce — the latest block
//! hash — from the nodes' handshake ([`client`]).
//!
//! `POST <node>/web/handshake` with `{"clientPublicKey":"test","challenge":"<64 hex>"}` answers
//! with `latestBlockhash` — as a bare object on Datil nodes, wrapped in `{"ok":…,"data":{…}}` on
//! Naga nodes (lit-node `web_client::handshake`). Nodes refresh it every ~12 s, so neighbours can
//! briefly differ; the most common answer wins when a majority of the network's node set agrees
//! on it — whatever subset of nodes a request names.
//!
//! Nothing the network sends is trusted for size or place: every answer is read up to its
//! endpoint's cap ([`HANDSHAKE_BODY_CAP`], [`ETH_CALL_BODY_CAP`], [`RPC_BODY_CAP`]), a node set
//! holds at most [`MAX_VALIDATORS`], and a public network's nodes must be on public addresses
//! ([`address`]).
//!
//! Naga nodes take and give every `/…/v2` body sealed to each other's X25519 keys ([`e2ee`]).

pub mod address;
mod body;
pub mod client;
pub mod e2ee;
pub mod networks;
pub mod session_key;
pub mod spec;
pub mod staking;

pub use client::{
    Handshake, LitNetClient, NetError, Outcome, HANDSHAKE_BODY_CAP, HANDSHAKE_CONCURRENCY,
};
pub use networks::{Agreement, Networks, NodeSet, Reach, NODE_SET_TTL};
pub use session_key::{ShareAnswer, SIGN_SESSION_KEY_BODY_CAP};
pub use spec::{
    default_lifetime, node_url, presets, NetworkError, NetworkName, NetworkSpec, NodeSource,
    PRESETS_RETIRED_AFTER,
};
pub use staking::{ChainError, StakingSource, ETH_CALL_BODY_CAP, MAX_VALIDATORS, RPC_BODY_CAP};
