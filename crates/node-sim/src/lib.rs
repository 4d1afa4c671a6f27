//! A local Lit node simulator for tests: stands in for one Lit node on loopback, because the Lit
//! network cannot be reached from the test machines. It answers the handshake (Datil's bare
//! shape or Naga's wrapped one) and accepts or refuses sessionSigs on the signing endpoints with
//! the same checks a node runs (`lit_companion_session::verify`, which follows lit-node's
//! `validate_session_sig`). It can be slow, fail its handshake, or report another block hash.
//!
//! Several simulated nodes make a PKP network when they are dealt shares of one BLS key
//! ([`NodeBls::deal`], the same seed for each): their handshakes report that key as
//! `networkPublicKey`, they sign PKP session keys (`/web/sign_session_key/v1` on Datil, `/v2`
//! sealed end to end on Naga, [`lit_companion_net::e2ee`]) for the wallets and Lit Actions the
//! [`NodeConfig::pkps`] table permits, and their signing endpoints accept the sessions the
//! combined signatures make (`LIT_BLS` capabilities, checked against the network key). The
//! checks and the rebuilt message are those of lit-peer `web_client.rs` `sign_session_key`
//! ([`sign_session_key`] module docs).
//!
//! For the official SDKs it also answers where they look: the handshake at `/web/handshake/`
//! (the path v7 and v8 post to) as well as `/web/handshake`, and the block indexer's
//! `GET /get_most_recent_valid_block` (`{blockhash, timestamp}`) for their SIWE nonce. A test
//! counts what a client asked of it with `GET /sim/calls` ([`CALLS_PATH`]).

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::{Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use lit_companion_net::e2ee::{self, Envelope, IdentitySecret};
use lit_companion_session::{
    bls::{network_key_from_seed, KeyShare, NetworkKey},
    error::BlsError,
    verify::{verify_session_sig, NodeContext},
    Ability, Address, Generation, LitResource, Network, PkpPublicKey, ResourceAbilityRequest,
    ResourcePrefix, SessionSig,
};
use serde::Deserialize;
use serde_json::{json, Value};
use sha3::{Digest, Keccak256};
use zeroize::Zeroizing;

mod errors;
pub mod sign_session_key;

use errors::{Kind, NodeError};
use sign_session_key::{RequestV1, RequestV2, Version};

/// `GET` this path for the requests a node has received so far, by path: `{"/web/handshake/":
/// 3, …}` (not a Lit route: for tests that count a client's calls).
pub const CALLS_PATH: &str = "/sim/calls";

/// The default block hash a simulated node reports.
pub const DEFAULT_BLOCKHASH: &str =
    "0x1f0c7d5b6a4e3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a";

/// How a simulated node behaves.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Its network.
    pub network: Network,
    /// The block hash it reports.
    pub blockhash: String,
    /// A delay before every answer.
    pub delay: Duration,
    /// Answer the handshake with HTTP 500.
    pub fail_handshake: bool,
    /// This node's share of the network's BLS key; `None`: a node without keys (its handshake
    /// reports no network key and it signs no session key).
    pub bls: Option<NodeBls>,
    /// What each PKP permits (on the chain: `PKPPermissions`).
    pub pkps: Vec<(PkpPublicKey, PkpPermits)>,
    /// The timestamp of the block `blockhash` names, which a node writes as the rebuilt
    /// session message's `issuedAt`. `None`: the time of each request, in whole seconds — nodes
    /// of one network then sign different messages when their answers straddle a second, so a
    /// network of simulated nodes that must agree is given one.
    pub block_time: Option<time::OffsetDateTime>,
}

impl NodeConfig {
    /// A well-behaved node of `network`, without keys and without PKPs.
    pub fn new(network: Network) -> Self {
        Self {
            network,
            blockhash: DEFAULT_BLOCKHASH.to_owned(),
            delay: Duration::ZERO,
            fail_handshake: false,
            bls: None,
            pkps: Vec::new(),
            block_time: None,
        }
    }

    /// With a share of a network key.
    pub fn with_bls(mut self, bls: NodeBls) -> Self {
        self.bls = Some(bls);
        self
    }

    /// Permits `wallet` as an EOA auth method (type 1) of `pkp`.
    pub fn permit_wallet(mut self, pkp: PkpPublicKey, wallet: Address) -> Self {
        let permits = self.permits_mut(pkp);
        if !permits.wallets.contains(&wallet) {
            permits.wallets.push(wallet);
        }
        self
    }

    /// Permits the Lit Action with IPFS id `cid` (auth method type 2) for `pkp`.
    pub fn permit_action(mut self, pkp: PkpPublicKey, cid: &str) -> Self {
        let permits = self.permits_mut(pkp);
        if !permits.actions.iter().any(|c| c == cid) {
            permits.actions.push(cid.to_owned());
        }
        self
    }

    fn permits_mut(&mut self, pkp: PkpPublicKey) -> &mut PkpPermits {
        let at = match self.pkps.iter().position(|(k, _)| *k == pkp) {
            Some(at) => at,
            None => {
                self.pkps.push((pkp, PkpPermits::default()));
                self.pkps.len() - 1
            }
        };
        &mut self.pkps[at].1
    }
}

/// The auth methods a PKP permits (with the signing scopes nodes require, which the simulator
/// takes as granted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PkpPermits {
    /// Wallets permitted as EOA auth methods (type 1).
    pub wallets: Vec<Address>,
    /// IPFS ids (CIDv0) of Lit Actions permitted as auth methods (type 2).
    pub actions: Vec<String>,
}

/// A node's share of the network's BLS key, dealt from a seed
/// ([`lit_companion_session::bls::KeyShare::deal`]): nodes dealt from the same seed hold shares
/// of one key, any `threshold` of whose signature shares combine.
#[derive(Clone)]
pub struct NodeBls {
    share: Arc<KeyShare>,
    network_key: NetworkKey,
}

impl NodeBls {
    /// Share `share` (1..=`of`) of the key dealt from `seed`.
    pub fn deal(seed: &[u8], share: u16, of: u16, threshold: u16) -> Result<Self, BlsError> {
        let seed = Zeroizing::new(seed.to_vec());
        Ok(Self {
            share: Arc::new(KeyShare::deal(&seed, share, of, threshold)?),
            network_key: network_key_from_seed(&seed)?,
        })
    }

    /// The network key (the handshake's `networkPublicKey`, the answers' `blsRootPubkey`).
    pub fn network_key(&self) -> &NetworkKey {
        &self.network_key
    }

    /// The share's 1-based index.
    pub fn index(&self) -> u16 {
        self.share.index()
    }
}

impl std::fmt::Debug for NodeBls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeBls")
            .field("index", &self.share.index())
            .field("network_key", &self.network_key)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Node {
    address: String,
    config: NodeConfig,
    /// Naga's X25519 identity key (`nodeIdentityKey`), new for every process; it never rotates
    /// here.
    identity: IdentitySecret,
    /// Requests received, by path (every path, known or not; not `CALLS_PATH` itself).
    calls: Mutex<BTreeMap<String, u64>>,
}

/// The node's routes, for a node listening at `address` (`host:port`).
pub fn router(address: SocketAddr, config: NodeConfig) -> Router {
    let node = Arc::new(Node {
        address: address.to_string(),
        config,
        identity: IdentitySecret::generate(),
        calls: Mutex::new(BTreeMap::new()),
    });
    Router::new()
        // The SDKs (v7 and v8) post to the path with a trailing slash.
        .route("/web/handshake", post(handshake))
        .route("/web/handshake/", post(handshake))
        .route("/get_most_recent_valid_block", get(latest_block))
        .route("/web/sign_session_key/v1", post(sign_session_key_v1))
        .route("/web/sign_session_key/v2", post(sign_session_key_v2))
        .route("/web/pkp/sign", post(pkp_sign))
        .route("/web/execute", post(execute))
        .route("/web/encryption/sign", post(decrypt))
        .route(CALLS_PATH, get(calls))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(node.clone(), count))
        .with_state(node)
}

async fn count(State(node): State<Arc<Node>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if path != CALLS_PATH {
        let mut calls = node.calls.lock().unwrap_or_else(PoisonError::into_inner);
        *calls.entry(path.to_owned()).or_default() += 1;
    }
    next.run(request).await
}

async fn calls(State(node): State<Arc<Node>>) -> Response {
    let calls = node
        .calls
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    Json(calls).into_response()
}

async fn not_found() -> Response {
    StatusCode::NOT_FOUND.into_response()
}

/// Starts a node on a free loopback port; returns its URL.
pub async fn spawn(config: NodeConfig) -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let local = listener.local_addr()?;
    let app = router(local, config);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{local}"))
}

async fn handshake(State(node): State<Arc<Node>>, Json(body): Json<Value>) -> Response {
    tokio::time::sleep(node.config.delay).await;
    if node.config.fail_handshake {
        return (StatusCode::INTERNAL_SERVER_ERROR, "handshake failure").into_response();
    }
    // Naga rejects a handshake without a challenge; Datil defaults it.
    let challenge = body.get("challenge").and_then(Value::as_str);
    if node.config.network.generation() == lit_companion_session::Generation::Naga
        && challenge.is_none()
    {
        return (StatusCode::BAD_REQUEST, "missing challenge").into_response();
    }
    // lit-peer `web_client::handshake`: the first BLS root key, three times.
    let root = node
        .config
        .bls
        .as_ref()
        .map_or_else(|| "sim".to_owned(), |b| b.network_key.to_hex());
    let data = json!({
        "serverPublicKey": "sim",
        "subnetPublicKey": root,
        "networkPublicKey": root,
        "networkPublicKeySet": root,
        "clientSdkVersion": "sim",
        "hdRootPubkeys": [],
        "attestation": null,
        "latestBlockhash": node.config.blockhash,
    });
    match node.config.network.generation() {
        lit_companion_session::Generation::Datil => Json(data).into_response(),
        lit_companion_session::Generation::Naga => {
            let mut data = data;
            data["nodeVersion"] = json!("sim");
            data["nodeIdentityKey"] = json!(node.identity.public_key().to_hex());
            data["epoch"] = json!(1);
            Json(json!({ "ok": true, "error": null, "errorObject": null, "data": data }))
                .into_response()
        }
    }
}

/// `GET /get_most_recent_valid_block`: the block-indexer's answer, `{blockhash, timestamp}`
/// (Unix seconds), for the block this node reports; the SDKs fetch their SIWE nonce there.
async fn latest_block(State(node): State<Arc<Node>>) -> Response {
    tokio::time::sleep(node.config.delay).await;
    let time = node
        .config
        .block_time
        .unwrap_or_else(time::OffsetDateTime::now_utc);
    Json(json!({
        "blockhash": node.config.blockhash,
        "timestamp": time.unix_timestamp(),
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PkpSign {
    auth_sig: SessionSig,
    pubkey: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Execute {
    auth_sig: SessionSig,
    ipfs_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Decrypt {
    auth_sig: SessionSig,
    hash_of_conditions: String,
    data_to_encrypt_hash: String,
}

/// The PKP's token id as the node derives it: keccak256 of the 65-byte public key.
fn token_id(pubkey: &str) -> Option<String> {
    let bytes = hex::decode(pubkey.strip_prefix("0x").unwrap_or(pubkey)).ok()?;
    (bytes.len() == 65).then(|| hex::encode(Keccak256::digest(&bytes)))
}

async fn pkp_sign(State(node): State<Arc<Node>>, Json(body): Json<PkpSign>) -> Response {
    let Some(id) = token_id(&body.pubkey) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "pubkey is not 65 bytes of hex",
        );
    };
    check(
        &node,
        &body.auth_sig,
        ResourcePrefix::Pkp,
        &id,
        Ability::PkpSigning,
    )
    .await
}

async fn execute(State(node): State<Arc<Node>>, Json(body): Json<Execute>) -> Response {
    check(
        &node,
        &body.auth_sig,
        ResourcePrefix::LitAction,
        &body.ipfs_id,
        Ability::LitActionExecution,
    )
    .await
}

async fn decrypt(State(node): State<Arc<Node>>, Json(body): Json<Decrypt>) -> Response {
    let id = format!("{}/{}", body.hash_of_conditions, body.data_to_encrypt_hash);
    check(
        &node,
        &body.auth_sig,
        ResourcePrefix::AccessControlCondition,
        &id,
        Ability::AccessControlConditionDecryption,
    )
    .await
}

async fn check(
    node: &Node,
    entry: &SessionSig,
    prefix: ResourcePrefix,
    id: &str,
    ability: Ability,
) -> Response {
    tokio::time::sleep(node.config.delay).await;
    let request =
        match LitResource::new(prefix, id).and_then(|r| ResourceAbilityRequest::new(r, ability)) {
            Ok(r) => r,
            Err(e) => return refuse(StatusCode::BAD_REQUEST, "bad_request", &e.to_string()),
        };
    let ctx = NodeContext {
        node_address: &node.address,
        generation: node.config.network.generation(),
        now: time::OffsetDateTime::now_utc(),
        request: Some(&request),
        network_key: node.config.bls.as_ref().map(|b| &b.network_key),
    };
    match verify_session_sig(entry, &ctx) {
        Ok(session) => Json(json!({
            "success": true,
            "resource": request.resource.key(),
            "wallet": session.wallet.to_checksum(),
            "sessionKey": session.session_key.to_hex(),
        }))
        .into_response(),
        Err(e) => refuse(StatusCode::UNAUTHORIZED, e.code(), &e.to_string()),
    }
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "success": false, "errorCode": code, "message": message })),
    )
        .into_response()
}

/// Datil: the plain JSON body, the plain answer (an error is the node's `PublicError`).
async fn sign_session_key_v1(State(node): State<Arc<Node>>, body: Bytes) -> Response {
    tokio::time::sleep(node.config.delay).await;
    if node.config.network.generation() != Generation::Datil {
        return StatusCode::NOT_FOUND.into_response();
    }
    let request: RequestV1 = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return unprocessable(&e).into_response(),
    };
    let now = time::OffsetDateTime::now_utc();
    match sign_session_key::sign(&node, request, Version::V1, now) {
        Ok(data) => Json(data).into_response(),
        Err(e) => (e.status(), Json(e.public())).into_response(),
    }
}

/// Naga: the body sealed to this node's identity key; the answer, a `GenericResponse`, sealed
/// back to the client's key (lit-peer `endpoints/versions/v2.rs`, `client_session.rs`). What
/// fails before the body opens is answered in clear.
async fn sign_session_key_v2(State(node): State<Arc<Node>>, body: Bytes) -> Response {
    tokio::time::sleep(node.config.delay).await;
    if node.config.network.generation() != Generation::Naga {
        return StatusCode::NOT_FOUND.into_response();
    }
    let envelope: Envelope = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => return unprocessable(&e).into_response(),
    };
    let (request, client) = match e2ee::open_request::<RequestV2>(&node.identity, &envelope) {
        Ok(opened) => opened,
        Err(e) => {
            let error =
                NodeError::uncoded("can't decrypt", Kind::Unexpected, e.to_string()).generic();
            return (StatusCode::INTERNAL_SERVER_ERROR, Json(error)).into_response();
        }
    };
    let now = time::OffsetDateTime::now_utc();
    let (status, answer) = match sign_session_key::sign(&node, request.common, Version::V2, now) {
        Ok(data) => (
            StatusCode::OK,
            json!({ "ok": true, "error": null, "errorObject": null, "data": data }),
        ),
        Err(e) => (e.status(), e.generic()),
    };
    match e2ee::seal_response(&node.identity, &client, &answer) {
        Ok(sealed) => (status, Json(sealed)).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(NodeError::uncoded("can't encrypt", Kind::Unexpected, String::new()).generic()),
        )
            .into_response(),
    }
}

/// A body that does not deserialize (Rocket's JSON guard: 422).
fn unprocessable(e: &serde_json::Error) -> (StatusCode, Json<Value>) {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({
            "errorKind": "Parser",
            "status": 422,
            "message": "The request body could not be parsed.",
            "details": [e.to_string()],
        })),
    )
}
