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

#[cfg(target_os = "linux")]
pub mod linux;

#[cfg(windows)]
#[allow(
    unsafe_code,
    reason = "Win32 calls; each `unsafe` block says what it relies on"
)]
pub mod windows;
