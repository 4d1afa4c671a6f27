//! `lit-node-sim`: one simulated Lit node on loopback (see the library docs).
//!
//! A PKP network is several processes with the same `--bls-seed` and `--of`/`--threshold`,
//! each with its own `--share`, and the same `--pkp`/`--action` tables.

#![allow(
    clippy::print_stdout,
    reason = "the first stdout line tells a test where the node listens"
)]

use std::{net::SocketAddr, time::Duration};

use clap::Parser;
use lit_companion_node_sim::{router, NodeBls, NodeConfig, DEFAULT_BLOCKHASH};
use lit_companion_session::{Address, Network, PkpPublicKey};

#[derive(Debug, Parser)]
#[command(name = "lit-node-sim", about = "A local Lit node simulator for tests")]
struct Args {
    /// Where to listen (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The network this node belongs to (its generation decides the handshake shape, maxPrice,
    /// and which sign_session_key endpoint it serves: v1 on Datil, v2 on Naga).
    #[arg(long, default_value = "datil-dev")]
    network: String,
    /// The latest block hash to report (0x + 64 hex); the only SIWE nonce it accepts.
    #[arg(long, default_value = DEFAULT_BLOCKHASH)]
    blockhash: String,
    /// Wait this long before every answer.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Answer the handshake with HTTP 500.
    #[arg(long)]
    fail_handshake: bool,
    /// The timestamp (RFC 3339) of the block --blockhash names: the issuedAt of the session
    /// messages this node signs. Give nodes of one network the same one, or they sign different
    /// messages when their answers straddle a second. Default: the time of each request.
    #[arg(long, value_name = "RFC3339")]
    block_time: Option<String>,
    /// Hex seed of the network's BLS key: nodes given the same seed hold shares of one key
    /// (a test key: whoever knows the seed knows the key). Without it the node has no keys.
    #[arg(long, value_name = "HEX", requires_all = ["share", "of", "threshold"])]
    bls_seed: Option<String>,
    /// This node's share of the key, 1..=N.
    #[arg(long, value_name = "I", requires = "bls_seed")]
    share: Option<u16>,
    /// How many shares the key is dealt into.
    #[arg(long, value_name = "N", requires = "bls_seed")]
    of: Option<u16>,
    /// How many shares make a signature.
    #[arg(long, value_name = "T", requires = "bls_seed")]
    threshold: Option<u16>,
    /// A PKP (uncompressed public key, 0x04…) and the wallets permitted as its EOA auth method
    /// (type 1). Repeatable.
    #[arg(long, value_name = "PUBKEY=0xWALLET[,0xWALLET…]")]
    pkp: Vec<String>,
    /// A PKP and the IPFS ids (CIDv0) of Lit Actions permitted as its auth method (type 2); the
    /// simulator runs no JavaScript and takes these actions as answering "true". Repeatable.
    #[arg(long, value_name = "PUBKEY=CID[,CID…]")]
    action: Vec<String>,
}

/// `PUBKEY=a,b,…`.
fn split_table(entry: &str) -> Result<(PkpPublicKey, Vec<&str>), String> {
    let (key, list) = entry
        .split_once('=')
        .ok_or_else(|| format!("{entry:?} is not PUBKEY=LIST"))?;
    let pkp = PkpPublicKey::parse(key).map_err(|e| format!("{key:?}: {e}"))?;
    let items: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Err(format!("{entry:?} lists nothing"));
    }
    Ok((pkp, items))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        return Err("lit-node-sim listens on loopback addresses only".into());
    }
    let network: Network = args.network.parse()?;
    let mut config = NodeConfig::new(network);
    config.blockhash = args.blockhash.to_ascii_lowercase();
    config.delay = Duration::from_millis(args.delay_ms);
    config.fail_handshake = args.fail_handshake;
    if let Some(t) = &args.block_time {
        config.block_time = Some(
            lit_companion_session::timefmt::parse_rfc3339(t)
                .ok_or("--block-time is not RFC 3339")?,
        );
    }
    if let (Some(seed), Some(share), Some(of), Some(threshold)) =
        (&args.bls_seed, args.share, args.of, args.threshold)
    {
        let seed = hex::decode(seed.strip_prefix("0x").unwrap_or(seed))
            .map_err(|_| "--bls-seed is not hex")?;
        config = config.with_bls(NodeBls::deal(&seed, share, of, threshold)?);
    }
    for entry in &args.pkp {
        let (pkp, wallets) = split_table(entry)?;
        for w in wallets {
            let wallet = Address::parse_any_case(w).map_err(|e| format!("{w:?}: {e}"))?;
            config = config.permit_wallet(pkp, wallet);
        }
    }
    for entry in &args.action {
        let (pkp, cids) = split_table(entry)?;
        for cid in cids {
            if lit_companion_session::ipfs::cid_v0_bytes(cid).is_none() {
                return Err(format!("{cid:?} is not a CIDv0 (Qm…)").into());
            }
            config = config.permit_action(pkp, cid);
        }
    }
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let local = listener.local_addr()?;
    // The first line on stdout tells the test where we are.
    println!("listening on http://{local}");
    axum::serve(listener, router(local, config)).await?;
    Ok(())
}
