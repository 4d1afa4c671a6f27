//! What a network is: its name, generation and where its nodes come from — the presets and
//! the user's own, each checked when defined. Which nodes a network has right now is the
//! registry's ([`crate::networks`]).
//!
//! A preset's facts (generation, chain, RPC, Staking contract, realm) come from the networks'
//! published configuration in `@lit-protocol/contracts` 0.9.1 (`dist/prod/<network>.json`:
//! `config.chainId`, `config.rpcUrl`, and the `Staking` contract's `address_hash`).

use std::{collections::HashSet, fmt, net::IpAddr, str::FromStr, time::Duration};

use lit_companion_session::{Generation, Network, Wei};
use time::{macros::date, Date};
use url::Url;

use crate::{
    client::NetError,
    staking::{ChainError, StakingSource},
};

/// The day of Lit's announcement that retires its public Datil and Naga networks: its new
/// network reached general availability on 31 March 2026, and the public Datil and Naga
/// networks sunset after it. Their presets stay (a user may still switch one on) but are off
/// unless switched on, and are labelled as retired wherever they are listed.
pub const PRESETS_RETIRED_AFTER: Date = date!(2026 - 03 - 31);

/// The SDK's default session lifetime for a generation: v7 (Datil) 24 hours, v8 (Naga) 15
/// minutes.
pub fn default_lifetime(generation: Generation) -> Duration {
    match generation {
        Generation::Datil => Duration::from_secs(24 * 3600),
        Generation::Naga => Duration::from_secs(15 * 60),
    }
}

/// Why a network definition is refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetworkError {
    /// The name is not usable.
    #[error(
        "network name {0:?}: use 1–32 lowercase letters, digits and '-', starting with a letter"
    )]
    BadName(String),
    /// The name is a preset's.
    #[error("{0:?} is a built-in network; choose another name")]
    PresetName(String),
    /// No such network.
    #[error("unknown network {0:?}")]
    Unknown(String),
    /// A node URL is not usable.
    #[error("node URL {url:?}: {reason}")]
    BadNode {
        /// The URL as given.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// An RPC URL is not usable.
    #[error("RPC URL {url:?}: {reason}")]
    BadRpc {
        /// The URL as given.
        url: String,
        /// Why.
        reason: &'static str,
    },
    /// The Staking address is not 20 bytes of hex.
    #[error("staking contract {0:?} is not a 0x-prefixed 20-byte address")]
    BadStaking(String),
    /// Neither or both of a node list and an RPC were given.
    #[error("a network takes either a list of nodes or an RPC URL with a Staking contract")]
    Source,
    /// Private node addresses were allowed for a network that does not read its nodes from
    /// the chain (a fixed list is taken as given).
    #[error("allowing private node addresses applies only to a network read from the chain")]
    PrivateNodesNeedChain,
}

/// A network's name: a preset's (`datil`, `naga-dev`, …) or one the user chose.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NetworkName(String);

impl NetworkName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for NetworkName {
    type Err = NetworkError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=32).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(NetworkError::BadName(s.to_owned()))
        }
    }
}

impl fmt::Display for NetworkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a network's nodes come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NodeSource {
    /// A list the user gave (a network they run, or a local test network).
    Fixed(Vec<String>),
    /// The chain's Staking contract.
    Chain(StakingSource),
}

/// One network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkSpec {
    /// Its name.
    pub name: NetworkName,
    /// "Datil (main network)", or the name of a custom one.
    pub label: String,
    /// The wire format its nodes speak.
    pub generation: Generation,
    /// Where its nodes come from.
    pub source: NodeSource,
    /// Built in (not removable).
    pub preset: bool,
    /// Naga: the most a request may pay (wei).
    pub price_cap_wei: u128,
    /// The day after which Lit retired this network (Lit's public networks), if it did.
    pub retired_after: Option<Date>,
}

impl NetworkSpec {
    /// A network the user defines: a name that is not a preset's, and either `nodes` or an
    /// `rpc` with a `staking` contract (and on Naga a `realm`, 1 when absent).
    pub fn custom(
        name: &str,
        generation: Generation,
        nodes: &[String],
        chain: Option<(&str, &str, Option<u64>, Option<u64>)>,
    ) -> Result<Self, NetworkError> {
        let name: NetworkName = name.parse()?;
        if presets().iter().any(|p| p.name == name) {
            return Err(NetworkError::PresetName(name.0));
        }
        let source = match (nodes.is_empty(), chain) {
            (false, None) => NodeSource::Fixed(
                nodes
                    .iter()
                    .map(|n| node_url(n))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            (true, Some((rpc, staking, realm, chain_id))) => NodeSource::Chain(StakingSource {
                rpc: rpc_url(rpc)?,
                staking: address(staking)?,
                chain_id,
                realm: match generation {
                    Generation::Datil => None,
                    Generation::Naga => Some(realm.unwrap_or(1)),
                },
                allow_private_nodes: false,
            }),
            _ => return Err(NetworkError::Source),
        };
        if let NodeSource::Fixed(list) = &source {
            let unique: HashSet<&String> = list.iter().collect();
            if unique.len() != list.len() || list.len() > MAX_NODES {
                return Err(NetworkError::BadNode {
                    url: list.join(" "),
                    reason: "nodes must be distinct, at most 100",
                });
            }
        }
        Ok(Self {
            label: format!("{name} (your {generation} network)"),
            name,
            generation,
            source,
            preset: false,
            price_cap_wei: Wei::DEFAULT_CAP.0,
            retired_after: None,
        })
    }

    /// "retired by Lit after 31 Mar 2026" for a network Lit retired.
    pub fn retirement(&self) -> Option<String> {
        let day = self.retired_after?;
        Some(format!(
            "retired by Lit after {} {} {}",
            day.day(),
            &day.month().to_string()[..3],
            day.year()
        ))
    }

    /// Its label as a list shows it: "Datil (main network) — retired by Lit after 31 Mar 2026",
    /// or just the label.
    pub fn title(&self) -> String {
        match self.retirement() {
            Some(retired) => format!("{} — {retired}", self.label),
            None => self.label.clone(),
        }
    }

    /// What a person reads when the network did not answer as `e` says: which part was
    /// silent, in plain words, and that Lit has retired the network when it has. Names no
    /// node (the count at most).
    pub fn unanswered(&self, e: &NetError) -> String {
        let label = &self.label;
        let what = match e {
            NetError::NoNodes | NetError::Unreachable { .. } => {
                format!("No node of {label} answered")
            }
            NetError::TooFewNodes { answered: 0, .. } => format!("No node of {label} answered"),
            NetError::TooFewNodes {
                asked,
                answered,
                needed,
            } => format!(
                "Only {answered} of the {asked} nodes of {label} answered; it needs {needed}"
            ),
            NetError::Chain(ChainError::Rpc { url, .. }) => {
                format!("The chain that lists the nodes of {label} did not answer at {url}")
            }
            NetError::Chain(ChainError::NoValidators) => {
                format!("The chain of {label} lists no node that runs")
            }
            NetError::Chain(other) => {
                format!("The nodes of {label} could not be read from its chain: {other}")
            }
            other => format!("{label} did not answer as a Lit network does: {other}"),
        };
        if self.retired_after.is_some() {
            format!("{what} (Lit has retired this network)")
        } else {
            what
        }
    }
}

impl NetworkSpec {
    /// The same network, accepting validators on loopback, private and link-local addresses
    /// from its chain (a test network on this machine or the user's LAN). Only a custom
    /// network read from the chain can; a fixed list is the user's own word already.
    pub fn allowing_private_nodes(mut self) -> Result<Self, NetworkError> {
        match &mut self.source {
            NodeSource::Chain(source) if !self.preset => {
                source.allow_private_nodes = true;
                Ok(self)
            }
            _ => Err(NetworkError::PrivateNodesNeedChain),
        }
    }
}

const MAX_NODES: usize = 100;

/// A node URL as nodes are named in sessionSigs: `scheme://host:port`, `https`, or plain
/// `http` to this machine only (a local test network). No user, path, query or fragment.
pub fn node_url(s: &str) -> Result<String, NetworkError> {
    let bad = |reason| NetworkError::BadNode {
        url: s.to_owned(),
        reason,
    };
    let url = web_url(s, "plain http is allowed only for nodes on this machine").map_err(bad)?;
    if url.path() != "/" || url.query().is_some() {
        return Err(bad("must be just scheme://host:port"));
    }
    let host = url.host_str().ok_or_else(|| bad("no host"))?;
    let port = url.port_or_known_default().ok_or_else(|| bad("no port"))?;
    Ok(format!("{}://{host}:{port}", url.scheme()))
}

fn rpc_url(s: &str) -> Result<Url, NetworkError> {
    web_url(s, "plain http is allowed only for an RPC on this machine").map_err(|reason| {
        NetworkError::BadRpc {
            url: s.to_owned(),
            reason,
        }
    })
}

/// An https URL, or plain http to this machine (`remote_http` says why not otherwise); never
/// with a user name, password or fragment.
fn web_url(s: &str, remote_http: &'static str) -> Result<Url, &'static str> {
    let url = Url::parse(s).map_err(|_| "not a URL")?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(remote_http),
        _ => return Err("must be an https URL"),
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err("must not carry a user name, password or fragment");
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn address(s: &str) -> Result<[u8; 20], NetworkError> {
    s.strip_prefix("0x")
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| <[u8; 20]>::try_from(b).ok())
        .ok_or_else(|| NetworkError::BadStaking(s.to_owned()))
}

/// The built-in networks.
pub fn presets() -> Vec<NetworkSpec> {
    // Chain 175188 ("yellowstone") serves Datil and the Naga test networks; Naga main runs on
    // chain 175200. Addresses: `Staking.address_hash` in each network's JSON.
    const YELLOWSTONE: &str = "https://yellowstone-rpc.litprotocol.com/";
    const LIT_CHAIN: &str = "https://lit-chain-rpc.litprotocol.com/";
    // The SDK names, labels and generations are `Network`'s; the chain facts are these.
    let table: [(Network, &str, &str, u64); 6] = [
        (
            Network::DatilDev,
            YELLOWSTONE,
            "0xD4507CD392Af2c80919219d7896508728f6A623F",
            175_188,
        ),
        (
            Network::DatilTest,
            YELLOWSTONE,
            "0xdec37933239846834b3BfD408913Ed3dbEf6588F",
            175_188,
        ),
        (
            Network::Datil,
            YELLOWSTONE,
            "0x21d636d95eE71150c0c3Ffa79268c989a329d1CE",
            175_188,
        ),
        (
            Network::NagaDev,
            YELLOWSTONE,
            "0x544ac098670a266d3598B543aefBEbAb0A2C86C6",
            175_188,
        ),
        (
            Network::NagaTest,
            YELLOWSTONE,
            "0x149a054CE79A379Ae5E97f5B984B993233b28061",
            175_188,
        ),
        (
            Network::Naga,
            LIT_CHAIN,
            "0x8a861B3640c1ff058CCB109ba11CA3224d228159",
            175_200,
        ),
    ];
    table
        .into_iter()
        .filter_map(|(network, rpc, staking, chain_id)| {
            Some(NetworkSpec {
                name: network.as_str().parse().ok()?,
                label: network.label().to_owned(),
                generation: network.generation(),
                source: NodeSource::Chain(StakingSource {
                    rpc: Url::parse(rpc).ok()?,
                    staking: address(staking).ok()?,
                    chain_id: Some(chain_id),
                    realm: (network.generation() == Generation::Naga).then_some(1),
                    // Lit's networks run on the internet: a validator the chain places on
                    // loopback, a private or a link-local address is refused.
                    allow_private_nodes: false,
                }),
                preset: true,
                price_cap_wei: Wei::DEFAULT_CAP.0,
                retired_after: Some(PRESETS_RETIRED_AFTER),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["sim", "my-net-2", "a"] {
            assert!(ok.parse::<NetworkName>().is_ok(), "{ok}");
        }
        for bad in ["", "Sim", "2net", "-x", "a b", "x/y", &"a".repeat(33)] {
            assert!(bad.parse::<NetworkName>().is_err(), "{bad}");
        }
    }

    #[test]
    fn node_urls() {
        assert_eq!(
            node_url("https://1.2.3.4:7470").unwrap(),
            "https://1.2.3.4:7470"
        );
        assert_eq!(
            node_url("https://node.example").unwrap(),
            "https://node.example:443"
        );
        assert_eq!(
            node_url("http://127.0.0.1:9/").unwrap(),
            "http://127.0.0.1:9"
        );
        assert_eq!(node_url("http://[::1]:9").unwrap(), "http://[::1]:9");
        for bad in [
            "http://10.0.0.1:7470",
            "http://127.evil.example:80",
            "https://user@node.example:1",
            "https://node.example:1/path",
            "https://node.example:1?q",
            "ftp://node.example:1",
            "node.example:1",
        ] {
            assert!(node_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn custom_networks() {
        let nodes = vec![
            "http://127.0.0.1:1".to_owned(),
            "http://127.0.0.1:2".to_owned(),
        ];
        let n = NetworkSpec::custom("mine", Generation::Datil, &nodes, None).unwrap();
        assert_eq!(n.source, NodeSource::Fixed(nodes.clone()));
        assert_eq!(
            NetworkSpec::custom("datil", Generation::Datil, &nodes, None),
            Err(NetworkError::PresetName("datil".into()))
        );
        let chain = Some((
            "https://rpc.example/",
            "0x21d636d95eE71150c0c3Ffa79268c989a329d1CE",
            None,
            None,
        ));
        let n = NetworkSpec::custom("mine", Generation::Naga, &[], chain).unwrap();
        assert!(matches!(
            n.source,
            NodeSource::Chain(StakingSource { realm: Some(1), .. })
        ));
        assert_eq!(
            NetworkSpec::custom("mine", Generation::Naga, &nodes, chain),
            Err(NetworkError::Source)
        );
        assert_eq!(
            NetworkSpec::custom("mine", Generation::Naga, &[], None),
            Err(NetworkError::Source)
        );
        let twice = vec![nodes[0].clone(), nodes[0].clone()];
        assert!(NetworkSpec::custom("mine", Generation::Datil, &twice, None).is_err());
    }

    #[test]
    fn presets_are_complete() {
        let p = presets();
        assert_eq!(p.len(), 6);
        assert!(p
            .iter()
            .all(|s| matches!(&s.source, NodeSource::Chain(c) if c.chain_id.is_some())));
    }

    #[test]
    fn lit_s_public_networks_are_labelled_retired_and_the_user_s_are_not() {
        for p in presets() {
            assert_eq!(
                p.retirement().as_deref(),
                Some("retired by Lit after 31 Mar 2026"),
                "{}",
                p.name
            );
        }
        let datil = presets().into_iter().find(|p| p.name.as_str() == "datil");
        assert_eq!(
            datil.unwrap().title(),
            "Datil (main network) — retired by Lit after 31 Mar 2026"
        );
        let nodes = vec!["http://127.0.0.1:1".to_owned()];
        let mine = NetworkSpec::custom("mine", Generation::Datil, &nodes, None).unwrap();
        assert_eq!(mine.retirement(), None);
        assert_eq!(mine.title(), "mine (your Datil network)");
    }

    #[test]
    fn a_network_that_does_not_answer_says_so_in_plain_words() {
        let naga = presets()
            .into_iter()
            .find(|p| p.name.as_str() == "naga")
            .unwrap();
        let silent = NetError::TooFewNodes {
            asked: 3,
            answered: 0,
            needed: 2,
        };
        assert_eq!(
            naga.unanswered(&silent),
            "No node of Naga (main network) answered (Lit has retired this network)"
        );
        let rpc = NetError::Chain(ChainError::Rpc {
            method: "eth_chainId".into(),
            url: "https://lit-chain-rpc.litprotocol.com/".into(),
            reason: "connection refused".into(),
        });
        assert_eq!(
            naga.unanswered(&rpc),
            "The chain that lists the nodes of Naga (main network) did not answer at \
             https://lit-chain-rpc.litprotocol.com/ (Lit has retired this network)"
        );
        let nodes = vec!["http://127.0.0.1:1".to_owned()];
        let mine = NetworkSpec::custom("mine", Generation::Datil, &nodes, None).unwrap();
        let some = NetError::TooFewNodes {
            asked: 3,
            answered: 1,
            needed: 2,
        };
        assert_eq!(
            mine.unanswered(&some),
            "Only 1 of the 3 nodes of mine (your Datil network) answered; it needs 2"
        );
    }

    #[test]
    fn only_custom_chain_networks_may_allow_private_nodes() {
        for preset in presets() {
            assert!(
                matches!(&preset.source, NodeSource::Chain(c) if !c.allow_private_nodes),
                "{}",
                preset.name
            );
            assert_eq!(
                preset.allowing_private_nodes(),
                Err(NetworkError::PrivateNodesNeedChain)
            );
        }
        let chain = Some((
            "http://127.0.0.1:8545/",
            "0x21d636d95eE71150c0c3Ffa79268c989a329d1CE",
            None,
            None,
        ));
        let n = NetworkSpec::custom("lan", Generation::Datil, &[], chain).unwrap();
        assert!(matches!(&n.source, NodeSource::Chain(c) if !c.allow_private_nodes));
        let n = n.allowing_private_nodes().unwrap();
        assert!(matches!(&n.source, NodeSource::Chain(c) if c.allow_private_nodes));
        let fixed = vec!["http://127.0.0.1:1".to_owned()];
        let n = NetworkSpec::custom("mine", Generation::Datil, &fixed, None).unwrap();
        assert_eq!(
            n.allowing_private_nodes(),
            Err(NetworkError::PrivateNodesNeedChain)
        );
    }
}
