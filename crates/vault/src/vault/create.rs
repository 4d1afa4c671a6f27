//! New sessions, once the user approved a grant: a fresh session key and the wallet's AuthSig
//! for exactly that grant, stored durably before anything is handed out — signed here by a
//! local wallet ([`Vault::create_session`]), or prepared for a browser wallet to sign in the page
//! and finished with its signature ([`Vault::prepare_session`],
//! [`Vault::finish_external_session`]).

use std::{fmt, sync::Arc};

use lit_companion_session::{
    message::{SessionMessage, PKP_SESSION_STATEMENT},
    session_sigs::MAX_SESSION_LIFETIME,
    Address, AuthSig, PkpPublicKey, ResourceAbilityRequest, SessionKeyPair, SignError,
};
use time::OffsetDateTime;
use zeroize::Zeroizing;

use super::{
    iso, live::LiveSession, matches_key, pkp_auth_account, session_account, sessions::Grantee,
    Vault,
};
use crate::{
    error::VaultError,
    history,
    keychain::KeychainError,
    metadata::{PkpSessionRecord, RecordState, SessionRecord},
};

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

    /// The session's public key (64 hex).
    pub fn public_key(&self) -> String {
        self.key.public_key().to_hex()
    }

    /// When the grant ends, as approved.
    pub fn expiration(&self) -> OffsetDateTime {
        self.expiration
    }

    /// What the grant holds, as approved.
    pub fn grant(&self) -> &[ResourceAbilityRequest] {
        &self.grant
    }
}

/// What finishes a PKP session: the network's `LIT_BLS` AuthSig over the prepared message (or
/// the nodes' rebuilt form of it), checked by the caller against the network key named here,
/// and the wallet's auth-method AuthSig that the nodes accepted, kept for the next session.
/// `Debug` leaves the sign-in out: it is a bearer credential for the PKP.
pub struct PkpSigned {
    /// `algo: LIT_BLS`, verified against `record.network_key`.
    pub auth_sig: AuthSig,
    /// The network key and the wallet that signed in.
    pub record: PkpSessionRecord,
    /// The wallet's auth-method AuthSig (a bearer credential for the PKP: keychain only);
    /// `None` when a Lit Action authorized the PKP.
    pub auth_method: Option<AuthSig>,
}

impl fmt::Debug for PkpSigned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PkpSigned")
            .field("record", &self.record)
            .field("signed_in", &self.auth_method.is_some())
            .finish_non_exhaustive()
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

impl Vault {
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
        self.store_session(prepared, auth_sig, None, None)
    }

    /// The first half of a PKP session: a fresh key and the session SIWE the network is to
    /// sign for the PKP `who.wallet` (SDK `signSessionKey`: [`PKP_SESSION_STATEMENT`], the
    /// PKP's address, `uri` = the session key, the ReCap of exactly `grant`). The app's own
    /// statement is not used: nodes sign only this statement's form.
    pub fn prepare_pkp_session(
        &self,
        who: &Grantee<'_>,
        pkp: &PkpPublicKey,
        grant: &[ResourceAbilityRequest],
        p: &NewSession<'_>,
    ) -> Result<PreparedSession, VaultError> {
        if pkp.address() != who.wallet {
            return Err(VaultError::Invalid(format!(
                "PKP {} is not {}",
                pkp.address(),
                who.wallet
            )));
        }
        self.prepare_session(
            who,
            grant,
            &NewSession {
                statement: PKP_SESSION_STATEMENT,
                ..p.clone()
            },
        )
    }

    /// The second half: stores the session with the network's AuthSig (the caller verified it
    /// against the network key and checked what it grants against `prepared`), and the
    /// auth-method AuthSig in the keychain beside the session key.
    pub fn finish_pkp_session(
        &self,
        prepared: PreparedSession,
        signed: PkpSigned,
    ) -> Result<Arc<LiveSession>, VaultError> {
        let PkpSigned {
            auth_sig,
            record,
            auth_method,
        } = signed;
        // The session lasts as long as the network's signature says, never longer than
        // approved: nodes may end it sooner.
        let network_key = record
            .network_key
            .parse::<lit_companion_session::bls::NetworkKey>()
            .map_err(|e| VaultError::Protocol(SignError::AuthSig(e.into())))?;
        let verified = auth_sig
            .verify_lit_bls(
                &network_key,
                &lit_companion_session::message::session_uri(&prepared.public_key()),
                prepared.now,
            )
            .map_err(|e| VaultError::Protocol(SignError::AuthSig(e)))?;
        let mut prepared = prepared;
        if let Some(ends) = verified.message.expiration_time.as_ref() {
            prepared.expiration = prepared.expiration.min(*ends.as_ref());
        }
        self.store_session(prepared, auth_sig, None, Some((record, auth_method)))
    }

    /// The auth-method AuthSig that made `who`'s newest PKP session, while it stays valid past
    /// `until` and was signed by `auth`: the nodes accept it again, so an escalation or a
    /// renewal needs no new signature from the wallet. `None` otherwise.
    pub fn pkp_auth_method(
        &self,
        who: &Grantee<'_>,
        auth: &Address,
        until: OffsetDateTime,
    ) -> Result<Option<AuthSig>, VaultError> {
        let m = self.shared()?;
        let Some(record) = m.sessions.iter().rev().find(|s| {
            matches_key(s, who.origin, who.network, &who.wallet)
                && s.state == RecordState::Live
                && s.pkp.as_ref().is_some_and(|p| p.auth == auth.to_checksum())
        }) else {
            return Ok(None);
        };
        let bytes = match self.store.get(&pkp_auth_account(&record.public_key)) {
            Ok(b) => b,
            Err(KeychainError::NotFound) => return Ok(None),
            Err(e) => return Err(self.keychain_failed(e)),
        };
        let Ok(auth_sig) = serde_json::from_slice::<AuthSig>(&bytes) else {
            return Ok(None);
        };
        let lasts = auth_sig
            .verify_sign_in(*auth)
            .is_ok_and(|expires| expires > until);
        Ok(lasts.then_some(auth_sig))
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
        self.store_session(prepared, auth_sig, add_as.as_deref(), None)
    }

    /// Stores a session whose AuthSig is made: the record (pending), the key in the keychain,
    /// then the record live, the previous session of the same key retired and the approval in
    /// the history. A browser wallet named by `add_external` is recorded in the same write.
    fn store_session(
        &self,
        prepared: PreparedSession,
        auth_sig: AuthSig,
        add_external: Option<&str>,
        pkp: Option<(PkpSessionRecord, Option<AuthSig>)>,
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
            created_at: stamp(now)?,
            expires_at: stamp(expiration)?,
            state: RecordState::Pending,
            dead_reason: None,
            max_price_wei: max_price_wei.map(lit_companion_session::Wei),
            pkp: pkp.as_ref().map(|(r, _)| r.clone()),
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
        if let Some((_, Some(auth_method))) = &pkp {
            let json = Zeroizing::new(
                serde_json::to_vec(auth_method).map_err(|e| VaultError::Internal(e.to_string()))?,
            );
            if let Err(e) = self.store.put(&pkp_auth_account(&public_key), &json) {
                return Err(self.keychain_failed(e));
            }
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
}

fn stamp(t: OffsetDateTime) -> Result<lit_companion_session::timefmt::Timestamp, VaultError> {
    lit_companion_session::timefmt::Timestamp::new(t)
        .map_err(|e| VaultError::Invalid(e.to_string()))
}
