//! The one request handler every road feeds: caller (from the transport) → switches →
//! parameters → reuse or approval ([`Vault::session_for`]) → AuthSig and session key →
//! per-node sessionSigs.
//!
//! - [`params`]: the request's parameters, checked;
//! - [`issue`]: reuse or ask, create, hand out: the issuance flow;
//! - [`switches`]: pause, roads and networks, read per request;
//! - [`approval`]: the question for the user, pending limits, one prompt at a time;
//! - [`wallet_step`]: sessions a browser wallet in the page signs (`signWithWallet`,
//!   `walletSignature`);
//! - [`pkp`]: sessions the network signs for a PKP (`pkpPublicKey`, `LIT_BLS`);
//! - [`errors`]: what the caller is told (detail goes to the log).
//!
//! One `tracing` line per request says who asked, by which road, for what, and what was
//! decided; never a body, a key or a signature.

mod approval;
mod errors;
mod issue;
mod params;
mod pkp;
mod switches;
mod wallet_step;

use std::{sync::Arc, time::Duration};

use lit_companion_net::Networks;
use lit_companion_session::explain::describe_requests;
use lit_companion_vault::{metadata::RecordState, Revoke, Vault, VaultError};
use lit_companion_wire::{BridgeError, ErrorCode, Request, Response};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::{
    approver::Approver,
    caller::{Caller, Road},
};
use errors::{internal, vault_error};
use wallet_step::WalletSteps;

/// Tunables.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// The longest session anyone may approve (nodes refuse more than 30 days).
    pub max_lifetime: Duration,
    /// How long a prompt may wait for the user.
    pub approval_timeout: Duration,
    /// Prompts waiting at once, in all.
    pub max_pending: usize,
    /// Prompts waiting at once, per site (registrable domain, or local program).
    pub max_pending_per_caller: usize,
    /// Prompts waiting at once, per road.
    pub max_pending_per_road: usize,
    /// Requests per site on the extension and deep-link roads (loopback HTTP limits its own
    /// callers before they reach the engine).
    pub rate: crate::ratelimit::RateLimit,
    /// Whether the bridge starts paused (every request gets 4900); see [`Engine::set_paused`].
    pub paused: bool,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            max_lifetime: lit_companion_session::MAX_SESSION_LIFETIME.unsigned_abs(),
            approval_timeout: Duration::from_secs(300),
            max_pending: 16,
            max_pending_per_caller: 2,
            max_pending_per_road: 8,
            rate: crate::ratelimit::RateLimit::default(),
            paused: false,
        }
    }
}

/// The engine.
pub struct Engine {
    vault: Arc<Vault>,
    networks: Arc<Networks>,
    approver: Arc<dyn Approver>,
    settings: EngineSettings,
    switches: switches::Switches,
    /// One prompt at a time: approvals queue on this lock, in arrival order.
    queue: tokio::sync::Mutex<()>,
    pending: approval::Pending,
    steps: WalletSteps,
    limiter: crate::ratelimit::RateLimiter,
    /// Vault work (keychain and files) running at once; more requests wait here as a small
    /// future each, not as a blocked thread with its own keychain connection.
    vault_slots: tokio::sync::Semaphore,
}

/// How many vault operations run at once. The keychain answers one caller at a time and every
/// write holds the metadata lock, so more would only wait inside threads: when the keychain
/// hangs or restarts under 1,000 callers, each such thread kept its stack, its allocator pages
/// and a D-Bus connection (tests/faults measured `serve` growing past 256 MiB that way).
const VAULT_SLOTS: usize = 4;

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// What a handled request produced, for its log line.
struct Handled {
    result: Value,
    capabilities: String,
    decision: &'static str,
}

impl Engine {
    /// An engine over a vault, the network registry and an approver.
    pub fn new(
        vault: Arc<Vault>,
        networks: Arc<Networks>,
        approver: Arc<dyn Approver>,
        settings: EngineSettings,
    ) -> Self {
        let switches = switches::Switches::default();
        switches.set_paused(settings.paused);
        let limiter = crate::ratelimit::RateLimiter::new(settings.rate);
        Self {
            vault,
            networks,
            approver,
            settings,
            switches,
            queue: tokio::sync::Mutex::new(()),
            pending: approval::Pending::default(),
            steps: WalletSteps::default(),
            limiter,
            vault_slots: tokio::sync::Semaphore::new(VAULT_SLOTS),
        }
    }

    /// Pauses or resumes the bridge: while paused every request is answered 4900 at once, and
    /// no session key stays in memory.
    pub fn set_paused(&self, paused: bool) {
        self.switches.set_paused(paused);
        if paused {
            self.vault.forget_keys();
            self.steps.clear();
        }
    }

    /// Whether the bridge is paused.
    pub fn is_paused(&self) -> bool {
        self.switches.paused()
    }

    /// Turns one road on or off: requests arriving by a road that is off are answered 4900.
    pub fn set_road(&self, road: Road, on: bool) {
        self.switches.set_road(road, on);
    }

    /// Whether `road` is on.
    pub fn road_on(&self, road: Road) -> bool {
        self.switches.road_on(road)
    }

    /// Serves or refuses (4200) requests for the network named `network`.
    pub fn set_network(&self, network: &str, on: bool) {
        self.switches.set_network(network, on);
    }

    /// Whether requests for the network named `network` are served.
    pub fn network_on(&self, network: &str) -> bool {
        self.switches.network_on(network)
    }

    /// The network registry.
    pub fn networks(&self) -> &Arc<Networks> {
        &self.networks
    }

    /// The vault.
    pub fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    /// Handles one request body from `caller` and always answers with an envelope.
    pub async fn handle(&self, caller: &Caller, body: &[u8]) -> Response {
        match lit_companion_wire::parse_request(body) {
            Ok(request) => self.handle_request(caller, request).await,
            Err((id, e)) => {
                log_request(caller, "?", "", e.code.name());
                Response::err(id, &e)
            }
        }
    }

    /// Handles a parsed request.
    pub async fn handle_request(&self, caller: &Caller, request: Request) -> Response {
        let Request {
            id, method, params, ..
        } = request;
        let outcome = match self.refusal(caller).or_else(|| caller.loopback_refusal()) {
            Some(e) => Err(e),
            None => match method.as_str() {
                "getSessionSigs" => self.get_session_sigs(caller, params).await,
                "walletSignature" => self.wallet_signature(caller, params).await,
                "listGrants" => self.list_grants(caller).await,
                "disconnect" => self.disconnect(caller).await,
                other => Err(BridgeError::new(
                    ErrorCode::Unsupported,
                    format!("unknown method {other:?}"),
                )),
            },
        };
        match outcome {
            Ok(done) => {
                log_request(caller, &method, &done.capabilities, done.decision);
                Response::ok(id, done.result)
            }
            Err(e) => {
                log_request(caller, &method, "", e.code.name());
                Response::err(id, &e)
            }
        }
    }

    /// 4900 when the bridge is paused or the caller's road is off; 4429 when the caller's
    /// site goes too fast on a road that has no limiter of its own.
    fn refusal(&self, caller: &Caller) -> Option<BridgeError> {
        if caller.road != Road::Http
            && !self
                .limiter
                .allow(&format!("{}|{}", caller.road, caller.site()))
        {
            return Some(BridgeError::new(
                ErrorCode::RateLimited,
                "too many requests; slow down",
            ));
        }
        let message = if self.is_paused() {
            "the companion's bridge is paused".to_owned()
        } else if !self.road_on(caller.road) {
            format!(
                "the {} road is turned off in the companion's settings",
                caller.road
            )
        } else {
            return None;
        };
        Some(BridgeError::new(ErrorCode::Disconnected, message))
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Vault) -> Result<T, VaultError> + Send + 'static,
    ) -> Result<T, BridgeError> {
        let _slot = self
            .vault_slots
            .acquire()
            .await
            .map_err(|e| internal("a vault slot", &e))?;
        let vault = self.vault.clone();
        tokio::task::spawn_blocking(move || f(&vault))
            .await
            .map_err(|e| internal("a vault task", &e))?
            .map_err(vault_error)
    }

    async fn list_grants(&self, caller: &Caller) -> Result<Handled, BridgeError> {
        let key = caller.grant_key().to_string();
        let sessions = self.blocking(|v| v.sessions()).await?;
        let grants: Vec<Value> = sessions
            .into_iter()
            .filter(|s| s.origin == key && s.state == RecordState::Live)
            .map(|s| {
                let may_do: Vec<String> = describe_requests(&s.granted)
                    .into_iter()
                    .map(|l| l.sentence)
                    .collect();
                json!({
                    "network": s.network, "wallet": s.wallet, "sessionKey": s.public_key,
                    "expiresAt": s.expires_at, "granted": s.granted, "mayDo": may_do,
                })
            })
            .collect();
        Ok(Handled {
            result: json!({ "grants": grants }),
            capabilities: String::new(),
            decision: "listed",
        })
    }

    async fn disconnect(&self, caller: &Caller) -> Result<Handled, BridgeError> {
        let key = caller.grant_key().to_string();
        let revoked = self
            .blocking(move |v| v.revoke(Revoke::Origin(&key), OffsetDateTime::now_utc()))
            .await?;
        Ok(Handled {
            result: json!({
                "revoked": revoked,
                "note": "sessionSigs already handed out stay valid at the Lit nodes until they expire",
            }),
            capabilities: String::new(),
            decision: "disconnected",
        })
    }
}

/// The one log line per request: shapes, never bodies or secrets.
fn log_request(caller: &Caller, method: &str, capabilities: &str, decision: &str) {
    tracing::info!(
        target: "lit_companion::request",
        caller = %caller,
        method = %method,
        capabilities = %capabilities,
        decision = %decision,
    );
}
