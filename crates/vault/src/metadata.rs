//! The non-secret index: wallets, sessions (public keys, AuthSigs, grants, expiry) and history,
//! in one JSON file written atomically (temp file, fsync, rename, fsync of the directory) with
//! mode 0600, under an advisory lock so that concurrent processes never lose each other's
//! updates.

use std::{
    fs::{self, File, OpenOptions},
    io::{ErrorKind, Write},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

use lit_companion_session::{timefmt::Timestamp, AuthSig, ResourceAbilityRequest};
use serde::{Deserialize, Serialize};

use crate::error::VaultError;
pub use crate::history::HistoryEntry;

/// The file format version.
pub const FORMAT_VERSION: u32 = 1;
/// The history file is compacted to what it keeps ([`crate::history::retain`]) when it grows
/// past this size, or past twice its size after the last compaction, whichever is larger.
const HISTORY_COMPACT_AT: u64 = 1 << 20;
const HISTORY_NAME: &str = "history.jsonl";

const FILE_NAME: &str = "metadata.json";
const LOCK_NAME: &str = "metadata.lock";

/// Where a record stands. Records are written `Pending` before their key enters the keychain
/// and `Retired` before their key leaves it, so that a crash at any point can be repaired:
/// recovery deletes the key of every `Pending` or `Retired` record, then the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordState {
    /// Being created: its key may or may not be in the keychain yet.
    Pending,
    /// In use: its key is in the keychain.
    Live,
    /// Being removed: its key may or may not still be in the keychain.
    Retired,
    /// Its key was found missing from the keychain; kept so the user sees what happened.
    Dead,
}

/// How a wallet signs AuthSigs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalletKind {
    /// Its key is in the keychain under `wallet:<address>`; the companion signs.
    #[default]
    Local,
    /// Only its address is kept: an EIP-1193 wallet in the browser (MetaMask, Rabby, a Ledger
    /// behind one) signs each new session's SIWE in the requesting page.
    External,
    /// A PKP: a key the Lit network holds in shares. Its nodes sign each new session's AuthSig
    /// (`LIT_BLS`) once the wallet named in [`WalletRecord::pkp`] (local or browser) signs in
    /// as its auth method. Nothing secret is kept for it.
    Pkp,
}

/// A wallet: the address, a label and how it signs. A local wallet's key is in the keychain
/// under `wallet:<address>`; an external wallet has nothing in the keychain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletRecord {
    /// EIP-55 address.
    pub address: String,
    /// The user's name for it (for an external wallet, the browser wallet's own name).
    pub label: String,
    /// RFC 3339.
    pub created_at: String,
    /// Record state.
    pub state: RecordState,
    /// How it signs; `local` when absent (records written before wallets had kinds).
    #[serde(default)]
    pub kind: WalletKind,
    /// A PKP's public key and the wallet that signs in for it (`kind: pkp` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkp: Option<PkpRecord>,
}

/// What names a PKP and who speaks for it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkpRecord {
    /// The PKP's public key, uncompressed (`0x04…`, 132 characters).
    pub public_key: String,
    /// The wallet (EIP-55; one of the vault's local or browser wallets) whose AuthSig is the
    /// PKP's auth method (`authMethodType` 1, an EOA).
    pub auth: String,
}

/// A PKP session's extra facts: the network key its `LIT_BLS` AuthSig verifies against and the
/// wallet that signed in for it. The auth method's AuthSig is a bearer credential for the PKP,
/// so it lives in the keychain (`pkp-auth:<session key>`), never here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PkpSessionRecord {
    /// The network's BLS public key (96 hex) the nodes' combined signature verified against.
    pub network_key: String,
    /// The wallet that signed the auth method (EIP-55).
    pub auth: String,
}

/// A session: one per (origin, network, wallet). The seed is in the keychain under
/// `session:<public key>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// The session public key (64 hex); also the record's id.
    pub public_key: String,
    /// The web origin it was granted to (`https://app.example.com`).
    pub origin: String,
    /// The Lit network name.
    pub network: String,
    /// The wallet that signed the AuthSig (EIP-55).
    pub wallet: String,
    /// What the user granted.
    pub granted: Vec<ResourceAbilityRequest>,
    /// The wallet AuthSig empowering the key.
    pub auth_sig: AuthSig,
    /// When it was made (RFC 3339 in the file).
    pub created_at: Timestamp,
    /// The AuthSig's expiration (RFC 3339 in the file).
    pub expires_at: Timestamp,
    /// Record state.
    pub state: RecordState,
    /// Why the record is dead, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_reason: Option<String>,
    /// Naga: the most a request may pay, as the user approved it (decimal wei in the file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_price_wei: Option<lit_companion_session::Wei>,
    /// A PKP session (the nodes signed its AuthSig): what it was verified against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pkp: Option<PkpSessionRecord>,
}

/// The whole file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// [`FORMAT_VERSION`].
    pub version: u32,
    /// Wallets.
    pub wallets: Vec<WalletRecord>,
    /// Sessions.
    pub sessions: Vec<SessionRecord>,
    /// History lines added in this edit. They are appended to the history file (JSON lines,
    /// `history.jsonl`) when the metadata is stored, so the index itself stays small.
    #[serde(skip)]
    pub history: Vec<HistoryEntry>,
    /// Pairing tokens for local programs without an origin (only their SHA-256 is kept).
    #[serde(default)]
    pub pairings: Vec<PairingRecord>,
}

/// A pairing token the user issued to a local program (a script, a CI runner).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairingRecord {
    /// The program's name, shown in prompts ("ci-runner").
    pub name: String,
    /// SHA-256 of the token, hex. The token itself is shown once and never stored.
    pub token_sha256: String,
    /// RFC 3339.
    pub created_at: String,
}

impl Default for Metadata {
    fn default() -> Self {
        Self {
            version: FORMAT_VERSION,
            wallets: Vec::new(),
            sessions: Vec::new(),
            history: Vec::new(),
            pairings: Vec::new(),
        }
    }
}

impl Metadata {
    /// Notes a history line (written with the next store).
    pub fn log(&mut self, entry: HistoryEntry) {
        self.history.push(entry);
    }
}

/// The metadata file and its lock.
#[derive(Debug)]
pub struct MetadataFile {
    dir: PathBuf,
    /// The last parse, by (modification time, length): a read that finds the file unchanged
    /// skips parsing. Always consulted under the lock.
    parsed: std::sync::Mutex<Option<(Stamp, u64, std::sync::Arc<Metadata>)>>,
    /// The history file's size after this process last compacted it.
    compacted: AtomicU64,
}

/// An exclusive hold on the metadata; released on drop.
#[derive(Debug)]
pub struct Locked {
    _lock: File,
}

impl MetadataFile {
    /// The store in `dir` (created with mode 0700 when missing).
    pub fn new(dir: &Path) -> Result<Self, VaultError> {
        create_private_dir(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
            parsed: std::sync::Mutex::new(None),
            compacted: AtomicU64::new(0),
        })
    }

    /// The metadata file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    /// Takes the exclusive lock (blocking): every read-modify-write happens under it.
    pub fn lock(&self) -> Result<Locked, VaultError> {
        let file = open_private(&self.dir.join(LOCK_NAME), false)?;
        file.lock()
            .map_err(|e| VaultError::io("locking the metadata", e))?;
        Ok(Locked { _lock: file })
    }

    /// Reads the file; a missing file is an empty index. A file that does not parse is copied
    /// to a backup (never overwritten) and reported; the original stays where it is.
    pub fn load(&self, _held: &Locked) -> Result<Metadata, VaultError> {
        Ok(Metadata::clone(&*self.read_shared()?))
    }

    /// The current version without taking the lock (writes are atomic renames), parsed only
    /// when the file changed since the last read: one `stat` on the hot path.
    pub fn read_shared(&self) -> Result<std::sync::Arc<Metadata>, VaultError> {
        let path = self.path();
        let stamp = fs::metadata(&path)
            .ok()
            .and_then(|m| Some((stamp(&m)?, m.len())));
        if let (Some((mtime, len)), Ok(parsed)) = (stamp, self.parsed.lock()) {
            if let Some((t, l, m)) = parsed.as_ref() {
                if *t == mtime && *l == len {
                    return Ok(m.clone());
                }
            }
        }
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Ok(std::sync::Arc::new(Metadata::default()))
            }
            Err(e) => return Err(VaultError::io("reading the metadata", e)),
        };
        match serde_json::from_slice::<Metadata>(&bytes) {
            Ok(m) if m.version == FORMAT_VERSION => {
                let m = std::sync::Arc::new(m);
                if let (Some((mtime, len)), Ok(mut parsed)) = (stamp, self.parsed.lock()) {
                    if len == bytes.len() as u64 {
                        *parsed = Some((mtime, len, m.clone()));
                    }
                }
                Ok(m)
            }
            Ok(m) => Err(VaultError::UnsupportedVersion(m.version)),
            Err(e) => {
                let backup = self.backup(&bytes)?;
                Err(VaultError::CorruptMetadata {
                    path,
                    backup,
                    reason: e.to_string(),
                })
            }
        }
    }

    /// Keeps a copy of a corrupt file next to it, once per distinct content.
    fn backup(&self, bytes: &[u8]) -> Result<PathBuf, VaultError> {
        let digest = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
        });
        let backup = self.dir.join(format!("{FILE_NAME}.corrupt-{digest:016x}"));
        if !backup.exists() {
            write_atomic(&self.dir, &backup, bytes)?;
        }
        Ok(backup)
    }

    /// Replaces the file atomically, then appends the edit's history lines and takes them out
    /// of `metadata`, so that an edit stored in several steps writes each line once.
    pub fn store(&self, held: &Locked, metadata: &mut Metadata) -> Result<(), VaultError> {
        let json =
            serde_json::to_vec_pretty(metadata).map_err(|e| VaultError::Internal(e.to_string()))?;
        write_atomic(&self.dir, &self.path(), &json)?;
        self.append_history(held, &metadata.history)?;
        metadata.history.clear();
        Ok(())
    }

    /// Appends history lines without touching the metadata (no rewrite, no fsync: a crash of
    /// the process loses nothing written, a power cut may lose the last lines).
    pub fn append_history(&self, _held: &Locked, lines: &[HistoryEntry]) -> Result<(), VaultError> {
        if lines.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(HISTORY_NAME);
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&path)
            .map_err(|e| VaultError::io("opening the history", e))?;
        file.write_all(&json_lines(lines)?)
            .map_err(|e| VaultError::io("writing the history", e))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        drop(file);
        let compacted = self.compacted.load(Ordering::Relaxed);
        if size > HISTORY_COMPACT_AT.max(compacted.saturating_mul(2)) {
            let kept = json_lines(&self.history_lines()?)?;
            write_atomic(&self.dir, &path, &kept)?;
            self.compacted.store(kept.len() as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    /// The history lines kept, oldest first: [`crate::history::retain`] of every line in the
    /// file (the same whether or not the file was compacted since). A torn line (a crash
    /// mid-append) is skipped.
    pub fn history_lines(&self) -> Result<Vec<HistoryEntry>, VaultError> {
        let text = match fs::read_to_string(self.dir.join(HISTORY_NAME)) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(VaultError::io("reading the history", e)),
        };
        let lines: Vec<HistoryEntry> = text
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        Ok(crate::history::retain(lines))
    }
}

fn json_lines(lines: &[HistoryEntry]) -> Result<Vec<u8>, VaultError> {
    let mut out = Vec::new();
    for line in lines {
        serde_json::to_writer(&mut out, line).map_err(|e| VaultError::Internal(e.to_string()))?;
        out.push(b'\n');
    }
    Ok(out)
}

/// What identifies one version of the file: its modification time and, on Unix, its inode
/// (every write renames a new file into place).
type Stamp = (std::time::SystemTime, u64);

fn stamp(m: &fs::Metadata) -> Option<Stamp> {
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(m);
    #[cfg(not(unix))]
    let ino = 0;
    Some((m.modified().ok()?, ino))
}

fn create_private_dir(dir: &Path) -> Result<(), VaultError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| VaultError::io("creating the data directory", e))
}

fn open_private(path: &Path, truncate: bool) -> Result<File, VaultError> {
    let mut options = OpenOptions::new();
    options
        .read(true)
        .write(true)
        .create(true)
        .truncate(truncate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| VaultError::io("opening a metadata file", e))
}

/// Writes `bytes` to a new temporary file in `dir` (a unique name per write, mode 0600), fsyncs
/// it, renames it over `target`, and fsyncs the directory. On any error the temporary file is
/// removed and `target` is untouched. Writers that read, change and write back hold a lock
/// around all three (see [`MetadataFile::lock`]); this alone only makes each write whole.
pub fn write_atomic(dir: &Path, target: &Path, bytes: &[u8]) -> Result<(), VaultError> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(FILE_NAME);
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| VaultError::io("creating a temporary file", e))?;
    tmp.write_all(bytes)
        .map_err(|e| VaultError::io("writing the metadata", e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| VaultError::io("flushing the metadata", e))?;
    tmp.persist(target)
        .map_err(|e| VaultError::io("replacing the metadata", e.error))?;
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| VaultError::io("flushing the data directory", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history;

    #[test]
    fn compacting_the_history_keeps_exactly_what_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = MetadataFile::new(dir.path()).unwrap();
        let at = |h: i64| {
            let t = lit_companion_session::timefmt::parse_rfc3339("2026-11-24T12:00:00.000Z")
                .unwrap()
                + time::Duration::hours(h);
            lit_companion_session::timefmt::iso_millis(t).unwrap()
        };
        let mut written = vec![history::expired(&at(0), "https://quiet.example", "qqqq…")];
        file.append_history(&file.lock().unwrap(), &written)
            .unwrap();
        // Far past the size that compacts: one line an hour from one site, 100 at a time.
        for batch in 0..80 {
            let lines: Vec<_> = (0..100)
                .map(|i| {
                    let h = batch * 100 + i + 1;
                    history::reused(&at(h), "https://busy.example", "bbbb…", "datil", 1)
                })
                .collect();
            file.append_history(&file.lock().unwrap(), &lines).unwrap();
            written.extend(lines);
        }
        let size = fs::metadata(dir.path().join(HISTORY_NAME)).unwrap().len();
        assert!(size < HISTORY_COMPACT_AT, "compacted: {size} bytes");
        assert_eq!(file.history_lines().unwrap(), history::retain(written));
    }
}
