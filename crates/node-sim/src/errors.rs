//! Errors in the shape Lit nodes answer them: lit-core `PublicError`
//! (`lit-core/src/error/public.rs`), `{"errorKind","errorCode","status","message","details"}`,
//! with the HTTP status of the error code (`lit-node/src/error.rs` `EC`, `http_status`); an error
//! without a code answers 500 with its kind's description (`From<Error> for PublicError`).
//! Naga wraps it in a `GenericResponse` (`{ok:false, error:<short text>, errorObject:<the
//! PublicError as a JSON string>, data:null}`, lit-node-core `response.rs`).

use axum::http::StatusCode;
use serde_json::{json, Value};

/// One of the node's error codes: name, kind, HTTP status and description (its doc comment in
/// lit-peer `lit-node/src/error.rs`, which the node sends as `message`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Code {
    name: &'static str,
    status: u16,
    description: &'static str,
}

macro_rules! codes {
    ($($konst:ident = $name:literal, $status:literal, $desc:literal;)*) => {
        $(pub(crate) const $konst: Code = Code { name: $name, status: $status, description: $desc };)*
    };
}

codes! {
    SIWE_MESSAGE = "NodeSIWEMessageError", 400, "Error parsing SIWE message";
    INVALID_CURVE_TYPE = "NodeInvalidCurveType", 400,
        "The user sent an unsupported curve type when requesting to sign something";
    AUTH_SIG_FOR_SESSION_KEY = "NodeInvalidAuthSigForSessionKey", 400,
        "The user sent an auth_sig for signing a session_key";
    INVALID_AUTH_CONTEXT_RESOURCE = "NodeInvalidAuthContextResource", 401,
        "Can't define AuthContext resources in user capability";
    PKP_NOT_AUTHORIZED = "NodePKPNotAuthorized", 401, "The PKP permissions check failed";
    INVALID_AUTH_SIG = "NodeInvalidAuthSig", 401, "auth_sig passed is invalid or couldn't be verified";
    EXP_WRONG_OR_TOO_LARGE = "NodeExpWrongOrTooLarge", 403, "While signing JWT, EXP too large or wrong";
    BLS_ROOT_KEY_NOT_FOUND = "NodeBLSRootKeyNotFound", 500, "The network root BLS key was not found";
    WALLET_SIGNATURE_JSON = "NodeWalletSignatureJSONError", 502, "Wallet Signature not in JSON format";
    AUTH_SIG_SIGNATURE_CONVERSION = "NodeAuthSigSignatureConversionError", 400,
        "auth_sig sig couldn't be converted to Signature object";
    AUTH_SIG_ADDRESS_CONVERSION = "NodeAuthSigAddressConversionError", 400,
        "auth_sig address couldn't be converted to Ethereum address";
    SIWE_CAPABILITY_INVALID = "NodeSIWECapabilityInvalid", 400,
        "Invalid Capability object in SIWE resource ReCap";
    LIT_ACTION_AUTH_FAILED = "NodeLitActionsSessionSigAuthenticationFailed", 401,
        "Lit Actions returned false for sessionSig signing authentication";
}

/// lit-core `Kind`s the simulated endpoints raise, with their descriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Unexpected,
    Validation,
    Conversion,
    Parser,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Unexpected => "Unexpected",
            Self::Validation => "Validation",
            Self::Conversion => "Conversion",
            Self::Parser => "Parser",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Self::Unexpected => "An unexpected error has occured.",
            Self::Validation => "An error related to validation has occured.",
            Self::Conversion => "An error related to type conversion has occured.",
            Self::Parser => "An error related to a parsing has occured.",
        }
    }
}

/// A refusal: what the node says (`PublicError`), and the short text Naga puts in
/// `GenericResponse.error`.
#[derive(Debug, Clone)]
pub(crate) struct NodeError {
    kind: Kind,
    code: Option<Code>,
    details: Vec<String>,
    /// Naga's `GenericResponse.error` (the call site's text in lit-peer `web_client.rs`).
    pub(crate) short: &'static str,
}

impl NodeError {
    /// An error with a code.
    pub(crate) fn coded(short: &'static str, kind: Kind, code: Code, detail: String) -> Self {
        Self {
            kind,
            code: Some(code),
            details: vec![detail],
            short,
        }
    }

    /// An error without a code: HTTP 500 and the kind's description.
    pub(crate) fn uncoded(short: &'static str, kind: Kind, detail: String) -> Self {
        Self {
            kind,
            code: None,
            details: vec![detail],
            short,
        }
    }

    /// Adds a detail after the node's own.
    pub(crate) fn with_detail(mut self, detail: String) -> Self {
        self.details.push(detail);
        self
    }

    pub(crate) fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.map_or(500, |c| c.status))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The `PublicError` JSON.
    pub(crate) fn public(&self) -> Value {
        let mut out = serde_json::Map::new();
        out.insert("errorKind".into(), json!(self.kind.name()));
        if let Some(code) = self.code {
            out.insert("errorCode".into(), json!(code.name));
        }
        out.insert("status".into(), json!(self.status().as_u16()));
        out.insert(
            "message".into(),
            json!(self.code.map_or(self.kind.description(), |c| c.description)),
        );
        out.insert("details".into(), json!(self.details));
        Value::Object(out)
    }

    /// Naga's `GenericResponse` around it.
    pub(crate) fn generic(&self) -> Value {
        json!({
            "ok": false,
            "error": self.short,
            "errorObject": self.public().to_string(),
            "data": null,
        })
    }
}
