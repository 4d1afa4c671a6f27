//! The activity history: one line per event, in plain words for people (`summary`) with the
//! technical line behind it (`detail`). Never a secret or a signature.
//!
//! Handing out signatures inside a grant is the common case; it is counted in memory and
//! written as one line per session with a count ([`reused`]), at most once a second.
//!
//! What is kept ([`retain`]) is bounded per site, so that one busy caller can never push
//! another's lines out: repeated hand-outs fold into one line per site, session and clock hour,
//! then each site keeps its newest [`PER_SITE_LIMIT`] lines and the companion's own lines
//! (wallets, pairing tokens) keep their newest [`OWN_LIMIT`].

use std::collections::HashMap;

use lit_companion_session::{
    explain::{describe_requests, human_duration},
    resource::list_requests,
    timefmt::parse_rfc3339,
    Address,
};
use serde::{Deserialize, Serialize};

use crate::{grant_key::GrantKey, metadata::SessionRecord};

/// What happened (written in snake case: `authsig_signed`, `session_sigs_issued`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HistoryEvent {
    /// A wallet signed a new session's AuthSig: the user approved a grant.
    AuthsigSigned,
    /// Signatures were handed out inside a grant (counted).
    SessionSigsIssued,
    /// The user revoked a session.
    SessionRevoked,
    /// A session reached its end.
    SessionExpired,
    /// A wallet key was made in the keychain.
    WalletCreated,
    /// A wallet key was imported into the keychain.
    WalletImported,
    /// A browser wallet was added (its address only).
    WalletAdded,
    /// A wallet key was exported.
    WalletExported,
    /// A wallet was removed.
    WalletRemoved,
    /// A pairing token was issued.
    PairingCreated,
    /// A pairing token was withdrawn.
    PairingRevoked,
}

/// One line of history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// RFC 3339.
    pub at: String,
    /// What happened.
    pub event: HistoryEvent,
    /// The grant key concerned (an origin, `unverified:<origin>`, `pairing:<name>`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// What happened, in plain words.
    #[serde(default)]
    pub summary: String,
    /// The technical line.
    pub detail: String,
    /// How many times it happened (handing out signatures is counted, not listed).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u64,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

impl HistoryEntry {
    fn new(
        at: &str,
        event: HistoryEvent,
        origin: Option<&str>,
        summary: String,
        detail: String,
    ) -> Self {
        Self {
            at: at.to_owned(),
            event,
            origin: origin.map(str::to_owned),
            summary,
            detail,
            count: 1,
        }
    }
}

/// The newest lines each site (grant key) keeps, after folding.
pub const PER_SITE_LIMIT: usize = 500;

/// The newest lines kept of the companion's own (lines without a site: wallets, pairing
/// tokens), after folding.
pub const OWN_LIMIT: usize = 500;

/// What the history keeps of `lines` (oldest first, as written), oldest first:
///
/// 1. hand-outs within a grant ([`HistoryEvent::SessionSigsIssued`]) of the same site, session
///    and network in the same clock hour (UTC) fold into one line: the counts add up, and the
///    line takes the place and time of the last of them;
/// 2. then each site (the grant key in `origin`: an origin, `unverified:<origin>` and
///    `pairing:<name>` are three sites) keeps its newest [`PER_SITE_LIMIT`] lines, and the lines
///    without a site keep their newest [`OWN_LIMIT`].
///
/// So nothing one caller does removes a line of another's.
pub fn retain(lines: Vec<HistoryEntry>) -> Vec<HistoryEntry> {
    let mut folded: Vec<Option<HistoryEntry>> = Vec::with_capacity(lines.len());
    let mut open: HashMap<FoldKey, usize> = HashMap::new();
    for line in lines {
        let Some(key) = fold_key(&line) else {
            folded.push(Some(line));
            continue;
        };
        let mut line = line;
        if let Some(earlier) = open.get(&key).and_then(|&i| folded.get_mut(i)?.take()) {
            line.count = line.count.saturating_add(earlier.count);
            if earlier.at > line.at {
                line.at = earlier.at;
            }
        }
        open.insert(key, folded.len());
        folded.push(Some(line));
    }
    let mut per_site: HashMap<Option<String>, usize> = HashMap::new();
    let mut kept: Vec<HistoryEntry> = folded
        .into_iter()
        .rev()
        .flatten()
        .filter(|line| {
            let limit = if line.origin.is_some() {
                PER_SITE_LIMIT
            } else {
                OWN_LIMIT
            };
            let seen = per_site.entry(line.origin.clone()).or_insert(0);
            *seen += 1;
            *seen <= limit
        })
        .collect();
    kept.reverse();
    kept
}

/// What folds together: the site, the session and network (the technical line names both) and
/// the hour since the Unix epoch.
type FoldKey = (String, String, i64);

fn fold_key(line: &HistoryEntry) -> Option<FoldKey> {
    if line.event != HistoryEvent::SessionSigsIssued {
        return None;
    }
    let hour = parse_rfc3339(&line.at)?.unix_timestamp().div_euclid(3600);
    Some((line.origin.clone()?, line.detail.clone(), hour))
}

/// One line of the activity the app's Activity screen and `lit-companion history --json` show.
/// The field names are stable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActivityLine {
    /// When (RFC 3339, UTC); for a folded line, the last time in its hour.
    pub at: String,
    /// What happened (`authsig_signed`, `session_sigs_issued`, …).
    pub event: HistoryEvent,
    /// The grant key (`https://app.example.com`, `unverified:<origin>`, `pairing:<name>`);
    /// `null` for the companion's own lines (wallets, pairing tokens).
    pub origin: Option<String>,
    /// Who the grant key names, for people (`app.example.com`); `null` with `origin`.
    pub site: Option<String>,
    /// What happened, in plain words.
    pub summary: String,
    /// The technical line.
    pub detail: String,
    /// How many times (1 unless hand-outs were counted).
    pub count: u64,
}

impl ActivityLine {
    /// The line as the terminal prints it: time, site, what happened, and how often when more
    /// than once (the companion's own lines are under "Lit Companion", as in the app).
    pub fn to_text(&self) -> String {
        let what = if self.summary.is_empty() {
            &self.detail
        } else {
            &self.summary
        };
        let times = if self.count > 1 {
            format!(" ×{}", self.count)
        } else {
            String::new()
        };
        format!(
            "{}  {}  {what}{times}",
            self.at,
            self.site.as_deref().unwrap_or("Lit Companion")
        )
    }
}

/// The activity view of what the history keeps: newest first by time (an approval carries the
/// time it was asked for and is written when the user answers, so the file's order is not
/// quite the time order), each line naming its site.
pub fn activity(lines: Vec<HistoryEntry>) -> Vec<ActivityLine> {
    let mut out: Vec<ActivityLine> = lines
        .into_iter()
        .rev()
        .map(|h| ActivityLine {
            site: h.origin.as_deref().map(site_label),
            at: h.at,
            event: h.event,
            origin: h.origin,
            summary: h.summary,
            detail: h.detail,
            count: h.count,
        })
        .collect();
    // Stable: lines of the same time stay newest written first.
    out.sort_by(|a, b| b.at.cmp(&a.at));
    out
}

/// Who a grant key names, for people: `app.example.com`, `app.example.com (not verified)`,
/// `local program "ci-runner"` ([`GrantKey::label`]); a key that does not parse is shown as it
/// is.
pub fn site_label(grant_key: &str) -> String {
    grant_key
        .parse::<GrantKey>()
        .map_or_else(|_| grant_key.to_owned(), |k| k.label())
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A new AuthSig: "Approved app.example.com for 24 hours: sign messages and transactions with
/// your PKP 0x9f19…9be6".
pub fn approved(at: &str, record: &SessionRecord, lifetime: time::Duration) -> HistoryEntry {
    let may: Vec<String> = describe_requests(&record.granted)
        .iter()
        .map(|l| lower_first(&l.sentence))
        .collect();
    let wallet = Address::parse_any_case(&record.wallet)
        .map(|w| w.short())
        .unwrap_or_else(|_| record.wallet.clone());
    HistoryEntry::new(
        at,
        HistoryEvent::AuthsigSigned,
        Some(&record.origin),
        format!(
            "Approved {} for {}: {}",
            site_label(&record.origin),
            human_duration(lifetime),
            may.join("; ")
        ),
        format!(
            "AuthSig by {wallet} for session {}… on {} until {}: {}",
            record.public_key.get(..8).unwrap_or(&record.public_key),
            record.network,
            record.expires_at,
            list_requests(&record.granted)
        ),
    )
}

/// Signatures handed out inside a grant, `count` times since the last line.
pub fn reused(at: &str, grant_key: &str, session: &str, network: &str, count: u64) -> HistoryEntry {
    HistoryEntry {
        count,
        ..HistoryEntry::new(
            at,
            HistoryEvent::SessionSigsIssued,
            Some(grant_key),
            format!(
                "Handed out signatures to {} (no prompt, within the grant)",
                site_label(grant_key)
            ),
            format!("sessionSigs from session {session} on {network}"),
        )
    }
}

/// A session revoked by the user.
pub fn revoked(at: &str, grant_key: &str, session: &str, network: &str) -> HistoryEntry {
    HistoryEntry::new(
        at,
        HistoryEvent::SessionRevoked,
        Some(grant_key),
        format!("Revoked what {} may do", site_label(grant_key)),
        format!("session {session} on {network} revoked; its key left the keychain"),
    )
}

/// A session that reached its end.
pub fn expired(at: &str, grant_key: &str, session: &str) -> HistoryEntry {
    HistoryEntry::new(
        at,
        HistoryEvent::SessionExpired,
        Some(grant_key),
        format!("{}'s session ended (it expired)", site_label(grant_key)),
        format!("session {session} expired; its key left the keychain"),
    )
}

/// Something about a wallet: `event` and plain words.
pub fn wallet(at: &str, event: HistoryEvent, summary: String, detail: String) -> HistoryEntry {
    HistoryEntry::new(at, event, None, summary, detail)
}

/// Something about a pairing token.
pub fn pairing(at: &str, event: HistoryEvent, summary: String, detail: String) -> HistoryEntry {
    HistoryEntry::new(at, event, None, summary, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_labels_say_who_in_plain_words() {
        assert_eq!(site_label("https://app.example.com"), "app.example.com");
        assert_eq!(
            site_label("unverified:https://app.example.com"),
            "app.example.com (not verified)"
        );
        assert_eq!(
            site_label("pairing:ci-runner"),
            "local program \"ci-runner\""
        );
    }

    fn at(minute: i64) -> String {
        let t =
            parse_rfc3339("2026-11-24T12:00:00.000Z").unwrap() + time::Duration::minutes(minute);
        lit_companion_session::timefmt::iso_millis(t).unwrap()
    }

    #[test]
    fn hand_outs_fold_per_site_session_and_hour() {
        let lines = vec![
            reused(&at(0), "https://a.example", "aaaa…", "datil", 2),
            reused(&at(1), "https://b.example", "bbbb…", "datil", 1),
            reused(&at(5), "https://a.example", "aaaa…", "datil", 3),
            reused(&at(6), "https://a.example", "cccc…", "datil", 1),
            reused(&at(61), "https://a.example", "aaaa…", "datil", 4),
        ];
        let kept = retain(lines);
        let summary: Vec<(&str, &str, u64)> = kept
            .iter()
            .map(|l| (l.origin.as_deref().unwrap(), l.at.as_str(), l.count))
            .collect();
        let (t1, t5, t6, t61) = (at(1), at(5), at(6), at(61));
        assert_eq!(
            summary,
            vec![
                ("https://b.example", t1.as_str(), 1),
                ("https://a.example", t5.as_str(), 5),
                ("https://a.example", t6.as_str(), 1),
                ("https://a.example", t61.as_str(), 4),
            ]
        );
    }

    #[test]
    fn each_site_keeps_its_own_newest_lines() {
        let mut lines = vec![
            expired(&at(0), "https://quiet.example", "qqqq…"),
            wallet(
                &at(0),
                HistoryEvent::WalletCreated,
                "Created a wallet".into(),
                "wallet 0x1".into(),
            ),
        ];
        // A flood from one site: one line an hour, so none fold.
        for h in 0..2_100 {
            lines.push(reused(
                &at(60 * h),
                "https://busy.example",
                "bbbb…",
                "datil",
                1,
            ));
        }
        let kept = retain(lines);
        let of = |site: Option<&str>| kept.iter().filter(|l| l.origin.as_deref() == site).count();
        assert_eq!(of(Some("https://busy.example")), PER_SITE_LIMIT);
        assert_eq!(of(Some("https://quiet.example")), 1);
        assert_eq!(of(None), 1);
        // The busy site keeps its newest lines.
        assert_eq!(kept.last().unwrap().at, at(60 * 2_099));
    }

    #[test]
    fn the_activity_view_is_newest_first_and_names_sites() {
        let lines = vec![
            reused(&at(0), "pairing:ci", "aaaa…", "datil", 1),
            reused(&at(90), "unverified:https://a.example", "bbbb…", "datil", 7),
        ];
        let view = activity(lines);
        assert_eq!(view[0].site.as_deref(), Some("a.example (not verified)"));
        assert_eq!(view[1].site.as_deref(), Some("local program \"ci\""));
        assert!(view[0].to_text().ends_with(" ×7"), "{}", view[0].to_text());
        assert!(!view[1].to_text().contains('×'));
        let json = serde_json::to_value(&view[1]).unwrap();
        let mut fields: Vec<&String> = json.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(
            fields,
            ["at", "count", "detail", "event", "origin", "site", "summary"]
        );
    }

    #[test]
    fn old_lines_without_summary_or_count_still_read() {
        let e: HistoryEntry = serde_json::from_str(
            r#"{"at":"2026-01-01T00:00:00.000Z","event":"session_sigs_issued","detail":"x"}"#,
        )
        .unwrap();
        assert_eq!((e.count, e.summary.as_str()), (1, ""));
        let back = serde_json::to_string(&e).unwrap();
        assert!(!back.contains("count"), "{back}");
    }
}
