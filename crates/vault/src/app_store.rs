//! The app item store: a small key–value store in the OS keychain for programs that use the Lit
//! SDK themselves — SDK v7's `storageProvider` (a Web Storage object) and SDK v8's AuthManager
//! storage keep their session keys here instead of in `node-localstorage` files.
//!
//! Each item is one keychain item: service `<base>.store.<app>` (`base` is the companion's own
//! service name, `lit-companion` unless a profile sets another), account = the item's key, the
//! secret = the value's bytes. Nothing is written anywhere else, and nothing is cached: two
//! processes see the same items. A locked or missing keychain is an error, never an empty store.

use zeroize::Zeroizing;

use crate::keychain::{KeychainError, OsKeychain, SecretStore};

/// The longest app name, in bytes.
pub const MAX_APP_LEN: usize = 64;
/// The longest item key, in bytes (the SDKs' keys are under 200).
pub const MAX_KEY_LEN: usize = 1024;
/// The largest value, in bytes. The SDKs store a few KiB at most (a v7 session key pair is
/// ~200 bytes, an AuthSig with a ReCap ~1–3 KiB); Secret Service carries far more, but a store
/// of session material has no use for megabytes.
pub const MAX_VALUE_LEN: usize = 1024 * 1024;

/// What went wrong with an app store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppStoreError {
    /// The app name breaks the naming rule (see [`AppName::parse`]).
    #[error("app name {0:?} is not valid: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")]
    InvalidApp(String),
    /// The item key is empty, too long, or holds a control character.
    #[error("the item key is not valid: {0}")]
    InvalidKey(&'static str),
    /// The value is larger than [`MAX_VALUE_LEN`].
    #[error("the value is {len} bytes; an item holds at most {max}")]
    TooLarge {
        /// The value's size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The keychain failed (locked, unavailable, …).
    #[error(transparent)]
    Keychain(#[from] KeychainError),
}

impl AppStoreError {
    /// A stable machine-readable name (the keychain ones are the vault's).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidApp(_) => "invalid_app",
            Self::InvalidKey(_) => "invalid_key",
            Self::TooLarge { .. } => "too_large",
            Self::Keychain(KeychainError::Locked) => "keychain_locked",
            Self::Keychain(KeychainError::Unavailable(_)) => "keychain_unavailable",
            Self::Keychain(_) => "keychain_failure",
        }
    }
}

/// A validated app name: 1 to 64 ASCII letters, digits, `.`, `_` or `-`, starting with a letter
/// or digit. It becomes part of a keychain service name, so it carries no spaces, slashes or
/// anything a keychain manager would show confusingly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppName(String);

impl AppName {
    /// Checks `text` against the naming rule.
    pub fn parse(text: &str) -> Result<Self, AppStoreError> {
        let valid = !text.is_empty()
            && text.len() <= MAX_APP_LEN
            && text.starts_with(|c: char| c.is_ascii_alphanumeric())
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(AppStoreError::InvalidApp(text.to_owned()))
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AppName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Checks an item key: not empty, at most [`MAX_KEY_LEN`] bytes, no control characters (keys
/// are shown by keychain managers and listed one per line).
pub fn check_key(key: &str) -> Result<(), AppStoreError> {
    if key.is_empty() {
        return Err(AppStoreError::InvalidKey("it is empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(AppStoreError::InvalidKey("it is longer than 1024 bytes"));
    }
    if key.chars().any(char::is_control) {
        return Err(AppStoreError::InvalidKey("it holds a control character"));
    }
    Ok(())
}

/// One app's items in the OS keychain.
#[derive(Debug, Clone)]
pub struct AppStore {
    app: AppName,
    /// The keychain under `<base>.store.<app>`: the items.
    items: OsKeychain,
    /// The companion's own keychain: its status probe tells "no such item" from "locked".
    base: OsKeychain,
}

impl AppStore {
    /// `app`'s store beside the companion's keychain `base` (see [`OsKeychain::from_env`]).
    pub fn new(base: &OsKeychain, app: AppName) -> Self {
        let items = OsKeychain::with_service(&format!("{}.store.{app}", base.service()));
        Self {
            app,
            items,
            base: base.clone(),
        }
    }

    /// The app.
    pub fn app(&self) -> &AppName {
        &self.app
    }

    /// The keychain service name the items carry (`<base>.store.<app>`).
    pub fn service(&self) -> &str {
        self.items.service()
    }

    /// The value under `key`, or `None` when there is no such item.
    pub fn get(&self, key: &str) -> Result<Option<Zeroizing<Vec<u8>>>, AppStoreError> {
        check_key(key)?;
        match self.items.get(key) {
            Ok(value) => Ok(Some(value)),
            // A search for a missing item succeeds even on a locked keychain: ask the probe.
            Err(KeychainError::NotFound) => self.confirm_unlocked().map(|()| None),
            Err(e) => Err(self.classify(e)),
        }
    }

    /// Stores `value` under `key`, replacing any previous value.
    pub fn set(&self, key: &str, value: &[u8]) -> Result<(), AppStoreError> {
        check_key(key)?;
        if value.len() > MAX_VALUE_LEN {
            return Err(AppStoreError::TooLarge {
                len: value.len(),
                max: MAX_VALUE_LEN,
            });
        }
        self.items.put(key, value).map_err(|e| self.classify(e))
    }

    /// Deletes the item under `key`; `false` when there was none.
    pub fn delete(&self, key: &str) -> Result<bool, AppStoreError> {
        check_key(key)?;
        match self.items.delete(key) {
            Ok(()) => Ok(true),
            Err(KeychainError::NotFound) => self.confirm_unlocked().map(|()| false),
            Err(e) => Err(self.classify(e)),
        }
    }

    /// The keys of every item, sorted.
    pub fn keys(&self) -> Result<Vec<String>, AppStoreError> {
        // Checked first: an empty list from a locked keychain would be a lie.
        self.confirm_unlocked()?;
        self.items.accounts().map_err(|e| self.classify(e))
    }

    /// Deletes every item; returns how many went.
    pub fn clear(&self) -> Result<usize, AppStoreError> {
        let mut deleted = 0;
        for key in self.keys()? {
            match self.items.delete(&key) {
                Ok(()) => deleted += 1,
                // Deleted by someone else meanwhile: gone all the same.
                Err(KeychainError::NotFound) => {}
                Err(e) => return Err(self.classify(e)),
            }
        }
        Ok(deleted)
    }

    fn confirm_unlocked(&self) -> Result<(), AppStoreError> {
        Ok(self.base.check()?)
    }

    /// A platform failure on a locked or vanished keychain is reported as what it is.
    fn classify(&self, e: KeychainError) -> AppStoreError {
        if let KeychainError::Failure(_) = e {
            if let Err(status @ (KeychainError::Locked | KeychainError::Unavailable(_))) =
                self.base.check()
            {
                return status.into();
            }
        }
        e.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_names_follow_the_rule() {
        for good in ["a", "my-app", "ci.runner_2", "A1", &"x".repeat(64)] {
            assert!(AppName::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "-app",
            ".app",
            "my app",
            "a/b",
            "a:b",
            "é",
            &"x".repeat(65),
        ] {
            assert!(
                matches!(AppName::parse(bad), Err(AppStoreError::InvalidApp(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn keys_are_checked() {
        for good in ["lit-session-key", "lit-auth:naga-dev:0xAbC", "a b", "ключ"] {
            assert!(check_key(good).is_ok(), "{good:?}");
        }
        for bad in ["", "a\nb", "a\0b", "\u{7f}", &"k".repeat(1025)] {
            assert!(
                matches!(check_key(bad), Err(AppStoreError::InvalidKey(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_service_is_namespaced_by_app() {
        let store = AppStore::new(
            &OsKeychain::with_service("lit-companion"),
            AppName::parse("ci-runner").unwrap(),
        );
        assert_eq!(store.service(), "lit-companion.store.ci-runner");
        assert_eq!(store.app().as_str(), "ci-runner");
    }

    #[test]
    fn an_oversized_value_is_refused_before_the_keychain() {
        let store = AppStore::new(
            &OsKeychain::with_service("lit-companion-unit"),
            AppName::parse("big").unwrap(),
        );
        let err = store.set("k", &vec![0; MAX_VALUE_LEN + 1]).unwrap_err();
        assert_eq!(err.code(), "too_large");
        assert_eq!(store.get("").unwrap_err().code(), "invalid_key");
    }
}
