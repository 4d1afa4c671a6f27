//! Property: escalation never shrinks a grant. For any live grant and any later request, what
//! the vault asks keeps everything granted, adds everything requested, names as new exactly
//! what the grant does not cover, and once approved the request is reused without a question.
#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use lit_companion_session::{
    timefmt::parse_rfc3339, Ability, LitResource, Recap, ResourceAbilityRequest,
};
use lit_companion_testkit::MemoryKeychain;
use lit_companion_vault::{Grantee, Issuance, Need, NeedReason, NewSession, Vault};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

const NONCE: &str = "0xabababababababababababababababababababababababababababababababab";
const WALLET_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

fn t0() -> OffsetDateTime {
    parse_rfc3339("2026-11-24T12:00:00.000Z").unwrap()
}

fn request() -> impl Strategy<Value = ResourceAbilityRequest> {
    let pool: Vec<(Ability, &str)> = vec![
        (Ability::PkpSigning, "*"),
        (Ability::PkpSigning, "1"),
        (Ability::PkpSigning, "2"),
        (Ability::PkpSigning, "3"),
        (Ability::LitActionExecution, "*"),
        (Ability::LitActionExecution, "QmA"),
        (Ability::LitActionExecution, "QmB"),
        (Ability::AccessControlConditionDecryption, "ab/cd"),
        (Ability::AccessControlConditionSigning, "ab/cd"),
    ];
    proptest::sample::select(pool).prop_map(|(ability, id)| {
        let prefix = ability.prefix();
        let resource = if id == "*" {
            LitResource::wildcard(prefix)
        } else {
            LitResource::new(prefix, id).unwrap()
        };
        ResourceAbilityRequest::new(resource, ability).unwrap()
    })
}

fn requests() -> impl Strategy<Value = Vec<ResourceAbilityRequest>> {
    prop::collection::vec(request(), 1..5).prop_map(|mut v| {
        let mut seen = Vec::new();
        v.retain(|r| {
            let fresh = !seen.contains(r);
            seen.push(r.clone());
            fresh
        });
        v
    })
}

fn covers(grant: &[ResourceAbilityRequest], r: &ResourceAbilityRequest) -> bool {
    Recap::for_requests(grant).covers(r)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn escalation_never_shrinks_a_grant(granted in requests(), asked in requests()) {
        let dir = std::env::temp_dir().join(format!(
            "lit-companion-escalation-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        let (vault, _) = Vault::open(&dir, Arc::new(MemoryKeychain::default()), t0()).unwrap();
        let wallet = vault.import_wallet(WALLET_KEY, "Main", t0()).unwrap();
        let who = Grantee { origin: "https://app.example.com", network: "datil-dev", wallet };
        let new = |now: OffsetDateTime| NewSession {
            domain: "app.example.com",
            statement: "",
            nonce: NONCE,
            now,
            expiration: now + Duration::hours(24),
            max_price_wei: None,
        };
        vault.create_session(&who, &granted, &new(t0())).unwrap();
        let need = Need { requests: &asked, until: t0() + Duration::hours(1), max_price_wei: None };
        match vault.session_for(&who, &need).unwrap() {
            Issuance::Live(live) => {
                // Reused only when every item is covered.
                prop_assert!(asked.iter().all(|r| covers(&granted, r)));
                prop_assert_eq!(&live.record.granted, &granted);
            }
            Issuance::Ask(ask) => {
                prop_assert_eq!(ask.reason, NeedReason::Escalation);
                prop_assert_eq!(&ask.granted, &granted);
                let expected_new: Vec<_> =
                    asked.iter().filter(|r| !covers(&granted, r)).cloned().collect();
                prop_assert!(!expected_new.is_empty());
                prop_assert_eq!(&ask.new, &expected_new);
                for g in &granted {
                    prop_assert!(ask.grant.contains(g), "{} dropped", g);
                }
                for r in &asked {
                    prop_assert!(covers(&ask.grant, r), "{} not granted", r);
                }
                // Approving grants it: the same request is then reused, and the old grant holds.
                let later = t0() + Duration::minutes(1);
                vault.create_session(&who, &ask.grant, &new(later)).unwrap();
                let need = Need { until: later + Duration::hours(1), ..need };
                let Issuance::Live(live) = vault.session_for(&who, &need).unwrap() else {
                    return Err(TestCaseError::fail("asked again after approval"));
                };
                for g in &granted {
                    prop_assert!(covers(&live.record.granted, g));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
