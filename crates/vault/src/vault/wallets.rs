//! Wallets: local ones (a key created or imported into the keychain, exported on request),
//! external ones (an address whose browser wallet signs in the page; nothing secret is kept)
//! and PKPs (a public key whose network signs, once one of the other two signs in for it),
//! labelled, removed with the sessions they signed.

use lit_companion_session::{Address, PkpPublicKey, WalletKey};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{find_wallet, iso, wallet_account, Vault};
use crate::{
    error::VaultError,
    history::{self, HistoryEvent},
    keychain::KeychainError,
    metadata::{PkpRecord, RecordState, WalletKind, WalletRecord},
};

impl Vault {
    /// Creates a wallet key in the keychain.
    pub fn create_wallet(&self, label: &str, now: OffsetDateTime) -> Result<Address, VaultError> {
        self.add_wallet(
            &WalletKey::generate(),
            label,
            now,
            HistoryEvent::WalletCreated,
        )
    }

    /// Imports a private key (hex, `0x` optional).
    pub fn import_wallet(
        &self,
        key_hex: &str,
        label: &str,
        now: OffsetDateTime,
    ) -> Result<Address, VaultError> {
        let key = WalletKey::from_hex(key_hex).map_err(|e| VaultError::Invalid(e.to_string()))?;
        self.add_wallet(&key, label, now, HistoryEvent::WalletImported)
    }

    fn add_wallet(
        &self,
        key: &WalletKey,
        label: &str,
        now: OffsetDateTime,
        event: HistoryEvent,
    ) -> Result<Address, VaultError> {
        let address = key.address();
        let label = clean_label(label)?;
        let held = self.file.lock()?;
        let mut m = self.file.load(&held)?;
        push_wallet(&mut m, &address, &label, now, WalletKind::Local)?;
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
        let verb = if event == HistoryEvent::WalletImported {
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

    /// Adds a browser wallet by its address: an EIP-1193 wallet (MetaMask, Rabby, …) that
    /// signs each new session in the requesting page. Nothing secret is stored for it.
    pub fn add_external_wallet(
        &self,
        address: &Address,
        label: &str,
        now: OffsetDateTime,
    ) -> Result<(), VaultError> {
        let label = clean_label(label)?;
        self.edit(|m, _| add_external(m, address, &label, now))
    }

    /// Adds a PKP by its public key; `auth` (one of the vault's local or browser wallets) signs
    /// in for it. Nothing secret is stored: the network holds the key. Answers its address.
    pub fn add_pkp(
        &self,
        key: &PkpPublicKey,
        auth: &Address,
        label: &str,
        now: OffsetDateTime,
    ) -> Result<Address, VaultError> {
        let label = clean_label(label)?;
        let address = key.address();
        self.edit(|m, _| {
            let signer = m
                .wallets
                .iter()
                .find(|w| w.state == RecordState::Live && w.address == auth.to_checksum())
                .ok_or_else(|| VaultError::UnknownWallet(auth.to_checksum()))?;
            if signer.kind == WalletKind::Pkp {
                return Err(VaultError::Invalid(format!(
                    "{} is a PKP; a PKP's auth method is a local or browser wallet",
                    auth.to_checksum()
                )));
            }
            let auth_label = signer.label.clone();
            push_wallet(m, &address, &label, now, WalletKind::Pkp)?;
            if let Some(w) = m.wallets.last_mut() {
                w.pkp = Some(PkpRecord {
                    public_key: key.to_hex(),
                    auth: auth.to_checksum(),
                });
            }
            m.log(history::wallet(
                &iso(now)?,
                HistoryEvent::WalletAdded,
                format!(
                    "Added PKP {} ({label}); wallet \"{auth_label}\" signs in for it",
                    address.short()
                ),
                format!(
                    "pkp {} ({label}) auth {}",
                    address.to_checksum(),
                    auth.to_checksum()
                ),
            ));
            Ok(())
        })?;
        Ok(address)
    }

    /// The PKP named by `key`, when the vault has it.
    pub fn pkp(&self, key: &PkpPublicKey) -> Result<Option<WalletRecord>, VaultError> {
        let hex = key.to_hex();
        Ok(self.wallet(&key.address())?.filter(|w| {
            w.kind == WalletKind::Pkp && w.pkp.as_ref().is_some_and(|p| p.public_key == hex)
        }))
    }

    /// The wallet `address` (how it signs, its label), or `None` when the vault has no such
    /// wallet. Reads the metadata only (a `stat` when it is unchanged).
    pub fn wallet(&self, address: &Address) -> Result<Option<WalletRecord>, VaultError> {
        let checksum = address.to_checksum();
        Ok(self
            .shared()?
            .wallets
            .iter()
            .find(|w| w.state == RecordState::Live && w.address == checksum)
            .cloned())
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

    /// The wallet's key, from the keychain (a browser wallet has none here).
    pub fn wallet_key(&self, address: &Address) -> Result<WalletKey, VaultError> {
        match self.wallet(address)?.map(|w| w.kind) {
            None => return Err(VaultError::UnknownWallet(address.to_checksum())),
            Some(WalletKind::External) => {
                return Err(VaultError::ExternalWallet(address.to_checksum()))
            }
            Some(WalletKind::Pkp) => return Err(VaultError::PkpWallet(address.to_checksum())),
            Some(WalletKind::Local) => {}
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
                HistoryEvent::WalletExported,
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
        // A wallet that signs in for a PKP stays until the PKP goes: removing it would leave
        // the PKP with nobody to speak for it.
        if let Some(pkp) = m.wallets.iter().find(|w| {
            w.state == RecordState::Live && w.pkp.as_ref().is_some_and(|p| p.auth == checksum)
        }) {
            return Err(VaultError::Invalid(format!(
                "wallet {checksum} signs in for PKP {} ({}); remove the PKP first",
                pkp.address, pkp.label
            )));
        }
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
            HistoryEvent::WalletRemoved,
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

/// Records the browser wallet `address` in `m` (the caller stores `m`).
pub(super) fn add_external(
    m: &mut crate::metadata::Metadata,
    address: &Address,
    label: &str,
    now: OffsetDateTime,
) -> Result<(), VaultError> {
    push_wallet(m, address, label, now, WalletKind::External)?;
    let checksum = address.to_checksum();
    m.log(history::wallet(
        &iso(now)?,
        HistoryEvent::WalletAdded,
        format!(
            "Added browser wallet {} ({label}); it signs in your browser",
            address.short()
        ),
        format!("external wallet {checksum} ({label})"),
    ));
    Ok(())
}

/// Adds the wallet record, unless one with that address is there. A local wallet starts
/// pending (its key is not in the keychain yet); an external one has nothing to wait for.
fn push_wallet(
    m: &mut crate::metadata::Metadata,
    address: &Address,
    label: &str,
    now: OffsetDateTime,
    kind: WalletKind,
) -> Result<(), VaultError> {
    let checksum = address.to_checksum();
    if m.wallets.iter().any(|w| w.address == checksum) {
        return Err(VaultError::DuplicateWallet(checksum));
    }
    m.wallets.push(WalletRecord {
        address: checksum,
        label: label.to_owned(),
        created_at: iso(now)?,
        state: match kind {
            WalletKind::Local => RecordState::Pending,
            WalletKind::External | WalletKind::Pkp => RecordState::Live,
        },
        kind,
        pkp: None,
    });
    Ok(())
}

/// A wallet's label as stored: trimmed, at most 64 printable characters (`Main` when empty).
/// Callers that take a label from elsewhere check it here before asking anyone anything.
pub fn clean_label(label: &str) -> Result<String, VaultError> {
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
