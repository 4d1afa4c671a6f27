//! A network as the CLI's `network list --json` and the app's Settings show it: its name and
//! label, whether Lit retired it, generation, where its nodes come from, whether it is served,
//! its price cap, and the nodes last read (with when and which epoch).

use lit_companion_net::{NetworkSpec, NodeSet, NodeSource};
use lit_companion_session::{timefmt::iso_millis, Generation};
use serde_json::{json, Value};

use crate::AppSettings;

/// The JSON view of `spec` under `settings`, with `set` when its nodes have been read.
pub fn network_view(spec: &NetworkSpec, settings: &AppSettings, set: Option<&NodeSet>) -> Value {
    let name = spec.name.as_str();
    let mut v = json!({
        "name": name,
        "label": spec.label,
        "generation": match spec.generation {
            Generation::Datil => "datil",
            Generation::Naga => "naga",
        },
        "builtIn": spec.preset,
        "served": settings.serves(name),
    });
    if let Some(retired) = spec.retirement() {
        v["retired"] = json!(retired);
    }
    if spec.generation == Generation::Naga {
        v["maxPriceWei"] = json!(settings.cap(name).to_string());
    }
    match &spec.source {
        NodeSource::Fixed(nodes) => v["nodes"] = json!(nodes),
        NodeSource::Chain(c) => {
            v["rpc"] = json!(c.rpc.as_str());
            v["staking"] = json!(format!("0x{}", hex::encode(c.staking)));
            if let Some(realm) = c.realm {
                v["realm"] = json!(realm);
            }
            if let Some(chain) = c.chain_id {
                v["chainId"] = json!(chain);
            }
            if c.allow_private_nodes {
                v["allowPrivateNodes"] = json!(true);
            }
        }
    }
    if let Some(set) = set {
        v["nodes"] = json!(set.nodes);
        v["readAt"] = json!(iso_millis(set.read_at).ok());
        if let Some(epoch) = set.epoch {
            v["epoch"] = json!(epoch);
        }
    }
    v
}
