//! The Lit network, as the companion needs it: which nodes a network has, and the SIWE nonce
//! (the latest Ethereum block hash) from the nodes' handshake.
//!
//! `POST <node>/web/handshake` with `{"clientPublicKey":"test","challenge":"<64 hex>"}` answers
//! with `latestBlockhash` — as a bare object on Datil nodes, wrapped in `{"ok":…,"data":{…}}` on
//! Naga nodes (lit-node `web_client::handshake`). Nodes refresh it every ~12 s, so neighbours can
//! briefly differ; the most common answer wins when a majority of the nodes asked agree on it.

pub mod client;
pub mod presets;

pub use client::{Handshake, LitNetClient, NetError};
pub use presets::default_lifetime;
