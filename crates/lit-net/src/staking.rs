//! A network's node set, read from its Staking contract as the Lit SDK reads it: one
//! `eth_call` of `getActiveUnkickedValidatorStructsAndCounts` — no argument on Datil, the realm
//! id on Naga — whose validators become `https://<ipv4>:<port>`.
//!
//! The call and return types below are the ones in the Staking ABI shipped by
//! `@lit-protocol/contracts` 0.9.1 (`dist/prod/datil.json` and `dist/prod/naga.json`, contract
//! `Staking`); the SDK builds node URLs the same way (`ip` is a big-endian IPv4 address).
//! Answers are decoded strictly (alloy's ABI decoder): anything that is not exactly the
//! declared shape is a typed error, never a partial node list.
//!
//! The chain is not trusted for size or place: each RPC answer is read up to its method's cap,
//! a list of more than [`MAX_VALIDATORS`] is refused, and unless the network opted in
//! ([`StakingSource::allow_private_nodes`]), so is a validator on an address that is not on the
//! public internet ([`crate::address::is_public`]).

use std::{
    net::{IpAddr, Ipv4Addr},
    time::Duration,
};

use alloy_sol_types::SolCall;
use lit_companion_session::Generation;
use serde::Deserialize;
use url::Url;

use crate::{
    body::{read_capped, BodyError},
    client::NetError,
};

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
    /// The RPC's answer is larger than the method's cap (it was cut off, not read whole).
    #[error("{method} answered more than {cap} bytes")]
    TooLarge {
        /// The JSON-RPC method.
        method: &'static str,
        /// The most that method's answer may hold.
        cap: usize,
    },
    /// The contract lists more validators than any network the companion serves.
    #[error("the Staking contract lists {count} validators; at most {max} are accepted")]
    TooManyValidators {
        /// How many it listed.
        count: usize,
        /// [`MAX_VALIDATORS`].
        max: usize,
    },
    /// A validator's address is not on the public internet (loopback, private, link-local, …)
    /// and the network did not allow that.
    #[error("a validator is at {addr}:{port}, which is not a public internet address")]
    PrivateNode {
        /// Its IPv4 address.
        addr: Ipv4Addr,
        /// Its port.
        port: u16,
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

/// The most validators a node set may hold. Lit's networks have run with a few dozen; a list
/// longer than this is a broken or hostile chain, refused whole rather than cut.
pub const MAX_VALIDATORS: usize = 1_000;

/// The most an `eth_call` answer for the node set may hold: [`MAX_VALIDATORS`] Naga validators
/// (18 ABI words each — the larger of the two layouts) after the epoch (9 words), the node
/// count, the array's offset and length, as `0x`-hex (two characters a byte), plus 1 KiB for
/// the JSON-RPC envelope. About 1.1 MiB.
pub const ETH_CALL_BODY_CAP: usize = 2 * 32 * (9 + 3 + MAX_VALIDATORS * 18) + 1024;

/// The most any other RPC answer (`eth_chainId`: a quantity, or an error object) may hold.
pub const RPC_BODY_CAP: usize = 4 * 1024;

/// How much of an unusable RPC answer an error (and so the log) keeps.
const ANSWER_EXCERPT: usize = 80;

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
    /// Accept validators on loopback, private or link-local addresses. Never for a preset;
    /// a custom network (a local or LAN test network) opts in explicitly.
    pub allow_private_nodes: bool,
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

/// Decodes the node-set query's answer: at most [`MAX_VALIDATORS`], each on a public address
/// unless `allow_private_nodes`.
pub fn decode_nodes(
    generation: Generation,
    data: &[u8],
    allow_private_nodes: bool,
) -> Result<ChainNodes, NetError> {
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
    if validators.len() > MAX_VALIDATORS {
        return Err(ChainError::TooManyValidators {
            count: validators.len(),
            max: MAX_VALIDATORS,
        }
        .into());
    }
    let mut nodes = Vec::with_capacity(validators.len());
    for (ip, port) in validators {
        let addr = Ipv4Addr::from(ip);
        let port = u16::try_from(port).ok().filter(|p| *p != 0);
        match port {
            Some(port) if !addr.is_unspecified() => {
                if !allow_private_nodes && !crate::address::is_public(IpAddr::V4(addr)) {
                    return Err(ChainError::PrivateNode { addr, port }.into());
                }
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
        let answer = rpc(
            http,
            &source.rpc,
            "eth_chainId",
            serde_json::json!([]),
            RPC_BODY_CAP,
        )
        .await?;
        let got = hex_quantity(&answer).ok_or_else(|| ChainError::BadAnswer {
            method: "eth_chainId",
            answer: excerpt(&answer),
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
    let answer = rpc(http, &source.rpc, "eth_call", call, ETH_CALL_BODY_CAP).await?;
    let not_data = || ChainError::BadAnswer {
        method: "eth_call",
        answer: excerpt(&answer),
    };
    let digits = answer.strip_prefix("0x").ok_or_else(not_data)?;
    let data = hex::decode(digits).map_err(|_| not_data())?;
    decode_nodes(generation, &data, source.allow_private_nodes)
}

/// The start of an answer, for an error message.
fn excerpt(answer: &str) -> String {
    match answer.char_indices().nth(ANSWER_EXCERPT) {
        Some((end, _)) => format!("{}…", &answer[..end]),
        None => answer.to_owned(),
    }
}

/// One JSON-RPC call whose answer may hold at most `cap` bytes.
async fn rpc(
    http: &reqwest::Client,
    url: &Url,
    method: &'static str,
    params: serde_json::Value,
    cap: usize,
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
    let bytes = read_capped(resp, cap).await.map_err(|e| match e {
        BodyError::TooLarge => ChainError::TooLarge { method, cap },
        BodyError::Transport(e) => failed(if e.is_timeout() {
            "timed out".into()
        } else {
            e.to_string()
        }),
    })?;
    let answer: RpcAnswer = serde_json::from_slice(&bytes).map_err(|e| failed(e.to_string()))?;
    match (answer.result, answer.error) {
        (Some(result), None) => Ok(result),
        (_, Some(error)) => Err(failed(format!("error {}", excerpt(&error.to_string()))).into()),
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

    /// A Datil answer listing `validators` (`(ip, port)`), encoded as the contract does.
    fn datil_answer(validators: &[(Ipv4Addr, u32)]) -> Vec<u8> {
        use alloy_sol_types::private::{Address, U256};
        let ret = datil::getActiveUnkickedValidatorStructsAndCountsReturn {
            epoch: datil::Epoch {
                epochLength: U256::from(3600),
                number: U256::from(7),
                endTime: U256::ZERO,
                retries: U256::ZERO,
                timeout: U256::ZERO,
            },
            minNodeCount: U256::from(2),
            validators: validators
                .iter()
                .map(|(ip, port)| datil::Validator {
                    ip: u32::from(*ip),
                    ipv6: 0,
                    port: *port,
                    nodeAddress: Address::ZERO,
                    reward: U256::ZERO,
                    senderPubKey: U256::ZERO,
                    receiverPubKey: U256::ZERO,
                })
                .collect(),
        };
        datil::getActiveUnkickedValidatorStructsAndCountsCall::abi_encode_returns(&ret)
    }

    /// Distinct public addresses, one per validator.
    fn public_validators(n: usize) -> Vec<(Ipv4Addr, u32)> {
        (0..n)
            .map(|i| {
                (
                    Ipv4Addr::new(8, 8, (i / 250) as u8, (i % 250) as u8 + 1),
                    443,
                )
            })
            .collect()
    }

    #[test]
    fn more_validators_than_the_cap_is_an_error_not_a_truncation() {
        let at_cap = decode_nodes(
            Generation::Datil,
            &datil_answer(&public_validators(MAX_VALIDATORS)),
            false,
        )
        .unwrap();
        assert_eq!(at_cap.nodes.len(), MAX_VALIDATORS);
        let over = datil_answer(&public_validators(MAX_VALIDATORS + 1));
        assert_eq!(
            decode_nodes(Generation::Datil, &over, false),
            Err(NetError::Chain(ChainError::TooManyValidators {
                count: MAX_VALIDATORS + 1,
                max: MAX_VALIDATORS,
            }))
        );
    }

    #[test]
    fn the_largest_accepted_answer_fits_the_eth_call_cap() {
        // Naga's validator is the larger layout: 18 words against Datil's 7.
        let words = 9 + 3 + MAX_VALIDATORS * 18;
        let json_len = r#"{"jsonrpc":"2.0","id":1,"result":"0x"}"#.len() + 2 * 32 * words;
        assert!(json_len <= ETH_CALL_BODY_CAP);
        const { assert!(ETH_CALL_BODY_CAP < 2 * 1024 * 1024) };
        let datil = datil_answer(&public_validators(MAX_VALIDATORS));
        assert!(2 * datil.len() < ETH_CALL_BODY_CAP);
    }

    #[test]
    fn private_validators_are_refused_unless_allowed() {
        for local in [
            Ipv4Addr::new(127, 0, 0, 1),
            Ipv4Addr::new(10, 1, 2, 3),
            Ipv4Addr::new(172, 20, 0, 5),
            Ipv4Addr::new(192, 168, 0, 10),
            Ipv4Addr::new(169, 254, 169, 254),
            Ipv4Addr::new(100, 64, 0, 1),
        ] {
            let answer = datil_answer(&[(Ipv4Addr::new(8, 8, 8, 8), 443), (local, 7470)]);
            assert_eq!(
                decode_nodes(Generation::Datil, &answer, false),
                Err(NetError::Chain(ChainError::PrivateNode {
                    addr: local,
                    port: 7470
                })),
                "{local}"
            );
            let allowed = decode_nodes(Generation::Datil, &answer, true).unwrap();
            assert_eq!(allowed.nodes[1], format!("https://{local}:7470"));
        }
        // The unspecified address is never a node, allowed or not.
        let answer = datil_answer(&[(Ipv4Addr::UNSPECIFIED, 443)]);
        assert!(matches!(
            decode_nodes(Generation::Datil, &answer, true),
            Err(NetError::Chain(ChainError::BadValidator { .. }))
        ));
    }

    #[test]
    fn garbage_is_a_typed_error() {
        for g in [Generation::Datil, Generation::Naga] {
            assert!(matches!(
                decode_nodes(g, &[], false),
                Err(NetError::Chain(_))
            ));
            assert!(matches!(
                decode_nodes(g, &[0u8; 31], false),
                Err(NetError::Chain(_))
            ));
        }
    }
}
