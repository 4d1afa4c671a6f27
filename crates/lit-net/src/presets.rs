//! Network presets: what differs per network besides the node list.

use lit_companion_session::{Generation, Network};
use std::time::Duration;

/// What the companion knows about a network.
#[derive(Debug, Clone)]
pub struct NetworkPreset {
    /// The network.
    pub network: Network,
    /// The default session lifetime (SDK defaults: 24 h on Datil, 15 min on Naga).
    pub default_lifetime: Duration,
    /// Node URLs, when configured; otherwise dapps pass their connected nodes.
    pub nodes: Vec<String>,
}

/// The SDK's default session lifetime for a network: v7 (Datil) 24 hours, v8 (Naga) 15 minutes.
pub fn default_lifetime(network: Network) -> Duration {
    match network.generation() {
        Generation::Datil => Duration::from_secs(24 * 3600),
        Generation::Naga => Duration::from_secs(15 * 60),
    }
}

impl NetworkPreset {
    /// The preset with no configured nodes.
    pub fn new(network: Network) -> Self {
        Self {
            network,
            default_lifetime: default_lifetime(network),
            nodes: Vec::new(),
        }
    }
}
