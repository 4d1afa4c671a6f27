//! Sessions: one per (origin, network, wallet), reused until it expires or a request asks for
//! more than its AuthSig grants.
//!
//! [`Vault::session_for`] is the one place that decides between reusing a session and asking
//! the user; the engine (every road) and the CLI both call it, and both create what the user
//! approved with [`Vault::create_session`].

use std::{fmt, sync::Arc};

use lit_companion_session::{
    message::SessionMessage, resource::list_requests, session_sigs::MAX_SESSION_LIFETIME,
    timefmt::parse_rfc3339, Address, AuthSig, ResourceAbilityRequest, SessionKeyPair, SessionSeed,
    SignError,
};
use time::OffsetDateTime;

use super::{iso, live::LiveSession, matches_key, session_account, short, Vault};
use crate::{
    error::VaultError,
    history,
    keychain::KeychainError,
    metadata::{RecordState, SessionRecord},
};

/// Whose session: the grant key (a verified origin, `unverified:<origin>` or
/// `pairing:<name>`), the network and the signing wallet.
#[derive(Debug, Clone, Copy)]
pub struct Grantee<'a> {
    /// The grant key.
    pub origin: &'a str,
    /// The network's name.
    pub network: &'a str,
    /// The signing wallet.
    pub wallet: Address,
}

/// What a request needs from a session.
#[derive(Debug, Clone, Copy)]
pub struct Need<'a> {
    /// The capabilities asked for.
    pub requests: &'a [ResourceAbilityRequest],
    /// The session must last at least until then.
    pub until: OffsetDateTime,
    /// Naga: the most a request may pay (wei); a session approved for less must ask again.
    pub max_price_wei: Option<u128>,
}

/// A session made but not stored: its key (in memory only, zeroized on drop) and the SIWE
/// message a browser wallet is to sign. See [`Vault::prepare_session`].
pub struct PreparedSession {
    origin: String,
    network: String,
    wallet: Address,
    grant: Vec<ResourceAbilityRequest>,
    key: SessionKeyPair,
    message: String,
    now: OffsetDateTime,
    expiration: OffsetDateTime,
    max_price_wei: Option<u128>,
}

impl PreparedSession {
    /// The exact text the wallet is to sign (EIP-4361, with the session key as `uri`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The wallet that is to sign.
    pub fn wallet(&self) -> Address {
        self.wallet
    }
}

impl fmt::Debug for PreparedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreparedSession")
            .field("origin", &self.origin)
            .field("network", &self.network)
            .field("wallet", &self.wallet)
            .field("public_key", &self.key.public_key().to_hex())
            .finish_non_exhaustive()
    }
}

/// What [`Vault::session_for`] decided.
#[derive(Debug)]
pub enum Issuance {
    /// A live session covers the request: reuse it, no prompt.
    Live(Arc<LiveSession>),
    /// A new AuthSig is needed: ask the user about [`Ask::new`].
    Ask(Ask),
}

/// A question for the user, and what approving it grants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ask {
    /// Why a new AuthSig is needed.
    pub reason: NeedReason,
    /// What the live session already grants (kept on approval; empty when there is none).
    pub granted: Vec<ResourceAbilityRequest>,
    /// What is new: the only lines the user is asked about.
    pub new: Vec<ResourceAbilityRequest>,
    /// What the new AuthSig grants on approval: `granted` plus everything requested.
    pub grant: Vec<ResourceAbilityRequest>,
}

impl Ask {
    /// The question for a caller whose identity is only claimed: about everything requested,
    /// every time, whatever was granted before.
    pub fn unverified(requests: &[ResourceAbilityRequest]) -> Self {
        Self::all(NeedReason::Unverified, requests)
    }

    /// A question about everything requested: there is no live grant to keep.
    fn all(reason: NeedReason, requests: &[ResourceAbilityRequest]) -> Self {
        let grant = merged(&[], requests);
        Self {
            reason,
            granted: Vec::new(),
            new: grant.clone(),
            grant,
        }
    }

    /// An escalation: the grant is kept, the user is asked only about what it does not cover.
    fn escalation(
        granted: &[ResourceAbilityRequest],
        missing: Vec<ResourceAbilityRequest>,
        requests: &[ResourceAbilityRequest],
    ) -> Self {
        Self {
            reason: NeedReason::Escalation,
            granted: granted.to_vec(),
            new: missing,
            grant: merged(granted, requests),
        }
    }
}

/// `granted` plus whatever of `requests` it does not list: an approval never shrinks a grant.
fn merged(
    granted: &[ResourceAbilityRequest],
    requests: &[ResourceAbilityRequest],
) -> Vec<ResourceAbilityRequest> {
    let mut grant = granted.to_vec();
    for r in requests {
        if !grant.contains(r) {
            grant.push(r.clone());
        }
    }
    grant
}

/// "asks for more than was granted: pkp-signing on lit-pkp://…": the reason, and for an
/// escalation what is new.
impl fmt::Display for Ask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            NeedReason::Escalation => write!(f, "{}: {}", self.reason, list_requests(&self.new)),
            _ => self.reason.fmt(f),
        }
    }
}

/// Why a new AuthSig is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NeedReason {
    /// This origin has no session on this network with this wallet.
    NoSession,
    /// The session expired (or has less time left than asked for).
    Expired,
    /// The request asks for more than was granted ([`Ask::new`] says what).
    Escalation,
    /// The session key vanished from the keychain; the record was marked dead.
    KeyMissing,
    /// The request may pay more per request than the user approved.
    Price,
    /// The caller's identity is only claimed (a deep link): it is confirmed every time.
    Unverified,
}

impl fmt::Display for NeedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoSession => "no session yet",
            Self::Expired => "the session expired",
            Self::Escalation => "asks for more than was granted",
            Self::KeyMissing => "the session key is missing from the keychain",
            Self::Price => "may pay more per request than was approved",
            Self::Unverified => "a link's claim is confirmed every time",
        })
    }
}

/// What a new session's AuthSig says besides whose it is and what it grants.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// The SIWE domain: the origin's host (`app.example.com`).
    pub domain: &'a str,
    /// The app's statement.
    pub statement: &'a str,
    /// The SIWE nonce (the latest block hash the network's nodes agree on).
    pub nonce: &'a str,
    /// Now.
    pub now: OffsetDateTime,
    /// When the grant ends (at most 30 days on).
    pub expiration: OffsetDateTime,
    /// Naga: the most a request may pay (wei), as approved.
    pub max_price_wei: Option<u128>,
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

/// Whether a request paying up to `asked` stays within the `approved` price (decimal wei).
/// A session approved without a price (Datil, or an older record) covers only requests that
/// pay nothing.
fn price_within(asked: Option<u128>, approved: Option<&str>) -> bool {
    match asked {
        None => true,
        Some(asked) => approved
            .and_then(|a| a.parse::<u128>().ok())
            .is_some_and(|approved| asked <= approved),
    }
}

impl Vault {
    /// Reuse, or ask: the live session of `who` when it covers `requests` until at least
    /// `needed_until`, else what to ask the user. A covering session's key comes from memory
    /// when it is there, else from the keychain (once); a key missing there marks the session
    /// dead. No file is written on the way to a reuse.
    pub fn session_for(&self, who: &Grantee<'_>, need: &Need<'_>) -> Result<Issuance, VaultError> {
        self.decide(who, need, true)?
            .ok_or_else(|| VaultError::Internal("no decision without the keychain".into()))
    }

    /// [`Vault::session_for`] when it can answer without the keychain (a reuse whose key is in
    /// memory, or a question); `None` when the answer needs a keychain read. Cheap enough for
    /// an async task: a `stat` of the metadata and a map lookup.
    pub fn session_from_memory(
        &self,
        who: &Grantee<'_>,
        need: &Need<'_>,
    ) -> Result<Option<Issuance>, VaultError> {
        self.decide(who, need, false)
    }

    fn decide(
        &self,
        who: &Grantee<'_>,
        need: &Need<'_>,
        keychain: bool,
    ) -> Result<Option<Issuance>, VaultError> {
        let (requests, needed_until) = (need.requests, need.until);
        let ask = |reason| Ok(Some(Issuance::Ask(Ask::all(reason, requests))));
        let m = self.shared()?;
        let Some(record) = m.sessions.iter().find(|s| {
            matches_key(s, who.origin, who.network, &who.wallet) && s.state == RecordState::Live
        }) else {
            return ask(NeedReason::NoSession);
        };
        if parse_rfc3339(&record.expires_at).is_none_or(|e| e < needed_until) {
            return ask(NeedReason::Expired);
        }
        let missing = self
            .live
            .missing(record, requests)
            .map_err(|e| VaultError::Internal(format!("stored AuthSig no longer verifies: {e}")))?;
        if !missing.is_empty() {
            return Ok(Some(Issuance::Ask(Ask::escalation(
                &record.granted,
                missing,
                requests,
            ))));
        }
        if !price_within(need.max_price_wei, record.max_price_wei.as_deref()) {
            return Ok(Some(Issuance::Ask(Ask {
                reason: NeedReason::Price,
                granted: record.granted.clone(),
                new: Vec::new(),
                grant: record.granted.clone(),
            })));
        }
        if let Some(live) = self.live.get(record) {
            return Ok(Some(Issuance::Live(live)));
        }
        if !keychain {
            return Ok(None);
        }
        let record = record.clone();
        drop(m);
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
                let live = Arc::new(LiveSession::new(record, key)?);
                self.live.insert(live.clone());
                Ok(Some(Issuance::Live(live)))
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
                ask(NeedReason::KeyMissing)
            }
            Err(e) => Err(self.keychain_failed(e)),
        }
    }

    /// Creates a session for `who` with a local wallet: a fresh key, an AuthSig (EIP-191 by
    /// the wallet over the session SIWE) for exactly `grant`, both stored — durably, before
    /// this returns. Replaces (and revokes) the previous session of the same origin, network
    /// and wallet. The caller has the user's approval for `grant`.
    pub fn create_session(
        &self,
        who: &Grantee<'_>,
        grant: &[ResourceAbilityRequest],
        p: &NewSession<'_>,
    ) -> Result<Arc<LiveSession>, VaultError> {
        let prepared = self.prepare_session(who, grant, p)?;
        let wallet = self.wallet_key(&who.wallet)?;
        let auth_sig = AuthSig::sign(&wallet, prepared.message.clone())
            .map_err(|e| VaultError::Protocol(e.into()))?;
        self.store_session(prepared, auth_sig, None)
    }

    /// The first half of a session a browser wallet signs: a fresh key (held in memory only)
    /// and the session SIWE for exactly `grant`, which the wallet is to sign. Nothing is
    /// stored until [`Vault::finish_external_session`].
    pub fn prepare_session(
        &self,
        who: &Grantee<'_>,
        grant: &[ResourceAbilityRequest],
        p: &NewSession<'_>,
    ) -> Result<PreparedSession, VaultError> {
        if p.expiration - p.now > MAX_SESSION_LIFETIME {
            return Err(VaultError::Protocol(SignError::Lifetime));
        }
        let key = SessionKeyPair::generate();
        let public_key = key.public_key().to_hex();
        let message = SessionMessage {
            domain: p.domain,
            address: who.wallet,
            statement: p.statement,
            session_key: &public_key,
            nonce: p.nonce,
            issued_at: p.now,
            expiration: p.expiration,
            grant,
        }
        .build()
        .map_err(|e| VaultError::Protocol(e.into()))?;
        Ok(PreparedSession {
            origin: who.origin.to_owned(),
            network: who.network.to_owned(),
            wallet: who.wallet,
            grant: grant.to_vec(),
            key,
            message,
            now: p.now,
            expiration: p.expiration,
            max_price_wei: p.max_price_wei,
        })
    }

    /// The second half: `signature` is the browser wallet's `personal_sign` over the prepared
    /// message. Accepted only when it recovers (EIP-191) to the session's wallet over exactly
    /// that text; then the wallet (when `add_as` names it: new to the vault, the user approved
    /// adding it) and the session are stored as [`Vault::create_session`] stores them. On any
    /// error nothing is stored.
    pub fn finish_external_session(
        &self,
        prepared: PreparedSession,
        signature: &str,
        add_as: Option<&str>,
    ) -> Result<Arc<LiveSession>, VaultError> {
        let auth_sig =
            AuthSig::from_wallet_signature(prepared.message.clone(), signature, prepared.wallet)
                .map_err(VaultError::WalletSignature)?;
        let add_as = add_as.map(super::wallets::clean_label).transpose()?;
        self.store_session(prepared, auth_sig, add_as.as_deref())
    }

    /// Stores a session whose AuthSig is made: the record (pending), the key in the keychain,
    /// then the record live, the previous session of the same key retired and the approval in
    /// the history. A browser wallet named by `add_external` is recorded in the same write.
    fn store_session(
        &self,
        prepared: PreparedSession,
        auth_sig: AuthSig,
        add_external: Option<&str>,
    ) -> Result<Arc<LiveSession>, VaultError> {
        let PreparedSession {
            origin,
            network,
            wallet,
            grant,
            key,
            message: _,
            now,
            expiration,
            max_price_wei,
        } = prepared;
        let who = Grantee {
            origin: &origin,
            network: &network,
            wallet,
        };
        let public_key = key.public_key().to_hex();
        let record = SessionRecord {
            public_key: public_key.clone(),
            origin: who.origin.to_owned(),
            network: who.network.to_owned(),
            wallet: who.wallet.to_checksum(),
            granted: grant,
            auth_sig,
            created_at: iso(now)?,
            expires_at: iso(expiration)?,
            state: RecordState::Pending,
            dead_reason: None,
            max_price_wei: max_price_wei.map(|w| w.to_string()),
        };
        // What the caller gets back, checked before anything is stored.
        let live = Arc::new(LiveSession::new(
            SessionRecord {
                state: RecordState::Live,
                ..record.clone()
            },
            key,
        )?);

        let held = self.file.lock()?;
        let mut m = self.file.load(&held)?;
        let known = m
            .wallets
            .iter()
            .any(|w| w.state == RecordState::Live && w.address == record.wallet);
        // A browser wallet that is not (or no longer) in the vault: added now if the user
        // approved adding it, else it was removed while it was signing.
        let add = match (known, add_external) {
            (true, _) => None,
            (false, Some(label)) => Some(label),
            (false, None) => return Err(VaultError::UnknownWallet(record.wallet.clone())),
        };
        m.sessions.push(record.clone());
        self.file.store(&held, &mut m)?;
        if let Err(e) = self
            .store
            .put(&session_account(&public_key), live.key().seed().as_bytes())
        {
            return Err(self.keychain_failed(e));
        }
        let mut replaced = 0;
        for s in &mut m.sessions {
            if s.public_key == public_key {
                s.state = RecordState::Live;
            } else if matches_key(s, who.origin, who.network, &who.wallet)
                && s.state != RecordState::Retired
            {
                s.state = RecordState::Retired;
                replaced += 1;
            }
        }
        if let Some(label) = add {
            super::wallets::add_external(&mut m, &wallet, label, now)?;
        }
        m.log(history::approved(&iso(now)?, &record, expiration - now));
        self.file.store(&held, &mut m)?;
        drop(held);
        if replaced > 0 {
            self.maintain(now)?;
        }
        self.live.insert(live.clone());
        Ok(live)
    }

    /// Counts one hand-out of `live`'s signatures inside its grant (in memory; written by
    /// [`Vault::flush_reuse`]).
    pub fn note_reuse(&self, live: &LiveSession) {
        self.live.count_reuse(live);
    }

    /// Writes the reuse counts gathered since the last call, one history line per session.
    /// The companion calls this about once a second and at shutdown; counts that cannot be
    /// written are kept for the next call.
    pub fn flush_reuse(&self, now: OffsetDateTime) -> Result<usize, VaultError> {
        let counts = self.live.take_reuse();
        if counts.is_empty() {
            return Ok(0);
        }
        let at = iso(now)?;
        let lines: Vec<_> = counts
            .iter()
            .map(|(key, r)| history::reused(&at, &r.grant_key, &short(key), &r.network, r.count))
            .collect();
        let written = self
            .file
            .lock()
            .and_then(|held| self.file.append_history(&held, &lines));
        match written {
            Ok(()) => Ok(lines.len()),
            Err(e) => {
                self.live.restore_reuse(counts);
                Err(e)
            }
        }
    }

    /// Drops every session key held in memory (the bridge paused, the companion quits). The
    /// next request reads its key from the keychain again.
    pub fn forget_keys(&self) {
        self.live.forget_all();
    }

    /// The sessions (live and dead), in creation order.
    pub fn sessions(&self) -> Result<Vec<SessionRecord>, VaultError> {
        Ok(self
            .shared()?
            .sessions
            .iter()
            .filter(|s| matches!(s.state, RecordState::Live | RecordState::Dead))
            .cloned()
            .collect())
    }

    /// Revokes the sessions `which` selects: their keys leave memory and the keychain at once.
    /// Signatures already handed out stay valid at the nodes until they expire.
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
                self.live.forget(&s.public_key);
                lines.push(history::revoked(
                    &at,
                    &s.origin,
                    &short(&s.public_key),
                    &s.network,
                ));
            }
        }
        if let (Revoke::Session(id), 0) = (which, count) {
            return Err(VaultError::UnknownSession(id.to_owned()));
        }
        for line in lines {
            m.log(line);
        }
        self.file.store(&held, &mut m)?;
        drop(held);
        self.maintain(now)?;
        Ok(count)
    }
}
