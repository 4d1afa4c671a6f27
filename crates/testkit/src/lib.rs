//! A private, real Secret Service for tests: its own D-Bus session bus (`dbus-daemon`), its own
//! `gnome-keyring-daemon` with a "login" keyring created and unlocked with a throwaway password,
//! and its own throwaway HOME. Items are checked independently of our code with `secret-tool`.
//!
//! Needs the Debian packages `dbus`, `gnome-keyring` and `libsecret-tools` (`scripts/setup`).
//!
//! For tests about the vault's decisions rather than the OS store, [`MemoryKeychain`] keeps
//! items in memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    reason = "test support: a broken setup must stop the test loudly"
)]

use std::{
    ffi::OsString,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
};

mod memory;
pub use memory::MemoryKeychain;

/// A running private keyring. Stops (and removes its HOME) on drop.
#[derive(Debug)]
pub struct PrivateKeyring {
    root: PathBuf,
    bus_address: String,
    bus_pid: u32,
    /// The gnome-keyring-daemon this keyring unlocked.
    daemon_pid: std::sync::Mutex<Option<u32>>,
}

const PASSWORD: &[u8] = b"throwaway-test-password";

impl PrivateKeyring {
    /// Starts a bus and an unlocked keyring.
    pub fn start() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let root = std::env::temp_dir().join(format!(
            "lit-companion-keyring-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&root);
        for sub in ["home", "run", "data"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root.join("run"), std::fs::Permissions::from_mode(0o700))
                .unwrap();
        }
        let out = Command::new("dbus-daemon")
            .args(["--session", "--fork", "--print-address=1", "--print-pid=1"])
            .env("HOME", root.join("home"))
            .env("XDG_RUNTIME_DIR", root.join("run"))
            .stderr(Stdio::null())
            .output()
            .expect("dbus-daemon is not installed (apt-get install dbus; see scripts/setup)");
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        let bus_address = lines
            .next()
            .expect("dbus-daemon printed no address")
            .to_owned();
        let bus_pid = lines
            .next()
            .and_then(|p| p.trim().parse().ok())
            .expect("dbus-daemon printed no pid");
        // A keyring held in a `static` is never dropped: a watchdog stops the bus (and with it
        // gnome-keyring) and removes the files once this test process is gone.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill {bus_pid} 2>/dev/null; rm -rf '{}'",
                root.display(),
                me = std::process::id()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let keyring = Self {
            root,
            bus_address,
            bus_pid,
            daemon_pid: std::sync::Mutex::new(None),
        };
        keyring.start_daemon(false);
        keyring
    }

    /// Starts (or replaces) gnome-keyring-daemon, unlocks the login keyring with the
    /// throwaway password, waits until it answers, and notes its pid.
    fn start_daemon(&self, replace: bool) {
        let mut args = vec!["--unlock", "--components=secrets", "--daemonize"];
        if replace {
            args.push("--replace");
        }
        let mut child = self
            .command("gnome-keyring-daemon")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon is not installed (apt-get install gnome-keyring; see scripts/setup)");
        child.stdin.take().unwrap().write_all(PASSWORD).unwrap();
        assert!(
            child.wait().unwrap().success(),
            "gnome-keyring-daemon did not start"
        );
        // Wait until the Secret Service answers.
        for _ in 0..100 {
            let ok = self
                .command("secret-tool")
                .args(["search", "probe", "ready"])
                .output()
                .map(|o| o.status.code().is_some());
            if ok.unwrap_or(false) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        *self.daemon_pid.lock().unwrap() = self.secrets_owner();
    }

    /// The pid owning `org.freedesktop.secrets` on this bus (asking does not start one).
    fn secrets_owner(&self) -> Option<u32> {
        let out = self
            .command("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.GetConnectionUnixProcessID",
                "string:org.freedesktop.secrets",
            ])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .last()?
            .parse()
            .ok()
    }

    /// gnome-keyring-daemon has been seen to die when a client is SIGKILLed in the middle of a
    /// call (the crash test does exactly that); D-Bus then starts a fresh daemon whose keyring is
    /// locked, and every item looks gone. That is the daemon's failure, not the code under
    /// test: it is said loudly and the same keyring file is unlocked again, so that what the
    /// test checks is still what was stored.
    fn ensure_daemon(&self) {
        let expected = *self.daemon_pid.lock().unwrap();
        let now = self.secrets_owner();
        if now.is_some() && now == expected {
            return;
        }
        eprintln!(
            "testkit: gnome-keyring-daemon (pid {expected:?}) is gone (owner now {now:?}); \
             unlocking the same keyring file in a new daemon"
        );
        if let Some(pid) = now {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        self.start_daemon(true);
    }

    /// The environment a process needs to reach this keyring (and nothing of the real user's).
    pub fn env(&self) -> Vec<(&'static str, OsString)> {
        vec![
            ("HOME", self.root.join("home").into()),
            ("XDG_RUNTIME_DIR", self.root.join("run").into()),
            ("XDG_DATA_HOME", self.root.join("home/.local/share").into()),
            ("DBUS_SESSION_BUS_ADDRESS", self.bus_address.clone().into()),
            ("LIT_COMPANION_DATA_DIR", self.data_dir().into()),
        ]
    }

    /// A command running against this keyring.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c
    }

    /// Points this process at the keyring (for in-process tests; call before any keychain use).
    pub fn enter(&self) {
        for (k, v) in self.env() {
            // Tests call this once, first thing, before any other thread reads the environment.
            std::env::set_var(k, v);
        }
    }

    /// The throwaway HOME.
    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    /// The companion's data directory inside it.
    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// The root of everything this keyring wrote.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The `username` attributes of every item of `service`, as secret-tool sees them. A
    /// failing secret-tool run is retried, then reported with what it said.
    pub fn accounts(&self, service: &str) -> Vec<String> {
        self.ensure_daemon();
        let mut last = String::new();
        for attempt in 0..5 {
            if attempt > 0 {
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            let out = self
                .command("secret-tool")
                .args(["search", "--all", "service", service])
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            // secret-tool exits 1 with no output when nothing matches.
            let nothing =
                out.status.code() == Some(1) && stdout.is_empty() && stderr.trim().is_empty();
            if out.status.success() || nothing {
                let mut accounts: Vec<String> = (stdout + &stderr)
                    .lines()
                    .filter_map(|l| l.strip_prefix("attribute.username = "))
                    .map(str::to_owned)
                    .collect();
                accounts.sort();
                return accounts;
            }
            last = format!("exit {:?}: {stderr}", out.status.code());
        }
        panic!("secret-tool search failed: {last}");
    }

    /// The secret of one item, as secret-tool sees it.
    pub fn lookup(&self, service: &str, account: &str) -> Option<Vec<u8>> {
        self.ensure_daemon();
        let out = self
            .command("secret-tool")
            .args(["lookup", "service", service, "username", account])
            .output()
            .unwrap();
        (out.status.success() && !out.stdout.is_empty()).then_some(out.stdout)
    }

    /// Deletes one item behind our back.
    pub fn clear(&self, service: &str, account: &str) {
        let ok = self
            .command("secret-tool")
            .args(["clear", "service", service, "username", account])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Locks the login keyring (Secret Service `Lock`, as a session lock would).
    pub fn lock(&self) {
        let ok = self
            .command("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--reply-timeout=5000",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/collection/login",
            ])
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(ok.success(), "locking the keyring failed");
    }
}

impl Drop for PrivateKeyring {
    fn drop(&mut self) {
        // gnome-keyring-daemon exits with its bus.
        let _ = Command::new("kill").arg(self.bus_pid.to_string()).status();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// A keychain service name unique to one test, so tests sharing a keyring never see each
/// other's items.
pub fn unique_service(test: &str) -> String {
    format!("lit-companion-test-{test}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_daemon_that_dies_is_replaced_and_the_same_items_are_seen() {
        let k = PrivateKeyring::start();
        let mut store = k
            .command("secret-tool")
            .args([
                "store", "--label", "probe", "service", "svc", "username", "u1",
            ])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        store.stdin.take().unwrap().write_all(b"s3cret").unwrap();
        assert!(store.wait().unwrap().success());
        assert_eq!(k.accounts("svc"), ["u1"]);

        let first = k
            .secrets_owner()
            .expect("the daemon owns the Secret Service name");
        let _ = Command::new("kill")
            .args(["-9", &first.to_string()])
            .status();
        for _ in 0..100 {
            if k.secrets_owner() != Some(first) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(
            k.accounts("svc"),
            ["u1"],
            "the same keyring file, unlocked again"
        );
        assert_eq!(k.lookup("svc", "u1").as_deref(), Some(&b"s3cret"[..]));
        assert_ne!(k.secrets_owner(), Some(first));
    }
}
