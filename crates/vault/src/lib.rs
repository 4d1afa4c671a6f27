//! The companion's vault: wallet keys and session keys in the OS keychain (Secret Service,
//! macOS Keychain, Windows Credential Manager), everything non-secret — origins, session public
//! keys, AuthSigs, grants, expiry, history — in a metadata file written atomically with mode
//! 0600. There is no plaintext fallback: a locked or missing keychain is an error.
//!
//! A session is kept per (origin, network, wallet) and reused until it expires or a request
//! asks for more than its AuthSig grants: [`Vault::session_for`] decides, for every caller.
//!
//! Programs that use the Lit SDK themselves keep their SDK storage in an [`AppStore`]: one
//! keychain item per key, namespaced by app, so that no session key lands in a file.

pub mod app_store;
pub mod error;
pub mod grant_key;
pub mod history;
pub mod keychain;
pub mod metadata;
pub mod paths;
pub mod vault;

pub use app_store::{AppName, AppStore, AppStoreError};
pub use error::VaultError;
pub use grant_key::{GrantKey, GrantKeyError};
pub use keychain::{KeychainError, OsKeychain, SecretStore};
pub use vault::{
    Ask, Grantee, Issuance, LiveSession, Maintenance, Need, NeedReason, NewSession, PkpSigned,
    PreparedSession, Replaced, Revoke, SignRequest, Vault, REUSE_MARGIN,
};
