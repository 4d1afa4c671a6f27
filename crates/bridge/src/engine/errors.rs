//! From internal failures to what the caller is told. Bad input gets its reason; everything
//! else gets a stable code and a generic message, while the detail goes to the log.

use lit_companion_net::{NetError, NetworkSpec};
use lit_companion_session::AuthSigError;
use lit_companion_vault::{KeychainError, VaultError};
use lit_companion_wire::{BridgeError, ErrorCode};

/// A vault failure as the caller sees it.
pub(crate) fn vault_error(e: VaultError) -> BridgeError {
    match &e {
        VaultError::Keychain(KeychainError::Locked) => BridgeError::new(
            ErrorCode::KeychainUnavailable,
            "the keychain is locked: the user must unlock it",
        ),
        VaultError::Keychain(KeychainError::Unavailable(_)) => BridgeError::new(
            ErrorCode::KeychainUnavailable,
            "no keychain is available on this machine",
        ),
        // Nothing was signed or stored; the user must free space.
        VaultError::Io { source, .. } if source.kind() == std::io::ErrorKind::StorageFull => {
            tracing::error!(error = %e, "the data directory is full");
            BridgeError::new(
                ErrorCode::KeychainUnavailable,
                "Lit Companion cannot store its records: the disk is full",
            )
        }
        VaultError::UnknownWallet(w) => BridgeError::new(
            ErrorCode::BadRequest,
            format!("no wallet {w} in Lit Companion"),
        ),
        VaultError::WalletSignature(AuthSigError::SignatureEncoding) => BridgeError::new(
            ErrorCode::BadRequest,
            "the browser wallet's signature is not 0x + 130 hex digits; nothing was stored",
        ),
        VaultError::WalletSignature(_) => BridgeError::new(
            ErrorCode::Unauthorized,
            "the signature is not the browser wallet's over the message it was asked to sign; nothing was stored",
        ),
        VaultError::ExternalWallet(w) => BridgeError::new(
            ErrorCode::Unsupported,
            format!("wallet {w} is a browser wallet: it can sign only in a web page"),
        ),
        VaultError::Protocol(p) => BridgeError::new(ErrorCode::BadRequest, p.to_string()),
        VaultError::Invalid(m) => BridgeError::new(ErrorCode::BadRequest, m.clone()),
        _ => internal("vault", &e),
    }
}

/// A failure of the network `spec`: what was silent, in words, and which node failed and how
/// are logged, never sent. The caller learns only that the network it named could not be
/// reached, and that Lit retired it when Lit did.
pub(crate) fn net_error(spec: &NetworkSpec, e: NetError) -> BridgeError {
    tracing::warn!(network = %spec.name, error = %e, "{}", spec.unanswered(&e));
    let message = match spec.retired_after {
        Some(_) => format!(
            "the Lit network could not be reached: Lit has retired {}",
            spec.label
        ),
        None => "the Lit network could not be reached".to_owned(),
    };
    BridgeError::new(ErrorCode::NetworkUnavailable, message)
}

/// A bug or an environment failure: logged with its detail, answered generically.
pub(crate) fn internal(what: &str, e: &dyn std::fmt::Display) -> BridgeError {
    tracing::error!(what, error = %e, "internal error");
    BridgeError::new(
        ErrorCode::Internal,
        "internal error (see the companion's log)",
    )
}
