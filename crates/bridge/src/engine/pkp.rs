//! PKP sessions: once the user approved, the network signs the session's AuthSig for the PKP
//! (`LIT_BLS`) on the word of its auth method — one of the companion's wallets signing in
//! (a local key here, a browser wallet in the page) or a Lit Action the nodes run.
//!
//! The flow: the nodes' handshakes (nonce, network key, identity keys) → the session key and
//! its SIWE for exactly the approved grant → the auth method's AuthSig (kept from an earlier
//! session while it lasts, else signed now) → `sign_session_key` at every agreeing node → the
//! shares combined and checked ([`lit_companion_session::pkp_session`]) → stored, then handed
//! out. Nothing is stored unless every check passes.

use std::sync::Arc;

use lit_companion_net::{Agreement, Handshake};
use lit_companion_session::{
    bls::NetworkKey,
    message::{session_uri, AuthMethodMessage},
    pkp_session::{network_auth_sig, Approved, NodeShare, PkpSessionError},
    AuthSig, Generation, PkpPublicKey,
};
use lit_companion_vault::{
    metadata::PkpSessionRecord, Grantee, LiveSession, NewSession, PkpSigned, PreparedSession,
    REUSE_MARGIN,
};
use lit_companion_wire::{BridgeError, ErrorCode};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{
    errors::{internal, net_error},
    issue::Created,
    params::{LitAction, ValidParams},
    wallet_step::PkpAuth,
    Engine,
};
use crate::caller::Caller;

/// `authMethodType` of an Ethereum wallet's AuthSig (Lit `AuthMethodType.EthWallet`).
const AUTH_METHOD_ETH_WALLET: u8 = 1;

/// What the nodes need besides the auth method, fixed when the user approved.
#[derive(Debug, Clone)]
pub(crate) struct PkpPlan {
    generation: Generation,
    key: PkpPublicKey,
    handshakes: Vec<(String, Handshake)>,
    network_key: NetworkKey,
    threshold: usize,
    epoch: Option<u64>,
    max_price_wei: Option<u128>,
    lit_action: Option<LitAction>,
}

/// A PKP session waiting for its browser wallet to sign in.
#[derive(Debug)]
pub(crate) struct PkpStep {
    pub(crate) plan: PkpPlan,
    /// The wallet that signs in.
    pub(crate) auth: lit_companion_session::Address,
    /// The exact sign-in text it is to sign.
    pub(crate) auth_message: String,
}

impl Engine {
    /// Creates the approved PKP session: see the module's flow. Answers the stored session and
    /// the nodes that signed, or (a browser wallet signs in) the step the page is to take.
    #[allow(clippy::too_many_arguments, reason = "one flow, its inputs named")]
    pub(super) async fn create_pkp(
        &self,
        caller: &Caller,
        p: &ValidParams,
        key: &PkpPublicKey,
        auth: &PkpAuth,
        grant: Vec<lit_companion_session::ResourceAbilityRequest>,
        now: OffsetDateTime,
        expiration: OffsetDateTime,
    ) -> Result<Created, BridgeError> {
        let agreement = self
            .networks
            .agree(&p.network, &p.nodes)
            .await
            .map_err(|e| net_error(&p.network, e))?;
        let set = self
            .networks
            .node_set(&p.network)
            .await
            .map_err(|e| net_error(&p.network, e))?;
        let plan = plan(p, key, &agreement, set.min_node_count)?;
        let origin = caller.grant_key().to_string();
        let network = p.network.name.to_string();
        let domain = caller.siwe_domain();
        let nonce = agreement.nonce.clone();
        let (pkp_key, price) = (*key, p.max_price_wei);
        let prepared = self
            .blocking(move |v| {
                let who = Grantee {
                    origin: &origin,
                    network: &network,
                    wallet: pkp_key.address(),
                };
                v.prepare_pkp_session(
                    &who,
                    &pkp_key,
                    &grant,
                    &NewSession {
                        domain: &domain,
                        statement: "",
                        nonce: &nonce,
                        now,
                        expiration,
                        max_price_wei: price,
                    },
                )
            })
            .await?;
        let (address, browser) = match auth {
            PkpAuth::LitAction(_) => {
                let live = self.pkp_finish(plan, prepared, None, None).await?;
                return Ok(Created::Live(live, agreement.nodes));
            }
            PkpAuth::Wallet {
                address, browser, ..
            } => (*address, *browser),
        };
        let kept = {
            let (origin, network, pkp) = (
                caller.grant_key().to_string(),
                p.network.name.to_string(),
                key.address(),
            );
            self.blocking(move |v| {
                let who = Grantee {
                    origin: &origin,
                    network: &network,
                    wallet: pkp,
                };
                v.pkp_auth_method(&who, &address, now + REUSE_MARGIN)
            })
            .await?
        };
        let auth_message = AuthMethodMessage {
            domain: &caller.siwe_domain(),
            address,
            pkp: key.address(),
            uri: &caller.siwe_uri(),
            nonce: &agreement.nonce,
            issued_at: now,
            expiration,
        }
        .build()
        .map_err(|e| internal("the sign-in message", &e))?;
        let auth_sig = match (kept, browser) {
            (Some(kept), _) => kept,
            (None, false) => {
                self.blocking(move |v| {
                    let wallet = v.wallet_key(&address)?;
                    AuthSig::sign(&wallet, auth_message)
                        .map_err(|e| lit_companion_vault::VaultError::Protocol(e.into()))
                })
                .await?
            }
            (None, true) => {
                return self.wallet_step(
                    caller,
                    p,
                    prepared,
                    None,
                    agreement.nodes,
                    expiration,
                    Some(PkpStep {
                        plan,
                        auth: address,
                        auth_message,
                    }),
                );
            }
        };
        let live = self
            .pkp_finish(plan, prepared, Some(auth_sig), Some(address))
            .await?;
        Ok(Created::Live(live, agreement.nodes))
    }

    /// The browser wallet signed in for a PKP session: its signature is checked over exactly
    /// the sign-in text, then the network signs and the session is stored.
    pub(super) async fn finish_pkp_step(
        &self,
        step: PkpStep,
        prepared: PreparedSession,
        signature: &str,
    ) -> Result<Arc<LiveSession>, BridgeError> {
        let auth_sig = AuthSig::from_wallet_signature(step.auth_message, signature, step.auth)
            .map_err(|e| {
                super::errors::vault_error(lit_companion_vault::VaultError::WalletSignature(e))
            })?;
        self.pkp_finish(step.plan, prepared, Some(auth_sig), Some(step.auth))
            .await
    }

    /// Asks the nodes, takes their signature only when it is what the user approved, stores.
    async fn pkp_finish(
        &self,
        plan: PkpPlan,
        prepared: PreparedSession,
        auth_sig: Option<AuthSig>,
        auth: Option<lit_companion_session::Address>,
    ) -> Result<Arc<LiveSession>, BridgeError> {
        let body = request_body(&plan, &prepared, auth_sig.as_ref())?;
        let answers = self
            .networks
            .client()
            .sign_session_key(plan.generation, &plan.handshakes, body)
            .await;
        let mut shares = Vec::new();
        let mut refusals = Vec::new();
        for (node, answer) in &answers {
            match answer {
                Ok(a) => shares.push(a),
                Err(e) => {
                    tracing::warn!(node = %node, error = %e, "a Lit node did not sign the PKP session");
                    if let lit_companion_net::NetError::Refused { reason, .. } = e {
                        refusals.push(reason.clone());
                    }
                }
            }
        }
        let node_shares: Vec<NodeShare<'_>> = shares
            .iter()
            .map(|a| NodeShare {
                share: &a.signature_share,
                siwe_message: &a.siwe_message,
            })
            .collect();
        let public_key = prepared.public_key();
        let approved = Approved {
            pkp: plan.key.address(),
            session_key: &public_key,
            expiration: prepared.expiration(),
            grant: prepared.grant(),
        };
        let network_sig =
            network_auth_sig(&node_shares, plan.threshold, &plan.network_key, &approved)
                .map_err(|e| refused(&plan, auth, &e, &refusals))?;
        let signed = PkpSigned {
            auth_sig: network_sig,
            record: PkpSessionRecord {
                network_key: plan.network_key.to_hex(),
                auth: match (&plan.lit_action, auth) {
                    (Some(action), _) => format!("lit-action:{}", action.ipfs_id),
                    (None, Some(a)) => a.to_checksum(),
                    (None, None) => String::new(),
                },
            },
            auth_method: auth_sig,
        };
        self.blocking(move |v| v.finish_pkp_session(prepared, signed))
            .await
    }
}

/// Everything the nodes need, from the agreement: its network key (a PKP session needs one),
/// its threshold, its epoch.
fn plan(
    p: &ValidParams,
    key: &PkpPublicKey,
    agreement: &Agreement,
    min_node_count: usize,
) -> Result<PkpPlan, BridgeError> {
    let network_key = agreement
        .network_key()
        .and_then(|k| k.parse::<NetworkKey>().ok())
        .ok_or_else(|| {
            BridgeError::new(
                ErrorCode::NetworkUnavailable,
                format!(
                    "the nodes of {} report no BLS network key: they cannot sign PKP sessions",
                    p.network.name
                ),
            )
        })?;
    Ok(PkpPlan {
        generation: p.network.generation,
        key: *key,
        handshakes: agreement.handshakes.clone(),
        network_key,
        threshold: min_node_count.max(agreement.handshakes.len() / 2 + 1),
        epoch: agreement.epoch(),
        max_price_wei: p.max_price_wei,
        lit_action: p.pkp.as_ref().and_then(|k| k.lit_action.clone()),
    })
}

/// The `sign_session_key` body as the SDK sends it (v7 `signSessionKey`; v8 adds `nodeSet`
/// and `maxPrice`, a decimal string): the same for every node.
fn request_body(
    plan: &PkpPlan,
    prepared: &PreparedSession,
    auth_sig: Option<&AuthSig>,
) -> Result<Value, BridgeError> {
    let auth_methods = match auth_sig {
        Some(a) => {
            let token = serde_json::to_string(a).map_err(|e| internal("the auth method", &e))?;
            json!([{ "authMethodType": AUTH_METHOD_ETH_WALLET, "accessToken": token }])
        }
        None => json!([]),
    };
    let mut body = json!({
        "sessionKey": session_uri(&prepared.public_key()),
        "authMethods": auth_methods,
        "pkpPublicKey": plan.key.to_hex(),
        "siweMessage": prepared.message(),
        "curveType": "BLS",
    });
    if let Some(action) = &plan.lit_action {
        match &action.code_base64 {
            Some(code) => body["code"] = json!(code),
            None => body["litActionIpfsId"] = json!(action.ipfs_id),
        }
        if let Some(params) = &action.js_params {
            body["jsParams"] = match plan.generation {
                Generation::Datil => params.clone(),
                // v8 `signCustomSessionKey` passes the parameters both flat and as `jsParams`.
                Generation::Naga => {
                    let mut both = params.clone();
                    both["jsParams"] = params.clone();
                    both
                }
            };
        }
    }
    if let Some(epoch) = plan.epoch {
        body["epoch"] = json!(epoch);
    }
    if plan.generation == Generation::Naga {
        let node_set: Vec<Value> = plan
            .handshakes
            .iter()
            .map(|(url, _)| {
                json!({
                    "socketAddress": lit_companion_session::session_sigs::node_host_port(url),
                    "value": 1,
                })
            })
            .collect();
        body["nodeSet"] = json!(node_set);
        body["maxPrice"] = json!(plan.max_price_wei.unwrap_or(0).to_string());
    }
    Ok(body)
}

/// Why nothing was stored, for the caller: the nodes' own refusal when most refused (a PKP
/// whose wallet is not permitted, say), else what was wrong with what they signed.
fn refused(
    plan: &PkpPlan,
    auth: Option<lit_companion_session::Address>,
    e: &PkpSessionError,
    refusals: &[String],
) -> BridgeError {
    tracing::warn!(error = %e, "the PKP session was not signed as approved; nothing was stored");
    let pkp = plan.key.address().to_checksum();
    let by = match (&plan.lit_action, auth) {
        (Some(action), _) => format!("Lit Action {}", action.ipfs_id),
        (None, Some(a)) => format!("wallet {}", a.to_checksum()),
        (None, None) => "its auth method".to_owned(),
    };
    if matches!(e, PkpSessionError::TooFewShares { .. }) && !refusals.is_empty() {
        return BridgeError::new(
            ErrorCode::Unauthorized,
            format!(
                "the Lit network would not sign for PKP {pkp} on the word of {by}: {}; nothing was stored",
                refusals[0]
            ),
        );
    }
    BridgeError::new(
        ErrorCode::NetworkUnavailable,
        format!("the Lit network's signature for PKP {pkp} was refused: {e}; nothing was stored"),
    )
}
