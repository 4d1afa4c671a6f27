//! PKP sessions through the whole companion: a request naming `pkpPublicKey`, the prompt, the
//! wallet signing in, three simulated nodes holding shares of one BLS key signing the session
//! key, the combined signature checked, stored and reused — and every way it must fail.

use lit_companion_node_sim::NodeBls;
use lit_companion_session::{
    bls::network_key_from_seed, message::session_uri, Address, AuthSig, PkpPublicKey, WalletKey,
};

use super::*;

const SEED: &[u8] = b"the sim network's BLS key";

fn main_wallet() -> Address {
    WalletKey::from_hex(WALLET_KEY).unwrap().address()
}

/// A PKP: any secp256k1 public key stands in for the network's.
fn new_pkp() -> PkpPublicKey {
    PkpPublicKey::parse(&hex::encode(
        WalletKey::generate().public_key_uncompressed(),
    ))
    .unwrap()
}

/// Three nodes of `network` holding shares (threshold 2) of the key dealt from `seeds[i]`,
/// each permitting `permitted` to sign in for `pkp`, with `cid` as a permitted Lit Action.
fn nodes(
    network: Network,
    seeds: [&[u8]; 3],
    pkp: PkpPublicKey,
    permitted: Address,
    cid: Option<&str>,
) -> Vec<NodeConfig> {
    let block_time = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    seeds
        .iter()
        .enumerate()
        .map(|(i, seed)| {
            let mut c = NodeConfig::new(network)
                .with_bls(NodeBls::deal(seed, i as u16 + 1, 3, 2).unwrap())
                .permit_wallet(pkp, permitted);
            if let Some(cid) = cid {
                c = c.permit_action(pkp, cid);
            }
            c.block_time = Some(block_time);
            c
        })
        .collect()
}

async fn pkp_bridge(name: &str, configs: Vec<NodeConfig>, pkp: PkpPublicKey) -> Bridge {
    let b = start_nodes(name, None, None, |_| {}, configs).await;
    b.vault
        .add_pkp(&pkp, &main_wallet(), "My PKP", OffsetDateTime::now_utc())
        .unwrap();
    b
}

/// A page asks for signing with `pkp` as that PKP.
async fn ask_for_its_pkp(b: &Bridge, pkp: &PkpPublicKey) -> (u16, Value) {
    b.post_from(
        ORIGIN,
        &b.body(vec![pkp_request(&pkp.token_id())], pkp_params(pkp)),
    )
    .await
}

fn pkp_params(pkp: &PkpPublicKey) -> Value {
    json!({ "pkpPublicKey": pkp.to_hex() })
}

/// The capability AuthSig of a node's sessionSig.
fn capability(sigs: &Value, node: &str) -> AuthSig {
    let signed: Value =
        serde_json::from_str(sigs[node]["signedMessage"].as_str().unwrap()).unwrap();
    let caps = signed["capabilities"].as_array().unwrap();
    AuthSig::from_value(caps.last().unwrap().clone()).unwrap()
}

async fn a_session_for_a_pkp_is_signed_by_the_network(network: Network, name: &str) {
    let pkp = new_pkp();
    let b = pkp_bridge(
        name,
        nodes(network, [SEED; 3], pkp, main_wallet(), None),
        pkp,
    )
    .await;
    let id = pkp.token_id();
    let body = b.body(vec![pkp_request(&id)], pkp_params(&pkp));
    let (status, v) = b.post_from(ORIGIN, &body).await;
    assert_eq!(status, 200, "{v}");
    let result = &v["result"];
    assert_eq!(result["wallet"], pkp.address().to_checksum());
    assert_eq!(result["reused"], false);
    // The prompt said who acts and who signs in.
    {
        let asked = b.approver.asked.lock().unwrap();
        let prompt = asked.last().unwrap();
        let p = prompt.pkp.as_ref().unwrap();
        assert_eq!(p.public_key, pkp.to_hex());
        assert!(p.auth.contains("\"Main\""), "{}", p.auth);
        assert_eq!(prompt.wallet, pkp.address().to_checksum());
        let text = prompt.to_text();
        assert!(text.contains("as your PKP"), "{text}");
        assert!(
            text.contains("the Lit network signs this session"),
            "{text}"
        );
        assert!(prompt
            .siwe_preview
            .contains("Lit Protocol PKP session signature"));
    }
    // The capability is the network's, for this session key, and verifies against its key.
    let sigs = &result["sessionSigs"];
    let auth = capability(sigs, &b.nodes[0]);
    assert!(auth.is_lit_bls());
    assert_eq!(auth.address, pkp.address().to_checksum());
    let key = result["sessionKey"].as_str().unwrap();
    auth.verify_lit_bls(
        &network_key_from_seed(SEED).unwrap(),
        &session_uri(key),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    // Every node accepts the sessionSigs for the PKP.
    for node in &b.nodes {
        let (status, answer) = b.node_accepts(node, sigs, &pkp.to_hex()).await;
        assert_eq!(status, 200, "{node}: {answer}");
    }
    // The sign-in is in the keychain beside the session key; nothing secret is in the file.
    let accounts = keyring().accounts(&b.service);
    assert!(
        accounts.iter().any(|a| a == &format!("pkp-auth:{key}")),
        "{accounts:?}"
    );
    let sessions = b.live_sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].wallet, pkp.address().to_checksum());
    let record = sessions[0].pkp.as_ref().unwrap();
    assert_eq!(
        record.network_key,
        network_key_from_seed(SEED).unwrap().to_hex()
    );
    // A second request inside the grant asks nobody.
    let (status, again) = b.post_from(ORIGIN, &body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["result"]["reused"], true);
    assert_eq!(again["result"]["sessionKey"], key);
    assert_eq!(b.asked().await, 1);
}

#[tokio::test]
async fn datil_nodes_sign_a_pkp_session_on_the_wallets_word_and_it_is_reused() {
    a_session_for_a_pkp_is_signed_by_the_network(Network::DatilDev, "pkp-datil").await;
}

#[tokio::test]
async fn naga_nodes_sign_a_pkp_session_sealed_end_to_end() {
    a_session_for_a_pkp_is_signed_by_the_network(Network::NagaDev, "pkp-naga").await;
}

#[tokio::test]
async fn an_escalation_keeps_the_sign_in_and_asks_only_the_user() {
    let pkp = new_pkp();
    let b = pkp_bridge(
        "pkp-escalate",
        nodes(Network::DatilDev, [SEED; 3], pkp, main_wallet(), None),
        pkp,
    )
    .await;
    let first = b.body(vec![pkp_request(&pkp.token_id())], pkp_params(&pkp));
    let (status, v) = b.post_from(ORIGIN, &first).await;
    assert_eq!(status, 200, "{v}");
    let key = v["result"]["sessionKey"].as_str().unwrap().to_owned();
    let sign_in = |k: &str| {
        let raw = keyring()
            .lookup(&b.service, &format!("pkp-auth:{k}"))
            .unwrap();
        String::from_utf8(raw).unwrap()
    };
    let before = sign_in(&key);
    let (_, other) = super::harness::pkp(7);
    let more = b.body(
        vec![pkp_request(&pkp.token_id()), pkp_request(&other)],
        pkp_params(&pkp),
    );
    let (status, v) = b.post_from(ORIGIN, &more).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(b.asked().await, 2);
    let new_key = v["result"]["sessionKey"].as_str().unwrap();
    assert_ne!(new_key, key);
    assert_eq!(
        sign_in(new_key),
        before,
        "the wallet was not asked to sign in again"
    );
}

#[tokio::test]
async fn a_wallet_the_pkp_does_not_permit_gets_the_nodes_refusal_naming_both() {
    let pkp = new_pkp();
    let stranger = WalletKey::generate().address();
    let b = pkp_bridge(
        "pkp-unpermitted",
        nodes(Network::DatilDev, [SEED; 3], pkp, stranger, None),
        pkp,
    )
    .await;
    let (status, v) = ask_for_its_pkp(&b, &pkp).await;
    assert_eq!(code(&v), 4100, "{status} {v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains(&pkp.address().to_checksum()), "{message}");
    assert!(message.contains(&main_wallet().to_checksum()), "{message}");
    b.nothing_stored();
}

#[tokio::test]
async fn one_node_signing_with_another_key_breaks_the_signature_and_nothing_is_stored() {
    let pkp = new_pkp();
    let b = pkp_bridge(
        "pkp-bad-share",
        nodes(
            Network::DatilDev,
            [SEED, SEED, b"another key"],
            pkp,
            main_wallet(),
            None,
        ),
        pkp,
    )
    .await;
    let (status, v) = ask_for_its_pkp(&b, &pkp).await;
    assert_eq!((status, code(&v)), (502, 4504), "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing was stored"),
        "{v}"
    );
    b.nothing_stored();
}

#[tokio::test]
async fn a_network_without_keys_cannot_sign_pkp_sessions() {
    let pkp = new_pkp();
    let b = start("pkp-no-keys", None, |_| {}).await;
    b.vault
        .add_pkp(&pkp, &main_wallet(), "My PKP", OffsetDateTime::now_utc())
        .unwrap();
    let (status, v) = ask_for_its_pkp(&b, &pkp).await;
    assert_eq!((status, code(&v)), (502, 4504), "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no BLS network key"));
    b.nothing_stored();
}

#[tokio::test]
async fn a_pkp_the_companion_does_not_hold_is_a_prompt_with_only_reject() {
    let pkp = new_pkp();
    let b = start_nodes(
        "pkp-unknown",
        None,
        None,
        |_| {},
        nodes(Network::DatilDev, [SEED; 3], pkp, main_wallet(), None),
    )
    .await;
    let (_, v) = ask_for_its_pkp(&b, &pkp).await;
    assert_eq!(code(&v), 4400, "{v}");
    let unavailable = b.approver.asked.lock().unwrap()[0].unavailable.clone();
    assert!(unavailable.unwrap().contains("no PKP"));
}

#[tokio::test]
async fn a_lit_action_speaks_for_the_pkp_and_the_prompt_names_it() {
    let pkp = new_pkp();
    let code_text = "(async () => { Lit.Actions.setResponse({ response: 'true' }); })();";
    let cid = lit_companion_session::ipfs::cid_v0(code_text.as_bytes());
    let b = pkp_bridge(
        "pkp-action",
        nodes(
            Network::DatilDev,
            [SEED; 3],
            pkp,
            WalletKey::generate().address(),
            Some(&cid),
        ),
        pkp,
    )
    .await;
    use base64::Engine as _;
    let params = json!({
        "pkpPublicKey": pkp.to_hex(),
        "litActionCode": base64::engine::general_purpose::STANDARD.encode(code_text),
        "jsParams": { "amount": 5, "to": "0xabc" },
    });
    let (status, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&pkp.token_id())], params))
        .await;
    assert_eq!(status, 200, "{v}");
    let prompt = b.approver.asked.lock().unwrap()[0].clone();
    let action = prompt.pkp.as_ref().unwrap().lit_action.as_ref().unwrap();
    assert_eq!(action.ipfs_id, cid);
    assert!(action.code_sent);
    assert!(
        action.params.iter().any(|p| p == "amount: 5"),
        "{:?}",
        action.params
    );
    let text = prompt.to_text();
    assert!(text.contains(&cid), "{text}");
    let sigs = &v["result"]["sessionSigs"];
    let (status, answer) = b.node_accepts(&b.nodes[0], sigs, &pkp.to_hex()).await;
    assert_eq!(status, 200, "{answer}");
}
