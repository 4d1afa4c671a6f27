//! The companion at run time, the same for the desktop app and for `lit-companion serve`:
//! which roads are open ([`Companion::builder`]), the maintenance tick (reuse counts written
//! about once a second, expired sessions swept every minute, the keychain watched so that
//! locking it drops the keys held in memory), an orderly shutdown, and the user's settings
//! ([`settings`]) put into force on the engine; and starting the desktop app at login ([`login`]).

pub mod assemble;
#[cfg(any(unix, windows))]
pub mod desktop;
pub mod executor;
pub mod login;
pub mod network_view;
pub mod settings;

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use lit_companion_bridge::{
    http::{self, HttpConfig, HttpState},
    ratelimit::RateLimit,
    Engine, Road,
};
use lit_companion_vault::Vault;
use time::OffsetDateTime;
use tokio::task::JoinHandle;

pub use assemble::{AssembleError, Assembled, Setup};
pub use executor::async_runtime;
pub use network_view::network_view;
pub use settings::{AppSettings, CustomNetwork, SettingsError, SettingsFile};

#[cfg(any(unix, windows))]
pub use lit_companion_bridge::socket::DeepLinks;

/// How often the maintenance tick runs, and what it does when.
#[derive(Debug, Clone, Copy)]
pub struct Tick {
    /// How often reuse counts are written (at most once per tick).
    pub flush_every: Duration,
    /// How often expired sessions are swept.
    pub sweep_every: Duration,
    /// How often the keychain is checked (read-only); a locked one drops the keys in memory.
    pub keychain_every: Duration,
}

impl Default for Tick {
    fn default() -> Self {
        Self {
            flush_every: Duration::from_secs(1),
            sweep_every: Duration::from_secs(60),
            keychain_every: Duration::from_secs(15),
        }
    }
}

/// One road's state: where it listens, or why it could not open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoadStatus {
    /// Which road.
    pub road: Road,
    /// `Ok(where)` or `Err(why not)`.
    pub state: Result<String, String>,
}

impl std::fmt::Display for RoadStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.state {
            Ok(at) => write!(f, "{} on {at}", self.road),
            Err(why) => write!(f, "{} unavailable: {why}", self.road),
        }
    }
}

/// What to open.
#[derive(Debug)]
pub struct CompanionBuilder {
    engine: Arc<Engine>,
    http: Option<(SocketAddr, RateLimit)>,
    socket: Option<PathBuf>,
    #[cfg(any(unix, windows))]
    links: Arc<DeepLinks>,
    tick: Tick,
    settings: Option<SettingsFile>,
}

/// A running companion.
#[derive(Debug)]
pub struct Companion {
    engine: Arc<Engine>,
    roads: Vec<RoadStatus>,
    http_addr: Option<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl Companion {
    /// A companion around `engine`, with no road yet; [`Companion::assemble`] is how the app
    /// and `serve` get one. `opener` is the program (and leading arguments) that opens a deep
    /// link's callback URL (empty: the platform's); used deep links are remembered in
    /// `data_dir`.
    pub fn builder(
        engine: Arc<Engine>,
        opener: Vec<String>,
        data_dir: &std::path::Path,
    ) -> CompanionBuilder {
        #[cfg(not(any(unix, windows)))]
        let _ = (opener, data_dir);
        CompanionBuilder {
            engine,
            http: None,
            socket: None,
            #[cfg(any(unix, windows))]
            links: Arc::new(DeepLinks::remembered_in(
                if opener.is_empty() {
                    DeepLinks::platform_opener()
                } else {
                    opener
                },
                data_dir,
            )),
            tick: Tick::default(),
            settings: None,
        }
    }

    /// One line per road.
    pub fn roads(&self) -> &[RoadStatus] {
        &self.roads
    }

    /// Where loopback HTTP listens, when it does.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http_addr
    }

    /// Closes the roads, writes the last reuse counts and drops the keys held in memory.
    pub async fn shutdown(self) {
        for task in &self.tasks {
            task.abort();
        }
        let vault = self.engine.vault().clone();
        let _ = tokio::task::spawn_blocking(move || {
            if let Err(e) = vault.flush_reuse(OffsetDateTime::now_utc()) {
                tracing::warn!(error = %e, "reuse counts not written at shutdown");
            }
            vault.forget_keys();
        })
        .await;
    }
}

impl CompanionBuilder {
    /// Serves loopback HTTP on `addr` (loopback only) with a per-caller rate limit.
    pub fn http(mut self, addr: SocketAddr, rate: RateLimit) -> Self {
        self.http = Some((addr, rate));
        self
    }

    /// Serves the browser extension's host (and `open-url`) on the per-user socket at `path`.
    pub fn socket(mut self, path: PathBuf) -> Self {
        self.socket = Some(path);
        self
    }

    /// How deep links are answered; the same before and after [`CompanionBuilder::start`], so
    /// that links the OS hands over early are not lost.
    #[cfg(any(unix, windows))]
    pub fn deep_links(&self) -> Arc<DeepLinks> {
        self.links.clone()
    }

    /// Watches the settings file: when it changes (`lit-companion network add`, the app, a
    /// hand edit), the whole of it is put into force again within about a second.
    pub fn watch_settings(mut self, file: SettingsFile) -> Self {
        self.settings = Some(file);
        self
    }

    /// The maintenance tick's periods.
    pub fn tick(mut self, tick: Tick) -> Self {
        self.tick = tick;
        self
    }

    /// Opens the roads (each that can; see [`Companion::roads`]) and starts the maintenance
    /// tick. Runs on the current Tokio runtime.
    pub async fn start(self) -> Companion {
        let mut roads = Vec::new();
        let mut tasks = Vec::new();
        let mut http_addr = None;
        if let Some((addr, rate)) = self.http {
            let state = if addr.ip().is_loopback() {
                tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|e| format!("{addr}: {e} (is another copy running?)"))
            } else {
                Err(format!("{addr} is not a loopback address"))
            };
            match state {
                Ok(listener) => {
                    let local = listener.local_addr().unwrap_or(addr);
                    http_addr = Some(local);
                    let mut config = HttpConfig::new(local.port());
                    config.rate = rate;
                    let state = HttpState::new(self.engine.clone(), config);
                    tasks.push(tokio::spawn(async move {
                        if let Err(e) = http::serve(listener, state).await {
                            tracing::error!(error = %e, "loopback HTTP stopped");
                        }
                    }));
                    roads.push(RoadStatus {
                        road: Road::Http,
                        state: Ok(format!("http://{local}")),
                    });
                }
                Err(why) => roads.push(RoadStatus {
                    road: Road::Http,
                    state: Err(why),
                }),
            }
        }
        #[cfg(any(unix, windows))]
        if let Some(path) = &self.socket {
            use lit_companion_bridge::socket;
            match socket::bind(path).await {
                Ok(listener) => {
                    tasks.push(tokio::spawn(socket::serve(
                        listener,
                        self.engine.clone(),
                        self.links.clone(),
                    )));
                    roads.push(RoadStatus {
                        road: Road::Extension,
                        state: Ok(path.display().to_string()),
                    });
                }
                Err(e) => roads.push(RoadStatus {
                    road: Road::Extension,
                    state: Err(e.to_string()),
                }),
            }
        }
        #[cfg(not(any(unix, windows)))]
        if let Some(path) = &self.socket {
            roads.push(RoadStatus {
                road: Road::Extension,
                state: Err(format!(
                    "{}: this platform's local pipe is not supported yet",
                    path.display()
                )),
            });
        }
        tasks.push(tokio::spawn(maintain(
            self.engine.vault().clone(),
            self.tick,
        )));
        if let Some(file) = self.settings {
            tasks.push(tokio::spawn(watch_settings(self.engine.clone(), file)));
        }
        for road in &roads {
            tracing::info!(road = %road, "road");
        }
        Companion {
            engine: self.engine,
            roads,
            http_addr,
            tasks,
        }
    }
}

/// Reapplies the settings whenever the file's modification time or size changes; a file that
/// does not load changes nothing (the last good settings stay in force).
async fn watch_settings(engine: Arc<Engine>, file: SettingsFile) {
    let stamp = |path: &std::path::Path| {
        std::fs::metadata(path)
            .ok()
            .map(|m| (m.modified().ok(), m.len()))
    };
    let path = file.path();
    let mut seen = stamp(&path);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = stamp(&path);
        if now == seen {
            continue;
        }
        seen = now;
        let file = file.clone();
        match tokio::task::spawn_blocking(move || file.load()).await {
            Ok(Ok(settings)) => {
                apply(&engine, &settings);
                tracing::info!(paused = settings.paused, "settings reloaded");
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "settings changed but not applied"),
            Err(e) => tracing::error!(error = %e, "settings reload failed"),
        }
    }
}

/// The maintenance tick: reuse counts, sweep, keychain watch. Blocking work runs off the
/// async threads.
async fn maintain(vault: Arc<Vault>, m: Tick) {
    let mut tick = tokio::time::interval(m.flush_every.max(Duration::from_millis(50)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_sweep = tokio::time::Instant::now();
    let mut last_check = tokio::time::Instant::now();
    loop {
        tick.tick().await;
        let sweep = last_sweep.elapsed() >= m.sweep_every;
        let check = last_check.elapsed() >= m.keychain_every;
        if sweep {
            last_sweep = tokio::time::Instant::now();
        }
        if check {
            last_check = tokio::time::Instant::now();
        }
        let v = vault.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let now = OffsetDateTime::now_utc();
            if let Err(e) = v.flush_reuse(now) {
                tracing::warn!(error = %e, "reuse counts not written yet");
            }
            if sweep {
                match v.maintain(now) {
                    Ok(done) if done.expired > 0 => {
                        tracing::info!(expired = done.expired, "expired sessions swept")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "sweep failed"),
                }
            }
            if check {
                if let Err(e) = v.check_keychain() {
                    tracing::warn!(error = %e, "keychain not usable; keys dropped from memory");
                }
            }
        })
        .await;
    }
}

/// Puts the user's settings into force on the engine: pause, roads, networks.
pub fn apply(engine: &Engine, s: &AppSettings) {
    engine.set_paused(s.paused);
    engine.set_road(Road::Http, s.roads.http);
    engine.set_road(Road::Extension, s.roads.extension);
    engine.set_road(Road::DeepLink, s.roads.deep_link);
    apply_networks(engine, s);
}

/// Puts the network part of the settings into force: the user's networks, the price caps,
/// and which networks are served. Settings that do not validate change nothing.
fn apply_networks(engine: &Engine, s: &AppSettings) {
    let custom = match s.custom_specs() {
        Ok(custom) => custom,
        Err(e) => {
            tracing::warn!(error = %e, "network settings not applied");
            return;
        }
    };
    engine.networks().configure(custom, &s.caps());
    for n in engine.networks().list() {
        engine.set_network(n.name.as_str(), s.serves(n.name.as_str()));
    }
}
