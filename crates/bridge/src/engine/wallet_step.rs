//! Browser wallets: a session whose AuthSig an EIP-1193 wallet in the requesting page signs
//! (docs/bridge-protocol.md, "When the page's wallet signs").
//!
//! After the user approves in the companion, the session key is made and kept here, in memory,
//! with the exact SIWE text; the caller gets a one-time ticket and the text (`signWithWallet`),
//! and answers with the wallet's signature (`walletSignature`) from the same origin and road
//! within the approval timeout. Only a signature that recovers to the wallet over exactly that
//! text stores anything.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use lit_companion_session::{
    timefmt::iso_millis, Address, AuthSig, Generation, PkpPublicKey, ResourceAbilityRequest,
};
use lit_companion_vault::{
    metadata::{WalletKind, WalletRecord},
    PreparedSession,
};
use lit_companion_wire::{BridgeError, ErrorCode};
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{params::LitAction, pkp::PkpStep};
use crate::caller::{Caller, Road};

/// Who signs a new session's AuthSig.
#[derive(Debug, Clone)]
pub(crate) enum Signer {
    /// The companion, with the wallet key in the keychain.
    Local,
    /// The page's browser wallet; `add` when the wallet is new to the companion (approving
    /// adds it under `label`).
    Browser { label: String, add: bool },
    /// A PKP: the network signs its session once `auth` speaks for it.
    Pkp {
        key: PkpPublicKey,
        label: String,
        auth: PkpAuth,
    },
    /// Nobody can sign this request (no such wallet, or a browser wallet this road cannot
    /// reach). Which of these it is depends on the vault, so the caller learns it only after
    /// the user has seen the prompt (docs/threat-model.md, "No answer before a prompt tells
    /// what the vault holds").
    Unavailable(BridgeError),
}

/// What speaks for a PKP to the network.
#[derive(Debug, Clone)]
pub(crate) enum PkpAuth {
    /// One of the companion's wallets signs in (`authMethodType` 1): a local one here, a
    /// browser one in the page.
    Wallet {
        address: Address,
        label: String,
        browser: bool,
    },
    /// A Lit Action decides, run by the nodes.
    LitAction(LitAction),
}

impl Signer {
    /// Who speaks for the PKP `key`, given its record (if the vault has it) and the record of
    /// the wallet that signs in for it. What depends on the vault becomes
    /// [`Signer::Unavailable`], told after the prompt.
    pub(crate) fn for_pkp(
        caller: &Caller,
        key: PkpPublicKey,
        record: Option<WalletRecord>,
        auth_record: impl FnOnce(Address) -> Option<WalletRecord>,
        lit_action: Option<LitAction>,
    ) -> Self {
        let Some(record) = record else {
            return Self::Unavailable(BridgeError::new(
                ErrorCode::BadRequest,
                format!(
                    "no PKP {} in Lit Companion: add it under Wallets first",
                    key.address().to_checksum()
                ),
            ));
        };
        let label = record.label.clone();
        if let Some(action) = lit_action {
            return Self::Pkp {
                key,
                label,
                auth: PkpAuth::LitAction(action),
            };
        }
        let auth = record
            .pkp
            .as_ref()
            .and_then(|p| Address::parse_any_case(&p.auth).ok());
        let Some((address, wallet)) = auth.and_then(|a| auth_record(a).map(|w| (a, w))) else {
            return Self::Unavailable(BridgeError::new(
                ErrorCode::BadRequest,
                format!(
                    "the wallet that signs in for PKP {} is no longer in Lit Companion",
                    key.address().to_checksum()
                ),
            ));
        };
        let browser = wallet.kind != WalletKind::Local;
        if browser {
            if let Some(e) = unreachable_browser_wallet(caller.road) {
                return Self::Unavailable(e);
            }
        }
        Self::Pkp {
            key,
            label,
            auth: PkpAuth::Wallet {
                address,
                label: wallet.label,
                browser,
            },
        }
    }

    /// Who signs for `wallet`, given its record in the vault (if any) and the request's
    /// `externalWallet` name, if any. What depends on the request alone is refused at once: a
    /// page's wallet named over loopback HTTP or a deep link (4200). What depends on the vault
    /// becomes [`Signer::Unavailable`].
    pub(crate) fn decide(
        caller: &Caller,
        wallet: Address,
        record: Option<WalletRecord>,
        external_name: Option<&str>,
    ) -> Result<Self, BridgeError> {
        if external_name.is_some() {
            if let Some(e) = unreachable_browser_wallet(caller.road) {
                return Err(e);
            }
        }
        Ok(match (record, external_name) {
            (Some(w), _) if w.kind == WalletKind::Local => Self::Local,
            (Some(w), _) => match unreachable_browser_wallet(caller.road) {
                Some(e) => Self::Unavailable(e),
                None => Self::Browser {
                    label: w.label,
                    add: false,
                },
            },
            (None, Some(name)) => Self::Browser {
                label: name.to_owned(),
                add: true,
            },
            (None, None) => Self::Unavailable(no_such_wallet(wallet)),
        })
    }

    /// Nobody can sign: the vault holds no wallet at all (4601, told after the prompt).
    pub(crate) fn no_wallet_yet() -> Self {
        Self::Unavailable(BridgeError::new(
            ErrorCode::NoWallet,
            "Lit Companion has no wallet yet: create or import one first",
        ))
    }
}

/// "No wallet 0x… in Lit Companion" (4400).
fn no_such_wallet(wallet: Address) -> BridgeError {
    BridgeError::new(
        ErrorCode::BadRequest,
        format!("no wallet {} in Lit Companion", wallet.to_checksum()),
    )
}

/// Why `road` cannot reach the page's wallet, if it cannot. Only the extension road proves
/// the companion to the page (the browser starts the host, and the host checks the socket's
/// owner): whoever holds the loopback port could answer a loopback request with a message of
/// its own for the page's wallet to sign. A deep link has no page to answer.
fn unreachable_browser_wallet(road: Road) -> Option<BridgeError> {
    match road {
        Road::Extension => None,
        Road::Http => Some(BridgeError::new(
            ErrorCode::Unsupported,
            "a browser wallet signs only through the Lit Companion extension: over loopback HTTP \
             the page cannot tell the companion from another program holding its port",
        )),
        Road::DeepLink => Some(BridgeError::new(
            ErrorCode::Unsupported,
            "a link opened in Lit Companion cannot reach your browser wallet: use the page's \
             Lit Companion extension",
        )),
    }
}

/// What the sessionSigs will be made for once the wallet has signed.
#[derive(Debug)]
pub(crate) struct Handout {
    pub(crate) generation: Generation,
    pub(crate) requests: Vec<ResourceAbilityRequest>,
    pub(crate) nodes: Vec<String>,
    pub(crate) expiration: OffsetDateTime,
    pub(crate) delegations: Vec<AuthSig>,
    pub(crate) max_price_wei: Option<u128>,
}

/// A session waiting for its wallet's signature.
#[derive(Debug)]
pub(crate) struct Step {
    grant_key: lit_companion_vault::GrantKey,
    road: Road,
    site: String,
    lapses: Instant,
    pub(crate) prepared: PreparedSession,
    /// The label to add the wallet under, when it is new to the companion.
    pub(crate) add_as: Option<String>,
    pub(crate) handout: Handout,
    /// A PKP session: the wallet signs in for the PKP, then the network signs.
    pub(crate) pkp: Option<PkpStep>,
}

/// The steps waiting, by ticket.
#[derive(Debug, Default)]
pub(crate) struct WalletSteps {
    waiting: Mutex<HashMap<String, Step>>,
}

/// Limits on the steps waiting.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepLimits {
    pub(crate) lifetime: Duration,
    pub(crate) total: usize,
    pub(crate) per_site: usize,
}

impl WalletSteps {
    /// Keeps a prepared session for `caller` and answers the `signWithWallet` step, or 4429
    /// when too many are waiting (in all or for the caller's site).
    pub(crate) fn start(
        &self,
        caller: &Caller,
        prepared: PreparedSession,
        add_as: Option<String>,
        handout: Handout,
        limits: StepLimits,
        pkp: Option<PkpStep>,
    ) -> Result<Value, BridgeError> {
        let mut bytes = [0u8; 16];
        OsRng.fill_bytes(&mut bytes);
        let ticket = hex::encode(bytes);
        let lapses_at = OffsetDateTime::now_utc()
            + time::Duration::try_from(limits.lifetime).unwrap_or(time::Duration::MINUTE);
        let expires_at = iso_millis(lapses_at).unwrap_or_default();
        // A PKP's wallet signs only the sign-in (it grants nothing by itself); the session's
        // message is the network's to sign.
        let step_json = match &pkp {
            None => json!({
                "signWithWallet": {
                    "ticket": ticket,
                    "address": prepared.wallet().to_checksum(),
                    "message": prepared.message(),
                    "expiresAt": expires_at,
                }
            }),
            Some(step) => json!({
                "signWithWallet": {
                    "ticket": ticket,
                    "address": step.auth.to_checksum(),
                    "message": step.auth_message,
                    "expiresAt": expires_at,
                    "purpose": "pkpAuth",
                    "pkp": prepared.wallet().to_checksum(),
                }
            }),
        };
        let site = caller.site();
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        waiting.retain(|_, s| s.lapses > now);
        let mine = waiting.values().filter(|s| s.site == site).count();
        if waiting.len() >= limits.total || mine >= limits.per_site {
            return Err(BridgeError::new(
                ErrorCode::RateLimited,
                "too many sessions are waiting for a browser wallet's signature; try again later",
            ));
        }
        waiting.insert(
            ticket,
            Step {
                grant_key: caller.grant_key(),
                road: caller.road,
                site,
                lapses: now + limits.lifetime,
                prepared,
                add_as,
                handout,
                pkp,
            },
        );
        Ok(step_json)
    }

    /// The step `ticket`, once: 4408 when it is unknown, used or lapsed, or belongs to another
    /// origin or road (then it stays for its own caller).
    pub(crate) fn take(&self, ticket: &str, caller: &Caller) -> Result<Step, BridgeError> {
        let gone = || {
            BridgeError::new(
                ErrorCode::RequestExpired,
                "this browser-wallet signature is not awaited (unknown, already answered or \
                 lapsed): ask for the session again",
            )
        };
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        waiting.retain(|_, s| s.lapses > now);
        match waiting.get(ticket) {
            Some(s) if s.grant_key == caller.grant_key() && s.road == caller.road => {
                waiting.remove(ticket).ok_or_else(gone)
            }
            _ => Err(gone()),
        }
    }

    /// Drops every waiting step (pause, quit): their keys are zeroized.
    pub(crate) fn clear(&self) {
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}
