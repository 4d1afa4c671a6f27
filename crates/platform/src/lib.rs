//! The OS calls the companion's roads need and std lacks, kept in one crate so that every other
//! crate of the workspace stays `forbid(unsafe_code)`; and where the per-user socket lives and
//! when it may be trusted ([`endpoint`]).
//!
//! - Unix: the real user id ([`current_uid`]), through rustix (no `unsafe` here).
//! - Linux ([`linux`]): the user owning one loopback TCP socket, asked of the kernel by the
//!   socket's addresses (netlink `sock_diag`; no `unsafe` here either).
//! - Windows ([`windows`]): users are SIDs. The current user, the user a process runs as, the
//!   processes at either end of a named pipe, the process that owns a loopback TCP connection,
//!   and (feature `tokio`) a named-pipe server whose ACL admits only the current user.

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

#[cfg(target_os = "linux")]
pub mod linux;

#[cfg(windows)]
#[allow(
    unsafe_code,
    reason = "Win32 calls; each `unsafe` block says what it relies on"
)]
pub mod windows;
