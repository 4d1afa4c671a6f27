//! The one place a companion is put together, for the desktop app and `lit-companion serve`
//! alike: the vault in a data directory, the network client and node-set registry, the engine,
//! and the user's settings put into force — then the roads, through [`CompanionBuilder`].
//!
//! The rule for settings is the same for both: the settings file applies in whole (pause, roads,
//! networks, price caps) when the companion starts and again whenever the file changes on disk
//! ([`CompanionBuilder::start`] watches it). A file that does not load applies nothing: the
//! defaults are in force and the problem is handed back ([`Assembled::settings_problem`]) for the
//! caller to show (the app's banner) or to refuse to start on (`serve`).

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use lit_companion_bridge::{ratelimit::RateLimit, Approver, Engine, EngineSettings};
use lit_companion_net::{LitNetClient, Networks, NODE_SET_TTL};
use lit_companion_vault::{SecretStore, Vault, VaultError};
use time::OffsetDateTime;

use crate::{apply, AppSettings, Companion, CompanionBuilder, SettingsError, SettingsFile};

/// What differs between the app and `serve`; everything else comes from the data directory.
pub struct Setup {
    /// The data directory: the vault's metadata, the settings, remembered deep links.
    pub data_dir: PathBuf,
    /// Where keys live (the OS keychain; a private one under test).
    pub keychain: Arc<dyn SecretStore>,
    /// Who answers prompts: the app's window, a policy file, or the terminal.
    pub approver: Arc<dyn Approver>,
    /// Per-attempt timeout of a node handshake.
    pub node_timeout: Duration,
    /// How long a prompt waits for its answer.
    pub approval_timeout: Duration,
    /// Loopback HTTP: where, and the per-caller rate limit.
    pub http: Option<(SocketAddr, RateLimit)>,
    /// The per-user socket the browser extension's host relays to.
    pub socket: Option<PathBuf>,
    /// The program (and leading arguments) that opens a deep link's callback; empty: the
    /// platform's.
    pub opener: Vec<String>,
}

impl std::fmt::Debug for Setup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setup")
            .field("data_dir", &self.data_dir)
            .field("http", &self.http)
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}

/// A companion put together, its roads not yet open.
#[derive(Debug)]
pub struct Assembled {
    /// The vault.
    pub vault: Arc<Vault>,
    /// The engine, with the settings in force.
    pub engine: Arc<Engine>,
    /// The settings file of the data directory.
    pub settings_file: SettingsFile,
    /// The settings in force.
    pub settings: AppSettings,
    /// Why the stored settings could not be read (the defaults are in force; the file is kept).
    pub settings_problem: Option<SettingsError>,
    /// Whether no settings were stored yet.
    pub first_run: bool,
    /// Opens the roads and starts the maintenance tick and the settings watch.
    pub builder: CompanionBuilder,
}

/// Why a companion could not be put together.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssembleError {
    /// The vault could not be opened (the keychain, the data directory).
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The network client could not be made.
    #[error("the network client: {0}")]
    Network(String),
}

impl Companion {
    /// Puts a companion together from `setup` and the settings stored in its data directory.
    pub fn assemble(setup: Setup) -> Result<Assembled, AssembleError> {
        let now = OffsetDateTime::now_utc();
        let (vault, _) = Vault::open(&setup.data_dir, setup.keychain, now)?;
        let vault = Arc::new(vault);
        let net = LitNetClient::new(setup.node_timeout, 2)
            .map_err(|e| AssembleError::Network(e.to_string()))?;
        let networks = Arc::new(
            Networks::new(net, NODE_SET_TTL).map_err(|e| AssembleError::Network(e.to_string()))?,
        );
        let engine = Arc::new(Engine::new(
            vault.clone(),
            networks,
            setup.approver,
            EngineSettings {
                approval_timeout: setup.approval_timeout,
                ..EngineSettings::default()
            },
        ));
        let settings_file = SettingsFile::new(&setup.data_dir);
        let first_run = !settings_file.path().exists();
        let (settings, settings_problem) = match settings_file.load() {
            Ok(s) => (s, None),
            Err(e) => (AppSettings::default(), Some(e)),
        };
        apply(&engine, &settings);
        let mut builder = Companion::builder(engine.clone(), setup.opener, &setup.data_dir)
            .watch_settings(settings_file.clone());
        if let Some((addr, rate)) = setup.http {
            builder = builder.http(addr, rate);
        }
        if let Some(path) = setup.socket {
            builder = builder.socket(path);
        }
        Ok(Assembled {
            vault,
            engine,
            settings_file,
            settings,
            settings_problem,
            first_run,
            builder,
        })
    }
}
