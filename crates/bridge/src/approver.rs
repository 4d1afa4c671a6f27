//! Approval as an awaited answer: the engine asks an [`Approver`] with a typed, plain-language
//! request and awaits its [`Decision`]. The desktop app answers with a window
//! ([`crate::prompt_queue`]), `lit-companion serve` with a policy file ([`crate::policy`]) or
//! the terminal, tests with scripted answers. Dropping the future (the caller went away)
//! withdraws the question.

use std::{future::Future, pin::Pin, time::Duration};

use lit_companion_session::{
    explain::{CapabilityLine, RiskFlag},
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
    /// Set when a browser wallet in the page signs (it will ask the user next).
    pub browser_wallet: Option<BrowserWallet>,
    /// What this origin already may do (escalations); empty for a first request.
    pub already_granted: Vec<CapabilityLine>,
    /// What it asks for now (only what is new).
    pub new: Vec<CapabilityLine>,
    /// ✗ lines for contrast.
    pub not_granted: Vec<String>,
    /// The requests behind `new`.
    #[serde(skip)]
    pub new_requests: Vec<ResourceAbilityRequest>,
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

    /// Whether any line is dangerous (Reject is then the default action).
    pub fn is_dangerous(&self) -> bool {
        self.new
            .iter()
            .any(|l| l.risk == lit_companion_session::explain::Risk::Danger)
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
