//! `lit-companion store` through the binary, against a real Secret Service (a private
//! gnome-keyring per test), checked independently with `secret-tool`.
#![allow(clippy::unwrap_used, reason = "test")]

use std::{
    io::Write,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use lit_companion_testkit::{unique_service, PrivateKeyring};

const BIN: &str = env!("CARGO_BIN_EXE_lit-companion");

struct Store<'a> {
    keyring: &'a PrivateKeyring,
    base: String,
}

impl<'a> Store<'a> {
    fn new(keyring: &'a PrivateKeyring, name: &str) -> Self {
        Self {
            keyring,
            base: unique_service(name),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = self.keyring.command(BIN);
        c.arg("store")
            .args(args)
            .env("LIT_COMPANION_KEYCHAIN_SERVICE", &self.base);
        c
    }

    fn run(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(stdin);
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str], stdin: &[u8]) -> Vec<u8> {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_slice(&self.ok(args, b"")).unwrap()
    }
}

#[test]
fn set_reads_stdin_get_prints_it_and_secret_tool_sees_the_item() {
    let keyring = PrivateKeyring::start();
    let s = Store::new(&keyring, "store-roundtrip");
    let service = format!("{}.store.my-app", s.base);
    let value = b"{\"publicKey\":\"ab\",\"secretKey\":\"cd\"}\nsecond line";
    let answer: serde_json::Value =
        serde_json::from_slice(&s.ok(&["set", "--app", "my-app", "lit-session-key"], value))
            .unwrap();
    assert_eq!(answer["stored"], "lit-session-key");
    assert_eq!(answer["bytes"], value.len());
    assert_eq!(
        keyring.lookup(&service, "lit-session-key").unwrap(),
        value.to_vec()
    );
    // The value, then the one newline every command ends with.
    let mut expected = value.to_vec();
    expected.push(b'\n');
    assert_eq!(
        s.ok(&["get", "--app", "my-app", "lit-session-key"], b""),
        expected
    );
    assert_eq!(
        s.json(&["list", "--app", "my-app"]),
        serde_json::json!(["lit-session-key"])
    );
    // Another app has nothing.
    assert_eq!(s.json(&["list", "--app", "other"]), serde_json::json!([]));

    // Absent is exit 3 with nothing on stdout; deleting twice is fine.
    let missing = s.run(&["get", "--app", "other", "lit-session-key"], b"");
    assert_eq!(missing.status.code(), Some(3));
    assert!(missing.stdout.is_empty());
    assert_eq!(
        s.json(&["delete", "--app", "my-app", "lit-session-key"])["deleted"],
        true
    );
    assert_eq!(
        s.json(&["delete", "--app", "my-app", "lit-session-key"])["deleted"],
        false
    );
    assert!(keyring.accounts(&service).is_empty());

    s.ok(&["set", "--app", "my-app", "a"], b"1");
    s.ok(&["set", "--app", "my-app", "b"], b"2");
    assert_eq!(s.json(&["clear", "--app", "my-app"])["deleted"], 2);
    assert!(keyring.accounts(&service).is_empty());
}

#[test]
fn a_value_is_never_taken_from_argv_and_bad_names_are_refused() {
    let keyring = PrivateKeyring::start();
    let s = Store::new(&keyring, "store-argv");
    let out = s.run(&["set", "--app", "my-app", "key", "the-value"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unexpected argument"));
    for (args, code) in [
        (vec!["get", "--app", "my app", "k"], "invalid_app"),
        (vec!["get", "--app=-x", "k"], "invalid_app"),
        (vec!["get", "--app", "ok", "a\nb"], "invalid_key"),
    ] {
        let out = s.run(&args, b"");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let big = vec![b'x'; 1024 * 1024 + 1];
    let out = s.run(&["set", "--app", "ok", "big"], &big);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("too_large"));
    assert!(keyring.accounts(&format!("{}.store.ok", s.base)).is_empty());
}

#[test]
fn a_locked_keychain_is_a_typed_error_for_every_store_command() {
    let keyring = PrivateKeyring::start();
    let s = Store::new(&keyring, "store-locked");
    s.ok(&["set", "--app", "my-app", "present"], b"value");
    keyring.lock();
    for args in [
        vec!["get", "--app", "my-app", "present"],
        // Missing is not "absent" while locked: the store cannot know.
        vec!["get", "--app", "my-app", "missing"],
        vec!["set", "--app", "my-app", "new"],
        vec!["set", "--app", "my-app", "present"],
        vec!["delete", "--app", "my-app", "present"],
        vec!["delete", "--app", "my-app", "missing"],
        vec!["list", "--app", "my-app"],
        vec!["clear", "--app", "my-app"],
    ] {
        let started = Instant::now();
        let out = s.run(&args, b"new value");
        let took = started.elapsed();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(4),
            "a keychain failure: {args:?}: {err}"
        );
        assert!(err.contains("keychain_locked"), "{args:?}: {err}");
        assert!(err.contains("unlock"), "the fix is named: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(took < Duration::from_secs(2), "{args:?} took {took:?}");
    }
    // Nothing was changed: the item is still there, and nothing new appeared.
    assert_eq!(
        keyring.accounts(&format!("{}.store.my-app", s.base)),
        ["present"]
    );
}

#[test]
fn no_secret_service_is_a_typed_error() {
    let keyring = PrivateKeyring::start();
    let s = Store::new(&keyring, "store-nobus");
    let out = s
        .command(&["get", "--app", "my-app", "k"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(4),
        "a keychain failure, not bad input: {err}"
    );
    assert!(err.contains("keychain_unavailable"), "{err}");
}
