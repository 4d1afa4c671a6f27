//! Web origins (RFC 6454): `scheme://host[:port]`, the identity a caller is known by. The SIWE
//! `domain` of a session is the origin's host (and port, when not the scheme's default), as
//! EIP-4361 §"Message Field Descriptions" asks ("the RFC 3986 authority that is requesting the
//! signing").

use std::fmt;

use crate::error::ResourceError;

/// A normalised origin: lowercase scheme and host, default ports dropped.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    /// Parses `http(s)://host[:port]` with nothing after it (a trailing `/` is tolerated, as
    /// browsers never send one but people type it). Parsed with the `url` crate (WHATWG URL):
    /// hosts are IDNA-mapped to ASCII, IP literals normalised, default ports dropped.
    pub fn parse(text: &str) -> Result<Self, ResourceError> {
        let bad =
            || ResourceError::BadKey(format!("origin {text:?} (expected https://host[:port])"));
        if text.contains(|c: char| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let url = url::Url::parse(text).map_err(|_| bad())?;
        let scheme = url.scheme().to_owned();
        if scheme != "https" && scheme != "http" {
            return Err(bad());
        }
        let bare = url.username().is_empty()
            && url.password().is_none()
            && url.path() == "/"
            && url.query().is_none()
            && url.fragment().is_none()
            && !text.ends_with("//");
        if !bare {
            return Err(bad());
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(bad)?;
        Ok(Self {
            scheme,
            host: host.to_owned(),
            port: url.port(),
        })
    }

    /// `https` or `http`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host, lowercase.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The explicit, non-default port.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The port a browser connects to: the explicit one, else the scheme's (80, 443).
    pub fn effective_port(&self) -> u16 {
        self.port
            .unwrap_or(if self.scheme == "https" { 443 } else { 80 })
    }

    /// The SIWE domain: `host[:port]`.
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// Whether the host is this machine: a loopback IP literal (`127.0.0.0/8`, `[::1]`, an
    /// IPv4-mapped `[::ffff:127.x.y.z]`), `localhost` or a name under it (`app.localhost`:
    /// RFC 6761 §6.3, and browsers resolve them to loopback) — never a name that merely starts
    /// like one (`127.evil.example`, `localhost.evil.example`).
    pub fn is_loopback(&self) -> bool {
        let literal = self.host.trim_start_matches('[').trim_end_matches(']');
        self.host == "localhost"
            || self.host.ends_with(".localhost")
            || literal
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.to_canonical().is_loopback())
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let o = Origin::parse("HTTPS://App.Example.com:443/").unwrap();
        assert_eq!(o.to_string(), "https://app.example.com");
        assert_eq!(o.authority(), "app.example.com");
        let o = Origin::parse("http://localhost:5173").unwrap();
        assert_eq!(o.authority(), "localhost:5173");
        assert!(o.is_loopback());
        assert_eq!(
            Origin::parse("http://[::1]:8080").unwrap().authority(),
            "[::1]:8080"
        );
    }

    #[test]
    fn refuses_what_is_not_an_origin() {
        for bad in [
            "app.example.com",
            "ftp://x",
            "https://a/b",
            "https://u@a",
            "https://",
            "https://a:99999",
            "https://a b",
            "https://a?x",
            "https://a#x",
            "https://a:1/path",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hosts_are_parsed_not_matched_by_prefix() {
        let idn = Origin::parse("https://BÜCHER.example").unwrap();
        assert_eq!(idn.host(), "xn--bcher-kva.example");
        for (text, loopback) in [
            ("http://127.0.0.1:3000", true),
            ("http://127.1.2.3", true),
            ("http://[::1]", true),
            ("http://localhost:5173", true),
            ("http://127.evil.example", false),
            ("http://localhost.evil.example", false),
            ("http://app.localhost", true),
            ("http://[::ffff:127.0.0.1]:8080", true),
            ("http://applocalhost", false),
            ("http://0x7f.example", false),
            ("https://app.example.com", false),
        ] {
            assert_eq!(
                Origin::parse(text).unwrap().is_loopback(),
                loopback,
                "{text}"
            );
        }
        // The same origin however it is written.
        assert_eq!(
            Origin::parse("HTTPS://App.Example.COM:443/").unwrap(),
            Origin::parse("https://app.example.com").unwrap()
        );
    }
}
