//! Approval as an awaited answer: the engine asks an [`Approver`] with a typed, plain-language
//! request and awaits its [`Decision`]. The desktop app answers with a window
//! ([`crate::prompt_queue`]), `lit-companion serve` with a policy file ([`crate::policy`]) or
//! the terminal, tests with scripted answers. Dropping the future (the caller went away)
//! withdraws the question.

use std::{
    future::Future,
    pin::Pin,
    time::{Duration, Instant},
};

use lit_companion_session::{
    explain::{CapabilityLine, Risk, RiskFlag},
    ResourceAbilityRequest,
};
use serde::Serialize;

use crate::caller::Caller;

/// A browser wallet that is to sign the session in the page.
#[derive(Clone, Debug, Serialize)]
pub struct BrowserWallet {
    /// Its name ("MetaMask"), or the label the user gave it.
    pub name: String,
    /// New to the companion: approving adds it (its address only).
    pub new: bool,
}

/// A PKP session: the network signs for the PKP once its auth method speaks for it.
#[derive(Clone, Debug, Serialize)]
pub struct PkpPrompt {
    /// The PKP's public key (`0x04…`).
    pub public_key: String,
    /// Who speaks for it, in words: `signed in with wallet "Main" (0x19E7…Ff2A)` or
    /// `authorized by the Lit Action Qm…`.
    pub auth: String,
    /// The wallet that signs in is a browser wallet: it asks the user next.
    pub browser_sign_in: bool,
    /// The Lit Action that authorizes the PKP, when one does.
    pub lit_action: Option<LitActionPrompt>,
}

/// A Lit Action named as a PKP's authority: what will run, with what.
#[derive(Clone, Debug, Serialize)]
pub struct LitActionPrompt {
    /// Its IPFS CID (computed from the code when the page sent code).
    pub ipfs_id: String,
    /// Whether the page sent the code (the CID is then ours, not the page's word).
    pub code_sent: bool,
    /// Its parameters, one `name: value` line each (long values cut).
    pub params: Vec<String>,
}

/// What the user is asked.
#[derive(Clone, Debug, Serialize)]
pub struct ApprovalRequest {
    /// Who asks and how (not serialised: see `who`).
    #[serde(skip)]
    pub caller: Caller,
    /// "app.example.com — verified by your browser".
    pub who: String,
    /// The grant key (origin).
    pub origin: String,
    /// Whether the browser vouches for the origin.
    pub verified: bool,
    /// The road, in words.
    pub road: String,
    /// The network.
    pub network: String,
    /// "Datil (main network)".
    pub network_label: String,
    /// The signing wallet.
    pub wallet: String,
    /// Its label in the companion ("Main"), or the browser wallet's name.
    pub wallet_label: Option<String>,
    /// Set when a browser wallet in the page signs (it will ask the user next).
    pub browser_wallet: Option<BrowserWallet>,
    /// Set for a PKP session: `wallet` is then the PKP's address, `wallet_label` its label.
    pub pkp: Option<PkpPrompt>,
    /// Set when the request cannot be carried out whatever the answer (no such wallet, or a
    /// browser wallet this road cannot reach): the prompt says so and offers only Reject. The
    /// caller learns why only after the answer, so that no page learns what the vault holds.
    pub unavailable: Option<String>,
    /// What this origin already may do (escalations); empty for a first request. Every
    /// line keeps its risk and flags.
    pub already_granted: Vec<CapabilityLine>,
    /// The lines of `already_granted` that approving makes last longer: the new AuthSig
    /// re-signs what was granted with the lifetime chosen now. Shown with their flags, and
    /// counted by [`ApprovalRequest::is_dangerous`] like new lines.
    pub extended: Vec<CapabilityLine>,
    /// "Until Wed 25 Nov 2026, 22:07 UTC (10 minutes)": when `already_granted` ends today.
    pub granted_until: Option<String>,
    /// What it asks for now (only what is new).
    pub new: Vec<CapabilityLine>,
    /// ✗ lines for contrast.
    pub not_granted: Vec<String>,
    /// The requests behind `new`.
    #[serde(skip)]
    pub new_requests: Vec<ResourceAbilityRequest>,
    /// Everything the new AuthSig grants: `already_granted` and `new`, as signed.
    #[serde(skip)]
    pub grant_requests: Vec<ResourceAbilityRequest>,
    /// The lifetime asked for.
    pub lifetime: Duration,
    /// The most the user may choose.
    pub max_lifetime: Duration,
    /// "Until Wed 25 Nov 2026, 21:57 UTC (24 hours)".
    pub duration_text: String,
    /// Flags for the whole request.
    pub flags: Vec<RiskFlag>,
    /// Delegations the dapp supplies (paid by someone else; grants nothing).
    pub supplied_delegations: Vec<String>,
    /// The app's statement, as it will appear in the message.
    pub statement: String,
    /// The SIWE text to be signed for the lifetime asked: exactly what the wallet signs but for
    /// the session key and the nonce, which are made and fetched on approval.
    pub siwe_preview: String,
    /// The lifetimes the user may choose, shortest first, the one asked last; each with the
    /// message it signs. An approval is held to one of them.
    pub lifetime_choices: Vec<LifetimeChoice>,
    /// Naga: the most each request may pay, in wei (decimal).
    pub max_price_wei: Option<String>,
    /// "May spend up to 0.05 of your Lit balance per request".
    pub price_text: Option<String>,
    /// What the session this approval replaces was approved to spend, when the price changes
    /// ("May spend up to 0.005 of your Lit balance per request").
    pub price_before: Option<String>,
    /// When the engine stops waiting for the answer (set as the question is put); an
    /// approver that ends after it timed out, not withdrawn.
    #[serde(skip)]
    pub deadline: Option<Instant>,
}

/// One lifetime a prompt offers, with the exact message that lifetime signs (session key and
/// nonce aside).
#[derive(Clone, Debug, Serialize)]
pub struct LifetimeChoice {
    /// Seconds.
    pub secs: u64,
    /// The SIWE text.
    pub siwe: String,
}

impl ApprovalRequest {
    /// The longest offered lifetime not longer than `chosen`: what is signed when the user
    /// answers `chosen`. `None` when `chosen` is shorter than every choice.
    pub fn offered(&self, chosen: Duration) -> Option<&LifetimeChoice> {
        self.lifetime_choices
            .iter()
            .filter(|c| c.secs <= chosen.as_secs())
            .max_by_key(|c| c.secs)
    }

    /// Whether any line approving changes is dangerous — a new one, or one already granted
    /// that approving makes last longer (Reject is then the default action).
    pub fn is_dangerous(&self) -> bool {
        self.new
            .iter()
            .chain(&self.extended)
            .any(|l| l.risk == Risk::Danger)
            || self.flags.contains(&RiskFlag::LifetimeOverLimit)
    }
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Approved, possibly for a shorter time than asked.
    Approve {
        /// The lifetime the user chose (never longer than asked).
        lifetime: Duration,
    },
    /// Rejected, with a reason for the log and the caller.
    Reject {
        /// Why.
        reason: String,
    },
}

/// Something that answers approval requests.
pub trait Approver: Send + Sync {
    /// Asks. Dropping the returned future withdraws the question.
    fn approve(
        &self,
        request: ApprovalRequest,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>>;
}

/// Refuses everything: the default until something opts in.
#[derive(Debug, Default, Clone, Copy)]
pub struct RejectAll;

impl Approver for RejectAll {
    fn approve(
        &self,
        _request: ApprovalRequest,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>> {
        Box::pin(async {
            Decision::Reject {
                reason: "no approver is configured".into(),
            }
        })
    }
}
