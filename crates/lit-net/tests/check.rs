//! Checking a network (`network refresh`, the app's Check): its node set read now and each node
//! asked for a handshake; a network whose nodes are gone says so in plain words. Against
//! simulated nodes on loopback and ports where nothing listens.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use std::time::Duration;

use lit_companion_net::{LitNetClient, NetError, NetworkSpec, Networks};
use lit_companion_node_sim::{spawn, NodeConfig};
use lit_companion_session::{Generation, Network};

/// A loopback URL where nothing listens (a port taken and given back).
fn silent_node() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://127.0.0.1:{}", l.local_addr().unwrap().port())
}

fn registry(spec: &NetworkSpec) -> Networks {
    Networks::with_custom(
        LitNetClient::new(Duration::from_secs(2), 1).unwrap(),
        vec![spec.clone()],
    )
    .unwrap()
}

#[tokio::test]
async fn a_network_whose_nodes_answer_is_checked_node_by_node() {
    let mut nodes = Vec::new();
    for _ in 0..2 {
        nodes.push(spawn(NodeConfig::new(Network::DatilDev)).await.unwrap());
    }
    nodes.push(silent_node());
    let spec = NetworkSpec::custom("mine", Generation::Datil, &nodes, None).unwrap();
    let reach = registry(&spec).check(&spec).await.unwrap();
    assert_eq!(reach.set.nodes, nodes);
    let mut answered = reach.answered.clone();
    answered.sort();
    let mut live = nodes[..2].to_vec();
    live.sort();
    assert_eq!(
        answered, live,
        "two of three answered: enough for the network"
    );
}

#[tokio::test]
async fn a_network_none_of_whose_nodes_answer_says_so() {
    let nodes = vec![silent_node(), silent_node()];
    let spec = NetworkSpec::custom("gone", Generation::Naga, &nodes, None).unwrap();
    let e = registry(&spec).check(&spec).await.unwrap_err();
    assert_eq!(
        e,
        NetError::TooFewNodes {
            asked: 2,
            answered: 0,
            needed: 2
        }
    );
    assert_eq!(
        spec.unanswered(&e),
        "No node of gone (your Naga network) answered"
    );
}

#[tokio::test]
async fn too_few_answering_nodes_are_not_enough() {
    let nodes = vec![
        spawn(NodeConfig::new(Network::DatilDev)).await.unwrap(),
        silent_node(),
        silent_node(),
    ];
    let spec = NetworkSpec::custom("thin", Generation::Datil, &nodes, None).unwrap();
    let e = registry(&spec).check(&spec).await.unwrap_err();
    assert_eq!(
        spec.unanswered(&e),
        "Only 1 of the 3 nodes of thin (your Datil network) answered; it needs 2"
    );
}
