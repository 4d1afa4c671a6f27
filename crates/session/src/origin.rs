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
    /// browsers never send one but people type it).
    pub fn parse(text: &str) -> Result<Self, ResourceError> {
        let bad =
            || ResourceError::BadKey(format!("origin {text:?} (expected https://host[:port])"));
        let (scheme, rest) = text.split_once("://").ok_or_else(bad)?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(bad());
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
            return Err(bad());
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                if h.starts_with('[') && !h.ends_with(']') {
                    (rest, None)
                } else {
                    (h, Some(p.parse::<u16>().map_err(|_| bad())?))
                }
            }
            _ => (rest, None),
        };
        let host = host.to_ascii_lowercase();
        let host_ok = !host.is_empty()
            && (host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                || (host.starts_with('[')
                    && host.ends_with(']')
                    && host[1..host.len() - 1]
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b':')));
        if !host_ok {
            return Err(bad());
        }
        let default = if scheme == "https" { 443 } else { 80 };
        let port = port.filter(|p| *p != default);
        Ok(Self { scheme, host, port })
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

    /// The SIWE domain: `host[:port]`.
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    /// Whether the host is the local machine (`localhost`, `127.0.0.0/8`, `[::1]`).
    pub fn is_loopback(&self) -> bool {
        self.host == "localhost"
            || self.host.ends_with(".localhost")
            || self.host.starts_with("127.")
            || self.host == "[::1]"
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
            "https://ex_ample.com",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
    }
}
