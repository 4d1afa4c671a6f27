//! The request and response envelopes and the error codes (docs/bridge-protocol.md),
//! transport-independent.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol version this build speaks.
pub const PROTOCOL_VERSION: u64 = 1;

/// Stable error codes (EIP-1193's where they exist, ours beside them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 4001: the user (or the policy) said no.
    UserRejected,
    /// 4100: the caller is not verified.
    Unauthorized,
    /// 4200: unknown method or version.
    Unsupported,
    /// 4900: the companion is shutting down or the bridge is paused.
    Disconnected,
    /// 4400: malformed request.
    BadRequest,
    /// 4408: the approval timed out or the caller went away.
    RequestExpired,
    /// 4413: body over the limit.
    TooLarge,
    /// 4429: too many requests from this caller.
    RateLimited,
    /// 4503: the keychain is locked or missing.
    KeychainUnavailable,
    /// 4504: the Lit nodes are unreachable or disagree.
    NetworkUnavailable,
    /// 4601: no wallet yet.
    NoWallet,
    /// 5000: a bug.
    Internal,
}

impl ErrorCode {
    /// Every code.
    pub const ALL: [ErrorCode; 12] = [
        Self::UserRejected,
        Self::Unauthorized,
        Self::Unsupported,
        Self::Disconnected,
        Self::BadRequest,
        Self::RequestExpired,
        Self::TooLarge,
        Self::RateLimited,
        Self::KeychainUnavailable,
        Self::NetworkUnavailable,
        Self::NoWallet,
        Self::Internal,
    ];

    /// The code with this number.
    pub fn from_code(code: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The number.
    pub fn code(self) -> u32 {
        match self {
            Self::UserRejected => 4001,
            Self::Unauthorized => 4100,
            Self::Unsupported => 4200,
            Self::Disconnected => 4900,
            Self::BadRequest => 4400,
            Self::RequestExpired => 4408,
            Self::TooLarge => 4413,
            Self::RateLimited => 4429,
            Self::KeychainUnavailable => 4503,
            Self::NetworkUnavailable => 4504,
            Self::NoWallet => 4601,
            Self::Internal => 5000,
        }
    }

    /// The name.
    pub fn name(self) -> &'static str {
        match self {
            Self::UserRejected => "user_rejected",
            Self::Unauthorized => "unauthorized",
            Self::Unsupported => "unsupported",
            Self::Disconnected => "disconnected",
            Self::BadRequest => "bad_request",
            Self::RequestExpired => "request_expired",
            Self::TooLarge => "too_large",
            Self::RateLimited => "rate_limited",
            Self::KeychainUnavailable => "keychain_unavailable",
            Self::NetworkUnavailable => "network_unavailable",
            Self::NoWallet => "no_wallet",
            Self::Internal => "internal",
        }
    }

    /// The HTTP status the loopback transport answers with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::UserRejected => 403,
            Self::Unauthorized => 401,
            Self::Unsupported | Self::BadRequest => 400,
            Self::Disconnected | Self::KeychainUnavailable => 503,
            // Not 408: browsers re-send a request answered 408 on a reused connection by
            // themselves (RFC 9110 §15.5.9), and a re-sent `getSessionSigs` could prompt twice.
            Self::RequestExpired => 410,
            Self::TooLarge => 413,
            Self::RateLimited => 429,
            Self::NetworkUnavailable => 502,
            Self::NoWallet => 409,
            Self::Internal => 500,
        }
    }
}

/// An error answer: a stable code and plain words for the caller. Internal detail never goes
/// here; it goes to the companion's log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message} ({} {})", code.code(), code.name())]
pub struct BridgeError {
    /// The code.
    pub code: ErrorCode,
    /// Plain words for the caller (never internals).
    pub message: String,
}

impl BridgeError {
    /// An error with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// The request envelope.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Protocol version.
    pub v: u64,
    /// The caller's id for this request.
    #[serde(default)]
    pub id: Value,
    /// The method.
    pub method: String,
    /// The parameters.
    #[serde(default)]
    pub params: Value,
}

/// The response envelope.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Response {
    /// Protocol version.
    pub v: u64,
    /// The request's id.
    pub id: Value,
    /// The result, on success.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The error, on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

impl Response {
    /// A success.
    pub fn ok(id: Value, result: Value) -> Self {
        Self {
            v: PROTOCOL_VERSION,
            id,
            result: Some(result),
            error: None,
        }
    }

    /// A failure.
    pub fn err(id: Value, e: &BridgeError) -> Self {
        let error = serde_json::json!({ "code": e.code.code(), "name": e.code.name(), "message": e.message });
        Self {
            v: PROTOCOL_VERSION,
            id,
            result: None,
            error: Some(error),
        }
    }

    /// The error code, if this is a failure.
    pub fn error_code(&self) -> Option<u32> {
        self.error
            .as_ref()
            .and_then(|e| e.get("code"))
            .and_then(Value::as_u64)
            .map(|c| c as u32)
    }
}

/// Parses an envelope: bad JSON is 4400, another version 4200; the id must be a short string or
/// number (it is echoed back).
pub fn parse_request(body: &[u8]) -> Result<Request, (Value, BridgeError)> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        (
            Value::Null,
            BridgeError::new(ErrorCode::BadRequest, format!("the body is not JSON: {e}")),
        )
    })?;
    let id = value.get("id").cloned().unwrap_or(Value::Null);
    let id_ok = match &id {
        Value::Null | Value::Number(_) => true,
        Value::String(s) => s.len() <= 128,
        _ => false,
    };
    let id = if id_ok { id } else { Value::Null };
    if !id_ok {
        return Err((
            id,
            BridgeError::new(
                ErrorCode::BadRequest,
                "id must be a string of at most 128 characters or a number",
            ),
        ));
    }
    match value.get("v").and_then(Value::as_u64) {
        Some(PROTOCOL_VERSION) => {}
        Some(other) => {
            return Err((
                id,
                BridgeError::new(
                    ErrorCode::Unsupported,
                    format!("protocol version {other} is not supported (this companion speaks 1)"),
                ),
            ))
        }
        None => {
            return Err((
                id,
                BridgeError::new(ErrorCode::BadRequest, "missing protocol version `v`"),
            ))
        }
    }
    serde_json::from_value(value).map_err(|e| {
        (
            id,
            BridgeError::new(ErrorCode::BadRequest, format!("malformed request: {e}")),
        )
    })
}

/// `getSessionSigs` parameters.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GetSessionSigsParams {
    /// The Lit network name.
    pub network: String,
    /// What the dapp needs, in the SDK's shape.
    pub resource_ability_requests: Value,
    /// Node URLs.
    #[serde(default)]
    pub node_urls: Vec<String>,
    /// RFC 3339.
    #[serde(default)]
    pub expiration: Option<String>,
    /// Delegation AuthSigs to carry.
    #[serde(default)]
    pub capability_auth_sigs: Vec<Value>,
    /// The app's statement.
    #[serde(default)]
    pub statement: Option<String>,
    /// Naga: decimal wei.
    #[serde(default)]
    pub max_price: Option<String>,
    /// Which wallet.
    #[serde(default)]
    pub wallet: Option<String>,
    /// The page's own EIP-1193 wallet, which is to sign (docs/bridge-protocol.md).
    #[serde(default)]
    pub external_wallet: Option<ExternalWalletParam>,
    /// A PKP of the companion's (`0x04…`): the network signs the session for it (`LIT_BLS`).
    #[serde(default)]
    pub pkp_public_key: Option<String>,
    /// With `pkpPublicKey`: the Lit Action (by IPFS CID) that authorizes the PKP, in place of
    /// the PKP's wallet (SDK v7 `getLitActionSessionSigs`).
    #[serde(default)]
    pub lit_action_ipfs_id: Option<String>,
    /// With `pkpPublicKey`: the Lit Action's code, base64 (as the SDK takes it).
    #[serde(default)]
    pub lit_action_code: Option<String>,
    /// The Lit Action's parameters (a JSON object).
    #[serde(default)]
    pub js_params: Option<Value>,
}

/// `getSessionSigs.externalWallet`: the page's wallet account and the wallet's name.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalWalletParam {
    /// The account `eth_requestAccounts` gave.
    pub address: String,
    /// The wallet's EIP-6963 `info.name` (e.g. "MetaMask").
    #[serde(default)]
    pub name: Option<String>,
}

/// `walletSignature` parameters: the browser wallet's answer to a `signWithWallet` step.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalletSignatureParams {
    /// The step's ticket.
    pub ticket: String,
    /// `0x` + 130 hex: the wallet's `personal_sign` over the step's message.
    #[serde(default)]
    pub signature: Option<String>,
    /// The wallet refused to sign (its error 4001).
    #[serde(default)]
    pub rejected: bool,
}
