//! The loopback HTTP bridge over real sockets, with a real keychain (a private gnome-keyring),
//! real simulated Lit nodes, and scripted approvals; one module per concern, the set-up in
//! `harness`.
#![allow(clippy::unwrap_used, reason = "test")]

use std::{
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex, OnceLock,
    },
    time::Duration,
};

use lit_companion_bridge::{
    http::{self, HttpConfig, HttpState},
    ratelimit::RateLimit,
    ApprovalRequest, Approver, Decision, Engine, EngineSettings, Policy, Road,
};
use lit_companion_net::{LitNetClient, NetworkSpec, Networks};
use lit_companion_node_sim::{spawn, NodeConfig};
use lit_companion_session::{Generation, Network};
use lit_companion_testkit::{unique_service, PrivateKeyring};
use lit_companion_vault::{OsKeychain, Vault};
use serde_json::{json, Value};
use sha3::Digest;
use time::OffsetDateTime;

mod harness;
use harness::*;

mod callers;
mod nodes;
mod pkp;
mod sessions;
mod transport;
mod wallets;
