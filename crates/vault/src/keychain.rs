//! The OS keychain: Secret Service on Linux, Keychain on macOS, Credential Manager on Windows,
//! through the `keyring` crate. Only secrets live here; each is one item named by an account
//! string (`wallet:<address>`, `session:<public key>`) under one service name.

use std::{
    collections::HashMap,
    sync::{mpsc, OnceLock},
    time::Duration,
};

use zeroize::Zeroizing;

/// The service name every item carries (Secret Service attribute `service`).
pub const SERVICE: &str = "lit-companion";

/// The account [`SecretStore::check`] reads (written once, under `<service>.status`); it never
/// holds a secret.
pub const PROBE_ACCOUNT: &str = "probe:readable";

/// How long to wait for the platform store to answer its first call before calling it
/// unavailable: D-Bus activation of a missing Secret Service must not hang the app.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A keychain failure. Never carries secret bytes.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeychainError {
    /// The keychain exists but is locked; the user must unlock it (log in, or unlock the
    /// "login" keyring in their keyring manager).
    #[error("the keychain is locked: unlock it and try again")]
    Locked,
    /// No keychain could be reached (no D-Bus session bus, no Secret Service provider).
    #[error("no keychain is available: {0}")]
    Unavailable(String),
    /// The item does not exist.
    #[error("no such keychain item")]
    NotFound,
    /// Anything else the platform reported.
    #[error("keychain failure: {0}")]
    Failure(String),
}

/// Where secrets are kept. The vault talks to this trait only.
pub trait SecretStore: Send + Sync {
    /// Stores `secret` under `account`, replacing any previous value.
    fn put(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError>;
    /// Reads the secret under `account`.
    fn get(&self, account: &str) -> Result<Zeroizing<Vec<u8>>, KeychainError>;
    /// Deletes the item; deleting a missing item is [`KeychainError::NotFound`].
    fn delete(&self, account: &str) -> Result<(), KeychainError>;
    /// Checks that the store answers (and is unlocked) without touching any item.
    fn check(&self) -> Result<(), KeychainError>;
}

/// The platform keychain.
#[derive(Debug, Clone)]
pub struct OsKeychain {
    service: String,
}

impl Default for OsKeychain {
    fn default() -> Self {
        Self {
            service: SERVICE.to_owned(),
        }
    }
}

impl OsKeychain {
    /// The keychain under the default service name.
    pub fn new() -> Self {
        Self::default()
    }

    /// Under the service named by `LIT_COMPANION_KEYCHAIN_SERVICE` when set (a second profile,
    /// a test run), else the default: what the CLI and the app both use.
    pub fn from_env() -> Self {
        match std::env::var("LIT_COMPANION_KEYCHAIN_SERVICE") {
            Ok(s) if !s.trim().is_empty() => Self::with_service(s.trim()),
            _ => Self::new(),
        }
    }

    /// Under another service name (kept apart from the default, e.g. for a second profile).
    pub fn with_service(service: &str) -> Self {
        Self {
            service: service.to_owned(),
        }
    }

    /// The service name this keychain's items carry.
    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, KeychainError> {
        connect()?;
        keyring::Entry::new(&self.service, account).map_err(map_error)
    }

    /// The accounts of every item under this service, sorted. Only names are read, never a
    /// secret. Each platform store searches in its own terms: Secret Service and the macOS
    /// Keychain by the `service` attribute, the Windows Credential Manager by a pattern over
    /// its target names (`<account>.<service>`).
    pub fn accounts(&self) -> Result<Vec<String>, KeychainError> {
        connect()?;
        let pattern = format!("\\.{}$", regex_escape(&self.service));
        let spec: HashMap<&str, &str> = if cfg!(windows) {
            HashMap::from([("pattern", pattern.as_str())])
        } else {
            HashMap::from([("service", self.service.as_str())])
        };
        let mut accounts = Vec::new();
        for entry in keyring_core::Entry::search(&spec).map_err(map_error)? {
            if let Some(account) = account_of(&entry, &self.service)? {
                accounts.push(account);
            }
        }
        accounts.sort();
        accounts.dedup();
        Ok(accounts)
    }
}

/// The account of an item a search found, if it is under `service`.
fn account_of(entry: &keyring_core::Entry, service: &str) -> Result<Option<String>, KeychainError> {
    if cfg!(target_os = "macos") {
        // The Keychain store builds found entries from the item's own service and account.
        return Ok(entry
            .get_specifiers()
            .and_then(|(s, account)| (s == service).then_some(account)));
    }
    // Secret Service: read the attributes (this reports a locked item, where the specifiers
    // would silently be missing). Windows: the pattern matched the service; the credential's
    // user name is the account.
    let attributes = entry.get_attributes().map_err(map_error)?;
    if !cfg!(windows) && attributes.get("service").map(String::as_str) != Some(service) {
        return Ok(None);
    }
    Ok(attributes.get("username").cloned())
}

/// Escapes the characters a regular expression treats specially (those `regex::escape` does).
fn regex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Initialises the platform store once, with a deadline.
fn connect() -> Result<(), KeychainError> {
    static STATUS: OnceLock<Result<(), KeychainError>> = OnceLock::new();
    STATUS
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let status = keyring::Entry::store_status()
                    .as_ref()
                    .map(|_| ())
                    .map_err(map_error_ref);
                let _ = tx.send(status);
            });
            match rx.recv_timeout(CONNECT_TIMEOUT) {
                Ok(status) => status.map_err(|e| match e {
                    KeychainError::Failure(m) => KeychainError::Unavailable(m),
                    other => other,
                }),
                Err(_) => Err(KeychainError::Unavailable(format!(
                    "the keychain service did not answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ))),
            }
        })
        .clone()
}

fn map_error(e: keyring::Error) -> KeychainError {
    map_error_ref(&e)
}

/// Maps platform errors to ours, keeping only the platform's description (never data).
fn map_error_ref(e: &keyring::Error) -> KeychainError {
    use keyring::Error as E;
    match e {
        E::NoEntry => KeychainError::NotFound,
        E::NoStorageAccess(inner) => {
            let text = inner.to_string();
            if text.to_ascii_lowercase().contains("lock")
                || text.to_ascii_lowercase().contains("prompt")
            {
                KeychainError::Locked
            } else {
                KeychainError::Unavailable(text)
            }
        }
        E::NoDefaultStore => {
            KeychainError::Unavailable("no platform keychain could be opened".into())
        }
        E::PlatformFailure(inner) => {
            let text = inner.to_string();
            let lower = text.to_ascii_lowercase();
            if lower.contains("locked") || lower.contains("islocked") {
                KeychainError::Locked
            } else if lower.contains("dbus")
                || lower.contains("d-bus")
                || lower.contains("nosession")
                || lower.contains("no session")
                || lower.contains("broken pipe")
                || lower.contains("connection reset")
                || lower.contains("disconnected")
                || lower.contains("address")
                || lower.contains("connect")
                || lower.contains("serviceunknown")
                || lower.contains("not provided")
            {
                KeychainError::Unavailable(text)
            } else {
                KeychainError::Failure(text)
            }
        }
        // BadEncoding / BadDataFormat carry the stored bytes: never echo them.
        E::BadEncoding(_) | E::BadDataFormat(..) => {
            KeychainError::Failure("stored item has an unexpected format".into())
        }
        other => KeychainError::Failure(other.to_string()),
    }
}

/// Whether an error says the connection to the keychain service is gone (the service was
/// restarted, or its bus died): then a new connection may work where the old one cannot.
fn connection_lost(e: &KeychainError) -> bool {
    let KeychainError::Unavailable(text) = e else {
        return false;
    };
    let lower = text.to_ascii_lowercase();
    [
        "nosession",
        "no session",
        "broken pipe",
        "connection reset",
        "disconnected",
        "unknownobject",
    ]
    .iter()
    .any(|m| lower.contains(m))
}

/// Replaces the process's keychain connection with a new one, within the connect deadline.
fn reconnect() -> Result<(), KeychainError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        #[cfg(all(
            unix,
            not(any(target_os = "macos", target_os = "ios", target_os = "android"))
        ))]
        let made = zbus_secret_service_keyring_store::Store::new()
            .map(|store| keyring_core::set_default_store(store))
            .map_err(|e| map_error_ref(&e));
        #[cfg(not(all(
            unix,
            not(any(target_os = "macos", target_os = "ios", target_os = "android"))
        )))]
        let made = Err(KeychainError::Unavailable(
            "the keychain connection was lost".into(),
        ));
        let _ = tx.send(made);
    });
    match rx.recv_timeout(CONNECT_TIMEOUT) {
        Ok(r) => r,
        Err(_) => Err(KeychainError::Unavailable(
            "the keychain service did not answer a new connection".into(),
        )),
    }
}

impl OsKeychain {
    /// Runs `op` once, and once more on a new connection when the old one was lost (a
    /// keychain service restart). Still failing, the error is the caller's.
    fn with_connection<T>(
        &self,
        op: impl Fn() -> Result<T, KeychainError>,
    ) -> Result<T, KeychainError> {
        match op() {
            Err(e) if connection_lost(&e) => {
                tracing::warn!(error = %e, "keychain connection lost; reconnecting");
                reconnect()?;
                op()
            }
            other => other,
        }
    }
}

impl SecretStore for OsKeychain {
    fn put(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError> {
        self.with_connection(|| self.entry(account)?.set_secret(secret).map_err(map_error))
    }

    fn get(&self, account: &str) -> Result<Zeroizing<Vec<u8>>, KeychainError> {
        self.with_connection(|| {
            self.entry(account)?
                .get_secret()
                .map(Zeroizing::new)
                .map_err(map_error)
        })
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        self.with_connection(|| self.entry(account)?.delete_credential().map_err(map_error))
    }

    fn check(&self) -> Result<(), KeychainError> {
        // Reading an item is what a locked keychain refuses, so probe by reading one that holds
        // no secret, kept under a service of its own (`<service>.status`) so that it never
        // mixes with the wallet and session items. It is written once, the first time (a fresh
        // keychain has nothing to read); every later check only reads.
        connect()?;
        self.with_connection(|| {
            let probe = keyring::Entry::new(&format!("{}.status", self.service), PROBE_ACCOUNT)
                .map_err(map_error)?;
            match probe.get_secret().map_err(map_error) {
                Ok(_) => Ok(()),
                Err(KeychainError::NotFound) => probe.set_secret(b"probe").map_err(map_error),
                Err(e) => Err(e),
            }
        })
    }
}
