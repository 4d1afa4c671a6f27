//! AuthSigs: a SIWE message and the wallet's EIP-191 signature over it.
//!
//! Wire form (Lit `JsonAuthSig`), exactly these keys: `sig` (0x + r‖s‖v), `derivedVia`
//! (`web3.eth.personal.sign`), `signedMessage` (the SIWE text), `address` (EIP-55). Nodes
//! reject unknown and duplicate keys; `algo` is optional there and only meaningful on session
//! signatures, so a wallet AuthSig never carries it.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::{
    error::{AuthSigError, MessageError},
    message::{self, MessageParams, DELEGATION_URI},
    recap::Recap,
    resource::{LitResource, RecapAbility, ResourcePrefix},
    wallet::{recover_personal, Address, WalletKey},
};

/// `derivedVia` of an EIP-191 wallet signature.
pub const DERIVED_VIA_WALLET: &str = "web3.eth.personal.sign";

/// A wallet-signed SIWE message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSig {
    /// `0x` + 130 hex: r ‖ s ‖ v.
    pub sig: String,
    /// How the signature was made.
    #[serde(rename = "derivedVia")]
    pub derived_via: String,
    /// The exact SIWE text.
    #[serde(rename = "signedMessage")]
    pub signed_message: String,
    /// The signer, EIP-55.
    pub address: String,
}

/// What a verified AuthSig says.
#[derive(Debug, Clone)]
pub struct VerifiedAuthSig {
    /// The parsed SIWE message.
    pub message: siwe::Message,
    /// The wallet that signed it.
    pub signer: Address,
    /// Its capabilities.
    pub recap: Recap,
}

impl AuthSig {
    /// Signs `siwe_text` with EIP-191 `personal_sign` (over the exact UTF-8 bytes).
    pub fn sign(wallet: &WalletKey, siwe_text: String) -> Result<Self, crate::error::KeyError> {
        let sig = wallet.personal_sign(siwe_text.as_bytes())?;
        Ok(Self {
            sig: format!("0x{}", hex::encode(sig)),
            derived_via: DERIVED_VIA_WALLET.to_owned(),
            signed_message: siwe_text,
            address: wallet.address().to_checksum(),
        })
    }

    /// The AuthSig for a signature made outside the companion, by an EIP-1193 wallet's
    /// `personal_sign` over `siwe_text`: accepted only when it recovers (EIP-191) to `signer`
    /// over exactly that text. `v` is written 27/28 whatever the wallet gave (some hardware
    /// wallets give 0/1), which is what the SDK's own AuthSigs carry.
    pub fn from_wallet_signature(
        siwe_text: String,
        signature: &str,
        signer: Address,
    ) -> Result<Self, AuthSigError> {
        let mut sig = parse_signature(signature)?;
        if recover_personal(siwe_text.as_bytes(), &sig) != Some(signer) {
            return Err(AuthSigError::BadSignature(signer.to_checksum()));
        }
        if sig[64] < 27 {
            sig[64] += 27;
        }
        Ok(Self {
            sig: format!("0x{}", hex::encode(sig)),
            derived_via: DERIVED_VIA_WALLET.to_owned(),
            signed_message: siwe_text,
            address: signer.to_checksum(),
        })
    }

    /// Parses the JSON form strictly (unknown keys refused, as nodes do).
    pub fn from_json(text: &str) -> Result<Self, AuthSigError> {
        serde_json::from_str(text).map_err(|e| AuthSigError::Malformed(e.to_string()))
    }

    /// Parses a JSON value strictly.
    pub fn from_value(value: Value) -> Result<Self, AuthSigError> {
        serde_json::from_value(value).map_err(|e| AuthSigError::Malformed(e.to_string()))
    }

    /// Checks the signature, the SIWE form and the time window at `now`, and that the SIWE
    /// `uri` is `expected_uri`. The SIWE time rule is siwe's `valid_at` (what nodes call):
    /// `notBefore < now` and `expirationTime >= now`, with no grace period.
    ///
    /// Stricter than a node, on purpose: the JSON `address` must be EIP-55 and equal the SIWE
    /// address, the SIWE text must be its own canonical rendering, and the ReCap must be the
    /// single last resource, in canonical JSON, with the statement present.
    pub fn verify(
        &self,
        expected_uri: &str,
        now: OffsetDateTime,
    ) -> Result<VerifiedAuthSig, AuthSigError> {
        let verified = self.verify_signature()?;
        let m = &verified.message;
        if m.not_before
            .as_ref()
            .is_some_and(|nbf| *nbf.as_ref() >= now)
        {
            return Err(AuthSigError::NotYetValid);
        }
        if m.expiration_time
            .as_ref()
            .is_some_and(|exp| *exp.as_ref() < now)
        {
            return Err(AuthSigError::Expired);
        }
        let uri = m.uri.to_string();
        if uri != expected_uri {
            return Err(AuthSigError::Uri {
                expected: expected_uri.to_owned(),
                found: uri,
            });
        }
        Ok(verified)
    }

    /// Checks form and signature only (no time, no uri), and decodes the ReCap.
    pub fn verify_signature(&self) -> Result<VerifiedAuthSig, AuthSigError> {
        if self.derived_via != DERIVED_VIA_WALLET {
            return Err(AuthSigError::DerivedVia(self.derived_via.clone()));
        }
        let message = siwe::Message::from_str(&self.signed_message)
            .map_err(|e| AuthSigError::Siwe(e.to_string()))?;
        if message.to_string() != self.signed_message {
            return Err(AuthSigError::SiweNotCanonical);
        }
        let claimed = Address::parse_checksummed(&self.address).map_err(|e| match e {
            crate::error::KeyError::AddressChecksum => AuthSigError::AddressChecksum,
            _ => AuthSigError::Malformed("address is not 0x + 40 hex digits".into()),
        })?;
        let signer = Address(message.address);
        if claimed != signer {
            return Err(AuthSigError::AddressMismatch);
        }
        let sig = parse_signature(&self.sig)?;
        if recover_personal(self.signed_message.as_bytes(), &sig) != Some(signer) {
            return Err(AuthSigError::BadSignature(signer.to_checksum()));
        }
        let recap = Recap::extract(message.resources.iter().map(|r| r.as_str()))?;
        recap.verify_statement(message.statement.as_deref())?;
        Ok(VerifiedAuthSig {
            message,
            signer,
            recap,
        })
    }
}

/// `0x` + 130 hex digits: r ‖ s ‖ v.
fn parse_signature(text: &str) -> Result<[u8; 65], AuthSigError> {
    let digits = text
        .strip_prefix("0x")
        .ok_or(AuthSigError::SignatureEncoding)?;
    let mut sig = [0u8; 65];
    hex::decode_to_slice(digits, &mut sig).map_err(|_| AuthSigError::SignatureEncoding)?;
    Ok(sig)
}

/// The parameters shared by the two delegation AuthSigs.
#[derive(Debug, Clone)]
pub struct DelegationParams<'a> {
    /// The SIWE domain.
    pub domain: &'a str,
    /// The app statement (may be empty).
    pub statement: &'a str,
    /// The SIWE nonce (latest block hash).
    pub nonce: &'a str,
    /// Signing time.
    pub issued_at: OffsetDateTime,
    /// When the delegation lapses.
    pub expiration: OffsetDateTime,
    /// Who may use the delegation.
    pub delegatees: &'a [Address],
}

/// Datil: lets `delegatees` use the owner's Capacity Credit `token_id` (decimal) up to `uses`
/// times. SIWE `uri` is `lit:capability:delegation`; the ReCap is
/// `{"lit-ratelimitincrease://<id>":{"Auth/Auth":[{"delegate_to":[…],"nft_id":[id],"uses":"n"}]}}`,
/// addresses lowercase without `0x`, `uses` a decimal string (nodes refuse a number).
pub fn capacity_delegation(
    owner: &WalletKey,
    token_id: &str,
    uses: u64,
    p: &DelegationParams<'_>,
) -> Result<AuthSig, MessageError> {
    let resource = LitResource::new(ResourcePrefix::RateLimitIncrease, token_id)
        .map_err(|_| MessageError::NotRoundTrip(format!("bad capacity token id {token_id:?}")))?;
    let mut caveat = Map::new();
    caveat.insert("delegate_to".into(), delegate_list(p.delegatees));
    if !resource.is_wildcard() {
        caveat.insert(
            "nft_id".into(),
            Value::Array(vec![Value::String(resource.id().to_owned())]),
        );
    }
    caveat.insert("uses".into(), Value::String(uses.to_string()));
    let mut recap = Recap::new();
    recap.add(&resource.key(), RecapAbility::AUTH_AUTH, caveat);
    sign_delegation(owner, &recap, p)
}

/// The scopes a payment delegation can allow (Lit node `construct_payment_delegation`).
pub const PAYMENT_SCOPES: [&str; 4] = [
    "encryption_sign",
    "lit_action",
    "pkp_sign",
    "sign_session_key",
];

/// Naga: lets `delegatees` spend the owner's Lit balance, at most `max_price_wei` per request,
/// for `scopes`. ReCap `{"lit-paymentdelegation://*":{"Auth/Auth":[{"delegate_to":[…],
/// "max_price":"<hex, no 0x>","scopes":[…]}]}}`.
pub fn payment_delegation(
    owner: &WalletKey,
    max_price_wei: u128,
    scopes: &[&str],
    p: &DelegationParams<'_>,
) -> Result<AuthSig, MessageError> {
    if scopes.is_empty() || scopes.iter().any(|s| !PAYMENT_SCOPES.contains(s)) {
        return Err(MessageError::NotRoundTrip(format!(
            "payment scopes must be among {PAYMENT_SCOPES:?}"
        )));
    }
    let mut caveat = Map::new();
    caveat.insert("delegate_to".into(), delegate_list(p.delegatees));
    caveat.insert(
        "max_price".into(),
        Value::String(format!("{max_price_wei:x}")),
    );
    caveat.insert(
        "scopes".into(),
        Value::Array(
            scopes
                .iter()
                .map(|s| Value::String((*s).to_owned()))
                .collect(),
        ),
    );
    let mut recap = Recap::new();
    recap.add(
        &LitResource::wildcard(ResourcePrefix::PaymentDelegation).key(),
        RecapAbility::AUTH_AUTH,
        caveat,
    );
    sign_delegation(owner, &recap, p)
}

fn delegate_list(delegatees: &[Address]) -> Value {
    Value::Array(
        delegatees
            .iter()
            .map(|a| Value::String(a.to_plain_lower()))
            .collect(),
    )
}

fn sign_delegation(
    owner: &WalletKey,
    recap: &Recap,
    p: &DelegationParams<'_>,
) -> Result<AuthSig, MessageError> {
    let text = message::build(&MessageParams {
        domain: p.domain,
        address: owner.address(),
        statement: p.statement,
        uri: DELEGATION_URI,
        nonce: p.nonce,
        issued_at: p.issued_at,
        expiration: p.expiration,
        recap,
    })?;
    AuthSig::sign(owner, text).map_err(|_| MessageError::NotRoundTrip("signing failed".into()))
}

/// Checks a delegation AuthSig a session carries: signature, time, `uri`, and that its caveats
/// name `user` (lowercase, no `0x`) among `delegate_to` when that list is present, as nodes do
/// before charging the delegator.
pub fn verify_delegation(
    auth_sig: &AuthSig,
    user: Address,
    now: OffsetDateTime,
) -> Result<VerifiedAuthSig, AuthSigError> {
    let verified = auth_sig.verify(DELEGATION_URI, now)?;
    let me = user.to_plain_lower();
    let mut found = false;
    for (resource, abilities) in verified.recap.attenuations() {
        let scheme = resource.split("://").next().unwrap_or_default();
        if scheme != ResourcePrefix::RateLimitIncrease.as_str()
            && scheme != ResourcePrefix::PaymentDelegation.as_str()
        {
            continue;
        }
        for caveat in abilities.get("Auth/Auth").into_iter().flatten() {
            found = true;
            if let Some(to) = caveat.get("delegate_to") {
                let list = to
                    .as_array()
                    .ok_or_else(|| AuthSigError::Delegation("delegate_to is not a list".into()))?;
                let named = list
                    .iter()
                    .any(|v| v.as_str().is_some_and(|s| s.to_ascii_lowercase() == me));
                if !named {
                    return Err(AuthSigError::Delegation(format!(
                        "not delegated to {}",
                        user.to_checksum()
                    )));
                }
            }
            if let Some(uses) = caveat.get("uses") {
                if !uses
                    .as_str()
                    .is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(AuthSigError::Delegation(
                        "uses must be a decimal string".into(),
                    ));
                }
            }
        }
    }
    if !found {
        return Err(AuthSigError::Delegation(
            "no Auth/Auth capability on a delegation resource".into(),
        ));
    }
    Ok(verified)
}
