//! Network presets: what differs per network besides the node list (which dapps pass, since
//! the real lists live in the chain's staking contract).

use lit_companion_session::{Generation, Network};
use std::time::Duration;

/// The SDK's default session lifetime for a network: v7 (Datil) 24 hours, v8 (Naga) 15 minutes.
pub fn default_lifetime(network: Network) -> Duration {
    match network.generation() {
        Generation::Datil => Duration::from_secs(24 * 3600),
        Generation::Naga => Duration::from_secs(15 * 60),
    }
}
