//! Latency of the loopback bridge for a cached session (the common case: a dapp asking again
//! within its grant): 10,000 requests one after another, then 1,000 at once. Real sockets, a
//! real keychain (a private gnome-keyring), three simulated nodes. Prints p50/p99.
//!
//! `cargo bench -p lit-companion-bridge --bench loopback`
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

use lit_companion_bridge::{
    http::{self, HttpConfig, HttpState},
    ratelimit::RateLimit,
    ApprovalRequest, Approver, Decision, Engine, EngineSettings,
};
use lit_companion_net::{LitNetClient, NetworkSpec, Networks};
use lit_companion_node_sim::{spawn, NodeConfig};
use lit_companion_session::{Generation, Network};
use lit_companion_testkit::{unique_service, PrivateKeyring};
use lit_companion_vault::{OsKeychain, Vault};
use serde_json::{json, Value};
use time::OffsetDateTime;

struct Yes;
impl Approver for Yes {
    fn approve(&self, r: ApprovalRequest) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>> {
        Box::pin(async move {
            Decision::Approve {
                lifetime: r.lifetime,
            }
        })
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn report(name: &str, mut samples: Vec<Duration>, wall: Duration) {
    samples.sort();
    println!(
        "{name}: n={} p50={:?} p99={:?} max={:?} wall={:?} ({:.0} req/s)",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        samples[samples.len() - 1],
        wall,
        samples.len() as f64 / wall.as_secs_f64()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let keyring = PrivateKeyring::start();
    keyring.enter();
    let service = unique_service("bench");
    let (vault, _) = Vault::open(
        &keyring.data_dir().join("bench"),
        Arc::new(OsKeychain::with_service(&service)),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    vault
        .create_wallet("bench", OffsetDateTime::now_utc())
        .unwrap();
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(spawn(NodeConfig::new(Network::DatilDev)).await.unwrap());
    }
    let engine = Engine::new(
        Arc::new(vault),
        Arc::new(
            Networks::with_custom(
                LitNetClient::new(Duration::from_secs(2), 2).unwrap(),
                vec![NetworkSpec::custom("sim", Generation::Datil, &nodes, None).unwrap()],
            )
            .unwrap(),
        ),
        Arc::new(Yes),
        EngineSettings::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = HttpConfig::new(port);
    config.rate = RateLimit {
        per_second: 1e9,
        burst: 1e9,
    };
    tokio::spawn(http::serve(
        listener,
        HttpState::new(Arc::new(engine), config),
    ));
    let url = format!("http://127.0.0.1:{port}/v1/request");
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(1100)
        .build()
        .unwrap();
    let body = json!({"v": 1, "id": "b", "method": "getSessionSigs", "params": {
        "network": "sim", "nodeUrls": nodes,
        "resourceAbilityRequests": [{"resource": {"resource": "0x1234", "resourcePrefix": "lit-pkp"}, "ability": "pkp-signing"}]}});
    let one = move |client: reqwest::Client, url: String, body: Value| async move {
        let started = Instant::now();
        let r = client
            .post(url)
            .header("Origin", "https://bench.example")
            .header("Sec-Fetch-Mode", "cors")
            .header("Sec-Fetch-Site", "cross-site")
            .json(&body)
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert!(v["result"]["sessionSigs"].is_object(), "{v}");
        started.elapsed()
    };
    // The first request creates the session; the rest reuse it.
    one(client.clone(), url.clone(), body.clone()).await;
    for _ in 0..200 {
        one(client.clone(), url.clone(), body.clone()).await;
    }

    let started = Instant::now();
    let mut samples = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        samples.push(one(client.clone(), url.clone(), body.clone()).await);
    }
    report("cached session, sequential", samples, started.elapsed());

    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        tasks.spawn(one(client.clone(), url.clone(), body.clone()));
    }
    let mut samples = Vec::with_capacity(1000);
    while let Some(d) = tasks.join_next().await {
        samples.push(d.unwrap());
    }
    report("cached session, 1000 at once", samples, started.elapsed());
}
