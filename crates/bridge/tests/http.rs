//! The loopback HTTP bridge over real sockets, with a real keychain (a private gnome-keyring),
//! real simulated Lit nodes, and scripted approvals.
#![allow(clippy::unwrap_used, reason = "test")]

use std::{
    future::Future,
    pin::Pin,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex, OnceLock,
    },
    time::Duration,
};

use lit_companion_bridge::{
    http::{self, HttpConfig, HttpState},
    ratelimit::RateLimit,
    ApprovalRequest, Approver, Decision, Engine, EngineSettings, Policy, Road,
};
use lit_companion_net::{LitNetClient, NetworkSpec, Networks};
use lit_companion_node_sim::{spawn, NodeConfig};
use lit_companion_session::{Generation, Network};
use lit_companion_testkit::{unique_service, PrivateKeyring};
use lit_companion_vault::{OsKeychain, Vault};
use serde_json::{json, Value};
use sha3::Digest;
use time::OffsetDateTime;

const ORIGIN: &str = "https://app.example.com";
/// The network of the simulated nodes each test starts.
const SIM: &str = "sim";
const WALLET_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

fn keyring() -> &'static PrivateKeyring {
    static K: OnceLock<PrivateKeyring> = OnceLock::new();
    K.get_or_init(|| {
        let k = PrivateKeyring::start();
        k.enter();
        k
    })
}

/// Answers by a policy (or always yes), remembers every question, and notices withdrawals.
struct Scripted {
    policy: Option<Policy>,
    asked: Mutex<Vec<ApprovalRequest>>,
    hold: Option<Arc<tokio::sync::Notify>>,
    withdrawn: Arc<AtomicBool>,
}

struct WithdrawGuard(Arc<AtomicBool>, bool);
impl Drop for WithdrawGuard {
    fn drop(&mut self) {
        if !self.1 {
            self.0.store(true, Ordering::SeqCst);
        }
    }
}

impl Approver for Scripted {
    fn approve(
        &self,
        request: ApprovalRequest,
    ) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>> {
        self.asked.lock().unwrap().push(request.clone());
        Box::pin(async move {
            let mut guard = WithdrawGuard(self.withdrawn.clone(), false);
            if let Some(hold) = &self.hold {
                hold.notified().await;
            }
            guard.1 = true;
            match &self.policy {
                Some(p) => p.decide(&request),
                None => Decision::Approve {
                    lifetime: request.lifetime,
                },
            }
        })
    }
}

struct Bridge {
    url: String,
    port: u16,
    nodes: Vec<String>,
    generation: Generation,
    approver: Arc<Scripted>,
    vault: Arc<Vault>,
    engine: Arc<Engine>,
    service: String,
    http: reqwest::Client,
}

async fn start(name: &str, policy: Option<&str>, tune: impl FnOnce(&mut HttpConfig)) -> Bridge {
    start_with(
        name,
        policy,
        None,
        tune,
        3,
        NodeConfig::new(Network::DatilDev),
    )
    .await
}

/// A bridge in front of two simulated Naga nodes (the network `sim`, generation Naga).
async fn start_naga(name: &str, policy: Option<&str>) -> Bridge {
    start_with(
        name,
        policy,
        None,
        |_| {},
        2,
        NodeConfig::new(Network::NagaDev),
    )
    .await
}

async fn start_with(
    name: &str,
    policy: Option<&str>,
    hold: Option<Arc<tokio::sync::Notify>>,
    tune: impl FnOnce(&mut HttpConfig),
    node_count: usize,
    node: NodeConfig,
) -> Bridge {
    let k = keyring();
    let service = unique_service(name);
    let dir = k.data_dir().join(name);
    let (vault, _) = Vault::open(
        &dir,
        Arc::new(OsKeychain::with_service(&service)),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    vault
        .import_wallet(WALLET_KEY, "Main", OffsetDateTime::now_utc())
        .unwrap();
    let vault = Arc::new(vault);
    let approver = Arc::new(Scripted {
        policy: policy.map(|p| Policy::parse(p).unwrap()),
        asked: Mutex::new(Vec::new()),
        hold,
        withdrawn: Arc::new(AtomicBool::new(false)),
    });
    let mut nodes = Vec::new();
    for _ in 0..node_count {
        nodes.push(spawn(node.clone()).await.unwrap());
    }
    let net = LitNetClient::new(Duration::from_millis(800), 2).unwrap();
    // The simulated nodes are the network `sim`, of the nodes' generation.
    let generation = node.network.generation();
    let sim = NetworkSpec::custom(SIM, generation, &nodes, None).unwrap();
    let networks = Arc::new(Networks::with_custom(net, vec![sim]).unwrap());
    let engine = Engine::new(
        vault.clone(),
        networks,
        approver.clone(),
        EngineSettings::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = HttpConfig::new(port);
    tune(&mut config);
    let engine = Arc::new(engine);
    let state = HttpState::new(engine.clone(), config);
    tokio::spawn(http::serve(listener, state));
    Bridge {
        url: format!("http://127.0.0.1:{port}"),
        port,
        nodes,
        generation,
        approver,
        vault,
        engine,
        service,
        http: reqwest::Client::builder().no_proxy().build().unwrap(),
    }
}

fn pkp_request(id: &str) -> Value {
    json!({"resource": {"resource": id, "resourcePrefix": "lit-pkp"}, "ability": "pkp-signing"})
}

/// A made-up PKP public key and its token id (keccak256 of the 65 bytes, as nodes derive it).
fn pkp(n: u8) -> (String, String) {
    let mut bytes = vec![4u8];
    bytes.extend(std::iter::repeat_n(n, 64));
    (
        format!("0x{}", hex::encode(&bytes)),
        hex::encode(sha3::Keccak256::digest(&bytes)),
    )
}

impl Bridge {
    /// Asks for PKP `id` on `network` and expects the one generic 4504: which node or RPC
    /// failed, and how, is for the companion's log only.
    async fn unreachable(&self, network: &str, id: &str) -> Value {
        let (status, v) = self
            .post_from(
                ORIGIN,
                &self.body(
                    vec![pkp_request(id)],
                    json!({"network": network, "nodeUrls": []}),
                ),
            )
            .await;
        assert_eq!((status, code(&v)), (502, 4504), "{v}");
        assert_eq!(
            v["error"]["message"],
            "the Lit network could not be reached"
        );
        v
    }

    /// Adds networks of the bridge's generation beside `sim`.
    fn add_networks(&self, more: &[(&str, &[String])]) {
        let mut specs = vec![NetworkSpec::custom(SIM, self.generation, &self.nodes, None).unwrap()];
        for (name, nodes) in more {
            specs.push(NetworkSpec::custom(name, self.generation, nodes, None).unwrap());
        }
        self.engine
            .networks()
            .configure(specs, &std::collections::BTreeMap::new());
    }

    fn body(&self, requests: Vec<Value>, extra: Value) -> Value {
        let mut params =
            json!({ "network": SIM, "resourceAbilityRequests": requests, "nodeUrls": self.nodes });
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                p.insert(k.clone(), v.clone());
            }
        }
        json!({ "v": 1, "id": "req-1", "method": "getSessionSigs", "params": params })
    }

    /// A browser-like poll from `origin` for a pending request.
    async fn poll_from(&self, origin: &str, ticket: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}/v1/pending/{ticket}", self.url))
            .header("Origin", origin)
            .header("Sec-Fetch-Mode", "cors")
            .header("Sec-Fetch-Site", "cross-site")
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    /// A browser-like request from `origin`.
    async fn post_from(&self, origin: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}/v1/request", self.url))
            .header("Origin", origin)
            .header("Sec-Fetch-Mode", "cors")
            .header("Sec-Fetch-Site", "cross-site")
            .json(body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    async fn asked(&self) -> usize {
        self.approver.asked.lock().unwrap().len()
    }

    /// Nothing was stored: no session records, only the wallet in the keychain.
    fn nothing_stored(&self) {
        assert!(
            self.vault.sessions().unwrap().is_empty(),
            "no session may be stored"
        );
        let accounts = keyring().accounts(&self.service);
        assert_eq!(accounts.len(), 1, "{accounts:?}");
        assert!(accounts[0].starts_with("wallet:"));
    }

    async fn node_accepts(&self, node: &str, sigs: &Value, pubkey: &str) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{node}/web/pkp/sign"))
            .json(&json!({ "authSig": sigs[node], "toSign": [1, 2, 3], "pubkey": pubkey }))
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }
}

fn code(v: &Value) -> u64 {
    v["error"]["code"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn first_request_prompts_then_reuses_then_escalates_only_for_what_is_new() {
    let b = start("flow", None, |_| {}).await;
    let (pub1, id1) = pkp(1);
    let (pub2, id2) = pkp(2);

    let (status, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id1)], json!({})))
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["id"], "req-1");
    assert_eq!(v["result"]["reused"], false);
    assert_eq!(b.asked().await, 1);
    {
        let asked = b.approver.asked.lock().unwrap();
        assert_eq!(asked[0].who, "app.example.com — verified by your browser");
        assert_eq!(asked[0].new.len(), 1);
        assert!(asked[0].new[0]
            .sentence
            .starts_with("Sign messages and transactions with your PKP 0x"));
        assert!(asked[0].already_granted.is_empty());
        // The prompt's disclosure holds the message to be signed, ReCap and all.
        let preview = &asked[0].siwe_preview;
        assert!(
            preview.starts_with("app.example.com wants you to sign in"),
            "{preview}"
        );
        assert!(preview.contains("urn:recap:"), "{preview}");
        // The nonce comes from the nodes once the user said yes.
        assert!(
            preview.contains("\nNonce: latestBlockHashFromTheNodes\n"),
            "{preview}"
        );
    }
    let stored = &b.vault.sessions().unwrap()[0];
    assert!(stored.auth_sig.signed_message.contains(&format!(
        "\nNonce: {}\n",
        lit_companion_node_sim::DEFAULT_BLOCKHASH
    )));
    let sigs = v["result"]["sessionSigs"].clone();
    assert_eq!(sigs.as_object().unwrap().len(), 3);
    // Every simulated node accepts its entry for the granted PKP, and refuses another PKP.
    for node in &b.nodes {
        let (status, answer) = b.node_accepts(node, &sigs, &pub1).await;
        assert_eq!(status, 200, "{answer}");
        let (status, answer) = b.node_accepts(node, &sigs, &pub2).await;
        assert_eq!(status, 401, "{answer}");
    }
    // The SIWE domain is the verified origin's host.
    let signed: Value =
        serde_json::from_str(sigs[&b.nodes[0]]["signedMessage"].as_str().unwrap()).unwrap();
    let siwe = signed["capabilities"][0]["signedMessage"].as_str().unwrap();
    assert!(
        siwe.starts_with("app.example.com wants you to sign in"),
        "{siwe}"
    );
    assert!(
        siwe.contains(&format!(
            "Nonce: {}",
            lit_companion_node_sim::DEFAULT_BLOCKHASH
        )),
        "the nonce is the nodes' block hash"
    );

    // Inside the grant: no prompt, the same session key.
    let (status, again) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id1)], json!({})))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["result"]["reused"], true);
    assert_eq!(again["result"]["sessionKey"], v["result"]["sessionKey"]);
    assert_eq!(b.asked().await, 1);

    // Escalation: only the new PKP is asked about; the old one is shown as already granted.
    let (status, more) = b
        .post_from(
            ORIGIN,
            &b.body(vec![pkp_request(&id1), pkp_request(&id2)], json!({})),
        )
        .await;
    assert_eq!(status, 200, "{more}");
    assert_eq!(more["result"]["reused"], false);
    {
        let asked = b.approver.asked.lock().unwrap();
        assert_eq!(asked.len(), 2);
        assert_eq!(asked[1].new.len(), 1);
        assert!(asked[1].new[0].resource.ends_with(&id2));
        assert_eq!(asked[1].already_granted.len(), 1);
        assert!(asked[1].already_granted[0].resource.ends_with(&id1));
    }
    let sigs = &more["result"]["sessionSigs"];
    for pubkey in [&pub1, &pub2] {
        assert_eq!(b.node_accepts(&b.nodes[1], sigs, pubkey).await.0, 200);
    }

    // listGrants shows this origin's grant in plain words; another origin sees nothing.
    let list = json!({"v": 1, "id": 2, "method": "listGrants"});
    let (_, grants) = b.post_from(ORIGIN, &list).await;
    assert_eq!(grants["result"]["grants"].as_array().unwrap().len(), 1);
    assert_eq!(
        grants["result"]["grants"][0]["mayDo"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (_, other) = b.post_from("https://other.example", &list).await;
    assert!(other["result"]["grants"].as_array().unwrap().is_empty());

    // disconnect revokes: the key leaves the keychain.
    let (_, bye) = b
        .post_from(ORIGIN, &json!({"v": 1, "id": 3, "method": "disconnect"}))
        .await;
    assert_eq!(bye["result"]["revoked"], 1);
    b.nothing_stored();
}

#[tokio::test]
async fn a_paused_bridge_or_a_road_turned_off_answers_4900_and_resumes() {
    let b = start("pause", None, |_| {}).await;
    let (_, id1) = pkp(1);
    let body = b.body(vec![pkp_request(&id1)], json!({}));

    b.engine.set_paused(true);
    let (status, v) = b.post_from(ORIGIN, &body).await;
    assert_eq!(code(&v), 4900, "{v}");
    assert_ne!(status, 200);
    assert!(v["error"]["message"].as_str().unwrap().contains("paused"));
    assert_eq!(b.asked().await, 0, "a paused bridge asks nobody");
    b.nothing_stored();

    b.engine.set_paused(false);
    b.engine.set_road(Road::Http, false);
    assert!(!b.engine.road_on(Road::Http));
    assert!(b.engine.road_on(Road::Extension));
    let (_, v) = b.post_from(ORIGIN, &body).await;
    assert_eq!(code(&v), 4900, "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("loopback HTTP road is turned off"));
    assert_eq!(b.asked().await, 0);

    b.engine.set_road(Road::Http, true);
    b.engine.set_network(SIM, false);
    assert!(b.engine.network_on("naga"));
    let (_, v) = b.post_from(ORIGIN, &body).await;
    assert_eq!(code(&v), 4200, "{v}");
    assert_eq!(b.asked().await, 0);

    b.engine.set_network(SIM, true);
    let (status, v) = b.post_from(ORIGIN, &body).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(b.asked().await, 1);
}

#[tokio::test]
async fn callers_the_transport_cannot_vouch_for_are_refused() {
    let b = start("auth", None, |_| {}).await;
    let (_, id) = pkp(1);
    let body = b.body(vec![pkp_request(&id)], json!({}));
    let post = || b.http.post(format!("{}/v1/request", b.url)).json(&body);

    // A forged Origin (no Fetch Metadata, as a script would send).
    let r = post().header("Origin", ORIGIN).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(code(&r.json().await.unwrap()), 4100);
    // A rebinding attack: our address under another name.
    let r = post()
        .header("Host", format!("evil.example:{}", b.port))
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Mode", "cors")
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 421);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    assert_eq!(code(&r.json().await.unwrap()), 4100);
    // Neither an Origin nor a pairing token; then a wrong token.
    let r = post().send().await.unwrap();
    assert_eq!(code(&r.json().await.unwrap()), 4100);
    let r = post().bearer_auth("lcp_0000").send().await.unwrap();
    assert_eq!(code(&r.json().await.unwrap()), 4100);
    // An opaque origin.
    let r = post()
        .header("Origin", "null")
        .header("Sec-Fetch-Mode", "cors")
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(code(&r.json().await.unwrap()), 4100);
    assert_eq!(b.asked().await, 0);
    b.nothing_stored();

    // A real pairing token works, and the prompt names the program.
    let token = b
        .vault
        .create_pairing("ci-runner", OffsetDateTime::now_utc())
        .unwrap();
    let r = post().bearer_auth(token.as_str()).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        b.approver.asked.lock().unwrap()[0].who,
        "local program \"ci-runner\" (pairing token)"
    );
}

#[tokio::test]
async fn malformed_oversized_and_unsupported_requests_are_refused() {
    let b = start("malformed", None, |c| c.body_limit = 4096).await;
    let (_, id) = pkp(1);
    let send = |body: Vec<u8>, ct: &'static str| {
        b.http
            .post(format!("{}/v1/request", b.url))
            .header("Origin", ORIGIN)
            .header("Sec-Fetch-Mode", "cors")
            .header("Sec-Fetch-Site", "cross-site")
            .header("Content-Type", ct)
            .body(body)
            .send()
    };
    let big = b.body(
        vec![pkp_request(&id)],
        json!({"statement": "x".repeat(5000)}),
    );
    let r = send(serde_json::to_vec(&big).unwrap(), "application/json")
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 413);
    assert_eq!(code(&r.json().await.unwrap()), 4413);
    let r = send(b"{\"v\":1,".to_vec(), "application/json")
        .await
        .unwrap();
    assert_eq!(code(&r.json().await.unwrap()), 4400);
    let r = send(b"{}".to_vec(), "text/plain").await.unwrap();
    assert_eq!(code(&r.json().await.unwrap()), 4400);
    let mut v2 = b.body(vec![pkp_request(&id)], json!({}));
    v2["v"] = json!(2);
    let r = send(serde_json::to_vec(&v2).unwrap(), "application/json")
        .await
        .unwrap();
    assert_eq!(code(&r.json().await.unwrap()), 4200);
    let unknown = json!({"v": 1, "id": 1, "method": "eth_sign"});
    let (_, v) = b.post_from(ORIGIN, &unknown).await;
    assert_eq!(code(&v), 4200);
    for (extra, why) in [
        (
            json!({"expiration": "2099-01-01T00:00:00Z"}),
            "a lifetime over 30 days",
        ),
        (json!({"nodeUrls": ["ftp://x"]}), "a bad node URL"),
        (
            json!({"nodeUrls": ["http://10.0.0.1:7470"]}),
            "plain http to another machine",
        ),
        (json!({"network": "mainnet"}), "an unknown network"),
        (json!({"surprise": true}), "an unknown field"),
        (
            json!({"capabilityAuthSigs": [{"sig": "0x00"}]}),
            "a broken delegation",
        ),
    ] {
        let (status, v) = b
            .post_from(ORIGIN, &b.body(vec![pkp_request(&id)], extra))
            .await;
        assert_eq!((status, code(&v)), (400, 4400), "{why}: {v}");
    }
    let (_, v) = b.post_from(ORIGIN, &b.body(vec![json!({"resource": {"resource": "*", "resourcePrefix": "lit-pkp"}, "ability": "fly"})], json!({}))).await;
    assert_eq!(code(&v), 4400);
    assert_eq!(b.asked().await, 0);
    b.nothing_stored();
}

/// The fuzzer's first find (fuzz/regressions/http_request/): a ticket that is not UTF-8 once
/// percent-decoded was answered by axum in plain text. Every answer but a preflight's is an
/// envelope: a bad ticket, an unknown path, a method an endpoint does not take.
#[tokio::test]
async fn a_ticket_that_is_not_text_an_unknown_path_and_a_wrong_method_get_the_envelope() {
    let b = start("envelope", None, |_| {}).await;
    let token = b
        .vault
        .create_pairing("envelope", OffsetDateTime::now_utc())
        .unwrap();
    for (method, path, status, expected) in [
        ("GET", "/v1/pending/a%bc", 400, 4400),
        ("GET", "/v1/pending/a%ff%fe", 400, 4400),
        ("GET", "/v2/request", 404, 4200),
        ("GET", "/", 404, 4200),
        ("DELETE", "/v1/request", 405, 4200),
        ("PUT", "/v1/pending/abc", 405, 4200),
    ] {
        let r = b
            .http
            .request(method.parse().unwrap(), format!("{}{path}", b.url))
            .header("Authorization", format!("Bearer {}", token.as_str()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{method} {path}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("application/json"), "{method} {path}: {ct}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(code(&v), expected, "{method} {path}: {v}");
        assert_eq!(v["v"], 1, "{method} {path}: {v}");
    }
    assert_eq!(b.asked().await, 0);
}

const STRICT_POLICY: &str = r#"{"version":1,"rules":[{"origin":"https://app.example.com","resources":["lit-pkp://*"],"maxLifetimeSeconds":86400}]}"#;

#[tokio::test]
async fn the_policy_refuses_wildcards_escalations_and_strangers() {
    let b = start("policy", Some(STRICT_POLICY), |_| {}).await;
    let (_, id) = pkp(1);
    // A wildcard under a policy that forbids wildcards.
    let (status, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request("*")], json!({})))
        .await;
    assert_eq!((status, code(&v)), (403, 4001), "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("wildcards"));
    b.nothing_stored();
    // An origin the policy does not know.
    let (_, v) = b
        .post_from(
            "https://stranger.example",
            &b.body(vec![pkp_request(&id)], json!({})),
        )
        .await;
    assert_eq!(code(&v), 4001);
    b.nothing_stored();
    // Allowed; then an escalation to a Lit Action the policy rejects: the grant stays as it was.
    let (status, first) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id)], json!({})))
        .await;
    assert_eq!(status, 200, "{first}");
    let action = json!({"resource": {"resource": "QmYwAPJzv5CZsnAzt8auVZRn9pfbGkY8ZtZ7j1234PbdG", "resourcePrefix": "lit-litaction"}, "ability": "lit-action-execution"});
    let (_, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id), action], json!({})))
        .await;
    assert_eq!(code(&v), 4001);
    let sessions = b.vault.sessions().unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(
        sessions[0].public_key,
        first["result"]["sessionKey"].as_str().unwrap()
    );
    // Longer than the policy allows.
    let long = b.body(vec![pkp_request(&pkp(3).1)], json!({"expiration": lit_companion_session::timefmt::iso_millis(OffsetDateTime::now_utc() + time::Duration::days(3)).unwrap()}));
    let (_, v) = b.post_from(ORIGIN, &long).await;
    assert_eq!(code(&v), 4001);
}

#[tokio::test]
async fn a_flood_from_one_origin_is_limited_while_another_is_served() {
    let b = start("flood", None, |c| {
        c.rate = RateLimit {
            per_second: 1.0,
            burst: 5.0,
        }
    })
    .await;
    let status = json!({"v": 1, "id": 1, "method": "listGrants"});
    let mut limited = 0;
    for _ in 0..20 {
        let (_, v) = b.post_from("https://flood.example", &status).await;
        if code(&v) == 4429 {
            limited += 1;
        }
    }
    assert!(limited >= 14, "{limited} of 20 limited");
    let (s, v) = b.post_from(ORIGIN, &status).await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn cors_answers_exactly_the_caller() {
    let b = start("cors", None, |_| {}).await;
    let r = b
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/request", b.url))
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Private-Network", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], ORIGIN);
    assert_eq!(r.headers()["access-control-allow-private-network"], "true");
    let r = b
        .http
        .post(format!("{}/v1/request", b.url))
        .header("Origin", "https://other.example")
        .header("Sec-Fetch-Mode", "cors")
        .header("Sec-Fetch-Site", "cross-site")
        .json(&json!({"v": 1, "id": 1, "method": "listGrants"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://other.example"
    );
    assert_ne!(r.headers()["access-control-allow-origin"], "*");
}

#[tokio::test]
async fn a_slow_answer_is_collected_by_polling_and_an_abandoned_one_is_withdrawn() {
    let hold = Arc::new(tokio::sync::Notify::new());
    let b = start_with(
        "pending",
        None,
        Some(hold.clone()),
        |c| {
            c.wait = Duration::from_millis(300);
            c.abandon_after = Duration::from_millis(1500);
        },
        1,
        NodeConfig::new(Network::DatilDev),
    )
    .await;
    let (_, id) = pkp(1);
    let (status, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id)], json!({})))
        .await;
    assert_eq!(status, 202, "{v}");
    let ticket = v["pending"].as_str().unwrap().to_owned();
    // Someone else cannot collect it.
    let (_, v) = b.poll_from("https://other.example", &ticket).await;
    assert_eq!(code(&v), 4408);
    hold.notify_one();
    // Polled as a client does: creating the session may outlast one 300 ms wait on a busy
    // machine, and each poll that finds it unfinished answers 202 with the same ticket.
    let mut polls = 0;
    let (status, v) = loop {
        let (status, v) = b.poll_from(ORIGIN, &ticket).await;
        polls += 1;
        if status != 202 || polls == 50 {
            break (status, v);
        }
        assert_eq!(v["pending"], ticket.as_str(), "{v}");
    };
    assert_eq!(status, 200, "{v}");
    assert!(v["result"]["sessionSigs"].is_object(), "{v}");

    // Now a request nobody polls for: withdrawn after the abandon window, nothing stored.
    let (_, id2) = pkp(2);
    let (status, _) = b
        .post_from(
            "https://second.example",
            &b.body(vec![pkp_request(&id2)], json!({})),
        )
        .await;
    assert_eq!(status, 202);
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert!(
        b.approver.withdrawn.load(Ordering::SeqCst),
        "the prompt must be withdrawn when its caller goes away"
    );
    assert!(b
        .vault
        .sessions()
        .unwrap()
        .iter()
        .all(|s| s.origin != "https://second.example"));
}

#[tokio::test]
async fn unreachable_or_disagreeing_nodes_are_a_network_error() {
    let b = start("netdown", None, |_| {}).await;
    let (_, id) = pkp(1);
    let dead = vec![
        "http://127.0.0.1:9".to_owned(),
        "http://127.0.0.1:10".to_owned(),
    ];
    b.add_networks(&[("dead", &dead)]);
    let v = b.unreachable("dead", &id).await;
    assert!(!v.to_string().contains("127.0.0.1:9"), "{v}");
    b.nothing_stored();

    let mut odd = NodeConfig::new(Network::DatilDev);
    odd.blockhash = format!("0x{}", "99".repeat(32));
    let mut nodes = b.nodes[..1].to_vec();
    nodes.push(spawn(odd.clone()).await.unwrap());
    odd.blockhash = format!("0x{}", "77".repeat(32));
    nodes.push(spawn(odd).await.unwrap());
    b.add_networks(&[("dead", &dead), ("odd", &nodes)]);
    b.unreachable("odd", &id).await;
    b.nothing_stored();
}

#[tokio::test]
async fn naga_sessions_carry_max_price_and_pass_naga_nodes() {
    let b = start_naga("naga", None).await;
    let (pubkey, id) = pkp(5);
    let body = b.body(
        vec![pkp_request(&id)],
        json!({"maxPrice": "5000000000000000"}),
    );
    let (status, v) = b.post_from(ORIGIN, &body).await;
    assert_eq!(status, 200, "{v}");
    let sigs = &v["result"]["sessionSigs"];
    let signed: Value =
        serde_json::from_str(sigs[&b.nodes[0]]["signedMessage"].as_str().unwrap()).unwrap();
    assert_eq!(signed["maxPrice"], "0x11c37937e08000");
    assert_eq!(b.node_accepts(&b.nodes[0], sigs, &pubkey).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_cached_requests_and_a_thousand_at_once_lose_nothing() {
    let b = start("load", None, |c| {
        c.rate = RateLimit {
            per_second: 1e9,
            burst: 1e9,
        }
    })
    .await;
    let (_, id) = pkp(9);
    let body = b.body(vec![pkp_request(&id)], json!({}));
    let (status, first) = b.post_from(ORIGIN, &body).await;
    assert_eq!(status, 200);
    let key = first["result"]["sessionKey"].clone();
    let ok = Arc::new(AtomicUsize::new(0));
    let one = |i: usize, ok: Arc<AtomicUsize>| {
        let (http, url, mut body, key) = (b.http.clone(), b.url.clone(), body.clone(), key.clone());
        async move {
            body["id"] = json!(format!("load-{i}"));
            let r = http
                .post(format!("{url}/v1/request"))
                .header("Origin", ORIGIN)
                .header("Sec-Fetch-Mode", "cors")
                .header("Sec-Fetch-Site", "cross-site")
                .json(&body)
                .send()
                .await
                .unwrap();
            let v: Value = r.json().await.unwrap();
            if v["result"]["reused"] == true
                && v["id"] == json!(format!("load-{i}"))
                && v["result"]["sessionKey"] == key
            {
                ok.fetch_add(1, Ordering::SeqCst);
            }
        }
    };
    // 10,000 one after another (8 callers in parallel), then 1,000 all at once.
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..8 {
        let ok = ok.clone();
        let run = (lane * 1250..(lane + 1) * 1250)
            .map(|i| one(i, ok.clone()))
            .collect::<Vec<_>>();
        tasks.spawn(async move {
            for f in run {
                f.await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    assert_eq!(
        ok.load(Ordering::SeqCst),
        10_000,
        "every answer arrives, to the right request"
    );
    for i in 0..1000 {
        tasks.spawn(one(10_000 + i, ok.clone()));
    }
    while tasks.join_next().await.is_some() {}
    assert_eq!(
        ok.load(Ordering::SeqCst),
        11_000,
        "every answer arrives, to the right request"
    );
    assert_eq!(b.asked().await, 1, "a cached grant never prompts");
}

/// A loopback server that counts the connections it gets and answers none: it must never be
/// reached.
async fn canary() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (url, hits)
}

/// A "node" that answers every request with a 307 to `to`.
async fn redirector(to: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = format!(
        "HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}/web/handshake\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    });
    url
}

#[tokio::test]
async fn node_urls_outside_the_network_reach_nothing() {
    let b = start("outside", None, |_| {}).await;
    let (_, id) = pkp(1);
    let (canary_url, hits) = canary().await;
    let mut nodes = b.nodes.clone();
    nodes.push(canary_url.clone());
    let (status, v) = b
        .post_from(
            ORIGIN,
            &b.body(vec![pkp_request(&id)], json!({"nodeUrls": nodes})),
        )
        .await;
    assert_eq!((status, code(&v)), (400, 4400), "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&canary_url) && message.contains("not a node of sim"),
        "{message}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the canary was contacted");
    assert_eq!(b.asked().await, 0, "nothing to ask about");
    b.nothing_stored();

    // A request that names no nodes gets sessionSigs for the whole set.
    let (status, v) = b
        .post_from(
            ORIGIN,
            &b.body(vec![pkp_request(&id)], json!({"nodeUrls": []})),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let mut signed: Vec<String> = v["result"]["sessionSigs"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    signed.sort();
    let mut all = b.nodes.clone();
    all.sort();
    assert_eq!(signed, all);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_refused_origin_reaches_no_node() {
    let b = start("refused", Some(STRICT_POLICY), |_| {}).await;
    let (_, id) = pkp(1);
    let (canary_url, hits) = canary().await;
    b.add_networks(&[("watched", &[canary_url])]);
    let (status, v) = b
        .post_from(
            "https://stranger.example",
            &b.body(
                vec![pkp_request(&id)],
                json!({"network": "watched", "nodeUrls": []}),
            ),
        )
        .await;
    assert_eq!((status, code(&v)), (403, 4001), "{v}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a refused request contacted a node"
    );
    b.nothing_stored();
}

#[tokio::test]
async fn a_node_that_redirects_fails_and_gets_no_session_sigs() {
    let b = start("redirect", None, |_| {}).await;
    let (pubkey, id) = pkp(1);
    let (canary_url, hits) = canary().await;
    let hop = redirector(&canary_url).await;
    // Two good nodes and one that redirects: a majority answers; the redirector gets nothing.
    let mut nodes = b.nodes[..2].to_vec();
    nodes.push(hop.clone());
    b.add_networks(&[("hop", &nodes), ("only-hop", std::slice::from_ref(&hop))]);
    let (status, v) = b
        .post_from(
            ORIGIN,
            &b.body(
                vec![pkp_request(&id)],
                json!({"network": "hop", "nodeUrls": []}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let sigs = &v["result"]["sessionSigs"];
    assert!(
        sigs.get(&hop).is_none(),
        "sessionSigs for a node that never shook hands: {v}"
    );
    assert_eq!(sigs.as_object().unwrap().len(), 2);
    assert_eq!(b.node_accepts(&nodes[0], sigs, &pubkey).await.0, 200);
    // Reused: still only the nodes that completed a handshake.
    let (_, v) = b
        .post_from(
            ORIGIN,
            &b.body(
                vec![pkp_request(&id)],
                json!({"network": "hop", "nodeUrls": []}),
            ),
        )
        .await;
    assert_eq!(v["result"]["reused"], true, "{v}");
    assert!(v["result"]["sessionSigs"].get(&hop).is_none());

    let v = b.unreachable("only-hop", &id).await;
    assert!(
        !v.to_string().contains(&hop[7..]),
        "no per-node detail: {v}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0, "a redirect was followed");
}

#[tokio::test]
async fn naga_prices_are_capped_shown_and_never_raised_without_asking() {
    let b = start_naga("price", None).await;
    let (_, id) = pkp(6);
    let ask = |price: &str| b.body(vec![pkp_request(&id)], json!({ "maxPrice": price }));
    for too_much in [u128::MAX.to_string(), "1000000000000000001".to_owned()] {
        let (status, v) = b.post_from(ORIGIN, &ask(&too_much)).await;
        assert_eq!((status, code(&v)), (400, 4400), "{v}");
        let message = v["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("above the cap of 1000000000000000000 wei"),
            "{message}"
        );
    }
    for malformed in ["-1", "1e18", "0x10", ""] {
        let (_, v) = b.post_from(ORIGIN, &ask(malformed)).await;
        assert_eq!(code(&v), 4400, "{malformed}: {v}");
    }
    assert_eq!(b.asked().await, 0);
    b.nothing_stored();

    // Approved at 0.005 per request: the prompt said so.
    let (status, v) = b.post_from(ORIGIN, &ask("5000000000000000")).await;
    assert_eq!(status, 200, "{v}");
    {
        let asked = b.approver.asked.lock().unwrap();
        assert_eq!(
            asked[0].price_text.as_deref(),
            Some("May spend up to 0.005 of your Lit balance per request")
        );
        assert!(!asked[0]
            .flags
            .contains(&lit_companion_session::explain::RiskFlag::HighPrice));
    }
    // The same price or less: reused without a prompt.
    let (_, v) = b.post_from(ORIGIN, &ask("4000000000000000")).await;
    assert_eq!(v["result"]["reused"], true, "{v}");
    assert_eq!(b.asked().await, 1);
    // More: a new question, about the price alone.
    let (status, v) = b.post_from(ORIGIN, &ask("600000000000000000")).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["result"]["reused"], false, "{v}");
    {
        let asked = b.approver.asked.lock().unwrap();
        assert_eq!(asked.len(), 2);
        assert!(
            asked[1].new.is_empty(),
            "no new capability, only a higher price"
        );
        assert!(asked[1]
            .flags
            .contains(&lit_companion_session::explain::RiskFlag::HighPrice));
        assert_eq!(
            asked[1].max_price_wei.as_deref(),
            Some("600000000000000000")
        );
    }
    // No price given means the cap (1.0), more than was approved: asked again.
    let (_, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id)], json!({})))
        .await;
    assert_eq!(
        v["result"]["reused"], false,
        "the cap (1.0) is above what was approved: {v}"
    );
    assert_eq!(b.asked().await, 3);
}

#[tokio::test]
async fn a_policy_caps_the_price() {
    let policy = r#"{"version":1,"rules":[{"origin":"https://app.example.com","resources":["lit-pkp://*"],"maxPrice":"1000000000000000"}]}"#;
    let b = start_naga("policy-price", Some(policy)).await;
    let (_, id) = pkp(7);
    let body = |price: &str| b.body(vec![pkp_request(&id)], json!({ "maxPrice": price }));
    let (_, v) = b.post_from(ORIGIN, &body("2000000000000000")).await;
    assert_eq!(code(&v), 4001, "{v}");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("the policy allows at most 1000000000000000"));
    let (status, v) = b.post_from(ORIGIN, &body("1000000000000000")).await;
    assert_eq!(status, 200, "{v}");
}

#[tokio::test]
async fn a_chain_that_cannot_be_read_signs_nothing() {
    let b = start("chain-down", None, |_| {}).await;
    let (_, id) = pkp(8);
    let sim = NetworkSpec::custom(SIM, b.generation, &b.nodes, None).unwrap();
    let down = NetworkSpec::custom(
        "down",
        b.generation,
        &[],
        Some((
            "http://127.0.0.1:9/",
            "0x21d636d95eE71150c0c3Ffa79268c989a329d1CE",
            None,
            None,
        )),
    )
    .unwrap();
    b.engine
        .networks()
        .configure(vec![sim, down], &std::collections::BTreeMap::new());
    b.unreachable("down", &id).await;
    assert_eq!(
        b.asked().await,
        0,
        "no prompt for a network that cannot be read"
    );
    b.nothing_stored();
}

/// Runs curl as the OS user `nobody` (needs root, as CI has): the answer's status and body.
async fn curl_as_nobody(args: Vec<String>, body: Option<String>) -> (u16, Value) {
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut cmd = std::process::Command::new("runuser");
        cmd.args(["-u", "nobody", "--", "curl", "-s", "-w", "\n%{http_code}"])
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped());
        if body.is_some() {
            cmd.args(["--data-binary", "@-"]);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("runuser and curl: {e}"));
        let mut stdin = child.stdin.take().unwrap();
        if let Some(b) = body {
            stdin.write_all(b.as_bytes()).unwrap();
        }
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        // The body, then the status code on its own line (curl's `-w`).
        let (body, status) = text.rsplit_once('\n').unwrap();
        let json = body.get(body.find('{').unwrap_or(0)..).unwrap_or_default();
        (
            status.trim().parse().unwrap(),
            serde_json::from_str(json).unwrap_or_else(|_| json!({ "raw": body })),
        )
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn another_os_user_is_refused_whatever_it_sends() {
    if lit_companion_wire::endpoint::current_uid() != 0 {
        eprintln!("skipped: switching to the OS user `nobody` needs root (CI runs as root)");
        return;
    }
    let b = start("other-user", None, |_| {}).await;
    let (_, id) = pkp(9);
    // The user's own browser gets its grant.
    let (status, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id)], json!({})))
        .await;
    assert_eq!(status, 200, "{v}");
    let token = b
        .vault
        .create_pairing("mine", OffsetDateTime::now_utc())
        .unwrap();
    let url = format!("{}/v1/request", b.url);
    let forged = |extra: &[&str]| {
        let mut args: Vec<String> = [
            "-H",
            "Origin: https://app.example.com",
            "-H",
            "Sec-Fetch-Mode: cors",
            "-H",
            "Sec-Fetch-Site: cross-site",
            "-H",
            "Content-Type: application/json",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        args.push(url.clone());
        args
    };
    let methods = [
        b.body(vec![pkp_request(&id)], json!({})),
        json!({"v": 1, "id": 2, "method": "listGrants"}),
        json!({"v": 1, "id": 3, "method": "disconnect"}),
    ];
    let bearer = format!("Authorization: Bearer {}", token.as_str());
    for extra in [vec![], vec![bearer.as_str()]] {
        for body in &methods {
            let (status, v) = curl_as_nobody(forged(&extra), Some(body.to_string())).await;
            assert_eq!((status, code(&v)), (403, 4100), "{body}: {v}");
            assert!(v.get("result").is_none(), "{v}");
        }
    }
    // Nothing was listed, nothing revoked, nothing new asked.
    let live: Vec<_> = b
        .vault
        .sessions()
        .unwrap()
        .into_iter()
        .filter(|s| s.state == lit_companion_vault::metadata::RecordState::Live)
        .collect();
    assert_eq!(live.len(), 1);
    assert_eq!(b.asked().await, 1);
    // The same forged headers from the user's own process still work: the refusal is the user's.
    let (status, v) = b
        .post_from(ORIGIN, &b.body(vec![pkp_request(&id)], json!({})))
        .await;
    assert_eq!(
        (status, v["result"]["reused"].clone()),
        (200, json!(true)),
        "{v}"
    );
}

#[tokio::test]
async fn one_site_with_many_subdomains_cannot_hold_every_prompt_slot() {
    let hold = Arc::new(tokio::sync::Notify::new());
    let b = start_with(
        "fair",
        None,
        Some(hold.clone()),
        |c| {
            c.wait = Duration::from_millis(300);
            c.rate = RateLimit {
                per_second: 1e9,
                burst: 1e9,
            };
        },
        1,
        NodeConfig::new(Network::DatilDev),
    )
    .await;
    let (_, id) = pkp(10);
    let mut statuses = Vec::new();
    for n in 0..8 {
        let origin = format!("https://a{n}.crowd.example");
        let (status, v) = b
            .post_from(&origin, &b.body(vec![pkp_request(&id)], json!({})))
            .await;
        statuses.push((status, code(&v)));
    }
    let waiting = statuses.iter().filter(|(s, _)| *s == 202).count();
    let refused = statuses.iter().filter(|(_, c)| *c == 4429).count();
    assert_eq!(
        (waiting, refused),
        (2, 6),
        "one site (crowd.example) holds at most two prompts: {statuses:?}"
    );
    // Another site still gets its prompt queued.
    let (status, v) = b
        .post_from(
            "https://other.example",
            &b.body(vec![pkp_request(&id)], json!({})),
        )
        .await;
    assert_eq!(status, 202, "{v}");
    for _ in 0..3 {
        hold.notify_one();
    }
}

#[tokio::test]
async fn a_claimed_origin_never_rides_on_a_verified_grant_and_always_prompts() {
    use lit_companion_bridge::{Caller, Identity};
    let b = start("claims", Some(STRICT_POLICY), |_| {}).await;
    let (_, id) = pkp(11);
    let body = b.body(vec![pkp_request(&id)], json!({}));
    // The verified origin has a grant.
    let (status, v) = b.post_from(ORIGIN, &body).await;
    assert_eq!(status, 200, "{v}");
    // A deep link claiming that origin: asked, and refused by a policy without "unverified".
    let claimed = Caller {
        identity: Identity::Claimed(lit_companion_session::Origin::parse(ORIGIN).unwrap()),
        road: Road::DeepLink,
    };
    let asked = b.asked().await;
    let r =
        serde_json::to_value(b.engine.handle(&claimed, body.to_string().as_bytes()).await).unwrap();
    assert_eq!(code(&r), 4001, "{r}");
    assert!(r.get("result").is_none());
    assert_eq!(
        b.asked().await,
        asked + 1,
        "the claim was put to the approver"
    );
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not verified"));

    // Under a rule with "unverified": true the claim is served, and asked again every time.
    let policy = r#"{"version":1,"rules":[{"origin":"https://app.example.com","resources":["lit-pkp://*"],"unverified":true}]}"#;
    let b = start("claims-ok", Some(policy), |_| {}).await;
    let body = b.body(vec![pkp_request(&id)], json!({}));
    for round in 0..2 {
        let asked = b.asked().await;
        let r = serde_json::to_value(b.engine.handle(&claimed, body.to_string().as_bytes()).await)
            .unwrap();
        assert_eq!(r["result"]["reused"], false, "round {round}: {r}");
        assert_eq!(
            b.asked().await,
            asked + 1,
            "round {round}: asked every time"
        );
    }
    let sessions = b.vault.sessions().unwrap();
    assert!(sessions
        .iter()
        .all(|s| s.origin == "unverified:https://app.example.com"));
}

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
