//! A `getSessionSigs` request's parameters, checked: bad input is refused here with its reason
//! (4400), before anything else happens.

use std::sync::Arc;

use base64::Engine as _;
use lit_companion_net::{default_lifetime, node_url, NetworkSpec, Networks};
use lit_companion_session::{
    authsig::AuthSig,
    ipfs::{cid_v0, cid_v0_bytes},
    message::DELEGATION_URI,
    timefmt::{iso_millis, parse_rfc3339},
    Address, Generation, PkpPublicKey, ResourceAbilityRequest,
};
use lit_companion_vault::vault::wallets::clean_label;
use lit_companion_wire::{BridgeError, ErrorCode, GetSessionSigsParams};
use serde_json::Value;
use time::OffsetDateTime;

use super::EngineSettings;

/// At most this many resource/ability requests in one request.
const MAX_REQUESTS: usize = 64;
/// At most this many node URLs.
const MAX_NODES: usize = 100;
/// At most this many delegation AuthSigs, each at most this large (JSON).
const MAX_DELEGATIONS: usize = 8;
const MAX_DELEGATION_BYTES: usize = 16 * 1024;

/// Parameters after validation.
pub(crate) struct ValidParams {
    pub(crate) network: Arc<NetworkSpec>,
    pub(crate) requests: Vec<ResourceAbilityRequest>,
    /// The nodes the caller named (normalised); the network's whole set when empty. Checked
    /// against the set before anything is contacted; once checked, the nodes signed for.
    pub(crate) nodes: Vec<String>,
    pub(crate) expiration: OffsetDateTime,
    pub(crate) delegations: Vec<AuthSig>,
    pub(crate) statement: String,
    pub(crate) max_price_wei: Option<u128>,
    pub(crate) wallet: Option<Address>,
    /// The page's own wallet, which signs in the page (`externalWallet`).
    pub(crate) external: Option<ExternalWallet>,
    /// The PKP the network is to sign for (`pkpPublicKey`), and what authorizes it.
    pub(crate) pkp: Option<PkpParams>,
}

/// A PKP session's parameters.
#[derive(Debug, Clone)]
pub(crate) struct PkpParams {
    pub(crate) key: PkpPublicKey,
    /// The Lit Action that authorizes the PKP in place of its wallet, if the request names one.
    pub(crate) lit_action: Option<LitAction>,
}

/// A Lit Action named as a PKP's authority: its CID (computed from the code when code is sent,
/// so the prompt names exactly what will run), its code if sent, its parameters.
#[derive(Debug, Clone)]
pub(crate) struct LitAction {
    pub(crate) ipfs_id: String,
    /// The code, base64, exactly as the request sent it (the nodes take it so).
    pub(crate) code_base64: Option<String>,
    pub(crate) js_params: Option<Value>,
}

/// A Lit Action's code may be at most this large (decoded).
const MAX_ACTION_CODE: usize = 32 * 1024;
/// Its parameters, as JSON.
const MAX_JS_PARAMS: usize = 8 * 1024;

/// The page's own EIP-1193 wallet: its account and its name.
#[derive(Debug, Clone)]
pub(crate) struct ExternalWallet {
    pub(crate) address: Address,
    pub(crate) name: String,
}

impl ValidParams {
    /// A network the companion does not serve: one answer whether it is unknown, or one of
    /// the user's own and switched off, so that no page learns which networks the user keeps
    /// (4200).
    pub(crate) fn not_served(network: &str) -> BridgeError {
        BridgeError::new(
            ErrorCode::Unsupported,
            format!(
                "Lit Companion does not serve the network {network:?}; the user can add it or \
                 turn it on in the companion's settings"
            ),
        )
    }

    /// The wallet the request names, if any (`wallet` or `externalWallet`).
    pub(crate) fn named_wallet(&self) -> Option<Address> {
        self.wallet.or(self.external.as_ref().map(|e| e.address))
    }
}

impl ValidParams {
    pub(crate) fn parse(
        params: Value,
        now: OffsetDateTime,
        settings: &EngineSettings,
        networks: &Networks,
    ) -> Result<Self, BridgeError> {
        let bad = |m: String| BridgeError::new(ErrorCode::BadRequest, m);
        let p: GetSessionSigsParams =
            serde_json::from_value(params).map_err(|e| bad(format!("invalid params: {e}")))?;
        let network = networks
            .get(&p.network)
            .ok_or_else(|| Self::not_served(&p.network))?;
        let requests = ResourceAbilityRequest::parse_list(&p.resource_ability_requests.to_string())
            .map_err(|e| bad(e.to_string()))?;
        if requests.len() > MAX_REQUESTS {
            return Err(bad(format!(
                "at most {MAX_REQUESTS} resource/ability requests"
            )));
        }
        for r in &requests {
            r.check_generation(network.generation)
                .map_err(|e| bad(e.to_string()))?;
        }
        if p.node_urls.len() > MAX_NODES {
            return Err(bad(format!("at most {MAX_NODES} node URLs")));
        }
        let mut nodes: Vec<String> = Vec::with_capacity(p.node_urls.len());
        for url in &p.node_urls {
            let url = node_url(url).map_err(|e| bad(format!("nodeUrls: {e}")))?;
            if !nodes.contains(&url) {
                nodes.push(url);
            }
        }
        let expiration = match &p.expiration {
            Some(t) => parse_rfc3339(t)
                .ok_or_else(|| bad(format!("expiration {t:?} is not an RFC 3339 time")))?,
            None => {
                now + time::Duration::try_from(default_lifetime(network.generation))
                    .unwrap_or(time::Duration::HOUR)
            }
        };
        if expiration <= now + time::Duration::minutes(1) {
            return Err(bad("expiration must be more than a minute away".into()));
        }
        let max = time::Duration::try_from(settings.max_lifetime)
            .unwrap_or(lit_companion_session::MAX_SESSION_LIFETIME);
        if expiration - now > max {
            return Err(bad(format!(
                "a session may last at most {} days",
                max.whole_days()
            )));
        }
        if p.capability_auth_sigs.len() > MAX_DELEGATIONS {
            return Err(bad(format!("at most {MAX_DELEGATIONS} capabilityAuthSigs")));
        }
        let mut delegations = Vec::new();
        for value in p.capability_auth_sigs {
            if value.to_string().len() > MAX_DELEGATION_BYTES {
                return Err(bad(format!(
                    "capabilityAuthSigs: each at most {} KiB",
                    MAX_DELEGATION_BYTES / 1024
                )));
            }
            let a =
                AuthSig::from_value(value).map_err(|e| bad(format!("capabilityAuthSigs: {e}")))?;
            let v = a
                .verify_signature()
                .map_err(|e| bad(format!("capabilityAuthSigs: {e}")))?;
            if v.message.uri.as_str() != DELEGATION_URI {
                return Err(bad("capabilityAuthSigs may only hold delegation AuthSigs (uri lit:capability:delegation)".into()));
            }
            delegations.push(a);
        }
        let statement = p.statement.unwrap_or_default();
        if statement.len() > 500 || statement.contains(['\n', '\r']) {
            return Err(bad("statement: at most 500 characters on one line".into()));
        }
        let max_price_wei = match (network.generation, p.max_price) {
            (Generation::Datil, None) => None,
            (Generation::Datil, Some(_)) => {
                return Err(bad("maxPrice applies to Naga networks only".into()))
            }
            (Generation::Naga, Some(s)) => {
                let price = s
                    .parse::<lit_companion_session::Wei>()
                    .map_err(|_| bad("maxPrice must be a decimal number of wei".into()))?
                    .0;
                if price > network.price_cap_wei {
                    return Err(bad(format!(
                        "maxPrice {price} wei is above the cap of {} wei per request set for {} in Lit Companion",
                        network.price_cap_wei, network.name
                    )));
                }
                Some(price)
            }
            // The dapp names no price: the user's cap for the network, shown in the prompt.
            (Generation::Naga, None) => Some(network.price_cap_wei),
        };
        let wallet = p
            .wallet
            .map(|w| Address::parse_any_case(&w).map_err(|e| bad(format!("wallet: {e}"))))
            .transpose()?;
        let external = p
            .external_wallet
            .map(|e| {
                if wallet.is_some() {
                    return Err(bad("name either wallet or externalWallet, not both".into()));
                }
                let address = Address::parse_any_case(&e.address)
                    .map_err(|err| bad(format!("externalWallet.address: {err}")))?;
                // Checked now as the vault will store it: a bad name is refused before the prompt.
                let name = e
                    .name
                    .as_deref()
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .unwrap_or("Browser wallet");
                let name =
                    clean_label(name).map_err(|err| bad(format!("externalWallet.name: {err}")))?;
                Ok(ExternalWallet { address, name })
            })
            .transpose()?;
        let pkp = match p.pkp_public_key {
            None => {
                if p.lit_action_ipfs_id.is_some()
                    || p.lit_action_code.is_some()
                    || p.js_params.is_some()
                {
                    return Err(bad(
                        "litActionIpfsId, litActionCode and jsParams authorize a PKP: name its pkpPublicKey"
                            .into(),
                    ));
                }
                None
            }
            Some(text) => {
                if wallet.is_some() || external.is_some() {
                    return Err(bad(
                        "name either a pkpPublicKey or a wallet, not both: the PKP's own wallet signs in for it"
                            .into(),
                    ));
                }
                let key =
                    PkpPublicKey::parse(&text).map_err(|e| bad(format!("pkpPublicKey: {e}")))?;
                let lit_action = lit_action(p.lit_action_ipfs_id, p.lit_action_code, p.js_params)
                    .map_err(bad)?;
                Some(PkpParams { key, lit_action })
            }
        };
        let _ = iso_millis(expiration).map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            network,
            requests,
            nodes,
            expiration,
            delegations,
            statement,
            max_price_wei,
            wallet,
            external,
            pkp,
        })
    }
}

/// The Lit Action a request names, checked: its CID (from the code when code is sent; equal
/// to `litActionIpfsId` when both are), its parameters a JSON object.
fn lit_action(
    ipfs_id: Option<String>,
    code: Option<String>,
    js_params: Option<Value>,
) -> Result<Option<LitAction>, String> {
    if ipfs_id.is_none() && code.is_none() {
        if js_params.is_some() {
            return Err("jsParams go with a litActionIpfsId or litActionCode".into());
        }
        return Ok(None);
    }
    if let Some(params) = &js_params {
        if !params.is_object() {
            return Err("jsParams must be a JSON object".into());
        }
        if params.to_string().len() > MAX_JS_PARAMS {
            return Err(format!("jsParams: at most {} KiB", MAX_JS_PARAMS / 1024));
        }
    }
    let from_code = match &code {
        None => None,
        Some(b64) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| "litActionCode must be the action's code in base64".to_owned())?;
            if bytes.len() > MAX_ACTION_CODE {
                return Err(format!(
                    "litActionCode: at most {} KiB of code",
                    MAX_ACTION_CODE / 1024
                ));
            }
            Some(cid_v0(&bytes))
        }
    };
    let ipfs_id = match (ipfs_id, from_code) {
        (Some(named), Some(computed)) if named != computed => {
            return Err(format!(
                "litActionIpfsId {named} is not the CID of litActionCode ({computed})"
            ))
        }
        (_, Some(computed)) => computed,
        (Some(named), None) => {
            if cid_v0_bytes(&named).is_none() {
                return Err(format!(
                    "litActionIpfsId {named:?} is not an IPFS CIDv0 (Qm…)"
                ));
            }
            named
        }
        (None, None) => return Ok(None),
    };
    Ok(Some(LitAction {
        ipfs_id,
        code_base64: code.map(|c| c.trim().to_owned()),
        js_params,
    }))
}
