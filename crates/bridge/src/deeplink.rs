//! The deep-link road:
//! `lit-companion://session?req=…&origin=…&callback=…&nonce=…&exp=…&pk=…`.
//!
//! Any page or app can open such a link, so its origin is only a claim: the caller is
//! [`Identity::Claimed`](crate::caller::Identity::Claimed), shown as "not verified", with grants
//! kept apart from the verified origin's, and every request prompts. The answer goes back to
//! `callback` (https on the claimed origin; http only when the claimed origin is this machine:
//! a loopback IP literal or exactly `localhost`) in the fragment `#litCompanion=…`, sealed to the
//! page: the link carries the page's ephemeral X25519 public key `pk`, and the response envelope
//! is encrypted with HPKE (RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
//! AES-128-GCM; info `lit-companion deep link v1`; aad = the link's nonce), so the URL handed
//! to the browser — its argv, its history, any redirect — holds nothing usable at a Lit node.
//! A link is single-use (its nonce, remembered on disk until it lapses) and short-lived (`exp`,
//! at most 10 minutes ahead). Links are parsed with the `url` crate (WHATWG URL).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Mutex,
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hpke::{
    aead::AesGcm128, kdf::HkdfSha256, kem::X25519HkdfSha256, Deserializable, OpModeS, Serializable,
};
use lit_companion_session::Origin;
use lit_companion_wire::{BridgeError, ErrorCode, Response};
use time::{Duration, OffsetDateTime};
use url::Url;

use crate::caller::{Caller, Identity, Road};

/// HPKE `info` for sealed answers.
pub const SEAL_INFO: &[u8] = b"lit-companion deep link v1";

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
    /// The page's X25519 public key the answer is sealed to.
    pub page_key: [u8; 32],
}

impl DeepLink {
    /// The caller this link stands for.
    pub fn caller(&self) -> Caller {
        Caller {
            identity: Identity::Claimed(self.origin.clone()),
            road: Road::DeepLink,
        }
    }

    /// The callback URL carrying `response`, sealed to the page's key, in its fragment:
    /// `#litCompanion=<base64url(enc ‖ ciphertext)>`.
    pub fn answer_url(&self, response: &Response) -> Result<String, BridgeError> {
        let json = serde_json::to_vec(response).unwrap_or_default();
        let sealed = seal(&self.page_key, self.nonce.as_bytes(), &json)?;
        Ok(format!(
            "{}#litCompanion={}",
            self.callback,
            URL_SAFE_NO_PAD.encode(sealed)
        ))
    }
}

/// HPKE single-shot seal to `page_key` (RFC 9180 §6.1, base mode): `enc ‖ ciphertext`.
pub fn seal(page_key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, BridgeError> {
    let failed =
        |what: &str| BridgeError::new(ErrorCode::Internal, format!("sealing the answer: {what}"));
    let pk = <X25519HkdfSha256 as hpke::Kem>::PublicKey::from_bytes(page_key)
        .map_err(|_| failed("the page key"))?;
    let (enc, ciphertext) = hpke::single_shot_seal::<AesGcm128, HkdfSha256, X25519HkdfSha256>(
        &OpModeS::Base,
        &pk,
        SEAL_INFO,
        plaintext,
        aad,
    )
    .map_err(|_| failed("HPKE"))?;
    let mut out = enc.to_bytes().to_vec();
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

fn bad(m: impl Into<String>) -> BridgeError {
    BridgeError::new(ErrorCode::BadRequest, m)
}

/// Parses and checks a link at `now`: its form, the nonce's shape, the expiry window, the
/// page key, and that the callback lies on the claimed origin.
pub fn parse(link: &str, now: OffsetDateTime) -> Result<DeepLink, BridgeError> {
    if link.len() > MAX_URL {
        return Err(BridgeError::new(
            ErrorCode::TooLarge,
            "the link is too long",
        ));
    }
    let url = Url::parse(link).map_err(|_| bad("not a lit-companion:// link"))?;
    if url.scheme() != SCHEME {
        return Err(bad("not a lit-companion:// link"));
    }
    let action = url.host_str().unwrap_or_default();
    if action != "session" || !matches!(url.path(), "" | "/") {
        return Err(BridgeError::new(
            ErrorCode::Unsupported,
            format!("unknown link action {action:?}"),
        ));
    }
    if url.query().is_none_or(str::is_empty) {
        return Err(bad("the link has no parameters"));
    }
    let mut fields: HashMap<String, String> = HashMap::new();
    for (k, v) in url.query_pairs() {
        if fields.insert(k.to_string(), v.into_owned()).is_some() {
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
    let page_key: [u8; 32] = fields
        .get("pk")
        .ok_or_else(|| {
            bad("the link lacks `pk`: answers are sealed to the page's X25519 key (update the Lit Companion client)")
        })
        .and_then(|pk| {
            URL_SAFE_NO_PAD
                .decode(pk.trim_end_matches('='))
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| bad("pk must be a base64url X25519 public key (32 bytes)"))
        })?;
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
        page_key,
    })
}

/// `callback` is on `origin`: a URL with the same scheme, host and port, without user name or
/// fragment. http is allowed only when the origin is this machine.
fn callback_on_origin(callback: &str, origin: &Origin) -> bool {
    if origin.scheme() == "http" && !origin.is_loopback() {
        return false;
    }
    let Ok(url) = Url::parse(callback) else {
        return false;
    };
    let Ok(callback_origin) = Origin::parse(&url.origin().ascii_serialization()) else {
        return false;
    };
    callback_origin == *origin
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none()
}

/// Remembers nonces until their links lapse: a link works once, also across restarts when the
/// guard keeps a file (`used-links.json` in the data directory, written atomically before the
/// link is acted on).
#[derive(Debug, Default)]
pub struct ReplayGuard {
    seen: Mutex<HashMap<String, i64>>,
    file: Option<PathBuf>,
}

/// The file's name in the data directory.
pub const USED_LINKS_FILE: &str = "used-links.json";

impl ReplayGuard {
    /// A guard that remembers used links in `dir` (the data directory). A file that does not
    /// parse is kept aside and replaced: losing it could only re-admit links that lapse within
    /// ten minutes, so the guard starts empty only after saying so in the log.
    pub fn persistent(dir: &Path) -> Self {
        let file = dir.join(USED_LINKS_FILE);
        let seen = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "used-link record unreadable; kept as .bad");
                let _ = std::fs::rename(&file, file.with_extension("json.bad"));
                HashMap::new()
            }),
            Err(_) => HashMap::new(),
        };
        Self {
            seen: Mutex::new(seen),
            file: Some(file),
        }
    }

    /// Claims the link's nonce: `Ok(false)` when it was used before; an error when it cannot
    /// be remembered (the link is then refused, never served unguarded).
    pub fn claim(&self, link: &DeepLink, now: OffsetDateTime) -> Result<bool, BridgeError> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let now = now.unix_timestamp();
        seen.retain(|_, exp| *exp > now);
        if seen.contains_key(&link.nonce) {
            return Ok(false);
        }
        seen.insert(link.nonce.clone(), link.expires.unix_timestamp());
        if let Some(file) = &self.file {
            let json = serde_json::to_vec(&*seen).unwrap_or_default();
            let dir = file.parent().unwrap_or(Path::new("."));
            if let Err(e) = lit_companion_vault::metadata::write_atomic(dir, file, &json) {
                seen.remove(&link.nonce);
                tracing::error!(error = %e, "used-link record not written");
                return Err(BridgeError::new(
                    ErrorCode::Internal,
                    "internal error (see the companion's log)",
                ));
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use hpke::{OpModeR, Serializable};

    /// The page's key pair (as the JS client makes it with WebCrypto).
    fn page_keys() -> (
        <X25519HkdfSha256 as hpke::Kem>::PrivateKey,
        <X25519HkdfSha256 as hpke::Kem>::PublicKey,
    ) {
        <X25519HkdfSha256 as hpke::Kem>::derive_keypair(&[7u8; 32])
    }

    fn link(origin: &str, callback: &str, nonce: &str, exp: i64) -> String {
        let req = URL_SAFE_NO_PAD.encode(br#"{"v":1,"id":"d","method":"listGrants"}"#);
        let pk = URL_SAFE_NO_PAD.encode(page_keys().1.to_bytes());
        let enc = |s: &str| s.replace(':', "%3A").replace('/', "%2F");
        format!(
            "lit-companion://session?req={req}&origin={}&callback={}&nonce={nonce}&exp={exp}&pk={pk}",
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
        assert_eq!(
            l.caller().grant_key().to_string(),
            "unverified:https://app.example.com"
        );
        let guard = ReplayGuard::default();
        assert!(guard.claim(&l, now()).unwrap());
        assert!(
            !guard.claim(&l, now()).unwrap(),
            "a replayed nonce is refused"
        );
        // The answer is sealed to the page: only its private key opens it, with the nonce as aad.
        let secret = serde_json::json!({"sessionSigs": {"n": {"sig": "ab".repeat(64)}}});
        let url = l
            .answer_url(&Response::ok(serde_json::Value::Null, secret.clone()))
            .unwrap();
        let sealed = url
            .strip_prefix("https://app.example.com/back?x=1#litCompanion=")
            .unwrap();
        assert!(!url.contains(&"ab".repeat(64)), "nothing usable in the URL");
        let bytes = URL_SAFE_NO_PAD.decode(sealed).unwrap();
        let (enc, ct) = bytes.split_at(32);
        let enc = <X25519HkdfSha256 as hpke::Kem>::EncappedKey::from_bytes(enc).unwrap();
        let open = |aad: &[u8]| {
            hpke::single_shot_open::<AesGcm128, HkdfSha256, X25519HkdfSha256>(
                &OpModeR::Base,
                &page_keys().0,
                &enc,
                SEAL_INFO,
                ct,
                aad,
            )
        };
        let plain: serde_json::Value =
            serde_json::from_slice(&open(l.nonce.as_bytes()).unwrap()).unwrap();
        assert_eq!(plain["result"], secret);
        assert!(
            open(b"another-nonce-000000").is_err(),
            "bound to the link's nonce"
        );
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
            // "This machine" is parsed, not a prefix: 127.evil.example is someone else's.
            (
                link(
                    "http://127.evil.example",
                    "http://127.evil.example/cb",
                    n,
                    1_800_000_300,
                ),
                4100,
            ),
            (
                link(
                    "https://app.example.com",
                    "https://user@app.example.com/cb",
                    n,
                    1_800_000_300,
                ),
                4100,
            ),
            // No page key: the answer could not be sealed.
            (
                link(
                    "https://app.example.com",
                    "https://app.example.com/cb",
                    n,
                    1_800_000_300,
                )
                .split("&pk=")
                .next()
                .unwrap()
                .to_owned(),
                4400,
            ),
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

    #[test]
    fn used_links_are_remembered_across_restarts() {
        let dir = std::env::temp_dir().join(format!("lit-used-links-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let l = parse(
            &link(
                "https://app.example.com",
                "https://app.example.com/cb",
                "nonce-restart-0123456",
                1_800_000_300,
            ),
            now(),
        )
        .unwrap();
        assert!(ReplayGuard::persistent(&dir).claim(&l, now()).unwrap());
        // A new guard (a restart) over the same directory refuses the same link …
        assert!(!ReplayGuard::persistent(&dir).claim(&l, now()).unwrap());
        // … until it has lapsed.
        let later = now() + Duration::minutes(6);
        assert!(ReplayGuard::persistent(&dir).claim(&l, later).unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
