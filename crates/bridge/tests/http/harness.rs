//! The bridge each test starts: simulated nodes, a vault in the private keyring, scripted
//! approvals, and browser-like requests.

use super::*;

pub(crate) const ORIGIN: &str = "https://app.example.com";

/// The network of the simulated nodes each test starts.
pub(crate) const SIM: &str = "sim";

pub(crate) const WALLET_KEY: &str =
    "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

pub(crate) fn keyring() -> &'static PrivateKeyring {
    static K: OnceLock<PrivateKeyring> = OnceLock::new();
    K.get_or_init(|| {
        let k = PrivateKeyring::start();
        k.enter();
        k
    })
}

/// Answers by a policy (or always yes), remembers every question, and notices withdrawals.
pub(crate) struct Scripted {
    /// The policy answering (none: yes); a test may change it between requests.
    pub(crate) policy: Mutex<Option<Policy>>,
    /// The lifetime the "user" picks (without a policy); the one asked when unset.
    pub(crate) choose: Mutex<Option<Duration>>,
    pub(crate) asked: Mutex<Vec<ApprovalRequest>>,
    pub(crate) hold: Option<Arc<tokio::sync::Notify>>,
    pub(crate) withdrawn: Arc<AtomicBool>,
}

pub(crate) struct WithdrawGuard(Arc<AtomicBool>, bool);
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
            let decided = self
                .policy
                .lock()
                .unwrap()
                .as_ref()
                .map(|p| p.decide(&request));
            match decided {
                Some(d) => d,
                None => Decision::Approve {
                    lifetime: self.choose.lock().unwrap().unwrap_or(request.lifetime),
                },
            }
        })
    }
}

pub(crate) struct Bridge {
    pub(crate) url: String,
    pub(crate) port: u16,
    pub(crate) nodes: Vec<String>,
    pub(crate) generation: Generation,
    pub(crate) approver: Arc<Scripted>,
    pub(crate) vault: Arc<Vault>,
    pub(crate) engine: Arc<Engine>,
    pub(crate) service: String,
    pub(crate) http: reqwest::Client,
}

pub(crate) async fn start(
    name: &str,
    policy: Option<&str>,
    tune: impl FnOnce(&mut HttpConfig),
) -> Bridge {
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
pub(crate) async fn start_naga(name: &str, policy: Option<&str>) -> Bridge {
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

pub(crate) async fn start_with(
    name: &str,
    policy: Option<&str>,
    hold: Option<Arc<tokio::sync::Notify>>,
    tune: impl FnOnce(&mut HttpConfig),
    node_count: usize,
    node: NodeConfig,
) -> Bridge {
    start_nodes(name, policy, hold, tune, vec![node; node_count]).await
}

/// A bridge in front of one simulated node per config (all of the first one's generation).
pub(crate) async fn start_nodes(
    name: &str,
    policy: Option<&str>,
    hold: Option<Arc<tokio::sync::Notify>>,
    tune: impl FnOnce(&mut HttpConfig),
    configs: Vec<NodeConfig>,
) -> Bridge {
    let node = configs[0].clone();
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
        policy: Mutex::new(policy.map(|p| Policy::parse(p).unwrap())),
        choose: Mutex::new(None),
        asked: Mutex::new(Vec::new()),
        hold,
        withdrawn: Arc::new(AtomicBool::new(false)),
    });
    let mut nodes = Vec::new();
    for config in configs {
        nodes.push(spawn(config).await.unwrap());
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

pub(crate) fn pkp_request(id: &str) -> Value {
    json!({"resource": {"resource": id, "resourcePrefix": "lit-pkp"}, "ability": "pkp-signing"})
}

/// A made-up PKP public key and its token id (keccak256 of the 65 bytes, as nodes derive it).
pub(crate) fn pkp(n: u8) -> (String, String) {
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
    pub(crate) async fn unreachable(&self, network: &str, id: &str) -> Value {
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
    pub(crate) fn add_networks(&self, more: &[(&str, &[String])]) {
        let mut specs = vec![NetworkSpec::custom(SIM, self.generation, &self.nodes, None).unwrap()];
        for (name, nodes) in more {
            specs.push(NetworkSpec::custom(name, self.generation, nodes, None).unwrap());
        }
        self.engine
            .networks()
            .configure(specs, &std::collections::BTreeMap::new());
    }

    pub(crate) fn body(&self, requests: Vec<Value>, extra: Value) -> Value {
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
    pub(crate) async fn poll_from(&self, origin: &str, ticket: &str) -> (u16, Value) {
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
    pub(crate) async fn post_from(&self, origin: &str, body: &Value) -> (u16, Value) {
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

    pub(crate) async fn asked(&self) -> usize {
        self.approver.asked.lock().unwrap().len()
    }

    /// Nothing was stored: no session records, only the wallet in the keychain.
    /// The vault's live sessions.
    pub(crate) fn live_sessions(&self) -> Vec<lit_companion_vault::metadata::SessionRecord> {
        self.vault
            .sessions()
            .unwrap()
            .into_iter()
            .filter(|s| s.state == lit_companion_vault::metadata::RecordState::Live)
            .collect()
    }

    pub(crate) fn nothing_stored(&self) {
        assert!(
            self.vault.sessions().unwrap().is_empty(),
            "no session may be stored"
        );
        let accounts = keyring().accounts(&self.service);
        assert_eq!(accounts.len(), 1, "{accounts:?}");
        assert!(accounts[0].starts_with("wallet:"));
    }

    pub(crate) async fn node_accepts(
        &self,
        node: &str,
        sigs: &Value,
        pubkey: &str,
    ) -> (u16, Value) {
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

pub(crate) fn code(v: &Value) -> u64 {
    v["error"]["code"].as_u64().unwrap_or(0)
}

/// A policy for one origin: any single PKP, no wildcards, a day at most.
pub(crate) const STRICT_POLICY: &str = r#"{"version":1,"rules":[{"origin":"https://app.example.com","resources":["lit-pkp://*"],"maxLifetimeSeconds":86400}]}"#;

/// `getSessionSigs` params asking for a session that ends `d` from now.
pub(crate) fn expiring_in(d: time::Duration) -> Value {
    json!({"expiration": lit_companion_session::timefmt::iso_millis(OffsetDateTime::now_utc() + d).unwrap()})
}
