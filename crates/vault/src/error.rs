//! Vault errors. None carries key material.

use std::path::PathBuf;

use crate::keychain::KeychainError;

/// What went wrong in the vault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The keychain failed (locked, unavailable, …).
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    /// The metadata file does not parse. It was left in place and copied to `backup`.
    #[error("the metadata file {} is corrupt ({reason}); a copy was kept at {}", path.display(), backup.display())]
    CorruptMetadata {
        /// The file.
        path: PathBuf,
        /// The copy.
        backup: PathBuf,
        /// The parser's complaint.
        reason: String,
    },
    /// The metadata was written by a newer version.
    #[error("the metadata file has format version {0}, which this version does not know")]
    UnsupportedVersion(u32),
    /// Reading or writing a file failed (disk full, permissions, …); nothing was lost.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// No wallet with that address.
    #[error("no wallet {0} in the vault")]
    UnknownWallet(String),
    /// A wallet with that address is already there.
    #[error("wallet {0} is already in the vault")]
    DuplicateWallet(String),
    /// The wallet signs in the browser: the companion holds no key for it.
    #[error("wallet {0} is a browser wallet: it signs in the page, and Lit Companion holds no key for it")]
    ExternalWallet(String),
    /// The wallet is a PKP: its network signs, and Lit Companion holds no key for it.
    #[error(
        "wallet {0} is a PKP: the Lit network signs for it, and Lit Companion holds no key for it"
    )]
    PkpWallet(String),
    /// A browser wallet's signature is malformed, or not the wallet's over the message it was
    /// asked to sign. Nothing was stored.
    #[error(transparent)]
    WalletSignature(lit_companion_session::AuthSigError),
    /// No session with that id.
    #[error("no session {0}")]
    UnknownSession(String),
    /// No pairing of that name.
    #[error("no pairing named {0}")]
    UnknownPairing(String),
    /// A key the metadata lists is missing from the keychain; the record is marked dead.
    #[error("the key of {0} is missing from the keychain; it was marked dead")]
    KeyMissing(String),
    /// A stored key does not parse.
    #[error("the stored key of {0} is damaged")]
    KeyDamaged(String),
    /// A protocol-level error (bad key, bad request, message building).
    #[error(transparent)]
    Protocol(#[from] lit_companion_session::SignError),
    /// Bad input.
    #[error("{0}")]
    Invalid(String),
    /// A bug.
    #[error("internal error: {0}")]
    Internal(String),
}

impl VaultError {
    pub(crate) fn io(context: &'static str, source: std::io::Error) -> Self {
        Self::Io { context, source }
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> lit_companion_session::ErrorKind {
        use lit_companion_session::ErrorKind as K;
        match self {
            Self::Keychain(_) | Self::KeyMissing(_) | Self::KeyDamaged(_) => K::Keychain,
            Self::CorruptMetadata { .. } | Self::UnsupportedVersion(_) | Self::Io { .. } => {
                K::Files
            }
            Self::WalletSignature(_) => K::Refused,
            Self::Internal(_) => K::Internal,
            Self::UnknownWallet(_)
            | Self::DuplicateWallet(_)
            | Self::ExternalWallet(_)
            | Self::PkpWallet(_)
            | Self::UnknownSession(_)
            | Self::UnknownPairing(_)
            | Self::Protocol(_)
            | Self::Invalid(_) => K::Input,
        }
    }

    /// A stable machine-readable name.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Keychain(KeychainError::Locked) => "keychain_locked",
            Self::Keychain(KeychainError::Unavailable(_)) => "keychain_unavailable",
            Self::Keychain(_) => "keychain_failure",
            Self::CorruptMetadata { .. } => "metadata_corrupt",
            Self::UnsupportedVersion(_) => "metadata_version",
            Self::Io { .. } => "io",
            Self::UnknownWallet(_) => "unknown_wallet",
            Self::DuplicateWallet(_) => "duplicate_wallet",
            Self::ExternalWallet(_) => "external_wallet",
            Self::PkpWallet(_) => "pkp_wallet",
            Self::WalletSignature(_) => "wallet_signature",
            Self::UnknownSession(_) => "unknown_session",
            Self::UnknownPairing(_) => "unknown_pairing",
            Self::KeyMissing(_) => "key_missing",
            Self::KeyDamaged(_) => "key_damaged",
            Self::Protocol(_) => "protocol",
            Self::Invalid(_) => "invalid",
            Self::Internal(_) => "internal",
        }
    }
}
