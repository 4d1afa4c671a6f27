//! What the user switches while the engine runs (the tray's "Pause", the settings screen's
//! roads and networks). Read on every request.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use lit_companion_session::Network;

use crate::caller::Road;

/// The switches. A switched-off road answers 4900 like a paused bridge; a network switched off
/// answers 4200.
#[derive(Debug, Default)]
pub(crate) struct Switches {
    paused: AtomicBool,
    http_off: AtomicBool,
    extension_off: AtomicBool,
    deep_link_off: AtomicBool,
    /// One bit per [`Network::ALL`] entry: set means off.
    networks_off: AtomicU8,
}

fn network_bit(network: Network) -> u8 {
    let i = Network::ALL.iter().position(|n| *n == network).unwrap_or(0);
    1 << i
}

impl Switches {
    fn road_flag(&self, road: Road) -> &AtomicBool {
        match road {
            Road::Http => &self.http_off,
            Road::Extension => &self.extension_off,
            Road::DeepLink => &self.deep_link_off,
        }
    }

    pub(crate) fn set_paused(&self, paused: bool) {
        self.paused.store(paused, Ordering::SeqCst);
    }

    pub(crate) fn paused(&self) -> bool {
        self.paused.load(Ordering::SeqCst)
    }

    pub(crate) fn set_road(&self, road: Road, on: bool) {
        self.road_flag(road).store(!on, Ordering::SeqCst);
    }

    pub(crate) fn road_on(&self, road: Road) -> bool {
        !self.road_flag(road).load(Ordering::SeqCst)
    }

    pub(crate) fn set_network(&self, network: Network, on: bool) {
        let bit = network_bit(network);
        if on {
            self.networks_off.fetch_and(!bit, Ordering::SeqCst);
        } else {
            self.networks_off.fetch_or(bit, Ordering::SeqCst);
        }
    }

    pub(crate) fn network_on(&self, network: Network) -> bool {
        self.networks_off.load(Ordering::SeqCst) & network_bit(network) == 0
    }
}
