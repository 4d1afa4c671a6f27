//! Windows: who is on the other end. Users are security identifiers (SIDs); a process's user is
//! the user of its primary token. Per the Win32 docs, `GetNamedPipeServerProcessId` and
//! `GetNamedPipeClientProcessId` name the processes at a pipe's ends, and
//! `GetExtendedTcpTable(TCP_TABLE_OWNER_PID_ALL)` the process owning each TCP endpoint.
//! [`registry`]: the per-user registrations a Windows install makes (browser hosts, the
//! `lit-companion://` scheme).

pub mod registry;

use std::{
    fmt, io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    os::windows::io::AsRawHandle,
    ptr::null_mut,
};

use windows_sys::Win32::{
    Foundation::{CloseHandle, LocalFree, ERROR_INSUFFICIENT_BUFFER, HANDLE, NO_ERROR},
    NetworkManagement::IpHelper::{
        GetExtendedTcpTable, TCP_TABLE_CLASS, TCP_TABLE_OWNER_PID_ALL, TCP_TABLE_OWNER_PID_LISTENER,
    },
    Networking::WinSock::{AF_INET, AF_INET6},
    Security::{
        Authorization::ConvertSidToStringSidW, GetLengthSid, GetTokenInformation, TokenUser,
        TOKEN_QUERY, TOKEN_USER,
    },
    System::{
        Pipes::{GetNamedPipeClientProcessId, GetNamedPipeServerProcessId},
        Threading::{
            GetCurrentProcess, OpenProcess, OpenProcessToken, PROCESS_QUERY_LIMITED_INFORMATION,
        },
    },
};

/// A user's security identifier, as its bytes (two SIDs are the same user when their bytes are
/// equal, which is what `EqualSid` compares).
#[derive(Clone, PartialEq, Eq)]
pub struct Sid(Vec<u8>);

impl Sid {
    /// Its string form, `S-1-5-21-…`.
    pub fn to_string_form(&self) -> io::Result<String> {
        let mut bytes = self.0.clone();
        let mut text: *mut u16 = null_mut();
        // SAFETY: `bytes` holds a complete SID (copied from a token, `GetLengthSid` bytes long)
        // and outlives the call; on success `text` is a NUL-terminated string that we free
        // with `LocalFree` below, as the function's documentation asks.
        let ok = unsafe { ConvertSidToStringSidW(bytes.as_mut_ptr().cast(), &mut text) };
        if ok == 0 || text.is_null() {
            return Err(io::Error::last_os_error());
        }
        let mut len = 0;
        // SAFETY: `text` is NUL-terminated (see above); we read up to the NUL, then free it.
        let form = unsafe {
            while *text.add(len) != 0 {
                len += 1;
            }
            let form = String::from_utf16_lossy(std::slice::from_raw_parts(text, len));
            LocalFree(text.cast());
            form
        };
        Ok(form)
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_string_form() {
            Ok(s) => f.write_str(&s),
            Err(_) => f.debug_tuple("Sid").field(&self.0.len()).finish(),
        }
    }
}

/// A kernel handle closed on drop.
struct Handle(HANDLE);

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: the handle was opened by us and is closed once, here.
        unsafe { CloseHandle(self.0) };
    }
}

/// The user of an access token opened with `TOKEN_QUERY`.
fn token_user(token: &Handle) -> io::Result<Sid> {
    let mut len = 0u32;
    // SAFETY: a size query: no buffer, `len` receives the size needed.
    unsafe { GetTokenInformation(token.0, TokenUser, null_mut(), 0, &mut len) };
    if len == 0 {
        return Err(io::Error::last_os_error());
    }
    // u64s keep the buffer aligned for the TOKEN_USER (pointer-sized fields) it receives.
    let mut buf = vec![0u64; (len as usize).div_ceil(8)];
    // SAFETY: `buf` is at least `len` bytes and aligned for TOKEN_USER.
    let ok =
        unsafe { GetTokenInformation(token.0, TokenUser, buf.as_mut_ptr().cast(), len, &mut len) };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: on success the buffer starts with a TOKEN_USER whose SID points into the buffer,
    // which is alive; `GetLengthSid` gives the SID's length in bytes.
    let bytes = unsafe {
        let user = &*buf.as_ptr().cast::<TOKEN_USER>();
        let sid = user.User.Sid;
        let n = GetLengthSid(sid) as usize;
        std::slice::from_raw_parts(sid.cast::<u8>(), n).to_vec()
    };
    Ok(Sid(bytes))
}

/// The user this process runs as.
pub fn current_user() -> io::Result<Sid> {
    let mut token: HANDLE = null_mut();
    // SAFETY: the pseudo-handle of the current process needs no closing; `token` receives a
    // handle we own.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    token_user(&Handle(token))
}

/// The user process `pid` runs as. Fails for a process we may not query (another user's,
/// usually), which callers take as "not ours".
pub fn process_user(pid: u32) -> io::Result<Sid> {
    // SAFETY: plain call; a null handle is an error.
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return Err(io::Error::last_os_error());
    }
    let process = Handle(process);
    let mut token: HANDLE = null_mut();
    // SAFETY: `process` is a live handle with query rights; `token` receives a handle we own.
    if unsafe { OpenProcessToken(process.0, TOKEN_QUERY, &mut token) } == 0 {
        return Err(io::Error::last_os_error());
    }
    token_user(&Handle(token))
}

/// The full path of the program process `pid` runs.
pub fn process_program(pid: u32) -> io::Result<std::path::PathBuf> {
    use std::os::windows::ffi::OsStringExt;
    use windows_sys::Win32::System::Threading::{QueryFullProcessImageNameW, PROCESS_NAME_WIN32};
    // SAFETY: plain call; a null handle is an error.
    let process = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    if process.is_null() {
        return Err(io::Error::last_os_error());
    }
    let process = Handle(process);
    let mut buf = vec![0u16; 32_768];
    let mut len = buf.len() as u32;
    // SAFETY: `process` is live with query rights; `buf` holds `len` UTF-16 units and receives
    // the path, `len` its length.
    if unsafe {
        QueryFullProcessImageNameW(process.0, PROCESS_NAME_WIN32, buf.as_mut_ptr(), &mut len)
    } == 0
    {
        return Err(io::Error::last_os_error());
    }
    buf.truncate(len as usize);
    Ok(std::ffi::OsString::from_wide(&buf).into())
}

/// Whether process `pid` runs as this process's user. Anything that cannot be told is "no".
pub fn is_same_user(pid: u32) -> bool {
    matches!((current_user(), process_user(pid)), (Ok(me), Ok(them)) if me == them)
}

/// The process id of the server at the other end of a connected pipe client.
pub fn pipe_server_pid(pipe: &impl AsRawHandle) -> io::Result<u32> {
    let mut pid = 0u32;
    // SAFETY: `pipe` is a live pipe handle borrowed for the call.
    if unsafe { GetNamedPipeServerProcessId(pipe.as_raw_handle(), &mut pid) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pid)
}

/// The process id of the client connected to a pipe server instance.
pub fn pipe_client_pid(pipe: &impl AsRawHandle) -> io::Result<u32> {
    let mut pid = 0u32;
    // SAFETY: `pipe` is a live pipe handle borrowed for the call.
    if unsafe { GetNamedPipeClientProcessId(pipe.as_raw_handle(), &mut pid) } == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pid)
}

/// Opens the client end of the named pipe `name`, waiting briefly while every instance is busy
/// (the server makes the next one right after each connection). The server may only identify
/// us, never impersonate us (`SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION`).
pub fn open_pipe(name: &std::path::Path) -> io::Result<std::fs::File> {
    use std::os::windows::fs::OpenOptionsExt;
    const PIPE_BUSY: i32 = windows_sys::Win32::Foundation::ERROR_PIPE_BUSY as i32;
    let mut tries = 0;
    loop {
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .security_qos_flags(windows_sys::Win32::Storage::FileSystem::SECURITY_IDENTIFICATION)
            .open(name);
        match opened {
            Err(e) if e.raw_os_error() == Some(PIPE_BUSY) && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// The DACL that admits only `user` (full access) and nobody else, protected from inheritance:
/// SDDL `D:P(A;;GA;;;<SID>)`.
pub fn only_user_sddl(user: &Sid) -> io::Result<String> {
    Ok(format!("D:P(A;;GA;;;{})", user.to_string_form()?))
}

/// One instance of the named pipe `name` (`\\.\pipe\…`), its ACL admitting only the current
/// user, remote clients rejected. With `first`, `FILE_FLAG_FIRST_PIPE_INSTANCE`: creation fails
/// (access denied) when anyone, of any user, already holds the name, so nobody can squat it
/// before us and receive our clients.
#[cfg(feature = "tokio")]
pub fn create_pipe(
    name: &str,
    first: bool,
    user: &Sid,
) -> io::Result<tokio::net::windows::named_pipe::NamedPipeServer> {
    use windows_sys::Win32::Security::{
        Authorization::{ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1},
        SECURITY_ATTRIBUTES,
    };
    let sddl: Vec<u16> = only_user_sddl(user)?
        .encode_utf16()
        .chain(std::iter::once(0))
        .collect();
    let mut descriptor = null_mut();
    // SAFETY: `sddl` is NUL-terminated; on success `descriptor` is a LocalAlloc'ed security
    // descriptor we free below once the pipe is created (the pipe keeps its own copy).
    let ok = unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl.as_ptr(),
            SDDL_REVISION_1,
            &mut descriptor,
            null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    let mut attributes = SECURITY_ATTRIBUTES {
        nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: descriptor,
        bInheritHandle: 0,
    };
    let mut options = tokio::net::windows::named_pipe::ServerOptions::new();
    options
        .first_pipe_instance(first)
        .reject_remote_clients(true);
    // SAFETY: `attributes` and the descriptor it points to are valid for the call.
    let pipe =
        unsafe { options.create_with_security_attributes_raw(name, (&raw mut attributes).cast()) };
    // SAFETY: allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW above.
    unsafe { LocalFree(descriptor) };
    pipe
}

/// The process that owns the client end of the loopback TCP connection from `client` to
/// `server` (as the server sees them: its peer address and its local address). `None` when no
/// such connection is in the table.
pub fn tcp_client_pid(client: SocketAddr, server: SocketAddr) -> io::Result<Option<u32>> {
    let table = tcp_table(client.is_ipv4(), TCP_TABLE_OWNER_PID_ALL)?;
    Ok(rows(&table, client.is_ipv4())
        .into_iter()
        .find(|(local, remote, _)| *local == client && *remote == server)
        .map(|(_, _, pid)| pid))
}

/// The processes listening on TCP `port` that a loopback connection could reach: bound to a
/// loopback or the unspecified address, IPv4 and IPv6.
pub fn tcp_listener_pids(port: u16) -> io::Result<Vec<u32>> {
    let mut pids = Vec::new();
    for v4 in [true, false] {
        let table = tcp_table(v4, TCP_TABLE_OWNER_PID_LISTENER)?;
        pids.extend(
            rows(&table, v4)
                .into_iter()
                .filter(|(local, _, _)| {
                    local.port() == port
                        && (local.ip().is_loopback() || local.ip().is_unspecified())
                })
                .map(|(_, _, pid)| pid),
        );
    }
    Ok(pids)
}

/// `GetExtendedTcpTable` of one family and class, as bytes.
fn tcp_table(v4: bool, class: TCP_TABLE_CLASS) -> io::Result<Vec<u8>> {
    let family = if v4 { AF_INET } else { AF_INET6 };
    let mut size = 0u32;
    let mut buf: Vec<u32> = vec![0; 1];
    // The table can grow between the size query and the read: a few tries.
    for _ in 0..4 {
        // SAFETY: `buf` holds at least `size` bytes (4 on the first, size-query call).
        let rc = unsafe {
            GetExtendedTcpTable(
                buf.as_mut_ptr().cast(),
                &mut size,
                0,
                u32::from(family),
                class,
                0,
            )
        };
        if rc == ERROR_INSUFFICIENT_BUFFER {
            buf = vec![0; (size as usize).div_ceil(4) + 64];
            size = (buf.len() * 4) as u32;
            continue;
        }
        if rc != NO_ERROR {
            return Err(io::Error::from_raw_os_error(rc as i32));
        }
        return Ok(buf.iter().flat_map(|w| w.to_ne_bytes()).collect());
    }
    Err(io::Error::other("the TCP table kept growing"))
}

/// The rows of a `MIB_TCPTABLE_OWNER_PID` or `MIB_TCP6TABLE_OWNER_PID`: (local, remote, pid).
/// A u32 count, then rows; ports are in network order in the low 16 bits of their u32.
fn rows(table: &[u8], v4: bool) -> Vec<(SocketAddr, SocketAddr, u32)> {
    let word = |at: usize| -> Option<u32> {
        Some(u32::from_ne_bytes(table.get(at..at + 4)?.try_into().ok()?))
    };
    let port = |at: usize| -> Option<u16> {
        let b = table.get(at..at + 2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    };
    let row = |i: usize| -> Option<(SocketAddr, SocketAddr, u32)> {
        if v4 {
            // dwState, dwLocalAddr, dwLocalPort, dwRemoteAddr, dwRemotePort, dwOwningPid.
            let row = 4 + i * 24;
            let addr = |at: usize| -> Option<IpAddr> {
                let b: [u8; 4] = table.get(at..at + 4)?.try_into().ok()?;
                Some(IpAddr::V4(Ipv4Addr::from(b)))
            };
            Some((
                SocketAddr::new(addr(row + 4)?, port(row + 8)?),
                SocketAddr::new(addr(row + 12)?, port(row + 16)?),
                word(row + 20)?,
            ))
        } else {
            // ucLocalAddr[16], dwLocalScopeId, dwLocalPort, ucRemoteAddr[16], dwRemoteScopeId,
            // dwRemotePort, dwState, dwOwningPid.
            let row = 4 + i * 56;
            let addr = |at: usize| -> Option<IpAddr> {
                let b: [u8; 16] = table.get(at..at + 16)?.try_into().ok()?;
                Some(IpAddr::V6(Ipv6Addr::from(b)))
            };
            Some((
                SocketAddr::new(addr(row)?, port(row + 20)?),
                SocketAddr::new(addr(row + 24)?, port(row + 44)?),
                word(row + 52)?,
            ))
        }
    };
    let count = word(0).unwrap_or(0) as usize;
    (0..count).map_while(row).collect()
}
