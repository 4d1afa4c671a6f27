//! The one request handler every road feeds: caller (from the transport) → switches →
//! parameters → reuse or approval ([`Vault::session_for`]) → AuthSig and session key →
//! per-node sessionSigs.
//!
//! - [`params`]: the request's parameters, checked;
//! - [`switches`]: pause, roads and networks, read per request;
//! - [`approval`]: the question for the user, pending limits, one prompt at a time;
//! - [`wallet_step`]: sessions a browser wallet in the page signs (`signWithWallet`,
//!   `walletSignature`);
//! - [`errors`]: what the caller is told (detail goes to the log).
//!
//! One `tracing` line per request says who asked, by which road, for what, and what was
//! decided; never a body, a key or a signature.

mod approval;
mod errors;
mod params;
mod switches;
mod wallet_step;

use std::{sync::Arc, time::Duration};

use lit_companion_net::Networks;
use lit_companion_session::{
    explain::describe_requests,
    resource::list_requests,
    timefmt::{iso_millis, truncate_millis},
    Address,
};
use lit_companion_vault::{
    metadata::RecordState, Grantee, Issuance, LiveSession, Need, NewSession, Revoke, SignRequest,
    Vault, VaultError,
};
use lit_companion_wire::{BridgeError, ErrorCode, Request, Response, WalletSignatureParams};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::{
    approver::Approver,
    caller::{Caller, Road},
};
use errors::{internal, net_error, vault_error};
use params::ValidParams;
use wallet_step::{Handout, Signer, StepLimits, WalletSteps};

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
            max_lifetime: Duration::from_secs(30 * 24 * 3600),
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

/// What an approval made: a stored session and the nodes that completed the handshake, or the
/// step a browser wallet is to take.
enum Created {
    Live(Arc<LiveSession>, Vec<String>),
    WalletStep(Value),
}

/// A new session: stored (a local wallet signed), or waiting for a browser wallet.
enum Made {
    Stored(Arc<LiveSession>),
    Prepared(Box<lit_companion_vault::PreparedSession>),
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
        let outcome = match self.refusal(caller) {
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

    async fn get_session_sigs(
        &self,
        caller: &Caller,
        params: Value,
    ) -> Result<Handled, BridgeError> {
        let now = truncate_millis(OffsetDateTime::now_utc());
        let p = ValidParams::parse(params, now, &self.settings, &self.networks)?;
        let network = p.network.name.as_str();
        if !self.network_on(network) {
            return Err(BridgeError::new(
                ErrorCode::Unsupported,
                format!(
                    "the companion is set not to serve {} ({network}); the user can change this in its settings",
                    p.network.label,
                ),
            ));
        }
        let capabilities = list_requests(&p.requests);
        let origin = caller.grant_key().to_string();
        let wallet = match p.named_wallet() {
            Some(w) => w,
            None => self.default_wallet()?,
        };
        // A reused session must outlive the next minute to be worth handing out.
        let until = now + time::Duration::minutes(1);
        let who = Grantee {
            origin: &origin,
            network,
            wallet,
        };
        let need = Need {
            requests: &p.requests,
            until,
            max_price_wei: p.max_price_wei,
        };
        // The cached path touches neither the keychain nor a file: answered on this task. Only
        // a key not yet in memory is read from the keychain, off the async threads. A claimed
        // identity (a deep link) reuses nothing: the user confirms it every time.
        let cached = if caller.is_verified() {
            self.vault
                .session_from_memory(&who, &need)
                .map_err(vault_error)?
        } else {
            Some(Issuance::Ask(lit_companion_vault::Ask::unverified(
                &p.requests,
            )))
        };
        let issuance = match cached {
            Some(issuance) => issuance,
            None => {
                let (origin, requests, network) =
                    (origin.clone(), p.requests.clone(), network.to_owned());
                let price = p.max_price_wei;
                self.blocking(move |v| {
                    let who = Grantee {
                        origin: &origin,
                        network: &network,
                        wallet,
                    };
                    let need = Need {
                        requests: &requests,
                        until,
                        max_price_wei: price,
                    };
                    v.session_for(&who, &need)
                })
                .await?
            }
        };
        let (live, nodes, reused) = match issuance {
            Issuance::Live(live) => {
                let nodes = self.member_nodes(&p).await?;
                let ready = self
                    .networks
                    .reachable(&p.network, &nodes)
                    .await
                    .map_err(net_error)?;
                (live, ready, true)
            }
            Issuance::Ask(ask) => {
                let record = self.vault.wallet(&wallet).map_err(vault_error)?;
                let signer = Signer::decide(
                    caller,
                    wallet,
                    record,
                    p.external.as_ref().map(|e| e.name.as_str()),
                )?;
                match self
                    .approve_and_create(caller, &p, wallet, &signer, ask, now)
                    .await?
                {
                    Created::Live(live, nodes) => (live, nodes, false),
                    Created::WalletStep(step) => {
                        return Ok(Handled {
                            result: step,
                            capabilities,
                            decision: "approved; the browser wallet is to sign",
                        })
                    }
                }
            }
        };
        let result = self.hand_out(
            &live,
            &SignRequest {
                generation: p.network.generation,
                requests: &p.requests,
                nodes: &nodes,
                now,
                expiration: p.expiration,
                delegations: &p.delegations,
                max_price_wei: p.max_price_wei,
            },
            reused,
        )?;
        Ok(Handled {
            result,
            capabilities,
            decision: if reused { "reused" } else { "approved" },
        })
    }

    /// The sessionSigs of `live` for `request`, and what goes with them.
    fn hand_out(
        &self,
        live: &LiveSession,
        request: &SignRequest<'_>,
        reused: bool,
    ) -> Result<Value, BridgeError> {
        let sigs = live.sign(request).map_err(vault_error)?;
        if reused {
            self.vault.note_reuse(live);
        }
        let expiration = live
            .expiration_for(request.expiration)
            .and_then(|t| iso_millis(t).map_err(|e| VaultError::Internal(e.to_string())))
            .map_err(vault_error)?;
        Ok(json!({
            "sessionSigs": sigs,
            "wallet": live.record.wallet,
            "sessionKey": live.record.public_key,
            "expiration": expiration,
            "reused": reused,
        }))
    }

    /// The browser wallet's answer to a `signWithWallet` step: its signature is checked and the
    /// session stored (or nothing, on any error), then the sessionSigs are handed out.
    async fn wallet_signature(
        &self,
        caller: &Caller,
        params: Value,
    ) -> Result<Handled, BridgeError> {
        let p: WalletSignatureParams = serde_json::from_value(params)
            .map_err(|e| BridgeError::new(ErrorCode::BadRequest, format!("invalid params: {e}")))?;
        let step = self.steps.take(&p.ticket, caller)?;
        let capabilities = list_requests(&step.handout.requests);
        if p.rejected {
            return Err(BridgeError::new(
                ErrorCode::UserRejected,
                "your browser wallet declined to sign; nothing was stored",
            ));
        }
        let Some(signature) = p.signature else {
            return Err(BridgeError::new(
                ErrorCode::BadRequest,
                "walletSignature needs a signature, or rejected: true",
            ));
        };
        let wallet_step::Step {
            prepared,
            add_as,
            handout,
            ..
        } = step;
        let live = self
            .blocking(move |v| v.finish_external_session(prepared, &signature, add_as.as_deref()))
            .await?;
        let result = self.hand_out(
            &live,
            &SignRequest {
                generation: handout.generation,
                requests: &handout.requests,
                nodes: &handout.nodes,
                now: truncate_millis(OffsetDateTime::now_utc()),
                expiration: handout.expiration,
                delegations: &handout.delegations,
                max_price_wei: handout.max_price_wei,
            },
            false,
        )?;
        Ok(Handled {
            result,
            capabilities,
            decision: "signed by the browser wallet",
        })
    }

    /// The nodes a request is signed for: those it names, each a member of the network's
    /// current set (refused with 4400 otherwise, before anything is contacted but the
    /// network's own RPC), or the whole set.
    async fn member_nodes(&self, p: &ValidParams) -> Result<Vec<String>, BridgeError> {
        let set = self
            .networks
            .node_set(&p.network)
            .await
            .map_err(net_error)?;
        if p.nodes.is_empty() {
            return Ok(set.nodes.clone());
        }
        if let Some(stranger) = p.nodes.iter().find(|n| !set.nodes.contains(n)) {
            return Err(BridgeError::new(
                ErrorCode::BadRequest,
                format!(
                    "{stranger} is not a node of {} ({} nodes{}); leave nodeUrls out to use the network's nodes",
                    p.network.name,
                    set.nodes.len(),
                    set.epoch.map(|e| format!(", epoch {e}")).unwrap_or_default(),
                ),
            ));
        }
        Ok(p.nodes.clone())
    }

    /// Asks the user about what is new, then creates the session they approved. The pending
    /// limits come first and the nodes are contacted only once the user said yes: a request
    /// that is refused reaches nothing but (when its node set is stale) the network's RPC.
    /// Answers the new session and the nodes that completed the handshake, or (a browser
    /// wallet signs) the step the page is to take.
    async fn approve_and_create(
        &self,
        caller: &Caller,
        p: &ValidParams,
        wallet: Address,
        signer: &Signer,
        ask: lit_companion_vault::Ask,
        now: OffsetDateTime,
    ) -> Result<Created, BridgeError> {
        let slot = self.pending_slot(caller)?;
        let nodes = self.member_nodes(p).await?;
        let request = self.approval_request(caller, p, wallet, signer, &ask, now)?;
        let asked = p.expiration - now;
        let approved = self.ask(request).await?;
        drop(slot);
        let approved = time::Duration::try_from(approved).unwrap_or(asked);
        let expiration = now + approved.min(asked);
        let agreement = self
            .networks
            .agree(&p.network, &nodes)
            .await
            .map_err(net_error)?;
        let (origin, domain, statement, network, price) = (
            caller.grant_key().to_string(),
            caller.siwe_domain(),
            p.statement.clone(),
            p.network.name.to_string(),
            p.max_price_wei,
        );
        let nonce = agreement.nonce;
        let local = matches!(signer, Signer::Local);
        let made = self
            .blocking(move |v| {
                let who = Grantee {
                    origin: &origin,
                    network: &network,
                    wallet,
                };
                let session = NewSession {
                    domain: &domain,
                    statement: &statement,
                    nonce: &nonce,
                    now,
                    expiration,
                    max_price_wei: price,
                };
                // A browser wallet signs in the page: nothing is stored yet, and the new key
                // waits in memory for the wallet's signature.
                if local {
                    v.create_session(&who, &ask.grant, &session)
                        .map(Made::Stored)
                } else {
                    v.prepare_session(&who, &ask.grant, &session)
                        .map(|p| Made::Prepared(Box::new(p)))
                }
            })
            .await?;
        let prepared = match made {
            Made::Stored(live) => return Ok(Created::Live(live, agreement.nodes)),
            Made::Prepared(prepared) => *prepared,
        };
        let add_as = match signer {
            Signer::Browser { label, add: true } => Some(label.clone()),
            _ => None,
        };
        let step = self.steps.start(
            caller,
            prepared,
            add_as,
            Handout {
                generation: p.network.generation,
                requests: p.requests.clone(),
                nodes: agreement.nodes,
                // The lifetime the user approved: never past the AuthSig the wallet signs.
                expiration,
                delegations: p.delegations.clone(),
                max_price_wei: p.max_price_wei,
            },
            StepLimits {
                lifetime: self.settings.approval_timeout,
                total: self.settings.max_pending,
                per_site: self.settings.max_pending_per_caller,
            },
        )?;
        Ok(Created::WalletStep(step))
    }

    fn default_wallet(&self) -> Result<Address, BridgeError> {
        self.vault
            .default_wallet()
            .map_err(vault_error)?
            .ok_or_else(|| {
                BridgeError::new(
                    ErrorCode::NoWallet,
                    "Lit Companion has no wallet yet: create or import one first",
                )
            })
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
