//! The deep-link road: `lit-companion://session?req=…&origin=…&callback=…&nonce=…&exp=…`.
//!
//! Any page or app can open such a link, so its origin is only a claim: the caller is
//! [`Identity::Claimed`](crate::caller::Identity::Claimed), shown as "not verified", with grants
//! kept apart from the verified origin's. The answer goes back to `callback` (https on the
//! claimed origin; http only when the claimed origin is this machine) with the response
//! envelope, base64url, in the fragment `#litCompanion=…` — fragments never reach a server's
//! logs. A link is single-use (its nonce) and short-lived (`exp`, at most 10 minutes ahead).

use std::{collections::HashMap, sync::Mutex};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use lit_companion_session::Origin;
use lit_companion_wire::{BridgeError, ErrorCode, Response};
use time::{Duration, OffsetDateTime};

use crate::caller::{Caller, Identity, Road};

/// The scheme.
pub const SCHEME: &str = "lit-companion";
/// The longest a link may stay valid.
pub const MAX_VALIDITY: Duration = Duration::minutes(10);
/// The largest link accepted.
pub const MAX_URL: usize = 96 * 1024;

/// A parsed, checked link.
#[derive(Debug, Clone)]
pub struct DeepLink {
    /// The claimed origin (unverified).
    pub origin: Origin,
    /// Where the answer goes.
    pub callback: String,
    /// Single-use token.
    pub nonce: String,
    /// When the link lapses.
    pub expires: OffsetDateTime,
    /// The request envelope (JSON bytes).
    pub envelope: Vec<u8>,
}

impl DeepLink {
    /// The caller this link stands for.
    pub fn caller(&self) -> Caller {
        Caller {
            identity: Identity::Claimed(self.origin.clone()),
            road: Road::DeepLink,
        }
    }

    /// The callback URL carrying `response` in its fragment.
    pub fn answer_url(&self, response: &Response) -> String {
        let json = serde_json::to_vec(response).unwrap_or_default();
        format!(
            "{}#litCompanion={}",
            self.callback,
            URL_SAFE_NO_PAD.encode(json)
        )
    }
}

fn bad(m: impl Into<String>) -> BridgeError {
    BridgeError::new(ErrorCode::BadRequest, m)
}

/// Percent-decodes one query component (`+` is a space, as in forms).
fn decode(component: &str) -> Result<String, BridgeError> {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = component
                    .get(i + 1..i + 3)
                    .ok_or_else(|| bad("broken %-escape in the link"))?;
                out.push(
                    u8::from_str_radix(hex, 16).map_err(|_| bad("broken %-escape in the link"))?,
                );
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| bad("the link is not UTF-8"))
}

/// Parses and checks a link at `now`: its form, the nonce's shape, the expiry window, and that
/// the callback lies on the claimed origin.
pub fn parse(url: &str, now: OffsetDateTime) -> Result<DeepLink, BridgeError> {
    if url.len() > MAX_URL {
        return Err(BridgeError::new(
            ErrorCode::TooLarge,
            "the link is too long",
        ));
    }
    let rest = url
        .strip_prefix(&format!("{SCHEME}://"))
        .ok_or_else(|| bad("not a lit-companion:// link"))?;
    let (path, query) = rest
        .split_once('?')
        .ok_or_else(|| bad("the link has no parameters"))?;
    if path.trim_end_matches('/') != "session" {
        return Err(BridgeError::new(
            ErrorCode::Unsupported,
            format!("unknown link action {path:?}"),
        ));
    }
    let mut fields: HashMap<String, String> = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if fields.insert(decode(k)?, decode(v)?).is_some() {
            return Err(bad(format!("parameter {k} appears twice")));
        }
    }
    let take = |k: &str| {
        fields
            .get(k)
            .cloned()
            .ok_or_else(|| bad(format!("the link lacks `{k}`")))
    };
    let origin = Origin::parse(&take("origin")?).map_err(|e| bad(e.to_string()))?;
    let callback = take("callback")?;
    if !callback_on_origin(&callback, &origin) {
        return Err(BridgeError::new(
            ErrorCode::Unauthorized,
            "the callback is not on the claimed origin (https, or http for this machine only)",
        ));
    }
    let nonce = take("nonce")?;
    if !(16..=128).contains(&nonce.len())
        || !nonce
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad("the nonce must be 16-128 letters, digits, '-' or '_'"));
    }
    let exp: i64 = take("exp")?
        .parse()
        .map_err(|_| bad("exp must be Unix seconds"))?;
    let expires =
        OffsetDateTime::from_unix_timestamp(exp).map_err(|_| bad("exp is out of range"))?;
    if expires <= now {
        return Err(BridgeError::new(
            ErrorCode::RequestExpired,
            "the link has expired",
        ));
    }
    if expires > now + MAX_VALIDITY {
        return Err(bad("a link may be valid for at most 10 minutes"));
    }
    let envelope = URL_SAFE_NO_PAD
        .decode(take("req")?.trim_end_matches('='))
        .map_err(|_| bad("req is not base64url"))?;
    Ok(DeepLink {
        origin,
        callback,
        nonce,
        expires,
        envelope,
    })
}

/// `callback` is on `origin`: same scheme, host and port, followed by a path (or nothing). http
/// is allowed only when the origin is this machine.
fn callback_on_origin(callback: &str, origin: &Origin) -> bool {
    if origin.scheme() == "http" && !origin.is_loopback() {
        return false;
    }
    let base = origin.to_string();
    let explicit = |port: u16| format!("{}://{}:{port}", origin.scheme(), origin.host());
    let default_port = if origin.scheme() == "https" { 443 } else { 80 };
    [base, explicit(origin.port().unwrap_or(default_port))]
        .iter()
        .any(|b| {
            callback.strip_prefix(b.as_str()).is_some_and(|tail| {
                tail.is_empty() || tail.starts_with('/') || tail.starts_with('?')
            })
        })
        && !callback.contains('#')
}

/// Remembers nonces until their links lapse: a link works once.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    seen: Mutex<HashMap<String, OffsetDateTime>>,
}

impl ReplayGuard {
    /// Claims the link's nonce; false when it was used before.
    pub fn claim(&self, link: &DeepLink, now: OffsetDateTime) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        seen.retain(|_, exp| *exp > now);
        if seen.contains_key(&link.nonce) {
            return false;
        }
        seen.insert(link.nonce.clone(), link.expires);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(origin: &str, callback: &str, nonce: &str, exp: i64) -> String {
        let req = URL_SAFE_NO_PAD.encode(br#"{"v":1,"id":"d","method":"listGrants"}"#);
        let enc = |s: &str| s.replace(':', "%3A").replace('/', "%2F");
        format!(
            "lit-companion://session?req={req}&origin={}&callback={}&nonce={nonce}&exp={exp}",
            enc(origin),
            enc(callback)
        )
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    #[test]
    fn a_good_link_parses_and_works_once() {
        let url = link(
            "https://app.example.com",
            "https://app.example.com/back?x=1",
            "nonce-0123456789abcdef",
            1_800_000_300,
        );
        let l = parse(&url, now()).unwrap();
        assert_eq!(
            l.caller().describe(),
            "claims to be app.example.com — not verified: opened from a link"
        );
        assert_eq!(l.caller().grant_key(), "unverified:https://app.example.com");
        let guard = ReplayGuard::default();
        assert!(guard.claim(&l, now()));
        assert!(!guard.claim(&l, now()), "a replayed nonce is refused");
        assert!(l
            .answer_url(&Response::ok(
                serde_json::Value::Null,
                serde_json::json!({})
            ))
            .starts_with("https://app.example.com/back?x=1#litCompanion="));
    }

    #[test]
    fn bad_links_are_refused_with_their_reason() {
        let n = "nonce-0123456789abcdef";
        let cases = [
            (
                link(
                    "https://app.example.com",
                    "https://evil.example/cb",
                    n,
                    1_800_000_300,
                ),
                4100,
            ),
            (
                link(
                    "https://app.example.com",
                    "https://app.example.com.evil.example/cb",
                    n,
                    1_800_000_300,
                ),
                4100,
            ),
            (
                link(
                    "http://app.example.com",
                    "http://app.example.com/cb",
                    n,
                    1_800_000_300,
                ),
                4100,
            ),
            (
                link(
                    "https://app.example.com",
                    "https://app.example.com/cb",
                    n,
                    1_799_999_999,
                ),
                4408,
            ),
            (
                link(
                    "https://app.example.com",
                    "https://app.example.com/cb",
                    n,
                    1_800_003_600,
                ),
                4400,
            ),
            (
                link(
                    "https://app.example.com",
                    "https://app.example.com/cb",
                    "short",
                    1_800_000_300,
                ),
                4400,
            ),
            ("lit-companion://other?x=1".to_owned(), 4200),
            ("https://app.example.com/?x".to_owned(), 4400),
        ];
        for (url, code) in cases {
            assert_eq!(
                parse(&url, now()).map(|_| ()).unwrap_err().code.code(),
                code,
                "{url}"
            );
        }
        // http is fine for this machine.
        let local = link(
            "http://localhost:5173",
            "http://localhost:5173/cb",
            n,
            1_800_000_300,
        );
        assert!(parse(&local, now()).is_ok());
    }
}
