//! The loopback HTTP road (docs/bridge-protocol.md "Loopback HTTP"). The server is a function
//! that returns a router. Who calls is an extractor ([`auth`]); what is answered, CORS included,
//! is [`answers`]; a request not answered within the wait is collected later by its polling
//! ticket ([`tickets`]).

mod answers;
mod auth;
mod gate;
mod tickets;

use std::{sync::Arc, time::Duration};

use axum::{
    body::{to_bytes, Body},
    extract::{rejection::PathRejection, Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::Response as HttpResponse,
    routing::{get, post},
    Router,
};
use lit_companion_wire::{BridgeError, ErrorCode, PROTOCOL_VERSION};
use serde_json::{json, Value};
use tokio::sync::watch;

pub use self::gate::ConnectionLimits;
use self::{
    answers::{answer, error_answer, preflight, response_answer},
    auth::{check_host, Authenticated},
    gate::Gate,
    tickets::{Answer, Tickets},
};
use crate::{
    engine::Engine,
    peer::{self, Connection, PeerUser},
    ratelimit::{RateLimit, RateLimiter},
};

/// Transport settings.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The port we listen on (for the `Host` check).
    pub port: u16,
    /// The largest body accepted.
    pub body_limit: usize,
    /// Rate limit per site (registrable domain, or local program), as the engine counts.
    pub rate: RateLimit,
    /// How long a request waits for its answer before answering `202 pending`.
    pub wait: Duration,
    /// A pending request whose caller has not polled for this long is withdrawn.
    pub abandon_after: Duration,
    /// How long a connection may take to send its request's head (one request per connection):
    /// a connection that sends nothing is closed.
    pub head_timeout: Duration,
    /// How many connections may be open.
    pub connections: ConnectionLimits,
}

impl HttpConfig {
    /// Defaults for a port.
    pub fn new(port: u16) -> Self {
        Self {
            port,
            body_limit: 64 * 1024,
            rate: RateLimit::default(),
            wait: Duration::from_secs(25),
            abandon_after: Duration::from_secs(30),
            head_timeout: Duration::from_secs(5),
            connections: ConnectionLimits::default(),
        }
    }
}

/// The transport's state.
pub struct HttpState {
    engine: Arc<Engine>,
    config: HttpConfig,
    limiter: RateLimiter,
    tickets: Tickets,
}

impl std::fmt::Debug for HttpState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl HttpState {
    /// State for an engine.
    pub fn new(engine: Arc<Engine>, config: HttpConfig) -> Arc<Self> {
        let limiter = RateLimiter::new(config.rate);
        Arc::new(Self {
            engine,
            config,
            limiter,
            tickets: Tickets::default(),
        })
    }

    /// Withdraws abandoned approvals and forgets old answers; run it every second or so.
    pub fn reap(&self) {
        self.tickets.reap(self.config.abandon_after);
    }
}

/// The router. Every answer it can give, a path or method it does not know included, is a
/// response envelope (docs/bridge-protocol.md "Loopback HTTP"), except a preflight's.
pub fn router(state: Arc<HttpState>) -> Router {
    Router::new()
        .route("/v1/request", post(request).options(preflight))
        .route("/v1/pending/{ticket}", get(pending).options(preflight))
        .route("/v1/status", get(status).options(preflight))
        .fallback(unknown_path)
        .method_not_allowed_fallback(unknown_method)
        .with_state(state)
}

/// A path the protocol does not have: `404`, code 4200.
async fn unknown_path() -> HttpResponse {
    let e = BridgeError::new(ErrorCode::Unsupported, "no such endpoint");
    error_answer(&e, Some(StatusCode::NOT_FOUND), None)
}

/// A method an endpoint does not take: `405`, code 4200.
async fn unknown_method() -> HttpResponse {
    let e = BridgeError::new(
        ErrorCode::Unsupported,
        "this endpoint does not take that method",
    );
    error_answer(&e, Some(StatusCode::METHOD_NOT_ALLOWED), None)
}

/// Serves on `listener` until the future is dropped, reaping abandoned approvals.
///
/// Each connection's OS user is looked up as it is accepted: another user's connection is
/// closed before a byte of it is read, and the rest are admitted within the
/// [`ConnectionLimits`]. Each connection carries one request, whose head must arrive within the
/// head timeout.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<HttpState>,
) -> std::io::Result<()> {
    let reaper = state.clone();
    let _reap_task = AbortOnDrop(tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            reaper.reap();
        }
    }));
    let app = router(state.clone());
    // The total is held under the open-file limit this process got, with room for the
    // keychain, files and node connections.
    let mut limits = state.config.connections;
    if let Some(files) = gate::raise_open_files(limits) {
        let room = usize::try_from(files.saturating_sub(256)).unwrap_or(usize::MAX);
        limits.total = limits.total.min(room.max(2 * limits.unknown));
        tracing::debug!(
            files,
            total = limits.total,
            "open-file limit and connections"
        );
    }
    let gate = Gate::new(limits);
    let head_timeout = state.config.head_timeout;
    loop {
        let Some(place) = gate.place().await else {
            return Ok(());
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, or a connection reset before it was accepted: the
                // listener itself is fine; wait a moment rather than spin.
                tracing::warn!(error = %e, "a connection could not be accepted");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let conn = Connection::accepted(peer, stream.local_addr().ok());
        let (app, gate) = (app.clone(), gate.clone());
        tokio::spawn(async move {
            let user = peer::user(&conn).await;
            if let PeerUser::Other(uid) = user {
                tracing::warn!(uid, "a connection from another OS user was closed unread");
                return;
            }
            let Some(_pass) = gate.admit(place, user) else {
                tracing::warn!(
                    "too many connections whose OS user cannot be told: one was closed unread"
                );
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(
                app.layer(axum::Extension(axum::extract::ConnectInfo(conn))),
            );
            // One request per connection (`Connection: close`): a connection is never idle
            // between requests, so the head timeout never races a client reusing a connection
            // the companion is closing, and nothing holds a descriptor while waiting for
            // nothing. Loopback connections cost microseconds.
            let served = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .keep_alive(false)
                .header_read_timeout(head_timeout)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "a connection ended with an error");
            }
        });
    }
}

/// A task that ends with the value holding it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn request(
    State(state): State<Arc<HttpState>>,
    Authenticated { caller, cors }: Authenticated,
    headers: HeaderMap,
    body: Body,
) -> HttpResponse {
    let cors = cors.as_ref();
    if !state.limiter.allow(&caller.site()) {
        return error_answer(
            &BridgeError::new(ErrorCode::RateLimited, "too many requests; slow down"),
            None,
            cors,
        );
    }
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !json_body {
        return error_answer(
            &BridgeError::new(
                ErrorCode::BadRequest,
                "Content-Type must be application/json",
            ),
            None,
            cors,
        );
    }
    // The body, like the head, must arrive in time: a connection is not held by a trickle.
    let bytes = match tokio::time::timeout(
        state.config.head_timeout * 2,
        to_bytes(body, state.config.body_limit),
    )
    .await
    {
        Ok(Ok(b)) => b,
        Err(_) => {
            let e = BridgeError::new(ErrorCode::BadRequest, "the body did not arrive in time");
            return error_answer(&e, None, cors);
        }
        Ok(Err(_)) => {
            let e = BridgeError::new(
                ErrorCode::TooLarge,
                format!("the body is over {} bytes", state.config.body_limit),
            );
            return error_answer(&e, None, cors);
        }
    };
    // The request's id is read from the body only if the answer is `202 pending`: the engine
    // parses the body once, and the cached path answers before the wait is over.
    let body = bytes.clone();

    // The engine runs in its own task so that an approval survives a dropped connection until
    // the caller stops polling.
    let (tx, rx) = watch::channel(None);
    let engine = state.engine.clone();
    let task_caller = caller.clone();
    let task = tokio::spawn(async move {
        let resp = engine.handle(&task_caller, &bytes).await;
        let _ = tx.send(Some(resp));
    });
    let ticket = state.tickets.issue(caller, rx.clone(), task.abort_handle());
    wait_for(&state, &ticket, rx, Some(&body), cors).await
}

async fn wait_for(
    state: &HttpState,
    ticket: &str,
    mut rx: Answer,
    body: Option<&axum::body::Bytes>,
    cors: Option<&HeaderValue>,
) -> HttpResponse {
    let done = tokio::time::timeout(state.config.wait, rx.wait_for(Option::is_some)).await;
    match done {
        Ok(Ok(resp)) => {
            // Answered from the channel as it stands: no copy of the sessionSigs.
            let answered = match &*resp {
                Some(r) => response_answer(r, cors),
                None => error_answer(
                    &BridgeError::new(ErrorCode::Internal, "internal error"),
                    None,
                    cors,
                ),
            };
            drop(resp);
            state.tickets.remove(ticket);
            answered
        }
        Ok(Err(_)) => error_answer(
            &BridgeError::new(ErrorCode::RequestExpired, "the request was withdrawn"),
            None,
            cors,
        ),
        Err(_) => {
            state.tickets.touch(ticket);
            let id = body
                .and_then(|b| serde_json::from_slice::<Value>(b).ok())
                .and_then(|v| v.get("id").cloned())
                .unwrap_or(Value::Null);
            answer(
                StatusCode::ACCEPTED,
                &json!({ "v": PROTOCOL_VERSION, "id": id, "pending": ticket }),
                cors,
            )
        }
    }
}

async fn pending(
    State(state): State<Arc<HttpState>>,
    Authenticated { caller, cors }: Authenticated,
    ticket: Result<Path<String>, PathRejection>,
) -> HttpResponse {
    let cors = cors.as_ref();
    // A ticket that is not even text (`%bc`) is a malformed request, answered in the envelope
    // like any other (axum's own rejection is plain text).
    let Ok(Path(ticket)) = ticket else {
        return error_answer(
            &BridgeError::new(ErrorCode::BadRequest, "the pending ticket is not valid"),
            None,
            cors,
        );
    };
    let Some(rx) = state.tickets.poll(&ticket, &caller) else {
        return error_answer(
            &BridgeError::new(
                ErrorCode::RequestExpired,
                "no such pending request (it ended or was withdrawn)",
            ),
            None,
            cors,
        );
    };
    wait_for(&state, &ticket, rx, None, cors).await
}

async fn status(State(state): State<Arc<HttpState>>, headers: HeaderMap) -> HttpResponse {
    if let Err(e) = check_host(&state, &headers) {
        return error_answer(&e, Some(StatusCode::FORBIDDEN), None);
    }
    // A web page learns only that a companion is here and which protocol it speaks; the
    // version is for local programs (no `Origin`).
    let origin = headers.get(header::ORIGIN);
    let body = match origin {
        Some(_) => json!({ "app": "lit-companion", "protocol": [PROTOCOL_VERSION] }),
        None => json!({
            "app": "lit-companion",
            "version": env!("CARGO_PKG_VERSION"),
            "protocol": [PROTOCOL_VERSION],
        }),
    };
    answer(StatusCode::OK, &body, origin)
}
