//! Live session keys held in memory, and how often each was reused.
//!
//! A request inside a live grant must cost no keychain round trip and no file write: the key is
//! read from the keychain once and kept here (zeroized on drop) until its session expires, is
//! revoked, the bridge pauses, the keychain locks or the companion quits. Entries are used only
//! after the metadata shows their session live, so a revocation by another process takes
//! effect at once; the maintenance tick then drops the key from memory too.
//!
//! Reuse is counted here and written to the history as one line per session at most once a
//! second ([`super::Vault::flush_reuse`]).

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex, MutexGuard},
};

use lit_companion_session::{
    session_sigs::{SessionGrant, SessionParams, SessionSigs},
    AuthSig, Generation, Recap, ResourceAbilityRequest, SessionKeyPair,
};
use time::OffsetDateTime;

use crate::{error::VaultError, metadata::SessionRecord};

/// A session ready to sign: its record, its key, and its AuthSig checked once for that key.
pub struct LiveSession {
    /// The stored record.
    pub record: SessionRecord,
    key: SessionKeyPair,
    grant: SessionGrant,
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
    /// Checks the record's AuthSig for `key` once (signature, `uri`, ReCap); every later
    /// signature needs no recovery.
    pub(crate) fn new(record: SessionRecord, key: SessionKeyPair) -> Result<Self, VaultError> {
        let grant = match &record.pkp {
            None => SessionGrant::check(&record.auth_sig, &key)?,
            Some(pkp) => {
                let network_key = pkp
                    .network_key
                    .parse::<lit_companion_session::bls::NetworkKey>()
                    .map_err(|_| VaultError::KeyDamaged(record.public_key.clone()))?;
                SessionGrant::check_network(
                    &record.auth_sig,
                    &key,
                    &network_key,
                    OffsetDateTime::now_utc(),
                )?
            }
        };
        Ok(Self { record, key, grant })
    }

    /// The session key.
    pub fn key(&self) -> &SessionKeyPair {
        &self.key
    }

    /// When the AuthSig expires.
    pub fn expires_at(&self) -> Option<OffsetDateTime> {
        Some(self.record.expires_at.at())
    }

    /// The expiration the sessionSigs carry when `wanted` is asked for: capped at the
    /// AuthSig's.
    pub fn expiration_for(&self, wanted: OffsetDateTime) -> Result<OffsetDateTime, VaultError> {
        let cap = self
            .expires_at()
            .ok_or_else(|| VaultError::Internal("stored expiry does not parse".into()))?;
        Ok(wanted.min(cap))
    }

    /// Signs sessionSigs for `r.nodes`: ed25519 over each node's exact `signedMessage` bytes.
    /// The expiration is capped at the AuthSig's ([`LiveSession::expiration_for`]), and the
    /// requests must lie within the grant (the core refuses otherwise).
    pub fn sign(&self, r: &SignRequest<'_>) -> Result<SessionSigs, VaultError> {
        Ok(self.grant.sign(&SessionParams {
            generation: r.generation,
            session_key: &self.key,
            requests: r.requests,
            wallet_auth_sig: &self.record.auth_sig,
            delegation_auth_sigs: r.delegations,
            issued_at: r.now,
            expiration: self.expiration_for(r.expiration)?,
            node_urls: r.nodes,
            max_price_wei: r.max_price_wei,
        })?)
    }
}

/// What [`LiveSession::sign`] signs.
#[derive(Debug, Clone)]
pub struct SignRequest<'a> {
    /// The network's generation (it picks the format).
    pub generation: Generation,
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

/// A live session's verified grant: reusing a session needs no signature check.
struct Verified {
    sig: String,
    recap: Recap,
}

/// Reuses of one session since the last flush.
pub(crate) struct Reuse {
    pub(crate) grant_key: String,
    pub(crate) network: String,
    pub(crate) count: u64,
}

#[derive(Default)]
struct Inner {
    keys: HashMap<String, Arc<LiveSession>>,
    verified: HashMap<String, Verified>,
    reuse: HashMap<String, Reuse>,
}

/// The in-memory part of the vault.
#[derive(Default)]
pub(crate) struct LiveKeys {
    inner: Mutex<Inner>,
}

impl LiveKeys {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock leaves only caches behind: keep going.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The key of a session whose record (with this AuthSig) the metadata shows live.
    pub(crate) fn get(&self, record: &SessionRecord) -> Option<Arc<LiveSession>> {
        self.lock()
            .keys
            .get(&record.public_key)
            .filter(|l| l.record.auth_sig.sig == record.auth_sig.sig)
            .cloned()
    }

    pub(crate) fn insert(&self, live: Arc<LiveSession>) {
        self.lock()
            .keys
            .insert(live.record.public_key.clone(), live);
    }

    /// What of `requests` a stored AuthSig does not grant. Its signature is checked once per
    /// AuthSig; later calls only compare against the ReCap kept here.
    pub(crate) fn missing(
        &self,
        record: &SessionRecord,
        requests: &[ResourceAbilityRequest],
    ) -> Result<Vec<ResourceAbilityRequest>, lit_companion_session::AuthSigError> {
        let uncovered = |recap: &Recap| recap.missing(requests).into_iter().cloned().collect();
        if let Some(v) = self.lock().verified.get(&record.public_key) {
            if v.sig == record.auth_sig.sig {
                return Ok(uncovered(&v.recap));
            }
        }
        let recap = stored_recap(record)?;
        let missing = uncovered(&recap);
        self.lock().verified.insert(
            record.public_key.clone(),
            Verified {
                sig: record.auth_sig.sig.clone(),
                recap,
            },
        );
        Ok(missing)
    }

    /// Drops one session's key.
    pub(crate) fn forget(&self, public_key: &str) {
        let mut inner = self.lock();
        inner.keys.remove(public_key);
        inner.verified.remove(public_key);
    }

    /// Drops every key (pause, keychain locked, quit). Reuse counts stay until flushed.
    pub(crate) fn forget_all(&self) {
        let mut inner = self.lock();
        inner.keys.clear();
        inner.verified.clear();
    }

    /// Keeps only the keys `keep` says yes to.
    pub(crate) fn retain(&self, keep: impl Fn(&str) -> bool) {
        let mut inner = self.lock();
        inner.keys.retain(|k, _| keep(k));
        inner.verified.retain(|k, _| keep(k));
    }

    /// Counts one reuse of `live`.
    pub(crate) fn count_reuse(&self, live: &LiveSession) {
        let r = &live.record;
        add_reuse(
            &mut self.lock().reuse,
            &r.public_key,
            &r.origin,
            &r.network,
            1,
        );
    }

    /// Takes the counts gathered since the last call.
    pub(crate) fn take_reuse(&self) -> HashMap<String, Reuse> {
        std::mem::take(&mut self.lock().reuse)
    }

    /// Puts counts back after a failed write.
    pub(crate) fn restore_reuse(&self, counts: HashMap<String, Reuse>) {
        let mut inner = self.lock();
        for (key, r) in counts {
            add_reuse(&mut inner.reuse, &key, &r.grant_key, &r.network, r.count);
        }
    }
}

fn add_reuse(
    counts: &mut HashMap<String, Reuse>,
    public_key: &str,
    grant_key: &str,
    network: &str,
    n: u64,
) {
    // The common case (a session already counted) allocates nothing.
    if let Some(r) = counts.get_mut(public_key) {
        r.count += n;
        return;
    }
    counts.insert(
        public_key.to_owned(),
        Reuse {
            grant_key: grant_key.to_owned(),
            network: network.to_owned(),
            count: n,
        },
    );
}

/// The ReCap a stored session's AuthSig grants, its signature checked: the wallet's (EIP-191),
/// or for a PKP session the network's (`LIT_BLS`, against the network key it was verified
/// against when stored, at the time of asking).
fn stored_recap(record: &SessionRecord) -> Result<Recap, lit_companion_session::AuthSigError> {
    match &record.pkp {
        None => Ok(record.auth_sig.verify_signature()?.recap),
        Some(pkp) => {
            let network_key = pkp
                .network_key
                .parse::<lit_companion_session::bls::NetworkKey>()
                .map_err(lit_companion_session::AuthSigError::Bls)?;
            Ok(record
                .auth_sig
                .verify_lit_bls(
                    &network_key,
                    &lit_companion_session::message::session_uri(&record.public_key),
                    OffsetDateTime::now_utc(),
                )?
                .recap)
        }
    }
}
