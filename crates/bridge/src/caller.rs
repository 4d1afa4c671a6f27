//! Who is asking, as the transport (never the request body) established it.

use std::fmt;

use lit_companion_session::Origin;
use lit_companion_vault::GrantKey;

/// Which road the request came by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Road {
    /// Loopback HTTP.
    Http,
    /// The browser extension, over native messaging.
    Extension,
    /// A `lit-companion://` deep link.
    DeepLink,
}

impl fmt::Display for Road {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Http => "loopback HTTP",
            Self::Extension => "browser extension",
            Self::DeepLink => "deep link",
        })
    }
}

/// The caller's identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Identity {
    /// A web origin the browser vouches for (Origin header, extension `sender.origin`).
    Verified(Origin),
    /// A web origin claimed by a deep link: shown as "not verified".
    Claimed(Origin),
    /// A local program holding a pairing token.
    Paired {
        /// The pairing's name.
        name: String,
    },
}

/// A caller.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Caller {
    /// Who.
    pub identity: Identity,
    /// By which road.
    pub road: Road,
}

impl Caller {
    /// A browser-verified origin.
    pub fn verified(origin: Origin, road: Road) -> Self {
        Self {
            identity: Identity::Verified(origin),
            road,
        }
    }

    /// The key grants are stored under. A claimed origin gets its own key so an unverified
    /// claim never reuses a verified origin's grants.
    pub fn grant_key(&self) -> GrantKey {
        match &self.identity {
            Identity::Verified(o) => GrantKey::Origin(o.clone()),
            Identity::Claimed(o) => GrantKey::Unverified(o.clone()),
            Identity::Paired { name } => GrantKey::Pairing(name.clone()),
        }
    }

    /// The site the caller belongs to, for fair limits: the origin's registrable domain (public
    /// suffix list; `a.example.com` and `b.example.com` are one site), its host when it has
    /// none (an IP, `localhost`), or the local program's pairing. A claimed origin counts
    /// against the site it claims.
    pub fn site(&self) -> String {
        match &self.identity {
            Identity::Verified(o) | Identity::Claimed(o) => {
                psl::domain_str(o.host()).unwrap_or(o.host()).to_owned()
            }
            Identity::Paired { name } => GrantKey::Pairing(name.clone()).to_string(),
        }
    }

    /// The SIWE domain: the origin's authority; `localhost` for local programs.
    pub fn siwe_domain(&self) -> String {
        match &self.identity {
            Identity::Verified(o) | Identity::Claimed(o) => o.authority(),
            Identity::Paired { .. } => "localhost".to_owned(),
        }
    }

    /// The line a prompt shows (PROMPT.md "Who is asking").
    pub fn describe(&self) -> String {
        match &self.identity {
            Identity::Verified(o) => format!("{} — verified by your browser", o.authority()),
            Identity::Claimed(o) => format!(
                "claims to be {} — not verified: opened from a link",
                o.authority()
            ),
            Identity::Paired { name } => format!("local program \"{name}\" (pairing token)"),
        }
    }

    /// Whether the identity is vouched for by the browser or a token.
    pub fn is_verified(&self) -> bool {
        !matches!(self.identity, Identity::Claimed(_))
    }
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} via {}", self.grant_key(), self.road)
    }
}
