//! Issuance: a `getSessionSigs` request from parameters to sessionSigs — reuse what the user
//! already granted ([`lit_companion_vault::Vault::session_for`]), or ask about what is new,
//! then have the nodes' nonce signed into a new AuthSig (by a local wallet here, or by a browser
//! wallet in the page: `walletSignature`), and hand out one sessionSig per node.

use std::sync::Arc;

use lit_companion_session::{
    resource::list_requests,
    timefmt::{iso_millis, truncate_millis},
    Address,
};
use lit_companion_vault::{
    Grantee, Issuance, LiveSession, Need, NewSession, SignRequest, VaultError,
};
use lit_companion_wire::{BridgeError, ErrorCode, WalletSignatureParams};
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{
    errors::{net_error, vault_error},
    params::ValidParams,
    wallet_step::{self, Handout, Signer, StepLimits},
    Engine, Handled,
};
use crate::caller::Caller;

/// What an approval made: a stored session and the nodes that completed the handshake, or the
/// step a browser wallet is to take.
pub(super) enum Created {
    Live(Arc<LiveSession>, Vec<String>),
    WalletStep(Value),
}

/// A new session: stored (a local wallet signed), or waiting for a browser wallet.
enum Made {
    Stored(Arc<LiveSession>),
    Prepared(Box<lit_companion_vault::PreparedSession>),
}

impl Engine {
    pub(super) async fn get_session_sigs(
        &self,
        caller: &Caller,
        params: Value,
    ) -> Result<Handled, BridgeError> {
        let now = truncate_millis(OffsetDateTime::now_utc());
        let mut p = ValidParams::parse(params, now, &self.settings, &self.networks)?;
        let network = p.network.name.as_str();
        if !self.network_on(network) {
            return Err(ValidParams::not_served(network));
        }
        // Everything that depends on the request alone is checked before anything that depends
        // on the vault: an answer before the prompt never tells what the vault holds.
        p.nodes = self.member_nodes(&p).await?;
        let capabilities = list_requests(&p.requests);
        let origin = caller.grant_key().to_string();
        let (wallet, has_wallet) = match (&p.pkp, p.named_wallet()) {
            (Some(pkp), _) => (pkp.key.address(), true),
            (None, Some(w)) => (w, true),
            (None, None) => match self.default_wallet()? {
                Some(w) => (w, true),
                None => (Address([0; 20]), false),
            },
        };
        let who = Grantee {
            origin: &origin,
            network,
            wallet,
        };
        let need = Need::at(&p.requests, now, p.max_price_wei);
        // The cached path touches neither the keychain nor a file: answered on this task. Only
        // a key not yet in memory is read from the keychain, off the async threads. A claimed
        // identity (a deep link) reuses nothing: the user confirms it every time.
        let cached = if !has_wallet {
            Some(Issuance::Ask(lit_companion_vault::Ask::unverified(
                &p.requests,
            )))
        } else if caller.is_verified() {
            self.vault
                .session_from_memory(&who, &need)
                .map_err(vault_error)?
        } else {
            Some(Issuance::Ask(lit_companion_vault::Ask::unverified(
                &p.requests,
            )))
        };
        let issuance = match cached {
            Some(issuance) => issuance,
            None => {
                let (origin, requests, network) =
                    (origin.clone(), p.requests.clone(), network.to_owned());
                let price = p.max_price_wei;
                self.blocking(move |v| {
                    let who = Grantee {
                        origin: &origin,
                        network: &network,
                        wallet,
                    };
                    let need = Need::at(&requests, now, price);
                    v.session_for(&who, &need)
                })
                .await?
            }
        };
        let (live, nodes, reused) = match issuance {
            Issuance::Live(live) => {
                let ready = self
                    .networks
                    .reachable(&p.network, &p.nodes)
                    .await
                    .map_err(|e| net_error(&p.network, e))?;
                (live, ready, true)
            }
            Issuance::Ask(ask) => {
                let signer = if let Some(pkp) = &p.pkp {
                    let record = self.vault.pkp(&pkp.key).map_err(vault_error)?;
                    Signer::for_pkp(
                        caller,
                        pkp.key,
                        record,
                        |a| self.vault.wallet(&a).ok().flatten(),
                        pkp.lit_action.clone(),
                    )
                } else if has_wallet {
                    let record = self.vault.wallet(&wallet).map_err(vault_error)?;
                    Signer::decide(
                        caller,
                        wallet,
                        record,
                        p.external.as_ref().map(|e| e.name.as_str()),
                    )?
                } else {
                    Signer::no_wallet_yet()
                };
                let ask = match signer {
                    Signer::Browser { .. } => ask.only_requested(&p.requests),
                    _ => ask,
                };
                match self
                    .approve_and_create(caller, &p, wallet, &signer, ask, now)
                    .await?
                {
                    Created::Live(live, nodes) => (live, nodes, false),
                    Created::WalletStep(step) => {
                        return Ok(Handled {
                            result: step,
                            capabilities,
                            decision: "approved; the browser wallet is to sign",
                        })
                    }
                }
            }
        };
        let result = self.hand_out(
            &live,
            &SignRequest {
                generation: p.network.generation,
                requests: &p.requests,
                nodes: &nodes,
                now,
                expiration: p.expiration,
                delegations: &p.delegations,
                max_price_wei: p.max_price_wei,
            },
            reused,
        )?;
        Ok(Handled {
            result,
            capabilities,
            decision: if reused { "reused" } else { "approved" },
        })
    }

    /// The sessionSigs of `live` for `request`, and what goes with them.
    fn hand_out(
        &self,
        live: &LiveSession,
        request: &SignRequest<'_>,
        reused: bool,
    ) -> Result<Value, BridgeError> {
        let sigs = live.sign(request).map_err(vault_error)?;
        if reused {
            self.vault.note_reuse(live);
        }
        let expiration = live
            .expiration_for(request.expiration)
            .and_then(|t| iso_millis(t).map_err(|e| VaultError::Internal(e.to_string())))
            .map_err(vault_error)?;
        Ok(json!({
            "sessionSigs": sigs,
            "wallet": live.record.wallet,
            "sessionKey": live.record.public_key,
            "expiration": expiration,
            "reused": reused,
        }))
    }

    /// The browser wallet's answer to a `signWithWallet` step: its signature is checked and the
    /// session stored (or nothing, on any error), then the sessionSigs are handed out.
    pub(super) async fn wallet_signature(
        &self,
        caller: &Caller,
        params: Value,
    ) -> Result<Handled, BridgeError> {
        let p: WalletSignatureParams = serde_json::from_value(params)
            .map_err(|e| BridgeError::new(ErrorCode::BadRequest, format!("invalid params: {e}")))?;
        let step = self.steps.take(&p.ticket, caller)?;
        let capabilities = list_requests(&step.handout.requests);
        if p.rejected {
            return Err(BridgeError::new(
                ErrorCode::UserRejected,
                "your browser wallet declined to sign; nothing was stored",
            ));
        }
        let Some(signature) = p.signature else {
            return Err(BridgeError::new(
                ErrorCode::BadRequest,
                "walletSignature needs a signature, or rejected: true",
            ));
        };
        let wallet_step::Step {
            prepared,
            add_as,
            handout,
            pkp,
            ..
        } = step;
        let live = match pkp {
            Some(pkp) => self.finish_pkp_step(pkp, prepared, &signature).await?,
            None => {
                self.blocking(move |v| {
                    v.finish_external_session(prepared, &signature, add_as.as_deref())
                })
                .await?
            }
        };
        let result = self.hand_out(
            &live,
            &SignRequest {
                generation: handout.generation,
                requests: &handout.requests,
                nodes: &handout.nodes,
                now: truncate_millis(OffsetDateTime::now_utc()),
                expiration: handout.expiration,
                delegations: &handout.delegations,
                max_price_wei: handout.max_price_wei,
            },
            false,
        )?;
        Ok(Handled {
            result,
            capabilities,
            decision: "signed by the browser wallet",
        })
    }

    /// The nodes a request is signed for: those it names, each a member of the network's
    /// current set (refused with 4400 otherwise, before anything is contacted but the
    /// network's own RPC, and before the vault is read), or the whole set.
    async fn member_nodes(&self, p: &ValidParams) -> Result<Vec<String>, BridgeError> {
        let set = self
            .networks
            .node_set(&p.network)
            .await
            .map_err(|e| net_error(&p.network, e))?;
        if p.nodes.is_empty() {
            return Ok(set.nodes.clone());
        }
        if let Some(stranger) = p.nodes.iter().find(|n| !set.nodes.contains(n)) {
            return Err(BridgeError::new(
                ErrorCode::BadRequest,
                format!(
                    "{stranger} is not a node of {}; leave nodeUrls out to use the network's nodes",
                    p.network.name,
                ),
            ));
        }
        Ok(p.nodes.clone())
    }

    /// Asks the user about what is new, then creates the session they approved. The pending
    /// limits come first and the nodes are contacted only once the user said yes: a request
    /// that is refused reaches nothing but (when its node set is stale) the network's RPC.
    /// Answers the new session and the nodes that completed the handshake, or (a browser
    /// wallet signs) the step the page is to take.
    async fn approve_and_create(
        &self,
        caller: &Caller,
        p: &ValidParams,
        wallet: Address,
        signer: &Signer,
        ask: lit_companion_vault::Ask,
        now: OffsetDateTime,
    ) -> Result<Created, BridgeError> {
        let slot = self.pending_slot(caller)?;
        let request = self.approval_request(caller, p, wallet, signer, &ask, now)?;
        let asked = p.expiration - now;
        let approved = self.ask(request).await?;
        drop(slot);
        // What the vault made impossible is told only now that the user has seen the request.
        if let Signer::Unavailable(e) = signer {
            return Err(e.clone());
        }
        let approved = time::Duration::try_from(approved).unwrap_or(asked);
        let expiration = now + approved.min(asked);
        if let Signer::Pkp { key, auth, .. } = signer {
            return self
                .create_pkp(caller, p, key, auth, ask.grant, now, expiration)
                .await;
        }
        let agreement = self
            .networks
            .agree(&p.network, &p.nodes)
            .await
            .map_err(|e| net_error(&p.network, e))?;
        let (origin, domain, statement, network, price) = (
            caller.grant_key().to_string(),
            caller.siwe_domain(),
            p.statement.clone(),
            p.network.name.to_string(),
            p.max_price_wei,
        );
        let nonce = agreement.nonce;
        let local = matches!(signer, Signer::Local);
        let made = self
            .blocking(move |v| {
                let who = Grantee {
                    origin: &origin,
                    network: &network,
                    wallet,
                };
                let session = NewSession {
                    domain: &domain,
                    statement: &statement,
                    nonce: &nonce,
                    now,
                    expiration,
                    max_price_wei: price,
                };
                // A browser wallet signs in the page: nothing is stored yet, and the new key
                // waits in memory for the wallet's signature.
                if local {
                    v.create_session(&who, &ask.grant, &session)
                        .map(Made::Stored)
                } else {
                    v.prepare_session(&who, &ask.grant, &session)
                        .map(|p| Made::Prepared(Box::new(p)))
                }
            })
            .await?;
        let prepared = match made {
            Made::Stored(live) => return Ok(Created::Live(live, agreement.nodes)),
            Made::Prepared(prepared) => *prepared,
        };
        let add_as = match signer {
            Signer::Browser { label, add: true } => Some(label.clone()),
            _ => None,
        };
        self.wallet_step(
            caller,
            p,
            prepared,
            add_as,
            agreement.nodes,
            expiration,
            None,
        )
    }

    /// Keeps `prepared` for the page's wallet and answers the `signWithWallet` step: the
    /// session's AuthSig (or, for a PKP, the sign-in in `pkp`) is signed in the page, and the
    /// sessionSigs for `nodes` follow the signature.
    #[allow(clippy::too_many_arguments, reason = "one step, its inputs named")]
    pub(super) fn wallet_step(
        &self,
        caller: &Caller,
        p: &ValidParams,
        prepared: lit_companion_vault::PreparedSession,
        add_as: Option<String>,
        nodes: Vec<String>,
        expiration: OffsetDateTime,
        pkp: Option<super::pkp::PkpStep>,
    ) -> Result<Created, BridgeError> {
        let step = self.steps.start(
            caller,
            prepared,
            add_as,
            Handout {
                generation: p.network.generation,
                requests: p.requests.clone(),
                nodes,
                // The lifetime the user approved: never past the AuthSig the wallet signs.
                expiration,
                delegations: p.delegations.clone(),
                max_price_wei: p.max_price_wei,
            },
            StepLimits {
                lifetime: self.settings.approval_timeout,
                total: self.settings.max_pending,
                per_site: self.settings.max_pending_per_caller,
            },
            pkp,
        )?;
        Ok(Created::WalletStep(step))
    }

    fn default_wallet(&self) -> Result<Option<Address>, BridgeError> {
        self.vault.default_wallet().map_err(vault_error)
    }
}

#[cfg(test)]
mod tests {
    //! The issuance flow on its own: an engine over a vault whose keychain is in memory, one
    //! simulated node, and an approver that counts what it is asked.
    #![allow(clippy::unwrap_used, reason = "test")]

    use std::{
        future::Future,
        path::PathBuf,
        pin::Pin,
        sync::{
            atomic::{AtomicUsize, Ordering},
            Arc,
        },
        time::Duration,
    };

    use lit_companion_net::{LitNetClient, NetworkSpec, Networks};
    use lit_companion_node_sim::{spawn, NodeConfig};
    use lit_companion_session::{Generation, Network, Origin};
    use lit_companion_testkit::MemoryKeychain;
    use lit_companion_vault::Vault;
    use serde_json::{json, Value};
    use time::OffsetDateTime;

    use crate::{
        approver::{ApprovalRequest, Approver, Decision},
        caller::{Caller, Road},
        engine::{Engine, EngineSettings},
    };

    const WALLET_KEY: &str = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

    /// Says yes (to the lifetime asked) or no, and counts the questions.
    struct Counting {
        yes: bool,
        asked: AtomicUsize,
    }

    impl Approver for Counting {
        fn approve(
            &self,
            request: ApprovalRequest,
        ) -> Pin<Box<dyn Future<Output = Decision> + Send + '_>> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            let decision = if self.yes {
                Decision::Approve {
                    lifetime: request.lifetime,
                }
            } else {
                Decision::Reject {
                    reason: "test".into(),
                }
            };
            Box::pin(async move { decision })
        }
    }

    struct Fixture {
        engine: Engine,
        approver: Arc<Counting>,
        dir: PathBuf,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    async fn fixture(name: &str, yes: bool, wallet: bool) -> Fixture {
        let dir = std::env::temp_dir().join(format!("lit-issue-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let now = OffsetDateTime::now_utc();
        let (vault, _) = Vault::open(&dir, Arc::new(MemoryKeychain::default()), now).unwrap();
        if wallet {
            vault.import_wallet(WALLET_KEY, "Main", now).unwrap();
        }
        let node = spawn(NodeConfig::new(Network::DatilDev)).await.unwrap();
        let sim = NetworkSpec::custom("sim", Generation::Datil, &[node], None).unwrap();
        let net = LitNetClient::new(Duration::from_secs(2), 1).unwrap();
        let networks = Arc::new(Networks::with_custom(net, vec![sim]).unwrap());
        let approver = Arc::new(Counting {
            yes,
            asked: AtomicUsize::new(0),
        });
        let engine = Engine::new(
            Arc::new(vault),
            networks,
            approver.clone(),
            EngineSettings::default(),
        );
        Fixture {
            engine,
            approver,
            dir,
        }
    }

    fn caller() -> Caller {
        Caller::verified(
            Origin::parse("https://app.example.com").unwrap(),
            Road::Http,
        )
    }

    async fn ask(f: &Fixture, pkps: &[u8]) -> Value {
        let requests: Vec<Value> = pkps
            .iter()
            .map(|n| json!({"resource": {"resource": format!("{n:064x}"), "resourcePrefix": "lit-pkp"}, "ability": "pkp-signing"}))
            .collect();
        let body = json!({"v": 1, "id": "1", "method": "getSessionSigs",
            "params": {"network": "sim", "resourceAbilityRequests": requests}});
        let resp = f
            .engine
            .handle(&caller(), body.to_string().as_bytes())
            .await;
        serde_json::to_value(resp).unwrap()
    }

    fn code(v: &Value) -> u64 {
        v["error"]["code"].as_u64().unwrap_or(0)
    }

    #[tokio::test]
    async fn without_a_wallet_the_user_sees_the_request_first_and_nothing_is_stored() {
        // Whether the vault holds a wallet is told to the page only after the prompt: an
        // approval then answers 4601, and nothing is made.
        let f = fixture("nowallet", true, false).await;
        let v = ask(&f, &[1]).await;
        assert_eq!(code(&v), 4601, "{v}");
        assert_eq!(f.approver.asked.load(Ordering::SeqCst), 1);
        assert!(f.engine.vault().sessions().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_rejected_approval_stores_nothing() {
        let f = fixture("rejected", false, true).await;
        let v = ask(&f, &[1]).await;
        assert_eq!(code(&v), 4001, "{v}");
        assert_eq!(f.approver.asked.load(Ordering::SeqCst), 1);
        assert!(f.engine.vault().sessions().unwrap().is_empty());
    }

    #[tokio::test]
    async fn approved_once_then_reused_then_asked_only_for_more() {
        let f = fixture("reuse", true, true).await;
        let first = ask(&f, &[1]).await;
        assert_eq!(first["result"]["reused"], false, "{first}");
        let key = first["result"]["sessionKey"].clone();
        let again = ask(&f, &[1]).await;
        assert_eq!(again["result"]["reused"], true, "{again}");
        assert_eq!(again["result"]["sessionKey"], key, "the same session");
        assert_eq!(
            f.approver.asked.load(Ordering::SeqCst),
            1,
            "reuse asks nobody"
        );
        let more = ask(&f, &[1, 2]).await;
        assert_eq!(more["result"]["reused"], false, "{more}");
        assert_ne!(
            more["result"]["sessionKey"], key,
            "a new session for the wider grant"
        );
        assert_eq!(f.approver.asked.load(Ordering::SeqCst), 2);
        let live: Vec<_> = f
            .engine
            .vault()
            .sessions()
            .unwrap()
            .into_iter()
            .filter(|s| s.state == lit_companion_vault::metadata::RecordState::Live)
            .collect();
        assert_eq!(live.len(), 1, "the narrower session was replaced");
        assert_eq!(live[0].granted.len(), 2);
    }

    #[tokio::test]
    async fn a_paused_engine_answers_4900_before_anything_else() {
        let f = fixture("paused", true, true).await;
        f.engine.set_paused(true);
        let v = ask(&f, &[1]).await;
        assert_eq!(code(&v), 4900, "{v}");
        assert_eq!(f.approver.asked.load(Ordering::SeqCst), 0);
        f.engine.set_paused(false);
        assert!(ask(&f, &[1]).await["result"]["sessionSigs"].is_object());
    }
}
