//! The desktop companion: the engine with its prompt queue, the roads in, the user's settings
//! applied to them, the tray icon, and the window, which is a separate program started when it is
//! needed and spoken to over the control road ([`control`]).
//!
//! Two processes, so that a companion idling all day costs little: this one (the `lit-companion`
//! command's `tray`, no GTK or WebKit loaded) holds the keys, serves every road and owns the
//! prompts; the window (`lit-companion-app`, Tauri and WebKit) runs only while it is open, and
//! asks this one for everything it shows ([`commands`]).

pub mod commands;
pub mod control;
#[cfg(test)]
mod tests;
pub mod tray;
pub mod window;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
    time::Duration,
};

use lit_companion_bridge::{
    ratelimit::RateLimit, socket::DeepLinks, Engine, EngineSettings, PromptQueue,
};
use lit_companion_platform::autostart::LoginItem;
use lit_companion_vault::{paths::default_data_dir, OsKeychain, Vault};
use time::OffsetDateTime;

use crate::{
    apply,
    login::{self, AtStart},
    AppSettings, Companion, CompanionBuilder, SettingsError, SettingsFile, Setup,
};

/// The loopback HTTP port dapps find the companion on (`LIT_COMPANION_HTTP_PORT` overrides it,
/// e.g. for a second instance under test).
pub const HTTP_PORT: u16 = 41410;

/// Everything the commands reach.
pub struct Desktop {
    /// The vault.
    pub vault: Arc<Vault>,
    /// The engine.
    pub engine: Arc<Engine>,
    /// The questions waiting for the user.
    pub prompts: Arc<PromptQueue>,
    /// How deep links are answered.
    pub links: Arc<DeepLinks>,
    /// The data directory's settings file.
    pub settings_file: SettingsFile,
    settings: Mutex<AppSettings>,
    /// Why the stored settings could not be read (the defaults are in use, the file is kept).
    settings_problem: Mutex<Option<String>>,
    /// The running roads (each says where it listens, or why it could not) and the maintenance
    /// tick, once started.
    pub companion: tokio::sync::Mutex<Option<Companion>>,
}

impl std::fmt::Debug for Desktop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desktop")
            .field("settings_file", &self.settings_file)
            .finish_non_exhaustive()
    }
}

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

impl Desktop {
    /// Opens the vault and builds the engine; `on_prompt` runs whenever the prompt queue
    /// changes. The roads start when the returned builder is started (on the async runtime).
    pub fn open(
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
        let desktop = Self {
            vault: assembled.vault,
            engine: assembled.engine,
            prompts,
            links: builder.deep_links(),
            settings_file: assembled.settings_file,
            settings: Mutex::new(assembled.settings),
            settings_problem: Mutex::new(assembled.settings_problem.map(|e| e.to_string())),
            companion: tokio::sync::Mutex::new(None),
        };
        Ok((desktop, builder))
    }

    /// Validates, stores and applies new settings (the Settings screen's whole form). Starting
    /// at login has its own switch: the stored choice stands over the form's copy.
    pub fn save_settings(&self, mut settings: AppSettings) -> Result<(), String> {
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
    pub fn update_settings(
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

    /// The stored settings (another process, `lit-companion network add`, may have changed
    /// them), or the last good ones when the file does not load.
    pub fn settings(&self) -> AppSettings {
        if let Ok(fresh) = self.settings_file.load() {
            if let Ok(mut s) = self.settings.lock() {
                *s = fresh;
            }
        }
        self.settings.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Why the stored settings could not be read, while the defaults are in force.
    pub fn settings_problem(&self) -> Option<String> {
        self.settings_problem.lock().ok().and_then(|p| p.clone())
    }

    /// Pauses or resumes the bridge and remembers it.
    pub fn set_paused(&self, paused: bool) -> Result<(), String> {
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

/// The program a login entry starts: the window's program (`lit-companion-app --hidden`, which
/// hands over to this one at once, [`window::program`]), or, run from an AppImage (which mounts
/// the programs in a temporary folder while it runs), the AppImage itself.
pub fn login_program() -> Result<PathBuf, String> {
    #[cfg(target_os = "linux")]
    {
        let exe = std::env::current_exe()
            .map_err(|e| format!("this program's path is not known: {e}"))?;
        if exe.starts_with(std::env::temp_dir()) && exe.to_string_lossy().contains("/.mount_") {
            if let Some(image) = std::env::var_os("APPIMAGE")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute() && p.is_file())
            {
                return Ok(image);
            }
        }
    }
    window::program()
}

/// What the app does about starting at login as it starts ([`login::at_start`]), said in the log.
pub fn login_at_start(file: &SettingsFile) {
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
pub fn home() -> Option<PathBuf> {
    lit_companion_native_host::install::user_home()
}

/// Writes the browser host's manifest for every browser installed here (its profile folder
/// exists or its program is installed), and for no other; returns the files written.
pub fn install_browser_host(home: &std::path::Path) -> Result<Vec<String>, String> {
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
pub fn host_binary() -> Result<PathBuf, String> {
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

/// Why the desktop companion did not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// Another desktop companion of this user holds the control road (its window was asked
    /// for, when wanted).
    #[error("Lit Companion is already running")]
    AlreadyRunning,
    /// It could not start.
    #[error("Lit Companion could not start: {0}")]
    Start(String),
}

/// Runs the desktop companion until "Quit" (or a termination signal): the roads, the tray icon,
/// the control road, and the window when wanted (at once unless `hidden`, which is how it starts
/// at login).
pub async fn run(hidden: bool) -> Result<(), RunError> {
    use lit_companion_bridge::socket;
    use window::{Open, WindowHost};

    let window_host = Arc::new(WindowHost::default());
    // The control road first: holding it is what makes this the one desktop companion.
    let control_path = lit_companion_platform::endpoint::control_socket_path();
    let listener = match socket::bind(&control_path).await {
        Ok(l) => l,
        Err(socket::SocketError::InUse(_) | socket::SocketError::Held(_)) => {
            if !hidden {
                window_host.open(Open::Focused); // it connects to the one running
            }
            return Err(RunError::AlreadyRunning);
        }
        Err(e) => return Err(RunError::Start(format!("{}: {e}", control_path.display()))),
    };

    let (quit_tx, mut quit_rx) = tokio::sync::watch::channel(false);
    let tray: Arc<std::sync::OnceLock<tray::Tray>> = Arc::new(std::sync::OnceLock::new());
    let desktop_cell: Arc<std::sync::OnceLock<std::sync::Weak<Desktop>>> =
        Arc::new(std::sync::OnceLock::new());
    // Called from the tray's own D-Bus thread too (its menu), which is outside this runtime.
    let runtime = tokio::runtime::Handle::current();
    let refresh_tray = {
        let (tray, desktop_cell) = (tray.clone(), desktop_cell.clone());
        move || {
            let Some(desktop) = desktop_cell.get().and_then(std::sync::Weak::upgrade) else {
                return;
            };
            let state = tray::TrayState::of(&desktop);
            let tray = tray.clone();
            runtime.spawn(async move {
                if let Some(t) = tray.get() {
                    t.update(state).await;
                }
            });
        }
    };
    let on_prompt = {
        let (window_host, desktop_cell, refresh_tray) = (
            window_host.clone(),
            desktop_cell.clone(),
            refresh_tray.clone(),
        );
        move || {
            window_host.notify("prompts-changed");
            refresh_tray();
            // A waiting question brings the window (started for it if need be); an answered
            // one does not.
            let waiting = desktop_cell
                .get()
                .and_then(std::sync::Weak::upgrade)
                .is_some_and(|d| !d.prompts.pending().is_empty());
            if waiting {
                window_host.open(Open::ForPrompt);
            }
        }
    };
    let (desktop, builder) = Desktop::open(on_prompt).map_err(RunError::Start)?;
    let desktop = Arc::new(desktop);
    let _ = desktop_cell.set(Arc::downgrade(&desktop));

    // Starting at login, hidden in the tray: turned on by the first run, an entry left by a
    // moved app repaired (crates/runtime/src/login.rs decides).
    let settings_file = desktop.settings_file.clone();
    tokio::task::spawn_blocking(move || login_at_start(&settings_file));

    *desktop.companion.lock().await = Some(builder.start().await);

    struct Actions {
        desktop: std::sync::Weak<Desktop>,
        window: Arc<WindowHost>,
        quit: tokio::sync::watch::Sender<bool>,
        refresh: Box<dyn Fn() + Send + Sync>,
    }
    impl tray::TrayActions for Actions {
        fn open(&self) {
            self.window.open(Open::Focused);
        }
        fn toggle_pause(&self) {
            if let Some(d) = self.desktop.upgrade() {
                if let Err(e) = d.set_paused(!d.engine.is_paused()) {
                    tracing::error!("could not save the pause: {e}");
                }
            }
            self.window.notify("status-changed");
            (self.refresh)();
        }
        fn quit(&self) {
            let _ = self.quit.send(true);
        }
    }
    let actions = Arc::new(Actions {
        desktop: Arc::downgrade(&desktop),
        window: window_host.clone(),
        quit: quit_tx.clone(),
        refresh: Box::new(refresh_tray.clone()),
    });
    match tray::Tray::show(actions, tray::TrayState::of(&desktop)).await {
        Ok(t) => {
            let _ = tray.set(t);
        }
        Err(e) => tracing::warn!("no tray icon: {e}"),
    }

    let control = Arc::new(control::Control {
        desktop: desktop.clone(),
        window: window_host.clone(),
        status_changed: Box::new(refresh_tray),
        quit: Box::new(move || {
            let _ = quit_tx.send(true);
        }),
    });
    let serving = tokio::spawn(control::serve(listener, control));
    if !hidden {
        window_host.open(Open::Focused);
    }

    tokio::select! {
        _ = quit_rx.wait_for(|q| *q) => {}
        _ = termination() => {}
    }
    serving.abort();
    window_host.close();
    let _ = std::fs::remove_file(&control_path);
    // Quitting writes the last reuse counts and drops the keys held in memory.
    if let Some(c) = desktop.companion.lock().await.take() {
        c.shutdown().await;
    }
    Ok(())
}

/// Ctrl-C, or (Unix) SIGTERM: the session ending.
async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
