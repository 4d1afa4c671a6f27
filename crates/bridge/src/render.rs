//! The prompt in words: one renderer for every place a person reads an approval request. The
//! desktop app shows [`ApprovalRequest::sections`] (serialised beside the request) and the
//! terminal approver of `lit-companion serve` prints [`ApprovalRequest::to_text`], which is the
//! same sections as text. Both are built from the request's own values — the ones the
//! signature uses — in the words of the prompt guide (who and how proven, the road, the
//! wallet, every line with its flags, price, delegations, statement, lifetime).

use std::fmt::Write as _;

use lit_companion_session::{
    explain::{CapabilityLine, Risk, RiskFlag},
    Address,
};
use serde::Serialize;

use crate::approver::ApprovalRequest;

/// One part of a prompt: a heading and its lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Section {
    /// What the part is: where the app places it.
    pub kind: SectionKind,
    /// Its heading; empty when it has none (who asks, where).
    pub title: String,
    /// Its lines, in order.
    pub lines: Vec<Line>,
}

/// The parts of a prompt, in the order they are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SectionKind {
    /// Who asks, and how that is proven.
    Who,
    /// Network, wallet (and the browser wallet's step) and road.
    Where,
    /// The Lit Action that speaks for the PKP: what runs, with which parameters.
    LitAction,
    /// Why the request cannot be carried out, whatever the answer.
    Unavailable,
    /// The flags of everything approving changes.
    Flags,
    /// Lines already granted that approving makes last longer.
    Extended,
    /// Lines already granted whose expiry approving does not lengthen.
    AlreadyGranted,
    /// What is asked for now.
    New,
    /// What each request may spend, and what it was approved to spend before.
    Price,
    /// Delegations the dapp supplies: paid by someone else, nothing granted.
    Paid,
    /// The app's statement, as it appears in the message.
    Statement,
    /// Nearby powers that are not granted.
    NotGranted,
    /// Until when.
    Lifetime,
}

/// One line a person reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    /// "✓" (will be able to), "✗" (will not), "⚠" (a flag), or empty.
    pub mark: &'static str,
    /// The words.
    pub text: String,
    /// How much it should worry the reader: the app shows danger in red.
    pub risk: Risk,
    /// Why, in words.
    pub flags: Vec<&'static str>,
}

impl Line {
    fn plain(text: impl Into<String>) -> Self {
        Self {
            mark: "",
            text: text.into(),
            risk: Risk::Info,
            flags: Vec::new(),
        }
    }

    fn capability(mark: &'static str, l: &CapabilityLine) -> Self {
        Self {
            mark,
            text: l.sentence.clone(),
            risk: l.risk,
            flags: l.flags.iter().map(|f| f.words()).collect(),
        }
    }
}

/// "until Wed 25 Nov …" from "Until Wed 25 Nov …".
fn lowercase_until(text: &str) -> String {
    match text.strip_prefix("Until ") {
        Some(rest) => format!("until {rest}"),
        None => text.to_owned(),
    }
}

impl ApprovalRequest {
    /// The flags of everything approving changes: the request's own (lifetime, price) and
    /// those of every new or extended line, each once.
    pub fn all_flags(&self) -> Vec<RiskFlag> {
        let mut flags: Vec<RiskFlag> = self
            .flags
            .iter()
            .copied()
            .chain(
                self.new
                    .iter()
                    .chain(&self.extended)
                    .flat_map(|l| l.flags.clone()),
            )
            .collect();
        flags.sort();
        flags.dedup();
        flags
    }

    /// The prompt, part by part: what the app shows and the terminal prints.
    pub fn sections(&self) -> Vec<Section> {
        let mut out = Vec::new();
        let mut add = |kind, title: String, lines: Vec<Line>| {
            if !lines.is_empty() {
                out.push(Section { kind, title, lines });
            }
        };
        add(
            SectionKind::Who,
            String::new(),
            vec![Line {
                risk: if self.verified {
                    Risk::Info
                } else {
                    Risk::Caution
                },
                ..Line::plain(&self.who)
            }],
        );
        add(SectionKind::Where, String::new(), vec![self.where_line()]);
        if let Some(action) = self.pkp.as_ref().and_then(|p| p.lit_action.as_ref()) {
            let source = if action.code_sent {
                "computed from the code the page sent"
            } else {
                "as the page names it; the nodes fetch its code from IPFS"
            };
            let mut lines = vec![Line {
                risk: Risk::Caution,
                ..Line::plain(format!(
                    "Runs the Lit Action {} ({source}); if it answers true, the Lit network \
                     signs for your PKP",
                    action.ipfs_id
                ))
            }];
            lines.extend(
                action
                    .params
                    .iter()
                    .map(|p| Line::plain(format!("with {p}"))),
            );
            add(
                SectionKind::LitAction,
                "A Lit Action speaks for your PKP".into(),
                lines,
            );
        }
        if let Some(why) = &self.unavailable {
            add(
                SectionKind::Unavailable,
                "This request cannot be carried out".into(),
                vec![Line {
                    risk: Risk::Danger,
                    ..Line::plain(why)
                }],
            );
        }
        add(
            SectionKind::Flags,
            "Watch out".into(),
            self.all_flags()
                .into_iter()
                .map(|f| Line {
                    mark: "⚠",
                    risk: Risk::Danger,
                    ..Line::plain(f.words())
                })
                .collect(),
        );
        let until = self
            .granted_until
            .as_deref()
            .map(|u| format!(", {}", lowercase_until(u)))
            .unwrap_or_default();
        if self.extended.is_empty() {
            add(
                SectionKind::AlreadyGranted,
                format!("Already may{until}"),
                self.already_granted
                    .iter()
                    .map(|l| Line::capability("✓", l))
                    .collect(),
            );
        } else {
            // Approving re-signs these with the new lifetime: the reader sees each one, with
            // its flags, and both ends.
            let to = self
                .duration_text
                .strip_prefix("Until ")
                .unwrap_or(&self.duration_text);
            add(
                SectionKind::Extended,
                format!("Already may{until} — approving extends this to {to}"),
                self.extended
                    .iter()
                    .map(|l| Line::capability("✓", l))
                    .collect(),
            );
        }
        let escalation = !self.already_granted.is_empty();
        add(
            SectionKind::New,
            if escalation {
                "It now also asks to — ✓ will be able to".into()
            } else {
                "✓ Will be able to".into()
            },
            self.new.iter().map(|l| Line::capability("✓", l)).collect(),
        );
        add(SectionKind::Price, self.price_title(), self.price_lines());
        add(
            SectionKind::Paid,
            "Paid by someone else (you grant nothing here)".into(),
            self.supplied_delegations
                .iter()
                .map(|d| Line::plain(d.as_str()))
                .collect(),
        );
        if !self.statement.is_empty() {
            add(
                SectionKind::Statement,
                "Its statement, in the message you sign".into(),
                vec![Line::plain(format!("“{}”", self.statement))],
            );
        }
        add(
            SectionKind::NotGranted,
            "✗ Will not be able to".into(),
            self.not_granted
                .iter()
                .map(|l| Line {
                    mark: "✗",
                    ..Line::plain(l.as_str())
                })
                .collect(),
        );
        let lifetime_flags: Vec<RiskFlag> = self
            .flags
            .iter()
            .copied()
            .filter(|f| matches!(f, RiskFlag::LongLifetime | RiskFlag::LifetimeOverLimit))
            .collect();
        add(
            SectionKind::Lifetime,
            "For how long".into(),
            vec![Line {
                risk: if lifetime_flags.contains(&RiskFlag::LifetimeOverLimit) {
                    Risk::Danger
                } else if lifetime_flags.is_empty() {
                    Risk::Info
                } else {
                    Risk::Caution
                },
                flags: lifetime_flags.iter().map(|f| f.words()).collect(),
                ..Line::plain(&self.duration_text)
            }],
        );
        out
    }

    /// The prompt as text, for a terminal: [`ApprovalRequest::sections`], one line each.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for section in self.sections() {
            let indent = if section.title.is_empty() {
                ""
            } else {
                let _ = writeln!(text, "{}:", section.title);
                "  "
            };
            for line in &section.lines {
                let mark = if line.mark.is_empty() {
                    String::new()
                } else {
                    format!("{} ", line.mark)
                };
                let danger = if line.risk == Risk::Danger && line.mark == "✓" {
                    "[DANGER] "
                } else {
                    ""
                };
                let flags = if line.flags.is_empty() || section.kind == SectionKind::Flags {
                    String::new()
                } else {
                    format!(" ({})", line.flags.join("; "))
                };
                let _ = writeln!(text, "{indent}{mark}{danger}{}{flags}", line.text);
            }
        }
        text
    }

    /// "On Datil (main network), as 0x19E7…Ff2A (Main) — your browser wallet will ask you to
    /// sign next · via loopback HTTP".
    fn where_line(&self) -> Line {
        let short = Address::parse_any_case(&self.wallet)
            .map(|a| a.short())
            .unwrap_or_else(|_| self.wallet.clone());
        let label = self
            .wallet_label
            .as_deref()
            .filter(|l| !l.is_empty())
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        if let Some(pkp) = &self.pkp {
            let next = if pkp.browser_sign_in {
                " — your browser wallet will ask you to sign in next"
            } else {
                ""
            };
            return Line::plain(format!(
                "On {}, as your PKP {short}{label} ({}){next} — the Lit network signs this \
                 session on your PKP's behalf · via {}",
                self.network_label, pkp.auth, self.road
            ));
        }
        let signs_next = match &self.browser_wallet {
            Some(w) => format!(
                " — your browser wallet will ask you to sign next{}",
                if w.new {
                    " (approving adds it to Lit Companion: its address only)"
                } else {
                    ""
                }
            ),
            None => String::new(),
        };
        Line::plain(format!(
            "On {}, as {short}{label}{signs_next} · via {}",
            self.network_label, self.road
        ))
    }

    fn price_title(&self) -> String {
        match &self.price_before {
            Some(_) if self.new.is_empty() && !self.already_granted.is_empty() => {
                "It now asks only to spend more per request".into()
            }
            Some(_) => "What it may spend per request changes".into(),
            None => "What it may spend".into(),
        }
    }

    fn price_lines(&self) -> Vec<Line> {
        let Some(now) = &self.price_text else {
            return Vec::new();
        };
        let high = self.flags.contains(&RiskFlag::HighPrice);
        let mut lines = vec![Line {
            risk: if high { Risk::Danger } else { Risk::Caution },
            flags: if high {
                vec![RiskFlag::HighPrice.words()]
            } else {
                Vec::new()
            },
            ..Line::plain(match self.price_before {
                Some(_) => format!("Now: {now}"),
                None => now.clone(),
            })
        }];
        if let Some(before) = &self.price_before {
            lines.push(Line::plain(format!("Approved before: {before}")));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]

    use std::time::Duration;

    use lit_companion_session::{
        explain::{describe_requests, Risk, RiskFlag},
        Ability, LitResource, Origin, ResourceAbilityRequest,
    };

    use super::SectionKind;
    use crate::{
        approver::{ApprovalRequest, BrowserWallet, LifetimeChoice},
        caller::{Caller, Road},
    };

    fn request(key: &str, ability: Ability) -> ResourceAbilityRequest {
        ResourceAbilityRequest::new(LitResource::parse_key(key).unwrap(), ability).unwrap()
    }

    fn pkp_wildcard() -> ResourceAbilityRequest {
        request("lit-pkp://*", Ability::PkpSigning)
    }

    /// A request with every part filled in: an escalation that extends a wildcard, a higher
    /// price, a supplied delegation, a statement, a browser wallet.
    fn everything() -> ApprovalRequest {
        let caller = Caller::verified(
            Origin::parse("https://app.example.com").unwrap(),
            Road::Http,
        );
        let old = describe_requests(&[pkp_wildcard()]);
        let action = request(
            "lit-litaction://QmYwAPJzv5CZsnAzt8auVZRn9pfbGkY8ZtZ7j1234PbdG",
            Ability::LitActionExecution,
        );
        ApprovalRequest {
            who: caller.describe(),
            origin: caller.grant_key().to_string(),
            verified: true,
            road: caller.road.to_string(),
            caller,
            network: "naga-dev".into(),
            network_label: "Naga dev (test network)".into(),
            wallet: "0x19e7e376e7c213b7e7e7e46cc70a5dd086daff2a".into(),
            wallet_label: Some("MetaMask".into()),
            browser_wallet: Some(BrowserWallet {
                name: "MetaMask".into(),
                new: false,
            }),
            pkp: None,
            unavailable: None,
            already_granted: old.clone(),
            extended: old,
            granted_until: Some("Until Wed 25 Nov 2026, 22:07 UTC (10 minutes)".into()),
            new: describe_requests(std::slice::from_ref(&action)),
            not_granted: vec!["Sign with your other PKPs".into()],
            new_requests: vec![action.clone()],
            grant_requests: vec![pkp_wildcard(), action],
            lifetime: Duration::from_secs(29 * 86_400),
            max_lifetime: Duration::from_secs(30 * 86_400),
            duration_text: "Until Thu 24 Dec 2026, 21:57 UTC (29 days)".into(),
            flags: vec![RiskFlag::LongLifetime, RiskFlag::HighPrice],
            supplied_delegations: vec![
                "Your requests may be paid by 0xab12…9f00: Let 0x7099…79C8 use your Capacity Credit #24529".into(),
            ],
            statement: "Sign in to the example app".into(),
            siwe_preview: String::new(),
            lifetime_choices: vec![LifetimeChoice {
                secs: 29 * 86_400,
                siwe: String::new(),
            }],
            max_price_wei: Some("600000000000000000".into()),
            price_text: Some("May spend up to 0.6 of your Lit balance per request".into()),
            price_before: Some("May spend up to 0.005 of your Lit balance per request".into()),
            deadline: None,
        }
    }

    #[test]
    fn the_renderer_shows_every_part_of_the_request() {
        let r = everything();
        let text = r.to_text();
        for part in [
            "app.example.com — verified by your browser",
            "On Naga dev (test network), as 0x19E7…ff2A (MetaMask) — your browser wallet will ask you to sign next · via loopback HTTP",
            // The wildcard already granted, extended, in red with its flag.
            "Already may, until Wed 25 Nov 2026, 22:07 UTC (10 minutes) — approving extends this to Thu 24 Dec 2026, 21:57 UTC (29 days):",
            "✓ [DANGER] Sign messages and transactions with any of your PKPs (Covers every resource of a kind, not just one)",
            "It now also asks to — ✓ will be able to:",
            "✓ Run the Lit Action",
            "Now: May spend up to 0.6 of your Lit balance per request",
            "Approved before: May spend up to 0.005 of your Lit balance per request",
            "Your requests may be paid by 0xab12…9f00",
            "“Sign in to the example app”",
            "✗ Sign with your other PKPs",
            "Until Thu 24 Dec 2026, 21:57 UTC (29 days) (Lasts more than 7 days)",
            "⚠ Covers every resource of a kind, not just one",
            "⚠ May spend more than 0.1 of your Lit balance per request",
        ] {
            assert!(text.contains(part), "missing {part:?} in:\n{text}");
        }
        assert!(
            r.is_dangerous(),
            "an extended wildcard makes Reject the default"
        );
        let kinds: Vec<SectionKind> = r.sections().iter().map(|s| s.kind).collect();
        assert_eq!(
            kinds,
            [
                SectionKind::Who,
                SectionKind::Where,
                SectionKind::Flags,
                SectionKind::Extended,
                SectionKind::New,
                SectionKind::Price,
                SectionKind::Paid,
                SectionKind::Statement,
                SectionKind::NotGranted,
                SectionKind::Lifetime,
            ]
        );
        let extended = &r.sections()[3];
        assert_eq!(extended.lines[0].risk, Risk::Danger);
    }

    #[test]
    fn a_price_only_re_ask_says_the_price_changed() {
        let mut r = everything();
        r.new.clear();
        r.new_requests.clear();
        let text = r.to_text();
        assert!(
            text.contains(
                "It now asks only to spend more per request:\n  Now: May spend up to 0.6"
            ),
            "{text}"
        );
        assert!(!text.contains("It now also asks to"), "{text}");
    }

    #[test]
    fn lines_already_granted_keep_their_flags_when_not_extended() {
        let mut r = everything();
        r.extended.clear();
        let text = r.to_text();
        assert!(
            text.contains("Already may, until Wed 25 Nov 2026, 22:07 UTC (10 minutes):\n  ✓ [DANGER] Sign messages and transactions with any of your PKPs (Covers every resource of a kind, not just one)"),
            "{text}"
        );
        assert!(!r.all_flags().contains(&RiskFlag::WildcardResource));
    }
}
