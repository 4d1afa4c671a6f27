//! What the user switches while the engine runs (the tray's "Pause", the settings screen's
//! roads and networks). Read on every request.

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicBool, Ordering},
        RwLock,
    },
};

use crate::caller::Road;

/// The switches. A switched-off road answers 4900 like a paused bridge; a network switched off
/// answers 4200.
#[derive(Debug, Default)]
pub(crate) struct Switches {
    paused: AtomicBool,
    http_off: AtomicBool,
    extension_off: AtomicBool,
    deep_link_off: AtomicBool,
    /// Networks switched off, by name.
    networks_off: RwLock<HashSet<String>>,
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

    pub(crate) fn set_network(&self, network: &str, on: bool) {
        let mut off = self.networks_off.write().unwrap_or_else(|p| p.into_inner());
        if on {
            off.remove(network);
        } else {
            off.insert(network.to_owned());
        }
    }

    pub(crate) fn network_on(&self, network: &str) -> bool {
        !self
            .networks_off
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(network)
    }
}
