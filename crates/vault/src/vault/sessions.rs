//! Sessions: one per (origin, network, wallet), reused until it expires or a request asks for
//! more than its AuthSig grants.
//!
//! [`Vault::session_for`] is the one place that decides between reusing a session and asking
//! the user; the engine (every road) and the CLI both call it, and both create what the user
//! approved with [`Vault::create_session`] ([`super::create`]). Reuse counts and revocation are
//! here too.

use std::{fmt, sync::Arc};

use lit_companion_session::{
    resource::list_requests, Address, ResourceAbilityRequest, SessionKeyPair, SessionSeed,
};
use time::OffsetDateTime;

use super::{iso, live::LiveSession, matches_key, session_account, short, Vault};
use crate::{
    error::VaultError,
    history,
    keychain::KeychainError,
    metadata::{Metadata, RecordState, SessionRecord},
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

/// How long a reused session must still last to be handed out: one about to end is not
/// worth handing out (the caller would be back within the minute).
pub const REUSE_MARGIN: time::Duration = time::Duration::minutes(1);

impl<'a> Need<'a> {
    /// What a request made at `now` needs: `requests`, lasting [`REUSE_MARGIN`] beyond `now`,
    /// at up to `max_price_wei`.
    pub fn at(
        requests: &'a [ResourceAbilityRequest],
        now: OffsetDateTime,
        max_price_wei: Option<u128>,
    ) -> Self {
        Self {
            requests,
            until: now + REUSE_MARGIN,
            max_price_wei,
        }
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
    /// The live session whose grant this approval re-signs (an escalation or a higher
    /// price); `None` when nothing granted is kept.
    pub replaces: Option<Replaced>,
}

/// What the live session an approval replaces was approved for: its `granted` lines end at
/// `until` today, and approving re-signs them with the lifetime the user chooses now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replaced {
    /// When its grant ends.
    pub until: OffsetDateTime,
    /// Naga: the most each request may pay under it (wei); `None` when it may pay nothing.
    pub max_price_wei: Option<lit_companion_session::Wei>,
}

impl Replaced {
    fn of(record: &SessionRecord) -> Self {
        Self {
            until: record.expires_at.at(),
            max_price_wei: record.max_price_wei,
        }
    }
}

impl Ask {
    /// The question for a caller whose identity is only claimed: about everything requested,
    /// every time, whatever was granted before.
    pub fn unverified(requests: &[ResourceAbilityRequest]) -> Self {
        Self::all(NeedReason::Unverified, requests)
    }

    /// The question when the page's own wallet signs: the page's script refuses a message that
    /// grants anything beyond its request (docs/threat-model.md, "The companion proves itself
    /// before a wallet signs"), so the grant is exactly what is requested, all of it asked
    /// about, and a live grant is left as it is rather than re-signed.
    pub fn only_requested(self, requests: &[ResourceAbilityRequest]) -> Self {
        Self::all(self.reason, requests)
    }

    /// A question about everything requested: there is no live grant to keep.
    fn all(reason: NeedReason, requests: &[ResourceAbilityRequest]) -> Self {
        let grant = merged(&[], requests);
        Self {
            reason,
            granted: Vec::new(),
            new: grant.clone(),
            grant,
            replaces: None,
        }
    }

    /// An escalation: the grant is kept, the user is asked only about what it does not cover.
    fn escalation(
        live: &SessionRecord,
        missing: Vec<ResourceAbilityRequest>,
        requests: &[ResourceAbilityRequest],
    ) -> Self {
        Self {
            reason: NeedReason::Escalation,
            granted: live.granted.clone(),
            new: missing,
            grant: merged(&live.granted, requests),
            replaces: Some(Replaced::of(live)),
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
fn price_within(asked: Option<u128>, approved: Option<lit_companion_session::Wei>) -> bool {
    match asked {
        None => true,
        Some(asked) => approved.is_some_and(|approved| asked <= approved.0),
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
        if record.expires_at.at() < needed_until {
            return ask(NeedReason::Expired);
        }
        let missing = self
            .live
            .missing(record, requests)
            .map_err(|e| VaultError::Internal(format!("stored AuthSig no longer verifies: {e}")))?;
        if !missing.is_empty() {
            return Ok(Some(Issuance::Ask(Ask::escalation(
                record, missing, requests,
            ))));
        }
        if !price_within(need.max_price_wei, record.max_price_wei) {
            return Ok(Some(Issuance::Ask(Ask {
                reason: NeedReason::Price,
                granted: record.granted.clone(),
                new: Vec::new(),
                grant: record.granted.clone(),
                replaces: Some(Replaced::of(record)),
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
        let count = self.retire(&mut m, which, now)?;
        if let (Revoke::Session(id), 0) = (which, count) {
            return Err(VaultError::UnknownSession(id.to_owned()));
        }
        self.file.store(&held, &mut m)?;
        drop(held);
        self.maintain(now)?;
        Ok(count)
    }

    /// Marks the sessions `which` selects `Retired` in `m` (with a history line each) and drops
    /// their keys from memory; [`Vault::maintain`] then takes their keys out of the keychain
    /// once `m` is stored. The number marked.
    pub(super) fn retire(
        &self,
        m: &mut Metadata,
        which: Revoke<'_>,
        now: OffsetDateTime,
    ) -> Result<usize, VaultError> {
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
                self.live.forget(&s.public_key);
                lines.push(history::revoked(
                    &at,
                    &s.origin,
                    &short(&s.public_key),
                    &s.network,
                ));
            }
        }
        let count = lines.len();
        for line in lines {
            m.log(line);
        }
        Ok(count)
    }
}
