//! What the command's tests share: `lit-companion serve` started in a private keyring.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Stdio},
};

use lit_companion_testkit::PrivateKeyring;

/// The binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_lit-companion");

/// `serve` on a free loopback port, approving by `policy`, its keys under `service`, its socket
/// named `socket` in the keyring's root: the child and the URL it printed.
pub(crate) fn start_serve(
    keyring: &PrivateKeyring,
    service: &str,
    policy: &Path,
    socket: &str,
) -> (Child, String) {
    let mut child = keyring
        .command(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--approve"])
        .arg(policy)
        .args(["--rate-limit", "100000", "--burst", "100000"])
        .env("LIT_COMPANION_KEYCHAIN_SERVICE", service)
        .env("LIT_COMPANION_SOCKET", keyring.root().join(socket))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    (child, url)
}
