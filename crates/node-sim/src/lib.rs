//! A local Lit node simulator for tests: stands in for one Lit node on loopback, because the Lit
//! network cannot be reached from the test machines. It answers the handshake (Datil's bare
//! shape or Naga's wrapped one) and accepts or refuses sessionSigs on the signing endpoints with
//! the same checks a node runs (`lit_companion_session::verify`, which follows lit-node's
//! `validate_session_sig`). It can be slow, fail its handshake, or report another block hash.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::post,
    Json, Router,
};
use lit_companion_session::{
    verify::{verify_session_sig, NodeContext},
    Ability, LitResource, Network, ResourceAbilityRequest, ResourcePrefix, SessionSig,
};
use serde::Deserialize;
use serde_json::{json, Value};
use sha3::{Digest, Keccak256};

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
}

impl NodeConfig {
    /// A well-behaved node of `network`.
    pub fn new(network: Network) -> Self {
        Self {
            network,
            blockhash: DEFAULT_BLOCKHASH.to_owned(),
            delay: Duration::ZERO,
            fail_handshake: false,
        }
    }
}

#[derive(Debug)]
struct Node {
    address: String,
    config: NodeConfig,
}

/// The node's routes, for a node listening at `address` (`host:port`).
pub fn router(address: SocketAddr, config: NodeConfig) -> Router {
    let node = Arc::new(Node {
        address: address.to_string(),
        config,
    });
    Router::new()
        .route("/web/handshake", post(handshake))
        .route("/web/pkp/sign", post(pkp_sign))
        .route("/web/execute", post(execute))
        .route("/web/encryption/sign", post(decrypt))
        .with_state(node)
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
    let data = json!({
        "serverPublicKey": "sim",
        "subnetPublicKey": "sim",
        "networkPublicKey": "sim",
        "networkPublicKeySet": "sim",
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
            data["nodeIdentityKey"] = json!("sim");
            data["epoch"] = json!(1);
            Json(json!({ "ok": true, "error": null, "errorObject": null, "data": data }))
                .into_response()
        }
    }
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
        network_key: None,
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
