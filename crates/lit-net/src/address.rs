//! Which node addresses belong on a public network. A public network's nodes are servers on the
//! internet; a validator listed at an address that leads into this machine or the user's own
//! network (the router's admin page, a local dev server, a cloud metadata service) would turn
//! the companion into a way in. Lit's own networks refuse such addresses from the chain; a
//! custom network may accept them when the user says so (a test network on their LAN).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is an ordinary public internet address: not unspecified, loopback, private,
/// shared, link-local, multicast or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(
        // 0.0.0.0/8: "this host on this network" (RFC 791, RFC 6890 §2.2.2).
        a == 0
        // 127.0.0.0/8: loopback (RFC 1122 §3.2.1.3).
        || ip.is_loopback()
        // 10/8, 172.16/12, 192.168/16: private networks (RFC 1918 §3).
        || ip.is_private()
        // 100.64.0.0/10: shared address space behind carrier-grade NAT (RFC 6598).
        || (a == 100 && (64..128).contains(&b))
        // 169.254.0.0/16: link-local (RFC 3927), where cloud metadata services answer.
        || ip.is_link_local()
        // 192.0.0.0/24: IETF protocol assignments, not globally routable (RFC 6890 §2.2.2).
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        // 224.0.0.0/4: multicast (RFC 5771); 240.0.0.0/4 reserved, with the broadcast address
        // (RFC 1112 §4, RFC 919).
        || a >= 224
    )
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        // ::ffff:a.b.c.d reaches the IPv4 address (RFC 4291 §2.5.5.2).
        return is_public_v4(v4);
    }
    let first = ip.segments()[0];
    !(
        // ::, ::1 (RFC 4291 §2.5.2, §2.5.3).
        ip.is_unspecified()
        || ip.is_loopback()
        // fc00::/7: unique local addresses (RFC 4193).
        || ip.is_unique_local()
        // fe80::/10: link-local (RFC 4291 §2.5.6).
        || ip.is_unicast_link_local()
        // fec0::/10: the deprecated site-local range (RFC 3879), still private where used.
        || (first & 0xffc0) == 0xfec0
        // ff00::/8: multicast (RFC 4291 §2.7).
        || ip.is_multicast()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_and_link_local_addresses_are_not_public() {
        for local in [
            "0.0.0.0",
            "0.1.2.3",
            "127.0.0.1",
            "127.255.255.254",
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.255",
            "169.254.169.254",
            "192.0.0.8",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fc00::1",
            "fd12:3456:789a::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            let ip: IpAddr = local.parse().unwrap();
            assert!(!is_public(ip), "{local} passed as public");
        }
    }

    #[test]
    fn internet_addresses_are_public() {
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.0.1",
            "192.0.1.1",
            "192.169.0.1",
            "198.51.100.7",
            "203.0.113.250",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2001:db8::1",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = public.parse().unwrap();
            assert!(is_public(ip), "{public} refused");
        }
    }
}
