//! Plain-language descriptions of capabilities and their risks: the one place the app's
//! prompt, the CLI's `siwe explain` and the extension's popup take their words from.
//!
//! Sentences are short and in the user's terms (their PKP, their data, their balance); every
//! line carries a risk level and the flags that raised it.

use std::str::FromStr;

use serde::Serialize;
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use crate::{
    error::AuthSigError,
    message::DELEGATION_URI,
    recap::{Caveats, Recap},
    resource::{ResourceAbilityRequest, ResourcePrefix},
    wallet::Address,
};

/// How much a line should worry the user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Nothing is granted or nothing can be lost.
    Info,
    /// Limited power, or it spends something.
    Caution,
    /// Broad power over what the user owns.
    Danger,
}

/// Why a line or a message is risky.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RiskFlag {
    /// `<prefix>://*`: every resource of a kind.
    WildcardResource,
    /// `*/*`: every ability.
    EveryAbility,
    /// Lets another address use the user's credit or balance.
    Delegation,
    /// Spends the user's credit or balance.
    SpendsFunds,
    /// Valid for more than 7 days.
    LongLifetime,
    /// Valid for more than 30 days: nodes refuse it.
    LifetimeOverLimit,
    /// A resource or ability this app does not know.
    Unknown,
    /// May pay more per request than [`HIGH_PRICE_WEI`].
    HighPrice,
}

impl RiskFlag {
    /// The flag in words, as every prompt shows it.
    pub fn words(self) -> &'static str {
        match self {
            Self::WildcardResource => "Covers every resource of a kind, not just one",
            Self::EveryAbility => "Every ability Lit has",
            Self::Delegation => "Lets someone else use your credit or balance",
            Self::SpendsFunds => "Spends your credit or balance",
            Self::LongLifetime => "Lasts more than 7 days",
            Self::LifetimeOverLimit => "Longer than 30 days: Lit nodes refuse it",
            Self::Unknown => "Something Lit Companion does not recognise",
            Self::HighPrice => "May spend more than 0.1 of your Lit balance per request",
        }
    }
}

/// A per-request price above this (0.1 of the network's token) is shown as a risk.
pub const HIGH_PRICE_WEI: u128 = 100_000_000_000_000_000;

/// "May spend up to 0.05 of your Lit balance per request", and a flag when that is a lot.
pub fn describe_price(max_price_wei: u128) -> (String, Option<RiskFlag>) {
    let text = format!(
        "May spend up to {} of your Lit balance per request",
        crate::Wei(max_price_wei).units()
    );
    (
        text,
        (max_price_wei > HIGH_PRICE_WEI).then_some(RiskFlag::HighPrice),
    )
}

/// One sentence: what a grant lets the holder do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CapabilityLine {
    /// The resource URI (`lit-pkp://…`).
    pub resource: String,
    /// The ReCap ability key (`Threshold/Signing`).
    pub ability: String,
    /// The sentence a person reads.
    pub sentence: String,
    /// The risk level.
    pub risk: Risk,
    /// What raised it.
    pub flags: Vec<RiskFlag>,
}

/// A whole SIWE message, explained.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// The domain that asked.
    pub domain: String,
    /// The wallet that signs.
    pub signer: String,
    /// What the message empowers: a session key or a delegation.
    pub purpose: String,
    /// `issuedAt`.
    pub issued_at: String,
    /// `expirationTime`, if any.
    pub expiration: Option<String>,
    /// "Until Wed 25 Nov 2026, 21:57 UTC (24 hours)".
    pub duration: String,
    /// ✓ lines.
    pub granted: Vec<CapabilityLine>,
    /// ✗ lines: nearby things that are not granted.
    pub not_granted: Vec<String>,
    /// Flags for the message as a whole (lifetime).
    pub flags: Vec<RiskFlag>,
    /// The highest risk of any line or flag.
    pub risk: Risk,
}

/// One line per request (least privilege: each request is exactly one grant).
pub fn describe_requests(requests: &[ResourceAbilityRequest]) -> Vec<CapabilityLine> {
    let recap = Recap::for_requests(requests);
    describe_recap(&recap)
}

/// One line per (resource, ability) of a ReCap, caveats included.
pub fn describe_recap(recap: &Recap) -> Vec<CapabilityLine> {
    let mut lines = Vec::new();
    for (resource, abilities) in recap.attenuations() {
        for (ability, caveats) in abilities {
            lines.push(describe_one(resource, ability, caveats));
        }
    }
    lines
}

fn describe_one(resource: &str, ability: &str, caveats: &Caveats) -> CapabilityLine {
    let (scheme, id) = resource.split_once("://").unwrap_or((resource, ""));
    let prefix = ResourcePrefix::from_str(scheme).ok();
    let wildcard = id == "*";
    let mut flags = Vec::new();
    if wildcard {
        flags.push(RiskFlag::WildcardResource);
    }
    let line = |sentence: String, risk: Risk, flags: Vec<RiskFlag>| CapabilityLine {
        resource: resource.to_owned(),
        ability: ability.to_owned(),
        sentence,
        risk,
        flags,
    };
    if ability == "*/*" {
        flags.push(RiskFlag::EveryAbility);
        let what = match prefix {
            Some(p) => noun(p, id),
            None => format!("“{resource}”"),
        };
        return line(
            format!("Do everything Lit allows with {what}"),
            Risk::Danger,
            flags,
        );
    }
    let (sentence, risk) = match (prefix, ability) {
        (Some(ResourcePrefix::Pkp), "Threshold/Signing") if wildcard => (
            "Sign messages and transactions with any of your PKPs".to_owned(),
            Risk::Danger,
        ),
        (Some(ResourcePrefix::Pkp), "Threshold/Signing") => (
            format!(
                "Sign messages and transactions with your PKP {}",
                short_hex(id)
            ),
            Risk::Danger,
        ),
        (Some(ResourcePrefix::LitAction), "Threshold/Execution") if wildcard => {
            ("Run any Lit Action code as you".to_owned(), Risk::Danger)
        }
        (Some(ResourcePrefix::LitAction), "Threshold/Execution") => (
            format!(
                "Run the Lit Action {} (code stored on IPFS) as you",
                short_text(id)
            ),
            Risk::Caution,
        ),
        (Some(ResourcePrefix::AccessControlCondition), "Threshold/Decryption") if wildcard => (
            "Decrypt any data whose access conditions you meet".to_owned(),
            Risk::Danger,
        ),
        (Some(ResourcePrefix::AccessControlCondition), "Threshold/Decryption") => (
            format!(
                "Decrypt one item protected by condition {}",
                short_condition(id)
            ),
            Risk::Caution,
        ),
        (Some(ResourcePrefix::AccessControlCondition), "Threshold/Signing") if wildcard => (
            "Get signed proof (JWT) that you meet any access condition".to_owned(),
            Risk::Danger,
        ),
        (Some(ResourcePrefix::AccessControlCondition), "Threshold/Signing") => (
            format!(
                "Get signed proof (JWT) that you meet condition {}",
                short_condition(id)
            ),
            Risk::Caution,
        ),
        // Any of the user's credits or payment delegations: dangerous, so Reject is the default.
        (Some(ResourcePrefix::RateLimitIncrease), "Auth/Auth") => {
            flags.push(RiskFlag::SpendsFunds);
            let risk = if wildcard {
                Risk::Danger
            } else {
                Risk::Caution
            };
            (describe_capacity(id, caveats, &mut flags), risk)
        }
        (Some(ResourcePrefix::PaymentDelegation), "Auth/Auth") => {
            flags.push(RiskFlag::SpendsFunds);
            let risk = if wildcard {
                Risk::Danger
            } else {
                Risk::Caution
            };
            (describe_payment(caveats, &mut flags), risk)
        }
        _ => {
            flags.push(RiskFlag::Unknown);
            (
                format!("Use the ability “{ability}” on “{resource}” (not known to this app)"),
                Risk::Danger,
            )
        }
    };
    line(sentence, risk, flags)
}

fn noun(prefix: ResourcePrefix, id: &str) -> String {
    let any = id == "*";
    match prefix {
        ResourcePrefix::Pkp if any => "all of your PKPs".into(),
        ResourcePrefix::Pkp => format!("your PKP {}", short_hex(id)),
        ResourcePrefix::LitAction if any => "any Lit Action".into(),
        ResourcePrefix::LitAction => format!("the Lit Action {}", short_text(id)),
        ResourcePrefix::AccessControlCondition if any => {
            "all data protected by access conditions".into()
        }
        ResourcePrefix::AccessControlCondition => {
            format!("the item protected by condition {}", short_condition(id))
        }
        ResourcePrefix::RateLimitIncrease if any => "all of your Capacity Credits".into(),
        ResourcePrefix::RateLimitIncrease => format!("your Capacity Credit #{id}"),
        ResourcePrefix::PaymentDelegation => "your Lit balance".into(),
    }
}

fn delegatees(caveat: &Map<String, Value>) -> Option<String> {
    let list = caveat.get("delegate_to")?.as_array()?;
    let names: Vec<String> = list
        .iter()
        .filter_map(|v| v.as_str())
        .map(|s| {
            Address::parse_any_case(s)
                .map(|a| a.short())
                .unwrap_or_else(|_| s.to_owned())
        })
        .collect();
    (!names.is_empty()).then(|| names.join(", "))
}

fn describe_capacity(id: &str, caveats: &Caveats, flags: &mut Vec<RiskFlag>) -> String {
    let caveat = caveats.first().cloned().unwrap_or_default();
    let credit = if id == "*" {
        "any of your Capacity Credits".to_owned()
    } else {
        format!("your Capacity Credit #{id}")
    };
    let who = delegatees(&caveat);
    if who.is_some() {
        flags.push(RiskFlag::Delegation);
    }
    let uses = caveat
        .get("uses")
        .and_then(|u| u.as_str())
        .map(|u| format!(", up to {u} requests"))
        .unwrap_or_default();
    match who {
        Some(who) => format!("Let {who} use {credit}{uses}"),
        None => format!("Let anyone holding this message use {credit}{uses}"),
    }
}

fn describe_payment(caveats: &Caveats, flags: &mut Vec<RiskFlag>) -> String {
    let caveat = caveats.first().cloned().unwrap_or_default();
    let who = delegatees(&caveat);
    if who.is_some() {
        flags.push(RiskFlag::Delegation);
    }
    let price = caveat
        .get("max_price")
        .and_then(|p| p.as_str())
        .and_then(|p| u128::from_str_radix(p.trim_start_matches("0x"), 16).ok())
        .map(|wei| format!(" up to {} per request", crate::Wei(wei).units()))
        .unwrap_or_default();
    let scopes: Vec<&str> = caveat
        .get("scopes")
        .and_then(|s| s.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str())
                .map(scope_words)
                .collect()
        })
        .unwrap_or_default();
    let on = if scopes.is_empty() {
        String::new()
    } else {
        format!(" on {}", scopes.join(", "))
    };
    match who {
        Some(who) => format!("Let {who} spend{price} of your Lit balance{on}"),
        None => format!("Let anyone holding this message spend{price} of your Lit balance{on}"),
    }
}

fn scope_words(scope: &str) -> &str {
    match scope {
        "pkp_sign" => "PKP signing",
        "lit_action" => "Lit Actions",
        "encryption_sign" => "decryption",
        "sign_session_key" => "session keys",
        other => other,
    }
}

fn short_hex(id: &str) -> String {
    let trimmed = id.trim_start_matches('0');
    if !trimmed.is_ascii() {
        return trimmed.to_owned();
    }
    if trimmed.len() <= 10 {
        format!("0x{}", if trimmed.is_empty() { "0" } else { trimmed })
    } else {
        format!("0x{}…{}", &trimmed[..4], &trimmed[trimmed.len() - 4..])
    }
}

fn short_text(id: &str) -> String {
    if id.len() <= 12 || !id.is_ascii() {
        id.to_owned()
    } else {
        format!("{}…{}", &id[..4], &id[id.len() - 4..])
    }
}

fn short_condition(id: &str) -> String {
    let hashed = id.split('/').next().unwrap_or(id);
    if hashed.len() <= 8 || !hashed.is_ascii() {
        hashed.to_owned()
    } else {
        format!("{}…", &hashed[..8])
    }
}

/// The ✗ lines: kinds of power near what is granted that are *not* granted.
pub fn not_granted(recap: &Recap) -> Vec<String> {
    let att = recap.attenuations();
    let mut out = Vec::new();
    let mut kind = |prefix: ResourcePrefix, none: &str, others: &str| {
        let keys: Vec<&String> = att
            .keys()
            .filter(|k| k.starts_with(&format!("{}://", prefix.as_str())))
            .collect();
        if keys.is_empty() {
            out.push(none.to_owned());
        } else if !keys.iter().any(|k| k.ends_with("://*")) {
            out.push(others.to_owned());
        }
    };
    kind(
        ResourcePrefix::Pkp,
        "sign with your PKPs",
        "sign with your other PKPs",
    );
    kind(
        ResourcePrefix::LitAction,
        "run Lit Actions as you",
        "run other Lit Actions as you",
    );
    kind(
        ResourcePrefix::AccessControlCondition,
        "decrypt your data",
        "decrypt your other data",
    );
    let spends = att.keys().any(|k| {
        k.starts_with(ResourcePrefix::RateLimitIncrease.as_str())
            || k.starts_with(ResourcePrefix::PaymentDelegation.as_str())
    });
    if !spends {
        out.push("spend your Capacity Credits or Lit balance".to_owned());
    }
    out.push("sign anything with your wallet key itself".to_owned());
    out
}

/// "Until Wed 25 Nov 2026, 21:57 UTC (24 hours)", and the lifetime flags.
pub fn describe_duration(
    issued_at: OffsetDateTime,
    expiration: Option<OffsetDateTime>,
) -> (String, Vec<RiskFlag>) {
    let Some(exp) = expiration else {
        return (
            "With no expiry".to_owned(),
            vec![RiskFlag::LifetimeOverLimit],
        );
    };
    let lifetime = exp - issued_at;
    let mut flags = Vec::new();
    if lifetime > crate::session_sigs::MAX_SESSION_LIFETIME {
        flags.push(RiskFlag::LifetimeOverLimit);
    } else if lifetime > Duration::days(7) {
        flags.push(RiskFlag::LongLifetime);
    }
    let weekday = &exp.weekday().to_string()[..3];
    let month = &exp.month().to_string()[..3];
    let text = format!(
        "Until {weekday} {} {month} {}, {:02}:{:02} UTC ({})",
        exp.day(),
        exp.year(),
        exp.hour(),
        exp.minute(),
        human_duration(lifetime)
    );
    (text, flags)
}

/// "24 hours", "15 minutes", "3 days".
pub fn human_duration(d: Duration) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if d.whole_days() >= 2 {
        plural(d.whole_days(), "day")
    } else if d.whole_hours() >= 1 {
        plural(d.whole_hours(), "hour")
    } else if d.whole_minutes() >= 1 {
        plural(d.whole_minutes(), "minute")
    } else {
        plural(d.whole_seconds().max(0), "second")
    }
}

/// Explains a SIWE message: who signs, for whom, what it grants, for how long, what is risky.
/// The text must parse as EIP-4361 and carry a valid ReCap.
pub fn explain_siwe(text: &str) -> Result<Explanation, AuthSigError> {
    let m = siwe::Message::from_str(text).map_err(|e| AuthSigError::Siwe(e.to_string()))?;
    let recap = Recap::extract(m.resources.iter().map(|r| r.as_str()))?;
    recap.verify_statement(m.statement.as_deref())?;
    let uri = m.uri.to_string();
    let purpose = if let Some(key) = uri.strip_prefix("lit:session:") {
        format!("a session key ({}…)", key.get(..8).unwrap_or(key))
    } else if uri == DELEGATION_URI {
        "a delegation to other addresses".to_owned()
    } else {
        format!("“{uri}”")
    };
    let issued = *m.issued_at.as_ref();
    let expiration = m.expiration_time.as_ref().map(|e| *e.as_ref());
    let (duration, flags) = describe_duration(issued, expiration);
    let granted = describe_recap(&recap);
    let risk = granted
        .iter()
        .map(|l| l.risk)
        .chain(flags.iter().map(|f| match f {
            RiskFlag::LifetimeOverLimit => Risk::Danger,
            _ => Risk::Caution,
        }))
        .max()
        .unwrap_or(Risk::Info);
    Ok(Explanation {
        domain: m.domain.to_string(),
        signer: Address(m.address).to_checksum(),
        purpose,
        issued_at: m.issued_at.to_string(),
        expiration: m.expiration_time.as_ref().map(|e| e.to_string()),
        duration,
        not_granted: not_granted(&recap),
        granted,
        flags,
        risk,
    })
}

impl Explanation {
    /// The explanation as lines of text for a terminal.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{} asks {} to empower {}.\n",
            self.domain, self.signer, self.purpose
        );
        out.push_str(&format!("{}\n", self.duration));
        out.push_str("Will be able to:\n");
        for l in &self.granted {
            let mark = match l.risk {
                Risk::Danger => "  ✓ [DANGER] ",
                Risk::Caution => "  ✓ [caution] ",
                Risk::Info => "  ✓ ",
            };
            out.push_str(&format!("{mark}{}\n", l.sentence));
        }
        out.push_str("Will not be able to:\n");
        for l in &self.not_granted {
            out.push_str(&format!("  ✗ {l}\n"));
        }
        for f in &self.flags {
            let text = match f {
                RiskFlag::LongLifetime => "caution: valid for more than 7 days",
                RiskFlag::LifetimeOverLimit => {
                    "danger: valid for more than 30 days (Lit nodes refuse it)"
                }
                _ => continue,
            };
            out.push_str(&format!("{text}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::{Ability, LitResource, RecapAbility};

    fn req(prefix: ResourcePrefix, id: &str, ability: Ability) -> ResourceAbilityRequest {
        let r = if id == "*" {
            LitResource::wildcard(prefix)
        } else {
            LitResource::new(prefix, id).unwrap()
        };
        ResourceAbilityRequest::new(r, ability).unwrap()
    }

    #[test]
    fn specific_and_wildcard_pkp_sentences() {
        let lines = describe_requests(&[
            req(
                ResourcePrefix::Pkp,
                "0x3f9a00000000000000000000000000000000000000000000000000000001234",
                Ability::PkpSigning,
            ),
            req(ResourcePrefix::Pkp, "*", Ability::PkpSigning),
        ]);
        let wild = lines.iter().find(|l| l.resource == "lit-pkp://*").unwrap();
        assert_eq!(
            wild.sentence,
            "Sign messages and transactions with any of your PKPs"
        );
        assert_eq!(wild.risk, Risk::Danger);
        assert!(wild.flags.contains(&RiskFlag::WildcardResource));
        let one = lines.iter().find(|l| l.resource != "lit-pkp://*").unwrap();
        assert_eq!(
            one.sentence,
            "Sign messages and transactions with your PKP 0x3f9a…1234"
        );
        assert!(one.flags.is_empty());
    }

    #[test]
    fn every_ability_and_unknown_abilities_are_danger() {
        let mut recap = Recap::new();
        recap.add(
            "lit-litaction://QmYwAPJzv5CZsnAzt8auVZRn9pfbGkY8ZtZ7j1234PbdG",
            RecapAbility::ALL,
            Map::new(),
        );
        recap.add(
            "lit-pkp://*",
            RecapAbility {
                namespace: "Weird",
                name: "Thing",
            },
            Map::new(),
        );
        let lines = describe_recap(&recap);
        assert!(lines.iter().all(|l| l.risk == Risk::Danger));
        assert!(lines[0]
            .sentence
            .starts_with("Do everything Lit allows with the Lit Action QmYw…PbdG"));
        assert!(lines[0].flags.contains(&RiskFlag::EveryAbility));
        assert!(lines[1].flags.contains(&RiskFlag::Unknown));
    }

    #[test]
    fn capacity_delegation_names_delegatee_credit_and_uses() {
        let mut caveat = Map::new();
        caveat.insert(
            "delegate_to".into(),
            serde_json::json!(["70997970c51812dc3a010c7d01b50e0d17dc79c8"]),
        );
        caveat.insert("nft_id".into(), serde_json::json!(["24529"]));
        caveat.insert("uses".into(), serde_json::json!("200"));
        let mut recap = Recap::new();
        recap.add(
            "lit-ratelimitincrease://24529",
            RecapAbility::AUTH_AUTH,
            caveat,
        );
        let line = &describe_recap(&recap)[0];
        assert_eq!(
            line.sentence,
            "Let 0x7099…79C8 use your Capacity Credit #24529, up to 200 requests"
        );
        assert!(line.flags.contains(&RiskFlag::Delegation));
    }

    #[test]
    fn payment_delegation_shows_amount_and_scopes() {
        let mut caveat = Map::new();
        caveat.insert(
            "delegate_to".into(),
            serde_json::json!(["70997970c51812dc3a010c7d01b50e0d17dc79c8"]),
        );
        caveat.insert("max_price".into(), serde_json::json!("de0b6b3a7640000"));
        caveat.insert(
            "scopes".into(),
            serde_json::json!(["pkp_sign", "lit_action"]),
        );
        let mut recap = Recap::new();
        recap.add("lit-paymentdelegation://*", RecapAbility::AUTH_AUTH, caveat);
        let line = &describe_recap(&recap)[0];
        assert_eq!(line.sentence, "Let 0x7099…79C8 spend up to 1.0 per request of your Lit balance on PKP signing, Lit Actions");
        // Any of the user's payment delegations: dangerous, so Reject is the default.
        assert_eq!(line.risk, Risk::Danger);
        assert!(line.flags.contains(&RiskFlag::WildcardResource));
    }

    #[test]
    fn wildcard_capacity_is_dangerous_and_one_credit_is_not() {
        for (resource, risk) in [
            ("lit-ratelimitincrease://*", Risk::Danger),
            ("lit-ratelimitincrease://24529", Risk::Caution),
            ("lit-paymentdelegation://*", Risk::Danger),
        ] {
            let mut recap = Recap::new();
            recap.add(resource, RecapAbility::AUTH_AUTH, Map::new());
            assert_eq!(describe_recap(&recap)[0].risk, risk, "{resource}");
        }
    }

    #[test]
    fn prices_in_plain_words_flagged_above_a_tenth() {
        assert_eq!(
            describe_price(50_000_000_000_000_000),
            (
                "May spend up to 0.05 of your Lit balance per request".to_owned(),
                None
            )
        );
        assert_eq!(
            describe_price(HIGH_PRICE_WEI + 1).1,
            Some(RiskFlag::HighPrice)
        );
        assert_eq!(describe_price(HIGH_PRICE_WEI).1, None);
    }

    #[test]
    fn not_granted_names_the_nearby_powers() {
        let recap = Recap::for_requests(&[req(ResourcePrefix::Pkp, "abcd", Ability::PkpSigning)]);
        let lines = not_granted(&recap);
        assert!(lines.contains(&"sign with your other PKPs".to_owned()));
        assert!(lines.contains(&"run Lit Actions as you".to_owned()));
        assert!(lines.contains(&"decrypt your data".to_owned()));
    }

    #[test]
    fn odd_ids_from_a_foreign_recap_do_not_panic() {
        let mut recap = Recap::new();
        recap.add(
            "lit-pkp://ééééééééééééé",
            RecapAbility::THRESHOLD_SIGNING,
            Map::new(),
        );
        recap.add(
            "lit-litaction://ééééééééééééé",
            RecapAbility::THRESHOLD_EXECUTION,
            Map::new(),
        );
        recap.add(
            "lit-accesscontrolcondition://ééééééééé/1",
            RecapAbility::THRESHOLD_DECRYPTION,
            Map::new(),
        );
        assert_eq!(describe_recap(&recap).len(), 3);
    }

    #[test]
    fn durations_and_lifetime_flags() {
        let t0 = crate::timefmt::parse_rfc3339("2026-11-24T21:57:00Z").unwrap();
        let (text, flags) = describe_duration(t0, Some(t0 + Duration::hours(24)));
        assert_eq!(text, "Until Wed 25 Nov 2026, 21:57 UTC (24 hours)");
        assert!(flags.is_empty());
        assert_eq!(
            describe_duration(t0, Some(t0 + Duration::days(8))).1,
            vec![RiskFlag::LongLifetime]
        );
        assert_eq!(
            describe_duration(t0, Some(t0 + Duration::days(31))).1,
            vec![RiskFlag::LifetimeOverLimit]
        );
    }
}
