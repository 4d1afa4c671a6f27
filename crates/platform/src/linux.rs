//! Linux: which user owns one TCP socket of this machine, asked of the kernel by the socket's
//! exact addresses through netlink `sock_diag` (`sock_diag(7)`, `SOCK_DIAG_BY_FAMILY` with an
//! `inet_diag_req_v2` naming one socket, no `NLM_F_DUMP`). The kernel answers from its socket
//! hash in constant time, however many connections the machine holds, and the answer is about
//! the socket as it is now: a socket that has gone is "not found", never an older one's owner.

use std::{
    io,
    net::{IpAddr, SocketAddr},
};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_sock_diag::{
    constants::{AF_INET, AF_INET6, IPPROTO_TCP, TCP_LISTEN},
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags},
    SockDiagMessage,
};
use netlink_sys::{protocols::NETLINK_SOCK_DIAG, Socket, SocketAddr as NetlinkAddr};

/// "Ignore the cookie": the socket is named by its addresses alone (`INET_DIAG_NOCOOKIE`).
const NO_COOKIE: [u8; 8] = [0xff; 8];

/// Room for the one answer, with plenty to spare.
const ANSWER_ROOM: usize = 8 * 1024;

/// Room for one batch of a dump's answers (the kernel fills at most a page or so per read).
const DUMP_ROOM: usize = 64 * 1024;

/// Sends one `sock_diag` request for TCP sockets of `family` in `states` (one socket named by
/// `socket_id`, or with `dump` every one) and answers the socket to read the kernel's answer from.
fn ask_kernel(
    family: u8,
    states: StateFlags,
    socket_id: SocketId,
    dump: bool,
) -> io::Result<Socket> {
    let mut header = NetlinkHeader::default();
    header.flags = if dump {
        NLM_F_REQUEST | NLM_F_DUMP
    } else {
        NLM_F_REQUEST
    };
    header.sequence_number = 1;
    let mut request = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states,
            socket_id,
        })
        .into(),
    );
    request.finalize();
    let mut out = vec![0; request.buffer_len()];
    request.serialize(&mut out);
    let socket = Socket::new(NETLINK_SOCK_DIAG)?;
    socket.connect(&NetlinkAddr::new(0, 0))?;
    socket.send(&out, 0)?;
    Ok(socket)
}

/// The uid owning the TCP socket whose local address is `local` and whose remote address is
/// `remote` (for a loopback connection accepted by us: `local` is the client's address, `remote`
/// our listener's). `Ok(None)` when the kernel knows no such connected socket. IPv4-mapped IPv6
/// addresses are looked up as the IPv4 socket they are.
pub fn tcp_socket_uid(local: SocketAddr, remote: SocketAddr) -> io::Result<Option<u32>> {
    let (local, remote) = (canonical(local), canonical(remote));
    let family = match (local.ip(), remote.ip()) {
        (IpAddr::V4(_), IpAddr::V4(_)) => AF_INET,
        (IpAddr::V6(_), IpAddr::V6(_)) => AF_INET6,
        _ => return Ok(None),
    };
    let wanted = SocketId {
        source_port: local.port(),
        destination_port: remote.port(),
        source_address: local.ip(),
        destination_address: remote.ip(),
        interface_id: 0,
        cookie: NO_COOKIE,
    };
    let socket = ask_kernel(family, StateFlags::all(), wanted.clone(), false)?;
    // One answer: the socket's `inet_diag_msg` (no extensions asked, so ~100 bytes), or an
    // error message (ENOENT when there is none).
    let mut answer = Vec::with_capacity(ANSWER_ROOM);
    socket.recv(&mut answer, 0)?;
    let reply = NetlinkMessage::<SockDiagMessage>::deserialize(&answer)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
    match reply.payload {
        NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(found))
            // The kernel's lookup falls back to listeners: only the connected socket itself
            // answers the question.
            if found.header.socket_id.source_port == wanted.source_port
                && found.header.socket_id.destination_port == wanted.destination_port
                && found.header.socket_id.source_address == wanted.source_address
                && found.header.socket_id.destination_address == wanted.destination_address
                && found.header.state != TCP_LISTEN =>
        {
            Ok(Some(found.header.uid))
        }
        NetlinkPayload::Error(e) if e.code.is_some() => match e.to_io() {
            err if err.kind() == io::ErrorKind::NotFound => Ok(None),
            err => Err(err),
        },
        _ => Ok(None),
    }
}

/// The uids owning the TCP listeners on `port` that a loopback connection could reach: bound
/// to a loopback or the unspecified address, IPv4 and IPv6 (a dump of listening sockets,
/// `NLM_F_DUMP` with only `TCP_LISTEN` asked; listeners are few).
pub fn tcp_listener_uids(port: u16) -> io::Result<Vec<u32>> {
    let mut uids = Vec::new();
    for family in [AF_INET, AF_INET6] {
        let any = if family == AF_INET {
            SocketId::new_v4()
        } else {
            SocketId::new_v6()
        };
        let socket = ask_kernel(family, StateFlags::LISTEN, any, true)?;
        'answers: loop {
            let mut answer = Vec::with_capacity(DUMP_ROOM);
            let read = socket.recv(&mut answer, 0)?;
            if read == 0 {
                break;
            }
            let mut at = 0;
            while at < answer.len() {
                let reply = NetlinkMessage::<SockDiagMessage>::deserialize(&answer[at..])
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                let length = reply.header.length as usize;
                match reply.payload {
                    NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(found)) => {
                        let id = &found.header.socket_id;
                        let reachable = id.source_address.is_loopback()
                            || id.source_address.is_unspecified()
                            || canonical(SocketAddr::new(id.source_address, 0))
                                .ip()
                                .is_loopback();
                        if found.header.state == TCP_LISTEN && id.source_port == port && reachable {
                            uids.push(found.header.uid);
                        }
                    }
                    NetlinkPayload::Done(_) => break 'answers,
                    NetlinkPayload::Error(e) if e.code.is_some() => return Err(e.to_io()),
                    _ => {}
                }
                if length == 0 {
                    break 'answers;
                }
                at += length.next_multiple_of(4);
            }
        }
    }
    Ok(uids)
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as the IPv4 address it is.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};

    use super::*;

    #[test]
    fn a_listener_is_found_by_its_port_with_its_owner() -> io::Result<()> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        assert_eq!(tcp_listener_uids(port)?, vec![crate::current_uid()]);
        drop(listener);
        assert_eq!(
            tcp_listener_uids(port)?,
            Vec::<u32>::new(),
            "gone when closed"
        );
        Ok(())
    }

    #[test]
    fn a_connection_is_owned_by_this_user_and_a_stranger_is_not_found() -> io::Result<()> {
        for host in ["127.0.0.1:0", "[::1]:0"] {
            let Ok(listener) = TcpListener::bind(host) else {
                continue; // no IPv6 loopback on this machine
            };
            let server = listener.local_addr()?;
            let client = TcpStream::connect(server)?;
            let (_accepted, peer) = listener.accept()?;
            assert_eq!(peer, client.local_addr()?);
            assert_eq!(
                tcp_socket_uid(peer, server)?,
                Some(crate::current_uid()),
                "{host}"
            );
            // The same addresses the other way round name our accepted socket, also ours.
            assert_eq!(tcp_socket_uid(server, peer)?, Some(crate::current_uid()));
            // A port nobody connected from.
            let stranger = SocketAddr::new(peer.ip(), 9);
            assert_eq!(tcp_socket_uid(stranger, server)?, None);
            // The listener is not a connection.
            let unspecified = SocketAddr::new(server.ip(), 0);
            assert_eq!(tcp_socket_uid(server, unspecified)?, None);
            drop(client);
        }
        Ok(())
    }
}
