//! Where the companion listens for relayed messages, and how a client reaches it safely: a
//! per-user Unix socket (Linux, macOS) or a per-user named pipe (Windows).
//!
//! Unix: the socket lives in a directory only its user can enter, and both ends check each
//! other's uid. Windows: the pipe's name is derived from the user's SID, its ACL admits only that
//! user, the companion creates it with `FILE_FLAG_FIRST_PIPE_INSTANCE` (so it refuses a name
//! someone already holds), and clients ([`connect`]) check that the server's process runs as
//! their own user before sending anything.

use std::path::{Path, PathBuf};

/// `$LIT_COMPANION_SOCKET`, else on Unix `$XDG_RUNTIME_DIR/lit-companion/bridge.sock`, else
/// `/tmp/lit-companion-<uid>/bridge.sock` (the directory is the user's alone, mode 0700); on
/// Windows the pipe `\\.\pipe\lit-companion-<SID>`.
pub fn default_socket_path() -> PathBuf {
    if let Some(p) = std::env::var_os("LIT_COMPANION_SOCKET").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    #[cfg(windows)]
    {
        PathBuf::from(default_pipe_name())
    }
    #[cfg(not(windows))]
    {
        if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR").filter(|p| !p.is_empty()) {
            return PathBuf::from(run).join("lit-companion").join("bridge.sock");
        }
        PathBuf::from(format!("/tmp/lit-companion-{}", current_uid())).join("bridge.sock")
    }
}

/// Where the desktop companion listens for its window (the control road): beside the bridge's
/// socket, `control.sock` in the same private directory on Unix; on Windows the bridge's pipe
/// name with `-control` after it.
pub fn control_socket_path() -> PathBuf {
    let bridge = default_socket_path();
    #[cfg(windows)]
    {
        PathBuf::from(format!("{}-control", bridge.display()))
    }
    #[cfg(not(windows))]
    {
        bridge.with_file_name("control.sock")
    }
}

/// The program process `pid` runs (its executable's path), as the OS tells it: `/proc` on
/// Linux, `ps` on macOS, `QueryFullProcessImageNameW` on Windows.
pub fn process_program(pid: u32) -> std::io::Result<PathBuf> {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_link(format!("/proc/{pid}/exe"))
    }
    #[cfg(windows)]
    {
        crate::windows::process_program(pid)
    }
    #[cfg(target_os = "macos")]
    {
        // macOS's `ps` prints the executable's full path for `comm`.
        let out = std::process::Command::new("/bin/ps")
            .args(["-p", &pid.to_string(), "-o", "comm="])
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()?;
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !out.status.success() || !path.starts_with('/') {
            return Err(std::io::Error::other(format!(
                "no program for process {pid}"
            )));
        }
        Ok(PathBuf::from(path))
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
    {
        Err(std::io::Error::other(format!(
            "no program for process {pid} on this OS"
        )))
    }
}

/// `\\.\pipe\lit-companion-<SID>` (the user name when the SID cannot be read). Pipe names are
/// one namespace for the whole machine: the SID keeps each user's apart, and the ACL and the
/// first-instance flag keep anyone else from holding it.
#[cfg(windows)]
pub fn default_pipe_name() -> String {
    let user = crate::windows::current_user()
        .and_then(|sid| sid.to_string_form())
        .unwrap_or_else(|_| std::env::var("USERNAME").unwrap_or_else(|_| "user".into()));
    format!(r"\\.\pipe\lit-companion-{user}")
}

/// The real user id of this process.
#[cfg(unix)]
pub fn current_uid() -> u32 {
    crate::current_uid()
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
    /// The directory is a symbolic link, or not a directory; or the socket is a symbolic link.
    #[error("{0} is a symbolic link or not what it should be: refusing it")]
    NotADirectory(String),
    /// The directory lets others in.
    #[error("{0} is accessible by other users (it must be mode 0700)")]
    OpenDirectory(String),
    /// The process serving the pipe runs as another user (a squatter), or cannot be told.
    #[error("{0} is served by a process of another user: refusing it")]
    ForeignServer(String),
}

/// Checks that the socket file and its directory are ours and private, following no symbolic
/// link: the directory must be a real directory of ours that nobody else may enter, and the
/// socket (when it exists) a file of ours. A missing directory is fine (nothing listens yet).
#[cfg(unix)]
pub fn check_trusted(socket: &Path) -> Result<(), SocketTrust> {
    use std::os::unix::fs::MetadataExt;
    let me = current_uid();
    if let Some(dir) = socket.parent() {
        if let Ok(m) = std::fs::symlink_metadata(dir) {
            if m.file_type().is_symlink() || !m.is_dir() {
                return Err(SocketTrust::NotADirectory(dir.display().to_string()));
            }
            if m.uid() != me {
                return Err(SocketTrust::ForeignOwner(dir.display().to_string()));
            }
            if m.mode() & 0o077 != 0 {
                return Err(SocketTrust::OpenDirectory(dir.display().to_string()));
            }
        }
    }
    if let Ok(m) = std::fs::symlink_metadata(socket) {
        if m.file_type().is_symlink() {
            return Err(SocketTrust::NotADirectory(socket.display().to_string()));
        }
        if m.uid() != me {
            return Err(SocketTrust::ForeignOwner(socket.display().to_string()));
        }
    }
    Ok(())
}

/// Linux: the process serving the socket at the other end of `stream` runs as this user
/// (`SO_PEERCRED`, as the kernel recorded it when the server called `listen`).
#[cfg(target_os = "linux")]
fn check_server(stream: &Stream, path: &Path) -> Result<(), SocketTrust> {
    match rustix::net::sockopt::socket_peercred(stream) {
        Ok(cred) if cred.uid.as_raw() == current_uid() => Ok(()),
        _ => Err(SocketTrust::ForeignServer(path.display().to_string())),
    }
}

/// Other Unix: the directory's and the socket's owners (checked before connecting) stand for
/// the server's; only the user can create a socket in a directory only they may enter.
#[cfg(all(unix, not(target_os = "linux")))]
fn check_server(_stream: &Stream, _path: &Path) -> Result<(), SocketTrust> {
    Ok(())
}

/// Windows: a pipe has no file to inspect beforehand; [`connect`] checks the server instead.
#[cfg(not(unix))]
pub fn check_trusted(_socket: &Path) -> Result<(), SocketTrust> {
    Ok(())
}

/// A connected client end of the road: frames are written and read on it (blocking).
#[cfg(unix)]
pub type Stream = std::os::unix::net::UnixStream;

/// A connected client end of the road: frames are written and read on it (blocking).
#[cfg(windows)]
pub type Stream = std::fs::File;

/// Why the companion could not be reached.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The socket or the pipe's server may not be trusted.
    #[error(transparent)]
    Untrusted(#[from] SocketTrust),
    /// Nothing answers there: the companion is not running.
    #[error("nothing is listening on {path}: {source}")]
    NotRunning {
        /// The socket or pipe.
        path: String,
        /// The OS's reason.
        source: std::io::Error,
    },
}

/// Connects to the companion at `path`, refusing a socket (Unix) or a pipe server (Windows)
/// that is not the current user's.
#[cfg(any(unix, windows))]
pub fn connect(path: &Path) -> Result<Stream, ConnectError> {
    let not_running = |source| ConnectError::NotRunning {
        path: path.display().to_string(),
        source,
    };
    #[cfg(unix)]
    {
        check_trusted(path)?;
        let stream = std::os::unix::net::UnixStream::connect(path).map_err(not_running)?;
        check_server(&stream, path)?;
        Ok(stream)
    }
    #[cfg(windows)]
    {
        use crate::windows;
        let pipe = windows::open_pipe(path).map_err(not_running)?;
        let ours = windows::pipe_server_pid(&pipe).is_ok_and(windows::is_same_user);
        if !ours {
            return Err(SocketTrust::ForeignServer(path.display().to_string()).into());
        }
        Ok(pipe)
    }
}
