//! What the app runs: the vault, the engine with its prompt queue, the roads in, and the
//! user's settings applied to them.

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use lit_companion_bridge::{
    ratelimit::RateLimit, socket::DeepLinks, Engine, EngineSettings, PromptQueue,
};
use lit_companion_platform::autostart::LoginItem;
use lit_companion_runtime::{
    apply,
    login::{self, AtStart},
    AppSettings, Companion, CompanionBuilder, SettingsError, SettingsFile, Setup,
};
use lit_companion_vault::{paths::default_data_dir, OsKeychain, Vault};
use time::OffsetDateTime;

/// The loopback HTTP port dapps find the companion on (`LIT_COMPANION_HTTP_PORT` overrides it,
/// e.g. for a second instance under test).
pub(crate) const HTTP_PORT: u16 = 41410;

/// Everything the commands reach.
pub(crate) struct Services {
    pub(crate) vault: Arc<Vault>,
    pub(crate) engine: Arc<Engine>,
    pub(crate) prompts: Arc<PromptQueue>,
    pub(crate) links: Arc<DeepLinks>,
    pub(crate) settings_file: SettingsFile,
    pub(crate) settings: Mutex<AppSettings>,
    /// Why the stored settings could not be read (the defaults are in use, the file is kept).
    pub(crate) settings_problem: Mutex<Option<String>>,
    /// The running roads (each says where it listens, or why it could not) and the maintenance
    /// tick, once started.
    pub(crate) companion: tokio::sync::Mutex<Option<Companion>>,
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl Services {
    /// Opens the vault and builds the engine; `on_prompt` runs whenever the prompt queue
    /// changes. The roads start when the returned builder is started (on the async runtime).
    pub(crate) fn open(
        on_prompt: impl Fn() + Send + Sync + 'static,
    ) -> Result<(Self, CompanionBuilder), String> {
        let data_dir = default_data_dir().ok_or("no data directory: HOME is not set")?;
        let prompts = Arc::new(PromptQueue::new(on_prompt));
        let assembled = Companion::assemble(Setup {
            data_dir,
            keychain: Arc::new(OsKeychain::from_env()),
            approver: prompts.clone(),
            node_timeout: Duration::from_secs(5),
            approval_timeout: EngineSettings::default().approval_timeout,
            http: Some((
                std::net::SocketAddr::from(([127, 0, 0, 1], http_port())),
                RateLimit::default(),
            )),
            socket: Some(lit_companion_platform::endpoint::default_socket_path()),
            opener: opener(),
        })
        .map_err(|e| e.to_string())?;
        if assembled.first_run {
            first_run_setup(&assembled.settings_file, &assembled.settings);
        }
        let builder = assembled.builder;
        let services = Self {
            vault: assembled.vault,
            engine: assembled.engine,
            prompts,
            links: builder.deep_links(),
            settings_file: assembled.settings_file,
            settings: Mutex::new(assembled.settings),
            settings_problem: Mutex::new(assembled.settings_problem.map(|e| e.to_string())),
            companion: tokio::sync::Mutex::new(None),
        };
        Ok((services, builder))
    }

    /// Validates, stores and applies new settings (the Settings screen's whole form). Starting
    /// at login has its own switch: the stored choice stands over the form's copy.
    pub(crate) fn save_settings(&self, mut settings: AppSettings) -> Result<(), String> {
        if let Ok(stored) = self.settings_file.load() {
            settings.start_at_login = stored.start_at_login;
        }
        self.settings_file
            .store(&settings)
            .map_err(|e| e.to_string())?;
        self.in_force(settings);
        Ok(())
    }

    /// Changes the stored settings under their lock (so that a change another process makes
    /// at the same time is kept) and applies the result.
    pub(crate) fn update_settings(
        &self,
        change: impl FnOnce(&mut AppSettings) -> Result<(), SettingsError>,
    ) -> Result<(), String> {
        let (settings, ()) = self
            .settings_file
            .update(change)
            .map_err(|e| e.to_string())?;
        self.in_force(settings);
        Ok(())
    }

    fn in_force(&self, settings: AppSettings) {
        apply(&self.engine, &settings);
        if let Ok(mut s) = self.settings.lock() {
            *s = settings;
        }
        if let Ok(mut p) = self.settings_problem.lock() {
            *p = None;
        }
    }

    /// The settings in force.
    /// The stored settings (another process, `lit-companion network add`, may have changed
    /// them), or the last good ones when the file does not load.
    pub(crate) fn settings(&self) -> AppSettings {
        if let Ok(fresh) = self.settings_file.load() {
            if let Ok(mut s) = self.settings.lock() {
                *s = fresh;
            }
        }
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Pauses or resumes the bridge and remembers it.
    pub(crate) fn set_paused(&self, paused: bool) -> Result<(), String> {
        self.update_settings(|s| {
            s.paused = paused;
            Ok(())
        })
    }
}

/// What a package's post-install cannot do for each user: the browser host's manifests in this
/// user's browser profiles (system-wide ones cover Chromium, Chrome, Edge and Firefox on Linux;
/// macOS, Brave and portable installs need these). Done once, on the first start; the settings
/// screen does it again on request.
fn first_run_setup(file: &SettingsFile, settings: &AppSettings) {
    if let Some(home) = home() {
        match install_browser_host(&home) {
            Ok(files) if files.is_empty() => {
                eprintln!("first run: no supported browser found; browser host not registered")
            }
            Ok(files) => {
                for f in files {
                    eprintln!("first run: browser host registered in {f}");
                }
            }
            Err(e) => eprintln!("first run: browser host not registered: {e}"),
        }
    }
    if let Err(e) = file.store(settings) {
        eprintln!("first run: settings not saved: {e}");
    }
}

/// The program a login entry starts: this one, or, run from an AppImage (which mounts the
/// program in a temporary folder while it runs), the AppImage itself.
pub(crate) fn login_program() -> Result<PathBuf, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("this program's path is not known: {e}"))?;
    #[cfg(target_os = "linux")]
    if exe.starts_with(std::env::temp_dir()) && exe.to_string_lossy().contains("/.mount_") {
        if let Some(image) = std::env::var_os("APPIMAGE")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute() && p.is_file())
        {
            return Ok(image);
        }
    }
    Ok(exe)
}

/// What the app does about starting at login as it starts ([`login::at_start`]), said in the log.
pub(crate) fn login_at_start(file: &SettingsFile) {
    let done = LoginItem::for_user()
        .map_err(|e| e.to_string())
        .and_then(|item| {
            let program = login_program()?;
            let done = login::at_start(file, &item, &program).map_err(|e| e.to_string())?;
            Ok((done, item.place()))
        });
    match done {
        Ok((AtStart::TurnedOn, place)) => {
            eprintln!("first run: Lit Companion starts in the tray at login ({place})")
        }
        Ok((AtStart::Repointed, place)) => {
            eprintln!("starting at login: {place} ran a program that is gone; it runs this one now")
        }
        Ok((AtStart::RemovedStale, place)) => {
            eprintln!("starting at login: removed {place}, which ran a program that is gone")
        }
        Ok(_) => {}
        Err(e) => eprintln!("starting at login: {e}"),
    }
}

fn http_port() -> u16 {
    std::env::var("LIT_COMPANION_HTTP_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(HTTP_PORT)
}

/// The program that opens a deep link's callback URL: the platform's opener, or the words of
/// `LIT_COMPANION_OPENER` (a test harness records the URL instead of launching a browser).
fn opener() -> Vec<String> {
    match std::env::var("LIT_COMPANION_OPENER") {
        Ok(words) if !words.trim().is_empty() => {
            words.split_whitespace().map(str::to_owned).collect()
        }
        _ => Vec::new(),
    }
}

/// The user's home directory (the browser host's rule: `USERPROFILE` first on Windows).
pub(crate) fn home() -> Option<PathBuf> {
    lit_companion_native_host::install::user_home()
}

/// Writes the browser host's manifest for every browser installed here (its profile folder
/// exists or its program is installed), and for no other; returns the files written.
pub(crate) fn install_browser_host(home: &std::path::Path) -> Result<Vec<String>, String> {
    use lit_companion_native_host::install;
    let host = host_binary()?;
    install::targets_in_home(home, true)
        .iter()
        .map(|t| {
            install::install(t, &host, &[t.browser.default_extension_id().to_owned()])
                .map(|f| f.display().to_string())
                .map_err(|e| format!("{}: {e}", t.dir.display()))
        })
        .collect()
}

/// The browser host binary shipped beside the app.
pub(crate) fn host_binary() -> Result<PathBuf, String> {
    let path =
        lit_companion_native_host::install::host_beside_current_exe().map_err(|e| e.to_string())?;
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "the browser host {} is missing: reinstall Lit Companion (or `cargo build -p lit-companion-native-host`)",
            path.display()
        ))
    }
}
