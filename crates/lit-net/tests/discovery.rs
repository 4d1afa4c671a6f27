//! Node sets read from the chain, against a JSON-RPC server whose `eth_call` answers are
//! ABI-encoded by ethers from the Staking ABI in `@lit-protocol/contracts`
//! (`tests/sdk/staking-rpc.mjs`; `npm ci` in `tests/sdk` first, as `scripts/test` does).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    time::Duration,
};

use lit_companion_net::{
    presets, ChainError, LitNetClient, NetError, NetworkSpec, Networks, NodeSource, NODE_SET_TTL,
};
use lit_companion_session::Generation;
use serde_json::{json, Value};

/// The fake chain, stopped when dropped.
struct Chain {
    child: Child,
    _stdin: ChildStdin,
    url: String,
    staking: String,
    chain_id: u64,
    state: PathBuf,
}

impl Drop for Chain {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.state);
    }
}

/// The checkout the test runs in: `cargo test` names it at run time, which stays right when a
/// shared target directory holds a binary built from another checkout.
fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("../..")
}

impl Chain {
    fn start(generation: &str, state: Value) -> Chain {
        let file = std::env::temp_dir().join(format!(
            "lit-staking-{generation}-{}-{:x}.json",
            std::process::id(),
            nanos()
        ));
        write_state(&file, &state);
        let mut child = Command::new("node")
            .arg(root().join("tests/sdk/staking-rpc.mjs"))
            .args(["--generation", generation, "--state"])
            .arg(&file)
            .args(["--port", "0", "--exit-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node tests/sdk/staking-rpc.mjs (npm ci in tests/sdk first)");
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("staking-rpc did not start ({e}): {line:?}"));
        Chain {
            child,
            _stdin: stdin,
            url: ready["url"].as_str().unwrap().to_owned(),
            staking: ready["staking"].as_str().unwrap().to_owned(),
            chain_id: ready["chainId"].as_u64().unwrap(),
            state: file,
        }
    }

    fn set(&self, state: Value) {
        write_state(&self.state, &state);
    }

    /// A custom network read from this chain, which (a test network) accepts validators on
    /// private addresses.
    fn spec(&self, generation: Generation, realm: Option<u64>) -> NetworkSpec {
        self.public_spec(generation, realm)
            .allowing_private_nodes()
            .unwrap()
    }

    /// The same network as a public one: validators on private addresses are refused.
    fn public_spec(&self, generation: Generation, realm: Option<u64>) -> NetworkSpec {
        NetworkSpec::custom(
            "chain",
            generation,
            &[],
            Some((&self.url, &self.staking, realm, Some(self.chain_id))),
        )
        .unwrap()
    }

    async fn calls(&self) -> u64 {
        let v: Value = reqwest::get(format!("{}/calls", self.url))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["eth_call"].as_u64().unwrap()
    }
}

fn nanos() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

fn write_state(file: &Path, state: &Value) {
    let tmp = file.with_extension("tmp");
    std::fs::write(&tmp, state.to_string()).unwrap();
    std::fs::rename(&tmp, file).unwrap();
}

fn registry() -> Networks {
    Networks::new(
        LitNetClient::new(Duration::from_secs(2), 1).unwrap(),
        NODE_SET_TTL,
    )
    .unwrap()
}

fn validators(list: &[(&str, u16)]) -> Value {
    json!(list
        .iter()
        .map(|(ip, port)| json!({"ip": ip, "port": port}))
        .collect::<Vec<_>>())
}

const BOTH: [(Generation, &str, Option<u64>); 2] = [
    (Generation::Datil, "datil", None),
    (Generation::Naga, "naga", Some(1)),
];

#[tokio::test]
async fn datil_and_naga_node_sets_are_read_as_the_sdk_reads_them() {
    for (generation, name, realm) in BOTH {
        let chain = Chain::start(
            name,
            json!({"epoch": 7, "minNodeCount": 2, "realm": 1, "validators": validators(&[
                ("203.0.113.250", 7470), ("127.0.0.1", 7471), ("10.1.2.3", 443)])}),
        );
        let networks = registry();
        let spec = chain.spec(generation, realm);
        let set = networks.node_set(&spec).await.unwrap();
        assert_eq!(
            set.nodes,
            [
                "https://203.0.113.250:7470",
                "https://127.0.0.1:7471",
                "https://10.1.2.3:443"
            ],
            "{name}"
        );
        assert_eq!((set.epoch, set.min_node_count), (Some(7), 2), "{name}");
        // Cached: a second look does not call the chain again.
        let calls = chain.calls().await;
        assert_eq!(networks.node_set(&spec).await.unwrap(), set);
        assert_eq!(chain.calls().await, calls, "{name}: served from the cache");

        // A new epoch with other validators is picked up on refresh.
        chain.set(json!({"epoch": 8, "minNodeCount": 1, "realm": 1,
            "validators": validators(&[("198.51.100.7", 8443)])}));
        let set = networks.refresh(&spec).await.unwrap();
        assert_eq!(set.nodes, ["https://198.51.100.7:8443"], "{name}");
        assert_eq!(set.epoch, Some(8));
        // A failed node marks the set stale: the next request reads the chain again.
        networks.node_failed(&spec.name, "https://198.51.100.7:8443");
        let calls = chain.calls().await;
        networks.node_set(&spec).await.unwrap();
        assert_eq!(
            chain.calls().await,
            calls + 1,
            "{name}: read again after a failure"
        );
    }
}

#[tokio::test]
async fn a_broken_chain_is_a_typed_error_never_a_node_list() {
    for (generation, name, realm) in BOTH {
        let good =
            json!({"epoch": 3, "realm": 1, "validators": validators(&[("127.0.0.1", 7470)])});
        let chain = Chain::start(name, good.clone());
        let spec = chain.spec(generation, realm);
        for mode in ["empty", "malformed", "revert", "http500"] {
            let mut state = good.clone();
            state["mode"] = json!(mode);
            chain.set(state);
            let e = registry().node_set(&spec).await.unwrap_err();
            assert!(matches!(e, NetError::Chain(_)), "{name} {mode}: {e:?}");
        }
        chain.set(good.clone());
        // The wrong chain, or (on Naga) the wrong realm: refused.
        let wrong_chain = NetworkSpec::custom(
            "chain",
            generation,
            &[],
            Some((&chain.url, &chain.staking, realm, Some(chain.chain_id + 1))),
        )
        .unwrap()
        .allowing_private_nodes()
        .unwrap();
        let e = registry().node_set(&wrong_chain).await.unwrap_err();
        assert!(e.to_string().contains("not chain"), "{e}");
        if generation == Generation::Naga {
            let e = registry()
                .node_set(&chain.spec(generation, Some(2)))
                .await
                .unwrap_err();
            assert!(matches!(e, NetError::Chain(_)), "{e:?}");
        }
        assert_eq!(
            registry().node_set(&spec).await.unwrap().nodes,
            ["https://127.0.0.1:7470"]
        );
    }
    // Nothing listening.
    let spec = NetworkSpec::custom(
        "down",
        Generation::Datil,
        &[],
        Some((
            "http://127.0.0.1:9/",
            "0x21d636d95eE71150c0c3Ffa79268c989a329d1CE",
            None,
            None,
        )),
    )
    .unwrap();
    assert!(matches!(
        registry().node_set(&spec).await,
        Err(NetError::Chain(_))
    ));
}

#[tokio::test]
async fn a_public_network_refuses_loopback_private_and_link_local_nodes_from_the_chain() {
    for (generation, name, realm) in BOTH {
        let chain = Chain::start(
            name,
            json!({"epoch": 4, "realm": 1, "validators": validators(&[("203.0.113.250", 7470)])}),
        );
        // A preset (Lit's own network) pointed at this chain keeps its rule, and so does a
        // custom network that did not opt in.
        let mut preset = presets()
            .into_iter()
            .find(|p| p.generation == generation)
            .unwrap();
        let NodeSource::Chain(source) = &mut preset.source else {
            panic!("presets read the chain")
        };
        source.rpc = chain.url.parse().unwrap();
        source.staking = hex::decode(chain.staking.trim_start_matches("0x"))
            .unwrap()
            .try_into()
            .unwrap();
        source.chain_id = Some(chain.chain_id);
        let public = chain.public_spec(generation, realm);
        for spec in [&preset, &public] {
            assert_eq!(
                registry().node_set(spec).await.unwrap().nodes,
                ["https://203.0.113.250:7470"],
                "{name}: a public validator is accepted"
            );
        }
        for local in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.9",
            "192.168.1.20",
            "169.254.169.254",
            "100.64.0.1",
        ] {
            chain.set(json!({"epoch": 5, "realm": 1,
                "validators": validators(&[("203.0.113.250", 7470), (local, 7471)])}));
            for spec in [&preset, &public] {
                let e = registry().node_set(spec).await.unwrap_err();
                assert!(
                    matches!(
                        e,
                        NetError::Chain(ChainError::PrivateNode { port: 7471, .. })
                    ),
                    "{name} {local}: {e:?}"
                );
            }
            // A custom network that opted in takes them.
            let set = registry()
                .node_set(&chain.spec(generation, realm))
                .await
                .unwrap();
            assert_eq!(set.nodes[1], format!("https://{local}:7471"));
        }
    }
}
