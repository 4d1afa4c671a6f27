//! Approval as an awaited answer: the engine asks an [`Approver`] with a typed, plain-language
//! request and awaits its [`Decision`]. The desktop app answers with a window, `lit-companion
//! serve` with a policy file or the terminal, tests with scripted answers. Dropping the future
//! (the caller went away) withdraws the question.

use std::{future::Future, path::Path, pin::Pin, time::Duration};

use lit_companion_net::NetworkName;
use lit_companion_session::explain::parse_wei;
use lit_companion_session::{
    explain::{CapabilityLine, RiskFlag},
    LitResource, ResourceAbilityRequest,
};
use serde::{Deserialize, Serialize};

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

/// A headless policy (`lit-companion serve --approve POLICY`): which origins may get what.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Format version (1).
    pub version: u32,
    /// Rules; a request is approved when one rule for its origin allows every new request.
    pub rules: Vec<Rule>,
}

/// One origin's allowance.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rule {
    /// The origin (`https://app.example.com`) or `pairing:<name>`.
    pub origin: String,
    /// Networks allowed; all when absent.
    #[serde(default)]
    pub networks: Option<Vec<String>>,
    /// Resource patterns: an exact key (`lit-pkp://<id>`) or `<prefix>://*`, meaning any single
    /// resource of that kind. Requests that *name* the wildcard resource also need
    /// `allowWildcards`.
    pub resources: Vec<String>,
    /// Abilities allowed (SDK names); all when absent.
    #[serde(default)]
    pub abilities: Option<Vec<String>>,
    /// May requests name wildcard resources (`lit-pkp://*`)?
    #[serde(default)]
    pub allow_wildcards: bool,
    /// May a deep link's unverified claim of this origin use the rule (`"unverified": true`)?
    #[serde(default, alias = "allowUnverified")]
    pub unverified: bool,
    /// The longest session, in seconds (default 24 h; never more than 30 days).
    #[serde(default)]
    pub max_lifetime_seconds: Option<u64>,
    /// Naga: the most a request may pay, in wei (a decimal string); any price up to the
    /// network's cap when absent.
    #[serde(default)]
    pub max_price: Option<String>,
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Unreadable file.
    #[error("cannot read the policy {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Bad JSON or shape.
    #[error("the policy is invalid: {0}")]
    Invalid(String),
}

impl Policy {
    /// Loads and checks a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses and checks a policy.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let policy: Policy =
            serde_json::from_str(text).map_err(|e| PolicyError::Invalid(e.to_string()))?;
        if policy.version != 1 {
            return Err(PolicyError::Invalid(format!(
                "version {} is not supported",
                policy.version
            )));
        }
        for rule in &policy.rules {
            for pattern in &rule.resources {
                LitResource::parse_key(pattern)
                    .map_err(|e| PolicyError::Invalid(format!("{pattern}: {e}")))?;
            }
            for ability in rule.abilities.iter().flatten() {
                ability
                    .parse::<lit_companion_session::Ability>()
                    .map_err(|e| PolicyError::Invalid(e.to_string()))?;
            }
            for network in rule.networks.iter().flatten() {
                network
                    .parse::<NetworkName>()
                    .map_err(|e| PolicyError::Invalid(e.to_string()))?;
            }
            if let Some(price) = &rule.max_price {
                if parse_wei(price).is_none() {
                    return Err(PolicyError::Invalid(format!(
                        "maxPrice {price:?} is not a decimal number of wei"
                    )));
                }
            }
        }
        Ok(policy)
    }

    /// The decision for a request.
    pub fn decide(&self, request: &ApprovalRequest) -> Decision {
        let origin = request.caller.grant_key().claimed().to_string();
        let mut reasons = Vec::new();
        for rule in self.rules.iter().filter(|r| r.origin == origin) {
            match rule.allows(request) {
                Ok(lifetime) => return Decision::Approve { lifetime },
                Err(reason) => reasons.push(reason),
            }
        }
        let reason = reasons
            .into_iter()
            .next()
            .unwrap_or_else(|| format!("the policy has no rule for {origin}"));
        Decision::Reject { reason }
    }
}

impl Rule {
    fn allows(&self, request: &ApprovalRequest) -> Result<Duration, String> {
        if !request.verified && !self.unverified {
            return Err(
                "the origin is not verified (deep link) and the policy requires verification"
                    .into(),
            );
        }
        if let Some(networks) = &self.networks {
            if !networks.contains(&request.network) {
                return Err(format!("network {} is not allowed", request.network));
            }
        }
        let price = request.max_price_wei.as_deref().and_then(parse_wei);
        let allowed = self.max_price.as_deref().and_then(parse_wei);
        if let (Some(price), Some(allowed)) = (price, allowed) {
            if price > allowed {
                return Err(format!(
                    "may pay up to {price} wei per request; the policy allows at most {allowed}"
                ));
            }
        }
        for r in &request.new_requests {
            if r.resource.is_wildcard() && !self.allow_wildcards {
                return Err(format!(
                    "{} names every resource of its kind; the policy forbids wildcards",
                    r.resource
                ));
            }
            if let Some(abilities) = &self.abilities {
                if !abilities.iter().any(|a| a == r.ability.as_str()) {
                    return Err(format!("ability {} is not allowed", r.ability));
                }
            }
            let matched = self.resources.iter().any(|p| {
                LitResource::parse_key(p).is_ok_and(|pat| {
                    pat.prefix() == r.resource.prefix() && (pat.is_wildcard() || pat == r.resource)
                })
            });
            if !matched {
                return Err(format!("{} is not allowed", r.resource));
            }
        }
        let max = Duration::from_secs(
            self.max_lifetime_seconds
                .unwrap_or(24 * 3600)
                .min(30 * 24 * 3600),
        );
        if request.lifetime > max {
            return Err(format!(
                "a session of {} s exceeds the policy's {} s",
                request.lifetime.as_secs(),
                max.as_secs()
            ));
        }
        Ok(request.lifetime)
    }
}

impl Approver for Policy {
    fn approve(
        &self,
        request: ApprovalRequest,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>> {
        let decision = self.decide(&request);
        Box::pin(async move { decision })
    }
}

/// A question in the queue: its id, the request, and where the answer goes.
type Waiting = (u64, ApprovalRequest, tokio::sync::oneshot::Sender<Decision>);

/// Prompts waiting for a person: the desktop app's approver. Each question waits in the queue
/// until [`PromptQueue::answer`] is called; when the caller goes away (the future is dropped)
/// the question leaves the queue on its own. `on_change` runs whenever the queue changes, so a
/// UI can show or close its prompt.
pub struct PromptQueue {
    inner: std::sync::Mutex<(u64, Vec<Waiting>)>,
    on_change: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for PromptQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptQueue")
            .field("pending", &self.pending().len())
            .finish_non_exhaustive()
    }
}

impl PromptQueue {
    /// An empty queue calling `on_change` on every change.
    pub fn new(on_change: impl Fn() + Send + Sync + 'static) -> Self {
        Self {
            inner: std::sync::Mutex::new((1, Vec::new())),
            on_change: Box::new(on_change),
        }
    }

    /// The questions waiting, oldest first, with their ids.
    pub fn pending(&self) -> Vec<(u64, ApprovalRequest)> {
        self.inner
            .lock()
            .map(|g| g.1.iter().map(|(id, r, _)| (*id, r.clone())).collect())
            .unwrap_or_default()
    }

    /// Answers a question; false when it is gone (answered, or its caller left). An approval
    /// never gets more time than was asked.
    pub fn answer(&self, id: u64, decision: Decision) -> bool {
        let entry = self.inner.lock().ok().and_then(|mut g| {
            let at = g.1.iter().position(|(i, _, _)| *i == id)?;
            Some(g.1.remove(at))
        });
        let Some((_, request, tx)) = entry else {
            return false;
        };
        let decision = match decision {
            Decision::Approve { lifetime } => Decision::Approve {
                lifetime: lifetime.min(request.lifetime),
            },
            other => other,
        };
        let sent = tx.send(decision).is_ok();
        (self.on_change)();
        sent
    }

    fn withdraw(&self, id: u64) {
        let removed = self.inner.lock().map(|mut g| {
            let before = g.1.len();
            g.1.retain(|(i, _, _)| *i != id);
            before != g.1.len()
        });
        if removed.unwrap_or(false) {
            (self.on_change)();
        }
    }
}

struct Withdraw<'a>(&'a PromptQueue, u64);

impl Drop for Withdraw<'_> {
    fn drop(&mut self) {
        self.0.withdraw(self.1);
    }
}

impl Approver for PromptQueue {
    fn approve(
        &self,
        request: ApprovalRequest,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let id = match self.inner.lock() {
            Ok(mut g) => {
                let id = g.0;
                g.0 += 1;
                g.1.push((id, request, tx));
                Some(id)
            }
            Err(_) => None,
        };
        (self.on_change)();
        // The guard exists from now on, so that dropping the future even before its first poll
        // takes the question out of the queue.
        let withdraw = id.map(|id| Withdraw(self, id));
        Box::pin(async move {
            if withdraw.is_none() {
                return Decision::Reject {
                    reason: "internal error".into(),
                };
            }
            let decision = rx.await.unwrap_or(Decision::Reject {
                reason: "the prompt was closed".into(),
            });
            drop(withdraw);
            decision
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::{Caller, Road};
    use std::sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    };

    fn request(lifetime: Duration) -> ApprovalRequest {
        let caller = Caller::verified(
            lit_companion_session::Origin::parse("https://app.example.com").unwrap(),
            Road::Http,
        );
        ApprovalRequest {
            who: caller.describe(),
            origin: caller.grant_key().to_string(),
            verified: true,
            road: caller.road.to_string(),
            caller,
            network: "datil-dev".into(),
            network_label: "Datil dev (test network)".into(),
            wallet: "0x0".into(),
            browser_wallet: None,
            already_granted: vec![],
            new: vec![],
            not_granted: vec![],
            new_requests: vec![],
            lifetime,
            max_lifetime: lifetime,
            duration_text: String::new(),
            flags: vec![],
            supplied_delegations: vec![],
            statement: String::new(),
            siwe_preview: String::new(),
            lifetime_choices: vec![LifetimeChoice {
                secs: lifetime.as_secs(),
                siwe: String::new(),
            }],
            max_price_wei: None,
            price_text: None,
        }
    }

    #[tokio::test]
    async fn the_queue_answers_caps_the_lifetime_and_withdraws_when_the_caller_leaves() {
        let changes = Arc::new(AtomicUsize::new(0));
        let seen = changes.clone();
        let queue = Arc::new(PromptQueue::new(move || {
            seen.fetch_add(1, Ordering::SeqCst);
        }));
        let asking = queue.approve(request(Duration::from_secs(3600)));
        let (id, _) = queue.pending()[0].clone();
        assert!(queue.answer(
            id,
            Decision::Approve {
                lifetime: Duration::from_secs(u64::MAX / 2)
            }
        ));
        assert_eq!(
            asking.await,
            Decision::Approve {
                lifetime: Duration::from_secs(3600)
            },
            "never more than asked"
        );
        assert!(queue.pending().is_empty());
        assert!(
            !queue.answer(
                id,
                Decision::Reject {
                    reason: "late".into()
                }
            ),
            "an answered prompt is gone"
        );

        let abandoned = queue.approve(request(Duration::from_secs(60)));
        assert_eq!(queue.pending().len(), 1);
        drop(abandoned);
        assert!(
            queue.pending().is_empty(),
            "a caller that goes away takes its prompt with it"
        );
        assert!(changes.load(Ordering::SeqCst) >= 4);
    }
}
