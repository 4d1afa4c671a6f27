//! The vault through the `lit-companion` binary, against a real Secret Service (a private
//! gnome-keyring per test), checked independently with `secret-tool`.
#![allow(clippy::unwrap_used, reason = "test")]

use std::{
    io::Write,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use lit_companion_testkit::{unique_service, PrivateKeyring};

const BIN: &str = env!("CARGO_BIN_EXE_lit-companion");
const WALLET_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
const NONCE: &str = "0xabababababababababababababababababababababababababababababababab";

fn pkp(id: &str) -> String {
    format!(
        r#"{{"resource":{{"resource":"{id}","resourcePrefix":"lit-pkp"}},"ability":"pkp-signing"}}"#
    )
}

struct Cli<'a> {
    keyring: &'a PrivateKeyring,
    service: String,
    /// Everything the commands printed (for the secret scan).
    log: std::cell::RefCell<Vec<u8>>,
}

impl<'a> Cli<'a> {
    fn new(keyring: &'a PrivateKeyring, name: &str) -> Self {
        Self {
            keyring,
            service: unique_service(name),
            log: Default::default(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = self.keyring.command(BIN);
        c.args(args)
            .env("LIT_COMPANION_KEYCHAIN_SERVICE", &self.service);
        c
    }

    fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        let out = child.wait_with_output().unwrap();
        self.log.borrow_mut().extend_from_slice(&out.stdout);
        self.log.borrow_mut().extend_from_slice(&out.stderr);
        out
    }

    fn ok(&self, args: &[&str], stdin: &str) -> serde_json::Value {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn sign_args(wallet: &str, origin: &str) -> Vec<String> {
        [
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
            &expiry(),
            "--network",
            "datil-dev",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn sign(
        &self,
        wallet: &str,
        origin: &str,
        requests: &str,
    ) -> (Output, Option<serde_json::Value>) {
        let args = Self::sign_args(wallet, origin);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.run(&args, requests);
        let entry = out.status.success().then(|| {
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
                ["https://127.0.0.1:7470"]
                .clone()
        });
        (out, entry)
    }

    fn accounts(&self) -> Vec<String> {
        self.keyring.accounts(&self.service)
    }
}

fn expiry() -> String {
    let t = time::OffsetDateTime::now_utc() + time::Duration::hours(2);
    lit_companion_session::timefmt::iso_millis(t).unwrap()
}

fn wallet_auth_sig(entry: &serde_json::Value) -> serde_json::Value {
    let signed: serde_json::Value =
        serde_json::from_str(entry["signedMessage"].as_str().unwrap()).unwrap();
    signed["capabilities"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone()
}

#[test]
fn sessions_are_created_reused_escalated_and_revoked() {
    let keyring = PrivateKeyring::start();
    let cli = Cli::new(&keyring, "lifecycle");
    let wallet = cli.ok(&["wallet", "import", "--label", "Main"], WALLET_KEY)["address"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(cli.accounts(), vec![format!("wallet:{wallet}")]);
    let origin = "https://app.example.com";

    let (out, first) = cli.sign(&wallet, origin, &format!("[{}]", pkp("0x01")));
    let first = first.unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no session yet"));
    let key = first["address"].as_str().unwrap().to_owned();
    assert_eq!(
        cli.accounts(),
        vec![format!("session:{key}"), format!("wallet:{wallet}")]
    );
    let siwe = wallet_auth_sig(&first)["signedMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        siwe.starts_with("app.example.com wants you to sign in"),
        "the SIWE domain is the origin's host"
    );

    // Within the grant: the same key and the same AuthSig, nothing new in the keychain.
    let (out, second) = cli.sign(&wallet, origin, &format!("[{}]", pkp("0x01")));
    let second = second.unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("new AuthSig"));
    assert_eq!(second["address"], first["address"]);
    assert_eq!(wallet_auth_sig(&second), wallet_auth_sig(&first));
    assert_eq!(cli.accounts().len(), 2);

    // More than granted: a new AuthSig covering old and new; the old key leaves the keychain.
    let (out, third) = cli.sign(&wallet, origin, &format!("[{}]", pkp("0x02")));
    let third = third.unwrap();
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("asks for more than was granted: pkp-signing on lit-pkp://"));
    let new_key = third["address"].as_str().unwrap().to_owned();
    assert_ne!(new_key, key);
    assert_eq!(
        cli.accounts(),
        vec![format!("session:{new_key}"), format!("wallet:{wallet}")]
    );
    let siwe = wallet_auth_sig(&third)["signedMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        siwe.contains("0000000000000000000000000000000000000000000000000000000000000001"),
        "{siwe}"
    );
    assert!(
        siwe.contains("0000000000000000000000000000000000000000000000000000000000000002"),
        "{siwe}"
    );

    // The domain must be the origin's host.
    let mut args = Cli::sign_args(&wallet, origin);
    args.extend(["--domain".into(), "evil.example".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cli.run(&args, &format!("[{}]", pkp("0x01")));
    assert_eq!(out.status.code(), Some(2));

    let list = cli.ok(&["sessions", "list"], "");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["origin"], origin);
    assert!(list[0]["mayDo"][0]
        .as_str()
        .unwrap()
        .starts_with("Sign messages and transactions with your PKP 0x1"));

    let out = cli.run(&["sessions", "revoke", "--origin", origin], "");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("stay valid at the Lit nodes until they expire"));
    assert_eq!(cli.accounts(), vec![format!("wallet:{wallet}")]);
    assert!(cli
        .ok(&["sessions", "list"], "")
        .as_array()
        .unwrap()
        .is_empty());

    let out = cli.run(&["wallet", "export", &wallet], "");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), WALLET_KEY);
    let removed = cli.ok(&["wallet", "remove", &wallet], "");
    assert_eq!(removed["removed"], wallet.as_str());
    assert!(cli.accounts().is_empty());
}

#[test]
fn killing_the_process_mid_write_never_corrupts_or_orphans() {
    let keyring = PrivateKeyring::start();
    let cli = Cli::new(&keyring, "crash");
    let wallet = cli.ok(&["wallet", "new"], "")["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let metadata = keyring.data_dir().join("metadata.json");
    // How long one signing run takes here: kills are spread from before it starts to just after.
    let started = Instant::now();
    let (out, _) = cli.sign(
        &wallet,
        "https://warmup.example",
        &format!("[{}]", pkp("0xfff")),
    );
    assert!(out.status.success());
    // The span then follows the machine's pace: a run that finished shortens it, a run that was
    // cut short lengthens it, settling at about two kills mid-way for every finished run however
    // loaded the machine is.
    let mut span_us = (started.elapsed().as_micros() as u64 * 5 / 2).max(1000);
    let (mut killed_mid_way, mut finished) = (0, 0);
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for i in 0..200 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let origin = format!("https://app{}.example", i % 5);
        let args = Cli::sign_args(&wallet, &origin);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = cli
            .command(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let request = format!("[{}]", pkp(&format!("0x{:x}", i + 1)));
        let _ = child.stdin.take().unwrap().write_all(request.as_bytes());
        std::thread::sleep(Duration::from_micros(seed % span_us));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        if status.success() {
            finished += 1;
            span_us = (span_us * 9 / 10).max(1000);
        } else {
            killed_mid_way += 1;
            span_us = span_us * 21 / 20;
        }

        // Whatever was interrupted: the metadata parses, and after the next open (which
        // repairs) the keychain holds exactly the wallet and the live sessions' keys.
        let text = std::fs::read_to_string(&metadata).unwrap();
        serde_json::from_str::<serde_json::Value>(&text)
            .unwrap_or_else(|e| panic!("iteration {i}: {e}\n{text}"));
        let live = cli.ok(&["sessions", "list"], "");
        let mut expected: Vec<String> = live
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["state"] == "live")
            .map(|s| format!("session:{}", s["sessionKey"].as_str().unwrap()))
            .collect();
        expected.push(format!("wallet:{wallet}"));
        expected.sort();
        // A transient D-Bus hiccup must not pass for an orphan or a loss: those persist.
        let mut seen = cli.accounts();
        for _ in 0..5 {
            if seen == expected {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
            seen = cli.accounts();
        }
        assert_eq!(seen, expected, "iteration {i}");
        assert!(
            live.as_array()
                .unwrap()
                .iter()
                .all(|s| s["state"] == "live"),
            "iteration {i}: no key lost"
        );
    }
    eprintln!("crash loop: {killed_mid_way} killed before finishing, {finished} finished");
    assert!(
        killed_mid_way >= 50,
        "the loop must really interrupt work ({killed_mid_way} kills)"
    );
    assert!(
        finished >= 10,
        "the loop must also let work complete ({finished} finished)"
    );
}

#[test]
fn no_secret_reaches_home_metadata_or_output() {
    let keyring = PrivateKeyring::start();
    let cli = Cli::new(&keyring, "scan");
    let imported = cli.ok(&["wallet", "import"], WALLET_KEY)["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = cli.ok(&["wallet", "new", "--label", "Spare"], "")["address"]
        .as_str()
        .unwrap()
        .to_owned();
    for (wallet, origin) in [
        (&imported, "https://a.example"),
        (&created, "https://b.example"),
        (&imported, "http://localhost:5173"),
    ] {
        let (out, entry) = cli.sign(wallet, origin, &format!("[{}]", pkp("0xabc")));
        assert!(entry.is_some(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    cli.ok(&["wallet", "list"], "");
    cli.ok(&["sessions", "list"], "");
    cli.run(&["sessions", "revoke", "--origin", "https://b.example"], "");

    let mut secrets: Vec<Vec<u8>> = Vec::new();
    for account in cli.accounts() {
        secrets.push(keyring.lookup(&cli.service, &account).unwrap());
    }
    assert_eq!(secrets.len(), 4, "two wallets and two live sessions");
    let mut needles: Vec<String> = Vec::new();
    for s in &secrets {
        use base64::Engine as _;
        let e = base64::engine::general_purpose::STANDARD;
        let u = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        needles.extend([
            hex::encode(s),
            hex::encode_upper(s),
            e.encode(s),
            u.encode(s),
        ]);
    }
    let mut haystacks: Vec<(String, Vec<u8>)> =
        vec![("command output".into(), cli.log.borrow().clone())];
    let mut stack = vec![keyring.root().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                haystacks.push((path.display().to_string(), bytes));
            }
        }
    }
    assert!(
        haystacks.len() > 3,
        "the scan must see the keyring and the metadata"
    );
    for (name, bytes) in &haystacks {
        let text = String::from_utf8_lossy(bytes);
        for needle in &needles {
            assert!(
                !text.contains(needle.as_str()),
                "a secret appears in {name}"
            );
        }
        for s in &secrets {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s.as_slice()),
                "raw secret bytes appear in {name}"
            );
        }
    }
}

#[test]
fn a_locked_keychain_is_a_typed_error_within_a_second() {
    let keyring = PrivateKeyring::start();
    let cli = Cli::new(&keyring, "locked");
    let wallet = cli.ok(&["wallet", "import"], WALLET_KEY)["address"]
        .as_str()
        .unwrap()
        .to_owned();
    keyring.lock();
    for args in [
        vec!["wallet", "new"],
        vec!["wallet", "export", wallet.as_str()],
    ] {
        let started = Instant::now();
        let out = cli.run(&args, "");
        let took = started.elapsed();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(4),
            "a keychain failure: {args:?}: {err}"
        );
        assert!(err.contains("keychain_locked"), "{args:?}: {err}");
        assert!(took < Duration::from_secs(1), "{args:?} took {took:?}");
    }
    let (out, entry) = cli.sign(
        &wallet,
        "https://app.example.com",
        &format!("[{}]", pkp("0x01")),
    );
    assert!(entry.is_none());
    assert!(String::from_utf8_lossy(&out.stderr).contains("keychain_locked"));
    let text = std::fs::read_to_string(keyring.data_dir().join("metadata.json")).unwrap();
    assert!(
        !text.contains("\"pending\""),
        "nothing half-made is left behind:\n{text}"
    );
}

#[test]
fn no_dbus_is_a_typed_error_within_a_second() {
    let keyring = PrivateKeyring::start();
    let cli = Cli::new(&keyring, "nobus");
    let started = Instant::now();
    let out = cli
        .command(&["wallet", "new"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(4),
        "a keychain failure, not bad input: {err}"
    );
    assert!(err.contains("keychain_unavailable"), "{err}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    let text =
        std::fs::read_to_string(keyring.data_dir().join("metadata.json")).unwrap_or_default();
    assert!(
        !text.contains("\"live\""),
        "no wallet may be recorded without its key:\n{text}"
    );
}

#[test]
fn a_pkp_is_added_listed_and_never_signed_for_here() {
    let keyring = PrivateKeyring::start();
    let cli = Cli::new(&keyring, "pkp");
    let wallet = cli.ok(&["wallet", "import", "--label", "Main"], WALLET_KEY)["address"]
        .as_str()
        .unwrap()
        .to_owned();
    // The generator point: its address is well known.
    let key = "0x0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798\
               483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";
    let added = cli.ok(
        &[
            "wallet",
            "add-pkp",
            key,
            "--auth",
            &wallet,
            "--label",
            "Vault PKP",
        ],
        "",
    );
    assert_eq!(
        added["address"],
        "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
    );
    assert_eq!(added["kind"], "pkp");
    assert_eq!(added["auth"], wallet.as_str());
    assert!(added["tokenId"].as_str().unwrap().starts_with("0x"));
    let list = cli.ok(&["wallet", "list"], "");
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["kind"] == "pkp")
        .unwrap();
    assert_eq!(listed["publicKey"], key);
    assert_eq!(listed["label"], "Vault PKP");
    // Nothing secret was stored for it.
    assert_eq!(cli.accounts(), vec![format!("wallet:{wallet}")]);
    // The companion never signs as a PKP itself: the network does.
    let (out, entry) = cli.sign(
        "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf",
        "https://app.example.com",
        &format!("[{}]", pkp("0x01")),
    );
    assert!(entry.is_none());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("the Lit network signs for it"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Bad input: one clear line, nothing added.
    for (args, says) in [
        (
            vec!["wallet", "add-pkp", "0x04abcd", "--auth", &wallet],
            "public key",
        ),
        (
            vec![
                "wallet",
                "add-pkp",
                key,
                "--auth",
                "0x0000000000000000000000000000000000000001",
            ],
            "no wallet",
        ),
    ] {
        let out = cli.run(&args, "");
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}"
        );
    }
    assert_eq!(cli.ok(&["wallet", "list"], "").as_array().unwrap().len(), 2);
}
