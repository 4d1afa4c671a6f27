//! `lit-companion serve` puts the settings file in force as the app does: a paused bridge
//! answers 4900 from the first request, resumes when the file says so, and a settings file that
//! does not load stops `serve` from starting at all (it never serves with settings the user did
//! not choose).
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::{process::Stdio, time::Duration};

use lit_companion_testkit::{unique_service, PrivateKeyring};
use serde_json::{json, Value};

use common::{start_serve, BIN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_obeys_the_settings_pause_from_the_first_request_and_when_it_changes() {
    let keyring = PrivateKeyring::start();
    let service = unique_service("serve-settings");
    let data = keyring.data_dir();
    std::fs::create_dir_all(&data).unwrap();
    let cli = |args: &[&str]| {
        let out = keyring
            .command(BIN)
            .args(args)
            .env("LIT_COMPANION_KEYCHAIN_SERVICE", &service)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let token = cli(&["pair", "new", "--name", "settings"])["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let settings = data.join("settings.json");
    let mut s: Value = json!({
        "version": 1, "defaultLifetimeSecs": 86400, "networks": ["datil-dev"],
        "roads": {"http": true, "extension": true, "deepLink": true}, "paused": true
    });
    std::fs::write(&settings, s.to_string()).unwrap();

    let policy = keyring.root().join("policy.json");
    std::fs::write(&policy, r#"{"version":1,"rules":[]}"#).unwrap();
    let (mut serve, url) = start_serve(&keyring, &service, &policy, "settings.sock");
    let http = reqwest::Client::new();
    let ask = || async {
        let body = json!({"v": 1, "id": "1", "method": "getSessionSigs", "params": {
            "network": "datil-dev", "resourceAbilityRequests": [{"resource": {"resource": "*", "resourcePrefix": "lit-pkp"}, "ability": "pkp-signing"}]}});
        let v: Value = http
            .post(format!("{url}/v1/request"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["error"]["code"].as_u64().unwrap_or(0)
    };
    assert_eq!(ask().await, 4900, "paused by the settings from the start");

    s["paused"] = json!(false);
    std::fs::write(&settings, s.to_string()).unwrap();
    let mut resumed = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if ask().await != 4900 {
            resumed = true;
            break;
        }
    }
    assert!(resumed, "the file's change is put into force");
    s["paused"] = json!(true);
    std::fs::write(&settings, s.to_string()).unwrap();
    let mut paused = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if ask().await == 4900 {
            paused = true;
            break;
        }
    }
    assert!(paused, "and paused again");
    let _ = serve.kill();
    let _ = serve.wait();

    // A settings file that does not load: serve refuses to start, naming the file.
    std::fs::write(&settings, b"{ \"paused\": tru").unwrap();
    let out = keyring
        .command(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--approve"])
        .arg(&policy)
        .env("LIT_COMPANION_KEYCHAIN_SERVICE", &service)
        .env(
            "LIT_COMPANION_SOCKET",
            keyring.root().join("settings2.sock"),
        )
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("settings.json"), "{err}");
}
