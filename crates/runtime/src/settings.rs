//! The companion's preferences: `settings.json` next to the vault's metadata, written
//! atomically with mode 0600. Nothing in it is secret; a file that does not parse is reported,
//! never replaced until the user saves new settings.

use std::{
    collections::{BTreeMap, HashSet},
    fs,
    io::ErrorKind,
    path::{Path, PathBuf},
};

use lit_companion_net::{presets, NetworkSpec};
use lit_companion_session::{Generation, Wei, MAX_SESSION_LIFETIME};
use serde::{Deserialize, Serialize};

use lit_companion_vault::{metadata::write_atomic, VaultError};

/// Why settings could not be read or stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A value the companion refuses (from a hand-edited or hostile file, or a bad save).
    #[error("{0}")]
    Invalid(String),
    /// The file (or its directory) could not be read or made.
    #[error("the settings at {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("storing the settings: {0}")]
    Write(#[from] VaultError),
}

impl SettingsError {
    /// What kind of failure this is.
    pub fn kind(&self) -> lit_companion_session::ErrorKind {
        match self {
            Self::Invalid(_) => lit_companion_session::ErrorKind::Input,
            Self::Read { .. } => lit_companion_session::ErrorKind::Files,
            Self::Write(e) => e.kind(),
        }
    }
}

const FILE_NAME: &str = "settings.json";
const LOCK_NAME: &str = "settings.lock";

/// The longest lifetime a user may pick as the default (nodes refuse more than 30 days).
pub const MAX_DEFAULT_LIFETIME_SECS: u64 = MAX_SESSION_LIFETIME.unsigned_abs().as_secs();

/// Which roads in are on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Roads {
    /// Loopback HTTP.
    pub http: bool,
    /// The browser extension (native messaging).
    pub extension: bool,
    /// `lit-companion://` deep links.
    pub deep_link: bool,
}

/// A network the user added: a name, a generation, and either a fixed list of nodes or the
/// chain to read them from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomNetwork {
    /// Its name (lowercase letters, digits, `-`; not a preset's).
    pub name: String,
    /// `datil` (SDK v7 wire format) or `naga` (v8).
    pub generation: String,
    /// A fixed node list (`https://host:port`; plain http for this machine only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// Or: the chain's JSON-RPC URL …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rpc: Option<String>,
    /// … its Staking contract …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staking: Option<String>,
    /// … the realm (Naga; 1 when absent) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<u64>,
    /// … and the chain id the RPC must report (not checked when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// Accept validators the chain places on loopback, private or link-local addresses (a
    /// test network on this machine or the LAN). Off unless set; only with `rpc`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_private_nodes: bool,
}

impl CustomNetwork {
    /// The network it defines, checked.
    pub fn spec(&self) -> Result<NetworkSpec, SettingsError> {
        let generation = match self.generation.as_str() {
            "datil" => Generation::Datil,
            "naga" => Generation::Naga,
            other => {
                return Err(SettingsError::Invalid(format!(
                    "network {}: generation {other:?} is neither \"datil\" nor \"naga\"",
                    self.name
                )))
            }
        };
        let chain = match (&self.rpc, &self.staking) {
            (Some(rpc), Some(staking)) => {
                Some((rpc.as_str(), staking.as_str(), self.realm, self.chain_id))
            }
            (None, None) => None,
            _ => {
                return Err(SettingsError::Invalid(format!(
                    "network {}: an RPC URL needs a Staking contract, and the other way round",
                    self.name
                )))
            }
        };
        let spec = NetworkSpec::custom(&self.name, generation, &self.nodes, chain)
            .map_err(|e| SettingsError::Invalid(e.to_string()))?;
        if !self.allow_private_nodes {
            return Ok(spec);
        }
        spec.allowing_private_nodes()
            .map_err(|e| SettingsError::Invalid(format!("network {}: {e}", self.name)))
    }
}

/// The app's preferences.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppSettings {
    /// Format version (1).
    pub version: u32,
    /// The lifetime the prompt preselects when a dapp asks for longer (seconds).
    pub default_lifetime_secs: u64,
    /// The networks the companion serves (by the SDK's names); requests for others get 4200.
    /// Stored in full, so a stored file keeps what its user had on: Lit's public networks,
    /// once served by default, stay served for a user whose file lists them, and are off in
    /// the defaults (no file yet: a new install, or `serve` never given settings).
    pub networks: Vec<String>,
    /// Which roads are on.
    pub roads: Roads,
    /// Whether the bridge is paused.
    pub paused: bool,
    /// Networks the user added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_networks: Vec<CustomNetwork>,
    /// Naga: the most one request may pay, per network (decimal wei); [`Wei::DEFAULT_CAP`]
    /// when absent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub price_caps: BTreeMap<String, Wei>,
    /// Whether the app starts, hidden in the tray, when the user logs in: the user's last
    /// choice. Absent until the desktop app first ran, which turns it on ([`crate::login`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at_login: Option<bool>,
}

impl Default for AppSettings {
    fn default() -> Self {
        Self {
            version: 1,
            default_lifetime_secs: 24 * 3600,
            // Lit retired its public networks (`PRESETS_RETIRED_AFTER`): none is served until
            // the user adds their own network or switches a preset on.
            networks: Vec::new(),
            roads: Roads {
                http: true,
                extension: true,
                deep_link: true,
            },
            paused: false,
            custom_networks: Vec::new(),
            price_caps: BTreeMap::new(),
            start_at_login: None,
        }
    }
}

impl AppSettings {
    /// Whether the network named `network` is served.
    pub fn serves(&self, network: &str) -> bool {
        self.networks.iter().any(|n| n == network)
    }

    /// The user's networks, checked.
    pub fn custom_specs(&self) -> Result<Vec<NetworkSpec>, SettingsError> {
        self.custom_networks
            .iter()
            .map(CustomNetwork::spec)
            .collect()
    }

    /// The price caps, in wei.
    pub fn caps(&self) -> BTreeMap<String, u128> {
        self.price_caps
            .iter()
            .map(|(name, wei)| (name.clone(), wei.0))
            .collect()
    }

    /// The cap for `network` (wei per request).
    pub fn cap(&self, network: &str) -> Wei {
        self.price_caps
            .get(network)
            .copied()
            .unwrap_or(Wei::DEFAULT_CAP)
    }

    /// Adds the user's network `n` (checked), served from now on.
    pub fn add_network(&mut self, n: CustomNetwork) -> Result<NetworkSpec, SettingsError> {
        let spec = n.spec()?;
        if self.custom_networks.iter().any(|c| c.name == n.name) {
            return Err(SettingsError::Invalid(format!(
                "network {} exists; remove it first to change it",
                n.name
            )));
        }
        if !self.networks.contains(&n.name) {
            self.networks.push(n.name.clone());
        }
        self.custom_networks.push(n);
        Ok(spec)
    }

    /// Removes the user's network `name` (presets can only be switched off).
    pub fn remove_network(&mut self, name: &str) -> Result<(), SettingsError> {
        if presets().iter().any(|p| p.name.as_str() == name) {
            return Err(SettingsError::Invalid(format!(
                "{name} is built in: it can be switched off, not removed"
            )));
        }
        let before = self.custom_networks.len();
        self.custom_networks.retain(|c| c.name != name);
        if self.custom_networks.len() == before {
            return Err(SettingsError::Invalid(format!(
                "no network {name} was added"
            )));
        }
        self.networks.retain(|n| n != name);
        self.price_caps.remove(name);
        Ok(())
    }

    /// Sets the most one request on the Naga network `name` may pay (decimal wei); returns the
    /// network. Datil requests carry no price, so a Datil network takes no cap.
    pub fn set_cap(&mut self, name: &str, wei: &str) -> Result<NetworkSpec, SettingsError> {
        let spec = presets()
            .into_iter()
            .chain(self.custom_specs()?)
            .find(|n| n.name.as_str() == name)
            .ok_or_else(|| SettingsError::Invalid(format!("unknown network {name}")))?;
        if spec.generation != Generation::Naga {
            return Err(SettingsError::Invalid(format!(
                "{name} is a Datil network: its requests carry no price"
            )));
        }
        let wei = wei
            .parse::<Wei>()
            .map_err(|e| SettingsError::Invalid(format!("the price cap: {e}")))?;
        self.price_caps.insert(name.to_owned(), wei);
        Ok(spec)
    }

    /// Every network name the settings know: the presets' and the user's.
    pub fn known_networks(&self) -> Vec<String> {
        presets()
            .iter()
            .map(|p| p.name.to_string())
            .chain(self.custom_networks.iter().map(|c| c.name.clone()))
            .collect()
    }

    /// Checks values a hand-edited or hostile file could carry.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.version != 1 {
            return Err(SettingsError::Invalid(format!(
                "settings format version {} is not known",
                self.version
            )));
        }
        if !(60..=MAX_DEFAULT_LIFETIME_SECS).contains(&self.default_lifetime_secs) {
            return Err(SettingsError::Invalid(
                "the default lifetime must be between one minute and 30 days".into(),
            ));
        }
        let specs = self.custom_specs()?;
        let mut names = HashSet::new();
        if let Some(twice) = specs.iter().find(|s| !names.insert(s.name.clone())) {
            return Err(SettingsError::Invalid(format!(
                "network {} is defined twice",
                twice.name
            )));
        }
        let known = self.known_networks();
        for n in self.networks.iter().chain(self.price_caps.keys()) {
            if !known.contains(n) {
                return Err(SettingsError::Invalid(format!("unknown network {n:?}")));
            }
        }
        Ok(())
    }
}

/// The settings file of one data directory.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    dir: PathBuf,
}

impl SettingsFile {
    /// The settings file in `dir` (the vault's data directory).
    pub fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
        }
    }

    /// Its path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// The stored settings; the defaults when there is no file yet. A file that does not parse
    /// or holds bad values is an error naming it (and is left as it is).
    pub fn load(&self) -> Result<AppSettings, SettingsError> {
        let path = self.path();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(AppSettings::default()),
            Err(source) => return Err(SettingsError::Read { path, source }),
        };
        let settings: AppSettings = serde_json::from_str(&text).map_err(|e| {
            SettingsError::Invalid(format!(
                "the settings file {} is corrupt: {e}",
                path.display()
            ))
        })?;
        settings.validate()?;
        Ok(settings)
    }

    /// Validates and stores `settings` atomically, replacing what is there.
    pub fn store(&self, settings: &AppSettings) -> Result<(), SettingsError> {
        let _held = self.lock()?;
        self.write(settings)
    }

    /// Reads, changes and writes back the settings under the settings lock, so that two
    /// processes (the app and `lit-companion network add`, or two commands) changing them at
    /// once both keep their change. Nothing is written when `change` fails or the result does
    /// not validate. Returns the stored settings.
    pub fn update<T>(
        &self,
        change: impl FnOnce(&mut AppSettings) -> Result<T, SettingsError>,
    ) -> Result<(AppSettings, T), SettingsError> {
        let _held = self.lock()?;
        let mut settings = self.load()?;
        let out = change(&mut settings)?;
        self.write(&settings)?;
        Ok((settings, out))
    }

    /// The exclusive lock every write holds (`settings.lock`, beside the file; released on drop).
    fn lock(&self) -> Result<fs::File, SettingsError> {
        let io = |source| SettingsError::Read {
            path: self.dir.clone(),
            source,
        };
        fs::create_dir_all(&self.dir).map_err(io)?;
        let mut options = fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(self.dir.join(LOCK_NAME)).map_err(io)?;
        file.lock().map_err(io)?;
        Ok(file)
    }

    fn write(&self, settings: &AppSettings) -> Result<(), SettingsError> {
        settings.validate()?;
        let json = serde_json::to_vec_pretty(settings)
            .map_err(|e| SettingsError::Invalid(e.to_string()))?;
        Ok(write_atomic(&self.dir, &self.path(), &json)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lit-settings-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn defaults_then_stored_values_round_trip_privately() {
        let d = dir("roundtrip");
        let file = SettingsFile::new(&d);
        assert_eq!(file.load().unwrap(), AppSettings::default());
        let mut s = AppSettings {
            default_lifetime_secs: 3600,
            networks: vec!["naga-dev".into(), "naga".into()],
            ..Default::default()
        };
        s.roads.deep_link = false;
        file.store(&s).unwrap();
        assert_eq!(file.load().unwrap(), s);
        assert!(!file.load().unwrap().serves("datil"));
        assert!(file.load().unwrap().serves("naga"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(file.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn lit_s_retired_networks_are_off_by_default() {
        let s = AppSettings::default();
        for p in presets() {
            assert!(!s.serves(p.name.as_str()), "{} is served", p.name);
        }
        assert!(s.networks.is_empty(), "{:?}", s.networks);
    }

    /// A settings file as stored before Lit retired its public networks, when the presets
    /// were served by default and a first start wrote them all down.
    const STORED_WITH_EVERY_PRESET_ON: &str = r#"{
  "version": 1,
  "defaultLifetimeSecs": 86400,
  "networks": ["datil-dev", "datil-test", "datil", "naga-dev", "naga-test", "naga"],
  "roads": { "http": true, "extension": true, "deepLink": true },
  "paused": false
}"#;

    #[test]
    fn a_user_who_had_the_public_networks_on_keeps_them_on() {
        let d = dir("kept-on");
        let file = SettingsFile::new(&d);
        fs::write(file.path(), STORED_WITH_EVERY_PRESET_ON).unwrap();
        let s = file.load().unwrap();
        for p in presets() {
            assert!(s.serves(p.name.as_str()), "{} was switched off", p.name);
        }
        // A change elsewhere (a network added) keeps them on, and so does the file it writes.
        let (s, _) = file
            .update(|s| s.add_network(sim("mine".into())).map(drop))
            .unwrap();
        assert!(s.serves("datil") && s.serves("naga") && s.serves("mine"));
        let again = file.load().unwrap();
        assert_eq!(again, s);
        // One switched off by hand stays off; the others stay on.
        file.update(|s| {
            s.networks.retain(|n| n != "datil-dev");
            Ok(())
        })
        .unwrap();
        let s = file.load().unwrap();
        assert!(!s.serves("datil-dev") && s.serves("datil-test"));
        let _ = fs::remove_dir_all(&d);
    }

    fn sim(name: String) -> CustomNetwork {
        CustomNetwork {
            name,
            generation: "datil".into(),
            nodes: vec!["http://127.0.0.1:7470".into()],
            rpc: None,
            staking: None,
            realm: None,
            chain_id: None,
            allow_private_nodes: false,
        }
    }

    #[test]
    fn private_node_addresses_are_allowed_only_explicitly_and_only_from_a_chain() {
        let chain = |allow| CustomNetwork {
            name: "lan".into(),
            generation: "naga".into(),
            nodes: Vec::new(),
            rpc: Some("http://127.0.0.1:8545/".into()),
            staking: Some("0x21d636d95eE71150c0c3Ffa79268c989a329d1CE".into()),
            realm: None,
            chain_id: None,
            allow_private_nodes: allow,
        };
        let allows = |n: &CustomNetwork| {
            matches!(n.spec().unwrap().source,
                lit_companion_net::NodeSource::Chain(c) if c.allow_private_nodes)
        };
        assert!(!allows(&chain(false)));
        assert!(allows(&chain(true)));
        // Stored only when set, read back the same.
        let text = serde_json::to_string(&chain(false)).unwrap();
        assert!(!text.contains("allowPrivateNodes"), "{text}");
        let text = serde_json::to_string(&chain(true)).unwrap();
        assert!(text.contains(r#""allowPrivateNodes":true"#), "{text}");
        assert_eq!(
            serde_json::from_str::<CustomNetwork>(&text).unwrap(),
            chain(true)
        );
        // A fixed list is taken as given: the flag is refused there, not ignored.
        let mut fixed = sim("fixed".into());
        fixed.allow_private_nodes = true;
        assert!(matches!(fixed.spec(), Err(SettingsError::Invalid(_))));
    }

    #[test]
    fn two_threads_changing_the_settings_at_once_both_keep_every_change() {
        let d = dir("threads");
        let writers: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|who| {
                let file = SettingsFile::new(&d);
                std::thread::spawn(move || {
                    for i in 0..25 {
                        file.update(|s| s.add_network(sim(format!("{who}-{i}"))).map(drop))
                            .unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let s = SettingsFile::new(&d).load().unwrap();
        assert_eq!(s.custom_networks.len(), 50, "every change is kept");
        for who in ["a", "b"] {
            for i in 0..25 {
                assert!(s.serves(&format!("{who}-{i}")), "{who}-{i} is lost");
            }
        }
        let leftovers: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_change_that_fails_writes_nothing() {
        let d = dir("failed-change");
        let file = SettingsFile::new(&d);
        file.update(|s| s.add_network(sim("kept".into())).map(drop))
            .unwrap();
        let before = fs::read(file.path()).unwrap();
        let e = file
            .update(|s| s.add_network(sim("kept".into())).map(drop))
            .unwrap_err();
        assert!(e.to_string().contains("exists"), "{e}");
        let e = file
            .update(|s| {
                s.default_lifetime_secs = 1;
                Ok(())
            })
            .unwrap_err();
        assert!(e.to_string().contains("default lifetime"), "{e}");
        assert_eq!(fs::read(file.path()).unwrap(), before, "nothing written");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn bad_files_and_values_are_errors_and_the_file_is_kept() {
        let d = dir("bad");
        let file = SettingsFile::new(&d);
        fs::write(file.path(), b"{ not json").unwrap();
        let e = file.load().unwrap_err().to_string();
        assert!(e.contains("corrupt"), "{e}");
        assert_eq!(fs::read(file.path()).unwrap(), b"{ not json");

        let mut s = AppSettings {
            default_lifetime_secs: MAX_DEFAULT_LIFETIME_SECS + 1,
            ..Default::default()
        };
        assert!(file.store(&s).is_err());
        s.default_lifetime_secs = 3600;
        s.networks.push("mainnet".into());
        assert!(file.store(&s).unwrap_err().to_string().contains("mainnet"));
        assert_eq!(
            fs::read(file.path()).unwrap(),
            b"{ not json",
            "nothing replaced"
        );
        let _ = fs::remove_dir_all(&d);
    }
}
