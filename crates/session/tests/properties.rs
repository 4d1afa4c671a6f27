//! Properties over generated inputs (proptest): the ReCap encoding is a canonical bijection, the
//! session SIWE prints stably, coverage matches an independent model item by item and end to end
//! through the node verifier, and no single-byte change of a signed message verifies.
#![allow(clippy::unwrap_used, reason = "test")]

mod common;

use std::str::FromStr;

use common::*;
use lit_companion_session::{
    error::RecapError,
    explain::explain_siwe,
    message::SessionMessage,
    resource::RecapAbility,
    session_sigs::{sign_session_sigs, SessionParams, SessionSig},
    verify::{verify_session_sig, NodeContext},
    Ability, AuthSig, Generation, LitResource, Recap, ResourceAbilityRequest, ResourcePrefix,
};
use proptest::prelude::*;
use serde_json::{Map, Value};
use time::Duration;

// ---------------------------------------------------------------------------------------------
// Generators.

/// A few ids per prefix (and the wildcard), so that generated grants and requests overlap.
fn ids(prefix: ResourcePrefix) -> &'static [&'static str] {
    match prefix {
        ResourcePrefix::Pkp => &["*", "1", "2", "0xabc"],
        ResourcePrefix::AccessControlCondition => &["*", "ab/cd", "ef/01"],
        ResourcePrefix::LitAction => &["*", "QmA", "QmB"],
        ResourcePrefix::RateLimitIncrease => &["*", "1", "2"],
        _ => &["*"],
    }
}

fn resource(prefix: ResourcePrefix, id: &str) -> LitResource {
    if id == "*" {
        LitResource::wildcard(prefix)
    } else {
        LitResource::new(prefix, id).unwrap()
    }
}

/// A request with any ability, on a resource of that ability's kind. `common` restricts to the
/// kinds both generations know (for signing).
fn request(common: bool) -> impl Strategy<Value = ResourceAbilityRequest> {
    let abilities: Vec<Ability> = Ability::ALL
        .into_iter()
        .filter(|a| {
            !common
                || matches!(
                    a.prefix(),
                    ResourcePrefix::Pkp
                        | ResourcePrefix::LitAction
                        | ResourcePrefix::AccessControlCondition
                )
        })
        .collect();
    (
        proptest::sample::select(abilities),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(ability, i)| {
            let pool = ids(ability.prefix());
            ResourceAbilityRequest::new(
                resource(ability.prefix(), pool[i.index(pool.len())]),
                ability,
            )
            .unwrap()
        })
}

fn requests(common: bool, max: usize) -> impl Strategy<Value = Vec<ResourceAbilityRequest>> {
    prop::collection::vec(request(common), 0..=max)
}

/// Caveat values: JSON without floats (RFC 8785 number formatting is not ours to test here).
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn caveat() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("\\PC{0,8}", json_value(), 0..3)
        .prop_map(|m| m.into_iter().collect())
}

fn recap_ability() -> impl Strategy<Value = RecapAbility> {
    proptest::sample::select(vec![
        RecapAbility::THRESHOLD_SIGNING,
        RecapAbility::THRESHOLD_DECRYPTION,
        RecapAbility::THRESHOLD_EXECUTION,
        RecapAbility::AUTH_AUTH,
        RecapAbility::ALL,
    ])
}

/// Any ReCap: resource URIs from the Lit prefixes and free text, abilities, caveats.
fn recap() -> impl Strategy<Value = Recap> {
    let uri = prop_oneof![
        "lit-(pkp|litaction|accesscontrolcondition)://[0-9a-f*]{1,6}",
        "[a-z]{1,8}:\\PC{0,16}",
    ];
    prop::collection::vec((uri, recap_ability(), caveat()), 0..6).prop_map(|items| {
        let mut r = Recap::new();
        for (uri, ability, caveat) in items {
            r.add(&uri, ability, caveat);
        }
        r
    })
}

// ---------------------------------------------------------------------------------------------
// The model of coverage, written from the spec rather than from `Recap::covers`: a grant item
// covers a request item when both name the same ReCap ability on the same kind of resource,
// and the grant's resource is that kind's wildcard or the very same resource.

fn item_covered(grant: &[ResourceAbilityRequest], r: &ResourceAbilityRequest) -> bool {
    grant.iter().any(|g| {
        g.ability.recap() == r.ability.recap()
            && g.resource.prefix() == r.resource.prefix()
            && (g.resource == LitResource::wildcard(g.resource.prefix())
                || g.resource == r.resource)
    })
}

fn message(grant: &[ResourceAbilityRequest], domain: &str, statement: &str, hours: i64) -> String {
    SessionMessage {
        domain,
        address: wallet().address(),
        statement,
        session_key: &session().public_key().to_hex(),
        nonce: NONCE,
        issued_at: t0(),
        expiration: t0() + Duration::hours(hours),
        grant,
    }
    .build()
    .unwrap()
}

fn node_ctx(request: Option<&ResourceAbilityRequest>) -> NodeContext<'_> {
    NodeContext {
        node_address: NODE,
        generation: Generation::Datil,
        now: t0() + Duration::minutes(5),
        request,
        network_key: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// decode(encode(r)) == r, and encoding what decoded gives back the same text.
    #[test]
    fn recap_encode_then_decode_is_the_identity(r in recap()) {
        let urn = r.encode().unwrap();
        let back = Recap::decode(&urn).unwrap();
        prop_assert_eq!(&back, &r);
        prop_assert_eq!(back.encode().unwrap(), urn);
    }

    /// One ReCap, one encoding: the same JSON with white space, or with its top-level keys in
    /// another order, is refused as not canonical; two ReCaps share an encoding only if equal.
    #[test]
    fn recap_encoding_is_canonical(r in recap(), other in recap()) {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
        let canonical = r.to_canonical_json().unwrap();
        let value: Value = serde_json::from_str(&canonical).unwrap();
        let pretty = serde_json::to_string_pretty(&value).unwrap();
        let mut reordered = Map::new();
        reordered.insert("prf".into(), value["prf"].clone());
        reordered.insert("att".into(), value["att"].clone());
        let reordered = serde_json::to_string(&Value::Object(reordered)).unwrap();
        for variant in [pretty, reordered] {
            prop_assert_ne!(&variant, &canonical);
            let urn = format!("urn:recap:{}", URL_SAFE_NO_PAD.encode(&variant));
            prop_assert!(matches!(Recap::decode(&urn), Err(RecapError::NotCanonical)));
        }
        prop_assert_eq!(r.encode().unwrap() == other.encode().unwrap(), r == other);
    }

    /// The session SIWE message prints, parses (as EIP-4361, by the siwe crate) and prints
    /// again to the same text; its ReCap is exactly the grant's.
    #[test]
    fn siwe_print_parse_print_is_stable(
        grant in requests(false, 5),
        domain in "[a-z]{1,12}(\\.[a-z]{2,6}){1,2}(:[1-9][0-9]{1,4})?",
        statement in "[A-Za-z0-9 ,.'!?-]{0,40}",
        hours in 1i64..24 * 30,
    ) {
        let text = message(&grant, &domain, statement.trim(), hours);
        let parsed = siwe::Message::from_str(&text).unwrap();
        prop_assert_eq!(parsed.to_string(), text.clone());
        let reparsed = siwe::Message::from_str(&parsed.to_string()).unwrap();
        prop_assert_eq!(reparsed.to_string(), text.clone());
        let recap = Recap::extract(parsed.resources.iter().map(|r| r.as_str())).unwrap();
        prop_assert_eq!(recap, Recap::for_requests(&grant));
        prop_assert!(explain_siwe(&text).is_ok());
    }

    /// A request is covered by a grant exactly when each of its items is, item by item as the
    /// model says.
    #[test]
    fn a_request_is_covered_exactly_when_each_item_is(
        grant in requests(false, 5),
        asked in requests(false, 5),
    ) {
        let recap = Recap::for_requests(&grant);
        for r in &asked {
            prop_assert_eq!(recap.covers(r), item_covered(&grant, r), "{}", r);
        }
        let all = asked.iter().all(|r| item_covered(&grant, r));
        prop_assert_eq!(recap.missing(&asked).is_empty(), all);
        let missing: Vec<_> = recap.missing(&asked).into_iter().cloned().collect();
        let expected: Vec<_> = asked.iter().filter(|r| !item_covered(&grant, r)).cloned().collect();
        prop_assert_eq!(missing, expected);
    }

    /// End to end: sessionSigs for `asked` sign only when the wallet's grant covers every item,
    /// and then the node verifier accepts each item, and refuses anything the grant lacks.
    #[test]
    fn signing_and_verifying_follow_coverage(
        grant in requests(true, 4),
        asked in requests(true, 4).prop_filter("non-empty", |a| !a.is_empty()),
        probe in request(true),
    ) {
        let text = message(&grant, "app.example.com", "", 24);
        let auth = AuthSig::sign(&wallet(), text).unwrap();
        let signed = sign_session_sigs(&SessionParams {
            generation: Generation::Datil,
            session_key: &session(),
            requests: &asked,
            wallet_auth_sig: &auth,
            delegation_auth_sigs: &[],
            issued_at: t0(),
            expiration: t0() + Duration::hours(24),
            node_urls: &[NODE.to_owned()],
            max_price_wei: None,
        });
        let all = asked.iter().all(|r| item_covered(&grant, r));
        prop_assert_eq!(signed.is_ok(), all);
        let Ok(map) = signed else { return Ok(()) };
        let entry = map.get(NODE).unwrap();
        for r in &asked {
            prop_assert!(verify_session_sig(entry, &node_ctx(Some(r))).is_ok(), "{}", r);
        }
        // A probe the session lists (by prefix and id) is accepted exactly when granted.
        let listed = asked.iter().any(|a| {
            a.resource.prefix() == probe.resource.prefix()
                && (a.resource.is_wildcard() || a.resource == probe.resource)
        });
        if listed {
            prop_assert_eq!(
                verify_session_sig(entry, &node_ctx(Some(&probe))).is_ok(),
                item_covered(&grant, &probe),
                "{}", probe
            );
        } else {
            prop_assert!(verify_session_sig(entry, &node_ctx(Some(&probe))).is_err());
        }
    }

    /// No single-byte change of the session's signed message verifies.
    #[test]
    fn no_byte_change_of_the_session_message_verifies(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let good = entry(&valid_datil());
        prop_assert!(verify_session_sig(&good, &node_ctx(Some(&pkp_request()))).is_ok());
        let mut bytes = good.signed_message.clone().into_bytes();
        let i = at.index(bytes.len());
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        // A message that is not UTF-8 cannot travel in JSON at all.
        let Ok(signed_message) = String::from_utf8(bytes) else { return Ok(()) };
        let bent = SessionSig { signed_message, ..good.clone() };
        prop_assert!(verify_session_sig(&bent, &node_ctx(Some(&pkp_request()))).is_err());
        prop_assert!(verify_session_sig(&bent, &node_ctx(None)).is_err());
    }

    /// No single-byte change of the wallet's SIWE verifies, even when the session key signs the
    /// outer message again (so only the wallet's EIP-191 signature stands in the way).
    #[test]
    fn no_byte_change_of_the_wallet_siwe_verifies(at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let good = entry(&valid_datil());
        let mut result = Ok(());
        let bent = resign(&good, |v| {
            let siwe = v["capabilities"][0]["signedMessage"].as_str().unwrap().to_owned();
            let mut bytes = siwe.into_bytes();
            let i = at.index(bytes.len());
            if bytes[i] == byte {
                result = Err("same byte");
                return;
            }
            bytes[i] = byte;
            match String::from_utf8(bytes) {
                Ok(s) => v["capabilities"][0]["signedMessage"] = Value::String(s),
                Err(_) => result = Err("not UTF-8"),
            }
        });
        prop_assume!(result.is_ok());
        prop_assert!(verify_session_sig(&bent, &node_ctx(Some(&pkp_request()))).is_err());
        prop_assert!(verify_session_sig(&bent, &node_ctx(None)).is_err());
    }
}
