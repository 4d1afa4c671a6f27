//! The SIWE nonce is the block hash a majority of the network's node set reports, whichever
//! nodes a request names: a dapp that names the few nodes reporting another hash does not get
//! that hash signed. Against simulated nodes on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use std::time::Duration;

use lit_companion_net::{LitNetClient, NetError, NetworkSpec, Networks};
use lit_companion_node_sim::{spawn, NodeConfig, DEFAULT_BLOCKHASH};
use lit_companion_session::{Generation, Network};

/// A network of three nodes reporting the usual hash and two reporting `0x77…`.
async fn split_network() -> (Networks, NetworkSpec, Vec<String>, Vec<String>) {
    let mut majority = Vec::new();
    for _ in 0..3 {
        majority.push(spawn(NodeConfig::new(Network::DatilDev)).await.unwrap());
    }
    let mut odd = NodeConfig::new(Network::DatilDev);
    odd.blockhash = format!("0x{}", "77".repeat(32));
    let mut minority = Vec::new();
    for _ in 0..2 {
        minority.push(spawn(odd.clone()).await.unwrap());
    }
    let all: Vec<String> = minority.iter().chain(&majority).cloned().collect();
    let spec = NetworkSpec::custom("split", Generation::Datil, &all, None).unwrap();
    let networks = Networks::with_custom(
        LitNetClient::new(Duration::from_secs(2), 1).unwrap(),
        vec![spec.clone()],
    )
    .unwrap();
    (networks, spec, majority, minority)
}

#[tokio::test]
async fn a_dapp_naming_a_minority_of_nodes_does_not_choose_the_nonce() {
    let (networks, spec, majority, minority) = split_network().await;
    // The two odd nodes agree with each other, but not with the network.
    let e = networks.agree(&spec, &minority).await.unwrap_err();
    assert_eq!(
        e,
        NetError::TooFewNodes {
            asked: 2,
            answered: 0,
            needed: 2
        }
    );
    // Two odd and one usual node: the set's hash, and only the usual node holds it.
    let mixed = vec![
        minority[0].clone(),
        minority[1].clone(),
        majority[0].clone(),
    ];
    assert!(matches!(
        networks.agree(&spec, &mixed).await,
        Err(NetError::TooFewNodes { answered: 1, .. })
    ));
}

#[tokio::test]
async fn the_nonce_is_the_majority_of_the_network_set() {
    let (networks, spec, majority, minority) = split_network().await;
    // One node named: the set's hash, signed for that node.
    let one = networks.agree(&spec, &majority[1..2]).await.unwrap();
    assert_eq!(one.nonce, DEFAULT_BLOCKHASH);
    assert_eq!(one.nodes, &majority[1..2]);
    // The whole set: the majority's hash, and only the nodes that gave it.
    let all: Vec<String> = minority.iter().chain(&majority).cloned().collect();
    let every = networks.agree(&spec, &all).await.unwrap();
    assert_eq!(every.nonce, DEFAULT_BLOCKHASH);
    assert_eq!(every.nodes, majority);
}
