//! A `getSessionSigs` request's parameters, checked: bad input is refused here with its reason
//! (4400), before anything else happens.

use lit_companion_net::default_lifetime;
use lit_companion_session::{
    authsig::AuthSig,
    message::DELEGATION_URI,
    session_sigs::check_node_url,
    timefmt::{iso_millis, parse_rfc3339},
    Address, Generation, Network, ResourceAbilityRequest,
};
use lit_companion_wire::{BridgeError, ErrorCode, GetSessionSigsParams};
use serde_json::Value;
use time::OffsetDateTime;

use super::EngineSettings;

/// At most this many resource/ability requests in one request.
const MAX_REQUESTS: usize = 64;
/// At most this many node URLs.
const MAX_NODES: usize = 100;

/// Parameters after validation.
pub(crate) struct ValidParams {
    pub(crate) network: Network,
    pub(crate) requests: Vec<ResourceAbilityRequest>,
    pub(crate) nodes: Vec<String>,
    pub(crate) expiration: OffsetDateTime,
    pub(crate) delegations: Vec<AuthSig>,
    pub(crate) statement: String,
    pub(crate) max_price_wei: Option<u128>,
    pub(crate) wallet: Option<Address>,
}

impl ValidParams {
    pub(crate) fn parse(
        params: Value,
        now: OffsetDateTime,
        settings: &EngineSettings,
    ) -> Result<Self, BridgeError> {
        let bad = |m: String| BridgeError::new(ErrorCode::BadRequest, m);
        let p: GetSessionSigsParams =
            serde_json::from_value(params).map_err(|e| bad(format!("invalid params: {e}")))?;
        let network: Network = p
            .network
            .parse()
            .map_err(|e: lit_companion_session::ResourceError| bad(e.to_string()))?;
        let requests = ResourceAbilityRequest::parse_list(&p.resource_ability_requests.to_string())
            .map_err(|e| bad(e.to_string()))?;
        if requests.len() > MAX_REQUESTS {
            return Err(bad(format!(
                "at most {MAX_REQUESTS} resource/ability requests"
            )));
        }
        for r in &requests {
            r.check_generation(network.generation())
                .map_err(|e| bad(e.to_string()))?;
        }
        if p.node_urls.is_empty() {
            return Err(bad(
                "nodeUrls is required: pass the nodes your Lit client is connected to".into(),
            ));
        }
        if p.node_urls.len() > MAX_NODES {
            return Err(bad(format!("at most {MAX_NODES} node URLs")));
        }
        for url in &p.node_urls {
            check_node_url(url).map_err(|e| bad(e.to_string()))?;
        }
        let expiration = match &p.expiration {
            Some(t) => parse_rfc3339(t)
                .ok_or_else(|| bad(format!("expiration {t:?} is not an RFC 3339 time")))?,
            None => {
                now + time::Duration::try_from(default_lifetime(network))
                    .unwrap_or(time::Duration::HOUR)
            }
        };
        if expiration <= now + time::Duration::minutes(1) {
            return Err(bad("expiration must be more than a minute away".into()));
        }
        let max =
            time::Duration::try_from(settings.max_lifetime).unwrap_or(time::Duration::days(30));
        if expiration - now > max {
            return Err(bad(format!(
                "a session may last at most {} days",
                max.whole_days()
            )));
        }
        let mut delegations = Vec::new();
        for value in p.capability_auth_sigs {
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
        let max_price_wei = match (network.generation(), p.max_price) {
            (Generation::Datil, None) => None,
            (Generation::Datil, Some(_)) => {
                return Err(bad("maxPrice applies to Naga networks only".into()))
            }
            (Generation::Naga, Some(s)) => Some(
                s.parse::<u128>()
                    .map_err(|_| bad("maxPrice must be a decimal number of wei".into()))?,
            ),
            (Generation::Naga, None) => Some(settings.default_max_price_wei),
        };
        let wallet = p
            .wallet
            .map(|w| Address::parse_any_case(&w).map_err(|e| bad(format!("wallet: {e}"))))
            .transpose()?;
        let _ = iso_millis(expiration).map_err(|e| bad(e.to_string()))?;
        Ok(Self {
            network,
            requests,
            nodes: p.node_urls,
            expiration,
            delegations,
            statement,
            max_price_wei,
            wallet,
        })
    }
}
