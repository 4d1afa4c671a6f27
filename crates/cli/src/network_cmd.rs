//! `lit-companion network …`: the networks the companion serves. Presets are built in; the
//! user's own networks and the price caps live in the settings file (atomic, 0600), which a
//! running `serve` or app picks up within a second.

use std::{sync::Arc, time::Duration};

use clap::{Args, Subcommand};
use lit_companion_net::{LitNetClient, NetworkSpec, Networks, NodeSource, NODE_SET_TTL};
use lit_companion_runtime::{
    network_view, AppSettings, CustomNetwork, SettingsError, SettingsFile,
};
use serde_json::{json, Value};

use crate::{
    cmd::Failure,
    vault_cmd::{self, VaultArgs},
};

#[derive(Debug, Subcommand)]
pub(crate) enum NetworkCommand {
    /// Add a network: a fixed list of nodes, or the chain to read them from.
    Add(AddArgs),
    /// List the networks: built in, and added.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a network you added (its sessions stay until they expire or are revoked).
    Remove {
        /// The network's name.
        name: String,
    },
    /// Read a network's nodes now (from the chain, or the fixed list), ask each for a
    /// handshake, and print them with how many answered; a network that does not answer is
    /// an error saying so.
    Refresh {
        /// The network's name.
        name: String,
    },
    /// Set the most one request may pay on a Naga network, in wei.
    Cap {
        /// The network's name.
        name: String,
        /// Wei per request (a decimal number; 10^18 is 1.0 of the network's token).
        wei: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// The name requests and policy rules use (lowercase letters, digits, '-').
    name: String,
    /// The wire format its nodes speak: datil (SDK v7) or naga (SDK v8).
    #[arg(long, value_parser = ["datil", "naga"])]
    generation: String,
    /// A node (`https://host:port`; plain http only on this machine). Repeat for each node.
    #[arg(long = "node", value_name = "URL", conflicts_with_all = ["rpc", "staking"])]
    nodes: Vec<String>,
    /// The chain's JSON-RPC URL, to read the node set from its Staking contract.
    #[arg(long, value_name = "URL", requires = "staking")]
    rpc: Option<String>,
    /// The Staking contract's address.
    #[arg(long, value_name = "0xADDR", requires = "rpc")]
    staking: Option<String>,
    /// Naga: the realm (1 when absent).
    #[arg(long, requires = "rpc")]
    realm: Option<u64>,
    /// The chain id the RPC must report.
    #[arg(long, requires = "rpc")]
    chain_id: Option<u64>,
    /// Accept nodes the chain places on loopback, private or link-local addresses (a test
    /// network on this machine or your LAN). Without it such nodes are refused.
    #[arg(long, requires = "rpc")]
    allow_private_nodes: bool,
}

pub(crate) fn network(cmd: NetworkCommand, vault: &VaultArgs) -> Result<String, Failure> {
    let file = SettingsFile::new(&vault_cmd::data_dir(vault)?);
    let load = || file.load().map_err(settings_failure);
    match cmd {
        NetworkCommand::Add(a) => {
            let custom = CustomNetwork {
                name: a.name.clone(),
                generation: a.generation,
                nodes: a.nodes,
                rpc: a.rpc,
                staking: a.staking,
                realm: a.realm,
                chain_id: a.chain_id,
                allow_private_nodes: a.allow_private_nodes,
            };
            let (s, spec) = file
                .update(|s| s.add_network(custom))
                .map_err(settings_failure)?;
            Ok(network_view(&spec, &s, None).to_string())
        }
        NetworkCommand::List { json } => {
            let s = load()?;
            let specs = specs(&s)?;
            if json {
                let all: Vec<Value> = specs.iter().map(|n| network_view(n, &s, None)).collect();
                return Ok(serde_json::to_string_pretty(&all).unwrap_or_default());
            }
            Ok(specs
                .iter()
                .map(|n| line(n, &s))
                .collect::<Vec<_>>()
                .join("\n"))
        }
        NetworkCommand::Remove { name } => {
            file.update(|s| s.remove_network(&name))
                .map_err(settings_failure)?;
            Ok(json!({ "removed": name }).to_string())
        }
        NetworkCommand::Refresh { name } => refresh(&load()?, &name),
        NetworkCommand::Cap { name, wei } => {
            let (s, spec) = file
                .update(|s| s.set_cap(&name, &wei))
                .map_err(settings_failure)?;
            Ok(network_view(&spec, &s, None).to_string())
        }
    }
}

fn settings_failure(e: SettingsError) -> Failure {
    Failure::of(e.kind(), e.to_string())
}

/// Every network the settings make: presets, then the user's.
fn specs(s: &AppSettings) -> Result<Vec<NetworkSpec>, Failure> {
    let custom = s
        .custom_specs()
        .map_err(|e| Failure::input(e.to_string()))?;
    Ok(lit_companion_net::presets()
        .into_iter()
        .chain(custom)
        .collect())
}

fn line(n: &NetworkSpec, s: &AppSettings) -> String {
    let source = match &n.source {
        NodeSource::Fixed(nodes) => format!("{} fixed node(s)", nodes.len()),
        NodeSource::Chain(c) => format!(
            "nodes from {} (Staking 0x{}{})",
            c.rpc,
            hex::encode(c.staking),
            if c.allow_private_nodes {
                "; private addresses allowed"
            } else {
                ""
            }
        ),
    };
    let served = if s.serves(n.name.as_str()) {
        ""
    } else {
        ", not served"
    };
    format!("{}\t{}\t{}{served}", n.name, n.title(), source)
}

fn refresh(s: &AppSettings, name: &str) -> Result<String, Failure> {
    let spec = specs(s)?
        .into_iter()
        .find(|n| n.name.as_str() == name)
        .ok_or_else(|| Failure::input(format!("unknown network {name}")))?;
    let client =
        LitNetClient::new(Duration::from_secs(10), 1).map_err(|e| Failure::input(e.to_string()))?;
    let networks =
        Arc::new(Networks::new(client, NODE_SET_TTL).map_err(|e| Failure::input(e.to_string()))?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::input(format!("cannot start: {e}")))?;
    let reach = runtime
        .block_on(networks.check(&spec))
        .map_err(|e| Failure::of(e.kind(), spec.unanswered(&e)))?;
    let mut view = network_view(&spec, s, Some(&reach.set));
    view["minNodeCount"] = json!(reach.set.min_node_count);
    view["answered"] = json!(reach.answered.len());
    Ok(view.to_string())
}

/// The most one request on the network `name` may pay, as the user set it in the settings of
/// the data directory (the default cap when they did not).
pub(crate) fn cap_of(name: &str, vault: &VaultArgs) -> Result<lit_companion_session::Wei, Failure> {
    let s = SettingsFile::new(&vault_cmd::data_dir(vault)?)
        .load()
        .map_err(settings_failure)?;
    Ok(s.cap(name))
}

/// The generation of the network named `name`: a preset's, or one added in the settings of
/// the data directory.
pub(crate) fn generation_of(
    name: &str,
    vault: &VaultArgs,
) -> Result<lit_companion_session::Generation, Failure> {
    if let Some(p) = lit_companion_net::presets()
        .into_iter()
        .find(|p| p.name.as_str() == name)
    {
        return Ok(p.generation);
    }
    let s = SettingsFile::new(&vault_cmd::data_dir(vault)?)
        .load()
        .map_err(|e| Failure::input(e.to_string()))?;
    specs(&s)?
        .into_iter()
        .find(|n| n.name.as_str() == name)
        .map(|n| n.generation)
        .ok_or_else(|| {
            Failure::input(format!(
                "--network: unknown network {name:?} (see lit-companion network list)"
            ))
        })
}
