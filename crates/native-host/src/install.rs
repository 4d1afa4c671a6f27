//! Host manifests: where each browser looks for them, writing and removing them, and a doctor
//! that says in one line each what is wrong.
//!
//! Chromium-family browsers read `allowed_origins` (`chrome-extension://<id>/`), Firefox reads
//! `allowed_extensions` (add-on ids); both only start hosts whose manifest names the calling
//! extension. Per-user locations are the ones each browser documents for Linux and macOS.
//! On Windows a browser finds the manifest through the registry: the default value of
//! `HKCU\Software\<vendor>\NativeMessagingHosts\<host name>` is the manifest's path. There the
//! manifests live under `%LOCALAPPDATA%\lit-companion\NativeMessagingHosts\<browser>`, and
//! [`install`] / [`uninstall`] write and remove the registry value with the file (the Windows
//! installer runs `lit-companion install-browser-host`, so both take this one path).

use std::{
    fmt,
    path::{Path, PathBuf},
};

use serde_json::{json, Value};

use lit_companion_platform::endpoint::{connect, default_socket_path, ConnectError};

/// The host's registered name.
pub const HOST_NAME: &str = "app.litcompanion.host";
/// Our Chromium extension id (from the public key in `extension/key.pub.b64`).
pub const CHROMIUM_EXTENSION_ID: &str = "ilaebllfbkgdbaeahkmhkdhchcamhekg";
/// Our Firefox add-on id.
pub const FIREFOX_EXTENSION_ID: &str = "companion@litcompanion.app";

/// A browser family member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Browser {
    /// Chromium.
    Chromium,
    /// Google Chrome.
    Chrome,
    /// Brave.
    Brave,
    /// Microsoft Edge.
    Edge,
    /// Firefox.
    Firefox,
}

impl Browser {
    /// Every browser.
    pub const ALL: [Browser; 5] = [
        Self::Chromium,
        Self::Chrome,
        Self::Brave,
        Self::Edge,
        Self::Firefox,
    ];

    /// Its name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Chromium => "chromium",
            Self::Chrome => "chrome",
            Self::Brave => "brave",
            Self::Edge => "edge",
            Self::Firefox => "firefox",
        }
    }

    /// Its name for people.
    pub fn title(self) -> &'static str {
        match self {
            Self::Chromium => "Chromium",
            Self::Chrome => "Google Chrome",
            Self::Brave => "Brave",
            Self::Edge => "Microsoft Edge",
            Self::Firefox => "Firefox",
        }
    }

    /// Parses a command-line name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The per-user directory holding host manifests.
    pub fn manifest_dir(self, home: &Path) -> PathBuf {
        if cfg!(windows) {
            return home
                .join(r"AppData\Local\lit-companion\NativeMessagingHosts")
                .join(self.name());
        }
        let mac = cfg!(target_os = "macos");
        let rel = match (self, mac) {
            (Self::Chromium, false) => ".config/chromium/NativeMessagingHosts",
            (Self::Chrome, false) => ".config/google-chrome/NativeMessagingHosts",
            (Self::Brave, false) => ".config/BraveSoftware/Brave-Browser/NativeMessagingHosts",
            (Self::Edge, false) => ".config/microsoft-edge/NativeMessagingHosts",
            (Self::Firefox, false) => ".mozilla/native-messaging-hosts",
            (Self::Chromium, true) => "Library/Application Support/Chromium/NativeMessagingHosts",
            (Self::Chrome, true) => {
                "Library/Application Support/Google/Chrome/NativeMessagingHosts"
            }
            (Self::Brave, true) => {
                "Library/Application Support/BraveSoftware/Brave-Browser/NativeMessagingHosts"
            }
            (Self::Edge, true) => "Library/Application Support/Microsoft Edge/NativeMessagingHosts",
            (Self::Firefox, true) => "Library/Application Support/Mozilla/NativeMessagingHosts",
        };
        home.join(rel)
    }

    /// The system-wide folders this browser also reads host manifests from, after the user's
    /// own (Linux and macOS; on Windows the machine's registry keys, which we never write).
    /// The Linux packages put theirs here (`tauri.conf.json`); Brave documents none of its own.
    pub fn system_manifest_dirs(self) -> &'static [&'static str] {
        if cfg!(windows) {
            return &[];
        }
        let mac = cfg!(target_os = "macos");
        match (self, mac) {
            (Self::Chromium, false) => &["/etc/chromium/native-messaging-hosts"],
            (Self::Chrome, false) => &["/etc/opt/chrome/native-messaging-hosts"],
            (Self::Edge, false) => &["/etc/opt/edge/native-messaging-hosts"],
            (Self::Firefox, false) => &[
                "/usr/lib/mozilla/native-messaging-hosts",
                "/usr/lib64/mozilla/native-messaging-hosts",
            ],
            (Self::Chromium, true) => {
                &["/Library/Application Support/Chromium/NativeMessagingHosts"]
            }
            (Self::Chrome, true) => &["/Library/Google/Chrome/NativeMessagingHosts"],
            (Self::Edge, true) => &["/Library/Microsoft/Edge/NativeMessagingHosts"],
            (Self::Firefox, true) => &["/Library/Application Support/Mozilla/NativeMessagingHosts"],
            (Self::Brave, _) => &[],
        }
    }

    /// The manifest key naming the extensions allowed to start the host: Firefox's
    /// `allowed_extensions` (add-on ids), the Chromium family's `allowed_origins`
    /// (`chrome-extension://<id>/`).
    pub fn allowed_key(self) -> &'static str {
        if self == Self::Firefox {
            "allowed_extensions"
        } else {
            "allowed_origins"
        }
    }

    /// The registry key (under `HKEY_CURRENT_USER`) whose default value names the manifest, as
    /// each browser documents it for Windows. Brave reads Chrome's key too; it has its own.
    pub fn registry_key(self) -> &'static str {
        match self {
            Self::Chromium => r"Software\Chromium\NativeMessagingHosts\app.litcompanion.host",
            Self::Chrome => r"Software\Google\Chrome\NativeMessagingHosts\app.litcompanion.host",
            Self::Brave => {
                r"Software\BraveSoftware\Brave-Browser\NativeMessagingHosts\app.litcompanion.host"
            }
            Self::Edge => r"Software\Microsoft\Edge\NativeMessagingHosts\app.litcompanion.host",
            Self::Firefox => r"Software\Mozilla\NativeMessagingHosts\app.litcompanion.host",
        }
    }

    /// Windows: the browser's profile root under the user's folder (`AppData\Local\…\User Data`
    /// for the Chromium family, `AppData\Roaming\Mozilla\Firefox`), and the program name it
    /// registers under `App Paths` (Chromium registers none: its `chrome.exe` would be Chrome's).
    fn windows_presence(self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Chromium => (r"AppData\Local\Chromium\User Data", None),
            Self::Chrome => (r"AppData\Local\Google\Chrome\User Data", Some("chrome.exe")),
            Self::Brave => (
                r"AppData\Local\BraveSoftware\Brave-Browser\User Data",
                Some("brave.exe"),
            ),
            Self::Edge => (
                r"AppData\Local\Microsoft\Edge\User Data",
                Some("msedge.exe"),
            ),
            Self::Firefox => (r"AppData\Roaming\Mozilla\Firefox", Some("firefox.exe")),
        }
    }

    /// The programs that start this browser: names looked up on `PATH` (Linux), app bundles in
    /// `/Applications` or `~/Applications` (macOS).
    fn programs(self) -> &'static [&'static str] {
        let mac = cfg!(target_os = "macos");
        match (self, mac) {
            (Self::Chromium, false) => &["chromium", "chromium-browser"],
            (Self::Chrome, false) => &["google-chrome", "google-chrome-stable"],
            (Self::Brave, false) => &["brave-browser", "brave"],
            (Self::Edge, false) => &["microsoft-edge", "microsoft-edge-stable"],
            (Self::Firefox, false) => &["firefox", "firefox-esr"],
            (Self::Chromium, true) => &["Chromium.app"],
            (Self::Chrome, true) => &["Google Chrome.app"],
            (Self::Brave, true) => &["Brave Browser.app"],
            (Self::Edge, true) => &["Microsoft Edge.app"],
            (Self::Firefox, true) => &["Firefox.app"],
        }
    }

    /// Whether this browser is on this machine: its profile root (the manifest folder's parent)
    /// exists under `home`, or its program is installed. On Windows: its profile root exists, or
    /// its installer registered its program under `App Paths` (for this user or the machine).
    pub fn is_installed(self, home: &Path) -> bool {
        if cfg!(windows) {
            let (profile, program) = self.windows_presence();
            return home.join(profile).exists() || program.is_some_and(app_path_registered);
        }
        if self.manifest_dir(home).parent().is_some_and(Path::exists) {
            return true;
        }
        let places: Vec<PathBuf> = if cfg!(target_os = "macos") {
            vec![PathBuf::from("/Applications"), home.join("Applications")]
        } else {
            std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default()
        };
        self.programs()
            .iter()
            .any(|name| places.iter().any(|dir| dir.join(name).exists()))
    }

    /// The manifest for this browser.
    pub fn manifest(self, host_path: &Path, extension_ids: &[String]) -> Value {
        let mut m = json!({
            "name": HOST_NAME,
            "description": "Lit Companion: Lit session signatures for web pages",
            "path": host_path.display().to_string(),
            "type": "stdio",
        });
        if self == Self::Firefox {
            m["allowed_extensions"] = json!(extension_ids);
        } else {
            let origins: Vec<String> = extension_ids
                .iter()
                .map(|id| format!("chrome-extension://{id}/"))
                .collect();
            m["allowed_origins"] = json!(origins);
        }
        m
    }

    /// Our extension id for this browser.
    pub fn default_extension_id(self) -> &'static str {
        if self == Self::Firefox {
            FIREFOX_EXTENSION_ID
        } else {
            CHROMIUM_EXTENSION_ID
        }
    }
}

impl fmt::Display for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where one manifest goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The browser.
    pub browser: Browser,
    /// The manifest's directory.
    pub dir: PathBuf,
    /// Whether the browser is on this machine ([`Browser::is_installed`]), or was named: the
    /// doctor reports a missing manifest only for those.
    pub present: bool,
    /// Whether `dir` is the user's own folder, so that the browser's system-wide folders count
    /// too (a profile's folder stands alone).
    in_home: bool,
}

impl Target {
    /// The browser's per-user folder under `home`, the one [`install`] writes.
    pub fn in_home(browser: Browser, home: &Path) -> Self {
        Self {
            browser,
            dir: browser.manifest_dir(home),
            present: browser.is_installed(home),
            in_home: true,
        }
    }

    /// The `NativeMessagingHosts` folder of one Chromium-family profile (its `--user-data-dir`).
    /// Firefox reads no manifest from a profile, so none goes there.
    pub fn in_profile(browser: Browser, profile: &Path) -> Result<Self, TargetError> {
        if browser == Browser::Firefox {
            return Err(TargetError::FirefoxReadsNoProfile {
                profile: profile.to_owned(),
            });
        }
        Ok(Self {
            browser,
            dir: profile.join("NativeMessagingHosts"),
            present: true,
            in_home: false,
        })
    }

    /// The same place, reported by the doctor even when the browser is not found here (the
    /// user named it).
    pub fn named(self) -> Self {
        Self {
            present: true,
            ..self
        }
    }

    /// The manifest file.
    pub fn file(&self) -> PathBuf {
        self.dir.join(format!("{HOST_NAME}.json"))
    }

    /// The manifest the browser would read: ours in `dir`, else (for the user's folder) the first
    /// system-wide one. `None` when there is none.
    pub fn found(&self) -> Option<PathBuf> {
        let own = self.file();
        if own.is_file() {
            return Some(own);
        }
        if !self.in_home {
            return None;
        }
        self.browser
            .system_manifest_dirs()
            .iter()
            .map(|d| Path::new(d).join(format!("{HOST_NAME}.json")))
            .find(|f| f.is_file())
    }
}

/// A manifest place that no browser would read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetError {
    /// Firefox reads host manifests from the user's folder (`~/.mozilla/native-messaging-hosts`
    /// on Linux), the system's, or (Windows) the registry, whatever the profile: a manifest in a
    /// profile's folder would never be read.
    FirefoxReadsNoProfile {
        /// The profile folder asked for.
        profile: PathBuf,
    },
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::FirefoxReadsNoProfile { profile } => write!(
                f,
                "Firefox never reads a host manifest from a profile folder ({})",
                profile.display()
            ),
        }
    }
}

impl std::error::Error for TargetError {}

/// The host binary installed beside the running program (`lit-companion-host`), as the
/// packages and `cargo build` lay them out.
pub fn host_beside_current_exe() -> std::io::Result<PathBuf> {
    Ok(std::env::current_exe()?.with_file_name(if cfg!(windows) {
        "lit-companion-host.exe"
    } else {
        "lit-companion-host"
    }))
}

/// The user's folder the browsers' profiles live under: `HOME`, and on Windows `USERPROFILE`
/// first (a `HOME` there may be a Unix-style path, as under Wine, or a tool's own setting).
pub fn user_home() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|h| !h.is_empty());
    let windows_home = if cfg!(windows) {
        var("USERPROFILE")
    } else {
        None
    };
    windows_home.or_else(|| var("HOME")).map(PathBuf::from)
}

/// Whether the host is set up for `target`: a manifest is where the browser reads it
/// ([`Target::found`]) and (Windows) the browser's registry key names it.
pub fn is_set_up(target: &Target) -> bool {
    target.found().is_some_and(|file| registered(target, &file))
}

/// One target per browser installed here ([`Browser::is_installed`]); every browser when
/// `only_present` is false.
pub fn targets_in_home(home: &Path, only_present: bool) -> Vec<Target> {
    Browser::ALL
        .into_iter()
        .map(|browser| Target::in_home(browser, home))
        .filter(|t| !only_present || t.present)
        .collect()
}

/// Whether an installer registered `program` under `App Paths` (Windows).
#[cfg(windows)]
fn app_path_registered(program: &str) -> bool {
    use lit_companion_platform::windows::registry::{key_exists, Hive};
    let key = format!(r"Software\Microsoft\Windows\CurrentVersion\App Paths\{program}");
    key_exists(Hive::CurrentUser, &key) || key_exists(Hive::LocalMachine, &key)
}

#[cfg(not(windows))]
fn app_path_registered(_program: &str) -> bool {
    false
}

/// Writes (or rewrites) a manifest; idempotent. Returns the file written. On Windows it also
/// points the browser's registry key at the file.
pub fn install(
    target: &Target,
    host_path: &Path,
    extension_ids: &[String],
) -> std::io::Result<PathBuf> {
    if !host_path.is_absolute() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the host path must be absolute",
        ));
    }
    std::fs::create_dir_all(&target.dir)?;
    let manifest = target.browser.manifest(host_path, extension_ids);
    let text = serde_json::to_string_pretty(&manifest).map_err(std::io::Error::other)?;
    let file = target.file();
    let tmp = target.dir.join(format!(".{HOST_NAME}.json.tmp"));
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, &file)?;
    #[cfg(windows)]
    lit_companion_platform::windows::registry::set_user_string(
        target.browser.registry_key(),
        None,
        &file.display().to_string(),
    )?;
    Ok(file)
}

/// Removes a manifest (and on Windows the browser's registry key for it, and the manifest's
/// folder once empty); removing a missing one is fine. Returns whether anything was removed.
pub fn uninstall(target: &Target) -> std::io::Result<bool> {
    let removed = match std::fs::remove_file(target.file()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    };
    #[cfg(windows)]
    let removed = {
        let key = lit_companion_platform::windows::registry::delete_user_tree(
            target.browser.registry_key(),
        )?;
        // Our own folders only (`…\lit-companion\NativeMessagingHosts\<browser>` and its two
        // parents); a folder still holding anything stays.
        let ours = target
            .dir
            .parent()
            .and_then(Path::parent)
            .is_some_and(|p| p.ends_with("lit-companion"));
        for dir in target.dir.ancestors().take(if ours { 3 } else { 0 }) {
            let _ = std::fs::remove_dir(dir);
        }
        removed || key
    };
    Ok(removed)
}

/// Windows: whether the browser's registry key names `file`. Elsewhere the file's place is
/// enough.
#[cfg(windows)]
fn registered(target: &Target, file: &Path) -> bool {
    use lit_companion_platform::windows::registry::{string, Hive};
    string(Hive::CurrentUser, target.browser.registry_key(), None)
        .ok()
        .flatten()
        .is_some_and(|named| Path::new(&named) == file)
}

#[cfg(not(windows))]
fn registered(_target: &Target, _file: &Path) -> bool {
    true
}

/// One finding of the doctor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Whether this is a problem.
    pub ok: bool,
    /// One line: what is right, or what is wrong and how to fix it.
    pub line: String,
}

/// Checks manifests, the host path, the socket and whether the companion answers on it.
///
/// For each browser present (or named), one line: the manifest it reads ([`Target::found`]: the
/// user's, else a system-wide one) is in place, runs an executable host and allows our extension
/// (`allowed_extensions` for Firefox, `allowed_origins` for the Chromium family); or what is
/// wrong, with the fix. A browser not here with no manifest is not mentioned.
pub fn doctor(targets: &[Target], extension_ids: &dyn Fn(Browser) -> Vec<String>) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut any_manifest = false;
    for t in targets {
        let fix = format!("lit-companion install-browser-host --browser {}", t.browser);
        let Some(file) = t.found() else {
            if t.present {
                out.push(Finding {
                    ok: false,
                    line: format!(
                        "{}: no host manifest where {} reads it ({}) — fix: {fix}",
                        t.browser,
                        t.browser.title(),
                        t.file().display()
                    ),
                });
            }
            continue;
        };
        any_manifest = true;
        let bad = |why: String| Finding {
            ok: false,
            line: format!("{}: {why} — fix: {fix}", file.display()),
        };
        let Ok(m) = std::fs::read_to_string(&file)
            .map_err(|_| ())
            .and_then(|text| serde_json::from_str::<Value>(&text).map_err(|_| ()))
        else {
            out.push(bad("the manifest is not JSON".into()));
            continue;
        };
        let path = m["path"].as_str().map(PathBuf::from).unwrap_or_default();
        if !is_executable(&path) {
            out.push(bad(format!(
                "the host {} is missing or not executable",
                path.display()
            )));
            continue;
        }
        let key = t.browser.allowed_key();
        let allowed: Vec<String> = m[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let ids = extension_ids(t.browser);
        let missing: Vec<&String> = ids
            .iter()
            .filter(|id| {
                !allowed
                    .iter()
                    .any(|a| a == *id || *a == format!("chrome-extension://{id}/"))
            })
            .collect();
        if !missing.is_empty() {
            out.push(bad(format!(
                "its {key} does not name the extension {}",
                missing[0]
            )));
            continue;
        }
        if !registered(t, &file) {
            out.push(bad(format!(
                "the registry key HKCU\\{} does not name this manifest",
                t.browser.registry_key()
            )));
            continue;
        }
        out.push(Finding {
            ok: true,
            line: format!(
                "{}: host manifest in place ({}), allowing {}",
                t.browser,
                file.display(),
                ids.join(", ")
            ),
        });
    }
    if !any_manifest && out.is_empty() {
        out.push(Finding {
            ok: false,
            line: "no browser has the host manifest — fix: lit-companion install-browser-host"
                .into(),
        });
    }
    let socket = default_socket_path();
    out.push(match connect(&socket) {
        Ok(_) => Finding {
            ok: true,
            line: format!("Lit Companion is running and listening on {}", socket.display()),
        },
        Err(ConnectError::NotRunning { .. }) => Finding {
            ok: false,
            line: format!("Lit Companion is not running (nothing on {}) — fix: start the app or `lit-companion serve`", socket.display()),
        },
        Err(e) => Finding {
            ok: false,
            line: format!("socket: {e} — fix: remove it, then restart Lit Companion"),
        },
    });
    out
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}
