//! Lit Protocol session formats, with no I/O.
//!
//! A Lit node accepts a request signed by a short-lived ed25519 **session key** when the
//! session's per-node signature verifies and one of its capabilities is an **AuthSig** — a SIWE
//! (EIP-4361) message carrying an ERC-5573 ReCap, signed by the user's Ethereum key — that
//! grants the requested resource and ability to that session key.
//!
//! This crate builds and checks every piece of that chain:
//! - [`keys`]: ed25519 session keys; [`wallet`]: the secp256k1 wallet key and EIP-191.
//! - [`resource`], [`network`]: the Lit resource/ability model for Datil (SDK v7) and Naga (v8).
//! - [`recap`]: ReCap encoding, statement, decoding and coverage.
//! - [`message`]: the session SIWE message; [`authsig`]: wallet, delegation and PKP (`LIT_BLS`)
//!   AuthSigs; [`bls`]: the network's BLS12-381 threshold signatures behind PKP sessions.
//! - [`session_sigs`]: the per-node `sessionSigs` map; [`verify`]: the node's checks.
//! - [`explain`]: plain-language sentences and risk flags for prompts.

pub mod authsig;
pub mod bls;
pub mod error;
pub mod explain;
mod hexutil;
pub mod ipfs;
pub mod keys;
pub mod message;
pub mod network;
pub mod origin;
pub mod pkp;
pub mod pkp_session;
pub mod recap;
pub mod resource;
pub mod session_sigs;
mod text_serde;
pub mod timefmt;
pub mod verify;
pub mod wallet;
pub mod wei;

pub use authsig::AuthSig;
pub use bls::{BlsSignature, NetworkKey};
pub use error::{
    AuthSigError, BlsError, ErrorKind, KeyError, MessageError, RecapError, ResourceError,
    SignError, VerifyError,
};
pub use keys::{SessionKeyPair, SessionPublicKey, SessionSeed};
pub use network::{Generation, Network};
pub use origin::Origin;
pub use pkp::PkpPublicKey;
pub use recap::Recap;
pub use resource::{Ability, LitResource, ResourceAbilityRequest, ResourcePrefix};
pub use session_sigs::{SessionSig, SessionSigs, MAX_SESSION_LIFETIME};
pub use wallet::{Address, WalletKey};
pub use wei::{Wei, WeiError};
