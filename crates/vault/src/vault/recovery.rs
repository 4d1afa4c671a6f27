//! Crash repair and the sweep: finishes interrupted removals, undoes interrupted creations and
//! retires expired sessions, keys first. Runs at open and from the companion's maintenance tick.

use lit_companion_session::Address;
use time::OffsetDateTime;

use super::{forget, iso, pkp_auth_account, session_account, short, wallet_account, Vault};
use crate::{error::VaultError, history, metadata::RecordState};

/// What recovery and sweeping did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Maintenance {
    /// Interrupted creations undone.
    pub undone: usize,
    /// Interrupted removals finished.
    pub finished: usize,
    /// Expired sessions removed.
    pub expired: usize,
}

impl Vault {
    /// Finishes interrupted removals, undoes interrupted creations, removes expired sessions,
    /// and drops from memory every session key that is no longer live.
    pub fn maintain(&self, now: OffsetDateTime) -> Result<Maintenance, VaultError> {
        let held = self.file.lock()?;
        let mut m = self.file.load(&held)?;
        let mut done = Maintenance::default();
        let now_text = iso(now)?;
        let mut expired = Vec::new();
        for s in &mut m.sessions {
            if s.state == RecordState::Live && s.expires_at.at() <= now {
                s.state = RecordState::Retired;
                done.expired += 1;
                expired.push((s.origin.clone(), short(&s.public_key)));
            }
        }
        for (origin, key) in expired {
            m.log(history::expired(&now_text, &origin, &key));
        }
        self.live.retain(|public_key| {
            m.sessions
                .iter()
                .any(|s| s.public_key == public_key && s.state == RecordState::Live)
        });
        let pending = m
            .sessions
            .iter()
            .any(|s| matches!(s.state, RecordState::Pending | RecordState::Retired))
            || m.wallets
                .iter()
                .any(|w| matches!(w.state, RecordState::Pending | RecordState::Retired));
        if !pending {
            return Ok(done);
        }
        // Write the retirements first: if deleting keys fails below, nothing is lost.
        self.file.store(&held, &mut m)?;
        let mut keep_sessions = Vec::with_capacity(m.sessions.len());
        let sessions = std::mem::take(&mut m.sessions);
        for s in sessions {
            match s.state {
                RecordState::Pending | RecordState::Retired => {
                    forget(self.store.as_ref(), &session_account(&s.public_key))?;
                    if s.pkp.is_some() {
                        forget(self.store.as_ref(), &pkp_auth_account(&s.public_key))?;
                    }
                    if s.state == RecordState::Pending {
                        done.undone += 1;
                    } else {
                        done.finished += 1;
                    }
                }
                _ => keep_sessions.push(s),
            }
        }
        m.sessions = keep_sessions;
        let wallets = std::mem::take(&mut m.wallets);
        for w in wallets {
            match w.state {
                RecordState::Pending | RecordState::Retired => {
                    let address = Address::parse_any_case(&w.address)
                        .map_err(|_| VaultError::KeyDamaged(w.address.clone()))?;
                    forget(self.store.as_ref(), &wallet_account(&address))?;
                    if w.state == RecordState::Pending {
                        done.undone += 1
                    } else {
                        done.finished += 1
                    }
                }
                _ => m.wallets.push(w),
            }
        }
        done.finished -= done.expired.min(done.finished);
        self.file.store(&held, &mut m)?;
        Ok(done)
    }
}
