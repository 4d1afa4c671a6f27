//! Set-up shared by the fuzz targets: an in-memory keychain, a scratch directory per process,
//! and a whole HTTP bridge (engine, vault, networks) answered through its router without a
//! socket.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "fuzz set-up panics on bad set-up"
)]

use std::{
    path::PathBuf,
    sync::{Arc, OnceLock},
    time::Duration,
};

use lit_companion_bridge::{
    http::{router, HttpConfig, HttpState},
    ratelimit::RateLimit,
    Engine, EngineSettings, RejectAll,
};
use lit_companion_net::{LitNetClient, NetworkSpec, Networks};
use lit_companion_session::Generation;
use lit_companion_vault::Vault;
use time::OffsetDateTime;

/// A keychain in memory: the decoders under test never need the OS one.
pub use lit_companion_testkit::MemoryKeychain;

/// A fresh directory for this process, in memory (`/dev/shm`) where there is one, since the file
/// targets write an input per run. libFuzzer exits without running destructors, so the
/// directories of processes that are gone are removed here.
pub fn scratch(name: &str) -> PathBuf {
    let shm = std::path::Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let prefix = format!("lit-companion-fuzz-{name}-");
    for entry in std::fs::read_dir(&base).into_iter().flatten().flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = file_name.strip_prefix(&prefix) {
            if !std::path::Path::new("/proc").join(pid).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = base.join(format!("{prefix}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The wallet the HTTP fixture holds (a well-known test key).
pub const WALLET_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

/// A bridge whose approver rejects everything, so no input ever reaches a node.
#[derive(Debug)]
pub struct HttpFixture {
    /// The runtime requests run on.
    pub runtime: tokio::runtime::Runtime,
    /// The transport's state (the router is built from it per request).
    pub state: Arc<HttpState>,
    /// A valid pairing token; inputs spell it `$TOKEN`.
    pub token: String,
}

/// The process-wide HTTP fixture.
pub fn http_fixture() -> &'static HttpFixture {
    static F: OnceLock<HttpFixture> = OnceLock::new();
    F.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = scratch("http");
        let now = OffsetDateTime::now_utc();
        let (vault, _) = Vault::open(&dir, Arc::new(MemoryKeychain::default()), now).unwrap();
        vault.import_wallet(WALLET_KEY, "Main", now).unwrap();
        let token = vault.create_pairing("fuzz", now).unwrap().to_string();
        let state = runtime.block_on(async {
            let net = LitNetClient::new(Duration::from_millis(200), 1).unwrap();
            // Port 9 (discard): never contacted, the approver says no first.
            let nodes = vec!["http://127.0.0.1:9".to_owned()];
            let sim = NetworkSpec::custom("sim-datil", Generation::Datil, &nodes, None).unwrap();
            let networks = Arc::new(Networks::with_custom(net, vec![sim]).unwrap());
            let engine = Engine::new(
                Arc::new(vault),
                networks,
                Arc::new(RejectAll),
                EngineSettings::default(),
            );
            let mut config = HttpConfig::new(7471);
            config.rate = RateLimit {
                per_second: 1e9,
                burst: 1e9,
            };
            config.wait = Duration::from_millis(200);
            HttpState::new(Arc::new(engine), config)
        });
        HttpFixture {
            runtime,
            state,
            token,
        }
    })
}

/// Sends one request through the router: `data` is `METHOD PATH\nName: value\n…\n\nbody`, with
/// `$TOKEN` standing for the fixture's pairing token. Returns the status and body.
pub fn http_roundtrip(data: &[u8]) -> Option<(u16, Vec<u8>)> {
    use tower::ServiceExt;
    let f = http_fixture();
    let split = data
        .windows(2)
        .position(|w| w == b"\n\n")
        .unwrap_or(data.len());
    let head = std::str::from_utf8(&data[..split]).ok()?;
    let body = data.get(split + 2..).unwrap_or_default().to_vec();
    let mut lines = head.lines();
    let (method, path) = lines.next()?.split_once(' ')?;
    let mut req = axum::http::Request::builder().method(method).uri(path);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        req = req.header(name.trim(), value.trim().replace("$TOKEN", &f.token));
    }
    let req = req.body(axum::body::Body::from(body)).ok()?;
    f.runtime.block_on(async {
        let res = router(f.state.clone()).oneshot(req).await.ok()?;
        let status = res.status().as_u16();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.ok()?;
        Some((status, bytes.to_vec()))
    })
}
