//! Asking the user: the plain-language question (with the exact message to be signed), one
//! prompt at a time, within the pending limits and the timeout.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use lit_companion_session::{
    explain::{
        describe_duration, describe_price, describe_recap, describe_requests, not_granted, RiskFlag,
    },
    message::{SessionMessage, PKP_SESSION_STATEMENT},
    Address, Recap,
};
use lit_companion_vault::Ask;
use lit_companion_wire::{BridgeError, ErrorCode};
use time::OffsetDateTime;

use super::{
    params::ValidParams,
    wallet_step::{PkpAuth, Signer},
    Engine,
};
use crate::{
    approver::{
        ApprovalRequest, BrowserWallet, Decision, LifetimeChoice, LitActionPrompt, PkpPrompt,
    },
    caller::{Caller, Road},
};

/// What the preview's `uri` shows in place of the session key, which is made on approval.
const PREVIEW_SESSION_KEY: &str = "new-session-key";
/// What the preview shows in place of the nonce: the nodes are asked for it on approval.
const PREVIEW_NONCE: &str = "latestBlockHashFromTheNodes";
/// The lifetimes a prompt offers besides the one asked (those shorter than it), in seconds.
const LIFETIME_STEPS: [u64; 5] = [900, 3600, 86_400, 7 * 86_400, 30 * 86_400];

/// Prompts waiting: per site (registrable domain), per road, and in all.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    waiting: Mutex<Waiting>,
}

#[derive(Debug, Default)]
struct Waiting {
    per_site: HashMap<String, usize>,
    per_road: HashMap<Road, usize>,
    total: usize,
}

/// A place in the pending counts, given back however the approval ends.
pub(crate) struct PendingSlot<'a> {
    pending: &'a Pending,
    site: String,
    road: Road,
}

impl Drop for PendingSlot<'_> {
    fn drop(&mut self) {
        let mut w = self
            .pending
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = w.per_site.get_mut(&self.site) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                w.per_site.remove(&self.site);
            }
        }
        if let Some(n) = w.per_road.get_mut(&self.road) {
            *n = n.saturating_sub(1);
        }
        w.total = w.total.saturating_sub(1);
    }
}

/// The limits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) total: usize,
    pub(crate) per_site: usize,
    pub(crate) per_road: usize,
}

impl Pending {
    /// Takes a slot for the caller's site and road, or refuses (4429) when all, the site's or
    /// the road's are taken.
    fn take(&self, caller: &Caller, limits: Limits) -> Result<PendingSlot<'_>, BridgeError> {
        let site = caller.site();
        let mut w = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let mine = w.per_site.get(&site).copied().unwrap_or(0);
        let road = w.per_road.get(&caller.road).copied().unwrap_or(0);
        if w.total >= limits.total || mine >= limits.per_site || road >= limits.per_road {
            return Err(BridgeError::new(
                ErrorCode::RateLimited,
                "too many requests are waiting for the user; try again later",
            ));
        }
        *w.per_site.entry(site.clone()).or_default() += 1;
        *w.per_road.entry(caller.road).or_default() += 1;
        w.total += 1;
        Ok(PendingSlot {
            pending: self,
            site,
            road: caller.road,
        })
    }
}

impl Engine {
    /// The question for the user: who asks, what is already granted, what is new, for how
    /// long, what it may cost, and the message the wallet will sign (its session key and
    /// nonce are filled in on approval).
    pub(crate) fn approval_request(
        &self,
        caller: &Caller,
        p: &ValidParams,
        wallet: Address,
        signer: &Signer,
        ask: &Ask,
        now: OffsetDateTime,
    ) -> Result<ApprovalRequest, BridgeError> {
        let lifetime = p.expiration - now;
        let (duration_text, mut flags): (String, Vec<RiskFlag>) =
            describe_duration(now, Some(p.expiration));
        let supplied = p
            .delegations
            .iter()
            .filter_map(|d| d.verify_signature().ok())
            .flat_map(|v| {
                let owner = v.signer.short();
                describe_recap(&v.recap)
                    .into_iter()
                    .map(move |l| format!("Your requests may be paid by {owner}: {}", l.sentence))
            })
            .collect();
        let price_text = p.max_price_wei.map(|wei| {
            let (text, flag) = describe_price(wei);
            flags.extend(flag);
            text
        });
        flags.sort();
        flags.dedup();
        let asked = u64::try_from(lifetime.whole_seconds()).unwrap_or(0);
        let lifetime_choices = LIFETIME_STEPS
            .into_iter()
            .filter(|s| *s < asked)
            .chain([asked])
            .map(|secs| {
                let siwe = SessionMessage {
                    domain: &caller.siwe_domain(),
                    address: wallet,
                    // A PKP session's message is the one the nodes sign: its statement is fixed.
                    statement: if p.pkp.is_some() {
                        PKP_SESSION_STATEMENT
                    } else {
                        &p.statement
                    },
                    session_key: PREVIEW_SESSION_KEY,
                    nonce: PREVIEW_NONCE,
                    issued_at: now,
                    expiration: now + time::Duration::seconds(secs.try_into().unwrap_or(i64::MAX)),
                    grant: &ask.grant,
                }
                .build()
                .map_err(|e| BridgeError::new(ErrorCode::BadRequest, e.to_string()))?;
                Ok(LifetimeChoice { secs, siwe })
            })
            .collect::<Result<Vec<_>, BridgeError>>()?;
        let siwe_preview = lifetime_choices
            .last()
            .map(|c| c.siwe.clone())
            .unwrap_or_default();
        // An escalation or a price re-ask re-signs what was granted with the lifetime chosen
        // now: every line whose expiry that lengthens is shown as extended, flags and all.
        let already_granted = describe_requests(&ask.granted);
        let extended = match ask.replaces {
            Some(live) if p.expiration > live.until => already_granted.clone(),
            _ => Vec::new(),
        };
        let price_before = ask
            .replaces
            .filter(|live| live.max_price_wei.map(|w| w.0) != p.max_price_wei)
            .map(|live| match live.max_price_wei {
                Some(wei) => describe_price(wei.0).0,
                None => "Spends nothing of your Lit balance".to_owned(),
            });
        let wallet_label = match signer {
            Signer::Browser { label, .. } | Signer::Pkp { label, .. } => Some(label.clone()),
            _ => self.vault.wallet(&wallet).ok().flatten().map(|w| w.label),
        };
        Ok(ApprovalRequest {
            caller: caller.clone(),
            who: caller.describe(),
            origin: caller.grant_key().to_string(),
            verified: caller.is_verified(),
            road: caller.road.to_string(),
            network: p.network.name.to_string(),
            network_label: p.network.label.clone(),
            wallet: wallet.to_checksum(),
            wallet_label,
            unavailable: match signer {
                Signer::Unavailable(e) => Some(e.message.clone()),
                _ => None,
            },
            pkp: pkp_prompt(p, signer),
            browser_wallet: match signer {
                Signer::Local | Signer::Unavailable(_) | Signer::Pkp { .. } => None,
                Signer::Browser { label, add } => Some(BrowserWallet {
                    name: label.clone(),
                    new: *add,
                }),
            },
            granted_until: ask
                .replaces
                .map(|live| describe_duration(now, Some(live.until)).0),
            already_granted,
            extended,
            new: describe_requests(&ask.new),
            not_granted: not_granted(&Recap::for_requests(&ask.grant)),
            new_requests: ask.new.clone(),
            grant_requests: ask.grant.clone(),
            lifetime: Duration::from_secs(asked),
            max_lifetime: self.settings.max_lifetime,
            duration_text,
            flags,
            supplied_delegations: supplied,
            statement: p.statement.clone(),
            siwe_preview,
            lifetime_choices,
            max_price_wei: p.max_price_wei.map(|w| w.to_string()),
            price_text,
            price_before,
            deadline: None,
        })
    }

    /// A place among the prompts waiting, or 4429 when all, or this caller's, are taken.
    /// Taken before anything is contacted for the request.
    pub(crate) fn pending_slot(&self, caller: &Caller) -> Result<PendingSlot<'_>, BridgeError> {
        self.pending.take(
            caller,
            Limits {
                total: self.settings.max_pending,
                per_site: self.settings.max_pending_per_caller,
                per_road: self.settings.max_pending_per_road,
            },
        )
    }

    /// Queues the question, one prompt at a time, within the timeout; answers the lifetime
    /// the user chose, held to the offered one it names (never longer than it, so that what
    /// is signed is a message the prompt showed).
    pub(crate) async fn ask(&self, mut request: ApprovalRequest) -> Result<Duration, BridgeError> {
        let offered: Vec<u64> = request.lifetime_choices.iter().map(|c| c.secs).collect();
        let deadline = tokio::time::Instant::now() + self.settings.approval_timeout;
        request.deadline = Some(deadline.into_std());
        let wait = async {
            let _turn = self.queue.lock().await;
            self.approver.approve(request).await
        };
        match tokio::time::timeout_at(deadline, wait).await {
            Err(_) => Err(BridgeError::new(
                ErrorCode::RequestExpired,
                "the request was not answered in time",
            )),
            Ok(Decision::Reject { reason }) => Err(BridgeError::new(
                ErrorCode::UserRejected,
                format!("rejected: {reason}"),
            )),
            Ok(Decision::Approve { lifetime }) => offered
                .into_iter()
                .filter(|s| *s <= lifetime.as_secs())
                .max()
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    BridgeError::new(
                        ErrorCode::UserRejected,
                        "rejected: the chosen lifetime is shorter than any the prompt offered",
                    )
                }),
        }
    }
}

/// What a PKP prompt adds: who speaks for the PKP, and a Lit Action's CID and parameters.
fn pkp_prompt(p: &ValidParams, signer: &Signer) -> Option<PkpPrompt> {
    let key = p.pkp.as_ref()?.key;
    let (auth, browser_sign_in, lit_action) = match signer {
        Signer::Pkp {
            auth:
                PkpAuth::Wallet {
                    address,
                    label,
                    browser,
                },
            ..
        } => (
            format!("signed in with wallet \"{label}\" ({})", address.short()),
            *browser,
            None,
        ),
        Signer::Pkp {
            auth: PkpAuth::LitAction(action),
            ..
        } => (
            format!("authorized by the Lit Action {}", action.ipfs_id),
            false,
            Some(LitActionPrompt {
                ipfs_id: action.ipfs_id.clone(),
                code_sent: action.code_base64.is_some(),
                params: describe_params(action.js_params.as_ref()),
            }),
        ),
        _ => ("its auth method".to_owned(), false, None),
    };
    Some(PkpPrompt {
        public_key: key.to_hex(),
        auth,
        browser_sign_in,
        lit_action,
    })
}

/// A Lit Action's parameters as `name: value` lines, each value cut at 80 characters.
fn describe_params(params: Option<&serde_json::Value>) -> Vec<String> {
    let Some(serde_json::Value::Object(map)) = params else {
        return Vec::new();
    };
    map.iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => format!("\"{s}\""),
                other => other.to_string(),
            };
            let cut: String = text.chars().take(80).collect();
            let more = if text.chars().count() > 80 { "…" } else { "" };
            let name: String = k.chars().filter(|c| !c.is_control()).take(40).collect();
            format!(
                "{name}: {}{more}",
                cut.replace(|c: char| c.is_control(), " ")
            )
        })
        .collect()
}
