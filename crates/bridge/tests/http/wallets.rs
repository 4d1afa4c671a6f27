//! Browser wallets signing in the page.

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
    let (_, first) = b.post_from(ORIGIN, &body).await;
    let step = &first["result"]["signWithWallet"];
    let answer = json!({"v": 1, "id": "s", "method": "walletSignature",
        "params": {"ticket": step["ticket"], "signature": wallet.sign(step["message"].as_str().unwrap())}});
    let (_, other) = b.post_from("https://other.example", &answer).await;
    assert_eq!(code(&other), 4408, "{other}");
    let (_, mine) = b.post_from(ORIGIN, &answer).await;
    assert!(mine["result"]["sessionSigs"].is_object(), "{mine}");
    let (_, replay) = b.post_from(ORIGIN, &answer).await;
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
    /// Asks for `id` from the page, signing with its browser wallet: answers the
    /// `signWithWallet` step (when one comes) with `sign(message)`.
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
        let (status, first) = self.post_from(ORIGIN, &body).await;
        assert_eq!(status, 200, "{first}");
        let Some(step) = first["result"].get("signWithWallet").cloned() else {
            return (first, None);
        };
        let mut params = sign(step["message"].as_str().unwrap());
        params["ticket"] = step["ticket"].clone();
        let answer = json!({"v": 1, "id": "sig-1", "method": "walletSignature", "params": params});
        let (_, second) = self.post_from(ORIGIN, &answer).await;
        (second, Some(step))
    }
}
