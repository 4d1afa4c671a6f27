//! What the network signs for a PKP is taken only when it is what the user approved: the
//! nodes' shares over one message, enough of them, combining to a signature of the network's
//! key, over a message for this PKP and session key that ends no later and grants no more.
#![allow(clippy::unwrap_used, reason = "test fixtures panic on bad setup")]

use lit_companion_session::{
    bls::{network_key_from_seed, session_hash, KeyShare},
    message::{build, session_uri, MessageParams, PKP_SESSION_STATEMENT},
    pkp_session::{network_auth_sig, Approved, NodeShare, PkpSessionError, RESOLVED_AUTH_CONTEXT},
    resource::RecapAbility,
    timefmt::parse_rfc3339,
    Ability, Address, LitResource, Recap, ResourceAbilityRequest, ResourcePrefix, SessionKeyPair,
    WalletKey,
};
use serde_json::{json, Map, Value};
use time::{Duration, OffsetDateTime};

const SEED: &[u8] = b"pkp session test network";
const NONCE: &str = "0x1f0c7d5b6a4e3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a";

fn t0() -> OffsetDateTime {
    parse_rfc3339("2026-12-07T10:00:00Z").unwrap()
}

fn pkp() -> Address {
    WalletKey::from_bytes(&[0x22; 32]).unwrap().address()
}

fn signing(id: &str) -> ResourceAbilityRequest {
    ResourceAbilityRequest::new(
        LitResource::new(ResourcePrefix::Pkp, id).unwrap(),
        Ability::PkpSigning,
    )
    .unwrap()
}

/// The message as nodes rebuild it: the approved lines plus their resolved auth context.
struct Rebuilt<'a> {
    address: Address,
    session_key: &'a str,
    expiration: OffsetDateTime,
    lines: Vec<ResourceAbilityRequest>,
    auth_context: bool,
}

impl Rebuilt<'_> {
    fn text(&self) -> String {
        let mut recap = Recap::for_requests(&self.lines);
        if self.auth_context {
            let mut caveat = Map::new();
            caveat.insert(
                "auth_context".into(),
                json!({"authMethodType": 1, "userId": "0xabc", "appId": "lit"}),
            );
            recap.add(RESOLVED_AUTH_CONTEXT, RecapAbility::AUTH_AUTH, caveat);
        }
        build(&MessageParams {
            domain: "app.example.com",
            address: self.address,
            statement: PKP_SESSION_STATEMENT,
            uri: &session_uri(self.session_key),
            nonce: NONCE,
            issued_at: t0(),
            expiration: self.expiration,
            recap: &recap,
        })
        .unwrap()
    }
}

/// Each listed node's share (3 nodes, threshold 2) over `text`.
fn shares(seed: &[u8], nodes: &[u16], text: &str) -> Vec<Value> {
    nodes
        .iter()
        .map(|i| {
            KeyShare::deal(seed, *i, 3, 2)
                .unwrap()
                .sign(&session_hash(text))
                .to_v7_json()
                .unwrap()
        })
        .collect()
}

struct Case {
    key: String,
    grant: Vec<ResourceAbilityRequest>,
}

impl Case {
    fn new() -> Self {
        Self {
            key: SessionKeyPair::generate().public_key().to_hex(),
            grant: vec![signing("abcd")],
        }
    }

    fn approved(&self) -> Approved<'_> {
        Approved {
            pkp: pkp(),
            session_key: &self.key,
            expiration: t0() + Duration::hours(1),
            grant: &self.grant,
        }
    }

    fn honest(&self) -> Rebuilt<'_> {
        Rebuilt {
            address: pkp(),
            session_key: &self.key,
            expiration: t0() + Duration::hours(1),
            lines: self.grant.clone(),
            auth_context: true,
        }
    }

    fn run(
        &self,
        answers: &[(Value, String)],
    ) -> Result<lit_companion_session::AuthSig, PkpSessionError> {
        let shares: Vec<NodeShare<'_>> = answers
            .iter()
            .map(|(share, text)| NodeShare {
                share,
                siwe_message: text,
            })
            .collect();
        network_auth_sig(
            &shares,
            2,
            &network_key_from_seed(SEED).unwrap(),
            &self.approved(),
        )
    }
}

fn answers(seed: &[u8], nodes: &[u16], text: &str) -> Vec<(Value, String)> {
    shares(seed, nodes, text)
        .into_iter()
        .map(|s| (s, text.to_owned()))
        .collect()
}

#[test]
fn honest_nodes_give_the_sdks_authsig_which_verifies_against_the_network_key() {
    let case = Case::new();
    let text = case.honest().text();
    let auth = case.run(&answers(SEED, &[1, 2, 3], &text)).unwrap();
    assert_eq!(auth.algo.as_deref(), Some("LIT_BLS"));
    assert_eq!(auth.derived_via, "lit.bls");
    assert_eq!(auth.address, pkp().to_checksum());
    assert_eq!(auth.signed_message, text);
    assert!(auth.sig.starts_with(r#"{"ProofOfPossession":""#));
    let verified = auth
        .verify_lit_bls(
            &network_key_from_seed(SEED).unwrap(),
            &session_uri(&case.key),
            t0() + Duration::minutes(5),
        )
        .unwrap();
    assert!(verified.recap.covers(&case.grant[0]));
    // Any two of three suffice; the Naga form of the shares too.
    assert!(case.run(&answers(SEED, &[1, 3], &text)).is_ok());
    let naga: Vec<(Value, String)> = [2u16, 3]
        .iter()
        .map(|i| {
            let s = KeyShare::deal(SEED, *i, 3, 2)
                .unwrap()
                .sign(&session_hash(&text));
            (s.to_v8_json(), text.clone())
        })
        .collect();
    assert_eq!(case.run(&naga).unwrap().sig, auth.sig);
}

#[test]
fn one_node_signing_another_message_breaks_the_combination() {
    let case = Case::new();
    let text = case.honest().text();
    let mut a = answers(SEED, &[1, 2], &text);
    // Node 3 claims the same message but signed another one.
    let other = Rebuilt {
        expiration: t0() + Duration::days(29),
        ..case.honest()
    }
    .text();
    a.push((shares(SEED, &[3], &other).remove(0), text.clone()));
    assert_eq!(case.run(&a), Err(PkpSessionError::NotTheNetworksSignature));
}

#[test]
fn too_few_shares_or_a_split_are_refused() {
    let case = Case::new();
    let text = case.honest().text();
    assert_eq!(
        case.run(&answers(SEED, &[2], &text)),
        Err(PkpSessionError::TooFewShares { got: 1, need: 2 })
    );
    let mut split = answers(SEED, &[1], &text);
    let later = Rebuilt {
        expiration: t0() + Duration::minutes(59),
        ..case.honest()
    }
    .text();
    split.extend(answers(SEED, &[2], &later));
    assert_eq!(
        case.run(&split),
        Err(PkpSessionError::TooFewShares { got: 1, need: 2 })
    );
    assert!(matches!(
        case.run(&[]),
        Err(PkpSessionError::TooFewShares { got: 0, .. })
    ));
}

#[test]
fn a_wrong_network_key_is_refused() {
    let case = Case::new();
    let text = case.honest().text();
    assert_eq!(
        case.run(&answers(b"another network", &[1, 2, 3], &text)),
        Err(PkpSessionError::NotTheNetworksSignature)
    );
}

#[test]
fn a_message_granting_more_lasting_longer_or_naming_others_is_refused() {
    let case = Case::new();
    let mut more = case.honest();
    more.lines.push(signing("ffff"));
    let later = Rebuilt {
        expiration: t0() + Duration::hours(2),
        ..case.honest()
    };
    let other_key = SessionKeyPair::generate().public_key().to_hex();
    let other_session = Rebuilt {
        session_key: &other_key,
        ..case.honest()
    };
    let other_pkp = Rebuilt {
        address: WalletKey::from_bytes(&[0x33; 32]).unwrap().address(),
        ..case.honest()
    };
    let fewer = Rebuilt {
        lines: Vec::new(),
        ..case.honest()
    };
    for (what, rebuilt) in [
        ("grants more", more),
        ("lasts longer", later),
        ("another session key", other_session),
        ("another PKP", other_pkp),
        ("leaves a line out", fewer),
    ] {
        let text = rebuilt.text();
        match case.run(&answers(SEED, &[1, 2, 3], &text)) {
            Err(PkpSessionError::Differs(reason)) => assert!(!reason.is_empty(), "{what}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    // Without the auth context entry the message is still acceptable (nothing more granted).
    let plain = Rebuilt {
        auth_context: false,
        ..case.honest()
    }
    .text();
    assert!(case.run(&answers(SEED, &[1, 2], &plain)).is_ok());
}
