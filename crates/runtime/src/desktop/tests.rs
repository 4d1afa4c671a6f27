//! The window's commands, as the control road hands them over, over a real (private) keychain
//! and data directory; and the control road refusing a program that is not the window.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::sync::Arc;

use lit_companion_testkit::{unique_service, PrivateKeyring};
use serde_json::{json, Value};

use super::{commands, Desktop};

/// The tests take turns: each points the process's environment (the keyring's bus, the
/// keychain service) at its own private keyring, and the environment is one per process.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

struct App {
    desktop: Arc<Desktop>,
    rt: tokio::runtime::Runtime,
}

fn app(keyring: &PrivateKeyring) -> App {
    keyring.enter();
    std::env::set_var(
        "LIT_COMPANION_KEYCHAIN_SERVICE",
        unique_service("app-commands"),
    );
    let desktop = Arc::new(Desktop::open(|| {}).unwrap().0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    App { desktop, rt }
}

fn call(w: &App, cmd: &str, args: Value) -> Result<Value, Value> {
    w.rt.block_on(commands::call(&w.desktop, cmd, args))
        .map_err(Value::String)
}

/// How many wallets the window's `wallets` command lists.
fn wallet_count(w: &App) -> usize {
    call(w, "wallets", json!({}))
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn an_unknown_command_or_arguments_of_the_wrong_shape_are_refused_in_words() {
    let _turn = serial();
    let keyring = PrivateKeyring::start();
    let w = app(&keyring);
    assert_eq!(
        call(&w, "export_keys", json!({})).unwrap_err(),
        "the companion has no command \"export_keys\""
    );
    let wrong = call(&w, "create_wallet", json!({ "name": "x" })).unwrap_err();
    assert!(
        wrong
            .as_str()
            .unwrap()
            .starts_with("create_wallet: missing field `label`"),
        "{wrong}"
    );
    assert_eq!(
        call(&w, "wallets", json!({})).unwrap(),
        json!([]),
        "nothing was added"
    );
}

#[test]
fn commands_manage_wallets_settings_and_pairings() {
    let _turn = serial();
    let keyring = PrivateKeyring::start();
    let w = app(&keyring);

    let status = call(&w, "status", json!({})).unwrap();
    assert_eq!(status["keychain"]["ok"], true, "{status}");
    assert_eq!(status["paused"], false);

    // Wallets: created, labelled; a bad key is a sentence, and nothing is added.
    let address = call(&w, "create_wallet", json!({ "label": "Main" })).unwrap();
    let address = address.as_str().unwrap().to_owned();
    call(
        &w,
        "label_wallet",
        json!({ "address": address, "label": "Daily" }),
    )
    .unwrap();
    let bad = call(
        &w,
        "import_wallet",
        json!({ "key": "0x1234", "label": "x" }),
    )
    .unwrap_err();
    assert!(bad.as_str().unwrap().len() > 10, "{bad}");
    let wallets = call(&w, "wallets", json!({})).unwrap();
    assert_eq!(wallets.as_array().unwrap().len(), 1);
    assert_eq!(wallets[0]["label"], "Daily");
    assert!(keyring
        .accounts(&std::env::var("LIT_COMPANION_KEYCHAIN_SERVICE").unwrap())
        .contains(&format!("wallet:{address}")));

    // Settings: stored, applied to the engine, refused when out of range.
    let mut settings = call(&w, "settings", json!({})).unwrap()["settings"].clone();
    settings["paused"] = json!(true);
    settings["networks"] = json!(["naga"]);
    call(&w, "save_settings", json!({ "settings": settings })).unwrap();
    let services = &w.desktop;
    assert!(services.engine.is_paused());
    assert!(!services.engine.network_on("datil-dev"));
    assert!(services.engine.network_on("naga"));
    assert_eq!(call(&w, "status", json!({})).unwrap()["paused"], true);
    call(&w, "set_paused", json!({ "paused": false })).unwrap();
    assert!(!services.engine.is_paused());
    settings["defaultLifetimeSecs"] = json!(10);
    assert!(call(&w, "save_settings", json!({ "settings": settings })).is_err());
    let stored = call(&w, "settings", json!({})).unwrap()["settings"].clone();
    assert_eq!(
        stored["networks"],
        json!(["naga"]),
        "a refused save changes nothing"
    );

    // No prompt waits: answering one says so.
    let answered = call(&w, "answer_prompt", json!({ "id": 7, "approve": true })).unwrap();
    assert_eq!(answered, false);

    // Pairing tokens: shown once, listed by name only, revoked.
    let token = call(&w, "create_pairing", json!({ "name": "ci" })).unwrap();
    assert!(token.as_str().unwrap().starts_with("lcp_"));
    let list = call(&w, "pairings", json!({})).unwrap();
    assert_eq!(list[0]["name"], "ci");
    assert!(!list.to_string().contains(token.as_str().unwrap()));
    call(&w, "revoke_pairing", json!({ "name": "ci" })).unwrap();
    assert!(call(&w, "revoke_pairing", json!({ "name": "ci" })).is_err());
}

/// A PKP's public key: any secp256k1 public key stands in for the network's.
fn any_public_key() -> String {
    let key = lit_companion_session::WalletKey::generate().public_key_uncompressed();
    format!(
        "0x{}",
        key.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

#[test]
fn commands_add_rename_and_remove_a_pkp_with_the_wallet_that_signs_in_for_it() {
    let _turn = serial();
    let keyring = PrivateKeyring::start();
    let w = app(&keyring);
    let main = call(&w, "create_wallet", json!({ "label": "Main" })).unwrap();
    let main = main.as_str().unwrap().to_owned();
    let public_key = any_public_key();
    let pkp = lit_companion_session::PkpPublicKey::parse(&public_key).unwrap();

    // Bad input: the core's sentence, and nothing is added.
    let bad = call(
        &w,
        "add_pkp",
        json!({ "publicKey": "0x04abcd", "auth": main, "label": "PKP" }),
    )
    .unwrap_err();
    assert_eq!(
        bad,
        "PKP public key is not a secp256k1 public key (0x04 followed by 128 hex digits)"
    );
    let stranger = "0x00000000000000000000000000000000000000aa";
    let unknown = call(
        &w,
        "add_pkp",
        json!({ "publicKey": public_key, "auth": stranger, "label": "PKP" }),
    )
    .unwrap_err();
    assert!(unknown.as_str().unwrap().contains("no wallet"), "{unknown}");
    assert_eq!(wallet_count(&w), 1);

    // Added: listed with its key, token id and the wallet that signs in.
    let address = call(
        &w,
        "add_pkp",
        json!({ "publicKey": public_key, "auth": main, "label": "Vault PKP" }),
    )
    .unwrap();
    assert_eq!(address, pkp.address().to_checksum());
    let wallets = call(&w, "wallets", json!({})).unwrap();
    let listed = &wallets[1];
    assert_eq!(listed["kind"], "pkp");
    assert_eq!(listed["label"], "Vault PKP");
    assert_eq!(listed["pkp"]["publicKey"], pkp.to_hex());
    assert_eq!(listed["pkp"]["tokenId"], pkp.token_id());
    assert_eq!(listed["pkp"]["auth"], main);
    assert_eq!(wallets[0]["pkp"], Value::Null);
    // A PKP cannot sign in for another PKP.
    let nested = call(
        &w,
        "add_pkp",
        json!({ "publicKey": any_public_key(), "auth": address, "label": "x" }),
    )
    .unwrap_err();
    assert!(nested.as_str().unwrap().contains("is a PKP"), "{nested}");

    call(
        &w,
        "label_wallet",
        json!({ "address": address, "label": "Treasury" }),
    )
    .unwrap();
    // The wallet that signs in stays while the PKP does: the refusal names the PKP.
    let refused = call(&w, "remove_wallet", json!({ "address": main })).unwrap_err();
    let refused = refused.as_str().unwrap();
    assert!(refused.contains(&pkp.address().to_checksum()), "{refused}");
    assert!(refused.contains("Treasury"), "{refused}");
    assert_eq!(wallet_count(&w), 2);
    call(&w, "remove_wallet", json!({ "address": address })).unwrap();
    call(&w, "remove_wallet", json!({ "address": main })).unwrap();
    assert_eq!(call(&w, "wallets", json!({})).unwrap(), json!([]));
}

/// The control road answers prompts: a process of the user's that is not the window program
/// (here, this test) is dropped before anything is read, hello included.
#[cfg(unix)]
#[test]
fn the_control_road_drops_a_program_that_is_not_the_window() {
    use std::io::Read;

    use super::{control, window::WindowHost};
    let _turn = serial();
    let keyring = PrivateKeyring::start();
    let w = app(&keyring);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private").join("control.sock");
    let window = Arc::new(WindowHost::default());
    let served = Arc::new(control::Control {
        desktop: w.desktop.clone(),
        window: window.clone(),
        status_changed: Box::new(|| {}),
        quit: Box::new(|| {}),
    });
    let listener =
        w.rt.block_on(lit_companion_bridge::socket::bind(&path))
            .unwrap();
    w.rt.spawn(control::serve(listener, served));
    let mut stream = std::os::unix::net::UnixStream::connect(&path).unwrap();
    lit_companion_wire::frame::write_json(&mut stream, &json!({ "id": 0, "cmd": "hello" }))
        .unwrap();
    lit_companion_wire::frame::write_json(
        &mut stream,
        &json!({ "id": 1, "cmd": "answer_prompt", "args": { "id": 1, "approve": true } }),
    )
    .unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut answer = Vec::new();
    // Closed (reset, since what it sent was never read), not left waiting.
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    assert!(answer.is_empty(), "nothing was answered: {answer:?}");
    assert!(!window.is_open(), "it did not become the window");
}
