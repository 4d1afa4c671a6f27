//! The companion's wire: everything the roads in (loopback HTTP, the browser extension through
//! the native-messaging host, deep links) and their clients agree on, with no transport in it.
//!
//! - [`envelope`]: request and response envelopes, [`ErrorCode`] and [`BridgeError`]
//!   (docs/bridge-protocol.md);
//! - [`frame`]: native-messaging framing, blocking and async;
//! - [`relay`]: the extension's message, the host's relay, a forwarded deep link.
//!
//! Where the per-user socket lives is the OS's business: `lit_companion_platform::endpoint`.

pub mod envelope;
pub mod frame;
pub mod relay;

pub use envelope::{
    parse_request, BridgeError, ErrorCode, ExternalWalletParam, GetSessionSigsParams, Request,
    Response, WalletSignatureParams, PROTOCOL_VERSION,
};
pub use frame::{FrameError, MAX_MESSAGE};
pub use relay::{DeepLinkMessage, ExtensionMessage, RelayMessage};
