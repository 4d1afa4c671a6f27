//! The OS calls the companion's roads need and std lacks, kept in one crate so that every other
//! crate of the workspace stays `forbid(unsafe_code)`; and where the per-user socket lives and
//! when it may be trusted ([`endpoint`]).
//!
//! - Unix: the real user id ([`current_uid`]), through rustix (no `unsafe` here).
//! - Linux ([`linux`]): the user owning one loopback TCP socket, asked of the kernel by the
//!   socket's addresses (netlink `sock_diag`; no `unsafe` here either).
//! - Starting the desktop app at login ([`autostart`]): an XDG autostart file, a LaunchAgent, or
//!   the `Run` value of the user's registry.
//! - Windows ([`windows`]): users are SIDs. The current user, the user a process runs as, the
//!   processes at either end of a named pipe, the process that owns a loopback TCP connection,
//!   and (feature `tokio`) a named-pipe server whose ACL admits only the current user.

pub mod autostart;
pub mod endpoint;

/// The real user id of this process.
#[cfg(unix)]
pub fn current_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Raises the soft limit of open files to `wanted`, within the hard limit; answers the soft
/// limit now in force (`None` where it cannot be read).
#[cfg(unix)]
pub fn raise_open_files(wanted: u64) -> Option<u64> {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    let current = limit.current?;
    let target = match limit.maximum {
        Some(max) => wanted.min(max),
        None => wanted,
    };
    if target > current {
        limit.current = Some(target);
        if setrlimit(Resource::Nofile, limit).is_ok() {
            return Some(target);
        }
    }
    Some(current)
}

/// Not Unix: no limit of open files to raise.
#[cfg(not(unix))]
pub fn raise_open_files(_wanted: u64) -> Option<u64> {
    None
}

/// Who listens on a loopback TCP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortOwner {
    /// Every listener a loopback connection could reach belongs to this user.
    Mine,
    /// One of them belongs to another user.
    Another,
    /// Nothing listens there.
    Nobody,
    /// The platform cannot tell.
    Unknown,
}

/// Who listens on loopback TCP `port` (Linux: `sock_diag`; Windows: the TCP table's owning
/// processes and their users; elsewhere: [`PortOwner::Unknown`]).
pub fn loopback_port_owner(port: u16) -> std::io::Result<PortOwner> {
    #[cfg(target_os = "linux")]
    {
        let me = current_uid();
        let uids = linux::tcp_listener_uids(port)?;
        Ok(if uids.is_empty() {
            PortOwner::Nobody
        } else if uids.iter().all(|u| *u == me) {
            PortOwner::Mine
        } else {
            PortOwner::Another
        })
    }
    #[cfg(windows)]
    {
        let pids = windows::tcp_listener_pids(port)?;
        Ok(if pids.is_empty() {
            PortOwner::Nobody
        } else if pids.iter().all(|p| windows::is_same_user(*p)) {
            PortOwner::Mine
        } else {
            PortOwner::Another
        })
    }
    #[cfg(not(any(target_os = "linux", windows)))]
    {
        let _ = port;
        Ok(PortOwner::Unknown)
    }
}

#[cfg(target_os = "linux")]
pub mod linux;

#[cfg(windows)]
#[allow(
    unsafe_code,
    reason = "Win32 calls; each `unsafe` block says what it relies on"
)]
pub mod windows;
