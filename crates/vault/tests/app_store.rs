//! The app item store against a real Secret Service (a private gnome-keyring), checked
//! independently with `secret-tool`. (Locked and missing keychains: `crates/cli/tests/store.rs`,
//! one keyring per process.)
#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::OnceLock;

use lit_companion_testkit::{unique_service, PrivateKeyring};
use lit_companion_vault::{app_store::MAX_VALUE_LEN, AppName, AppStore, OsKeychain};

fn keyring() -> &'static PrivateKeyring {
    static K: OnceLock<PrivateKeyring> = OnceLock::new();
    K.get_or_init(|| {
        let k = PrivateKeyring::start();
        k.enter();
        k
    })
}

fn store(base: &str, app: &str) -> AppStore {
    keyring();
    AppStore::new(
        &OsKeychain::with_service(base),
        AppName::parse(app).unwrap(),
    )
}

#[test]
fn items_are_keychain_items_named_by_app_and_key() {
    let k = keyring();
    let base = unique_service("appstore-items");
    let s = store(&base, "ci-runner");
    assert_eq!(s.service(), format!("{base}.store.ci-runner"));
    assert_eq!(s.keys().unwrap(), Vec::<String>::new());
    assert!(s.get("lit-session-key").unwrap().is_none());

    let pair = br#"{"publicKey":"ab","secretKey":"cd"}"#;
    s.set("lit-session-key", pair).unwrap();
    assert_eq!(
        s.get("lit-session-key").unwrap().unwrap().as_slice(),
        pair.as_slice()
    );
    // Seen by the platform's own tool, under exactly that service and account.
    assert_eq!(
        k.lookup(s.service(), "lit-session-key").unwrap(),
        pair.to_vec()
    );
    assert_eq!(k.accounts(s.service()), ["lit-session-key"]);

    // Replacing keeps one item.
    s.set("lit-session-key", b"second").unwrap();
    assert_eq!(k.accounts(s.service()), ["lit-session-key"]);
    assert_eq!(
        s.get("lit-session-key").unwrap().unwrap().as_slice(),
        b"second"
    );
}

#[test]
fn values_round_trip_byte_for_byte() {
    let base = unique_service("appstore-bytes");
    let s = store(&base, "bytes");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("newlines", b"line 1\nline 2\n\n".to_vec()),
        ("unicode", "ключ — 鍵 🔑".as_bytes().to_vec()),
        ("binary", (0..=255u8).collect()),
        // Far above anything the SDKs store; a Secret Service item carries it.
        ("large", (0..256 * 1024).map(|i| (i % 251) as u8).collect()),
        ("at-limit", vec![b'x'; MAX_VALUE_LEN]),
    ];
    for (key, value) in &cases {
        s.set(key, value).unwrap();
    }
    for (key, value) in &cases {
        assert_eq!(
            s.get(key).unwrap().unwrap().as_slice(),
            value.as_slice(),
            "{key}"
        );
    }
    assert_eq!(
        s.set("over", &vec![0; MAX_VALUE_LEN + 1])
            .unwrap_err()
            .code(),
        "too_large"
    );
}

#[test]
fn apps_and_profiles_do_not_see_each_other() {
    let base = unique_service("appstore-apart");
    let one = store(&base, "one");
    let two = store(&base, "two");
    let other_profile = store(&format!("{base}-b"), "one");
    one.set("k", b"of one").unwrap();
    two.set("k", b"of two").unwrap();
    assert_eq!(one.get("k").unwrap().unwrap().as_slice(), b"of one");
    assert_eq!(two.get("k").unwrap().unwrap().as_slice(), b"of two");
    assert!(other_profile.get("k").unwrap().is_none());
    assert_eq!(other_profile.keys().unwrap(), Vec::<String>::new());
    // An app whose name extends another's is still another app.
    let longer = store(&base, "one.more");
    assert_eq!(longer.keys().unwrap(), Vec::<String>::new());
    assert_eq!(one.keys().unwrap(), ["k"]);
}

#[test]
fn keys_delete_and_clear() {
    let k = keyring();
    let base = unique_service("appstore-clear");
    let s = store(&base, "clear");
    for key in [
        "lit-wallet-sig",
        "lit-session-key",
        "lit-auth:naga-dev:0xAbC",
    ] {
        s.set(key, b"v").unwrap();
    }
    assert_eq!(
        s.keys().unwrap(),
        [
            "lit-auth:naga-dev:0xAbC",
            "lit-session-key",
            "lit-wallet-sig"
        ]
    );
    assert!(s.delete("lit-wallet-sig").unwrap());
    assert!(!s.delete("lit-wallet-sig").unwrap(), "already gone");
    assert_eq!(
        k.accounts(s.service()),
        ["lit-auth:naga-dev:0xAbC", "lit-session-key"]
    );
    // Deleted behind the store's back: not listed any more.
    k.clear(s.service(), "lit-session-key");
    assert_eq!(s.keys().unwrap(), ["lit-auth:naga-dev:0xAbC"]);
    assert_eq!(s.clear().unwrap(), 1);
    assert_eq!(s.keys().unwrap(), Vec::<String>::new());
    assert!(k.accounts(s.service()).is_empty());
    assert_eq!(s.clear().unwrap(), 0);
}
