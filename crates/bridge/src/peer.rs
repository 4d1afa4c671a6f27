//! Which OS user is on the other end of a loopback TCP connection: the one decision the HTTP
//! road makes before anything else. Any local process can send `Origin` and Fetch Metadata
//! headers, so a browser origin is believed only from a connection of the companion's own OS
//! user; another user's connection is refused, and one whose user cannot be told is served only
//! with a pairing token.
//!
//! Linux: the client's end of the connection is the socket whose local address is our peer and
//! whose remote address is our listener, in `/proc/net/tcp` and `tcp6` (read with `procfs`);
//! its `uid` is the answer. A table read is shared by the connections accepted before it (a
//! burst of a thousand costs a few reads), and never used for a connection accepted after it.
//! Windows: the process owning the client's end (`GetExtendedTcpTable`), and the user of that
//! process's token. macOS: not decided here yet ([`PeerUser::Unknown`]).

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{extract::connect_info::Connected, serve::IncomingStream};
use tokio::{net::TcpListener, sync::OnceCell};

/// Who the peer is, relative to the companion's OS user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeerUser {
    /// The companion's own user.
    Same,
    /// Another OS user (their uid).
    Other(u32),
    /// The platform cannot tell.
    Unknown,
}

/// One accepted connection: its addresses, when it was accepted, and its peer's user once
/// looked up (at most once per connection).
#[derive(Clone, Debug)]
pub struct Connection {
    peer: SocketAddr,
    local: Option<SocketAddr>,
    accepted: Instant,
    user: Arc<OnceCell<PeerUser>>,
}

impl Connected<IncomingStream<'_, TcpListener>> for Connection {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Self {
        Self {
            peer: *stream.remote_addr(),
            local: stream.io().local_addr().ok(),
            accepted: Instant::now(),
            user: Arc::new(OnceCell::new()),
        }
    }
}

/// Looks peers up, sharing table reads between connections.
#[derive(Debug, Default)]
pub struct PeerTable {
    snapshot: Mutex<Option<Arc<Snapshot>>>,
    reading: tokio::sync::Mutex<()>,
}

#[derive(Debug)]
struct Snapshot {
    taken: Instant,
    /// Which table was read: `tcp6` (IPv6 listeners) or `tcp`.
    v6: bool,
    /// (client address, server address) → uid of the client's socket.
    owners: HashMap<(SocketAddr, SocketAddr), u32>,
}

impl PeerTable {
    /// The user on the other end of `conn`.
    pub async fn user(&self, conn: &Connection) -> PeerUser {
        *conn.user.get_or_init(|| self.look_up(conn)).await
    }

    async fn look_up(&self, conn: &Connection) -> PeerUser {
        let Some(local) = conn.local else {
            return PeerUser::Unknown;
        };
        if cfg!(windows) {
            let peer = conn.peer;
            return tokio::task::spawn_blocking(move || windows_peer(peer, local))
                .await
                .unwrap_or(PeerUser::Unknown);
        }
        if !cfg!(target_os = "linux") {
            return PeerUser::Unknown;
        }
        let key = (conn.peer, local);
        if let Some(found) = self.snapshot_answer(conn, key) {
            return found;
        }
        let _one = self.reading.lock().await;
        if let Some(found) = self.snapshot_answer(conn, key) {
            return found;
        }
        let taken = Instant::now();
        // Only the listener's own family: reading a table costs the kernel a walk of it.
        let v6 = local.is_ipv6();
        let owners = tokio::task::spawn_blocking(move || read_owners(v6))
            .await
            .unwrap_or_default();
        let snapshot = Arc::new(Snapshot { taken, v6, owners });
        if let Ok(mut s) = self.snapshot.lock() {
            *s = Some(snapshot.clone());
        }
        classify(snapshot.owners.get(&key).copied())
    }

    /// The answer from the last table read, when that read came after the connection was
    /// accepted (an older read may describe an earlier connection from the same port).
    fn snapshot_answer(
        &self,
        conn: &Connection,
        key: (SocketAddr, SocketAddr),
    ) -> Option<PeerUser> {
        let snapshot = self.snapshot.lock().ok()?.clone()?;
        if snapshot.taken < conn.accepted || snapshot.v6 != key.1.is_ipv6() {
            return None;
        }
        Some(classify(snapshot.owners.get(&key).copied()))
    }
}

#[cfg(unix)]
fn classify(uid: Option<u32>) -> PeerUser {
    match uid {
        Some(uid) if uid == lit_companion_wire::endpoint::current_uid() => PeerUser::Same,
        Some(uid) => PeerUser::Other(uid),
        None => PeerUser::Unknown,
    }
}

#[cfg(not(unix))]
fn classify(_uid: Option<u32>) -> PeerUser {
    PeerUser::Unknown
}

/// Windows: the process owning the client's end (`GetExtendedTcpTable`), then its token's user.
/// Another user's process, or one we may not query, is another user; Windows has no uid to
/// report, so it is `Other(0)`.
#[cfg(windows)]
fn windows_peer(client: SocketAddr, server: SocketAddr) -> PeerUser {
    use lit_companion_platform::windows;
    match windows::tcp_client_pid(client, server) {
        Ok(Some(pid)) if windows::is_same_user(pid) => PeerUser::Same,
        Ok(Some(_)) => PeerUser::Other(0),
        _ => PeerUser::Unknown,
    }
}

#[cfg(not(windows))]
fn windows_peer(_client: SocketAddr, _server: SocketAddr) -> PeerUser {
    PeerUser::Unknown
}

/// (client address, server address) → uid, from `/proc/net/tcp6` or `/proc/net/tcp`.
#[cfg(target_os = "linux")]
fn read_owners(v6: bool) -> HashMap<(SocketAddr, SocketAddr), u32> {
    let table = if v6 {
        procfs::net::tcp6()
    } else {
        procfs::net::tcp()
    };
    table
        .into_iter()
        .flatten()
        .map(|e| ((e.local_address, e.remote_address), e.uid))
        .collect()
}

#[cfg(not(target_os = "linux"))]
fn read_owners(_v6: bool) -> HashMap<(SocketAddr, SocketAddr), u32> {
    HashMap::new()
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn our_own_connection_is_ours() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (server_side, peer) = listener.accept().await.unwrap();
        let conn = Connection {
            peer,
            local: server_side.local_addr().ok(),
            accepted: Instant::now(),
            user: Arc::new(OnceCell::new()),
        };
        let table = PeerTable::default();
        assert_eq!(table.user(&conn).await, PeerUser::Same);
        // A connection that is not in the table cannot be told.
        let stranger = Connection {
            peer: "127.0.0.1:9".parse().unwrap(),
            accepted: Instant::now(),
            user: Arc::new(OnceCell::new()),
            ..conn
        };
        assert_eq!(table.user(&stranger).await, PeerUser::Unknown);
        drop(client);
    }
}
