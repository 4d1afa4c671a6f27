//! The vault: secrets in the keychain, everything else in the metadata file, kept consistent
//! across crashes.
//!
//! Every change runs under the metadata lock as: write the intent (`Pending` / `Retired`) →
//! touch the keychain → write the outcome. Recovery at open finishes or undoes what a crash
//! interrupted, so no key is ever orphaned in the keychain and no listed key is silently lost.

use std::{fmt, path::Path, sync::Arc};

use lit_companion_session::{
    message::{self, session_uri, MessageParams},
    session_sigs::{sign_session_sigs, SessionParams, SessionSigs, MAX_SESSION_LIFETIME},
    timefmt::{iso_millis, parse_rfc3339},
    Address, AuthSig, Network, Recap, ResourceAbilityRequest, SessionKeyPair, SessionSeed,
    SignError, WalletKey,
};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use crate::{
    error::VaultError,
    keychain::{KeychainError, SecretStore},
    metadata::{Metadata, MetadataFile, PairingRecord, RecordState, SessionRecord, WalletRecord},
};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The keychain account of a wallet key.
pub fn wallet_account(address: &Address) -> String {
    format!("wallet:{}", address.to_checksum())
}

/// The keychain account of a session seed.
pub fn session_account(public_key_hex: &str) -> String {
    format!("session:{public_key_hex}")
}

/// What [`Vault::lookup_session`] found.
#[derive(Debug)]
pub enum SessionLookup {
    /// A live session whose AuthSig covers the request: reuse it, no prompt.
    Live(Box<LiveSession>),
    /// A new AuthSig is needed, and why.
    NeedsAuthSig(NeedReason),
}

/// Why a new AuthSig is needed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NeedReason {
    /// This origin has no session on this network with this wallet.
    NoSession,
    /// The session expired (or has less time left than asked for).
    Expired,
    /// The request asks for more than was granted: these are new.
    Escalation {
        /// What was granted so far.
        granted: Vec<ResourceAbilityRequest>,
        /// The requests the grant does not cover.
        missing: Vec<ResourceAbilityRequest>,
    },
    /// The session key vanished from the keychain; the record was marked dead.
    KeyMissing,
}

impl fmt::Display for NeedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSession => f.write_str("no session yet"),
            Self::Expired => f.write_str("the session expired"),
            Self::Escalation { missing, .. } => {
                let names: Vec<String> = missing
                    .iter()
                    .map(|r| format!("{} on {}", r.ability, r.resource))
                    .collect();
                write!(f, "asks for more than was granted: {}", names.join(", "))
            }
            Self::KeyMissing => f.write_str("the session key is missing from the keychain"),
        }
    }
}

/// A session ready to sign: its record and its key.
#[derive(Clone)]
pub struct LiveSession {
    /// The stored record.
    pub record: SessionRecord,
    key: SessionKeyPair,
}

impl fmt::Debug for LiveSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveSession")
            .field("public_key", &self.record.public_key)
            .field("origin", &self.record.origin)
            .finish_non_exhaustive()
    }
}

impl LiveSession {
    /// The session key.
    pub fn key(&self) -> &SessionKeyPair {
        &self.key
    }

    /// When the AuthSig expires.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        parse_rfc3339(&self.record.expires_at)
    }

    /// Signs sessionSigs for `r.nodes`: the expiration is capped at the AuthSig's, and the
    /// requests must lie within the grant (the core refuses otherwise).
    pub fn sign(&self, r: &SignRequest<'_>) -> Result<SessionSigs, VaultError> {
        let cap = self
            .expires_at()
            .ok_or_else(|| VaultError::Internal("stored expiry does not parse".into()))?;
        Ok(sign_session_sigs(&SessionParams {
            generation: r.network.generation(),
            session_key: &self.key,
            requests: r.requests,
            wallet_auth_sig: &self.record.auth_sig,
            delegation_auth_sigs: r.delegations,
            issued_at: r.now,
            expiration: r.expiration.min(cap),
            node_urls: r.nodes,
            max_price_wei: r.max_price_wei,
        })?)
    }
}

/// What [`LiveSession::sign`] signs.
#[derive(Debug, Clone)]
pub struct SignRequest<'a> {
    /// The network (its generation picks the format).
    pub network: Network,
    /// What the dapp asks for; must lie within the grant.
    pub requests: &'a [ResourceAbilityRequest],
    /// Node URLs.
    pub nodes: &'a [String],
    /// Now (the entries' `issuedAt`).
    pub now: OffsetDateTime,
    /// The wanted expiration (capped at the AuthSig's).
    pub expiration: OffsetDateTime,
    /// Delegation AuthSigs to carry.
    pub delegations: &'a [AuthSig],
    /// Naga: the price cap.
    pub max_price_wei: Option<u128>,
}

/// What a new session is made of. The caller has the user's approval for `grant`.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// The verified origin (`https://app.example.com`).
    pub origin: &'a str,
    /// The SIWE domain: the origin's host (`app.example.com`).
    pub domain: &'a str,
    /// The network.
    pub network: Network,
    /// The signing wallet.
    pub wallet: Address,
    /// What the user approved.
    pub grant: &'a [ResourceAbilityRequest],
    /// The app's statement.
    pub statement: &'a str,
    /// The SIWE nonce (latest block hash).
    pub nonce: &'a str,
    /// Now.
    pub now: OffsetDateTime,
    /// When the grant ends (at most 30 days on).
    pub expiration: OffsetDateTime,
}

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

/// A live session's verified grant, kept in memory so that reusing a session needs no
/// signature check. The key itself is read from the keychain every time (so a key removed
/// behind our back is noticed), and entries are only used after the metadata shows the session
/// live, so a revocation by another process takes effect at once.
struct Cached {
    auth_sig: String,
    recap: Recap,
}

/// The vault.
pub struct Vault {
    file: MetadataFile,
    store: Arc<dyn SecretStore>,
    cache: std::sync::Mutex<std::collections::HashMap<String, Cached>>,
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
            cache: Default::default(),
        };
        let done = vault.maintain(now)?;
        Ok((vault, done))
    }

    /// The metadata file's path.
    pub fn metadata_path(&self) -> std::path::PathBuf {
        self.file.path()
    }

    /// Checks that the keychain answers and is unlocked.
    pub fn check_keychain(&self) -> Result<(), VaultError> {
        Ok(self.store.check()?)
    }

    /// The history (every AuthSig signed, sessionSigs issued, revocation …), oldest first.
    pub fn history(&self) -> Result<Vec<crate::metadata::HistoryEntry>, VaultError> {
        let _held = self.file.lock()?;
        self.file.history_lines()
    }

    /// A read-only snapshot of the metadata.
    pub fn snapshot(&self) -> Result<Metadata, VaultError> {
        Ok(Metadata::clone(&*self.shared()?))
    }

    /// The metadata as last parsed, shared (no copy).
    fn shared(&self) -> Result<Arc<Metadata>, VaultError> {
        let held = self.file.lock()?;
        self.file.load_shared(&held)
    }

    /// Runs `f` on the metadata under the lock and writes the result back.
    fn edit<T>(
        &self,
        f: impl FnOnce(&mut Metadata, &dyn SecretStore) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let held = self.file.lock()?;
        let mut m = self.file.load(&held)?;
        let out = f(&mut m, self.store.as_ref())?;
        self.file.store(&held, &m)?;
        Ok(out)
    }

    /// Finishes interrupted removals, undoes interrupted creations, removes expired sessions.
    pub fn maintain(&self, now: OffsetDateTime) -> Result<Maintenance, VaultError> {
        let held = self.file.lock()?;
        let mut m = self.file.load(&held)?;
        let mut done = Maintenance::default();
        let now_text = iso(now)?;
        for s in &mut m.sessions {
            if s.state == RecordState::Live && parse_rfc3339(&s.expires_at).is_none_or(|e| e <= now)
            {
                s.state = RecordState::Retired;
                done.expired += 1;
            }
        }
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
        self.file.store(&held, &m)?;
        let mut keep_sessions = Vec::with_capacity(m.sessions.len());
        let sessions = std::mem::take(&mut m.sessions);
        for s in sessions {
            match s.state {
                RecordState::Pending | RecordState::Retired => {
                    forget(self.store.as_ref(), &session_account(&s.public_key))?;
                    if let Ok(mut cache) = self.cache.lock() {
                        cache.remove(&s.public_key);
                    }
                    if s.state == RecordState::Pending {
                        done.undone += 1;
                    } else {
                        done.finished += 1;
                        m.log(
                            &now_text,
                            "session_removed",
                            Some(&s.origin),
                            format!("session {} removed", short(&s.public_key)),
                        );
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
        self.file.store(&held, &m)?;
        Ok(done)
    }

    // ---------------------------------------------------------------- wallets

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
        self.file.store(&held, &m)?;
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
        m.log(
            &iso(now)?,
            event,
            None,
            format!("wallet {} ({label})", address.short()),
        );
        self.file.store(&held, &m)?;
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
        let m = self.snapshot()?;
        if !m
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
            Err(e) => return Err(e.into()),
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
            m.log(
                &iso(now)?,
                "wallet_exported",
                None,
                format!("wallet {} exported", address.short()),
            );
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
        m.log(
            &iso(now)?,
            "wallet_removed",
            None,
            format!(
                "wallet {} removed with {revoked} session(s)",
                address.short()
            ),
        );
        self.file.store(&held, &m)?;
        drop(held);
        self.maintain(now)?;
        Ok(revoked)
    }

    // ---------------------------------------------------------------- sessions

    /// Finds the live session for (origin, network, wallet) and says whether it covers
    /// `requests` until at least `needed_until`, without touching the keychain.
    pub fn find_session(
        &self,
        origin: &str,
        network: Network,
        wallet: &Address,
        requests: &[ResourceAbilityRequest],
        needed_until: OffsetDateTime,
    ) -> Result<Result<SessionRecord, NeedReason>, VaultError> {
        let m = self.shared()?;
        let Some(record) = m
            .sessions
            .iter()
            .find(|s| matches_key(s, origin, network, wallet) && s.state == RecordState::Live)
            .cloned()
        else {
            return Ok(Err(NeedReason::NoSession));
        };
        if parse_rfc3339(&record.expires_at).is_none_or(|e| e < needed_until) {
            return Ok(Err(NeedReason::Expired));
        }
        let cached = self.cache.lock().ok().and_then(|c| {
            c.get(&record.public_key)
                .filter(|e| e.auth_sig == record.auth_sig.sig)
                .map(|e| e.recap.clone())
        });
        let recap = match cached {
            Some(recap) => recap,
            None => {
                let recap = record
                    .auth_sig
                    .verify_signature()
                    .map(|v| v.recap)
                    .map_err(|e| {
                        VaultError::Internal(format!("stored AuthSig no longer verifies: {e}"))
                    })?;
                if let Ok(mut c) = self.cache.lock() {
                    c.insert(
                        record.public_key.clone(),
                        Cached {
                            auth_sig: record.auth_sig.sig.clone(),
                            recap: recap.clone(),
                        },
                    );
                }
                recap
            }
        };
        let missing: Vec<ResourceAbilityRequest> =
            recap.missing(requests).into_iter().cloned().collect();
        if !missing.is_empty() {
            return Ok(Err(NeedReason::Escalation {
                granted: record.granted.clone(),
                missing,
            }));
        }
        Ok(Ok(record))
    }

    /// Reads a found session's key from the keychain. A key missing there marks the session
    /// dead and says a new AuthSig is needed.
    pub fn open_session(&self, record: SessionRecord) -> Result<SessionLookup, VaultError> {
        match self.store.get(&session_account(&record.public_key)) {
            Ok(secret) => {
                let bytes: [u8; 32] = secret
                    .as_slice()
                    .try_into()
                    .map_err(|_| VaultError::KeyDamaged(record.public_key.clone()))?;
                let key = SessionKeyPair::from_seed(&SessionSeed::from_bytes(bytes));
                if key.public_key().to_hex() != record.public_key {
                    return Err(VaultError::KeyDamaged(record.public_key.clone()));
                }
                Ok(SessionLookup::Live(Box::new(LiveSession { record, key })))
            }
            Err(KeychainError::NotFound) => {
                self.edit(|m, _| {
                    for s in m
                        .sessions
                        .iter_mut()
                        .filter(|s| s.public_key == record.public_key)
                    {
                        s.state = RecordState::Dead;
                        s.dead_reason = Some("its key was missing from the keychain".into());
                    }
                    Ok(())
                })?;
                Ok(SessionLookup::NeedsAuthSig(NeedReason::KeyMissing))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Finds the live session for (origin, network, wallet) and, when it covers `requests`
    /// until at least `needed_until`, reads its key from the keychain.
    pub fn lookup_session(
        &self,
        origin: &str,
        network: Network,
        wallet: &Address,
        requests: &[ResourceAbilityRequest],
        needed_until: OffsetDateTime,
    ) -> Result<SessionLookup, VaultError> {
        match self.find_session(origin, network, wallet, requests, needed_until)? {
            Ok(record) => self.open_session(record),
            Err(reason) => Ok(SessionLookup::NeedsAuthSig(reason)),
        }
    }

    /// Creates a session: a fresh key, an AuthSig for exactly `grant`, both stored. Replaces
    /// (and revokes) the previous session of the same origin, network and wallet.
    pub fn create_session(&self, p: &NewSession<'_>) -> Result<LiveSession, VaultError> {
        if p.expiration - p.now > MAX_SESSION_LIFETIME {
            return Err(VaultError::Protocol(SignError::Lifetime));
        }
        let wallet = self.wallet_key(&p.wallet)?;
        let key = SessionKeyPair::generate();
        let public_key = key.public_key().to_hex();
        let uri = session_uri(&public_key);
        let text = message::build(&MessageParams {
            domain: p.domain,
            address: p.wallet,
            statement: p.statement,
            uri: &uri,
            chain_id: 1,
            nonce: p.nonce,
            issued_at: p.now,
            expiration: p.expiration,
            recap: &Recap::for_requests(p.grant),
        })
        .map_err(|e| VaultError::Protocol(e.into()))?;
        let auth_sig = AuthSig::sign(&wallet, text).map_err(|e| VaultError::Protocol(e.into()))?;
        let record = SessionRecord {
            public_key: public_key.clone(),
            origin: p.origin.to_owned(),
            network: p.network.as_str().to_owned(),
            wallet: p.wallet.to_checksum(),
            granted: p.grant.to_vec(),
            auth_sig,
            created_at: iso(p.now)?,
            expires_at: iso(p.expiration)?,
            state: RecordState::Pending,
            dead_reason: None,
        };

        let held = self.file.lock()?;
        let mut m = self.file.load(&held)?;
        m.sessions.push(record.clone());
        self.file.store(&held, &m)?;
        self.store
            .put(&session_account(&public_key), key.seed().as_bytes())?;
        let mut replaced = 0;
        for s in &mut m.sessions {
            if s.public_key == public_key {
                s.state = RecordState::Live;
            } else if matches_key(s, p.origin, p.network, &p.wallet)
                && s.state != RecordState::Retired
            {
                s.state = RecordState::Retired;
                replaced += 1;
            }
        }
        let lines: Vec<String> = p
            .grant
            .iter()
            .map(|r| format!("{} on {}", r.ability, r.resource))
            .collect();
        m.log(
            &iso(p.now)?,
            "authsig_signed",
            Some(p.origin),
            format!(
                "{} on {} until {}: {}",
                p.wallet.short(),
                p.network,
                record.expires_at,
                lines.join(", ")
            ),
        );
        self.file.store(&held, &m)?;
        drop(held);
        if replaced > 0 {
            self.maintain(p.now)?;
        }
        Ok(LiveSession {
            record: SessionRecord {
                state: RecordState::Live,
                ..record
            },
            key,
        })
    }

    /// Notes many issuances at once (one metadata write): `(origin, detail, when)`.
    pub fn record_issued_batch(
        &self,
        lines: &[(String, String, OffsetDateTime)],
    ) -> Result<(), VaultError> {
        if lines.is_empty() {
            return Ok(());
        }
        self.edit(|m, _| {
            for (origin, detail, at) in lines {
                m.log(
                    &iso(*at)?,
                    "session_sigs_issued",
                    Some(origin),
                    detail.clone(),
                );
            }
            Ok(())
        })
    }

    /// Notes sessionSigs handed out (for the history screen).
    pub fn record_issued(
        &self,
        origin: &str,
        detail: String,
        now: OffsetDateTime,
    ) -> Result<(), VaultError> {
        self.edit(|m, _| {
            m.log(&iso(now)?, "session_sigs_issued", Some(origin), detail);
            Ok(())
        })
    }

    /// The sessions (live and dead), in creation order.
    pub fn sessions(&self) -> Result<Vec<SessionRecord>, VaultError> {
        Ok(self
            .snapshot()?
            .sessions
            .into_iter()
            .filter(|s| matches!(s.state, RecordState::Live | RecordState::Dead))
            .collect())
    }

    /// Revokes the sessions `which` selects: their keys leave the keychain at once. Signatures
    /// already handed out stay valid at the nodes until they expire.
    pub fn revoke(&self, which: Revoke<'_>, now: OffsetDateTime) -> Result<usize, VaultError> {
        let held = self.file.lock()?;
        let mut m = self.file.load(&held)?;
        let mut count = 0;
        let at = iso(now)?;
        let mut lines = Vec::new();
        for s in m.sessions.iter_mut().filter(|s| {
            matches!(
                s.state,
                RecordState::Live | RecordState::Dead | RecordState::Pending
            )
        }) {
            let hit = match which {
                Revoke::Session(id) => s.public_key == id,
                Revoke::Origin(origin) => s.origin == origin,
                Revoke::All => true,
            };
            if hit {
                s.state = RecordState::Retired;
                count += 1;
                lines.push((
                    s.origin.clone(),
                    format!("session {} revoked", short(&s.public_key)),
                ));
            }
        }
        if let (Revoke::Session(id), 0) = (which, count) {
            return Err(VaultError::UnknownSession(id.to_owned()));
        }
        for (origin, line) in lines {
            m.log(&at, "session_revoked", Some(&origin), line);
        }
        self.file.store(&held, &m)?;
        drop(held);
        self.maintain(now)?;
        Ok(count)
    }
}

impl Vault {
    /// Issues a pairing token for a local program: `lcp_` + 64 hex, shown once; only its
    /// SHA-256 is stored. Re-pairing a name replaces its token.
    pub fn create_pairing(
        &self,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<Zeroizing<String>, VaultError> {
        let name = name.trim();
        if name.is_empty()
            || name.len() > 64
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(VaultError::Invalid(
                "a pairing name is 1-64 letters, digits, '-', '_' or '.'".into(),
            ));
        }
        let mut raw = Zeroizing::new([0u8; 32]);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, raw.as_mut_slice());
        let token = Zeroizing::new(format!("lcp_{}", hex::encode(raw.as_slice())));
        let digest = hex::encode(Sha256::digest(token.as_bytes()));
        self.edit(|m, _| {
            m.pairings.retain(|p| p.name != name);
            m.pairings.push(PairingRecord {
                name: name.to_owned(),
                token_sha256: digest,
                created_at: iso(now)?,
            });
            m.log(
                &iso(now)?,
                "pairing_created",
                None,
                format!("pairing token for {name}"),
            );
            Ok(())
        })?;
        Ok(token)
    }

    /// The name a token was issued to, compared in constant time against every stored digest.
    pub fn check_pairing(&self, token: &str) -> Result<Option<PairingRecord>, VaultError> {
        let digest = Sha256::digest(token.as_bytes());
        let mut found = None;
        for p in self.snapshot()?.pairings {
            let Ok(stored) = hex::decode(&p.token_sha256) else {
                continue;
            };
            if bool::from(stored.as_slice().ct_eq(digest.as_ref())) {
                found = Some(p);
            }
        }
        Ok(found)
    }

    /// The pairings (names and dates only).
    pub fn pairings(&self) -> Result<Vec<PairingRecord>, VaultError> {
        Ok(self.snapshot()?.pairings)
    }

    /// Withdraws a pairing token.
    pub fn revoke_pairing(&self, name: &str, now: OffsetDateTime) -> Result<(), VaultError> {
        self.edit(|m, _| {
            let before = m.pairings.len();
            m.pairings.retain(|p| p.name != name);
            if m.pairings.len() == before {
                return Err(VaultError::Invalid(format!("no pairing named {name}")));
            }
            m.log(
                &iso(now)?,
                "pairing_revoked",
                None,
                format!("pairing token for {name}"),
            );
            Ok(())
        })
    }
}

/// Which sessions to revoke.
#[derive(Debug, Clone, Copy)]
pub enum Revoke<'a> {
    /// One session, by public key.
    Session(&'a str),
    /// Every session of an origin.
    Origin(&'a str),
    /// Everything.
    All,
}

fn matches_key(s: &SessionRecord, origin: &str, network: Network, wallet: &Address) -> bool {
    s.origin == origin && s.network == network.as_str() && s.wallet == wallet.to_checksum()
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

fn iso(t: OffsetDateTime) -> Result<String, VaultError> {
    iso_millis(t).map_err(|e| VaultError::Invalid(e.to_string()))
}

fn short(public_key: &str) -> String {
    format!("{}…", public_key.get(..8).unwrap_or(public_key))
}
