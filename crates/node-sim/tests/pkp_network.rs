//! Simulated nodes dealt shares of one BLS key act as a PKP network: one key in every
//! handshake, session-key shares that combine to the network's signature (Datil in clear, Naga
//! sealed end to end), each of the node's refusals, and the sessions those signatures make
//! accepted on the signing endpoints.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use std::time::Duration;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use lit_companion_net::{
    e2ee::{ClientChannel, Envelope, IdentityPublic},
    LitNetClient,
};
use lit_companion_node_sim::{spawn, NodeBls, NodeConfig, CALLS_PATH, DEFAULT_BLOCKHASH};
use lit_companion_session::{
    bls::{
        network_key_from_seed, session_hash, BlsSignature, KeyShare, NetworkKey, SignatureShare,
    },
    ipfs::cid_v0,
    message::{self, session_uri, MessageParams},
    session_sigs::{ALGO_ED25519, DERIVED_VIA_SESSION},
    timefmt::iso_millis,
    Ability, Address, AuthSig, Generation, LitResource, Network, PkpPublicKey, Recap,
    ResourceAbilityRequest, ResourcePrefix, SessionKeyPair, SessionSeed, SessionSig, WalletKey,
};
use serde_json::{json, Value};
use time::OffsetDateTime;

const SEED: &[u8] = b"lit-node-sim pkp network test seed";
const OTHER_SEED: &[u8] = b"another network altogether";

fn pkp() -> PkpPublicKey {
    let key = WalletKey::from_bytes(&[0x42; 32]).unwrap();
    PkpPublicKey::parse(&hex::encode(key.public_key_uncompressed())).unwrap()
}

fn user() -> WalletKey {
    WalletKey::from_bytes(&[0x11; 32]).unwrap()
}

fn stranger() -> WalletKey {
    WalletKey::from_bytes(&[0x22; 32]).unwrap()
}

fn session_key() -> SessionKeyPair {
    SessionKeyPair::from_seed(&SessionSeed::from_bytes([7; 32]))
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A block a few seconds old, in whole seconds: every node names the same one.
fn block_time() -> OffsetDateTime {
    static BLOCK_TIME: std::sync::OnceLock<OffsetDateTime> = std::sync::OnceLock::new();
    *BLOCK_TIME.get_or_init(|| {
        let t = now() - time::Duration::seconds(5);
        t.replace_nanosecond(0).unwrap()
    })
}

fn config(network: Network, seed: &[u8], share: u16, of: u16, threshold: u16) -> NodeConfig {
    let mut c = NodeConfig::new(network)
        .with_bls(NodeBls::deal(seed, share, of, threshold).unwrap())
        .permit_wallet(pkp(), user().address());
    c.block_time = Some(block_time());
    c
}

async fn network(network: Network, of: u16, threshold: u16) -> Vec<String> {
    let mut urls = Vec::new();
    for share in 1..=of {
        urls.push(
            spawn(config(network, SEED, share, of, threshold))
                .await
                .unwrap(),
        );
    }
    urls
}

fn key() -> NetworkKey {
    network_key_from_seed(SEED).unwrap()
}

/// The AuthSig the SDK's `EthWalletProvider.authenticate` makes: an origin `uri`, the block
/// hash as nonce, an expiration, no statement, no resources.
fn wallet_auth_sig_text(
    wallet: &WalletKey,
    uri: &str,
    iat: OffsetDateTime,
    exp: Option<OffsetDateTime>,
) -> String {
    let mut text = format!(
        "localhost wants you to sign in with your Ethereum account:\n{}\n\n\nURI: {uri}\nVersion: 1\nChain ID: 1\nNonce: {DEFAULT_BLOCKHASH}\nIssued At: {}",
        wallet.address().to_checksum(),
        iso_millis(iat).unwrap(),
    );
    if let Some(exp) = exp {
        text.push_str(&format!("\nExpiration Time: {}", iso_millis(exp).unwrap()));
    }
    let parsed: siwe::Message = text.parse().unwrap();
    assert_eq!(
        parsed.to_string(),
        text,
        "the test's auth SIWE is canonical"
    );
    text
}

fn auth_method(wallet: &WalletKey) -> Value {
    auth_method_with(
        wallet,
        "https://localhost",
        Some(now() + time::Duration::hours(1)),
    )
}

fn auth_method_with(wallet: &WalletKey, uri: &str, exp: Option<OffsetDateTime>) -> Value {
    auth_method_at(wallet, uri, now() - time::Duration::seconds(1), exp)
}

fn auth_method_at(
    wallet: &WalletKey,
    uri: &str,
    iat: OffsetDateTime,
    exp: Option<OffsetDateTime>,
) -> Value {
    let text = wallet_auth_sig_text(wallet, uri, iat, exp);
    let auth_sig = AuthSig::sign(wallet, text).unwrap();
    json!({"authMethodType": 1, "accessToken": serde_json::to_string(&auth_sig).unwrap()})
}

fn grant() -> Vec<ResourceAbilityRequest> {
    vec![ResourceAbilityRequest::new(
        LitResource::wildcard(ResourcePrefix::Pkp),
        Ability::PkpSigning,
    )
    .unwrap()]
}

/// The session SIWE the SDK sends: the PKP's address, `lit:session:<key>`, the block hash.
fn session_siwe(address: Address, iat: OffsetDateTime, exp: OffsetDateTime) -> String {
    message::build(&MessageParams {
        domain: "localhost",
        address,
        statement: "Lit Protocol PKP session signature",
        uri: &session_uri(&session_key().public_key().to_hex()),
        nonce: DEFAULT_BLOCKHASH,
        issued_at: iat,
        expiration: exp,
        recap: &Recap::for_requests(&grant()),
    })
    .unwrap()
}

fn good_siwe() -> String {
    session_siwe(pkp().address(), now(), now() + time::Duration::hours(24))
}

fn body_v1(siwe: &str, auth_methods: Vec<Value>) -> Value {
    json!({
        "sessionKey": session_uri(&session_key().public_key().to_hex()),
        "authMethods": auth_methods,
        "pkpPublicKey": pkp().to_hex(),
        "siweMessage": siwe,
        "curveType": "BLS",
        "epoch": 1,
    })
}

fn body_v2(siwe: &str, auth_methods: Vec<Value>, nodes: &[String]) -> Value {
    let mut body = body_v1(siwe, auth_methods);
    body["nodeSet"] = json!(nodes
        .iter()
        .map(|u| json!({"socketAddress": u.trim_start_matches("http://"), "value": 1}))
        .collect::<Vec<_>>());
    body["maxPrice"] = json!("1000000000000000000");
    body["pkpKeySetId"] = json!("ignored by nodes");
    body
}

async fn post(url: &str, path: &str, body: &Value) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn v1(url: &str, body: &Value) -> (u16, Value) {
    post(url, "/web/sign_session_key/v1", body).await
}

async fn handshake(url: &str) -> Value {
    let (status, v) = post(
        url,
        "/web/handshake",
        &json!({"clientPublicKey": "test", "challenge": "00".repeat(32)}),
    )
    .await;
    assert_eq!(status, 200);
    v.get("data").cloned().unwrap_or(v)
}

/// Sends a v2 request sealed to the node's identity key and opens its sealed answer.
async fn v2(url: &str, body: &Value) -> (u16, Value) {
    let key: IdentityPublic = handshake(url).await["nodeIdentityKey"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let channel = ClientChannel::new(key);
    let sealed = serde_json::to_value(channel.seal_request(body).unwrap()).unwrap();
    let (status, answer) = post(url, "/web/sign_session_key/v2", &sealed).await;
    let envelope: Envelope = serde_json::from_value(answer).unwrap();
    (status, channel.open_response(&envelope).unwrap())
}

fn shares_of(answers: &[Value]) -> Vec<SignatureShare> {
    answers
        .iter()
        .map(|a| SignatureShare::from_json(&a["signatureShare"]).unwrap())
        .collect()
}

#[tokio::test]
async fn nodes_dealt_from_one_seed_report_one_key() {
    let expected = key().to_hex();
    assert_eq!(expected.len(), 96);
    let datil = network(Network::DatilDev, 3, 2).await;
    let naga = network(Network::NagaDev, 3, 2).await;
    let mut identity_keys = Vec::new();
    for url in datil.iter().chain(&naga) {
        let h = handshake(url).await;
        for field in ["networkPublicKey", "networkPublicKeySet", "subnetPublicKey"] {
            assert_eq!(h[field], expected, "{url} {field}");
        }
        if let Some(k) = h.get("nodeIdentityKey") {
            let k = k.as_str().unwrap().to_owned();
            assert!(k.parse::<IdentityPublic>().is_ok(), "{k}");
            identity_keys.push(k);
        }
    }
    assert_eq!(identity_keys.len(), 3, "Naga nodes report identity keys");
    identity_keys.dedup();
    assert_eq!(identity_keys.len(), 3, "each node has its own");

    let other = spawn(config(Network::DatilDev, OTHER_SEED, 1, 3, 2))
        .await
        .unwrap();
    assert_ne!(handshake(&other).await["networkPublicKey"], expected);
}

#[tokio::test]
async fn v1_shares_combine_to_the_network_signature() {
    let urls = network(Network::DatilDev, 3, 2).await;
    let siwe = good_siwe();
    let body = body_v1(&siwe, vec![auth_method(&user())]);
    let mut answers = Vec::new();
    for url in &urls {
        let (status, a) = v1(url, &body).await;
        assert_eq!(status, 200, "{a}");
        answers.push(a);
    }
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a["result"], "success");
        assert_eq!(a["curveType"], "BLS");
        assert_eq!(a["shareIndex"], i);
        assert_eq!(a["blsRootPubkey"], key().to_hex());
        let text = a["siweMessage"].as_str().unwrap();
        assert_eq!(
            text,
            answers[0]["siweMessage"].as_str().unwrap(),
            "one message"
        );
        assert_eq!(a["dataSigned"], hex::encode(session_hash(text)));
        let share = a["signatureShare"]["ProofOfPossession"].as_str().unwrap();
        assert_eq!(
            share.len(),
            194,
            "Datil's one-byte identifier and a G2 point"
        );
        assert_eq!(&share[..2], format!("{:02x}", i + 1));
    }
    let text = answers[0]["siweMessage"].as_str().unwrap();
    let shares = shares_of(&answers);
    let a = BlsSignature::combine(&shares[..2], 2).unwrap();
    let b = BlsSignature::combine(&shares[1..], 2).unwrap();
    assert_eq!(
        a.to_hex(),
        b.to_hex(),
        "any two shares make the one signature"
    );
    a.verify(&key(), &session_hash(text)).unwrap();
    assert!(BlsSignature::combine(&shares[..1], 2).is_err());

    // The rebuilt message: the PKP, the node's nonce and block time, the user's statement and
    // one merged ReCap whose statement follows it (so the user's ReCap text appears twice).
    let parsed: siwe::Message = text.parse().unwrap();
    assert_eq!(parsed.to_string(), text);
    assert_eq!(parsed.address, pkp().address().0);
    assert_eq!(parsed.nonce, DEFAULT_BLOCKHASH);
    assert!(text.contains(&format!(
        "Issued At: {}\n",
        block_time()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    )));
    assert!(block_time()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
        .ends_with('Z'));
    let user_statement = siwe.parse::<siwe::Message>().unwrap().statement.unwrap();
    let statement = parsed.statement.clone().unwrap();
    assert!(
        statement.starts_with(&format!("{user_statement} I further authorize")),
        "{statement}"
    );
    assert!(statement.ends_with("(1) 'Threshold': 'Signing' for 'lit-pkp://*'. (2) 'Auth': 'Auth' for 'lit-resolvedauthcontext://*'."), "{statement}");
    assert_eq!(parsed.resources.len(), 1);
    let recap = Recap::decode(parsed.resources[0].as_str()).unwrap();
    let context =
        &recap.attenuations()["lit-resolvedauthcontext://*"]["Auth/Auth"][0]["auth_context"];
    assert_eq!(
        context,
        &json!({
            "actionIpfsIdStack": [],
            "actionIpfsIds": [],
            "authMethodContexts": [{
                "appId": "lit",
                "authMethodType": 1,
                "usedForSignSessionKeyRequest": true,
                "userId": user().address().to_checksum(),
            }],
            "authSigAddress": null,
            "customAuthResource": "",
            "resources": [],
        })
    );
    assert!(recap.attenuations()["lit-pkp://*"].contains_key("Threshold/Signing"));
}

#[tokio::test]
async fn v2_sealed_through_the_companion_client() {
    let urls = network(Network::NagaDev, 3, 2).await;
    let client = LitNetClient::new(Duration::from_secs(10), 1).unwrap();
    let mut handshakes = Vec::new();
    for url in &urls {
        handshakes.push((url.clone(), client.handshake(url).await.unwrap()));
    }
    for (_, h) in &handshakes {
        assert_eq!(
            h.network_public_key.as_deref(),
            Some(key().to_hex().as_str())
        );
    }
    let siwe = good_siwe();
    let body = body_v2(&siwe, vec![auth_method(&user())], &urls);
    let answers = client
        .sign_session_key(Generation::Naga, &handshakes, body.clone())
        .await;
    assert_eq!(answers.len(), 3);
    let mut shares = Vec::new();
    let mut texts = Vec::new();
    for (node, answer) in answers {
        let a = answer.unwrap_or_else(|e| panic!("{node}: {e}"));
        assert_eq!(a.bls_root_pubkey, key().to_hex());
        assert_eq!(a.data_signed, hex::encode(session_hash(&a.siwe_message)));
        shares.push(SignatureShare::from_json(&a.signature_share).unwrap());
        texts.push(a.siwe_message);
    }
    texts.dedup();
    assert_eq!(texts.len(), 1, "one message");
    let sig = BlsSignature::combine(&shares, 2).unwrap();
    sig.verify(&key(), &session_hash(&texts[0])).unwrap();
    // Naga's AuthContext has no actionIpfsIds.
    let parsed: siwe::Message = texts[0].parse().unwrap();
    let recap = Recap::decode(parsed.resources[0].as_str()).unwrap();
    let context =
        &recap.attenuations()["lit-resolvedauthcontext://*"]["Auth/Auth"][0]["auth_context"];
    assert!(context.get("actionIpfsIds").is_none());
    assert_eq!(context["actionIpfsIdStack"], json!([]));

    // The raw answer: a GenericResponse inside the envelope.
    let (status, raw) = v2(&urls[0], &body).await;
    assert_eq!(status, 200);
    assert_eq!(raw["ok"], true);
    assert_eq!(raw["error"], Value::Null);
    assert_eq!(raw["errorObject"], Value::Null);
    let data = &raw["data"];
    assert_eq!(data["result"], "success");
    assert_eq!(data["curveType"], "BLS12381G1");
    let pop = &data["signatureShare"]["ProofOfPossession"];
    assert_eq!(pop["identifier"].as_str().unwrap().len(), 64);
    assert_eq!(pop["value"].as_str().unwrap().len(), 192);
    assert_eq!(data["shareId"], pop["identifier"]);
    assert!(data.get("shareIndex").is_none());
}

#[tokio::test]
async fn a_node_dealt_from_another_seed_breaks_the_combination() {
    let good = network(Network::DatilDev, 3, 2).await;
    let bad = spawn(config(Network::DatilDev, OTHER_SEED, 3, 3, 2))
        .await
        .unwrap();
    let body = body_v1(&good_siwe(), vec![auth_method(&user())]);
    let (_, g) = v1(&good[0], &body).await;
    let (_, b) = v1(&bad, &body).await;
    assert_ne!(b["blsRootPubkey"], key().to_hex());
    let text = g["siweMessage"].as_str().unwrap().to_owned();
    assert_eq!(b["siweMessage"].as_str().unwrap(), text);
    let shares = shares_of(&[g.clone(), b]);
    let mixed = BlsSignature::combine(&shares, 2).unwrap();
    assert!(mixed.verify(&key(), &session_hash(&text)).is_err());
    let (_, g2) = v1(&good[1], &body).await;
    let honest = BlsSignature::combine(&shares_of(&[g, g2]), 2).unwrap();
    honest.verify(&key(), &session_hash(&text)).unwrap();
}

/// One refusal: the HTTP status and the `PublicError` fields.
fn assert_refused(got: &(u16, Value), status: u16, code: Option<&str>, detail: &str) {
    let (s, v) = got;
    assert_eq!(*s, status, "{v}");
    assert_eq!(v["status"], status, "{v}");
    assert_eq!(v["errorCode"].as_str(), code, "{v}");
    let details = v["details"].as_array().unwrap();
    assert!(
        details.iter().any(|d| d.as_str().unwrap().contains(detail)),
        "{detail:?} not in {v}"
    );
}

#[tokio::test]
async fn each_refusal_as_a_node_answers_it() {
    let url = spawn(config(Network::DatilDev, SEED, 1, 3, 2))
        .await
        .unwrap();
    let good = || body_v1(&good_siwe(), vec![auth_method(&user())]);
    let with_siwe = |siwe: String| body_v1(&siwe, vec![auth_method(&user())]);
    let siwe_code = Some("NodeSIWEMessageError");

    // The control: accepted.
    assert_eq!(v1(&url, &good()).await.0, 200);

    // SIWE address is not the PKP's.
    let wrong_address = session_siwe(user().address(), now(), now() + time::Duration::hours(1));
    assert_refused(
        &v1(&url, &with_siwe(wrong_address)).await,
        400,
        siwe_code,
        "does not match PKP ETH address",
    );

    // uri is not the sessionKey.
    let mut body = good();
    body["sessionKey"] = json!(session_uri(&"ab".repeat(32)));
    assert_refused(
        &v1(&url, &body).await,
        400,
        siwe_code,
        "does not match URI in request",
    );

    // Times.
    let future = session_siwe(
        pkp().address(),
        now() + time::Duration::minutes(5),
        now() + time::Duration::hours(1),
    );
    assert_refused(
        &v1(&url, &with_siwe(future)).await,
        400,
        siwe_code,
        "in the future beyond the grace period",
    );
    let past = session_siwe(
        pkp().address(),
        now() - time::Duration::hours(2),
        now() - time::Duration::hours(1),
    );
    assert_refused(
        &v1(&url, &with_siwe(past)).await,
        400,
        siwe_code,
        "in the past beyond the grace period",
    );
    let long = session_siwe(pkp().address(), now(), now() + time::Duration::days(31));
    assert_refused(
        &v1(&url, &with_siwe(long)).await,
        400,
        siwe_code,
        "max expiry",
    );
    let iat = now() + time::Duration::seconds(30);
    let backwards = session_siwe(pkp().address(), iat, iat + time::Duration::hours(1)).replace(
        &format!(
            "Expiration Time: {}",
            iso_millis(iat + time::Duration::hours(1)).unwrap()
        ),
        &format!("Expiration Time: {}", iso_millis(now()).unwrap()),
    );
    assert_refused(
        &v1(&url, &with_siwe(backwards)).await,
        403,
        Some("NodeExpWrongOrTooLarge"),
        "behind issue_at",
    );

    // The nonce is not this node's block hash.
    let other_nonce = good_siwe().replace(DEFAULT_BLOCKHASH, &format!("0x{}", "12".repeat(32)));
    assert_refused(
        &v1(&url, &with_siwe(other_nonce)).await,
        500,
        None,
        "Error fetching block from hash",
    );

    // A wallet the PKP does not permit.
    let body = body_v1(&good_siwe(), vec![auth_method(&stranger())]);
    let got = v1(&url, &body).await;
    assert_refused(
        &got,
        401,
        Some("NodePKPNotAuthorized"),
        &format!(
            "You are not authorized to sign using this PKP: {}",
            hex::encode(pkp().as_bytes())
        ),
    );
    assert_refused(
        &got,
        401,
        Some("NodePKPNotAuthorized"),
        &stranger().address().to_checksum(),
    );
    // No auth method at all.
    assert_refused(
        &v1(&url, &body_v1(&good_siwe(), vec![])).await,
        401,
        Some("NodePKPNotAuthorized"),
        "not authorized",
    );

    // Bad auth sigs: signed by another key than the address claims; a session or delegation
    // uri; no expiration; not JSON.
    let mut forged: AuthSig =
        serde_json::from_str(auth_method(&stranger())["accessToken"].as_str().unwrap()).unwrap();
    forged.address = user().address().to_checksum();
    forged.signed_message = forged.signed_message.replace(
        &stranger().address().to_checksum(),
        &user().address().to_checksum(),
    );
    let body = body_v1(
        &good_siwe(),
        vec![json!({"authMethodType": 1, "accessToken": serde_json::to_string(&forged).unwrap()})],
    );
    assert_refused(
        &v1(&url, &body).await,
        500,
        None,
        "Failed to verify auth method",
    );
    for uri in ["lit:session:abcd", "lit:capability:delegation"] {
        let body = body_v1(
            &good_siwe(),
            vec![auth_method_with(
                &user(),
                uri,
                Some(now() + time::Duration::hours(1)),
            )],
        );
        assert_refused(
            &v1(&url, &body).await,
            401,
            Some("NodeInvalidAuthSig"),
            "Invalid URI for top level auth sig",
        );
    }
    let body = body_v1(
        &good_siwe(),
        vec![auth_method_with(&user(), "https://localhost", None)],
    );
    assert_refused(
        &v1(&url, &body).await,
        400,
        siwe_code,
        "expiration time is not set",
    );
    let body = body_v1(
        &good_siwe(),
        vec![auth_method_at(
            &user(),
            "https://localhost",
            now() - time::Duration::hours(2),
            Some(now() - time::Duration::hours(1)),
        )],
    );
    assert_refused(&v1(&url, &body).await, 400, siwe_code, "in the past");
    let body = body_v1(
        &good_siwe(),
        vec![json!({"authMethodType": 1, "accessToken": "not json"})],
    );
    assert_refused(
        &v1(&url, &body).await,
        502,
        Some("NodeWalletSignatureJSONError"),
        "JsonAuthSig",
    );

    // curveType.
    let mut body = good();
    body["curveType"] = json!("K256");
    assert_refused(
        &v1(&url, &body).await,
        400,
        Some("NodeInvalidCurveType"),
        "only BLS curve type",
    );
    body["curveType"] = json!("bogus");
    assert_eq!(v1(&url, &body).await.0, 422);

    // An authSig field is refused; other unknown fields are ignored, as nodes ignore them.
    let mut body = good();
    body["authSig"] = json!({});
    assert_refused(
        &v1(&url, &body).await,
        400,
        Some("NodeInvalidAuthSigForSessionKey"),
        "send it as an AuthMethod",
    );
    let mut body = good();
    body["somethingElse"] = json!(1);
    assert_eq!(v1(&url, &body).await.0, 200);

    // The statement may not define the auth context.
    let sneaky = good_siwe().replace(
        "Lit Protocol PKP session signature",
        "lit-resolvedauthcontext://*",
    );
    assert_refused(
        &v1(&url, &with_siwe(sneaky)).await,
        401,
        Some("NodeInvalidAuthContextResource"),
        "Auth Context",
    );

    // A node without keys.
    let keyless = spawn(NodeConfig::new(Network::DatilDev).permit_wallet(pkp(), user().address()))
        .await
        .unwrap();
    assert_refused(
        &v1(&keyless, &good()).await,
        500,
        Some("NodeBLSRootKeyNotFound"),
        "No BLS root key",
    );
    // The other generation's endpoint is not there.
    assert_eq!(post(&url, "/web/sign_session_key/v2", &good()).await.0, 404);
}

#[tokio::test]
async fn v2_refusals_come_back_sealed_and_garbage_in_clear() {
    let urls = network(Network::NagaDev, 1, 1).await;
    let url = &urls[0];
    let body = body_v2(&good_siwe(), vec![auth_method(&stranger())], &urls);
    let (status, answer) = v2(url, &body).await;
    assert_eq!(status, 401);
    assert_eq!(answer["ok"], false);
    assert_eq!(answer["error"], "pkp is not authorized to sign");
    assert_eq!(answer["data"], Value::Null);
    let public: Value = serde_json::from_str(answer["errorObject"].as_str().unwrap()).unwrap();
    assert_eq!(public["errorCode"], "NodePKPNotAuthorized");
    assert_eq!(public["status"], 401);

    // nodeSet and maxPrice are required on v2.
    let mut missing = body_v2(&good_siwe(), vec![auth_method(&user())], &urls);
    missing.as_object_mut().unwrap().remove("nodeSet");
    let key: IdentityPublic = handshake(url).await["nodeIdentityKey"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let channel = ClientChannel::new(key);
    let sealed = serde_json::to_value(channel.seal_request(&missing).unwrap()).unwrap();
    let (status, clear) = post(url, "/web/sign_session_key/v2", &sealed).await;
    assert_eq!(status, 500);
    assert_eq!(clear["error"], "can't decrypt");

    // Sealed to another key: not opened, answered in clear.
    let other =
        ClientChannel::new(lit_companion_net::e2ee::IdentitySecret::generate().public_key());
    let sealed = serde_json::to_value(other.seal_request(&body).unwrap()).unwrap();
    let (status, clear) = post(url, "/web/sign_session_key/v2", &sealed).await;
    assert_eq!(status, 500);
    assert_eq!(clear["ok"], false);
    assert_eq!(clear["error"], "can't decrypt");
    // Not an envelope at all.
    assert_eq!(
        post(url, "/web/sign_session_key/v2", &json!({"hello": 1}))
            .await
            .0,
        422
    );
}

#[tokio::test]
async fn lit_action_auth_is_a_permitted_cid() {
    let code = "(async () => { LitActions.setResponse({ response: 'true' }); })();";
    let cid = cid_v0(code.as_bytes());
    let url = spawn(config(Network::DatilDev, SEED, 1, 1, 1).permit_action(pkp(), &cid))
        .await
        .unwrap();

    let mut body = body_v1(&good_siwe(), vec![]);
    body["code"] = json!(STANDARD.encode(code));
    body["jsParams"] = json!({"anything": 1});
    let (status, a) = v1(&url, &body).await;
    assert_eq!(status, 200, "{a}");
    let parsed: siwe::Message = a["siweMessage"].as_str().unwrap().parse().unwrap();
    let recap = Recap::decode(parsed.resources[0].as_str()).unwrap();
    let context =
        &recap.attenuations()["lit-resolvedauthcontext://*"]["Auth/Auth"][0]["auth_context"];
    assert_eq!(context["actionIpfsIdStack"], json!([cid]));
    assert_eq!(context["customAuthResource"], "true");

    // By its IPFS id.
    let mut by_id = body_v1(&good_siwe(), vec![]);
    by_id["litActionIpfsId"] = json!(cid);
    assert_eq!(v1(&url, &by_id).await.0, 200);

    // An action the PKP does not permit fails as an action answering false would.
    let mut other = body_v1(&good_siwe(), vec![]);
    other["code"] = json!(STANDARD.encode("(async () => {})();"));
    assert_refused(
        &v1(&url, &other).await,
        401,
        Some("NodeLitActionsSessionSigAuthenticationFailed"),
        "via Lit Action",
    );

    // Both code and an IPFS id.
    let mut both = body.clone();
    both["litActionIpfsId"] = json!(cid);
    assert_refused(&v1(&url, &both).await, 500, None, "Can't provide both");
}

/// The session the combined signature makes, as the SDK builds it: the network's AuthSig as
/// the capability, the per-node message signed by the session key.
fn pkp_session_sig(node_url: &str, capability: &AuthSig) -> SessionSig {
    let session = session_key();
    let signed = json!({
        "sessionKey": session.public_key().to_hex(),
        "resourceAbilityRequests": grant(),
        "capabilities": [capability],
        "issuedAt": iso_millis(now() - time::Duration::seconds(1)).unwrap(),
        "expiration": iso_millis(now() + time::Duration::hours(1)).unwrap(),
        "nodeAddress": node_url,
    })
    .to_string();
    SessionSig {
        sig: hex::encode(session.sign(signed.as_bytes())),
        derived_via: DERIVED_VIA_SESSION.into(),
        signed_message: signed,
        address: session.public_key().to_hex(),
        algo: Some(ALGO_ED25519.into()),
    }
}

#[tokio::test]
async fn pkp_sessions_are_accepted_by_the_signing_endpoints() {
    let urls = network(Network::DatilDev, 2, 2).await;
    let body = body_v1(&good_siwe(), vec![auth_method(&user())]);
    let mut answers = Vec::new();
    for url in &urls {
        answers.push(v1(url, &body).await.1);
    }
    let text = answers[0]["siweMessage"].as_str().unwrap().to_owned();
    let sig = BlsSignature::combine(&shares_of(&answers), 2).unwrap();
    let capability = AuthSig::lit_bls(&sig, text, pkp().address().to_checksum());
    let sign = |url: &str, cap: &AuthSig| json!({"authSig": pkp_session_sig(url, cap), "pubkey": pkp().to_hex(), "toSign": [1, 2, 3]});

    for url in &urls {
        let (status, v) = post(url, "/web/pkp/sign", &sign(url, &capability)).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["wallet"], pkp().address().to_checksum());
    }

    // An altered network signature is refused.
    // A signature by another key over the same message is refused.
    let text = capability.signed_message.clone();
    let foreign = KeyShare::deal(OTHER_SEED, 1, 1, 1)
        .unwrap()
        .sign(&session_hash(&text));
    let foreign = BlsSignature::combine(&[foreign], 1).unwrap();
    let forged = AuthSig::lit_bls(&foreign, text, pkp().address().to_checksum());
    let (status, v) = post(&urls[0], "/web/pkp/sign", &sign(&urls[0], &forged)).await;
    assert_eq!(status, 401, "{v}");

    // A node of another network (another key) refuses it, and so does one without keys.
    let other = spawn(config(Network::DatilDev, OTHER_SEED, 1, 1, 1))
        .await
        .unwrap();
    assert_eq!(
        post(&other, "/web/pkp/sign", &sign(&other, &capability))
            .await
            .0,
        401
    );
    let keyless = spawn(NodeConfig::new(Network::DatilDev)).await.unwrap();
    assert_eq!(
        post(&keyless, "/web/pkp/sign", &sign(&keyless, &capability))
            .await
            .0,
        401
    );
}

/// What the official SDKs send and read, beyond the companion's own client: v7 and v8 post the
/// handshake to `/web/handshake/`; both fetch the SIWE nonce from the block indexer's
/// `get_most_recent_valid_block`; v8 puts the epoch beside the envelope and writes `maxPrice`
/// as a decimal u128.
#[tokio::test]
async fn the_sdks_paths_and_shapes() {
    let urls = network(Network::NagaDev, 3, 2).await;
    let url = &urls[0];
    let http = reqwest::Client::new();
    let hello = json!({"clientPublicKey": "test", "challenge": "00".repeat(32), "epoch": 5});
    let slash = http
        .post(format!("{url}/web/handshake/"))
        .json(&hello)
        .send()
        .await
        .unwrap();
    assert_eq!(slash.status(), 200);
    assert_eq!(
        slash.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    let slash: Value = slash.json().await.unwrap();
    assert_eq!(slash["data"]["networkPublicKey"], key().to_hex());
    assert_eq!(slash["data"]["epoch"].as_u64(), Some(1));

    let block: Value = http
        .get(format!("{url}/get_most_recent_valid_block"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(block["blockhash"], DEFAULT_BLOCKHASH);
    assert_eq!(
        block["timestamp"].as_i64(),
        Some(block_time().unix_timestamp())
    );

    let mut body = body_v2(&good_siwe(), vec![auth_method(&user())], &urls);
    body["maxPrice"] = json!(u128::MAX.to_string());
    body["epoch"] = json!(5);
    let key: IdentityPublic = slash["data"]["nodeIdentityKey"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let channel = ClientChannel::new(key);
    let mut sealed = serde_json::to_value(channel.seal_request(&body).unwrap()).unwrap();
    sealed["epoch"] = json!(5);
    let (status, answer) = post(url, "/web/sign_session_key/v2", &sealed).await;
    assert_eq!(status, 200, "{answer}");
    let envelope: Envelope = serde_json::from_value(answer).unwrap();
    let opened: Value = channel.open_response(&envelope).unwrap();
    assert_eq!(opened["ok"], true, "{opened}");

    // Every request is counted by its path, unknown paths too.
    let _ = http.get(format!("{url}/nowhere")).send().await.unwrap();
    let calls: Value = http
        .get(format!("{url}{CALLS_PATH}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        calls,
        json!({
            "/get_most_recent_valid_block": 1,
            "/nowhere": 1,
            "/web/handshake/": 1,
            "/web/sign_session_key/v2": 1,
        })
    );
}
