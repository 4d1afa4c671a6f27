//! The network is not trusted for size: a node or an RPC that streams an endless body (or
//! declares a huge one) is cut off at its endpoint's cap, quickly, and the process stays small.
//! Over real loopback sockets, against a raw TCP server that never stops writing.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use lit_companion_net::{
    ChainError, LitNetClient, NetError, NetworkSpec, Networks, ETH_CALL_BODY_CAP,
    HANDSHAKE_BODY_CAP, NODE_SET_TTL, RPC_BODY_CAP,
};
use lit_companion_session::Generation;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The most the test process may hold while a hostile server streams at it.
const RSS_LIMIT_KIB: u64 = 256 * 1024;

/// How the hostile server answers.
#[derive(Clone, Copy)]
enum Flood {
    /// `200`, chunked, and chunks of JSON whitespace forever.
    Chunked,
    /// `200` with a `Content-Length` of 16 GiB, then bytes forever.
    Declared,
}

/// A loopback server that answers every request with an endless body; the counter says how
/// many body bytes it managed to write.
async fn endless(flood: Flood) -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 8192];
                let _ = socket.read(&mut buf).await;
                let head = match flood {
                    Flood::Chunked => "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".to_owned(),
                    Flood::Declared => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        16u64 << 30
                    ),
                };
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let data = vec![b' '; 64 * 1024];
                let mut frame = Vec::new();
                if let Flood::Chunked = flood {
                    frame.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
                }
                frame.extend_from_slice(&data);
                if let Flood::Chunked = flood {
                    frame.extend_from_slice(b"\r\n");
                }
                while socket.write_all(&frame).await.is_ok() {
                    counter.fetch_add(data.len() as u64, Ordering::Relaxed);
                }
            });
        }
    });
    (url, sent)
}

/// `VmRSS` and `VmHWM` (peak) of this process, in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Runs `work`, sampling the process's RSS every 5 ms; answers its result, how long it took
/// and the largest RSS seen (KiB).
async fn measured<T>(work: impl std::future::Future<Output = T>) -> (T, Duration, u64) {
    let peak = Arc::new(AtomicU64::new(rss_kib().0));
    let watch = peak.clone();
    let sampler = tokio::spawn(async move {
        loop {
            watch.fetch_max(rss_kib().0, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    });
    let start = Instant::now();
    let out = work.await;
    let took = start.elapsed();
    sampler.abort();
    let peak = peak.load(Ordering::Relaxed).max(rss_kib().0);
    (out, took, peak)
}

/// A client whose timeout is far away: only the cap can end a fast endless body in time.
fn patient() -> LitNetClient {
    LitNetClient::new(Duration::from_secs(30), 1).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_streaming_an_endless_body_is_cut_at_the_handshake_cap() {
    for flood in [Flood::Chunked, Flood::Declared] {
        let (node, sent) = endless(flood).await;
        let client = patient();
        let (result, took, peak) = measured(client.handshake(&node)).await;
        let e = result.unwrap_err();
        assert_eq!(
            e,
            NetError::TooLarge {
                node: node.clone(),
                endpoint: "/web/handshake",
                cap: HANDSHAKE_BODY_CAP,
            }
        );
        assert!(took < Duration::from_secs(5), "took {took:?}");
        assert!(peak < RSS_LIMIT_KIB, "RSS reached {peak} KiB");
        // Cut off near the cap, not read to the end: what the server got out before it
        // noticed is bounded by the sockets' buffers.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let written = sent.load(Ordering::Relaxed);
        assert!(written < 64 << 20, "the server wrote {written} bytes");
        eprintln!(
            "handshake flood: refused after {took:?}, peak RSS {peak} KiB, server wrote {written} bytes"
        );
    }
    let (_, hwm) = rss_kib();
    assert!(hwm < RSS_LIMIT_KIB, "peak RSS {hwm} KiB");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rpc_streaming_an_endless_body_is_cut_at_the_method_cap() {
    let (rpc, _) = endless(Flood::Chunked).await;
    let staking = "0x21d636d95eE71150c0c3Ffa79268c989a329d1CE";
    let networks = Networks::new(patient(), NODE_SET_TTL).unwrap();
    for (chain_id, method, cap) in [
        (None, "eth_call", ETH_CALL_BODY_CAP),
        (Some(175_188), "eth_chainId", RPC_BODY_CAP),
    ] {
        let spec = NetworkSpec::custom(
            "flood",
            Generation::Naga,
            &[],
            Some((&rpc, staking, None, chain_id)),
        )
        .unwrap();
        let (result, took, peak) = measured(networks.node_set(&spec)).await;
        assert_eq!(
            result.unwrap_err(),
            NetError::Chain(ChainError::TooLarge { method, cap })
        );
        assert!(took < Duration::from_secs(5), "{method} took {took:?}");
        assert!(peak < RSS_LIMIT_KIB, "{method}: RSS reached {peak} KiB");
        eprintln!("{method} flood: refused after {took:?}, peak RSS {peak} KiB");
    }
}
