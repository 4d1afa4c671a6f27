//! One decision for every caller: `lit-companion session sign` and the engine behind the roads
//! both ask the vault (`Vault::session_for`) whether to reuse a session or ask about what is
//! new, so over the same vault they decide alike — checked here through the binary and an
//! in-process engine sharing one data directory and one (private) keychain.
#![allow(clippy::unwrap_used, reason = "test")]

use std::{
    future::Future,
    pin::Pin,
    process::Command,
    sync::{Arc, Mutex},
    time::Duration,
};

use lit_companion_bridge::{
    ApprovalRequest, Approver, Caller, Decision, Engine, EngineSettings, Road,
};
use lit_companion_net::{LitNetClient, NetworkSpec, Networks};
use lit_companion_node_sim::{spawn, NodeConfig};
use lit_companion_session::{Generation, Network, Origin};
use lit_companion_testkit::{unique_service, PrivateKeyring};
use lit_companion_vault::{OsKeychain, Vault};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_lit-companion");
const WALLET_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
const ORIGIN: &str = "https://app.example.com";

/// Says no, and remembers what it was asked.
#[derive(Default)]
struct Asked(Mutex<Vec<ApprovalRequest>>);

impl Approver for Asked {
    fn approve(
        &self,
        request: ApprovalRequest,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>> {
        self.0.lock().unwrap().push(request);
        Box::pin(async {
            Decision::Reject {
                reason: "test".into(),
            }
        })
    }
}

fn pkp(n: u8) -> Value {
    json!({"resource": {"resource": format!("{n:064x}"), "resourcePrefix": "lit-pkp"}, "ability": "pkp-signing"})
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_and_the_engine_decide_alike_over_one_vault() {
    let keyring = PrivateKeyring::start();
    keyring.enter();
    let service = unique_service("one-path");
    let cli = |args: &[&str], stdin: &str| {
        let mut c: Command = keyring.command(BIN);
        c.args(args)
            .env("LIT_COMPANION_KEYCHAIN_SERVICE", &service)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let wallet = cli(&["wallet", "import"], WALLET_KEY).0["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let node = spawn(NodeConfig::new(Network::DatilDev)).await.unwrap();
    // A network of one simulated node, known to the CLI (through the settings) and the engine.
    cli(
        &[
            "network",
            "add",
            "sim",
            "--generation",
            "datil",
            "--node",
            &node,
        ],
        "",
    );
    let expiration = lit_companion_session::timefmt::iso_millis(
        time::OffsetDateTime::now_utc() + time::Duration::hours(2),
    )
    .unwrap();
    let cli_sign = |requests: Value| {
        let args = [
            "session",
            "sign",
            "--wallet",
            &wallet,
            "--origin",
            ORIGIN,
            "--node",
            &node,
            "--nonce",
            "0xabababababababababababababababababababababababababababababababab",
            "--expiration",
            &expiration,
            "--network",
            "sim",
        ];
        let (sigs, note) = cli(&args, &requests.to_string());
        (
            sigs[node.as_str()]["address"].as_str().unwrap().to_owned(),
            note,
        )
    };

    // The engine, in this process, over the same data directory and keychain.
    let (vault, _) = Vault::open(
        &keyring.data_dir(),
        Arc::new(OsKeychain::with_service(&service)),
        time::OffsetDateTime::now_utc(),
    )
    .unwrap();
    let asked = Arc::new(Asked::default());
    let engine = Engine::new(
        Arc::new(vault),
        Arc::new(
            Networks::with_custom(
                LitNetClient::new(Duration::from_secs(5), 1).unwrap(),
                vec![NetworkSpec::custom(
                    "sim",
                    Generation::Datil,
                    std::slice::from_ref(&node),
                    None,
                )
                .unwrap()],
            )
            .unwrap(),
        ),
        asked.clone(),
        EngineSettings::default(),
    );
    let caller = Caller::verified(Origin::parse(ORIGIN).unwrap(), Road::Http);
    let engine_sign = |requests: Value| {
        let body = json!({"v": 1, "id": 1, "method": "getSessionSigs", "params": {
            "network": "sim", "resourceAbilityRequests": requests, "nodeUrls": [node],
            "expiration": expiration}});
        let engine = &engine;
        let caller = &caller;
        async move {
            serde_json::to_value(engine.handle(caller, body.to_string().as_bytes()).await).unwrap()
        }
    };

    // 1. The CLI creates a session for PKP 1; the engine reuses it without asking.
    let (first, note) = cli_sign(json!([pkp(1)]));
    assert!(note.contains("no session yet"), "{note}");
    let r = engine_sign(json!([pkp(1)])).await;
    assert_eq!(r["result"]["reused"], true, "{r}");
    assert_eq!(r["result"]["sessionKey"], first.as_str());
    assert!(
        asked.0.lock().unwrap().is_empty(),
        "no prompt inside the grant"
    );

    // 2. PKP 1 and 2: the engine asks about PKP 2 alone (and is told no: nothing changes) …
    let r = engine_sign(json!([pkp(1), pkp(2)])).await;
    assert_eq!(r["error"]["code"], 4001, "{r}");
    let question = asked.0.lock().unwrap().pop().unwrap();
    assert_eq!(question.new_requests.len(), 1);
    assert!(question.new_requests[0]
        .resource
        .to_string()
        .ends_with(&format!("{:064x}", 2)));
    assert_eq!(question.already_granted.len(), 1);
    // … and the CLI finds the same: more than granted, exactly PKP 2.
    let (second, note) = cli_sign(json!([pkp(1), pkp(2)]));
    assert!(
        note.contains(&format!(
            "asks for more than was granted: pkp-signing on lit-pkp://{:064x}",
            2
        )),
        "{note}"
    );
    assert!(
        !note.contains(&format!("{:064x}, ", 1)),
        "only what is new: {note}"
    );
    assert_ne!(second, first);

    // 3. The CLI's new grant covers both: the engine reuses it, still without asking.
    let r = engine_sign(json!([pkp(2)])).await;
    assert_eq!(r["result"]["reused"], true, "{r}");
    assert_eq!(r["result"]["sessionKey"], second.as_str());
    assert!(asked.0.lock().unwrap().is_empty());
}
