//! The Lit nodes: unreachable, outside the network, redirecting, streaming without end, a chain
//! that cannot be read.

use super::*;

#[tokio::test]
async fn unreachable_or_disagreeing_nodes_are_a_network_error() {
    let b = start("netdown", None, |_| {}).await;
    let (_, id) = pkp(1);
    let dead = vec![
        "http://127.0.0.1:9".to_owned(),
        "http://127.0.0.1:10".to_owned(),
    ];
    b.add_networks(&[("dead", &dead)]);
    let v = b.unreachable("dead", &id).await;
    assert!(!v.to_string().contains("127.0.0.1:9"), "{v}");
    b.nothing_stored();

    let mut odd = NodeConfig::new(Network::DatilDev);
    odd.blockhash = format!("0x{}", "99".repeat(32));
    let mut nodes = b.nodes[..1].to_vec();
    nodes.push(spawn(odd.clone()).await.unwrap());
    odd.blockhash = format!("0x{}", "77".repeat(32));
    nodes.push(spawn(odd).await.unwrap());
    b.add_networks(&[("dead", &dead), ("odd", &nodes)]);
    b.unreachable("odd", &id).await;
    b.nothing_stored();
}

#[tokio::test]
async fn a_network_lit_retired_is_named_as_retired_when_it_does_not_answer() {
    let b = start("retired", None, |_| {}).await;
    let (_, id) = pkp(2);
    let dead = vec!["http://127.0.0.1:9".to_owned()];
    let mut gone = NetworkSpec::custom("gone", Generation::Datil, &dead, None).unwrap();
    gone.retired_after = Some(lit_companion_net::PRESETS_RETIRED_AFTER);
    let sim = NetworkSpec::custom("sim", Generation::Datil, &b.nodes, None).unwrap();
    b.engine
        .networks()
        .configure(vec![sim, gone], &std::collections::BTreeMap::new());
    let body = b.body(
        vec![pkp_request(&id)],
        json!({"network": "gone", "nodeUrls": []}),
    );
    let (status, v) = b.post_from(ORIGIN, &body).await;
    assert_eq!((status, code(&v)), (502, 4504), "{v}");
    assert_eq!(
        v["error"]["message"],
        "the Lit network could not be reached: Lit has retired gone (your Datil network)"
    );
    assert!(!v.to_string().contains("127.0.0.1:9"), "{v}");
    b.nothing_stored();
}

#[tokio::test]
async fn naga_sessions_carry_max_price_and_pass_naga_nodes() {
    let b = start_naga("naga", None).await;
    let (pubkey, id) = pkp(5);
    let body = b.body(
        vec![pkp_request(&id)],
        json!({"maxPrice": "5000000000000000"}),
    );
    let (status, v) = b.post_from(ORIGIN, &body).await;
    assert_eq!(status, 200, "{v}");
    let sigs = &v["result"]["sessionSigs"];
    let signed: Value =
        serde_json::from_str(sigs[&b.nodes[0]]["signedMessage"].as_str().unwrap()).unwrap();
    assert_eq!(signed["maxPrice"], "0x11c37937e08000");
    assert_eq!(b.node_accepts(&b.nodes[0], sigs, &pubkey).await.0, 200);
}

/// A loopback server that counts the connections it gets and answers none: it must never be
/// reached.
async fn canary() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (url, hits)
}

/// A "node" that answers every request with a 307 to `to`.
async fn redirector(to: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}/web/handshake\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    url
}

#[tokio::test]
async fn node_urls_outside_the_network_reach_nothing() {
    let b = start("outside", None, |_| {}).await;
    let (_, id) = pkp(1);
    let (canary_url, hits) = canary().await;
    let mut nodes = b.nodes.clone();
    nodes.push(canary_url.clone());
    let (status, v) = b
        .post_from(
            ORIGIN,
            &b.body(vec![pkp_request(&id)], json!({"nodeUrls": nodes})),
        )
        .await;
    assert_eq!((status, code(&v)), (400, 4400), "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&canary_url) && message.contains("not a node of sim"),
        "{message}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the canary was contacted");
    assert_eq!(b.asked().await, 0, "nothing to ask about");
    b.nothing_stored();

    // A request that names no nodes gets sessionSigs for the whole set.
    let (status, v) = b
        .post_from(
            ORIGIN,
            &b.body(vec![pkp_request(&id)], json!({"nodeUrls": []})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let mut signed: Vec<String> = v["result"]["sessionSigs"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    signed.sort();
    let mut all = b.nodes.clone();
    all.sort();
    assert_eq!(signed, all);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_refused_origin_reaches_no_node() {
    let b = start("refused", Some(STRICT_POLICY), |_| {}).await;
    let (_, id) = pkp(1);
    let (canary_url, hits) = canary().await;
    b.add_networks(&[("watched", &[canary_url])]);
    let (status, v) = b
        .post_from(
            "https://stranger.example",
            &b.body(
                vec![pkp_request(&id)],
                json!({"network": "watched", "nodeUrls": []}),
            ),
        )
        .await;
    assert_eq!((status, code(&v)), (403, 4001), "{v}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a refused request contacted a node"
    );
    b.nothing_stored();
}

#[tokio::test]
async fn a_node_that_redirects_fails_and_gets_no_session_sigs() {
    let b = start("redirect", None, |_| {}).await;
    let (pubkey, id) = pkp(1);
    let (canary_url, hits) = canary().await;
    let hop = redirector(&canary_url).await;
    // Two good nodes and one that redirects: a majority answers; the redirector gets nothing.
    let mut nodes = b.nodes[..2].to_vec();
    nodes.push(hop.clone());
    b.add_networks(&[("hop", &nodes), ("only-hop", std::slice::from_ref(&hop))]);
    let (status, v) = b
        .post_from(
            ORIGIN,
            &b.body(
                vec![pkp_request(&id)],
                json!({"network": "hop", "nodeUrls": []}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let sigs = &v["result"]["sessionSigs"];
    assert!(
        sigs.get(&hop).is_none(),
        "sessionSigs for a node that never shook hands: {v}"
    );
    assert_eq!(sigs.as_object().unwrap().len(), 2);
    assert_eq!(b.node_accepts(&nodes[0], sigs, &pubkey).await.0, 200);
    // Reused: still only the nodes that completed a handshake.
    let (_, v) = b
        .post_from(
            ORIGIN,
            &b.body(
                vec![pkp_request(&id)],
                json!({"network": "hop", "nodeUrls": []}),
            ),
        )
        .await;
    assert_eq!(v["result"]["reused"], true, "{v}");
    assert!(v["result"]["sessionSigs"].get(&hop).is_none());

    let v = b.unreachable("only-hop", &id).await;
    assert!(
        !v.to_string().contains(&hop[7..]),
        "no per-node detail: {v}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "a redirect was followed");
}

#[tokio::test]
async fn a_chain_that_cannot_be_read_signs_nothing() {
    let b = start("chain-down", None, |_| {}).await;
    let (_, id) = pkp(8);
    let sim = NetworkSpec::custom(SIM, b.generation, &b.nodes, None).unwrap();
    let down = NetworkSpec::custom(
        "down",
        b.generation,
        &[],
        Some((
            "http://127.0.0.1:9/",
            "0x21d636d95eE71150c0c3Ffa79268c989a329d1CE",
            None,
            None,
        )),
    )
    .unwrap();
    b.engine
        .networks()
        .configure(vec![sim, down], &std::collections::BTreeMap::new());
    b.unreachable("down", &id).await;
    assert_eq!(
        b.asked().await,
        0,
        "no prompt for a network that cannot be read"
    );
    b.nothing_stored();
}

/// A "node" that answers every request `200`, chunked, with JSON whitespace that never ends.
async fn endless_node() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = socket.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
                let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
                chunk.extend(std::iter::repeat_n(b' ', 64 * 1024));
                chunk.extend_from_slice(b"\r\n");
                if socket.write_all(head.as_bytes()).await.is_ok() {
                    while socket.write_all(&chunk).await.is_ok() {}
                }
            });
        }
    });
    url
}

/// This process's resident memory (`VmRSS`), in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_node_streaming_an_endless_body_fails_with_4504_in_bounded_time_and_memory() {
    let b = start("endless", None, |_| {}).await;
    let (_, id) = pkp(3);
    let flood = endless_node().await;
    b.add_networks(&[("flood", std::slice::from_ref(&flood))]);
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(rss_kib()));
    let watch = peak.clone();
    let sampler = tokio::spawn(async move {
        loop {
            watch.fetch_max(rss_kib(), Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let start = std::time::Instant::now();
    let v = b.unreachable("flood", &id).await;
    let took = start.elapsed();
    sampler.abort();
    let peak = peak.load(Ordering::Relaxed).max(rss_kib());
    assert!(
        !v.to_string().contains(&flood[7..]),
        "no per-node detail: {v}"
    );
    // The handshake cap ends it, well before the client's 800 ms timeout would.
    assert!(took < Duration::from_millis(800), "4504 after {took:?}");
    assert!(peak < 256 * 1024, "RSS reached {peak} KiB");
    eprintln!("endless node: 4504 after {took:?}, peak RSS {peak} KiB");
    b.nothing_stored();
}
