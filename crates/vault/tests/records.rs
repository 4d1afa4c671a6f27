//! What the vault keeps on record: the activity history is bounded per site, so one busy caller
//! cannot push another's lines out; a pairing's sessions end with its token. (An in-memory
//! keychain: these are about what the vault decides and writes, not about the OS store.)
#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use lit_companion_session::{
    timefmt::parse_rfc3339, Ability, Address, LitResource, ResourceAbilityRequest,
};
use lit_companion_testkit::MemoryKeychain;
use lit_companion_vault::{
    history::{HistoryEvent, PER_SITE_LIMIT},
    vault::session_account,
    Grantee, Issuance, Need, NeedReason, NewSession, SecretStore, Vault, VaultError,
};
use time::{Duration, OffsetDateTime};

const NONCE: &str = "0xabababababababababababababababababababababababababababababababab";
const WALLET_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";
const QUIET: &str = "https://quiet.example";
const BUSY: &str = "https://busy.example";

fn t0() -> OffsetDateTime {
    parse_rfc3339("2026-11-24T12:00:00.000Z").unwrap()
}

struct Fixture {
    vault: Vault,
    keychain: Arc<MemoryKeychain>,
    wallet: Address,
    dir: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fixture(name: &str) -> Fixture {
    let dir = std::env::temp_dir().join(format!(
        "lit-companion-records-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let keychain = Arc::new(MemoryKeychain::default());
    let (vault, _) = Vault::open(&dir, keychain.clone(), t0()).unwrap();
    let wallet = vault.import_wallet(WALLET_KEY, "Main", t0()).unwrap();
    Fixture {
        vault,
        keychain,
        wallet,
        dir,
    }
}

fn pkp() -> Vec<ResourceAbilityRequest> {
    vec![ResourceAbilityRequest::new(
        LitResource::wildcard(Ability::PkpSigning.prefix()),
        Ability::PkpSigning,
    )
    .unwrap()]
}

impl Fixture {
    fn who<'a>(&self, origin: &'a str) -> Grantee<'a> {
        Grantee {
            origin,
            network: "datil-dev",
            wallet: self.wallet,
        }
    }

    /// What `origin` asks for now: reused when it holds a session, else approved and made.
    fn request(&self, origin: &str) -> Issuance {
        let requests = pkp();
        let need = Need::at(&requests, t0(), None);
        let issuance = self.vault.session_for(&self.who(origin), &need).unwrap();
        if let Issuance::Ask(ask) = &issuance {
            self.vault
                .create_session(
                    &self.who(origin),
                    &ask.grant,
                    &NewSession {
                        domain: "localhost",
                        statement: "",
                        nonce: NONCE,
                        now: t0(),
                        expiration: t0() + Duration::hours(24),
                        max_price_wei: None,
                    },
                )
                .unwrap();
        }
        issuance
    }
}

#[test]
fn a_flood_of_2100_requests_from_one_origin_leaves_another_origins_history() {
    let f = fixture("flood");
    // The quiet origin: approved once, then handed out signatures once.
    assert!(matches!(f.request(QUIET), Issuance::Ask(_)));
    let Issuance::Live(quiet) = f.request(QUIET) else {
        panic!("the quiet origin's grant is reused");
    };
    f.vault.note_reuse(&quiet);
    f.vault.flush_reuse(t0()).unwrap();
    let before: Vec<_> = f
        .vault
        .history()
        .unwrap()
        .into_iter()
        .filter(|h| h.origin.as_deref() != Some(BUSY))
        .collect();
    assert_eq!(before.len(), 3, "{before:?}"); // the wallet import, the approval, one hand-out

    // The busy origin: 2,100 requests, each written in an hour of its own (the worst case:
    // nothing folds), then 2,100 more within one hour (they fold into one line).
    assert!(matches!(f.request(BUSY), Issuance::Ask(_)));
    for i in 0..2_100 {
        let Issuance::Live(busy) = f.request(BUSY) else {
            panic!("the busy origin's grant is reused");
        };
        f.vault.note_reuse(&busy);
        f.vault.flush_reuse(t0() + Duration::hours(i + 1)).unwrap();
    }
    let late = t0() + Duration::days(100);
    for i in 0..2_100 {
        let Issuance::Live(busy) = f.request(BUSY) else {
            panic!("the busy origin's grant is reused");
        };
        f.vault.note_reuse(&busy);
        f.vault.flush_reuse(late + Duration::seconds(i)).unwrap();
    }

    let history = f.vault.history().unwrap();
    let after: Vec<_> = history
        .iter()
        .filter(|h| h.origin.as_deref() != Some(BUSY))
        .cloned()
        .collect();
    assert_eq!(
        after, before,
        "every line of the quiet origin and the user's own stays"
    );
    let busy: Vec<_> = history
        .iter()
        .filter(|h| h.origin.as_deref() == Some(BUSY))
        .collect();
    assert_eq!(busy.len(), PER_SITE_LIMIT);
    let newest = busy.last().unwrap();
    assert_eq!(newest.event, HistoryEvent::SessionSigsIssued);
    assert_eq!(newest.count, 2_100, "one line an hour, with its count");

    // The activity view reads the same lines, newest first.
    let activity = f.vault.activity(late + Duration::hours(1)).unwrap();
    assert_eq!(activity.len(), history.len());
    assert_eq!(activity[0].count, 2_100);
    assert!(activity
        .iter()
        .any(|a| a.site.as_deref() == Some("quiet.example")
            && a.event == HistoryEvent::AuthsigSigned));
}

#[test]
fn revoking_a_pairing_revokes_its_sessions_and_a_new_one_starts_empty() {
    let f = fixture("pairing");
    f.vault.create_pairing("ci", t0()).unwrap();
    assert!(matches!(f.request("pairing:ci"), Issuance::Ask(_)));
    assert!(matches!(f.request(QUIET), Issuance::Ask(_)));
    let sessions = f.vault.sessions().unwrap();
    let ci = sessions
        .iter()
        .find(|s| s.origin == "pairing:ci")
        .unwrap()
        .public_key
        .clone();

    assert_eq!(f.vault.revoke_pairing("ci", t0()).unwrap(), 1);
    // The session's key left the keychain; another caller's stays.
    assert!(f.keychain.get(&session_account(&ci)).is_err());
    let left = f.vault.sessions().unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].origin, QUIET);
    assert!(matches!(
        f.vault.revoke_pairing("ci", t0()),
        Err(VaultError::UnknownPairing(_))
    ));

    // A new pairing of the same name inherits nothing: its first request asks.
    f.vault.create_pairing("ci", t0()).unwrap();
    let Issuance::Ask(ask) = f.request("pairing:ci") else {
        panic!("a new pairing must not reuse the old one's session");
    };
    assert_eq!(ask.reason, NeedReason::NoSession);

    // Re-pairing a name (a new token without revoking first) also starts empty.
    let replaced = f
        .vault
        .sessions()
        .unwrap()
        .into_iter()
        .find(|s| s.origin == "pairing:ci")
        .unwrap()
        .public_key;
    f.vault.create_pairing("ci", t0()).unwrap();
    assert!(f.keychain.get(&session_account(&replaced)).is_err());
    assert!(matches!(f.request("pairing:ci"), Issuance::Ask(_)));
    let revoked = f
        .vault
        .history()
        .unwrap()
        .iter()
        .filter(|h| {
            h.event == HistoryEvent::SessionRevoked && h.origin.as_deref() == Some("pairing:ci")
        })
        .count();
    assert_eq!(revoked, 2);
}
