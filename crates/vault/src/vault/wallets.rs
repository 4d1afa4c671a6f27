//! Wallet keys: created or imported into the keychain, labelled, exported on request, removed
//! with the sessions they signed.

use lit_companion_session::{Address, WalletKey};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{find_wallet, iso, wallet_account, Vault};
use crate::{
    error::VaultError,
    history,
    keychain::KeychainError,
    metadata::{RecordState, WalletRecord},
};

impl Vault {
    /// Creates a wallet key in the keychain.
    pub fn create_wallet(&self, label: &str, now: OffsetDateTime) -> Result<Address, VaultError> {
        self.add_wallet(&WalletKey::generate(), label, now, "wallet_created")
    }

    /// Imports a private key (hex, `0x` optional).
    pub fn import_wallet(
        &self,
        key_hex: &str,
        label: &str,
        now: OffsetDateTime,
    ) -> Result<Address, VaultError> {
        let key = WalletKey::from_hex(key_hex).map_err(|e| VaultError::Invalid(e.to_string()))?;
        self.add_wallet(&key, label, now, "wallet_imported")
    }

    fn add_wallet(
        &self,
        key: &WalletKey,
        label: &str,
        now: OffsetDateTime,
        event: &str,
    ) -> Result<Address, VaultError> {
        let address = key.address();
        let label = clean_label(label)?;
        let held = self.file.lock()?;
        let mut m = self.file.load(&held)?;
        if m.wallets.iter().any(|w| w.address == address.to_checksum()) {
            return Err(VaultError::DuplicateWallet(address.to_checksum()));
        }
        m.wallets.push(WalletRecord {
            address: address.to_checksum(),
            label: label.clone(),
            created_at: iso(now)?,
            state: RecordState::Pending,
        });
        self.file.store(&held, &mut m)?;
        let secret = Zeroizing::new(
            hex::decode(key.export_hex().as_str())
                .map_err(|e| VaultError::Internal(e.to_string()))?,
        );
        self.store.put(&wallet_account(&address), &secret)?;
        for w in &mut m.wallets {
            if w.address == address.to_checksum() {
                w.state = RecordState::Live;
            }
        }
        let verb = if event == "wallet_imported" {
            "Imported"
        } else {
            "Created"
        };
        m.log(history::wallet(
            &iso(now)?,
            event,
            format!("{verb} wallet {} ({label})", address.short()),
            format!("wallet {} ({label})", address.to_checksum()),
        ));
        self.file.store(&held, &mut m)?;
        Ok(address)
    }

    /// The wallets, in creation order.
    pub fn wallets(&self) -> Result<Vec<WalletRecord>, VaultError> {
        Ok(self
            .shared()?
            .wallets
            .iter()
            .filter(|w| w.state == RecordState::Live)
            .cloned()
            .collect())
    }

    /// The wallet a request that names none signs with: the first one created. Reads the
    /// metadata only (a `stat` when it is unchanged).
    pub fn default_wallet(&self) -> Result<Option<Address>, VaultError> {
        self.shared()?
            .wallets
            .iter()
            .find(|w| w.state == RecordState::Live)
            .map(|w| {
                Address::parse_any_case(&w.address)
                    .map_err(|_| VaultError::KeyDamaged(w.address.clone()))
            })
            .transpose()
    }

    /// Renames a wallet.
    pub fn label_wallet(&self, address: &Address, label: &str) -> Result<(), VaultError> {
        let label = clean_label(label)?;
        self.edit(|m, _| {
            let w = find_wallet(m, address)?;
            w.label = label;
            Ok(())
        })
    }

    /// The wallet's key, from the keychain.
    pub fn wallet_key(&self, address: &Address) -> Result<WalletKey, VaultError> {
        if !self
            .shared()?
            .wallets
            .iter()
            .any(|w| w.state == RecordState::Live && w.address == address.to_checksum())
        {
            return Err(VaultError::UnknownWallet(address.to_checksum()));
        }
        let secret = match self.store.get(&wallet_account(address)) {
            Ok(s) => s,
            Err(KeychainError::NotFound) => {
                return Err(VaultError::KeyMissing(format!(
                    "wallet {}",
                    address.to_checksum()
                )))
            }
            Err(e) => return Err(self.keychain_failed(e)),
        };
        let bytes: [u8; 32] = secret
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::KeyDamaged(address.to_checksum()))?;
        let bytes = Zeroizing::new(bytes);
        WalletKey::from_bytes(&bytes).map_err(|_| VaultError::KeyDamaged(address.to_checksum()))
    }

    /// The private key as hex, for an explicit export only (recorded in the history).
    pub fn export_wallet(
        &self,
        address: &Address,
        now: OffsetDateTime,
    ) -> Result<Zeroizing<String>, VaultError> {
        let key = self.wallet_key(address)?;
        self.edit(|m, _| {
            m.log(history::wallet(
                &iso(now)?,
                "wallet_exported",
                format!("Exported the private key of wallet {}", address.short()),
                format!("wallet {} exported", address.to_checksum()),
            ));
            Ok(())
        })?;
        Ok(key.export_hex())
    }

    /// Removes a wallet and revokes its sessions; its key leaves the keychain.
    pub fn remove_wallet(
        &self,
        address: &Address,
        now: OffsetDateTime,
    ) -> Result<usize, VaultError> {
        let checksum = address.to_checksum();
        let held = self.file.lock()?;
        let mut m = self.file.load(&held)?;
        find_wallet(&mut m, address)?.state = RecordState::Retired;
        let mut revoked = 0;
        for s in m
            .sessions
            .iter_mut()
            .filter(|s| s.wallet == checksum && s.state != RecordState::Retired)
        {
            s.state = RecordState::Retired;
            revoked += 1;
        }
        m.log(history::wallet(
            &iso(now)?,
            "wallet_removed",
            format!(
                "Removed wallet {} and what it had granted ({revoked} session{})",
                address.short(),
                if revoked == 1 { "" } else { "s" }
            ),
            format!("wallet {checksum} removed with {revoked} session(s)"),
        ));
        self.file.store(&held, &mut m)?;
        drop(held);
        self.maintain(now)?;
        Ok(revoked)
    }
}

fn clean_label(label: &str) -> Result<String, VaultError> {
    let label = label.trim();
    if label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err(VaultError::Invalid(
            "a label is at most 64 printable characters".into(),
        ));
    }
    Ok(if label.is_empty() {
        "Main".to_owned()
    } else {
        label.to_owned()
    })
}
