//! The activity history: one line per event, in plain words for people (`summary`) with the
//! technical line behind it (`detail`). Never a secret or a signature.
//!
//! Handing out signatures inside a grant is the common case; it is counted in memory and
//! written as one line per session with a count ([`reused`]), at most once a second.

use lit_companion_session::{
    explain::{describe_requests, human_duration},
    resource::list_requests,
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
