//! What loopback HTTP answers: the envelope, as JSON, with CORS for exactly the caller's origin
//! (never `*`), and the preflight.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response as HttpResponse},
};
use lit_companion_session::Origin;
use lit_companion_wire::{BridgeError, ErrorCode, Response};
use serde_json::Value;

use super::{auth::check_host, HttpState};

/// The answer, with CORS for exactly the caller's origin. The body is serialised once, straight
/// to bytes.
pub(super) fn answer(
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

pub(super) fn error_answer(
    e: &BridgeError,
    status: Option<StatusCode>,
    origin: Option<&HeaderValue>,
) -> HttpResponse {
    let status = status.unwrap_or_else(|| {
        StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
    });
    answer(status, &Response::err(Value::Null, e), origin)
}

pub(super) fn response_answer(resp: &Response, origin: Option<&HeaderValue>) -> HttpResponse {
    let status = resp
        .error_code()
        .and_then(|c| {
            let code = ErrorCode::from_code(c)?;
            StatusCode::from_u16(code.http_status()).ok()
        })
        .unwrap_or(StatusCode::OK);
    answer(status, resp, origin)
}

/// CORS preflight: exactly the asking origin, our methods and headers, and Chrome's Private
/// Network Access opt-in.
pub(super) async fn preflight(
    State(state): State<Arc<HttpState>>,
    method: Method,
    headers: HeaderMap,
) -> HttpResponse {
    if method != Method::OPTIONS || check_host(&state, &headers).is_err() {
        return StatusCode::FORBIDDEN.into_response();
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
