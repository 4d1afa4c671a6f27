//! The vault against a real Secret Service (a private gnome-keyring), checked independently
//! with `secret-tool`.
#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::{Arc, OnceLock};

use lit_companion_session::{
    timefmt::parse_rfc3339, Ability, Address, Generation, LitResource, ResourceAbilityRequest,
    ResourcePrefix, WalletKey,
};
use lit_companion_testkit::{unique_service, PrivateKeyring};
use lit_companion_vault::history::HistoryEvent;
use lit_companion_vault::{
    metadata::RecordState, Grantee, Issuance, LiveSession, Need, NeedReason, NewSession,
    OsKeychain, Revoke, SignRequest, Vault, VaultError,
};
use time::{Duration, OffsetDateTime};

const NONCE: &str = "0xabababababababababababababababababababababababababababababababab";
const ORIGIN: &str = "https://app.example.com";

fn keyring() -> &'static PrivateKeyring {
    static K: OnceLock<PrivateKeyring> = OnceLock::new();
    K.get_or_init(|| {
        let k = PrivateKeyring::start();
        k.enter();
        k
    })
}

struct Fixture {
    vault: Vault,
    service: String,
    dir: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn t0() -> OffsetDateTime {
    parse_rfc3339("2026-11-24T12:00:00.000Z").unwrap()
}

fn fixture(name: &str) -> Fixture {
    let k = keyring();
    let service = unique_service(name);
    let dir = k.data_dir().join(name);
    let (vault, _) = Vault::open(&dir, Arc::new(OsKeychain::with_service(&service)), t0()).unwrap();
    Fixture {
        vault,
        service,
        dir,
    }
}

fn pkp(id: &str) -> ResourceAbilityRequest {
    ResourceAbilityRequest::new(
        LitResource::new(ResourcePrefix::Pkp, id).unwrap(),
        Ability::PkpSigning,
    )
    .unwrap()
}

fn grantee(wallet: Address) -> Grantee<'static> {
    Grantee {
        origin: ORIGIN,
        network: "datil-dev",
        wallet,
    }
}

fn need(requests: &[ResourceAbilityRequest], until: OffsetDateTime) -> Need<'_> {
    Need {
        requests,
        until,
        max_price_wei: None,
    }
}

fn new_session(hours: i64) -> NewSession<'static> {
    NewSession {
        domain: "app.example.com",
        statement: "",
        nonce: NONCE,
        now: t0(),
        expiration: t0() + Duration::hours(hours),
        max_price_wei: None,
    }
}

/// A session for `ORIGIN` on datil-dev granting `grant`, `hours` long.
fn create(
    vault: &Vault,
    wallet: Address,
    grant: &[ResourceAbilityRequest],
    hours: i64,
) -> Result<Arc<LiveSession>, VaultError> {
    vault.create_session(&grantee(wallet), grant, &new_session(hours))
}

/// What the vault asks about, or panics on a reuse.
fn asked(i: Issuance) -> lit_companion_vault::Ask {
    match i {
        Issuance::Ask(a) => a,
        Issuance::Live(l) => panic!("expected a question, got a reuse of {l:?}"),
    }
}

#[test]
fn wallets_live_in_the_keychain_and_leave_it_on_removal() {
    let f = fixture("wallets");
    let k = keyring();
    let imported = f
        .vault
        .import_wallet(&format!("0x{}", "11".repeat(32)), "Main", t0())
        .unwrap();
    assert_eq!(
        imported.to_checksum(),
        "0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A"
    );
    let created = f.vault.create_wallet("Spare", t0()).unwrap();
    let accounts = k.accounts(&f.service);
    assert_eq!(accounts.len(), 2, "{accounts:?}");
    assert_eq!(
        k.lookup(&f.service, &format!("wallet:{imported}")).unwrap(),
        vec![0x11; 32]
    );

    let listed: Vec<String> = f
        .vault
        .wallets()
        .unwrap()
        .into_iter()
        .map(|w| format!("{} {}", w.label, w.address))
        .collect();
    assert_eq!(
        listed,
        vec![format!("Main {imported}"), format!("Spare {created}")]
    );
    assert!(matches!(
        f.vault.import_wallet(&"11".repeat(32), "again", t0()),
        Err(VaultError::DuplicateWallet(_))
    ));
    assert_eq!(
        f.vault.export_wallet(&imported, t0()).unwrap().as_str(),
        "11".repeat(32)
    );

    f.vault.remove_wallet(&created, t0()).unwrap();
    assert_eq!(k.accounts(&f.service), vec![format!("wallet:{imported}")]);
    assert!(matches!(
        f.vault.wallet_key(&created),
        Err(VaultError::UnknownWallet(_))
    ));

    let text = std::fs::read_to_string(f.vault.metadata_path()).unwrap();
    assert!(
        !text.contains(&"11".repeat(32)),
        "the metadata must hold no key"
    );
}

#[test]
fn a_browser_wallet_is_an_address_only_and_nothing_secret_is_kept_for_it() {
    use lit_companion_vault::metadata::WalletKind;
    let f = fixture("browser-wallets");
    let k = keyring();
    let address = WalletKey::generate().address();
    f.vault
        .add_external_wallet(&address, "MetaMask", t0())
        .unwrap();
    let listed = f.vault.wallets().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].kind, WalletKind::External);
    assert_eq!(listed[0].label, "MetaMask");
    assert!(k.accounts(&f.service).is_empty(), "no keychain item");
    // It has no key here: it cannot sign in the companion, nor be exported.
    assert!(matches!(
        f.vault.wallet_key(&address),
        Err(VaultError::ExternalWallet(_))
    ));
    assert!(matches!(
        f.vault.export_wallet(&address, t0()),
        Err(VaultError::ExternalWallet(_))
    ));
    assert!(matches!(
        f.vault.add_external_wallet(&address, "again", t0()),
        Err(VaultError::DuplicateWallet(_))
    ));
    // A record written before wallets had kinds reads as local.
    let old: lit_companion_vault::metadata::WalletRecord = serde_json::from_str(
        r#"{"address":"0x19E7E376E7C213B7E7e7e46cc70A5dD086DAff2A","label":"Main","created_at":"2026-01-01T00:00:00.000Z","state":"live"}"#,
    )
    .unwrap();
    assert_eq!(old.kind, WalletKind::Local);
    f.vault.remove_wallet(&address, t0()).unwrap();
    assert!(f.vault.wallets().unwrap().is_empty());
    assert!(k.accounts(&f.service).is_empty());
}

#[test]
fn a_pkp_is_its_public_key_and_the_wallet_that_signs_in_for_it() {
    use lit_companion_session::PkpPublicKey;
    use lit_companion_vault::metadata::WalletKind;
    let f = fixture("pkp-wallets");
    let k = keyring();
    let main = f.vault.create_wallet("Main", t0()).unwrap();
    let browser = WalletKey::generate().address();
    f.vault
        .add_external_wallet(&browser, "MetaMask", t0())
        .unwrap();
    let key = PkpPublicKey::parse(&hex::encode(
        WalletKey::generate().public_key_uncompressed(),
    ))
    .unwrap();
    let address = f.vault.add_pkp(&key, &main, "My PKP", t0()).unwrap();
    assert_eq!(address, key.address());
    let record = f.vault.pkp(&key).unwrap().unwrap();
    assert_eq!(record.kind, WalletKind::Pkp);
    assert_eq!(record.pkp.as_ref().unwrap().public_key, key.to_hex());
    assert_eq!(record.pkp.as_ref().unwrap().auth, main.to_checksum());
    // Nothing secret: the keychain holds the local wallet's key only.
    assert_eq!(k.accounts(&f.service), vec![format!("wallet:{main}")]);
    assert!(matches!(
        f.vault.wallet_key(&address),
        Err(VaultError::PkpWallet(_))
    ));
    assert!(matches!(
        f.vault.add_pkp(&key, &browser, "again", t0()),
        Err(VaultError::DuplicateWallet(_))
    ));
    // Its auth method must be one of the vault's local or browser wallets.
    let other = PkpPublicKey::parse(&hex::encode(
        WalletKey::generate().public_key_uncompressed(),
    ))
    .unwrap();
    assert!(matches!(
        f.vault
            .add_pkp(&other, &WalletKey::generate().address(), "x", t0()),
        Err(VaultError::UnknownWallet(_))
    ));
    assert!(matches!(
        f.vault.add_pkp(&other, &address, "x", t0()),
        Err(VaultError::Invalid(_))
    ));
    f.vault.add_pkp(&other, &browser, "Second", t0()).unwrap();
    // The wallet that signs in for a PKP stays until the PKP goes.
    match f.vault.remove_wallet(&main, t0()) {
        Err(VaultError::Invalid(m)) => assert!(m.contains(&address.to_checksum()), "{m}"),
        other => panic!("{other:?}"),
    }
    f.vault.label_wallet(&address, "Renamed").unwrap();
    assert_eq!(f.vault.pkp(&key).unwrap().unwrap().label, "Renamed");
    f.vault.remove_wallet(&address, t0()).unwrap();
    f.vault.remove_wallet(&main, t0()).unwrap();
    assert_eq!(f.vault.wallets().unwrap().len(), 2);
    let text = std::fs::read_to_string(f.vault.metadata_path()).unwrap();
    assert!(
        text.contains(&other.to_hex()),
        "the PKP's public key is in the file"
    );
}

#[test]
fn a_session_is_reused_until_it_expires_or_is_asked_for_more() {
    let f = fixture("reuse");
    let k = keyring();
    let wallet = f.vault.import_wallet(&"22".repeat(32), "", t0()).unwrap();
    let one = [pkp("0x01")];
    let lookup = |reqs: &[ResourceAbilityRequest], at: OffsetDateTime| {
        f.vault
            .session_for(&grantee(wallet), &need(reqs, at))
            .unwrap()
    };
    assert_eq!(asked(lookup(&one, t0())).reason, NeedReason::NoSession);

    let first = create(&f.vault, wallet, &one, 24).unwrap();
    let pk = first.record.public_key.clone();
    assert!(
        k.lookup(&f.service, &format!("session:{pk}")).is_some(),
        "seed in the keychain"
    );
    let seed = k.lookup(&f.service, &format!("session:{pk}")).unwrap();
    assert_eq!(seed, first.key().seed().as_bytes().to_vec());

    // Inside the grant: the same key and AuthSig, no new signature.
    let Issuance::Live(again) = lookup(&one, t0() + Duration::hours(1)) else {
        panic!("expected reuse")
    };
    assert_eq!(again.record.public_key, pk);
    assert_eq!(again.record.auth_sig, first.record.auth_sig);
    // The same answer from memory alone: no keychain needed for a reuse.
    assert!(matches!(
        f.vault
            .session_from_memory(&grantee(wallet), &need(&one, t0()))
            .unwrap(),
        Some(Issuance::Live(_))
    ));
    // Other network or origin: nothing.
    let datil = Grantee {
        network: "datil",
        ..grantee(wallet)
    };
    assert_eq!(
        asked(f.vault.session_for(&datil, &need(&one, t0())).unwrap()).reason,
        NeedReason::NoSession
    );

    // More than granted: escalation, naming exactly what is new; approval grants both.
    let two = [pkp("0x01"), pkp("0x02")];
    let ask = asked(lookup(&two, t0()));
    assert_eq!(ask.reason, NeedReason::Escalation);
    assert_eq!(ask.granted, one.to_vec());
    assert_eq!(ask.new, vec![pkp("0x02")]);
    assert_eq!(ask.grant, two.to_vec());
    // Asking for less than granted plus something new never shrinks the grant.
    let ask = asked(lookup(&[pkp("0x03")], t0()));
    assert_eq!(ask.grant, vec![pkp("0x01"), pkp("0x03")]);
    let second = create(&f.vault, wallet, &two, 24).unwrap();
    assert_ne!(second.record.public_key, pk);
    assert_eq!(
        k.accounts(&f.service),
        vec![
            format!("session:{}", second.record.public_key),
            format!("wallet:{wallet}")
        ]
    );

    // Past the expiry: expired.
    assert_eq!(
        asked(lookup(&one, t0() + Duration::hours(25))).reason,
        NeedReason::Expired
    );

    // Sessions can sign within the grant only.
    let nodes = vec!["https://127.0.0.1:7470".to_owned()];
    let now = t0() + Duration::minutes(1);
    let req = |requests| SignRequest {
        generation: Generation::Datil,
        requests,
        nodes: &nodes,
        now,
        expiration: now + Duration::hours(48),
        delegations: &[],
        max_price_wei: None,
    };
    let sigs = second.sign(&req(&two)).unwrap();
    let signed: serde_json::Value =
        serde_json::from_str(&sigs.entries()[0].1.signed_message).unwrap();
    assert_eq!(
        signed["expiration"],
        second.record.expires_at.to_string(),
        "capped at the AuthSig's expiry"
    );
    assert!(second.sign(&req(&[pkp("0x03")])).is_err());
}

#[test]
fn revoking_removes_keys_at_once() {
    let f = fixture("revoke");
    let k = keyring();
    let wallet = f.vault.import_wallet(&"33".repeat(32), "", t0()).unwrap();
    let grant = [pkp("0x01")];
    let a = create(&f.vault, wallet, &grant, 24).unwrap();
    let other = Grantee {
        origin: "https://other.example",
        ..grantee(wallet)
    };
    let b = f
        .vault
        .create_session(
            &other,
            &grant,
            &NewSession {
                domain: "other.example",
                ..new_session(24)
            },
        )
        .unwrap();
    assert_eq!(k.accounts(&f.service).len(), 3);

    assert_eq!(
        f.vault
            .revoke(Revoke::Session(&a.record.public_key), t0())
            .unwrap(),
        1
    );
    assert!(k
        .lookup(&f.service, &format!("session:{}", a.record.public_key))
        .is_none());
    assert!(k
        .lookup(&f.service, &format!("session:{}", b.record.public_key))
        .is_some());
    assert!(matches!(
        f.vault.revoke(Revoke::Session("nope"), t0()),
        Err(VaultError::UnknownSession(_))
    ));
    assert_eq!(
        f.vault
            .revoke(Revoke::Origin("https://other.example"), t0())
            .unwrap(),
        1
    );
    assert_eq!(k.accounts(&f.service), vec![format!("wallet:{wallet}")]);
    assert!(f.vault.sessions().unwrap().is_empty());
    let history = f.vault.history().unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|h| h.event == HistoryEvent::SessionRevoked)
            .count(),
        2
    );
    // One line per revocation: nothing else is logged for it.
    assert_eq!(
        history
            .iter()
            .filter(|h| {
                matches!(
                    h.event,
                    HistoryEvent::WalletRemoved | HistoryEvent::SessionExpired
                )
            })
            .count(),
        0,
        "{history:?}"
    );
}

#[test]
fn expired_sessions_are_swept_at_open() {
    let f = fixture("sweep");
    let k = keyring();
    let wallet = f.vault.import_wallet(&"44".repeat(32), "", t0()).unwrap();
    let s = create(&f.vault, wallet, &[pkp("0x01")], 1).unwrap();
    let (_, done) = Vault::open(
        &f.dir,
        Arc::new(OsKeychain::with_service(&f.service)),
        t0() + Duration::hours(2),
    )
    .unwrap();
    assert_eq!(done.expired, 1);
    assert!(k
        .lookup(&f.service, &format!("session:{}", s.record.public_key))
        .is_none());
    assert!(f.vault.sessions().unwrap().is_empty());
}

#[test]
fn a_key_missing_from_the_keychain_marks_the_session_dead() {
    let f = fixture("missing");
    let k = keyring();
    let wallet = f.vault.import_wallet(&"55".repeat(32), "", t0()).unwrap();
    let grant = [pkp("0x01")];
    let s = create(&f.vault, wallet, &grant, 24).unwrap();
    k.clear(&f.service, &format!("session:{}", s.record.public_key));
    // The running vault holds the key in memory; a vault opened afresh (a restart, another
    // process) reads the keychain and finds it gone.
    let (fresh, _) =
        Vault::open(&f.dir, Arc::new(OsKeychain::with_service(&f.service)), t0()).unwrap();
    let r = fresh
        .session_for(&grantee(wallet), &need(&grant, t0()))
        .unwrap();
    assert_eq!(asked(r).reason, NeedReason::KeyMissing);
    let sessions = f.vault.sessions().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].state, RecordState::Dead);
    // A missing wallet key is a typed error too.
    k.clear(&f.service, &format!("wallet:{wallet}"));
    assert!(matches!(
        f.vault.wallet_key(&wallet),
        Err(VaultError::KeyMissing(_))
    ));
}

#[test]
fn a_corrupt_metadata_file_is_kept_reported_and_never_overwritten() {
    let f = fixture("corrupt");
    f.vault.import_wallet(&"66".repeat(32), "", t0()).unwrap();
    let path = f.vault.metadata_path();
    std::fs::write(&path, b"{\"version\":1,\"wallets\":[{\"addr").unwrap();
    let before = std::fs::read(&path).unwrap();
    let err =
        Vault::open(&f.dir, Arc::new(OsKeychain::with_service(&f.service)), t0()).unwrap_err();
    let VaultError::CorruptMetadata { backup, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(std::fs::read(backup).unwrap(), before);
    assert!(
        f.vault.create_wallet("x", t0()).is_err(),
        "no write over a corrupt file"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(err.code(), "metadata_corrupt");
}

#[test]
fn the_metadata_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture("modes");
    f.vault.create_wallet("", t0()).unwrap();
    let file_mode = std::fs::metadata(f.vault.metadata_path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    let dir_mode = std::fs::metadata(&f.dir).unwrap().permissions().mode() & 0o777;
    assert_eq!((file_mode, dir_mode), (0o600, 0o700));
}

#[test]
fn lifetimes_over_thirty_days_are_refused() {
    let f = fixture("lifetime");
    let wallet = f.vault.import_wallet(&"77".repeat(32), "", t0()).unwrap();
    let grant = [pkp("0x01")];
    let r = create(&f.vault, wallet, &grant, 31 * 24);
    assert!(matches!(r, Err(VaultError::Protocol(_))), "{r:?}");
    assert!(keyring()
        .accounts(&f.service)
        .iter()
        .all(|a| a.starts_with("wallet:")));
}
