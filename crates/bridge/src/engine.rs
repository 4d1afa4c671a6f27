//! The one request handler every road feeds: caller (from the transport) → grants → reuse or
//! approval → AuthSig and session key → per-node sessionSigs.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, AtomicU8, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use lit_companion_net::{default_lifetime, LitNetClient, NetError};
use lit_companion_session::{
    authsig::AuthSig,
    explain::{describe_duration, describe_recap, describe_requests, not_granted, RiskFlag},
    message::DELEGATION_URI,
    session_sigs::check_node_url,
    timefmt::{iso_millis, parse_rfc3339, truncate_millis},
    Address, Network, Recap, ResourceAbilityRequest,
};
use lit_companion_vault::{
    KeychainError, LiveSession, NeedReason, NewSession, Revoke, SessionLookup, SignRequest, Vault,
    VaultError,
};
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::{
    approver::{ApprovalRequest, Approver, Decision},
    caller::{Caller, Road},
    proto::{BridgeError, ErrorCode, GetSessionSigsParams, Request, Response},
};

/// Tunables.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// The longest session anyone may approve (nodes refuse more than 30 days).
    pub max_lifetime: Duration,
    /// How long a prompt may wait for the user.
    pub approval_timeout: Duration,
    /// Prompts waiting at once, in all.
    pub max_pending: usize,
    /// Prompts waiting at once, per caller.
    pub max_pending_per_caller: usize,
    /// Naga `maxPrice` when the dapp gives none (wei).
    pub default_max_price_wei: u128,
    /// Whether the bridge starts paused (every request gets 4900); see [`Engine::set_paused`].
    pub paused: bool,
}

/// What the user switches while the engine runs (the tray's "Pause", the settings screen's
/// roads). Read on every request; a switched-off road answers 4900 like a paused bridge.
#[derive(Debug, Default)]
struct Switches {
    paused: AtomicBool,
    http_off: AtomicBool,
    extension_off: AtomicBool,
    deep_link_off: AtomicBool,
    /// One bit per [`Network::ALL`] entry: set means off.
    networks_off: AtomicU8,
}

fn network_bit(network: Network) -> u8 {
    let i = Network::ALL.iter().position(|n| *n == network).unwrap_or(0);
    1 << i
}

impl Switches {
    fn road(&self, road: Road) -> &AtomicBool {
        match road {
            Road::Http => &self.http_off,
            Road::Extension => &self.extension_off,
            Road::DeepLink => &self.deep_link_off,
        }
    }
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            max_lifetime: Duration::from_secs(30 * 24 * 3600),
            approval_timeout: Duration::from_secs(300),
            max_pending: 16,
            max_pending_per_caller: 2,
            default_max_price_wei: 1_000_000_000_000_000_000,
            paused: false,
        }
    }
}

/// One line of the request log: shapes, never bodies or secrets.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// Who asked, by which road.
    pub caller: String,
    /// The method.
    pub method: String,
    /// What was asked, as resource/ability pairs.
    pub capabilities: String,
    /// `reused`, `approved`, `rejected`, or the error name.
    pub decision: String,
}

type LogSink = Arc<dyn Fn(&LogLine) + Send + Sync>;

/// How long a session key read from the keychain is kept in memory.
const KEY_TTL: Duration = Duration::from_secs(10);

/// The engine.
pub struct Engine {
    vault: Arc<Vault>,
    net: LitNetClient,
    approver: Arc<dyn Approver>,
    settings: EngineSettings,
    switches: Switches,
    /// One prompt at a time: approvals queue on this lock, in arrival order.
    queue: tokio::sync::Mutex<()>,
    pending: Mutex<HashMap<String, usize>>,
    /// Live sessions read from the keychain in the last [`KEY_TTL`]: a busy dapp does not cost a
    /// keychain round trip per request. Used only after the metadata shows the session live.
    keys: Mutex<HashMap<String, (LiveSession, std::time::Instant)>>,
    /// History lines waiting for [`Engine::flush_history`] (one metadata write per batch).
    history: Mutex<Vec<(String, String, OffsetDateTime)>>,
    log: LogSink,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// Decrements the pending count when an approval ends, however it ends.
struct PendingSlot<'a> {
    engine: &'a Engine,
    key: String,
}

impl Drop for PendingSlot<'_> {
    fn drop(&mut self) {
        if let Ok(mut pending) = self.engine.pending.lock() {
            if let Some(n) = pending.get_mut(&self.key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    pending.remove(&self.key);
                }
            }
        }
    }
}

impl Engine {
    /// An engine over a vault, a network client and an approver.
    pub fn new(
        vault: Arc<Vault>,
        net: LitNetClient,
        approver: Arc<dyn Approver>,
        settings: EngineSettings,
    ) -> Self {
        let switches = Switches::default();
        switches.paused.store(settings.paused, Ordering::SeqCst);
        Self {
            vault,
            net,
            approver,
            settings,
            switches,
            queue: tokio::sync::Mutex::new(()),
            pending: Mutex::new(HashMap::new()),
            history: Mutex::new(Vec::new()),
            keys: Mutex::new(HashMap::new()),
            log: Arc::new(|_| {}),
        }
    }

    /// Sends one [`LogLine`] per request to `sink`.
    pub fn with_log(mut self, sink: impl Fn(&LogLine) + Send + Sync + 'static) -> Self {
        self.log = Arc::new(sink);
        self
    }

    /// Pauses or resumes the bridge: while paused every request is answered 4900 at once.
    pub fn set_paused(&self, paused: bool) {
        self.switches.paused.store(paused, Ordering::SeqCst);
    }

    /// Whether the bridge is paused.
    pub fn is_paused(&self) -> bool {
        self.switches.paused.load(Ordering::SeqCst)
    }

    /// Turns one road on or off: requests arriving by a road that is off are answered 4900.
    pub fn set_road(&self, road: Road, on: bool) {
        self.switches.road(road).store(!on, Ordering::SeqCst);
    }

    /// Whether `road` is on.
    pub fn road_on(&self, road: Road) -> bool {
        !self.switches.road(road).load(Ordering::SeqCst)
    }

    /// Serves or refuses (4200) requests for `network`.
    pub fn set_network(&self, network: Network, on: bool) {
        let bit = network_bit(network);
        if on {
            self.switches.networks_off.fetch_and(!bit, Ordering::SeqCst);
        } else {
            self.switches.networks_off.fetch_or(bit, Ordering::SeqCst);
        }
    }

    /// Whether requests for `network` are served.
    pub fn network_on(&self, network: Network) -> bool {
        self.switches.networks_off.load(Ordering::SeqCst) & network_bit(network) == 0
    }

    /// The vault.
    pub fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    /// Writes buffered history lines (the transports call this about once a second, and at
    /// shutdown).
    pub async fn flush_history(&self) {
        let lines = match self.history.lock() {
            Ok(mut h) => std::mem::take(&mut *h),
            Err(_) => return,
        };
        if lines.is_empty() {
            return;
        }
        let vault = self.vault.clone();
        let _ = tokio::task::spawn_blocking(move || vault.record_issued_batch(&lines)).await;
    }

    /// Handles one request body from `caller` and always answers with an envelope.
    pub async fn handle(&self, caller: &Caller, body: &[u8]) -> Response {
        let request = match crate::proto::parse_request(body) {
            Ok(r) => r,
            Err((id, e)) => {
                self.emit(caller, "?", String::new(), e.code.name());
                return Response::err(id, &e);
            }
        };
        self.handle_request(caller, request).await
    }

    /// Handles a parsed request.
    pub async fn handle_request(&self, caller: &Caller, request: Request) -> Response {
        let id = request.id.clone();
        let off = if self.is_paused() {
            Some("the companion's bridge is paused".to_owned())
        } else if !self.road_on(caller.road) {
            Some(format!(
                "the {} road is turned off in the companion's settings",
                caller.road
            ))
        } else {
            None
        };
        if let Some(message) = off {
            let e = BridgeError::new(ErrorCode::Disconnected, message);
            self.emit(caller, &request.method, String::new(), e.code.name());
            return Response::err(id, &e);
        }
        let method = request.method.clone();
        let outcome = match method.as_str() {
            "getSessionSigs" => self.get_session_sigs(caller, request.params).await,
            "listGrants" => self
                .list_grants(caller)
                .await
                .map(|v| (v, String::new(), "listed".to_owned())),
            "disconnect" => self
                .disconnect(caller)
                .await
                .map(|v| (v, String::new(), "disconnected".to_owned())),
            other => Err(BridgeError::new(
                ErrorCode::Unsupported,
                format!("unknown method {other:?}"),
            )),
        };
        match outcome {
            Ok((result, capabilities, decision)) => {
                self.emit(caller, &method, capabilities, &decision);
                Response::ok(id, result)
            }
            Err(e) => {
                self.emit(caller, &method, String::new(), e.code.name());
                Response::err(id, &e)
            }
        }
    }

    fn emit(&self, caller: &Caller, method: &str, capabilities: String, decision: &str) {
        (self.log)(&LogLine {
            caller: caller.to_string(),
            method: method.to_owned(),
            capabilities,
            decision: decision.to_owned(),
        });
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Vault) -> Result<T, VaultError> + Send + 'static,
    ) -> Result<T, BridgeError> {
        let vault = self.vault.clone();
        tokio::task::spawn_blocking(move || f(&vault))
            .await
            .map_err(|_| BridgeError::new(ErrorCode::Internal, "internal error"))?
            .map_err(vault_error)
    }

    async fn get_session_sigs(
        &self,
        caller: &Caller,
        params: Value,
    ) -> Result<(Value, String, String), BridgeError> {
        let now = truncate_millis(OffsetDateTime::now_utc());
        let p = ValidParams::parse(params, now, &self.settings)?;
        if !self.network_on(p.network) {
            return Err(BridgeError::new(
                ErrorCode::Unsupported,
                format!(
                    "the companion is set not to serve {} ({}); the user can change this in its settings",
                    p.network.label(),
                    p.network
                ),
            ));
        }
        let summary = p
            .requests
            .iter()
            .map(|r| format!("{}@{}", r.ability, r.resource))
            .collect::<Vec<_>>()
            .join(",");
        let key = caller.grant_key();
        let wallet = match p.wallet {
            Some(w) => w,
            None => self.default_wallet().await?,
        };

        let found = {
            let (key, requests, network) = (key.clone(), p.requests.clone(), p.network);
            let until = now + time::Duration::minutes(1);
            self.blocking(move |v| v.find_session(&key, network, &wallet, &requests, until))
                .await?
        };
        let lookup = match found {
            Err(reason) => SessionLookup::NeedsAuthSig(reason),
            Ok(record) => match self.cached_key(&record.public_key) {
                Some(live) => SessionLookup::Live(Box::new(live)),
                None => {
                    let looked = self.blocking(move |v| v.open_session(record)).await?;
                    if let SessionLookup::Live(live) = &looked {
                        self.cache_key(live);
                    }
                    looked
                }
            },
        };
        let (live, reused) = match lookup {
            SessionLookup::Live(live) => (*live, true),
            SessionLookup::NeedsAuthSig(reason) => {
                let granted = match &reason {
                    NeedReason::Escalation { granted, .. } => granted.clone(),
                    _ => Vec::new(),
                };
                let new: Vec<ResourceAbilityRequest> = match &reason {
                    NeedReason::Escalation { missing, .. } => missing.clone(),
                    _ => p.requests.clone(),
                };
                // What the new AuthSig grants: the old grant plus this request.
                let mut grant = granted.clone();
                for r in &p.requests {
                    if !grant.contains(r) {
                        grant.push(r.clone());
                    }
                }
                let lifetime = p.expiration - now;
                // The nodes are asked before the user is: a network that is down fails at once
                // instead of after a prompt, and the prompt can show the real message.
                let preview_nonce = self
                    .net
                    .latest_blockhash(&p.nodes)
                    .await
                    .map_err(net_error)?;
                let mut request =
                    self.approval_request(caller, &p, wallet, &granted, &new, lifetime)?;
                request.siwe_preview =
                    siwe_preview(caller, &p, wallet, &grant, &preview_nonce, now);
                let approved = self.ask(caller, request).await?;
                let approved = time::Duration::try_from(approved).unwrap_or(lifetime);
                let expiration = now + approved.min(lifetime);
                let nonce = self
                    .net
                    .latest_blockhash(&p.nodes)
                    .await
                    .map_err(net_error)?;
                let (origin, domain, statement, network) = (
                    key.clone(),
                    caller.siwe_domain(),
                    p.statement.clone(),
                    p.network,
                );
                let live = self
                    .blocking(move |v| {
                        v.create_session(&NewSession {
                            origin: &origin,
                            domain: &domain,
                            network,
                            wallet,
                            grant: &grant,
                            statement: &statement,
                            nonce: &nonce,
                            now,
                            expiration,
                        })
                    })
                    .await?;
                self.cache_key(&live);
                (live, false)
            }
        };
        let sigs = live
            .sign(&SignRequest {
                network: p.network,
                requests: &p.requests,
                nodes: &p.nodes,
                now,
                expiration: p.expiration,
                delegations: &p.delegations,
                max_price_wei: p.max_price_wei,
            })
            .map_err(vault_error)?;
        let expiration = sigs
            .entries()
            .first()
            .and_then(|(_, e)| serde_json::from_str::<Value>(&e.signed_message).ok())
            .and_then(|v| {
                v.get("expiration")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        let detail = format!("sessionSigs for {} node(s), {summary}", sigs.len());
        let origin = key.clone();
        self.blocking(move |v| v.record_issued(&origin, detail, now))
            .await?;
        let result = json!({
            "sessionSigs": sigs,
            "wallet": wallet.to_checksum(),
            "sessionKey": live.record.public_key,
            "expiration": expiration,
            "reused": reused,
        });
        Ok((
            result,
            summary,
            if reused { "reused" } else { "approved" }.to_owned(),
        ))
    }

    fn cached_key(&self, public_key: &str) -> Option<LiveSession> {
        let keys = self.keys.lock().ok()?;
        keys.get(public_key)
            .filter(|(_, at)| at.elapsed() < KEY_TTL)
            .map(|(live, _)| live.clone())
    }

    fn cache_key(&self, live: &LiveSession) {
        if let Ok(mut keys) = self.keys.lock() {
            keys.retain(|_, (_, at)| at.elapsed() < KEY_TTL);
            keys.insert(
                live.record.public_key.clone(),
                (live.clone(), std::time::Instant::now()),
            );
        }
    }

    async fn default_wallet(&self) -> Result<Address, BridgeError> {
        let wallets = self.blocking(|v| v.wallets()).await?;
        let first = wallets.first().ok_or_else(|| {
            BridgeError::new(
                ErrorCode::NoWallet,
                "Lit Companion has no wallet yet: create or import one first",
            )
        })?;
        Address::parse_any_case(&first.address)
            .map_err(|_| BridgeError::new(ErrorCode::Internal, "internal error"))
    }

    fn approval_request(
        &self,
        caller: &Caller,
        p: &ValidParams,
        wallet: Address,
        granted: &[ResourceAbilityRequest],
        new: &[ResourceAbilityRequest],
        lifetime: time::Duration,
    ) -> Result<ApprovalRequest, BridgeError> {
        let now = OffsetDateTime::now_utc();
        let (duration_text, flags) = describe_duration(now, Some(now + lifetime));
        let mut all = granted.to_vec();
        all.extend(new.iter().cloned());
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
        let mut flags: Vec<RiskFlag> = flags;
        flags.sort();
        flags.dedup();
        let lifetime = Duration::from_secs(u64::try_from(lifetime.whole_seconds()).unwrap_or(0));
        Ok(ApprovalRequest {
            caller: caller.clone(),
            who: caller.describe(),
            origin: caller.grant_key(),
            verified: caller.is_verified(),
            road: caller.road.to_string(),
            network: p.network.as_str().to_owned(),
            network_label: p.network.label().to_owned(),
            wallet: wallet.to_checksum(),
            already_granted: describe_requests(granted),
            new: describe_requests(new),
            not_granted: not_granted(&Recap::for_requests(&all)),
            new_requests: new.to_vec(),
            lifetime,
            max_lifetime: self.settings.max_lifetime,
            duration_text,
            flags,
            supplied_delegations: supplied,
            statement: p.statement.clone(),
            siwe_preview: String::new(),
        })
    }

    /// Queues the question, one prompt at a time, within the pending limits and the timeout.
    async fn ask(
        &self,
        caller: &Caller,
        request: ApprovalRequest,
    ) -> Result<Duration, BridgeError> {
        let key = caller.grant_key();
        {
            let mut pending = self
                .pending
                .lock()
                .map_err(|_| BridgeError::new(ErrorCode::Internal, "internal error"))?;
            let total: usize = pending.values().sum();
            let mine = pending.get(&key).copied().unwrap_or(0);
            if total >= self.settings.max_pending || mine >= self.settings.max_pending_per_caller {
                return Err(BridgeError::new(
                    ErrorCode::RateLimited,
                    "too many requests are waiting for the user; try again later",
                ));
            }
            *pending.entry(key.clone()).or_default() += 1;
        }
        let _slot = PendingSlot { engine: self, key };
        let wait = async {
            let _turn = self.queue.lock().await;
            self.approver.approve(request).await
        };
        match tokio::time::timeout(self.settings.approval_timeout, wait).await {
            Err(_) => Err(BridgeError::new(
                ErrorCode::RequestExpired,
                "the request was not answered in time",
            )),
            Ok(Decision::Reject { reason }) => Err(BridgeError::new(
                ErrorCode::UserRejected,
                format!("rejected: {reason}"),
            )),
            Ok(Decision::Approve { lifetime }) => Ok(lifetime),
        }
    }

    async fn list_grants(&self, caller: &Caller) -> Result<Value, BridgeError> {
        let key = caller.grant_key();
        let sessions = self.blocking(|v| v.sessions()).await?;
        let grants: Vec<Value> = sessions
            .into_iter()
            .filter(|s| {
                s.origin == key && s.state == lit_companion_vault::metadata::RecordState::Live
            })
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
        Ok(json!({ "grants": grants }))
    }

    async fn disconnect(&self, caller: &Caller) -> Result<Value, BridgeError> {
        let key = caller.grant_key();
        let revoked = self
            .blocking(move |v| v.revoke(Revoke::Origin(&key), OffsetDateTime::now_utc()))
            .await?;
        Ok(json!({
            "revoked": revoked,
            "note": "sessionSigs already handed out stay valid at the Lit nodes until they expire",
        }))
    }
}

/// Parameters after validation.
struct ValidParams {
    network: Network,
    requests: Vec<ResourceAbilityRequest>,
    nodes: Vec<String>,
    expiration: OffsetDateTime,
    delegations: Vec<AuthSig>,
    statement: String,
    max_price_wei: Option<u128>,
    wallet: Option<Address>,
}

impl ValidParams {
    fn parse(
        params: Value,
        now: OffsetDateTime,
        settings: &EngineSettings,
    ) -> Result<Self, BridgeError> {
        let bad = |m: String| BridgeError::new(ErrorCode::BadRequest, m);
        let p: GetSessionSigsParams =
            serde_json::from_value(params).map_err(|e| bad(format!("invalid params: {e}")))?;
        let network: Network = p
            .network
            .parse()
            .map_err(|e: lit_companion_session::ResourceError| bad(e.to_string()))?;
        let requests = ResourceAbilityRequest::parse_list(&p.resource_ability_requests.to_string())
            .map_err(|e| bad(e.to_string()))?;
        if requests.len() > 64 {
            return Err(bad("at most 64 resource/ability requests".into()));
        }
        for r in &requests {
            r.check_generation(network.generation())
                .map_err(|e| bad(e.to_string()))?;
        }
        if p.node_urls.is_empty() {
            return Err(bad(
                "nodeUrls is required: pass the nodes your Lit client is connected to".into(),
            ));
        }
        if p.node_urls.len() > 100 {
            return Err(bad("at most 100 node URLs".into()));
        }
        for url in &p.node_urls {
            check_node_url(url).map_err(|e| bad(e.to_string()))?;
        }
        let expiration = match &p.expiration {
            Some(t) => parse_rfc3339(t)
                .ok_or_else(|| bad(format!("expiration {t:?} is not an RFC 3339 time")))?,
            None => {
                now + time::Duration::try_from(default_lifetime(network))
                    .unwrap_or(time::Duration::HOUR)
            }
        };
        if expiration <= now + time::Duration::minutes(1) {
            return Err(bad("expiration must be more than a minute away".into()));
        }
        let max =
            time::Duration::try_from(settings.max_lifetime).unwrap_or(time::Duration::days(30));
        if expiration - now > max {
            return Err(bad(format!(
                "a session may last at most {} days",
                max.whole_days()
            )));
        }
        let mut delegations = Vec::new();
        for value in p.capability_auth_sigs {
            let a =
                AuthSig::from_value(value).map_err(|e| bad(format!("capabilityAuthSigs: {e}")))?;
            let v = a
                .verify_signature()
                .map_err(|e| bad(format!("capabilityAuthSigs: {e}")))?;
            if v.message.uri.as_str() != DELEGATION_URI {
                return Err(bad("capabilityAuthSigs may only hold delegation AuthSigs (uri lit:capability:delegation)".into()));
            }
            delegations.push(a);
        }
        let statement = p.statement.unwrap_or_default();
        if statement.len() > 500 || statement.contains(['\n', '\r']) {
            return Err(bad("statement: at most 500 characters on one line".into()));
        }
        let max_price_wei = match (network.generation(), p.max_price) {
            (lit_companion_session::Generation::Datil, None) => None,
            (lit_companion_session::Generation::Datil, Some(_)) => {
                return Err(bad("maxPrice applies to Naga networks only".into()))
            }
            (lit_companion_session::Generation::Naga, Some(s)) => Some(
                s.parse::<u128>()
                    .map_err(|_| bad("maxPrice must be a decimal number of wei".into()))?,
            ),
            (lit_companion_session::Generation::Naga, None) => Some(settings.default_max_price_wei),
        };
        let wallet = p
            .wallet
            .map(|w| Address::parse_any_case(&w).map_err(|e| bad(format!("wallet: {e}"))))
            .transpose()?;
        let _ = iso_millis(expiration).map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            network,
            requests,
            nodes: p.node_urls,
            expiration,
            delegations,
            statement,
            max_price_wei,
            wallet,
        })
    }
}

fn vault_error(e: VaultError) -> BridgeError {
    match &e {
        VaultError::Keychain(KeychainError::Locked) => BridgeError::new(
            ErrorCode::KeychainUnavailable,
            "the keychain is locked: the user must unlock it",
        ),
        VaultError::Keychain(KeychainError::Unavailable(_)) => BridgeError::new(
            ErrorCode::KeychainUnavailable,
            "no keychain is available on this machine",
        ),
        VaultError::UnknownWallet(w) => BridgeError::new(
            ErrorCode::BadRequest,
            format!("no wallet {w} in Lit Companion"),
        ),
        VaultError::Protocol(p) => BridgeError::new(ErrorCode::BadRequest, p.to_string()),
        VaultError::Invalid(m) => BridgeError::new(ErrorCode::BadRequest, m.clone()),
        _ => BridgeError::new(
            ErrorCode::Internal,
            "internal error (see the companion's log)",
        ),
    }
}

/// The EIP-4361 text the user's wallet will sign, as the prompt's "show the message"
/// disclosure shows it. The session key's `uri`, the nonce (the nodes' latest block hash) and
/// the times are set again when the user approves; everything else is exactly what is signed.
fn siwe_preview(
    caller: &Caller,
    p: &ValidParams,
    wallet: Address,
    grant: &[ResourceAbilityRequest],
    nonce: &str,
    now: OffsetDateTime,
) -> String {
    lit_companion_session::message::build(&lit_companion_session::message::MessageParams {
        domain: &caller.siwe_domain(),
        address: wallet,
        statement: &p.statement,
        uri: &lit_companion_session::message::session_uri("new-session-key"),
        chain_id: 1,
        nonce,
        issued_at: now,
        expiration: p.expiration,
        recap: &Recap::for_requests(grant),
    })
    .unwrap_or_default()
}

fn net_error(e: NetError) -> BridgeError {
    BridgeError::new(ErrorCode::NetworkUnavailable, e.to_string())
}
