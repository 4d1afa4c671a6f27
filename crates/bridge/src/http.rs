//! The loopback HTTP road (docs/bridge-protocol.md "Loopback HTTP"). The server is a function
//! that returns a router; `Host` must be our loopback address (DNS-rebinding defence), the
//! caller is the browser's `Origin` (with the Fetch Metadata a browser always sends) or a
//! pairing token, and CORS answers exactly that origin.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    body::{to_bytes, Body},
    extract::{rejection::PathRejection, ConnectInfo, Path, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response as HttpResponse},
    routing::{get, post},
    Router,
};
use lit_companion_session::Origin;
use lit_companion_wire::{BridgeError, ErrorCode, Response, PROTOCOL_VERSION};
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::{
    caller::{Caller, Identity, Road},
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
    /// Per-caller rate limit.
    pub rate: RateLimit,
    /// How long a request waits for its answer before answering `202 pending`.
    pub wait: Duration,
    /// A pending request whose caller has not polled for this long is withdrawn.
    pub abandon_after: Duration,
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
        }
    }
}

struct Ticket {
    caller: Caller,
    rx: watch::Receiver<Option<Response>>,
    last_seen: Instant,
    task: tokio::task::AbortHandle,
}

/// The transport's state.
pub struct HttpState {
    engine: Arc<Engine>,
    config: HttpConfig,
    limiter: RateLimiter,
    tickets: Mutex<HashMap<String, Ticket>>,
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
            tickets: Mutex::new(HashMap::new()),
        })
    }

    /// Withdraws abandoned approvals and forgets old answers; run it every second or so.
    pub fn reap(&self) {
        let Ok(mut tickets) = self.tickets.lock() else {
            return;
        };
        let abandon = self.config.abandon_after;
        tickets.retain(|_, t| {
            let idle = t.last_seen.elapsed();
            let done = t.rx.borrow().is_some();
            if !done && idle > abandon {
                t.task.abort();
                return false;
            }
            !(done && idle > abandon * 2)
        });
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
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<HttpState>,
) -> std::io::Result<()> {
    let reaper = state.clone();
    let reap_task = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            reaper.reap();
        }
    });
    let app = router(state.clone()).into_make_service_with_connect_info::<Connection>();
    let result = axum::serve(listener, app).await;
    reap_task.abort();
    result
}

/// The answer, with CORS for exactly the caller's origin. The body is serialised once, straight
/// to bytes.
fn answer(
    status: StatusCode,
    body: &impl serde::Serialize,
    origin: Option<&HeaderValue>,
) -> HttpResponse {
    let mut resp = (status, axum::Json(body)).into_response();
    if let Some(o) = origin {
        resp.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o.clone());
        resp.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn error_answer(
    e: &BridgeError,
    status: Option<StatusCode>,
    origin: Option<&HeaderValue>,
) -> HttpResponse {
    let status = status.unwrap_or_else(|| {
        StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
    });
    answer(status, &Response::err(Value::Null, e), origin)
}

fn response_answer(resp: &Response, origin: Option<&HeaderValue>) -> HttpResponse {
    let status = resp
        .error_code()
        .and_then(|c| {
            let code = ErrorCode::from_code(c)?;
            StatusCode::from_u16(code.http_status()).ok()
        })
        .unwrap_or(StatusCode::OK);
    answer(status, resp, origin)
}

/// `Host` must name our loopback listener: a page on a rebound DNS name sends its own name.
fn check_host(state: &HttpState, headers: &HeaderMap) -> Result<(), BridgeError> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let port = state.config.port;
    let ok = [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ]
    .iter()
    .any(|h| h == host);
    if ok {
        Ok(())
    } else {
        Err(BridgeError::new(
            ErrorCode::Unauthorized,
            "the Host header must be this companion's loopback address",
        ))
    }
}

/// The origin a browser sent, only when it looks like a browser request: browsers add Fetch
/// Metadata (`Sec-Fetch-Mode`, `Sec-Fetch-Site`) to every fetch, and pages cannot remove them.
fn browser_origin(headers: &HeaderMap) -> Result<Option<Origin>, BridgeError> {
    let Some(raw) = headers.get(header::ORIGIN) else {
        return Ok(None);
    };
    let unauthorized = |m: &str| BridgeError::new(ErrorCode::Unauthorized, m.to_owned());
    let text = raw
        .to_str()
        .map_err(|_| unauthorized("the Origin header is not text"))?;
    let origin = Origin::parse(text)
        .map_err(|_| unauthorized("the Origin must be an http(s) web origin"))?;
    let mode = headers.get("sec-fetch-mode").and_then(|v| v.to_str().ok());
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let browser_like = matches!(mode, Some("cors" | "same-origin"))
        && matches!(site, Some("cross-site" | "same-site" | "same-origin"));
    if !browser_like {
        return Err(unauthorized(
            "a request with an Origin must come from a browser (Fetch Metadata missing)",
        ));
    }
    Ok(Some(origin))
}

/// Which OS user the connection comes from; none known when the transport gave no
/// connection (a router used without [`serve`]).
async fn peer_user(conn: Option<&ConnectInfo<Connection>>) -> PeerUser {
    match conn {
        Some(ConnectInfo(conn)) => peer::user(conn).await,
        None => PeerUser::Unknown,
    }
}

async fn caller(
    state: &HttpState,
    headers: &HeaderMap,
    conn: Option<&ConnectInfo<Connection>>,
) -> Result<Caller, (BridgeError, Option<StatusCode>)> {
    // Before anything else: another OS user's process is refused whatever it sends.
    let user = peer_user(conn).await;
    if let PeerUser::Other(uid) = user {
        tracing::warn!(uid, "a connection from another OS user was refused");
        return Err((
            BridgeError::new(
                ErrorCode::Unauthorized,
                "this companion serves only the OS user it runs as",
            ),
            Some(StatusCode::FORBIDDEN),
        ));
    }
    check_host(state, headers).map_err(|e| (e, Some(StatusCode::MISDIRECTED_REQUEST)))?;
    if let Some(origin) = browser_origin(headers).map_err(|e| (e, None))? {
        if user != PeerUser::Same {
            // Headers prove nothing from a process whose user cannot be told.
            return Err((
                BridgeError::new(
                    ErrorCode::Unauthorized,
                    "the companion cannot tell which OS user is calling; use a pairing token",
                ),
                None,
            ));
        }
        return Ok(Caller::verified(origin, Road::Http));
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err((
            BridgeError::new(
                ErrorCode::Unauthorized,
                "no Origin and no pairing token: local programs need `lit-companion pair new`",
            ),
            None,
        ));
    };
    // A stat of the metadata and a hash: answered on this task.
    match state.engine.vault().check_pairing(token) {
        Ok(Some(p)) => Ok(Caller {
            identity: Identity::Paired { name: p.name },
            road: Road::Http,
        }),
        Ok(None) => Err((
            BridgeError::new(ErrorCode::Unauthorized, "unknown pairing token"),
            None,
        )),
        Err(e) => {
            tracing::error!(error = %e, "pairing tokens could not be read");
            Err((
                BridgeError::new(
                    ErrorCode::Internal,
                    "internal error (see the companion's log)",
                ),
                None,
            ))
        }
    }
}

/// The caller and the `Origin` header to answer CORS for, or the refusal to send. A request
/// whose `Host` is not ours gets no CORS grant at all.
async fn authenticate(
    state: &HttpState,
    headers: &HeaderMap,
    conn: Option<&ConnectInfo<Connection>>,
) -> Result<(Caller, Option<HeaderValue>), HttpResponse> {
    let origin_header = headers.get(header::ORIGIN).cloned();
    match caller(state, headers, conn).await {
        Ok(c) => Ok((c, origin_header)),
        Err((e, status)) => {
            let cors = if status.is_some() {
                None
            } else {
                origin_header.as_ref()
            };
            Err(error_answer(&e, status, cors))
        }
    }
}

async fn request(State(state): State<Arc<HttpState>>, req: axum::extract::Request) -> HttpResponse {
    let (parts, body) = req.into_parts();
    let conn = parts.extensions.get::<ConnectInfo<Connection>>().cloned();
    let headers = parts.headers;
    let (caller, origin_header) = match authenticate(&state, &headers, conn.as_ref()).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let cors = origin_header.as_ref();
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
    let bytes = match to_bytes(body, state.config.body_limit).await {
        Ok(b) => b,
        Err(_) => {
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
    let mut ticket_bytes = [0u8; 16];
    OsRng.fill_bytes(&mut ticket_bytes);
    let ticket = hex::encode(ticket_bytes);
    if let Ok(mut tickets) = state.tickets.lock() {
        tickets.insert(
            ticket.clone(),
            Ticket {
                caller,
                rx: rx.clone(),
                last_seen: Instant::now(),
                task: task.abort_handle(),
            },
        );
    }
    wait_for(&state, &ticket, rx, Some(&body), cors).await
}

async fn wait_for(
    state: &HttpState,
    ticket: &str,
    mut rx: watch::Receiver<Option<Response>>,
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
            if let Ok(mut tickets) = state.tickets.lock() {
                tickets.remove(ticket);
            }
            answered
        }
        Ok(Err(_)) => error_answer(
            &BridgeError::new(ErrorCode::RequestExpired, "the request was withdrawn"),
            None,
            cors,
        ),
        Err(_) => {
            if let Ok(mut tickets) = state.tickets.lock() {
                if let Some(t) = tickets.get_mut(ticket) {
                    t.last_seen = Instant::now();
                }
            }
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
    ticket: Result<Path<String>, PathRejection>,
    req: axum::extract::Request,
) -> HttpResponse {
    let conn = req.extensions().get::<ConnectInfo<Connection>>().cloned();
    let headers = req.headers();
    let (caller, origin_header) = match authenticate(&state, headers, conn.as_ref()).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let cors = origin_header.as_ref();
    // A ticket that is not even text (`%bc`) is a malformed request, answered in the envelope
    // like any other (axum's own rejection is plain text).
    let Ok(Path(ticket)) = ticket else {
        return error_answer(
            &BridgeError::new(ErrorCode::BadRequest, "the pending ticket is not valid"),
            None,
            cors,
        );
    };
    let rx = {
        let Ok(mut tickets) = state.tickets.lock() else {
            return error_answer(
                &BridgeError::new(ErrorCode::Internal, "internal error"),
                None,
                cors,
            );
        };
        match tickets.get_mut(&ticket) {
            Some(t) if t.caller == caller => {
                t.last_seen = Instant::now();
                t.rx.clone()
            }
            _ => {
                return error_answer(
                    &BridgeError::new(
                        ErrorCode::RequestExpired,
                        "no such pending request (it ended or was withdrawn)",
                    ),
                    None,
                    cors,
                )
            }
        }
    };
    wait_for(&state, &ticket, rx, None, cors).await
}

async fn status(State(state): State<Arc<HttpState>>, headers: HeaderMap) -> HttpResponse {
    if let Err(e) = check_host(&state, &headers) {
        return error_answer(&e, Some(StatusCode::MISDIRECTED_REQUEST), None);
    }
    let body = json!({ "app": "lit-companion", "version": env!("CARGO_PKG_VERSION"), "protocol": [PROTOCOL_VERSION] });
    answer(StatusCode::OK, &body, headers.get(header::ORIGIN))
}

/// CORS preflight: exactly the asking origin, our methods and headers, and Chrome's Private
/// Network Access opt-in.
async fn preflight(
    State(state): State<Arc<HttpState>>,
    method: Method,
    headers: HeaderMap,
) -> HttpResponse {
    if method != Method::OPTIONS || check_host(&state, &headers).is_err() {
        return StatusCode::MISDIRECTED_REQUEST.into_response();
    }
    let Some(origin) = headers
        .get(header::ORIGIN)
        .filter(|o| o.to_str().is_ok_and(|t| Origin::parse(t).is_ok()))
    else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let mut resp = HttpResponse::new(Body::empty());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    let h = resp.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, GET"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, authorization"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    if headers
        .get("access-control-request-private-network")
        .is_some_and(|v| v == "true")
    {
        h.insert(
            "access-control-allow-private-network",
            HeaderValue::from_static("true"),
        );
    }
    resp
}
