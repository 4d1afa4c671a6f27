//! Each network's current node set: the one place that decides which servers belong to a
//! network. Node sets are read only from the chain ([`crate::staking`]), or for a custom network
//! from the list the user gave; a caller never adds a server. Sets are cached for
//! [`Networks::ttl`], read again when stale or after a node failed, and a node gets sessionSigs
//! only once it completed a handshake in the current set.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    fmt,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use time::OffsetDateTime;

use crate::spec::*;
use crate::{
    client::{LitNetClient, NetError},
    staking::{read_nodes, RPC_TIMEOUT},
};

/// How long a node set read from the chain is kept before it is read again.
pub const NODE_SET_TTL: Duration = Duration::from_secs(600);

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

/// What [`Networks::check`] found: the node set read now, and which of its nodes answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach {
    /// The node set.
    pub set: Arc<NodeSet>,
    /// Its nodes that completed a handshake.
    pub answered: Vec<String>,
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
    /// The SIWE nonce: the latest block hash a majority of the network's node set gave.
    pub nonce: String,
    /// The nodes that gave it (the only ones that get sessionSigs).
    pub nodes: Vec<String>,
    /// Their handshakes (keys, epoch), for requests that need more than the nonce.
    pub handshakes: Vec<(String, crate::Handshake)>,
}

impl Agreement {
    /// The network's BLS root key that a majority of the agreeing nodes report, if they do:
    /// the key a PKP session's combined signature must verify against.
    pub fn network_key(&self) -> Option<String> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (_, h) in &self.handshakes {
            if let Some(k) = &h.network_public_key {
                *counts.entry(k).or_default() += 1;
            }
        }
        let (key, count) = counts.into_iter().max_by_key(|(_, c)| *c)?;
        (count > self.handshakes.len() / 2).then(|| key.to_owned())
    }

    /// The epoch a majority of the agreeing nodes report, if they report one.
    pub fn epoch(&self) -> Option<u64> {
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for (_, h) in &self.handshakes {
            if let Some(e) = h.epoch {
                *counts.entry(e).or_default() += 1;
            }
        }
        let (epoch, count) = counts.into_iter().max_by_key(|(_, c)| *c)?;
        (count > self.handshakes.len() / 2).then_some(epoch)
    }
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
            .map_err(|e| NetError::Chain(crate::staking::ChainError::Client(e.to_string())))?;
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

    /// Reads the node set again now and asks each of its nodes for a handshake: whether the
    /// network answers, for the user who asked (`lit-companion network refresh`, the app's
    /// Check). Fails when the set cannot be read, or with [`NetError::TooFewNodes`] when fewer
    /// nodes answer than the network needs ([`NetworkSpec::unanswered`] says it in words).
    pub async fn check(&self, spec: &NetworkSpec) -> Result<Reach, NetError> {
        let set = self.refresh(spec).await?;
        let outcome = self.client.agree(&set.nodes).await;
        for failed in &outcome.failed {
            self.node_failed(&spec.name, failed);
        }
        self.mark_handshaken(&spec.name, &outcome.answered);
        let needed = set.min_node_count.max(1);
        if outcome.answered.len() < needed {
            return Err(NetError::TooFewNodes {
                asked: set.nodes.len(),
                answered: outcome.answered.len(),
                needed,
            });
        }
        Ok(Reach {
            set,
            answered: outcome.answered,
        })
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

    /// The HTTP client for the nodes.
    pub fn client(&self) -> &LitNetClient {
        &self.client
    }

    /// Handshakes every node of the network's current set and takes the block hash a majority
    /// of the set agrees on — never a majority of the nodes a request names, which a caller
    /// could pick among the few that report another hash. Of `nodes` (members of the set),
    /// those that gave that hash get sessionSigs; they must be a majority of `nodes`.
    pub async fn agree(&self, spec: &NetworkSpec, nodes: &[String]) -> Result<Agreement, NetError> {
        if nodes.is_empty() {
            return Err(NetError::NoNodes);
        }
        let set = self.node_set(spec).await?;
        let outcome = self.client.agree(&set.nodes).await;
        for failed in &outcome.failed {
            self.node_failed(&spec.name, failed);
        }
        let agreement = outcome.into_agreement()?;
        self.mark_handshaken(&spec.name, &agreement.nodes);
        let chosen: Vec<String> = nodes
            .iter()
            .filter(|n| agreement.nodes.contains(n))
            .cloned()
            .collect();
        let needed = nodes.len() / 2 + 1;
        if chosen.len() < needed {
            return Err(NetError::TooFewNodes {
                asked: nodes.len(),
                answered: chosen.len(),
                needed,
            });
        }
        let handshakes = agreement
            .handshakes
            .into_iter()
            .filter(|(n, _)| chosen.contains(n))
            .collect();
        Ok(Agreement {
            nonce: agreement.nonce,
            nodes: chosen,
            handshakes,
        })
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
