//! Who is calling over loopback HTTP, as an extractor: another OS user is refused first, then
//! `Host` must be our loopback listener (DNS-rebinding defence), then the caller is the
//! browser's `Origin` (with the Fetch Metadata a browser always sends) or a pairing token.

use std::sync::Arc;

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    response::Response as HttpResponse,
};
use lit_companion_session::Origin;
use lit_companion_wire::{BridgeError, ErrorCode};

use super::{answers::error_answer, HttpState};
use crate::{
    caller::{Caller, Identity, Road},
    peer::{self, Connection, PeerUser},
};

/// A caller the transport vouched for, and the `Origin` header to answer CORS for. Extracting
/// it refuses, with the envelope, whoever is not one.
#[derive(Debug)]
pub(super) struct Authenticated {
    /// Who.
    pub(super) caller: Caller,
    /// The origin CORS answers for.
    pub(super) cors: Option<HeaderValue>,
}

impl FromRequestParts<Arc<HttpState>> for Authenticated {
    type Rejection = HttpResponse;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<HttpState>,
    ) -> Result<Self, Self::Rejection> {
        let conn = parts.extensions.get::<ConnectInfo<Connection>>().cloned();
        let (caller, cors) = authenticate(state, &parts.headers, conn.as_ref()).await?;
        Ok(Self { caller, cors })
    }
}

/// `Host` must name our loopback listener: a page on a rebound DNS name sends its own name.
pub(super) fn check_host(state: &HttpState, headers: &HeaderMap) -> Result<(), BridgeError> {
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
    check_host(state, headers).map_err(|e| (e, Some(StatusCode::FORBIDDEN)))?;
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
