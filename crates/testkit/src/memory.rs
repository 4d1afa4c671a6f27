//! A keychain in memory, for tests and fuzz targets about what the vault decides, not about the
//! OS store.

use std::{collections::HashMap, sync::Mutex};

use lit_companion_vault::{KeychainError, SecretStore};
use zeroize::Zeroizing;

/// Items in a map; every call answers at once and the store is never locked.
#[derive(Debug, Default)]
pub struct MemoryKeychain(Mutex<HashMap<String, Zeroizing<Vec<u8>>>>);

impl SecretStore for MemoryKeychain {
    fn put(&self, account: &str, secret: &[u8]) -> Result<(), KeychainError> {
        self.0
            .lock()
            .unwrap()
            .insert(account.into(), Zeroizing::new(secret.into()));
        Ok(())
    }

    fn get(&self, account: &str) -> Result<Zeroizing<Vec<u8>>, KeychainError> {
        self.0
            .lock()
            .unwrap()
            .get(account)
            .cloned()
            .ok_or(KeychainError::NotFound)
    }

    fn delete(&self, account: &str) -> Result<(), KeychainError> {
        self.0
            .lock()
            .unwrap()
            .remove(account)
            .map(drop)
            .ok_or(KeychainError::NotFound)
    }

    fn check(&self) -> Result<(), KeychainError> {
        Ok(())
    }
}
