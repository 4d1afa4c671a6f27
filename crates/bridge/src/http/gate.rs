//! Which connections loopback HTTP keeps open: another OS user's none (closed at accept, before
//! a byte is read), a caller whose user cannot be told only a few, and the companion's own user
//! the rest. Every open connection holds a file descriptor; a cap that left no room for the
//! user's own would let a stranger starve them (docs/threat-model.md, "Connections are cheap to
//! refuse").

use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::peer::PeerUser;

/// How many connections may be open at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// In all. At the total, the companion accepts nothing more until one closes: the rest wait
    /// in the kernel's queue, holding none of the companion's file descriptors.
    pub total: usize,
    /// From processes whose OS user cannot be told (they may only use a pairing token); more are
    /// closed unread. The rest of `total` is always the companion's own user's: another user's
    /// connections are closed unread.
    pub unknown: usize,
}

impl Default for ConnectionLimits {
    /// 2,048 in all (the open-file limit is raised to fit: [`raise_open_files`]), 32 of them
    /// for callers whose user cannot be told.
    fn default() -> Self {
        Self {
            total: 2048,
            unknown: 32,
        }
    }
}

/// Admits connections within [`ConnectionLimits`].
#[derive(Debug)]
pub(super) struct Gate {
    limits: ConnectionLimits,
    all: Arc<Semaphore>,
    unknown: Mutex<usize>,
}

/// A place for a connection about to be accepted; [`Gate::admit`] decides whether it keeps it.
#[derive(Debug)]
pub(super) struct Place(
    #[allow(dead_code, reason = "held, not read: its drop frees the place")] OwnedSemaphorePermit,
);

/// An admitted connection; dropping it frees its place.
#[derive(Debug)]
pub(super) struct Pass {
    _place: Place,
    unknown: Option<Arc<Gate>>,
}

impl Gate {
    pub(super) fn new(limits: ConnectionLimits) -> Arc<Self> {
        Arc::new(Self {
            limits,
            all: Arc::new(Semaphore::new(limits.total.max(1))),
            unknown: Mutex::new(0),
        })
    }

    /// Waits for room for one more connection (in all).
    pub(super) async fn place(&self) -> Option<Place> {
        self.all.clone().acquire_owned().await.ok().map(Place)
    }

    /// Whether a connection from `user` keeps its `place`: another user never does, a caller
    /// whose user cannot be told only within its share.
    pub(super) fn admit(self: &Arc<Self>, place: Place, user: PeerUser) -> Option<Pass> {
        match user {
            PeerUser::Other(_) => None,
            PeerUser::Same => Some(Pass {
                _place: place,
                unknown: None,
            }),
            PeerUser::Unknown => {
                let mut unknown = self.unknown.lock().unwrap_or_else(|p| p.into_inner());
                if *unknown >= self.limits.unknown {
                    return None;
                }
                *unknown += 1;
                Some(Pass {
                    _place: place,
                    unknown: Some(self.clone()),
                })
            }
        }
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        if let Some(gate) = &self.unknown {
            let mut unknown = gate.unknown.lock().unwrap_or_else(|p| p.into_inner());
            *unknown = unknown.saturating_sub(1);
        }
    }
}

/// Raises this process's soft limit of open files to what `limits` needs (plus room for the
/// keychain, files and node connections), within the hard limit; answers the limit now in force.
/// Unix only; elsewhere there is no such limit to raise.
pub(super) fn raise_open_files(limits: ConnectionLimits) -> Option<u64> {
    lit_companion_platform::raise_open_files(
        u64::try_from(limits.total)
            .unwrap_or(u64::MAX)
            .saturating_add(256),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn strangers_get_nothing_unknown_callers_their_share_and_the_user_the_rest() {
        let gate = Gate::new(ConnectionLimits {
            total: 4,
            unknown: 2,
        });
        let stranger = gate.place().await.unwrap();
        assert!(gate.admit(stranger, PeerUser::Other(65534)).is_none());
        let u1 = gate.admit(gate.place().await.unwrap(), PeerUser::Unknown);
        let u2 = gate.admit(gate.place().await.unwrap(), PeerUser::Unknown);
        assert!(u1.is_some() && u2.is_some());
        let third = gate.place().await.unwrap();
        assert!(
            gate.admit(third, PeerUser::Unknown).is_none(),
            "the unknown share is full"
        );
        let s1 = gate.admit(gate.place().await.unwrap(), PeerUser::Same);
        let s2 = gate.admit(gate.place().await.unwrap(), PeerUser::Same);
        assert!(s1.is_some() && s2.is_some(), "room kept for the user's own");
        // The total is reached: the next waits until one closes.
        let waiting = tokio::time::timeout(std::time::Duration::from_millis(50), gate.place());
        assert!(
            waiting.await.is_err(),
            "nothing more is accepted at the total"
        );
        drop(u1);
        let s3 = gate.admit(gate.place().await.unwrap(), PeerUser::Same);
        assert!(s3.is_some(), "a closed connection frees its place");
    }
}
