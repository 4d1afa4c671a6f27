//! Where the companion listens for relayed messages: a per-user Unix socket.

use std::path::PathBuf;

/// `$LIT_COMPANION_SOCKET`, else `$XDG_RUNTIME_DIR/lit-companion/bridge.sock`, else
/// `/tmp/lit-companion-<uid>/bridge.sock`. The directory is the user's alone (mode 0700).
pub fn default_socket_path() -> PathBuf {
    if let Some(p) = std::env::var_os("LIT_COMPANION_SOCKET").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR").filter(|p| !p.is_empty()) {
        return PathBuf::from(run).join("lit-companion").join("bridge.sock");
    }
    PathBuf::from(format!("/tmp/lit-companion-{}", current_uid())).join("bridge.sock")
}

/// The real user id of this process.
#[cfg(unix)]
pub fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Not Unix: no uid.
#[cfg(not(unix))]
pub fn current_uid() -> u32 {
    0
}

/// Why a socket path may not be trusted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketTrust {
    /// The socket or its directory belongs to someone else (a squatter).
    #[error("{0} is owned by another user: refusing it")]
    ForeignOwner(String),
    /// The directory lets others in.
    #[error("{0} is accessible by other users (it must be mode 0700)")]
    OpenDirectory(String),
}

/// Checks that the socket file and its directory are ours and private.
#[cfg(unix)]
pub fn check_trusted(socket: &std::path::Path) -> Result<(), SocketTrust> {
    use std::os::unix::fs::MetadataExt;
    let me = current_uid();
    if let Some(dir) = socket.parent() {
        if let Ok(m) = std::fs::metadata(dir) {
            if m.uid() != me {
                return Err(SocketTrust::ForeignOwner(dir.display().to_string()));
            }
            if m.mode() & 0o077 != 0 {
                return Err(SocketTrust::OpenDirectory(dir.display().to_string()));
            }
        }
    }
    if let Ok(m) = std::fs::symlink_metadata(socket) {
        if m.uid() != me {
            return Err(SocketTrust::ForeignOwner(socket.display().to_string()));
        }
    }
    Ok(())
}
