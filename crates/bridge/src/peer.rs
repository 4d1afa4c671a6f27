//! Which OS user is on the other end of a loopback TCP connection: the one decision the HTTP
//! road makes before anything else. Any local process can send `Origin` and Fetch Metadata
//! headers, so a browser origin is believed only from a connection of the companion's own OS
//! user; another user's connection is refused, and one whose user cannot be told is served only
//! with a pairing token.
//!
//! Linux: the kernel is asked for the client's end of the connection by its exact addresses
//! (netlink `sock_diag`, [`lit_companion_platform::linux`]): the socket whose local address is
//! our peer and whose remote address is our listener; its owner's uid is the answer. One lookup
//! per connection, in constant time however many connections are open, and always about the
//! socket as it is now.
//! Windows: the process owning the client's end (`GetExtendedTcpTable`), and the user of that
//! process's token. macOS: not decided here yet ([`PeerUser::Unknown`]).

use std::{net::SocketAddr, sync::Arc};

use tokio::sync::OnceCell;

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

/// One accepted connection: its addresses, and its peer's user once looked up (at most once per
/// connection).
#[derive(Clone, Debug)]
pub struct Connection {
    peer: SocketAddr,
    local: Option<SocketAddr>,
    user: Arc<OnceCell<PeerUser>>,
}

impl Connection {
    /// A connection just accepted from `peer` on our `local` address; its user is looked up
    /// on first use.
    pub fn accepted(peer: SocketAddr, local: Option<SocketAddr>) -> Self {
        Self {
            peer,
            local,
            user: Arc::new(OnceCell::new()),
        }
    }
}

/// The user on the other end of `conn`, looked up once per connection.
pub async fn user(conn: &Connection) -> PeerUser {
    *conn.user.get_or_init(|| look_up(conn)).await
}

async fn look_up(conn: &Connection) -> PeerUser {
    let Some(local) = conn.local else {
        return PeerUser::Unknown;
    };
    let peer = conn.peer;
    tokio::task::spawn_blocking(move || os_peer(peer, local))
        .await
        .unwrap_or(PeerUser::Unknown)
}

/// Linux: the uid owning the client's end of the connection `client` → `server`.
#[cfg(target_os = "linux")]
fn os_peer(client: SocketAddr, server: SocketAddr) -> PeerUser {
    match lit_companion_platform::linux::tcp_socket_uid(client, server) {
        Ok(Some(uid)) if uid == lit_companion_platform::endpoint::current_uid() => PeerUser::Same,
        Ok(Some(uid)) => PeerUser::Other(uid),
        Ok(None) => PeerUser::Unknown,
        Err(e) => {
            tracing::warn!(error = %e, "peer lookup failed; the caller is treated as unknown");
            PeerUser::Unknown
        }
    }
}

/// Windows: the process owning the client's end (`GetExtendedTcpTable`), then its token's user.
/// Another user's process, or one we may not query, is another user; Windows has no uid to
/// report, so it is `Other(0)`.
#[cfg(windows)]
fn os_peer(client: SocketAddr, server: SocketAddr) -> PeerUser {
    use lit_companion_platform::windows;
    match windows::tcp_client_pid(client, server) {
        Ok(Some(pid)) if windows::is_same_user(pid) => PeerUser::Same,
        Ok(Some(_)) => PeerUser::Other(0),
        _ => PeerUser::Unknown,
    }
}

/// Elsewhere (macOS): not decided yet.
#[cfg(not(any(target_os = "linux", windows)))]
fn os_peer(_client: SocketAddr, _server: SocketAddr) -> PeerUser {
    PeerUser::Unknown
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use tokio::net::TcpListener;

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
            user: Arc::new(OnceCell::new()),
        };
        assert_eq!(user(&conn).await, PeerUser::Same);
        // A connection that is not in the table cannot be told.
        let stranger = Connection {
            peer: "127.0.0.1:9".parse().unwrap(),
            user: Arc::new(OnceCell::new()),
            ..conn
        };
        assert_eq!(user(&stranger).await, PeerUser::Unknown);
        drop(client);
    }
}
