//! What travels between the browser extension, the native-messaging host and the companion
//! (docs/bridge-protocol.md): the extension's message, the host's relay, a forwarded deep link.

use serde::{Deserialize, Serialize};

/// What the extension sends the host: the page origin it vouches for (`sender.origin`) and the
/// request envelope (docs/bridge-protocol.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionMessage {
    /// The page's origin, from the browser (`sender.origin`), never from the page.
    pub origin: String,
    /// The request envelope.
    pub envelope: serde_json::Value,
}

/// What the host relays to the companion.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RelayMessage {
    /// The calling extension, as the browser named it in argv (`chrome-extension://<id>/`, or
    /// a Firefox add-on id).
    pub extension: String,
    /// The page origin the extension vouches for.
    pub origin: String,
    /// The request envelope.
    pub envelope: serde_json::Value,
}

/// What `lit-companion open-url` forwards to the running companion: a deep link the OS handed
/// to a second launch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeepLinkMessage {
    /// The `lit-companion://…` URL.
    pub deep_link: String,
}
