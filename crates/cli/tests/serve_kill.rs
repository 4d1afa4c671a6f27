//! `lit-companion serve` killed (SIGKILL) under load, again and again: every AuthSig it handed
//! out is on record, at most about a second of reuse counts is lost, and the metadata parses
//! after every kill.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use lit_companion_node_sim::{spawn, NodeConfig};
use lit_companion_session::Network;
use lit_companion_testkit::{unique_service, PrivateKeyring};
use serde_json::{json, Value};

use common::{start_serve, BIN};

const WALLET_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
const ROUNDS: usize = 5;
const CLIENTS: usize = 16;

fn pkp(n: u64) -> Value {
    json!({"resource": {"resource": format!("{n:064x}"), "resourcePrefix": "lit-pkp"}, "ability": "pkp-signing"})
}

/// One answer a client received: when, whether reused, and the session key.
struct Answer {
    at: Instant,
    reused: bool,
    key: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_no_authsig_and_at_most_a_second_of_counts() {
    let keyring = PrivateKeyring::start();
    let service = unique_service("serve-kill");
    let cli = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = keyring
            .command(BIN)
            .args(args)
            .env("LIT_COMPANION_KEYCHAIN_SERVICE", &service)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{args:?}");
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    cli(&["wallet", "import"], WALLET_KEY);
    let token = cli(&["pair", "new", "--name", "load"], "")["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let policy = keyring.root().join("policy.json");
    std::fs::write(
        &policy,
        r#"{"version":1,"rules":[{"origin":"pairing:load","resources":["lit-pkp://*"],"abilities":["pkp-signing"]}]}"#,
    )
    .unwrap();
    let node = spawn(NodeConfig::new(Network::DatilDev)).await.unwrap();
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
    let http = reqwest::Client::new();
    let answers: Arc<Mutex<Vec<Answer>>> = Arc::default();
    let mut kills = Vec::new();
    let mut next_pkp = 1u64;

    for round in 0..ROUNDS {
        let (mut serve, url) = start_serve(&keyring, &service, &policy, "kill.sock");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut clients = Vec::new();
        for c in 0..CLIENTS {
            let (http, url, token, node, answers, stop) = (
                http.clone(),
                url.clone(),
                token.clone(),
                node.clone(),
                answers.clone(),
                stop.clone(),
            );
            // Client 0 asks for one more PKP now and then (a new AuthSig each time); the others
            // ask within the grant (reuse).
            let first = next_pkp;
            clients.push(tokio::spawn(async move {
                let mut i = 0u64;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    i += 1;
                    let top = if c == 0 && i.is_multiple_of(20) {
                        first + i / 20
                    } else {
                        first
                    };
                    let requests: Vec<Value> = (first..=top).map(pkp).collect();
                    let body = json!({"v": 1, "id": i, "method": "getSessionSigs", "params": {
                        "network": "sim", "resourceAbilityRequests": requests, "nodeUrls": [node]}});
                    let Ok(resp) = http
                        .post(format!("{url}/v1/request"))
                        .bearer_auth(&token)
                        .json(&body)
                        .send()
                        .await
                    else {
                        break; // killed
                    };
                    let Ok(v) = resp.json::<Value>().await else {
                        break;
                    };
                    if let Some(r) = v.get("result") {
                        answers.lock().unwrap().push(Answer {
                            at: Instant::now(),
                            reused: r["reused"] == true,
                            key: r["sessionKey"].as_str().unwrap_or_default().to_owned(),
                        });
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500 + 400 * round as u64)).await;
        serve.kill().unwrap(); // SIGKILL
        let killed = Instant::now();
        let _ = serve.wait();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for c in clients {
            let _ = c.await;
        }
        kills.push(killed);
        next_pkp += 1_000;

        // After every kill the metadata parses.
        let text = std::fs::read_to_string(keyring.data_dir().join("metadata.json")).unwrap();
        serde_json::from_str::<Value>(&text)
            .unwrap_or_else(|e| panic!("metadata after kill {round}: {e}"));
    }

    let history = std::fs::read_to_string(keyring.data_dir().join("history.jsonl")).unwrap();
    let lines: Vec<Value> = history
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let answers = answers.lock().unwrap();
    // Every AuthSig a client received is on record.
    let signed: Vec<&Answer> = answers.iter().filter(|a| !a.reused).collect();
    assert!(
        signed.len() >= ROUNDS,
        "new AuthSigs under load: {}",
        signed.len()
    );
    for a in &signed {
        let short = format!("session {}…", &a.key[..8]);
        assert!(
            lines.iter().any(|l| l["event"] == "authsig_signed"
                && l["detail"].as_str().unwrap().contains(&short)),
            "no record of the AuthSig for {short}"
        );
    }
    // Reuse counts: all but (at most) the last second before each kill are written, and
    // nothing is counted twice.
    let recorded: u64 = lines
        .iter()
        .filter(|l| l["event"] == "session_sigs_issued")
        .map(|l| l["count"].as_u64().unwrap_or(1))
        .sum();
    let reused = answers.iter().filter(|a| a.reused).count() as u64;
    let settled = answers
        .iter()
        .filter(|a| {
            let next_kill = kills.iter().find(|k| **k >= a.at);
            a.reused
                && next_kill.is_some_and(|k| k.duration_since(a.at) > Duration::from_millis(1500))
        })
        .count() as u64;
    assert!(reused > 100, "load too light to say anything: {reused}");
    assert!(
        recorded >= settled,
        "lost more than a second of counts: recorded {recorded}, answered more than 1.5 s before a kill {settled}"
    );
    assert!(
        recorded <= reused + (CLIENTS * ROUNDS) as u64,
        "counted twice: recorded {recorded}, answered {reused}"
    );
    eprintln!(
        "{ROUNDS} kills: {} AuthSigs all on record; reuse answered {reused}, recorded {recorded}, settled {settled}",
        signed.len()
    );
}
