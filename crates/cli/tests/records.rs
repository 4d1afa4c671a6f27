//! Records and rules through the `lit-companion` binary, in a private keyring: `history`
//! prints the activity the app shows, per site; a policy rule naming `wallets` approves no
//! other wallet; `pair revoke` ends the pairing's sessions and a new pairing of the name starts
//! empty.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::{
    io::Write,
    process::{Output, Stdio},
};

use lit_companion_node_sim::{spawn, NodeConfig};
use lit_companion_session::Network;
use lit_companion_testkit::{unique_service, PrivateKeyring};
use serde_json::{json, Value};

use common::{start_serve, BIN};

const WALLET_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
const NONCE: &str = "0xabababababababababababababababababababababababababababababababab";
const PKP: &str =
    r#"[{"resource":{"resource":"*","resourcePrefix":"lit-pkp"},"ability":"pkp-signing"}]"#;

struct Cli<'a> {
    keyring: &'a PrivateKeyring,
    service: String,
}

impl Cli<'_> {
    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .keyring
            .command(BIN)
            .args(args)
            .env("LIT_COMPANION_KEYCHAIN_SERVICE", &self.service)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn json(&self, args: &[&str], stdin: &str) -> Value {
        serde_json::from_str(&self.ok(args, stdin)).unwrap()
    }

    fn sign(&self, wallet: &str, origin: &str) {
        let expiration = lit_companion_session::timefmt::iso_millis(
            time::OffsetDateTime::now_utc() + time::Duration::hours(2),
        )
        .unwrap();
        self.ok(
            &[
                "session",
                "sign",
                "--wallet",
                wallet,
                "--origin",
                origin,
                "--node",
                "https://127.0.0.1:7470",
                "--nonce",
                NONCE,
                "--expiration",
                &expiration,
                "--network",
                "datil-dev",
            ],
            PKP,
        );
    }
}

#[test]
fn history_prints_the_activity_the_app_shows_per_site_newest_first() {
    let keyring = PrivateKeyring::start();
    let cli = Cli {
        keyring: &keyring,
        service: unique_service("history"),
    };
    let wallet = cli.json(&["wallet", "import", "--label", "Main"], WALLET_KEY)["address"]
        .as_str()
        .unwrap()
        .to_owned();
    cli.sign(&wallet, "https://a.example");
    cli.sign(&wallet, "https://a.example"); // reused: counted
    std::thread::sleep(std::time::Duration::from_millis(5));
    cli.sign(&wallet, "https://b.example");

    // Plain words, one line each, newest first: time, site, what happened.
    let text = cli.ok(&["history"], "");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].contains("  b.example  Approved b.example for "),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("  a.example  Handed out signatures to a.example")),
        "{text}"
    );
    assert!(lines[3].contains("  Lit Companion  "), "{text}");

    // One site, as JSON with stable fields; the origin is matched as the grant key it names.
    let a = cli.json(&["history", "--origin", "https://a.example", "--json"], "");
    let a = a.as_array().unwrap();
    assert_eq!(a.len(), 2, "{a:?}");
    for line in a {
        assert_eq!(line["origin"], "https://a.example");
        assert_eq!(line["site"], "a.example");
        for field in ["at", "event", "summary", "detail", "count"] {
            assert!(line.get(field).is_some(), "{field} in {line}");
        }
    }
    let events: Vec<&str> = a.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["session_sigs_issued", "authsig_signed"]);
    assert_eq!(
        cli.ok(&["history", "--origin", "https://nobody.example"], "")
            .trim(),
        "No activity recorded for nobody.example."
    );

    // Bad input exits 2; an unreadable history exits 6.
    let bad = cli.run(&["history", "--origin", "app.example.com"], "");
    assert_eq!(bad.status.code(), Some(2));
    let broken = keyring.root().join("broken-data");
    std::fs::create_dir_all(broken.join("history.jsonl")).unwrap();
    let out = cli.run(&["history", "--data-dir", broken.to_str().unwrap()], "");
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_revoke_ends_its_sessions_a_new_pairing_starts_empty_and_rules_keep_to_their_wallets()
{
    let keyring = PrivateKeyring::start();
    let cli = Cli {
        keyring: &keyring,
        service: unique_service("pair-revoke"),
    };
    let main = cli.json(&["wallet", "import"], WALLET_KEY)["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = cli.json(&["wallet", "new"], "")["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = |cli: &Cli| {
        cli.json(&["pair", "new", "--name", "ci"], "")["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let first_token = token(&cli);
    let policy = keyring.root().join("policy.json");
    std::fs::write(
        &policy,
        json!({"version": 1, "rules": [{"origin": "pairing:ci", "resources": ["lit-pkp://*"],
            "abilities": ["pkp-signing"], "wallets": [main.to_lowercase()]}]})
        .to_string(),
    )
    .unwrap();
    let node = spawn(NodeConfig::new(Network::DatilDev)).await.unwrap();
    cli.ok(
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
    let (mut serve, url) = start_serve(&keyring, &cli.service, &policy, "records.sock");
    let http = reqwest::Client::new();
    let ask = |token: String, wallet: String| {
        let (http, url, node) = (http.clone(), url.clone(), node.clone());
        async move {
            let id = format!("{:064x}", 7);
            let body = json!({"v": 1, "id": 1, "method": "getSessionSigs", "params": {
                "network": "sim", "wallet": wallet, "nodeUrls": [node],
                "resourceAbilityRequests": [{"resource": {"resource": id, "resourcePrefix": "lit-pkp"}, "ability": "pkp-signing"}]}});
            http.post(format!("{url}/v1/request"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let code = |v: &Value| v["error"]["code"].as_u64().unwrap_or(0);

    // The rule names one wallet: another is not approved, the named one is.
    let refused = ask(first_token.clone(), other.clone()).await;
    assert_eq!(code(&refused), 4001, "{refused}");
    let first = ask(first_token.clone(), main.clone()).await;
    assert_eq!(first["result"]["reused"], false, "{first}");
    let first_key = first["result"]["sessionKey"].as_str().unwrap().to_owned();
    let again = ask(first_token.clone(), main.clone()).await;
    assert_eq!(again["result"]["reused"], true, "{again}");

    // Revoking the pairing (from another process, while serve runs) ends its session at once.
    let revoked = cli.json(&["pair", "revoke", "ci"], "");
    assert_eq!(revoked, json!({"revoked": "ci", "revokedSessions": 1}));
    assert!(!cli
        .keyring
        .accounts(&cli.service)
        .contains(&format!("session:{first_key}")));
    let gone = ask(first_token.clone(), main.clone()).await;
    assert_eq!(code(&gone), 4100, "{gone}");

    // A new pairing of the same name inherits nothing: a new AuthSig, a new session key.
    let second_token = token(&cli);
    let fresh = ask(second_token, main.clone()).await;
    assert_eq!(fresh["result"]["reused"], false, "{fresh}");
    assert_ne!(fresh["result"]["sessionKey"], first_key.as_str());
    serve.kill().unwrap();
    let _ = serve.wait();

    let history = cli.json(&["history", "--origin", "pairing:ci", "--json"], "");
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["event"] == "session_revoked"),
        "{history}"
    );
    // An unknown pairing is bad input.
    assert_eq!(
        cli.run(&["pair", "revoke", "nobody"], "").status.code(),
        Some(2)
    );
}
