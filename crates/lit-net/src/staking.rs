//! A network's node set, read from its Staking contract as the Lit SDK reads it: one
//! `eth_call` of `getActiveUnkickedValidatorStructsAndCounts` — no argument on Datil, the realm
//! id on Naga — whose validators become `https://<ipv4>:<port>`.
//!
//! The call and return types below are the ones in the Staking ABI shipped by
//! `@lit-protocol/contracts` 0.9.1 (`dist/prod/datil.json` and `dist/prod/naga.json`, contract
//! `Staking`); the SDK builds node URLs the same way (`ip` is a big-endian IPv4 address).
//! Answers are decoded strictly (alloy's ABI decoder): anything that is not exactly the
//! declared shape is a typed error, never a partial node list.

use std::{net::Ipv4Addr, time::Duration};

use alloy_sol_types::SolCall;
use lit_companion_session::Generation;
use serde::Deserialize;
use url::Url;

use crate::client::NetError;

/// Why the node set could not be read from the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The RPC call failed or answered an error.
    #[error("{method} at {url}: {reason}")]
    Rpc {
        /// The JSON-RPC method.
        method: String,
        /// The RPC's URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The RPC answered something that is not what the method returns.
    #[error("{method} answered {answer:?}")]
    BadAnswer {
        /// The JSON-RPC method.
        method: &'static str,
        /// The answer.
        answer: String,
    },
    /// The RPC serves another chain than the network's.
    #[error("the RPC serves chain {got}, not chain {expected}")]
    WrongChain {
        /// The chain id it reported.
        got: u64,
        /// The network's chain id.
        expected: u64,
    },
    /// The Staking contract's answer does not decode as the ABI declares.
    #[error("the Staking answer: {0}")]
    Decode(String),
    /// A number in the answer does not fit.
    #[error("{0} out of range")]
    OutOfRange(&'static str),
    /// The contract lists no active validator.
    #[error("the Staking contract lists no active validators")]
    NoValidators,
    /// A validator's address cannot be a node URL.
    #[error("a validator has an unusable address ({addr}, port {port:?})")]
    BadValidator {
        /// Its IPv4 address.
        addr: Ipv4Addr,
        /// Its port, when it fits.
        port: Option<u16>,
    },
    /// The HTTP client for the RPC could not be made.
    #[error("the RPC client: {0}")]
    Client(String),
}

mod datil {
    alloy_sol_types::sol! {
        struct Epoch {
            uint256 epochLength;
            uint256 number;
            uint256 endTime;
            uint256 retries;
            uint256 timeout;
        }
        struct Validator {
            uint32 ip;
            uint128 ipv6;
            uint32 port;
            address nodeAddress;
            uint256 reward;
            uint256 senderPubKey;
            uint256 receiverPubKey;
        }
        function getActiveUnkickedValidatorStructsAndCounts()
            external view returns (Epoch epoch, uint256 minNodeCount, Validator[] validators);
    }
}

mod naga {
    alloy_sol_types::sol! {
        struct Epoch {
            uint256 epochLength;
            uint256 number;
            uint256 rewardEpochNumber;
            uint256 nextRewardEpochNumber;
            uint256 endTime;
            uint256 retries;
            uint256 timeout;
            uint256 startTime;
            uint256 lastAdvanceVoteTime;
        }
        struct Validator {
            uint32 ip;
            uint128 ipv6;
            uint32 port;
            address nodeAddress;
            uint256 reward;
            uint256 senderPubKey;
            uint256 receiverPubKey;
            uint256 lastActiveEpoch;
            uint256 commissionRate;
            uint256 lastRewardEpoch;
            uint256 lastRealmId;
            uint256 delegatedStakeAmount;
            uint256 delegatedStakeWeight;
            uint256 lastRewardEpochClaimedFixedCostRewards;
            uint256 lastRewardEpochClaimedCommission;
            address operatorAddress;
            uint256 uniqueDelegatingStakerCount;
            bool registerAttestedWalletDisabled;
        }
        function getActiveUnkickedValidatorStructsAndCounts(uint256 realmId)
            external view returns (Epoch epoch, uint256 minNodeCount, Validator[] validators);
    }
}

/// Where a network's node set is read: a JSON-RPC endpoint and the Staking contract there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StakingSource {
    /// The chain's JSON-RPC URL.
    pub rpc: Url,
    /// The Staking contract (20 bytes).
    pub staking: [u8; 20],
    /// The chain id the RPC must report (`eth_chainId`); not checked when `None`.
    pub chain_id: Option<u64>,
    /// Naga: the realm whose validators serve requests.
    pub realm: Option<u64>,
}

/// A node set as the chain states it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainNodes {
    /// `https://<ip>:<port>`, in the contract's order.
    pub nodes: Vec<String>,
    /// The epoch number.
    pub epoch: u64,
    /// The fewest nodes the network needs for a request.
    pub min_node_count: usize,
}

/// The call data of the node-set query for `generation` (Naga: for `realm`).
pub fn call_data(generation: Generation, realm: Option<u64>) -> Vec<u8> {
    match generation {
        Generation::Datil => datil::getActiveUnkickedValidatorStructsAndCountsCall {}.abi_encode(),
        Generation::Naga => naga::getActiveUnkickedValidatorStructsAndCountsCall {
            realmId: alloy_sol_types::private::U256::from(realm.unwrap_or(1)),
        }
        .abi_encode(),
    }
}

/// Decodes the node-set query's answer.
pub fn decode_nodes(generation: Generation, data: &[u8]) -> Result<ChainNodes, NetError> {
    let bad = |e: alloy_sol_types::Error| ChainError::Decode(e.to_string());
    let (epoch, min, validators): (_, _, Vec<(u32, u32)>) = match generation {
        Generation::Datil => {
            let r = datil::getActiveUnkickedValidatorStructsAndCountsCall::abi_decode_returns(data)
                .map_err(bad)?;
            let v = r.validators.iter().map(|v| (v.ip, v.port)).collect();
            (r.epoch.number, r.minNodeCount, v)
        }
        Generation::Naga => {
            let r = naga::getActiveUnkickedValidatorStructsAndCountsCall::abi_decode_returns(data)
                .map_err(bad)?;
            let v = r.validators.iter().map(|v| (v.ip, v.port)).collect();
            (r.epoch.number, r.minNodeCount, v)
        }
    };
    let epoch = u64::try_from(epoch).map_err(|_| ChainError::OutOfRange("epoch"))?;
    let min_node_count =
        usize::try_from(min).map_err(|_| ChainError::OutOfRange("minNodeCount"))?;
    if validators.is_empty() {
        return Err(ChainError::NoValidators.into());
    }
    let mut nodes = Vec::with_capacity(validators.len());
    for (ip, port) in validators {
        let addr = Ipv4Addr::from(ip);
        let port = u16::try_from(port).ok().filter(|p| *p != 0);
        match port {
            Some(port) if !addr.is_unspecified() => {
                let url = format!("https://{addr}:{port}");
                if !nodes.contains(&url) {
                    nodes.push(url);
                }
            }
            _ => return Err(ChainError::BadValidator { addr, port }.into()),
        }
    }
    Ok(ChainNodes {
        nodes,
        epoch,
        min_node_count,
    })
}

#[derive(Deserialize)]
struct RpcAnswer {
    result: Option<String>,
    error: Option<serde_json::Value>,
}

/// Reads the node set from the chain: `eth_chainId` (when a chain id is expected), then the
/// Staking call. The RPC must answer directly (no redirects) within `timeout`.
pub async fn read_nodes(
    http: &reqwest::Client,
    generation: Generation,
    source: &StakingSource,
) -> Result<ChainNodes, NetError> {
    if let Some(expected) = source.chain_id {
        let answer = rpc(http, &source.rpc, "eth_chainId", serde_json::json!([])).await?;
        let got = hex_quantity(&answer).ok_or_else(|| ChainError::BadAnswer {
            method: "eth_chainId",
            answer: answer.clone(),
        })?;
        if got != expected {
            return Err(ChainError::WrongChain { got, expected }.into());
        }
    }
    let call = serde_json::json!([
        {
            "to": format!("0x{}", hex::encode(source.staking)),
            "data": format!("0x{}", hex::encode(call_data(generation, source.realm))),
        },
        "latest"
    ]);
    let answer = rpc(http, &source.rpc, "eth_call", call).await?;
    let not_data = || ChainError::BadAnswer {
        method: "eth_call",
        answer: answer.clone(),
    };
    let digits = answer.strip_prefix("0x").ok_or_else(not_data)?;
    let data = hex::decode(digits).map_err(|_| not_data())?;
    decode_nodes(generation, &data)
}

async fn rpc(
    http: &reqwest::Client,
    url: &Url,
    method: &str,
    params: serde_json::Value,
) -> Result<String, NetError> {
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
    let failed = |reason: String| ChainError::Rpc {
        method: method.to_owned(),
        url: url.to_string(),
        reason,
    };
    let resp = http
        .post(url.clone())
        .json(&body)
        .send()
        .await
        .map_err(|e| {
            failed(if e.is_timeout() {
                "timed out".into()
            } else {
                e.to_string()
            })
        })?;
    if !resp.status().is_success() {
        return Err(failed(format!("HTTP {}", resp.status())).into());
    }
    let answer: RpcAnswer = resp.json().await.map_err(|e| failed(e.to_string()))?;
    match (answer.result, answer.error) {
        (Some(result), None) => Ok(result),
        (_, Some(error)) => Err(failed(format!("error {error}")).into()),
        (None, None) => Err(failed("no result".into()).into()),
    }
}

fn hex_quantity(s: &str) -> Option<u64> {
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

/// How long an RPC call may take.
pub(crate) const RPC_TIMEOUT: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_are_the_published_ones() {
        // The selectors the SDK's ethers contract sends (keccak of the signatures above).
        assert_eq!(hex::encode(call_data(Generation::Datil, None)), "c51d020e");
        let naga = call_data(Generation::Naga, Some(1));
        assert_eq!(hex::encode(&naga[..4]), "d09cd5a8");
        assert_eq!(naga.len(), 36);
        assert_eq!(naga[35], 1);
    }

    #[test]
    fn garbage_is_a_typed_error() {
        for g in [Generation::Datil, Generation::Naga] {
            assert!(matches!(decode_nodes(g, &[]), Err(NetError::Chain(_))));
            assert!(matches!(
                decode_nodes(g, &[0u8; 31]),
                Err(NetError::Chain(_))
            ));
        }
    }
}
