//! A headless policy (`lit-companion serve --approve POLICY`): which callers may get what,
//! without a person to ask. The file is parsed once, at load, into typed rules: a rule that
//! does not parse refuses the whole file, with the line it ends on, before anything is served.

use std::{future::Future, path::Path, pin::Pin, time::Duration};

use lit_companion_net::NetworkName;
use lit_companion_session::{
    Ability, Address, LitResource, ResourceAbilityRequest, Wei, MAX_SESSION_LIFETIME,
};
use lit_companion_vault::GrantKey;
use serde::Deserialize;

use crate::approver::{ApprovalRequest, Approver, Decision};

/// The lifetime a rule allows when it names none.
const DEFAULT_RULE_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A policy: rules, each for one caller; a request is approved when one rule for its caller
/// allows every new request.
#[derive(Clone, Debug)]
pub struct Policy {
    rules: Vec<Rule>,
}

/// The file as written: each rule kept as its text, so that a rule that does not parse is
/// named by where it starts.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile<'a> {
    version: u32,
    #[serde(borrow)]
    rules: Vec<&'a serde_json::value::RawValue>,
}

/// One caller's allowance, typed.
#[derive(Clone, Debug, Deserialize)]
#[serde(try_from = "RuleFile")]
pub struct Rule {
    /// Whom it is for: an origin (`https://app.example.com`) or `pairing:<name>`.
    pub caller: GrantKey,
    /// Networks allowed; all when absent.
    pub networks: Option<Vec<NetworkName>>,
    /// Resource patterns: an exact resource, or a wildcard meaning any single resource of its
    /// kind. Requests that *name* the wildcard resource also need `allow_wildcards`.
    pub resources: Vec<LitResource>,
    /// Abilities allowed; all when absent.
    pub abilities: Option<Vec<Ability>>,
    /// May requests name wildcard resources (`lit-pkp://*`)?
    pub allow_wildcards: bool,
    /// May a deep link's unverified claim of this origin use the rule?
    pub unverified: bool,
    /// The longest session (never more than nodes accept).
    pub max_lifetime: Duration,
    /// Naga: the most a request may pay; any price up to the network's cap when absent.
    pub max_price: Option<Wei>,
    /// The signing wallets (local, browser or PKP: their Ethereum addresses) the rule approves;
    /// any wallet when absent. A rule never approves a wallet it does not name.
    pub wallets: Option<Vec<Address>>,
}

/// A rule as the file writes it (docs: README "Serving dapps").
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleFile {
    origin: String,
    #[serde(default)]
    networks: Option<Vec<String>>,
    resources: Vec<String>,
    #[serde(default)]
    abilities: Option<Vec<String>>,
    #[serde(default)]
    allow_wildcards: bool,
    #[serde(default, alias = "allowUnverified")]
    unverified: bool,
    #[serde(default)]
    max_lifetime_seconds: Option<u64>,
    #[serde(default)]
    max_price: Option<String>,
    #[serde(default)]
    wallets: Option<Vec<String>>,
}

impl TryFrom<RuleFile> for Rule {
    type Error = String;

    fn try_from(f: RuleFile) -> Result<Self, String> {
        let caller: GrantKey = f.origin.parse().map_err(|e| format!("origin: {e}"))?;
        if matches!(caller, GrantKey::Unverified(_)) {
            return Err(format!(
                "origin {:?}: name the origin itself and set \"unverified\": true",
                f.origin
            ));
        }
        let resources = f
            .resources
            .iter()
            .map(|p| LitResource::parse_key(p).map_err(|e| format!("{p}: {e}")))
            .collect::<Result<_, _>>()?;
        let abilities = f
            .abilities
            .as_deref()
            .map(parse_all::<Ability>)
            .transpose()?;
        let networks = f
            .networks
            .as_deref()
            .map(parse_all::<NetworkName>)
            .transpose()?;
        let max_price = f
            .max_price
            .map(|p| p.parse::<Wei>().map_err(|e| format!("maxPrice: {e}")))
            .transpose()?;
        let wallets = f
            .wallets
            .as_deref()
            .map(|list| match list {
                [] => {
                    Err("wallets: the list names no wallet (leave it out to allow any)".to_owned())
                }
                list => list.iter().map(|w| parse_wallet(w)).collect(),
            })
            .transpose()?;
        let longest = MAX_SESSION_LIFETIME.unsigned_abs();
        // Never more than nodes accept, whatever the file says.
        let max_lifetime = f
            .max_lifetime_seconds
            .map_or(DEFAULT_RULE_LIFETIME, Duration::from_secs)
            .min(longest);
        Ok(Rule {
            caller,
            networks,
            resources,
            abilities,
            allow_wildcards: f.allow_wildcards,
            unverified: f.unverified,
            max_lifetime,
            max_price,
            wallets,
        })
    }
}

/// A wallet a rule names: `0x` and 40 hex digits, all lowercase or EIP-55 checksummed (mixed
/// case is checked, so that a mistyped address is refused rather than never matched).
fn parse_wallet(text: &str) -> Result<Address, String> {
    let parsed = match text.strip_prefix("0x") {
        Some(digits) if digits.bytes().any(|b| b.is_ascii_uppercase()) => {
            Address::parse_checksummed(text)
        }
        Some(_) => Address::parse_any_case(text),
        None => Err(lit_companion_session::KeyError::Address),
    };
    parsed.map_err(|e| format!("wallets: {text:?}: {e}"))
}

/// Every item of a list, parsed.
fn parse_all<T: std::str::FromStr>(list: &[String]) -> Result<Vec<T>, String>
where
    T::Err: std::fmt::Display,
{
    list.iter()
        .map(|item| item.parse().map_err(|e: T::Err| e.to_string()))
        .collect()
}

/// Why a policy could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Unreadable file.
    #[error("cannot read the policy {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// Bad JSON, shape or value; a bad rule is named by its number and the line it starts on.
    #[error("the policy is invalid: {0}")]
    Invalid(String),
}

impl Policy {
    /// Loads and checks a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses and checks a policy: every rule is typed here, once.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let file: PolicyFile =
            serde_json::from_str(text).map_err(|e| PolicyError::Invalid(e.to_string()))?;
        if file.version != 1 {
            return Err(PolicyError::Invalid(format!(
                "version {} is not supported",
                file.version
            )));
        }
        let rules = file
            .rules
            .iter()
            .enumerate()
            .map(|(i, raw)| {
                serde_json::from_str::<Rule>(raw.get()).map_err(|e| {
                    // Where the rule starts in the file (the raw text borrows from it), and the
                    // reason without serde's position inside the rule.
                    let at = (raw.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
                    let line = text.get(..at).map_or(0, |t| t.matches('\n').count()) + 1;
                    let why = e.to_string();
                    let why = why
                        .rsplit_once(" at line ")
                        .map_or(why.as_str(), |(w, _)| w);
                    PolicyError::Invalid(format!("rule {} (line {line}): {why}", i + 1))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// The rules, as typed at load.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The decision for a request.
    pub fn decide(&self, request: &ApprovalRequest) -> Decision {
        // A request nobody can carry out is refused with one reason whatever the rules say, so
        // that a page learns from the policy no more than from a person (no wallet, or one this
        // road cannot reach, look alike).
        if request.unavailable.is_some() {
            return Decision::Reject {
                reason: "the request cannot be carried out".into(),
            };
        }
        let caller = request.caller.grant_key().claimed();
        let mut reasons = Vec::new();
        for rule in self.rules.iter().filter(|r| r.caller == caller) {
            match rule.allows(request) {
                Ok(lifetime) => return self.bounded(&caller, request, lifetime),
                Err(reason) => reasons.push(reason),
            }
        }
        let reason = reasons
            .into_iter()
            .next()
            .unwrap_or_else(|| format!("the policy has no rule for {caller}"));
        Decision::Reject { reason }
    }

    /// `lifetime`, unless a rule for `caller` covering any line the new AuthSig grants —
    /// already granted or new — allows less: a rule's `maxLifetimeSeconds` bounds every line
    /// it covers, whatever request carries it (an escalation re-signs the old lines with the
    /// new lifetime).
    fn bounded(
        &self,
        caller: &GrantKey,
        request: &ApprovalRequest,
        lifetime: Duration,
    ) -> Decision {
        // An approval that lengthens lines already granted re-signs them: each must be one a
        // rule would allow if it were asked now, or the policy would extend what it never
        // approved (say, a wildcard granted earlier at the screen).
        if !request.extended.is_empty() {
            let unruled = request
                .grant_requests
                .iter()
                .filter(|line| !request.new_requests.contains(line))
                .find(|line| {
                    !self
                        .rules
                        .iter()
                        .any(|r| r.caller == *caller && r.permits(request, line))
                });
            if let Some(line) = unruled {
                return Decision::Reject {
                    reason: format!(
                        "approving would lengthen {line}, which no rule of the policy allows"
                    ),
                };
            }
        }
        let strictest = request
            .grant_requests
            .iter()
            .flat_map(|line| {
                self.rules
                    .iter()
                    .filter(|r| r.caller == *caller && r.covers(request, line))
                    .map(move |r| (r.max_lifetime, line))
            })
            .min_by_key(|(max, _)| *max);
        match strictest {
            Some((max, line)) if lifetime > max => Decision::Reject {
                reason: format!(
                    "a session of {} s exceeds the policy's {} s for {line}",
                    lifetime.as_secs(),
                    max.as_secs()
                ),
            },
            _ => Decision::Approve { lifetime },
        }
    }
}

impl Rule {
    /// Whether the rule speaks of `line` as `request` carries it: the request's network,
    /// wallet and the line's ability are among the rule's own (or it names none), and the
    /// line's resource matches one of its patterns.
    fn covers(&self, request: &ApprovalRequest, line: &ResourceAbilityRequest) -> bool {
        self.allows_wallet(&request.wallet).is_ok()
            && self
                .networks
                .as_ref()
                .is_none_or(|ns| ns.iter().any(|n| n.as_str() == request.network))
            && self
                .abilities
                .as_ref()
                .is_none_or(|a| a.contains(&line.ability))
            && self.resources.iter().any(|pat| {
                pat.prefix() == line.resource.prefix()
                    && (pat.is_wildcard() || *pat == line.resource)
            })
    }

    /// Whether the rule would approve `line` if it were asked now: it covers it, and a
    /// wildcard only when the rule allows wildcards.
    fn permits(&self, request: &ApprovalRequest, line: &ResourceAbilityRequest) -> bool {
        self.covers(request, line) && (!line.resource.is_wildcard() || self.allow_wildcards)
    }

    /// Whether the rule approves requests signed by `wallet` (the request's EIP-55 address):
    /// any wallet when it names none, else only one it names.
    fn allows_wallet(&self, wallet: &str) -> Result<(), String> {
        let Some(wallets) = &self.wallets else {
            return Ok(());
        };
        if Address::parse_any_case(wallet).is_ok_and(|w| wallets.contains(&w)) {
            Ok(())
        } else {
            Err(format!(
                "wallet {wallet} is not one the policy allows for {}",
                self.caller
            ))
        }
    }

    fn allows(&self, request: &ApprovalRequest) -> Result<Duration, String> {
        if !request.verified && !self.unverified {
            return Err(
                "the origin is not verified (deep link) and the policy requires verification"
                    .into(),
            );
        }
        self.allows_wallet(&request.wallet)?;
        if let Some(networks) = &self.networks {
            if !networks.iter().any(|n| n.as_str() == request.network) {
                return Err(format!("network {} is not allowed", request.network));
            }
        }
        let price = request
            .max_price_wei
            .as_deref()
            .and_then(|p| p.parse::<Wei>().ok());
        if let (Some(price), Some(allowed)) = (price, self.max_price) {
            if price > allowed {
                return Err(format!(
                    "may pay up to {price} wei per request; the policy allows at most {allowed}"
                ));
            }
        }
        for r in &request.new_requests {
            if r.resource.is_wildcard() && !self.allow_wildcards {
                return Err(format!(
                    "{} names every resource of its kind; the policy forbids wildcards",
                    r.resource
                ));
            }
            if let Some(abilities) = &self.abilities {
                if !abilities.contains(&r.ability) {
                    return Err(format!("ability {} is not allowed", r.ability));
                }
            }
            let matched = self.resources.iter().any(|pat| {
                pat.prefix() == r.resource.prefix() && (pat.is_wildcard() || *pat == r.resource)
            });
            if !matched {
                return Err(format!("{} is not allowed", r.resource));
            }
        }
        if request.lifetime > self.max_lifetime {
            return Err(format!(
                "a session of {} s exceeds the policy's {} s",
                request.lifetime.as_secs(),
                self.max_lifetime.as_secs()
            ));
        }
        Ok(request.lifetime)
    }
}

impl Approver for Policy {
    fn approve(
        &self,
        request: ApprovalRequest,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>> {
        let decision = self.decide(&request);
        Box::pin(async move { decision })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_malformed_rule_is_refused_at_load_with_its_line() {
        for (text, says) in [
            (
                "{\"version\":1,\"rules\":[\n{\"origin\":\"https://a.example\",\"resources\":[\"lit-pkp://*\"]},\n{\"origin\":\"https://b.example\",\"resources\":[\"lit-nothing://1\"]}\n]}",
                "rule 2 (line 3)",
            ),
            (
                "{\"version\":1,\"rules\":[\n{\"origin\":\"https://a.example\",\"resources\":[],\n\"abilities\":[\"fly\"]}]}",
                "rule 1 (line 2)",
            ),
            (
                "{\"version\":1,\"rules\":[\n\n{\"origin\":\"not an origin\",\"resources\":[]}]}",
                "rule 1 (line 3)",
            ),
            (
                "{\"version\":1,\"rules\":[{\"origin\":\"https://a.example\",\"resources\":[],\"maxPrice\":\"1e18\"}]}",
                "maxPrice",
            ),
            (
                "{\"version\":1,\"rules\":[{\"origin\":\"unverified:https://a.example\",\"resources\":[]}]}",
                "\"unverified\": true",
            ),
        ] {
            let e = Policy::parse(text).unwrap_err().to_string();
            assert!(e.contains(says), "{e} should say {says}");
        }
    }

    const W1: &str = "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A";
    const W2: &str = "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF";

    fn one_rule(wallets: &str) -> Result<Rule, PolicyError> {
        Policy::parse(&format!(
            "{{\"version\":1,\"rules\":[{{\"origin\":\"https://a.example\",\"resources\":[\"lit-pkp://*\"],\"wallets\":{wallets}}}]}}"
        ))
        .map(|p| p.rules()[0].clone())
    }

    #[test]
    fn a_rule_with_wallets_approves_only_the_wallets_it_names() {
        // EIP-55 or all lowercase; the request's wallet in any case.
        let rule = one_rule(&format!("[\"{W1}\", \"{}\"]", W2.to_lowercase())).unwrap();
        assert_eq!(
            rule.wallets.as_deref().map(<[Address]>::len),
            Some(2),
            "{rule:?}"
        );
        assert!(rule.allows_wallet(W1).is_ok());
        assert!(rule.allows_wallet(&W2.to_lowercase()).is_ok());
        let other = "0x0000000000000000000000000000000000000001";
        let e = rule.allows_wallet(other).unwrap_err();
        assert!(e.contains(other) && e.contains("https://a.example"), "{e}");
        assert!(rule.allows_wallet("not an address").is_err());
        // Without `wallets`, any wallet.
        let any = Policy::parse(
            r#"{"version":1,"rules":[{"origin":"https://a.example","resources":[]}]}"#,
        )
        .unwrap();
        assert!(any.rules()[0].allows_wallet(other).is_ok());
    }

    #[test]
    fn a_bad_wallet_is_refused_at_load_with_its_rule_and_line() {
        let mistyped = W1.replace("E7e7", "e7e7"); // the checksum no longer holds
        for (wallets, says) in [
            (format!("[\"{mistyped}\"]"), "EIP-55"),
            ("[\"0x1234\"]".to_owned(), "40 hex"),
            (format!("[\"{}\"]", &W1[2..]), "40 hex"),
            ("[]".to_owned(), "names no wallet"),
            (
                "\"0x19e7e376e7c213b7e7e7e46cc70a5dd086daff2a\"".to_owned(),
                "sequence",
            ),
        ] {
            let text = format!(
                "{{\"version\":1,\"rules\":[\n{{\"origin\":\"https://a.example\",\"resources\":[]}},\n{{\"origin\":\"https://b.example\",\"resources\":[],\n\"wallets\":{wallets}}}]}}"
            );
            let e = Policy::parse(&text).unwrap_err().to_string();
            assert!(e.contains("rule 2 (line 3)"), "{e}");
            assert!(e.contains(says), "{e} should say {says}");
        }
    }

    #[test]
    fn rules_are_typed_once() {
        let p = Policy::parse(
            r#"{"version":1,"rules":[{"origin":"pairing:ci","networks":["datil-dev"],"resources":["lit-pkp://*"],"abilities":["pkp-signing"],"maxPrice":"1000","maxLifetimeSeconds":600}]}"#,
        )
        .unwrap();
        let r = &p.rules()[0];
        assert_eq!(r.caller, GrantKey::Pairing("ci".into()));
        assert!(r.resources[0].is_wildcard());
        assert_eq!(r.abilities.as_deref(), Some(&[Ability::PkpSigning][..]));
        assert_eq!(r.max_price, Some(Wei(1000)));
        assert_eq!(r.max_lifetime, Duration::from_secs(600));
    }
}
