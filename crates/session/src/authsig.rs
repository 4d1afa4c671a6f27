//! AuthSigs: a SIWE message and a signature over it that empowers a session key.
//!
//! Wire form (Lit `JsonAuthSig`): `sig`, optional `algo`, `derivedVia`, `signedMessage` (the
//! SIWE text), `address` (EIP-55). Nodes reject unknown and duplicate keys. Two kinds:
//! - a wallet's: `sig` is 0x + r‖s‖v of EIP-191 `personal_sign` over the text, `derivedVia`
//!   `web3.eth.personal.sign`, no `algo`;
//! - a PKP's, made by the network ([`AuthSig::lit_bls`]): `sig` is
//!   `{"ProofOfPossession":"<192 hex>"}`, the network's BLS signature over
//!   [`crate::bls::session_hash`] of the text, `algo` `LIT_BLS`, `derivedVia` `lit.bls`
//!   (lit-peer `lit-node-core` `JsonAuthSig::determine_auth_material_type`: both are needed).

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::{
    bls::{session_hash, BlsSignature, NetworkKey},
    error::{AuthSigError, MessageError},
    message::{self, MessageParams, DELEGATION_URI},
    recap::Recap,
    resource::{LitResource, RecapAbility, ResourcePrefix},
    wallet::{recover_personal, Address, WalletKey},
};

/// `derivedVia` of an EIP-191 wallet signature.
pub const DERIVED_VIA_WALLET: &str = "web3.eth.personal.sign";
/// `derivedVia` of the network's BLS signature on a PKP session capability.
pub const DERIVED_VIA_BLS: &str = "lit.bls";
/// `algo` of the network's BLS signature on a PKP session capability.
pub const ALGO_LIT_BLS: &str = "LIT_BLS";

/// A signed SIWE message: a wallet's, or the network's for a PKP.
///
/// Fields serialize in the order the SDKs write a PKP session's capability: `sig`, `algo`,
/// `derivedVia`, `signedMessage`, `address` (js-sdk v7
/// `packages/lit-node-client-nodejs/src/lib/lit-node-client-nodejs.ts` `_signSessionKey`; v8
/// `packages/networks/src/networks/vNaga/shared/factories/BaseModuleFactory.ts`
/// `signSessionKey.handleResponse`). A wallet AuthSig has no `algo` and keeps the order
/// `sig`, `derivedVia`, `signedMessage`, `address`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSig {
    /// Wallet: `0x` + 130 hex, r ‖ s ‖ v. PKP: `{"ProofOfPossession":"<192 hex>"}`.
    pub sig: String,
    /// `LIT_BLS` on a PKP's AuthSig; absent on a wallet's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algo: Option<String>,
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
            algo: None,
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
            algo: None,
            derived_via: DERIVED_VIA_WALLET.to_owned(),
            signed_message: siwe_text,
            address: signer.to_checksum(),
        })
    }

    /// The AuthSig the SDKs build from the network's combined signature for a PKP session:
    /// `{sig: '{"ProofOfPossession":"<192 hex>"}', algo: "LIT_BLS", derivedVia: "lit.bls",
    /// signedMessage, address}`, with `signed_message` the SIWE text the nodes signed (their
    /// most common `siweMessage`) and `address` the PKP's EIP-55 address.
    pub fn lit_bls(sig: &BlsSignature, signed_message: String, address: String) -> Self {
        Self {
            sig: sig.to_authsig_sig(),
            algo: Some(ALGO_LIT_BLS.to_owned()),
            derived_via: DERIVED_VIA_BLS.to_owned(),
            signed_message,
            address,
        }
    }

    /// Checks a sign-in (a PKP's auth method: a plain SIWE with no ReCap,
    /// [`crate::message::AuthMethodMessage`]): its EIP-191 signature recovers to `signer` over
    /// exactly its text, which parses as canonical SIWE by that address. Answers when it
    /// expires (nodes require an expiration).
    pub fn verify_sign_in(&self, signer: Address) -> Result<OffsetDateTime, AuthSigError> {
        if self.algo.is_some() || self.derived_via != DERIVED_VIA_WALLET {
            return Err(AuthSigError::DerivedVia(self.derived_via.clone()));
        }
        let (message, address) = self.parse_message()?;
        if address != signer {
            return Err(AuthSigError::AddressMismatch);
        }
        let sig = parse_signature(&self.sig)?;
        if recover_personal(self.signed_message.as_bytes(), &sig) != Some(signer) {
            return Err(AuthSigError::BadSignature(signer.to_checksum()));
        }
        message
            .expiration_time
            .map(|t| *t.as_ref())
            .ok_or_else(|| AuthSigError::Siwe("a sign-in needs an expiration".into()))
    }

    /// Whether this is the network's signature for a PKP (`algo` `LIT_BLS`).
    pub fn is_lit_bls(&self) -> bool {
        self.algo.as_deref() == Some(ALGO_LIT_BLS)
    }

    /// Parses the JSON form strictly (unknown keys refused, as nodes do; `algo` absent or
    /// `LIT_BLS`).
    pub fn from_json(text: &str) -> Result<Self, AuthSigError> {
        let auth: Self =
            serde_json::from_str(text).map_err(|e| AuthSigError::Malformed(e.to_string()))?;
        auth.known_algo()
    }

    /// Parses a JSON value strictly (as [`AuthSig::from_json`]).
    pub fn from_value(value: Value) -> Result<Self, AuthSigError> {
        let auth: Self =
            serde_json::from_value(value).map_err(|e| AuthSigError::Malformed(e.to_string()))?;
        auth.known_algo()
    }

    fn known_algo(self) -> Result<Self, AuthSigError> {
        match self.algo.as_deref() {
            None | Some(ALGO_LIT_BLS) => Ok(self),
            Some(other) => Err(AuthSigError::Malformed(format!(
                "algo {other:?} is not LIT_BLS"
            ))),
        }
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
        check_window_and_uri(&verified.message, expected_uri, now)?;
        Ok(verified)
    }

    /// Checks form and signature only (no time, no uri), and decodes the ReCap.
    pub fn verify_signature(&self) -> Result<VerifiedAuthSig, AuthSigError> {
        if let Some(algo) = &self.algo {
            return Err(AuthSigError::Algo(algo.clone()));
        }
        if self.derived_via != DERIVED_VIA_WALLET {
            return Err(AuthSigError::DerivedVia(self.derived_via.clone()));
        }
        let (message, signer) = self.parse_message()?;
        let sig = parse_signature(&self.sig)?;
        if recover_personal(self.signed_message.as_bytes(), &sig) != Some(signer) {
            return Err(AuthSigError::BadSignature(signer.to_checksum()));
        }
        finish(message, signer)
    }

    /// Checks a PKP session capability (`algo` `LIT_BLS`) as a node does (lit-peer
    /// `auth/validators/siwe.rs` `validate_bls_auth_sig_basic`): the SIWE text parses and is
    /// valid at `now` (the rule of [`AuthSig::verify`]), `sig` is the network's BLS signature
    /// over [`session_hash`] of the text under `network_key`, and the SIWE `uri` is
    /// `expected_uri`. The signer is the SIWE address: the PKP's.
    ///
    /// Stricter than a node, as for wallet AuthSigs: the text must be canonical EIP-4361, the
    /// JSON `address` EIP-55 and equal to the SIWE address (the SDKs write both from the PKP
    /// key), `sig` exactly the SDK's JSON, and the ReCap present, canonical, last and matching
    /// the statement.
    pub fn verify_lit_bls(
        &self,
        network_key: &NetworkKey,
        expected_uri: &str,
        now: OffsetDateTime,
    ) -> Result<VerifiedAuthSig, AuthSigError> {
        match self.algo.as_deref() {
            Some(ALGO_LIT_BLS) => {}
            Some(other) => return Err(AuthSigError::Algo(other.to_owned())),
            None => return Err(AuthSigError::Algo(String::new())),
        }
        if self.derived_via != DERIVED_VIA_BLS {
            return Err(AuthSigError::DerivedVia(self.derived_via.clone()));
        }
        let (message, signer) = self.parse_message()?;
        check_window(&message, now)?;
        let sig = BlsSignature::from_authsig_sig(&self.sig)?;
        sig.verify(network_key, &session_hash(&self.signed_message))?;
        check_uri(&message, expected_uri)?;
        finish(message, signer)
    }

    /// The parsed, canonical SIWE message and its address, which the JSON `address` must name
    /// in EIP-55 form.
    fn parse_message(&self) -> Result<(siwe::Message, Address), AuthSigError> {
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
        Ok((message, signer))
    }
}

/// Decodes the ReCap and checks the statement against it.
fn finish(message: siwe::Message, signer: Address) -> Result<VerifiedAuthSig, AuthSigError> {
    let recap = Recap::extract(message.resources.iter().map(|r| r.as_str()))?;
    recap.verify_statement(message.statement.as_deref())?;
    Ok(VerifiedAuthSig {
        message,
        signer,
        recap,
    })
}

fn check_window_and_uri(
    m: &siwe::Message,
    expected_uri: &str,
    now: OffsetDateTime,
) -> Result<(), AuthSigError> {
    check_window(m, now)?;
    check_uri(m, expected_uri)
}

/// siwe's `valid_at`, which nodes call: `notBefore < now` and `expirationTime >= now`.
fn check_window(m: &siwe::Message, now: OffsetDateTime) -> Result<(), AuthSigError> {
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
    Ok(())
}

fn check_uri(m: &siwe::Message, expected_uri: &str) -> Result<(), AuthSigError> {
    let uri = m.uri.to_string();
    if uri != expected_uri {
        return Err(AuthSigError::Uri {
            expected: expected_uri.to_owned(),
            found: uri,
        });
    }
    Ok(())
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
