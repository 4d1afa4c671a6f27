//! How dapps reach the companion. Every road — loopback HTTP ([`http`]), native messaging and
//! deep links — turns its caller into a [`caller::Caller`] established by the transport (never
//! by the request body) and hands the request to one [`engine::Engine`].

pub mod approver;
pub mod caller;
pub mod deeplink;
pub mod engine;
pub mod http;
pub mod peer;
pub mod policy;
pub mod prompt_queue;
pub mod ratelimit;
pub mod render;
#[cfg(any(unix, windows))]
pub mod socket;

pub use approver::{ApprovalRequest, Approver, Decision, LifetimeChoice, RejectAll};
pub use caller::{Caller, Identity, Road};
pub use engine::{Engine, EngineSettings};
pub use lit_companion_wire::{BridgeError, ErrorCode, Response};
pub use policy::{Policy, PolicyError};
pub use prompt_queue::PromptQueue;
pub use render::{Line, Section, SectionKind};
