//! Who is asking, as the transport (never the request body) established it.

use std::fmt;

use lit_companion_platform::PortOwner;
use lit_companion_session::Origin;
use lit_companion_vault::GrantKey;
use lit_companion_wire::{BridgeError, ErrorCode};

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

    /// The SIWE `uri` of a message that signs the caller in (a PKP's auth method): the origin
    /// (as the SDK's `EthWalletProvider` writes it); `http://localhost` for local programs.
    pub fn siwe_uri(&self) -> String {
        match &self.identity {
            Identity::Verified(o) | Identity::Claimed(o) => o.to_string(),
            Identity::Paired { .. } => "http://localhost".to_owned(),
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

    /// Why a browser-verified origin on this machine (`http://localhost:P`, a loopback IP) may
    /// not be served now: its port's listener is not the companion's user's. The browser vouches
    /// for the origin, not for who serves it: once the user's dev server stops, another OS user
    /// may bind the port, and pages it serves have the same origin. Checked on every request, so
    /// a grant follows the user's listener, never the port alone (docs/threat-model.md,
    /// "Loopback origins are owned").
    pub fn loopback_refusal(&self) -> Option<BridgeError> {
        let Identity::Verified(origin) = &self.identity else {
            return None;
        };
        if !origin.is_loopback() {
            return None;
        }
        let why = match lit_companion_platform::loopback_port_owner(origin.effective_port()) {
            Ok(PortOwner::Mine) => return None,
            Ok(PortOwner::Another) => "is served by another user of this computer",
            Ok(PortOwner::Nobody) => "is not served by any program of yours now",
            Ok(PortOwner::Unknown) => "cannot be checked: the companion cannot tell who serves it",
            Err(e) => {
                tracing::warn!(error = %e, "the owner of a loopback port could not be read");
                "cannot be checked: the companion cannot tell who serves it"
            }
        };
        Some(BridgeError::new(
            ErrorCode::Unauthorized,
            format!("{origin} {why}; refusing it"),
        ))
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
