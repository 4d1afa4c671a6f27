//! The node-grade verifier: it accepts what a Lit node accepts and refuses, with its own
#![allow(clippy::unwrap_used, reason = "test fixtures panic on bad setup")]
//! reason, each thing a node refuses (plus the stricter checks we add on purpose).

mod common;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use common::*;
use lit_companion_session::{
    authsig::{capacity_delegation, payment_delegation, DelegationParams},
    session_sigs::{sign_session_sigs, SessionGrant, SessionParams},
    verify::{verify_session_sig, NodeContext},
    Ability, AuthSigError, Generation, ResourcePrefix, SessionKeyPair, SessionSig, VerifyError,
    WalletKey,
};
use serde_json::{json, Value};
use time::Duration;

fn ctx_at(now_offset: Duration) -> NodeContext<'static> {
    NodeContext {
        node_address: NODE,
        generation: Generation::Datil,
        now: t0() + now_offset,
        request: None,
        network_key: None,
    }
}

fn check(entry: &SessionSig) -> Result<(), VerifyError> {
    let req = pkp_request();
    let ctx = NodeContext {
        request: Some(&req),
        ..ctx_at(Duration::minutes(5))
    };
    verify_session_sig(entry, &ctx).map(|_| ())
}

fn code(entry: &SessionSig) -> &'static str {
    match check(entry) {
        Ok(()) => "accepted",
        Err(e) => e.code(),
    }
}

#[test]
fn a_valid_datil_session_is_accepted_by_every_node_in_the_map() {
    let map = valid_datil();
    let req = pkp_request();
    for (url, entry) in map.entries() {
        let ctx = NodeContext {
            node_address: url,
            request: Some(&req),
            ..ctx_at(Duration::minutes(1))
        };
        let v = verify_session_sig(entry, &ctx).unwrap();
        assert_eq!(v.wallet, wallet().address());
        assert_eq!(v.session_key, session().public_key());
        assert_eq!(v.requests, vec![req.clone()]);
    }
}

#[test]
fn node_address_is_compared_as_the_node_does() {
    let map = valid_datil();
    let e = entry(&map);
    for own in [
        "127.0.0.1:7470",
        "https://127.0.0.1:7470",
        "http://localhost:7470",
        " http://127.0.0.1:7470 ",
    ] {
        let ctx = NodeContext {
            node_address: own,
            ..ctx_at(Duration::ZERO)
        };
        assert!(verify_session_sig(&e, &ctx).is_ok(), "{own}");
    }
    for other in ["127.0.0.1:7471", "127.0.0.2:7470", "127.0.0.1"] {
        let ctx = NodeContext {
            node_address: other,
            ..ctx_at(Duration::ZERO)
        };
        assert_eq!(
            verify_session_sig(&e, &ctx).unwrap_err().code(),
            "wrong_node",
            "{other}"
        );
    }
}

#[test]
fn tampered_message_is_refused() {
    let mut e = entry(&valid_datil());
    e.signed_message = e.signed_message.replace("2026-11-25", "2026-11-26");
    assert_eq!(code(&e), "bad_session_signature");
}

#[test]
fn forged_session_signature_is_refused() {
    let e = entry(&valid_datil());
    let forger = SessionKeyPair::generate();
    let forged = SessionSig {
        sig: hex::encode(forger.sign(e.signed_message.as_bytes())),
        ..e.clone()
    };
    assert_eq!(code(&forged), "bad_session_signature");
    let mixed_case = SessionSig {
        sig: format!("{}{}", &e.sig[..64], e.sig[64..].to_uppercase()),
        ..e.clone()
    };
    if mixed_case.sig != e.sig {
        assert_eq!(code(&mixed_case), "bad_session_signature");
    }
    let short = SessionSig {
        sig: e.sig[2..].to_owned(),
        ..e
    };
    assert_eq!(code(&short), "bad_session_signature");
}

#[test]
fn broken_wallet_signature_is_refused() {
    let e = resign(&entry(&valid_datil()), |v| {
        let sig = v["capabilities"][0]["sig"].as_str().unwrap().to_owned();
        let flipped = if &sig[10..12] == "00" { "01" } else { "00" };
        v["capabilities"][0]["sig"] =
            Value::String(format!("{}{flipped}{}", &sig[..10], &sig[12..]));
    });
    assert_eq!(code(&e), "authsig_bad_signature");
}

#[test]
fn wallet_signature_over_other_text_is_refused() {
    let e = resign(&entry(&valid_datil()), |v| {
        let m = v["capabilities"][0]["signedMessage"]
            .as_str()
            .unwrap()
            .replace("app.example.com", "evil.example.com");
        v["capabilities"][0]["signedMessage"] = Value::String(m);
    });
    assert_eq!(code(&e), "authsig_bad_signature");
}

#[test]
fn wrong_node_is_refused() {
    let map = valid_datil();
    let other = map.get(OTHER_NODE).unwrap();
    assert_eq!(code(other), "wrong_node");
}

#[test]
fn expiry_respects_the_nodes_sixty_second_grace() {
    let e = entry(&valid_datil());
    let at = |offset| {
        verify_session_sig(&e, &ctx_at(offset))
            .map(|_| ())
            .map_err(|e| e.code())
    };
    // The wallet AuthSig lapses with no grace at the same instant the session does; the session
    // itself would still be inside its grace, so the capability is what fails first.
    assert_eq!(
        at(Duration::hours(24) + Duration::seconds(30)),
        Err("authsig_expired")
    );
    assert_eq!(
        at(Duration::hours(24) + Duration::seconds(61)),
        Err("expired")
    );
    assert!(at(Duration::hours(24)).is_ok());
}

#[test]
fn session_expired_while_its_authsig_lives_is_refused() {
    let reqs = [pkp_request()];
    let auth = wallet_auth_sig(&wallet(), &session(), &reqs, Duration::days(2));
    let map = sign(Generation::Datil, &reqs, &auth, Duration::hours(1));
    let r = verify_session_sig(&entry(&map), &ctx_at(Duration::hours(2)));
    assert_eq!(r.unwrap_err(), VerifyError::Expired);
}

#[test]
fn issued_in_the_future_is_refused_beyond_grace() {
    let e = entry(&valid_datil());
    assert!(
        verify_session_sig(&e, &ctx_at(Duration::seconds(-59))).is_ok(),
        "inside the grace"
    );
    assert_eq!(
        verify_session_sig(&e, &ctx_at(Duration::seconds(-61))).unwrap_err(),
        VerifyError::IssuedInFuture
    );
}

#[test]
fn lifetime_over_thirty_days_is_refused_and_exactly_thirty_passes() {
    let reqs = [pkp_request()];
    let auth = wallet_auth_sig(&wallet(), &session(), &reqs, Duration::days(31));
    let thirty = sign(Generation::Datil, &reqs, &auth, Duration::days(30));
    assert!(verify_session_sig(&entry(&thirty), &ctx_at(Duration::minutes(1))).is_ok());
    let long = resign(&entry(&thirty), |v| {
        v["expiration"] = json!("2026-12-24T12:00:00.001Z")
    });
    assert_eq!(
        verify_session_sig(&long, &ctx_at(Duration::minutes(1))).unwrap_err(),
        VerifyError::LifetimeTooLong
    );
}

#[test]
fn expiration_before_issued_at_is_refused() {
    let e = resign(&entry(&valid_datil()), |v| {
        v["expiration"] = json!("2026-11-24T11:59:00.000Z")
    });
    assert_eq!(
        verify_session_sig(&e, &ctx_at(Duration::ZERO)).unwrap_err(),
        VerifyError::ExpiresBeforeIssued
    );
}

#[test]
fn authsig_for_another_session_key_is_refused() {
    let reqs = [pkp_request()];
    let other_key = SessionKeyPair::generate();
    let foreign = wallet_auth_sig(&wallet(), &other_key, &reqs, Duration::hours(24));
    let e = resign(&entry(&valid_datil()), |v| {
        v["capabilities"] = json!([foreign])
    });
    assert_eq!(code(&e), "authsig_uri_mismatch");
}

#[test]
fn recap_not_covering_the_resource_is_refused_in_the_nodes_words() {
    let other_pkp = request(ResourcePrefix::Pkp, "0x99", Ability::PkpSigning);
    let narrow = wallet_auth_sig(
        &wallet(),
        &session(),
        std::slice::from_ref(&other_pkp),
        Duration::hours(24),
    );
    // The session lists the wildcard PKP request, so only the ReCap can refuse.
    let e = resign(&entry(&valid_datil()), |v| {
        v["capabilities"] = json!([narrow]);
        v["resourceAbilityRequests"] = json!([{"resource":{"resource":"*","resourcePrefix":"lit-pkp"},"ability":"pkp-signing"}]);
    });
    let err = check(&e).unwrap_err();
    assert_eq!(err.code(), "resource_not_covered");
    assert!(
        err.to_string()
            .contains("Resource id not found in auth_sig capabilities"),
        "{err}"
    );
}

#[test]
fn resource_not_in_resource_ability_requests_is_refused() {
    let e = entry(&valid_datil());
    let action = request(
        ResourcePrefix::LitAction,
        "QmYwAPJzv5CZsnAzt8auVZRn9pfbGkY8ZtZ7j1234PbdG",
        Ability::LitActionExecution,
    );
    let ctx = NodeContext {
        request: Some(&action),
        ..ctx_at(Duration::ZERO)
    };
    assert_eq!(
        verify_session_sig(&e, &ctx).unwrap_err().code(),
        "resource_not_requested"
    );
}

#[test]
fn unsorted_recap_is_refused() {
    let good = wallet_auth_sig(&wallet(), &session(), &[pkp_request()], Duration::hours(24));
    let urn_pos = good.signed_message.find("urn:recap:").unwrap();
    let unsorted =
        format!(r#"{{"prf":[],"att":{{"lit-pkp://{PKP}":{{"Threshold/Signing":[{{}}]}}}}}}"#);
    let text = format!(
        "{}urn:recap:{}",
        &good.signed_message[..urn_pos],
        URL_SAFE_NO_PAD.encode(unsorted)
    );
    let bad = raw_auth_sig(&text);
    let e = resign(&entry(&valid_datil()), |v| v["capabilities"] = json!([bad]));
    assert_eq!(code(&e), "authsig_recap_invalid");
    assert!(matches!(
        check(&e),
        Err(VerifyError::Capability(AuthSigError::Recap(
            lit_companion_session::RecapError::NotCanonical
        )))
    ));
}

#[test]
fn statement_not_matching_the_recap_is_refused() {
    let good = wallet_auth_sig(&wallet(), &session(), &[pkp_request()], Duration::hours(24));
    let text = good
        .signed_message
        .replace("'Threshold': 'Signing'", "'Threshold': 'Nothing'");
    let e = resign(&entry(&valid_datil()), |v| {
        v["capabilities"] = json!([raw_auth_sig(&text)])
    });
    assert_eq!(code(&e), "authsig_recap_invalid");
}

#[test]
fn authsig_with_an_extra_key_is_refused() {
    let e = resign(&entry(&valid_datil()), |v| {
        v["capabilities"][0]["algo"] = json!("ed25519")
    });
    assert_eq!(code(&e), "authsig_malformed");
    let e = resign(&entry(&valid_datil()), |v| {
        v["capabilities"][0]["extra"] = json!(1)
    });
    assert_eq!(code(&e), "authsig_malformed");
}

#[test]
fn lowercase_address_is_refused() {
    let e = resign(&entry(&valid_datil()), |v| {
        let a = v["capabilities"][0]["address"]
            .as_str()
            .unwrap()
            .to_lowercase();
        v["capabilities"][0]["address"] = json!(a);
    });
    assert_eq!(code(&e), "authsig_address_not_checksummed");
    // In the SIWE text itself the lowercase address does not even parse (EIP-4361: EIP-55).
    let good = wallet_auth_sig(&wallet(), &session(), &[pkp_request()], Duration::hours(24));
    let addr = wallet().address().to_checksum();
    let text = good.signed_message.replace(&addr, &addr.to_lowercase());
    let e = resign(&entry(&valid_datil()), |v| {
        v["capabilities"] = json!([raw_auth_sig(&text)])
    });
    assert_eq!(code(&e), "authsig_siwe_parse");
}

#[test]
fn session_key_field_must_be_the_signer() {
    let other = SessionKeyPair::generate().public_key().to_hex();
    let e = resign(&entry(&valid_datil()), |v| v["sessionKey"] = json!(other));
    assert_eq!(code(&e), "session_key_mismatch");
}

#[test]
fn not_an_ed25519_session_signature_is_refused() {
    let e = entry(&valid_datil());
    assert_eq!(
        code(&SessionSig {
            algo: None,
            ..e.clone()
        }),
        "bad_algorithm"
    );
    assert_eq!(
        code(&SessionSig {
            derived_via: "web3.eth.personal.sign".into(),
            ..e.clone()
        }),
        "bad_algorithm"
    );
    assert_eq!(
        code(&SessionSig {
            address: e.address.to_uppercase(),
            ..e
        }),
        "bad_session_key"
    );
}

#[test]
fn no_capabilities_is_refused() {
    let e = resign(&entry(&valid_datil()), |v| v["capabilities"] = json!([]));
    assert_eq!(code(&e), "no_capability");
}

#[test]
fn the_first_valid_capability_wins() {
    let reqs = [pkp_request()];
    let foreign = wallet_auth_sig(
        &wallet(),
        &SessionKeyPair::generate(),
        &reqs,
        Duration::hours(24),
    );
    let good = wallet_auth_sig(&wallet(), &session(), &reqs, Duration::hours(24));
    let e = resign(&entry(&valid_datil()), |v| {
        v["capabilities"] = json!([foreign, good])
    });
    assert_eq!(code(&e), "accepted");
}

#[test]
fn naga_needs_max_price() {
    let reqs = [pkp_request()];
    let auth = wallet_auth_sig(&wallet(), &session(), &reqs, Duration::minutes(15));
    let map = sign(Generation::Naga, &reqs, &auth, Duration::minutes(15));
    let e = entry(&map);
    assert!(e
        .signed_message
        .contains(r#""resource":{"resourcePrefix":"lit-pkp","resource":"#));
    assert!(
        e.signed_message
            .ends_with(r#","maxPrice":"0x38d7ea4c68000"}"#),
        "{}",
        e.signed_message
    );
    let naga = NodeContext {
        generation: Generation::Naga,
        ..ctx_at(Duration::minutes(1))
    };
    let v = verify_session_sig(&e, &naga).unwrap();
    assert_eq!(v.max_price_wei, Some(1_000_000_000_000_000));
    let stripped = resign(&e, |v| {
        v.as_object_mut().unwrap().remove("maxPrice");
    });
    assert_eq!(
        verify_session_sig(&stripped, &naga).unwrap_err(),
        VerifyError::MaxPrice
    );
}

#[test]
fn signing_refuses_more_than_the_authsig_grants() {
    let reqs = [pkp_request()];
    let auth = wallet_auth_sig(&wallet(), &session(), &reqs, Duration::hours(24));
    let wider = [
        pkp_request(),
        request(ResourcePrefix::Pkp, "*", Ability::PkpSigning),
    ];
    let r = sign_session_sigs(&SessionParams {
        generation: Generation::Datil,
        session_key: &session(),
        requests: &wider,
        wallet_auth_sig: &auth,
        delegation_auth_sigs: &[],
        issued_at: t0(),
        expiration: t0() + Duration::hours(1),
        node_urls: &[NODE.to_owned()],
        max_price_wei: None,
    });
    assert!(
        matches!(r, Err(lit_companion_session::SignError::NotGranted(_))),
        "{r:?}"
    );
}

#[test]
fn a_checked_grant_signs_only_for_its_own_authsig_and_key() {
    let reqs = [pkp_request()];
    let auth = wallet_auth_sig(&wallet(), &session(), &reqs, Duration::hours(24));
    let grant = SessionGrant::check(&auth, &session()).unwrap();
    let nodes = [NODE.to_owned()];
    let params = |auth_sig, key| SessionParams {
        generation: Generation::Datil,
        session_key: key,
        requests: &reqs,
        wallet_auth_sig: auth_sig,
        delegation_auth_sigs: &[],
        issued_at: t0(),
        expiration: t0() + Duration::hours(1),
        node_urls: &nodes,
        max_price_wei: None,
    };
    // The grant signs what the one-off path signs, byte for byte.
    let session = session();
    assert_eq!(
        grant.sign(&params(&auth, &session)).unwrap(),
        sign_session_sigs(&params(&auth, &session)).unwrap()
    );
    // Another AuthSig (even one for the same key and grant) or another key: refused.
    let other_auth = wallet_auth_sig(&wallet(), &session, &reqs, Duration::hours(2));
    assert!(grant.sign(&params(&other_auth, &session)).is_err());
    let other_key = lit_companion_session::SessionKeyPair::from_seed(
        &lit_companion_session::SessionSeed::from_bytes([9; 32]),
    );
    assert!(grant.sign(&params(&auth, &other_key)).is_err());
    // A grant is never checked for a key its AuthSig does not name.
    assert!(SessionGrant::check(&auth, &other_key).is_err());
}

fn delegation_params(delegatees: &[lit_companion_session::Address]) -> DelegationParams<'_> {
    DelegationParams {
        domain: "app.example.com",
        statement: "",
        nonce: NONCE,
        issued_at: t0(),
        expiration: t0() + Duration::days(2),
        delegatees,
    }
}

fn with_delegation(
    delegation: lit_companion_session::AuthSig,
    generation: Generation,
) -> SessionSig {
    let reqs = [pkp_request()];
    let auth = wallet_auth_sig(&wallet(), &session(), &reqs, Duration::hours(24));
    let map = sign_session_sigs(&SessionParams {
        generation,
        session_key: &session(),
        requests: &reqs,
        wallet_auth_sig: &auth,
        delegation_auth_sigs: std::slice::from_ref(&delegation),
        issued_at: t0(),
        expiration: t0() + Duration::hours(1),
        node_urls: &[NODE.to_owned()],
        max_price_wei: (generation == Generation::Naga).then_some(5),
    })
    .unwrap();
    entry(&map)
}

#[test]
fn capacity_delegation_to_the_user_is_carried_first_and_verified() {
    let owner = WalletKey::generate();
    let user = [wallet().address()];
    let d = capacity_delegation(&owner, "24529", 200, &delegation_params(&user)).unwrap();
    assert!(d.signed_message.contains("URI: lit:capability:delegation"));
    let e = with_delegation(d, Generation::Datil);
    let caps: Value =
        serde_json::from_str::<Value>(&e.signed_message).unwrap()["capabilities"].clone();
    assert!(
        caps[0]["signedMessage"]
            .as_str()
            .unwrap()
            .contains("lit:capability:delegation"),
        "delegation goes first"
    );
    let v = verify_session_sig(&e, &ctx_at(Duration::minutes(1))).unwrap();
    assert_eq!(v.delegations, vec![owner.address()]);
}

#[test]
fn delegation_to_someone_else_is_refused() {
    let owner = WalletKey::generate();
    let stranger = [WalletKey::generate().address()];
    let d = capacity_delegation(&owner, "24529", 200, &delegation_params(&stranger)).unwrap();
    let e = with_delegation(d, Generation::Datil);
    assert_eq!(
        verify_session_sig(&e, &ctx_at(Duration::minutes(1)))
            .unwrap_err()
            .code(),
        "delegation_invalid"
    );
}

#[test]
fn payment_delegation_round_trips_on_naga() {
    let owner = WalletKey::generate();
    let user = [wallet().address()];
    let d = payment_delegation(
        &owner,
        1_000_000_000_000_000_000,
        &["pkp_sign", "lit_action"],
        &delegation_params(&user),
    )
    .unwrap();
    let recap = d.verify_signature().unwrap().recap;
    let caveat = &recap.attenuations()["lit-paymentdelegation://*"]["Auth/Auth"][0];
    assert_eq!(caveat["max_price"], json!("de0b6b3a7640000"));
    assert_eq!(
        caveat["delegate_to"],
        json!([wallet().address().to_plain_lower()])
    );
    let e = with_delegation(d, Generation::Naga);
    let naga = NodeContext {
        generation: Generation::Naga,
        ..ctx_at(Duration::minutes(1))
    };
    assert_eq!(
        verify_session_sig(&e, &naga).unwrap().delegations,
        vec![owner.address()]
    );
    assert!(payment_delegation(&owner, 1, &["teleport"], &delegation_params(&user)).is_err());
}

/// A signature made by a wallet outside the companion (an EIP-1193 `personal_sign`) becomes an
/// AuthSig only when it is that wallet's over exactly the text handed out.
#[test]
fn an_external_wallet_signature_is_accepted_only_from_its_wallet_over_its_text() {
    use lit_companion_session::AuthSig;
    let wallet = WalletKey::generate();
    let other = WalletKey::generate();
    let text = "example.com wants you to sign in with your Ethereum account:".to_owned();
    let hex_sig = |key: &WalletKey, text: &str, v_offset: u8| {
        let mut sig = key.personal_sign(text.as_bytes()).unwrap();
        sig[64] -= v_offset;
        format!("0x{}", hex::encode(sig))
    };
    // v as 27/28 and as 0/1 (hardware wallets): both accepted, stored as 27/28.
    for v_offset in [0, 27] {
        let sig = hex_sig(&wallet, &text, v_offset);
        let auth = AuthSig::from_wallet_signature(text.clone(), &sig, wallet.address()).unwrap();
        assert_eq!(auth.address, wallet.address().to_checksum());
        assert_eq!(auth.signed_message, text);
        assert_eq!(auth.sig, hex_sig(&wallet, &text, 0));
    }
    let refused = |sig: &str| AuthSig::from_wallet_signature(text.clone(), sig, wallet.address());
    // Another address, other text, a malformed signature.
    assert!(matches!(
        refused(&hex_sig(&other, &text, 0)),
        Err(AuthSigError::BadSignature(_))
    ));
    assert!(matches!(
        refused(&hex_sig(&wallet, "other text", 0)),
        Err(AuthSigError::BadSignature(_))
    ));
    for bad in ["", "0x", "0x12", &hex_sig(&wallet, &text, 0)[2..], "0xzz"] {
        assert!(
            matches!(refused(bad), Err(AuthSigError::SignatureEncoding)),
            "{bad:?}"
        );
    }
}
