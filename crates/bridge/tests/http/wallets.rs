//! Browser wallets signing in the page.

use lit_companion_bridge::Caller;

use super::*;

/// A browser wallet in the page (an EIP-1193 `personal_sign`, played here by a key the
/// companion never sees).
struct PageWallet(lit_companion_session::WalletKey);

impl PageWallet {
    fn new() -> Self {
        Self(lit_companion_session::WalletKey::generate())
    }

    fn address(&self) -> String {
        self.0.address().to_checksum()
    }

    /// `personal_sign` over `text`: 0x + r ‖ s ‖ v.
    fn sign(&self, text: &str) -> String {
        format!(
            "0x{}",
            hex::encode(self.0.personal_sign(text.as_bytes()).unwrap())
        )
    }
}

#[tokio::test]
async fn a_browser_wallet_signs_in_the_page_once_and_the_grant_is_reused() {
    let b = start("browser-wallet", None, |_| {}).await;
    let wallet = PageWallet::new();
    let (pubkey, id) = pkp(21);
    let (v, step) = b
        .with_page_wallet(&wallet, &id, |m| json!({"signature": wallet.sign(m)}))
        .await;
    let step = step.expect("the page's wallet is asked to sign");
    assert_eq!(step["address"], wallet.address());
    // The prompt came first and said the browser wallet signs next (and is new).
    {
        let asked = b.approver.asked.lock().unwrap();
        assert_eq!(asked.len(), 1);
        assert_eq!(asked[0].wallet, wallet.address());
        let bw = asked[0].browser_wallet.as_ref().expect("a browser wallet");
        assert_eq!((bw.name.as_str(), bw.new), ("MetaMask", true));
    }
    // The text the wallet signed: the page's host as domain, the wallet's address, the new
    // session key as uri.
    let message = step["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "app.example.com wants you to sign in with your Ethereum account:\n{}\n",
            wallet.address()
        )),
        "{message}"
    );
    let session_key = v["result"]["sessionKey"].as_str().expect("sessionSigs");
    assert!(message.contains(&format!("URI: lit:session:{session_key}\n")));
    assert_eq!(v["result"]["wallet"], wallet.address());
    let sigs = &v["result"]["sessionSigs"];
    for node in &b.nodes {
        let (status, answer) = b.node_accepts(node, sigs, &pubkey).await;
        assert_eq!(status, 200, "{answer}");
    }
    // Stored as an external wallet (its address only) with a session key in the keychain.
    let wallets = b.vault.wallets().unwrap();
    let added = wallets
        .iter()
        .find(|w| w.address == wallet.address())
        .unwrap();
    assert_eq!(
        added.kind,
        lit_companion_vault::metadata::WalletKind::External
    );
    assert_eq!(added.label, "MetaMask");
    let accounts = keyring().accounts(&b.service);
    assert!(accounts.contains(&format!("session:{session_key}")));
    assert!(!accounts.contains(&format!("wallet:{}", wallet.address())));

    // Inside the grant: neither the companion nor the wallet is asked.
    let (again, step) = b
        .with_page_wallet(&wallet, &id, |_| panic!("the wallet must not be asked"))
        .await;
    assert!(step.is_none());
    assert_eq!(again["result"]["reused"], true, "{again}");
    assert_eq!(again["result"]["sessionKey"], session_key);
    assert_eq!(b.asked().await, 1);

    // Forgetting the wallet revokes its session; nothing secret was ever stored for it.
    let address = lit_companion_session::Address::parse_any_case(&wallet.address()).unwrap();
    assert_eq!(
        b.vault
            .remove_wallet(&address, OffsetDateTime::now_utc())
            .unwrap(),
        1
    );
    b.nothing_stored();
}

#[tokio::test]
async fn a_signature_that_is_not_the_browser_wallets_over_the_message_stores_nothing() {
    let b = start("browser-wallet-bad", None, |_| {}).await;
    let wallet = PageWallet::new();
    let stranger = PageWallet::new();
    let (_, id) = pkp(22);
    type Case<'a> = (&'a str, Box<dyn FnOnce(&str) -> Value + 'a>, u64);
    let cases: Vec<Case<'_>> = vec![
        (
            "another address",
            Box::new(|m: &str| json!({"signature": stranger.sign(m)})),
            4100,
        ),
        (
            "other text",
            Box::new(
                |m: &str| json!({"signature": wallet.sign(&m.replace("app.example.com", "evil.example"))}),
            ),
            4100,
        ),
        (
            "malformed",
            Box::new(|_: &str| json!({"signature": "0x1234"})),
            4400,
        ),
        (
            "the wallet said no",
            Box::new(|_: &str| json!({"rejected": true})),
            4001,
        ),
    ];
    for (what, sign, expected) in cases {
        let (v, step) = b.with_page_wallet(&wallet, &id, sign).await;
        assert!(step.is_some(), "{what}");
        assert_eq!(code(&v), expected, "{what}: {v}");
        assert!(v.get("result").is_none(), "{what}");
        // Nothing stored: no session, no wallet added, only the local wallet's key.
        b.nothing_stored();
        assert_eq!(b.vault.wallets().unwrap().len(), 1, "{what}");
    }
    // A ticket answers once, only its own origin: another origin cannot use or spend it.
    let body = b.body(
        vec![pkp_request(&id)],
        json!({"externalWallet": {"address": wallet.address()}}),
    );
    let first = b.via_extension(ORIGIN, &body).await;
    let step = &first["result"]["signWithWallet"];
    let answer = json!({"v": 1, "id": "s", "method": "walletSignature",
        "params": {"ticket": step["ticket"], "signature": wallet.sign(step["message"].as_str().unwrap())}});
    let other = b.via_extension("https://other.example", &answer).await;
    assert_eq!(code(&other), 4408, "{other}");
    let mine = b.via_extension(ORIGIN, &answer).await;
    assert!(mine["result"]["sessionSigs"].is_object(), "{mine}");
    let replay = b.via_extension(ORIGIN, &answer).await;
    assert_eq!(code(&replay), 4408, "{replay}");
    // A wallet added without its name is called what it is.
    assert!(b
        .vault
        .wallets()
        .unwrap()
        .iter()
        .any(|w| w.address == wallet.address() && w.label == "Browser wallet"));
}

#[tokio::test]
async fn a_deep_link_cannot_reach_a_browser_wallet() {
    use lit_companion_bridge::{Caller, Identity};
    let policy = r#"{"version":1,"rules":[{"origin":"https://app.example.com","resources":["lit-pkp://*"],"unverified":true}]}"#;
    let b = start("browser-wallet-link", Some(policy), |_| {}).await;
    let wallet = PageWallet::new();
    let (_, id) = pkp(23);
    let claimed = Caller {
        identity: Identity::Claimed(lit_companion_session::Origin::parse(ORIGIN).unwrap()),
        road: Road::DeepLink,
    };
    let body = b.body(
        vec![pkp_request(&id)],
        json!({"externalWallet": {"address": wallet.address(), "name": "MetaMask"}}),
    );
    let r =
        serde_json::to_value(b.engine.handle(&claimed, body.to_string().as_bytes()).await).unwrap();
    assert_eq!(code(&r), 4200, "{r}");
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cannot reach your browser wallet"));
    assert_eq!(b.asked().await, 0, "refused before any prompt");
    b.nothing_stored();
}

impl Bridge {
    /// Asks for `id` from the page through the extension (the one road a page's wallet signs
    /// by), signing with its browser wallet: answers the `signWithWallet` step (when one comes)
    /// with `sign(message)`.
    async fn with_page_wallet(
        &self,
        wallet: &PageWallet,
        id: &str,
        sign: impl FnOnce(&str) -> Value,
    ) -> (Value, Option<Value>) {
        let body = self.body(
            vec![pkp_request(id)],
            json!({"externalWallet": {"address": wallet.address(), "name": "MetaMask"}}),
        );
        let first = self.via_extension(ORIGIN, &body).await;
        let Some(step) = first["result"].get("signWithWallet").cloned() else {
            return (first, None);
        };
        let mut params = sign(step["message"].as_str().unwrap());
        params["ticket"] = step["ticket"].clone();
        let answer = json!({"v": 1, "id": "sig-1", "method": "walletSignature", "params": params});
        let second = self.via_extension(ORIGIN, &answer).await;
        (second, Some(step))
    }

    /// `body` as the extension relays it for a page of `origin`.
    async fn via_extension(&self, origin: &str, body: &Value) -> Value {
        let page = Caller::verified(
            lit_companion_session::Origin::parse(origin).unwrap(),
            Road::Extension,
        );
        serde_json::to_value(self.engine.handle(&page, body.to_string().as_bytes()).await).unwrap()
    }
}

#[tokio::test]
async fn over_loopback_http_a_page_wallet_is_never_asked() {
    // Whoever holds the loopback port answers loopback requests: a page cannot tell the
    // companion from a squatter there, so no road but the extension gets a page's wallet to
    // sign anything; the answer names the extension, and nobody is asked.
    let b = start("browser-wallet-http", None, |_| {}).await;
    let wallet = PageWallet::new();
    let (_, id) = pkp(24);
    let body = b.body(
        vec![pkp_request(&id)],
        json!({"externalWallet": {"address": wallet.address(), "name": "MetaMask"}}),
    );
    let (status, v) = b.post_from(ORIGIN, &body).await;
    assert_eq!((status, code(&v)), (400, 4200), "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Lit Companion extension"),
        "{v}"
    );
    assert!(v.get("result").is_none(), "{v}");
    assert_eq!(b.asked().await, 0, "refused before any prompt");
    b.nothing_stored();
}

#[tokio::test]
async fn before_a_prompt_a_page_learns_nothing_of_the_vault() {
    // A policy that approves nothing: every prompt is answered no.
    let nothing = r#"{"version":1,"rules":[{"origin":"https://nobody.example","resources":["lit-pkp://*"]}]}"#;
    let b = start("uniform-answers", Some(nothing), |_| {}).await;
    let held = b.vault.wallets().unwrap()[0].address.clone();
    let unknown = PageWallet::new().address();
    let (_, id) = pkp(25);
    let ask = |wallet: &str, extra: Value| {
        let mut extra = extra;
        extra["wallet"] = json!(wallet);
        b.body(vec![pkp_request(&id)], extra)
    };
    // A node outside the network: the same answer whoever the wallet is, and nobody asked.
    let stranger = json!({"nodeUrls": ["https://stranger.example:7470"]});
    let (s1, v1) = b.post_from(ORIGIN, &ask(&held, stranger.clone())).await;
    let (s2, v2) = b.post_from(ORIGIN, &ask(&unknown, stranger)).await;
    assert_eq!((s1, &v1["error"]), (s2, &v2["error"]), "{v1} / {v2}");
    assert_eq!(code(&v1), 4400, "{v1}");
    assert_eq!(b.asked().await, 0);
    // A held wallet and one the companion does not have: both are put to the user, and the page
    // hears the user's answer either way.
    let (s1, v1) = b.post_from(ORIGIN, &ask(&held, json!({}))).await;
    let (s2, v2) = b.post_from(ORIGIN, &ask(&unknown, json!({}))).await;
    assert_eq!((s1, code(&v1)), (403, 4001), "{v1}");
    assert_eq!((s2, code(&v2)), (403, 4001), "{v2}");
    assert_eq!(b.asked().await, 2, "both were prompts");
    {
        let asked = b.approver.asked.lock().unwrap();
        assert!(asked[0].unavailable.is_none());
        let why = asked[1]
            .unavailable
            .as_deref()
            .expect("the prompt says it cannot be done");
        assert!(why.contains("no wallet"), "{why}");
    }
    // A network the companion does not serve: no list of the user's networks.
    let mut other = ask(&held, json!({}));
    other["params"]["network"] = json!("my-private-net");
    let (_, v) = b.post_from(ORIGIN, &other).await;
    assert_eq!(code(&v), 4200, "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(!message.contains(SIM), "{message}");
    b.nothing_stored();
}
