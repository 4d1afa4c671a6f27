//! Whom a grant belongs to: the one key sessions, policies, limits and history use for a caller.
//! Written as text in the metadata, the history and policy files: `https://app.example.com` for
//! an origin the browser vouched for, `unverified:https://app.example.com` for an origin a deep
//! link only claims (so a claim never reuses a verified origin's grants), `pairing:ci-runner` for
//! a local program with a pairing token.

use std::{fmt, str::FromStr};

use lit_companion_session::Origin;

const UNVERIFIED: &str = "unverified:";
const PAIRING: &str = "pairing:";

/// Whom a grant belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GrantKey {
    /// A web origin the browser vouched for.
    Origin(Origin),
    /// A web origin a deep link claims, not verified.
    Unverified(Origin),
    /// A local program holding the pairing token of this name.
    Pairing(String),
}

/// A grant key that does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is neither a web origin, `unverified:<origin>` nor `pairing:<name>`")]
pub struct GrantKeyError(pub String);

impl GrantKey {
    /// Whom the caller says it is, verified or not: what a policy rule names (a rule for an
    /// origin covers a deep link's claim of it only when the rule says `unverified`).
    pub fn claimed(&self) -> GrantKey {
        match self {
            Self::Unverified(o) => Self::Origin(o.clone()),
            other => other.clone(),
        }
    }

    /// For people: `app.example.com`, `app.example.com (not verified)`,
    /// `local program "ci-runner"`.
    pub fn label(&self) -> String {
        match self {
            Self::Origin(o) => o.authority(),
            Self::Unverified(o) => format!("{} (not verified)", o.authority()),
            Self::Pairing(name) => format!("local program \"{name}\""),
        }
    }
}

impl fmt::Display for GrantKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Origin(o) => write!(f, "{o}"),
            Self::Unverified(o) => write!(f, "{UNVERIFIED}{o}"),
            Self::Pairing(name) => write!(f, "{PAIRING}{name}"),
        }
    }
}

impl FromStr for GrantKey {
    type Err = GrantKeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || GrantKeyError(s.to_owned());
        if let Some(name) = s.strip_prefix(PAIRING) {
            return if name.is_empty() {
                Err(bad())
            } else {
                Ok(Self::Pairing(name.to_owned()))
            };
        }
        if let Some(origin) = s.strip_prefix(UNVERIFIED) {
            return Origin::parse(origin)
                .map(Self::Unverified)
                .map_err(|_| bad());
        }
        Origin::parse(s).map(Self::Origin).map_err(|_| bad())
    }
}

lit_companion_session::serde_as_text!(GrantKey);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_text() {
        for text in [
            "https://app.example.com",
            "http://localhost:3000",
            "unverified:https://app.example.com",
            "pairing:ci-runner",
        ] {
            let key: GrantKey = text.parse().unwrap();
            assert_eq!(key.to_string(), text);
            let json = serde_json::to_string(&key).unwrap();
            assert_eq!(serde_json::from_str::<GrantKey>(&json).unwrap(), key);
        }
    }

    #[test]
    fn labels_and_claims() {
        let claimed: GrantKey = "unverified:https://app.example.com".parse().unwrap();
        assert_eq!(claimed.label(), "app.example.com (not verified)");
        assert_eq!(claimed.claimed().to_string(), "https://app.example.com");
        let paired: GrantKey = "pairing:ci-runner".parse().unwrap();
        assert_eq!(paired.label(), "local program \"ci-runner\"");
        assert_eq!(paired.claimed(), paired);
    }

    #[test]
    fn what_is_not_a_grant_key_is_refused() {
        for text in [
            "",
            "pairing:",
            "unverified:",
            "unverified:pairing:x",
            "ftp://x",
            "app.example.com",
        ] {
            assert!(text.parse::<GrantKey>().is_err(), "{text}");
        }
    }
}
