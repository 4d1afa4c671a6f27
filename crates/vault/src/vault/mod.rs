//! The vault: secrets in the keychain, everything else in the metadata file, kept consistent
//! across crashes.
//!
//! Every change runs under the metadata lock as: write the intent (`Pending` / `Retired`) →
//! touch the keychain → write the outcome. Recovery at open finishes or undoes what a crash
//! interrupted ([`recovery`]), so no key is ever orphaned in the keychain and no listed key is
//! silently lost.
//!
//! - [`wallets`]: wallet keys (created, imported, exported, removed);
//! - [`sessions`]: the one issuance decision ([`Vault::session_for`]: reuse, or ask about what
//!   is new), reuse counts, revocation;
//! - [`create`]: new sessions, signed by a local wallet or prepared for a browser wallet;
//! - [`live`]: live session keys kept in memory, and reuse counts;
//! - [`pairings`]: tokens for local programs;
//! - [`recovery`]: crash repair and the sweep of expired sessions.

pub mod create;
pub mod live;
pub mod pairings;
pub mod recovery;
pub mod sessions;
pub mod wallets;

use std::{fmt, path::Path, sync::Arc};

use lit_companion_session::{timefmt::iso_millis, Address};
use time::OffsetDateTime;

use crate::{
    error::VaultError,
    history::ActivityLine,
    keychain::{KeychainError, SecretStore},
    metadata::{HistoryEntry, Metadata, MetadataFile, RecordState, SessionRecord, WalletRecord},
};

pub use create::{NewSession, PkpSigned, PreparedSession};
pub use live::{LiveSession, SignRequest};
pub use recovery::Maintenance;
pub use sessions::{Ask, Grantee, Issuance, Need, NeedReason, Replaced, Revoke, REUSE_MARGIN};

/// The keychain account of a wallet key.
pub fn wallet_account(address: &Address) -> String {
    format!("wallet:{}", address.to_checksum())
}

/// The keychain account of a session seed.
pub fn session_account(public_key_hex: &str) -> String {
    format!("session:{public_key_hex}")
}

/// The keychain account of a PKP session's auth-method AuthSig: the wallet's signed word that
/// lets the network sign for the PKP, kept with the session whose creation it served and
/// forgotten with it.
pub fn pkp_auth_account(public_key_hex: &str) -> String {
    format!("pkp-auth:{public_key_hex}")
}

/// The vault.
pub struct Vault {
    file: MetadataFile,
    store: Arc<dyn SecretStore>,
    live: live::LiveKeys,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("metadata", &self.file.path())
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Opens the vault in `dir`, repairs what a crash interrupted, and sweeps expired sessions.
    /// A locked or unreachable keychain is an error here only when there is something to repair.
    pub fn open(
        dir: &Path,
        store: Arc<dyn SecretStore>,
        now: OffsetDateTime,
    ) -> Result<(Self, Maintenance), VaultError> {
        let vault = Self {
            file: MetadataFile::new(dir)?,
            store,
            live: live::LiveKeys::default(),
        };
        let done = vault.maintain(now)?;
        Ok((vault, done))
    }

    /// The metadata file's path.
    pub fn metadata_path(&self) -> std::path::PathBuf {
        self.file.path()
    }

    /// Checks that the keychain answers and is unlocked, without writing to it. A locked
    /// keychain also drops the session keys held in memory.
    pub fn check_keychain(&self) -> Result<(), VaultError> {
        self.store.check().map_err(|e| self.keychain_failed(e))
    }

    /// The history (every AuthSig signed, sessionSigs handed out, revocation …) as it is kept
    /// ([`crate::history::retain`]: bounded per site), oldest first.
    pub fn history(&self) -> Result<Vec<HistoryEntry>, VaultError> {
        let _held = self.file.lock()?;
        self.file.history_lines()
    }

    /// The activity the app's Activity screen and `lit-companion history` show: the history as
    /// it is kept, newest first, each line naming its site. Hand-outs this process counted
    /// since its last write are written first, so they show at once.
    pub fn activity(&self, now: OffsetDateTime) -> Result<Vec<ActivityLine>, VaultError> {
        self.flush_reuse(now)?;
        Ok(crate::history::activity(self.history()?))
    }

    /// The metadata as last parsed, shared (no copy). Readers take no lock: every write
    /// renames a complete file into place, so a read sees one version or the next.
    fn shared(&self) -> Result<Arc<Metadata>, VaultError> {
        self.file.read_shared()
    }

    /// Runs `f` on the metadata under the lock and writes the result back.
    fn edit<T>(
        &self,
        f: impl FnOnce(&mut Metadata, &dyn SecretStore) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let held = self.file.lock()?;
        let mut m = self.file.load(&held)?;
        let out = f(&mut m, self.store.as_ref())?;
        self.file.store(&held, &mut m)?;
        Ok(out)
    }

    /// A keychain error on the way: a locked or vanished keychain also drops the keys held in
    /// memory, so that locking the keychain locks the companion too.
    fn keychain_failed(&self, e: KeychainError) -> VaultError {
        if matches!(e, KeychainError::Locked | KeychainError::Unavailable(_)) {
            self.live.forget_all();
        }
        e.into()
    }
}

fn matches_key(s: &SessionRecord, origin: &str, network: &str, wallet: &Address) -> bool {
    s.origin == origin && s.network == network && s.wallet == wallet.to_checksum()
}

fn find_wallet<'m>(
    m: &'m mut Metadata,
    address: &Address,
) -> Result<&'m mut WalletRecord, VaultError> {
    m.wallets
        .iter_mut()
        .find(|w| w.state == RecordState::Live && w.address == address.to_checksum())
        .ok_or_else(|| VaultError::UnknownWallet(address.to_checksum()))
}

/// Deletes a keychain item; a missing one is fine (the goal is its absence).
fn forget(store: &dyn SecretStore, account: &str) -> Result<(), VaultError> {
    match store.delete(account) {
        Ok(()) | Err(KeychainError::NotFound) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn iso(t: OffsetDateTime) -> Result<String, VaultError> {
    iso_millis(t).map_err(|e| VaultError::Invalid(e.to_string()))
}

fn short(public_key: &str) -> String {
    format!("{}…", public_key.get(..8).unwrap_or(public_key))
}
