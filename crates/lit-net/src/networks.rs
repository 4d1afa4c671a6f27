//! The networks the companion serves — the presets and the user's own — and each one's
//! current node set: the one place that decides which servers belong to a network.
//!
//! A preset's facts (generation, chain, RPC, Staking contract, realm) come from the networks'
//! published configuration in `@lit-protocol/contracts` 0.9.1 (`dist/prod/<network>.json`:
//! `config.chainId`, `config.rpcUrl`, and the `Staking` contract's `address_hash`). Node sets
//! are read only from the chain ([`crate::staking`]), or for a custom network from the list the
//! user gave; a caller never adds a server. Sets are cached for [`Networks::ttl`], read again
//! when stale or after a node failed, and a node gets sessionSigs only once it completed a
//! handshake in the current set.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fmt,
    net::IpAddr,
    str::FromStr,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use lit_companion_session::Generation;
use time::OffsetDateTime;
use url::Url;

use crate::{
    client::{LitNetClient, NetError},
    staking::{read_nodes, StakingSource, RPC_TIMEOUT},
};

/// The SDK's default session lifetime for a generation: v7 (Datil) 24 hours, v8 (Naga) 15
/// minutes.
pub fn default_lifetime(generation: Generation) -> Duration {
    match generation {
        Generation::Datil => Duration::from_secs(24 * 3600),
        Generation::Naga => Duration::from_secs(15 * 60),
    }
}

/// How long a node set read from the chain is kept before it is read again.
pub const NODE_SET_TTL: Duration = Duration::from_secs(600);

/// The default spending cap on Naga: 10^18 wei (1.0 of the network's token) per request.
pub const DEFAULT_PRICE_CAP_WEI: u128 = 1_000_000_000_000_000_000;

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
            price_cap_wei: DEFAULT_PRICE_CAP_WEI,
        })
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
    let table: [(&str, &str, Generation, &str, &str, u64); 6] = [
        (
            "datil-dev",
            "Datil dev (test network)",
            Generation::Datil,
            YELLOWSTONE,
            "0xD4507CD392Af2c80919219d7896508728f6A623F",
            175_188,
        ),
        (
            "datil-test",
            "Datil test (test network)",
            Generation::Datil,
            YELLOWSTONE,
            "0xdec37933239846834b3BfD408913Ed3dbEf6588F",
            175_188,
        ),
        (
            "datil",
            "Datil (main network)",
            Generation::Datil,
            YELLOWSTONE,
            "0x21d636d95eE71150c0c3Ffa79268c989a329d1CE",
            175_188,
        ),
        (
            "naga-dev",
            "Naga dev (test network)",
            Generation::Naga,
            YELLOWSTONE,
            "0x544ac098670a266d3598B543aefBEbAb0A2C86C6",
            175_188,
        ),
        (
            "naga-test",
            "Naga test (test network)",
            Generation::Naga,
            YELLOWSTONE,
            "0x149a054CE79A379Ae5E97f5B984B993233b28061",
            175_188,
        ),
        (
            "naga",
            "Naga (main network)",
            Generation::Naga,
            LIT_CHAIN,
            "0x8a861B3640c1ff058CCB109ba11CA3224d228159",
            175_200,
        ),
    ];
    table
        .into_iter()
        .filter_map(|(name, label, generation, rpc, staking, chain_id)| {
            Some(NetworkSpec {
                name: name.parse().ok()?,
                label: label.to_owned(),
                generation,
                source: NodeSource::Chain(StakingSource {
                    rpc: Url::parse(rpc).ok()?,
                    staking: address(staking).ok()?,
                    chain_id: Some(chain_id),
                    realm: (generation == Generation::Naga).then_some(1),
                }),
                preset: true,
                price_cap_wei: DEFAULT_PRICE_CAP_WEI,
            })
        })
        .collect()
}

/// A network's node set at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSet {
    /// The nodes (`https://ip:port`).
    pub nodes: Vec<String>,
    /// The chain's epoch (chain-read sets only).
    pub epoch: Option<u64>,
    /// The fewest nodes the network needs (the chain's `minNodeCount`; a majority for a
    /// fixed list).
    pub min_node_count: usize,
    /// When it was read.
    pub read_at: OffsetDateTime,
}

struct Entry {
    set: Arc<NodeSet>,
    fetched: Instant,
    stale: bool,
    /// Nodes that completed a handshake since the set was read.
    handshaken: HashSet<String>,
}

#[derive(Default)]
struct State {
    specs: BTreeMap<NetworkName, Arc<NetworkSpec>>,
    sets: HashMap<NetworkName, Entry>,
}

/// The registry: every network the companion knows, and their node sets.
pub struct Networks {
    http: reqwest::Client,
    client: LitNetClient,
    ttl: Duration,
    state: RwLock<State>,
    /// One chain read at a time: concurrent requests for a stale set wait for one answer.
    reading: tokio::sync::Mutex<()>,
}

impl fmt::Debug for Networks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Networks")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// What the nodes agreed on when a session was issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Agreement {
    /// The SIWE nonce: the latest block hash a majority of the nodes gave.
    pub nonce: String,
    /// The nodes that completed the handshake (the only ones that get sessionSigs).
    pub nodes: Vec<String>,
}

impl Networks {
    /// The presets, node sets kept for `ttl`, nodes reached through `client`.
    pub fn new(client: LitNetClient, ttl: Duration) -> Result<Self, NetError> {
        let http = reqwest::Client::builder()
            .timeout(RPC_TIMEOUT)
            .connect_timeout(RPC_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("lit-companion/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| NetError::Chain(e.to_string()))?;
        let state = State {
            specs: presets()
                .into_iter()
                .map(|p| (p.name.clone(), Arc::new(p)))
                .collect(),
            sets: HashMap::new(),
        };
        Ok(Self {
            http,
            client,
            ttl,
            state: RwLock::new(state),
            reading: tokio::sync::Mutex::new(()),
        })
    }

    /// A registry that also holds `custom` (for tools and tests; the companion takes the
    /// user's networks from its settings).
    pub fn with_custom(client: LitNetClient, custom: Vec<NetworkSpec>) -> Result<Self, NetError> {
        let networks = Self::new(client, NODE_SET_TTL)?;
        networks.configure(custom, &BTreeMap::new());
        Ok(networks)
    }

    /// How long a chain-read node set is kept.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    /// A network by name.
    pub fn get(&self, name: &str) -> Option<Arc<NetworkSpec>> {
        let name: NetworkName = name.parse().ok()?;
        self.read().specs.get(&name).cloned()
    }

    /// Every network, presets first.
    pub fn list(&self) -> Vec<Arc<NetworkSpec>> {
        let mut all: Vec<_> = self.read().specs.values().cloned().collect();
        all.sort_by_key(|s| !s.preset);
        all
    }

    /// Puts the user's networks and price caps in force: `custom` replaces every custom
    /// network (a changed one's node set is read again); `caps` sets a cap per name.
    pub fn configure(&self, custom: Vec<NetworkSpec>, caps: &BTreeMap<String, u128>) {
        let mut state = self.write();
        let mut specs: BTreeMap<NetworkName, Arc<NetworkSpec>> = BTreeMap::new();
        for mut spec in presets().into_iter().chain(custom) {
            if let Some(cap) = caps.get(spec.name.as_str()) {
                spec.price_cap_wei = *cap;
            }
            specs.insert(spec.name.clone(), Arc::new(spec));
        }
        let State { specs: old, sets } = &mut *state;
        sets.retain(|name, _| match (old.get(name), specs.get(name)) {
            (Some(a), Some(b)) => a.source == b.source,
            _ => false,
        });
        *old = specs;
    }

    /// The node set last read for `name`, if any.
    pub fn cached(&self, name: &str) -> Option<Arc<NodeSet>> {
        let name: NetworkName = name.parse().ok()?;
        self.read().sets.get(&name).map(|e| e.set.clone())
    }

    /// The current node set: the cached one while fresh, else read again.
    pub async fn node_set(&self, spec: &NetworkSpec) -> Result<Arc<NodeSet>, NetError> {
        if let Some(set) = self.fresh(&spec.name) {
            return Ok(set);
        }
        let _one = self.reading.lock().await;
        if let Some(set) = self.fresh(&spec.name) {
            return Ok(set);
        }
        self.read_set(spec).await
    }

    /// Reads the node set again now.
    pub async fn refresh(&self, spec: &NetworkSpec) -> Result<Arc<NodeSet>, NetError> {
        let _one = self.reading.lock().await;
        self.read_set(spec).await
    }

    fn fresh(&self, name: &NetworkName) -> Option<Arc<NodeSet>> {
        let state = self.read();
        let entry = state.sets.get(name)?;
        (!entry.stale && entry.fetched.elapsed() < self.ttl).then(|| entry.set.clone())
    }

    async fn read_set(&self, spec: &NetworkSpec) -> Result<Arc<NodeSet>, NetError> {
        let now = OffsetDateTime::now_utc();
        let set = match &spec.source {
            NodeSource::Fixed(nodes) => NodeSet {
                nodes: nodes.clone(),
                epoch: None,
                min_node_count: nodes.len() / 2 + 1,
                read_at: now,
            },
            NodeSource::Chain(source) => {
                let read = read_nodes(&self.http, spec.generation, source).await;
                let chain = read.inspect_err(|e| {
                    tracing::warn!(network = %spec.name, error = %e, "node set not read");
                })?;
                NodeSet {
                    nodes: chain.nodes,
                    epoch: Some(chain.epoch),
                    min_node_count: chain.min_node_count,
                    read_at: now,
                }
            }
        };
        let set = Arc::new(set);
        let mut state = self.write();
        let keep: HashSet<String> = match state.sets.get(&spec.name) {
            // Nodes that stay in an unchanged epoch keep their handshake.
            Some(old) if old.set.epoch == set.epoch => old
                .handshaken
                .iter()
                .filter(|n| set.nodes.contains(n))
                .cloned()
                .collect(),
            _ => HashSet::new(),
        };
        tracing::info!(network = %spec.name, nodes = set.nodes.len(), epoch = ?set.epoch, "node set read");
        state.sets.insert(
            spec.name.clone(),
            Entry {
                set: set.clone(),
                fetched: Instant::now(),
                stale: false,
                handshaken: keep,
            },
        );
        Ok(set)
    }

    /// A node failed: its handshake no longer counts and the set is read again next time.
    pub fn node_failed(&self, name: &NetworkName, node: &str) {
        if let Some(entry) = self.write().sets.get_mut(name) {
            entry.stale = true;
            entry.handshaken.remove(node);
        }
    }

    fn mark_handshaken(&self, name: &NetworkName, nodes: &[String]) {
        if let Some(entry) = self.write().sets.get_mut(name) {
            entry.handshaken.extend(
                nodes
                    .iter()
                    .filter(|n| entry.set.nodes.contains(n))
                    .cloned(),
            );
        }
    }

    /// Handshakes every node of `nodes` (members of the current set) and takes the block hash
    /// a majority agrees on; the nodes that answered are the ones that get sessionSigs.
    pub async fn agree(&self, spec: &NetworkSpec, nodes: &[String]) -> Result<Agreement, NetError> {
        let outcome = self.client.agree(nodes).await;
        for failed in &outcome.failed {
            self.node_failed(&spec.name, failed);
        }
        let mut agreement = outcome.into_agreement()?;
        agreement.nodes = nodes
            .iter()
            .filter(|n| agreement.nodes.contains(n))
            .cloned()
            .collect();
        self.mark_handshaken(&spec.name, &agreement.nodes);
        Ok(agreement)
    }

    /// The nodes of `nodes` that have completed a handshake, handshaking those that have not
    /// yet; refused when fewer than a majority of `nodes` can be reached.
    pub async fn reachable(
        &self,
        spec: &NetworkSpec,
        nodes: &[String],
    ) -> Result<Vec<String>, NetError> {
        let unknown: Vec<String> = {
            let state = self.read();
            let done = state.sets.get(&spec.name).map(|e| &e.handshaken);
            nodes
                .iter()
                .filter(|n| done.is_none_or(|d| !d.contains(*n)))
                .cloned()
                .collect()
        };
        if !unknown.is_empty() {
            let outcome = self.client.agree(&unknown).await;
            for failed in &outcome.failed {
                self.node_failed(&spec.name, failed);
            }
            self.mark_handshaken(&spec.name, &outcome.answered);
        }
        let state = self.read();
        let done = state.sets.get(&spec.name).map(|e| &e.handshaken);
        let ready: Vec<String> = nodes
            .iter()
            .filter(|n| done.is_some_and(|d| d.contains(*n)))
            .cloned()
            .collect();
        let needed = nodes.len() / 2 + 1;
        if ready.len() < needed {
            return Err(NetError::TooFewNodes {
                asked: nodes.len(),
                answered: ready.len(),
                needed,
            });
        }
        Ok(ready)
    }
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
}
