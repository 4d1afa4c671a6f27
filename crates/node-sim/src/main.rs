//! `lit-node-sim`: one simulated Lit node on loopback (see the library docs).

#![allow(
    clippy::print_stdout,
    reason = "the first stdout line tells a test where the node listens"
)]

use std::{net::SocketAddr, time::Duration};

use clap::Parser;
use lit_companion_node_sim::{router, NodeConfig, DEFAULT_BLOCKHASH};
use lit_companion_session::Network;

#[derive(Debug, Parser)]
#[command(name = "lit-node-sim", about = "A local Lit node simulator for tests")]
struct Args {
    /// Where to listen (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The network this node belongs to (its generation decides the handshake shape and maxPrice).
    #[arg(long, default_value = "datil-dev")]
    network: String,
    /// The latest block hash to report (0x + 64 hex).
    #[arg(long, default_value = DEFAULT_BLOCKHASH)]
    blockhash: String,
    /// Wait this long before every answer.
    #[arg(long, default_value_t = 0)]
    delay_ms: u64,
    /// Answer the handshake with HTTP 500.
    #[arg(long)]
    fail_handshake: bool,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        return Err("lit-node-sim listens on loopback addresses only".into());
    }
    let network: Network = args.network.parse()?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let local = listener.local_addr()?;
    let config = NodeConfig {
        network,
        blockhash: args.blockhash.to_ascii_lowercase(),
        delay: Duration::from_millis(args.delay_ms),
        fail_handshake: args.fail_handshake,
    };
    // The first line on stdout tells the test where we are.
    println!("listening on http://{local}");
    axum::serve(listener, router(local, config)).await?;
    Ok(())
}
