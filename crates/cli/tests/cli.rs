//! The `lit-companion` binary as a user runs it: real processes, real files, real pipes.
#![allow(clippy::unwrap_used, reason = "test")]

use std::{
    io::Write,
    path::PathBuf,
    process::{Command, Output, Stdio},
};

#[path = "cli/verify_pkp.rs"]
mod verify_pkp;

const BIN: &str = env!("CARGO_BIN_EXE_lit-companion");
const PKP_REQ: &str = r#"[{"resource":{"resource":"0x3f9a1234","resourcePrefix":"lit-pkp"},"ability":"pkp-signing"}]"#;
const NONCE: &str = "0xabababababababababababababababababababababababababababababababab";
const GOLDEN: &str = include_str!("../../session/tests/vectors/sdk_v7_session_siwe.txt");

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command refusing its arguments may exit before reading stdin: a broken pipe then is
    // the command's early answer, judged by its output below.
    match child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => panic!("stdin: {e}"),
        _ => {}
    }
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Keys {
    dir: PathBuf,
}

impl Keys {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("lit-companion-cli-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let k = Self { dir };
        k.write("wallet.key", &format!("0x{}\n", "11".repeat(32)), 0o600);
        k.write("seed", &"07".repeat(32), 0o600);
        k
    }
    fn write(&self, name: &str, text: &str, mode: u32) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = self.dir.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        p
    }
    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn sign(keys: &Keys, network: &str, expiration: &str, extra: &[&str]) -> Output {
    let wallet = keys.path("wallet.key");
    let seed = keys.path("seed");
    let mut args = vec![
        "session",
        "sign",
        "--wallet-key-file",
        &wallet,
        "--session-seed-file",
        &seed,
        "--node",
        "http://127.0.0.1:7470",
        "--node",
        "https://localhost:7471",
        "--nonce",
        NONCE,
        "--expiration",
        expiration,
        "--network",
        network,
        "--issued-at",
        "2026-11-24T12:00:00.000Z",
    ];
    args.extend_from_slice(extra);
    run(&args, PKP_REQ)
}

#[test]
fn sign_then_verify_datil_and_naga() {
    let keys = Keys::new("roundtrip");
    for network in ["datil-dev", "naga-test"] {
        let out = sign(
            &keys,
            network,
            "2026-11-25T12:00:00.000Z",
            &["--max-price", "1000"][..if network.starts_with("naga") { 2 } else { 0 }],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let sigs = String::from_utf8(out.stdout).unwrap();
        let map: serde_json::Value = serde_json::from_str(&sigs).unwrap();
        assert_eq!(map.as_object().unwrap().len(), 2);
        let ok = run(
            &[
                "session",
                "verify",
                "--node",
                "https://localhost:7471",
                "--now",
                "2026-11-24T13:00:00Z",
                "--resource",
                "lit-pkp://3f9a1234",
                "--ability",
                "pkp-signing",
            ],
            &sigs,
        );
        assert!(ok.status.success(), "{network}: {}", stderr(&ok));
        let summary: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
        assert_eq!(
            summary["wallet"],
            "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"
        );
        assert_eq!(
            summary["generation"],
            if network.starts_with("naga") {
                "Naga"
            } else {
                "Datil"
            }
        );

        // Least privilege: another PKP is not covered; after expiry the same map is refused.
        let other = run(
            &[
                "session",
                "verify",
                "--node",
                "http://127.0.0.1:7470",
                "--now",
                "2026-11-24T13:00:00Z",
                "--resource",
                "lit-pkp://99",
                "--ability",
                "pkp-signing",
            ],
            &sigs,
        );
        assert_eq!(other.status.code(), Some(1));
        let late = run(
            &[
                "session",
                "verify",
                "--node",
                "http://127.0.0.1:7470",
                "--now",
                "2026-11-26T00:00:00Z",
            ],
            &sigs,
        );
        assert_eq!(late.status.code(), Some(1));
        let line = stderr(&late);
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(line.contains("expired"), "{line}");
    }
}

#[test]
fn the_same_inputs_sign_the_same_bytes() {
    let keys = Keys::new("repeat");
    let a = sign(&keys, "datil", "2026-11-25T12:00:00.000Z", &[]);
    let b = sign(&keys, "datil", "2026-11-25T12:00:00.000Z", &[]);
    assert!(a.status.success());
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn key_files_readable_by_others_are_refused() {
    let keys = Keys::new("perm");
    keys.write("wallet.key", &format!("0x{}", "11".repeat(32)), 0o644);
    let out = sign(&keys, "datil", "2026-11-25T12:00:00.000Z", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("chmod 600"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_input_gets_one_line_and_a_non_zero_exit() {
    let keys = Keys::new("bad");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "session".into(),
                "verify".into(),
                "--node".into(),
                "http://a:1".into(),
            ],
            "not json",
        ),
        (
            vec![
                "session".into(),
                "verify".into(),
                "--node".into(),
                "http://a:1".into(),
            ],
            "{}",
        ),
        (
            vec!["recap".into(), "decode".into(), "urn:recap:!!!".into()],
            "",
        ),
        (vec!["siwe".into(), "explain".into()], "hello"),
        (vec!["session".into(), "frobnicate".into()], ""),
    ];
    for (args, stdin) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&args, stdin);
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(
            stderr(&out).trim_end().lines().count(),
            1,
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // Bad request lists, bad networks, lifetimes nodes refuse, wrong key material.
    for (network, exp, stdin) in [
        ("datil", "2026-11-25T12:00:00Z", "[]"),
        (
            "datil",
            "2026-11-25T12:00:00Z",
            r#"[{"resource":{"resource":"*","resourcePrefix":"lit-pkp"},"ability":"fly"}]"#,
        ),
        ("mainnet", "2026-11-25T12:00:00Z", PKP_REQ),
        ("datil", "2026-12-25T12:00:01Z", PKP_REQ),
        ("datil", "yesterday", PKP_REQ),
        (
            "naga",
            "2026-11-25T12:00:00Z",
            r#"[{"resource":{"resource":"*","resourcePrefix":"lit-ratelimitincrease"},"ability":"rate-limit-increase-auth"}]"#,
        ),
    ] {
        let wallet = keys.path("wallet.key");
        let out = run(
            &[
                "session",
                "sign",
                "--wallet-key-file",
                &wallet,
                "--node",
                "http://127.0.0.1:7470",
                "--nonce",
                NONCE,
                "--expiration",
                exp,
                "--network",
                network,
                "--issued-at",
                "2026-11-24T12:00:00Z",
            ],
            stdin,
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "{network} {exp} {stdin}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty());
    }
    let bad_key = keys.write("short.key", "0x1234", 0o600);
    let out = run(
        &[
            "session",
            "sign",
            "--wallet-key-file",
            bad_key.to_str().unwrap(),
            "--node",
            "http://127.0.0.1:7470",
            "--nonce",
            NONCE,
            "--expiration",
            "2026-11-25T12:00:00Z",
            "--network",
            "datil",
            "--issued-at",
            "2026-11-24T12:00:00Z",
        ],
        PKP_REQ,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !stderr(&out).contains("1234"),
        "the key text must not be echoed"
    );
}

#[test]
fn recap_decode_and_siwe_explain_speak_plainly() {
    let urn = GOLDEN.lines().last().unwrap().trim_start_matches("- ");
    let out = run(&["recap", "decode", urn], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["recap"]["att"]["lit-pkp://*"]["Threshold/Signing"],
        serde_json::json!([{}])
    );
    assert!(v["statement"]
        .as_str()
        .unwrap()
        .starts_with("I further authorize"));

    let out = run(&["siwe", "explain"], GOLDEN);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("✓ [DANGER] Sign messages and transactions with any of your PKPs"),
        "{text}"
    );
    assert!(
        text.contains("✓ [DANGER] Run any Lit Action code as you"),
        "{text}"
    );
    assert!(text.contains("more than 30 days"), "{text}");
    let out = run(&["siwe", "explain", "--json"], GOLDEN);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["risk"], "danger");
    assert_eq!(v["signer"], "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A");
}

#[test]
fn help_and_version_exit_zero() {
    for flag in ["--help", "--version"] {
        let out = run(&[flag], "");
        assert!(out.status.success());
    }
}

/// Sixteen `network add` at once, each its own process, keep all sixteen networks: every
/// change to the settings is a read-modify-write under the settings lock, and every write goes
/// through a temporary file of its own.
#[test]
fn sixteen_processes_adding_networks_at_once_keep_every_one() {
    let dir =
        std::env::temp_dir().join(format!("lit-companion-cli-settings-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_string_lossy().into_owned();
    let children: Vec<_> = (0..16)
        .map(|i| {
            Command::new(BIN)
                .args(["--data-dir", &data, "network", "add", &format!("net-{i}")])
                .args(["--generation", "datil", "--node", "http://127.0.0.1:7470"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = run(&["--data-dir", &data, "network", "list", "--json"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["name"].as_str())
        .collect();
    for i in 0..16 {
        assert!(
            names.contains(&format!("net-{i}").as_str()),
            "net-{i} was lost: {names:?}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Lit retired its public networks: `network list` shows them labelled so and not served
/// without settings; a network that does not answer says so when refreshed.
#[test]
fn lit_s_public_networks_are_listed_as_retired_and_off_and_a_silent_network_says_so() {
    let dir =
        std::env::temp_dir().join(format!("lit-companion-cli-retired-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.to_string_lossy().into_owned();
    let out = run(&["--data-dir", &data, "network", "list"], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let datil = text.lines().find(|l| l.starts_with("datil\t")).unwrap();
    assert!(
        datil.starts_with("datil\tDatil (main network) — retired by Lit after 31 Mar 2026\t"),
        "{datil}"
    );
    assert!(datil.ends_with(", not served"), "{datil}");
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("— retired by Lit after 31 Mar 2026\t"))
            .count(),
        6,
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.ends_with(", not served")).count(),
        6,
        "{text}"
    );
    let out = run(&["--data-dir", &data, "network", "list", "--json"], "");
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for n in listed.as_array().unwrap() {
        assert_eq!(n["served"], false, "{n}");
        assert_eq!(n["retired"], "retired by Lit after 31 Mar 2026", "{n}");
    }

    // A network whose nodes are all gone: the refresh fails (network kind, exit 5) in words.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let node = format!("http://127.0.0.1:{}", silent.local_addr().unwrap().port());
    drop(silent);
    let add = [
        "--data-dir",
        &data,
        "network",
        "add",
        "gone",
        "--generation",
        "datil",
        "--node",
        &node,
    ];
    assert!(run(&add, "").status.success());
    let out = run(&["--data-dir", &data, "network", "refresh", "gone"], "");
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).trim(),
        "error: No node of gone (your Datil network) answered"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
