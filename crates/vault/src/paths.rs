//! Where the metadata lives: the platform's per-user data directory.

use std::path::PathBuf;

/// `$LIT_COMPANION_DATA_DIR` when set; otherwise `$XDG_DATA_HOME/lit-companion` or
/// `~/.local/share/lit-companion` on Linux, `~/Library/Application Support/lit-companion` on
/// macOS, `%APPDATA%\lit-companion` on Windows.
pub fn default_data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("LIT_COMPANION_DATA_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    let home = || {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(target_os = "windows") {
        return std::env::var_os("APPDATA").map(|d| PathBuf::from(d).join("lit-companion"));
    }
    if cfg!(target_os = "macos") {
        return home().map(|h| h.join("Library/Application Support/lit-companion"));
    }
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(xdg).join("lit-companion"));
    }
    home().map(|h| h.join(".local/share/lit-companion"))
}
