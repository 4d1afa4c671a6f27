//! The window's commands, answered here (the window is another process, `lit-companion-app`,
//! which relays each call over the control road): each parses its arguments, calls a core crate,
//! and maps the error to a sentence for the screen. The names and arguments are those the web UI
//! (`ui/app.js`) passes to `invoke`.

use std::{path::PathBuf, sync::Arc, time::Duration};

use lit_companion_bridge::Decision;
use lit_companion_native_host::install::{self, Browser};
use lit_companion_platform::autostart::LoginItem;
use lit_companion_session::{explain::describe_requests, Address, PkpPublicKey};
use lit_companion_vault::{Revoke, Vault, VaultError};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::{json, Value};

use super::{now, Desktop};
use crate::{login, network_view, AppSettings, CustomNetwork};

type Answer<T> = Result<T, String>;

fn say(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Answers the window's command `cmd` with arguments `args` (a JSON object, as `invoke` sent it).
/// An unknown command or arguments of the wrong shape are refused in words.
pub async fn call(s: &Arc<Desktop>, cmd: &str, args: Value) -> Answer<Value> {
    fn to<T: Serialize>(v: T) -> Answer<Value> {
        serde_json::to_value(v).map_err(say)
    }
    match cmd {
        "status" => status(s).await,
        "wallets" => wallets(s).await,
        "create_wallet" => {
            let a: Label = parse(cmd, args)?;
            to(vault(s, move |v| {
                v.create_wallet(&a.label, now()).map(|a| a.to_checksum())
            })
            .await?)
        }
        "import_wallet" => to(import_wallet(s, parse(cmd, args)?).await?),
        "add_external_wallet" => to(add_external_wallet(s, parse(cmd, args)?).await?),
        "add_pkp" => to(add_pkp(s, parse(cmd, args)?).await?),
        "label_wallet" => {
            let a: AddressLabel = parse(cmd, args)?;
            let address = Address::parse_any_case(&a.address).map_err(say)?;
            to(vault(s, move |v| v.label_wallet(&address, &a.label)).await?)
        }
        "remove_wallet" => {
            let a: AddressArg = parse(cmd, args)?;
            let address = Address::parse_any_case(&a.address).map_err(say)?;
            to(vault(s, move |v| v.remove_wallet(&address, now())).await?)
        }
        "sessions" => sessions(s).await,
        "revoke" => to(revoke(s, parse(cmd, args)?).await?),
        "history" => to(vault(s, |v| v.activity(now())).await?),
        "prompts" => to(prompts(s)),
        "answer_prompt" => to(answer_prompt(s, parse(cmd, args)?)),
        "settings" => {
            let settings = s.settings();
            Ok(json!({ "settings": settings, "problem": s.settings_problem() }))
        }
        "save_settings" => {
            let a: SettingsArg = parse(cmd, args)?;
            to(blocking(s, move |s| s.save_settings(a.settings)).await?)
        }
        "set_paused" => {
            let a: PausedArg = parse(cmd, args)?;
            to(blocking(s, move |s| s.set_paused(a.paused)).await?)
        }
        "start_at_login" => to(blocking(s, |_| {
            LoginItem::for_user()
                .map(|item| login::state(&item))
                .map_err(say)
        })
        .await?),
        "set_start_at_login" => {
            let a: OnArg = parse(cmd, args)?;
            to(blocking(s, move |s| {
                let item = LoginItem::for_user().map_err(say)?;
                let program = super::login_program()?;
                login::set(&s.settings_file, &item, &program, a.on).map_err(say)
            })
            .await?)
        }
        "networks" => networks(s),
        "add_network" => {
            let a: NetworkArg = parse(cmd, args)?;
            to(blocking(s, move |s| {
                s.update_settings(|settings| settings.add_network(a.network).map(drop))
            })
            .await?)
        }
        "remove_network" => {
            let a: NameArg = parse(cmd, args)?;
            to(blocking(s, move |s| {
                s.update_settings(|settings| settings.remove_network(&a.name))
            })
            .await?)
        }
        "refresh_network" => refresh_network(s, parse(cmd, args)?).await,
        "pairings" => pairings(s).await,
        "create_pairing" => {
            let a: NameArg = parse(cmd, args)?;
            to(vault(s, move |v| {
                v.create_pairing(&a.name, now())
                    .map(|t| t.as_str().to_owned())
            })
            .await?)
        }
        "revoke_pairing" => {
            let a: NameArg = parse(cmd, args)?;
            to(vault(s, move |v| v.revoke_pairing(&a.name, now())).await?)
        }
        "browser_doctor" => browser_doctor().await,
        "browser_hosts" => to(browser_hosts().await?),
        "install_browser_host" => to(install_browser_host().await?),
        other => Err(format!("the companion has no command {other:?}")),
    }
}

/// Whether a successful `cmd` changed what the header and the tray show (pause, settings).
pub fn changes_status(cmd: &str) -> bool {
    matches!(cmd, "save_settings" | "set_paused")
}

fn parse<T: DeserializeOwned>(cmd: &str, args: Value) -> Answer<T> {
    let args = if args.is_null() { json!({}) } else { args };
    serde_json::from_value(args).map_err(|e| format!("{cmd}: {e}"))
}

#[derive(Deserialize)]
struct Label {
    label: String,
}

#[derive(Deserialize)]
struct AddressArg {
    address: String,
}

#[derive(Deserialize)]
struct AddressLabel {
    address: String,
    label: String,
}

#[derive(Deserialize)]
struct NameArg {
    name: String,
}

#[derive(Deserialize)]
struct OnArg {
    on: bool,
}

#[derive(Deserialize)]
struct PausedArg {
    paused: bool,
}

#[derive(Deserialize)]
struct SettingsArg {
    settings: AppSettings,
}

#[derive(Deserialize)]
struct NetworkArg {
    network: CustomNetwork,
}

/// Runs vault work (keychain, files) on a blocking thread, never on the async threads, which
/// serve the roads.
async fn vault<T: Send + 'static>(
    s: &Arc<Desktop>,
    f: impl FnOnce(&Vault) -> Result<T, VaultError> + Send + 'static,
) -> Answer<T> {
    let vault = s.vault.clone();
    tokio::task::spawn_blocking(move || f(&vault))
        .await
        .map_err(say)?
        .map_err(say)
}

/// Runs work that needs the desktop's services (settings files, the login entry) on a blocking
/// thread.
async fn blocking<T: Send + 'static>(
    s: &Arc<Desktop>,
    f: impl FnOnce(&Desktop) -> Answer<T> + Send + 'static,
) -> Answer<T> {
    let s = s.clone();
    tokio::task::spawn_blocking(move || f(&s))
        .await
        .map_err(say)?
}

#[derive(Serialize)]
struct Prompt {
    id: u64,
    request: lit_companion_bridge::ApprovalRequest,
    dangerous: bool,
    /// The prompt's words, from the core's one renderer (what `serve` prints on a terminal).
    sections: Vec<lit_companion_bridge::Section>,
}

/// Keychain state, roads, pause and version: the header and the settings screen.
/// The keychain is read to learn its state (a probe item, written once, holds no secret).
async fn status(s: &Arc<Desktop>) -> Answer<Value> {
    let checked = vault(s, |v| Ok(v.check_keychain())).await?;
    let keychain = match checked {
        Ok(()) => json!({ "ok": true }),
        Err(e) => json!({ "ok": false, "code": e.code(), "message": e.to_string() }),
    };
    let roads: Vec<String> = match s.companion.lock().await.as_ref() {
        Some(c) => c.roads().iter().map(ToString::to_string).collect(),
        None => Vec::new(),
    };
    Ok(json!({
        "keychain": keychain,
        "roads": roads,
        "paused": s.engine.is_paused(),
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

async fn wallets(s: &Arc<Desktop>) -> Answer<Value> {
    let list = vault(s, |v| v.wallets()).await?;
    Ok(json!(list
        .iter()
        .map(|w| json!({
            "address": w.address, "label": w.label, "kind": w.kind, "createdAt": w.created_at,
            "pkp": w.pkp.as_ref().map(|p| json!({
                "publicKey": p.public_key, "auth": p.auth,
                "tokenId": PkpPublicKey::parse(&p.public_key).ok().map(|k| k.token_id()),
            })),
        }))
        .collect::<Vec<_>>()))
}

#[derive(Deserialize)]
struct ImportArgs {
    key: String,
    label: String,
}

/// Imports a hex private key (pasted, or read from a file by the UI). The key is not echoed.
async fn import_wallet(s: &Arc<Desktop>, a: ImportArgs) -> Answer<String> {
    let key = zeroize::Zeroizing::new(a.key);
    vault(s, move |v| {
        v.import_wallet(key.trim(), &a.label, now())
            .map(|a| a.to_checksum())
    })
    .await
}

/// Adds a browser wallet by its address: it signs each new session in the page; nothing
/// secret is stored for it.
async fn add_external_wallet(s: &Arc<Desktop>, a: AddressLabel) -> Answer<String> {
    let address = Address::parse_any_case(&a.address).map_err(say)?;
    vault(s, move |v| {
        v.add_external_wallet(&address, &a.label, now())
            .map(|()| address.to_checksum())
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PkpArgs {
    public_key: String,
    auth: String,
    label: String,
}

/// Adds a PKP by its public key; `auth`, one of the user's local or browser wallets, signs in
/// for it. Nothing secret is stored: the Lit network holds the key. Answers the PKP's address.
async fn add_pkp(s: &Arc<Desktop>, a: PkpArgs) -> Answer<String> {
    let key = PkpPublicKey::parse(&a.public_key).map_err(say)?;
    let auth = Address::parse_any_case(&a.auth).map_err(say)?;
    vault(s, move |v| {
        v.add_pkp(&key, &auth, &a.label, now())
            .map(|a| a.to_checksum())
    })
    .await
}

async fn sessions(s: &Arc<Desktop>) -> Answer<Value> {
    let list = vault(s, |v| v.sessions()).await?;
    Ok(json!(list
        .iter()
        .map(|r| json!({
            "sessionKey": r.public_key, "origin": r.origin, "network": r.network, "wallet": r.wallet,
            "expiresAt": r.expires_at, "state": r.state, "deadReason": r.dead_reason,
            "mayDo": describe_requests(&r.granted),
        }))
        .collect::<Vec<_>>()))
}

#[derive(Deserialize)]
struct RevokeArgs {
    session: Option<String>,
    origin: Option<String>,
}

/// Revokes one session (`session`), every session of `origin`, or everything.
async fn revoke(s: &Arc<Desktop>, a: RevokeArgs) -> Answer<usize> {
    vault(s, move |v| {
        let which = match (&a.session, &a.origin) {
            (Some(k), _) => Revoke::Session(k),
            (None, Some(o)) => Revoke::Origin(o),
            (None, None) => Revoke::All,
        };
        v.revoke(which, now())
    })
    .await
}

fn prompts(s: &Desktop) -> Vec<Prompt> {
    s.prompts
        .pending()
        .into_iter()
        .map(|(id, request)| Prompt {
            id,
            dangerous: request.is_dangerous(),
            sections: request.sections(),
            request,
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnswerArgs {
    id: u64,
    approve: bool,
    lifetime_seconds: Option<u64>,
}

/// Answers the prompt `id`; false when it is gone (its caller left, or it timed out).
fn answer_prompt(s: &Desktop, a: AnswerArgs) -> bool {
    let decision = if a.approve {
        Decision::Approve {
            // The engine caps this at what was asked and at the 30-day limit.
            lifetime: Duration::from_secs(a.lifetime_seconds.unwrap_or(u64::MAX)),
        }
    } else {
        Decision::Reject {
            reason: "the user said no".into(),
        }
    };
    s.prompts.answer(a.id, decision)
}

/// Every network, with the nodes last read for it.
fn networks(s: &Desktop) -> Answer<Value> {
    let settings = s.settings();
    let registry = s.engine.networks();
    Ok(json!(registry
        .list()
        .iter()
        .map(|n| network_view(n, &settings, registry.cached(n.name.as_str()).as_deref()))
        .collect::<Vec<_>>()))
}

/// Reads a network's nodes now (from its chain, or its fixed list) and asks each for a
/// handshake: the network as the list shows it, with how many nodes answered. A network that
/// does not answer is an error saying so in plain words (and that Lit retired it, if so).
async fn refresh_network(s: &Arc<Desktop>, a: NameArg) -> Answer<Value> {
    let registry = s.engine.networks().clone();
    let spec = registry
        .get(&a.name)
        .ok_or_else(|| format!("unknown network {}", a.name))?;
    let reach = registry
        .check(&spec)
        .await
        .map_err(|e| spec.unanswered(&e))?;
    let mut view = network_view(&spec, &s.settings(), Some(&reach.set));
    view["answered"] = json!(reach.answered.len());
    Ok(view)
}

async fn pairings(s: &Arc<Desktop>) -> Answer<Value> {
    let list = vault(s, |v| v.pairings()).await?;
    Ok(json!(list
        .iter()
        .map(|p| json!({ "name": p.name, "createdAt": p.created_at }))
        .collect::<Vec<_>>()))
}

fn home() -> Answer<PathBuf> {
    super::home().ok_or_else(|| "HOME is not set".to_owned())
}

/// The browser-host doctor's findings, one line each.
async fn browser_doctor() -> Answer<Value> {
    let home = home()?;
    let findings = tokio::task::spawn_blocking(move || {
        let targets = install::targets_in_home(&home, false);
        install::doctor(&targets, &|b: Browser| {
            vec![b.default_extension_id().to_owned()]
        })
    })
    .await
    .map_err(say)?;
    Ok(json!(findings
        .iter()
        .map(|f| json!({ "ok": f.ok, "line": f.line }))
        .collect::<Vec<_>>()))
}

/// The browsers the browser host is set up for ([`install::is_set_up`], the doctor's rule), by
/// their names for people.
async fn browser_hosts() -> Answer<Vec<String>> {
    let home = home()?;
    tokio::task::spawn_blocking(move || {
        install::targets_in_home(&home, false)
            .into_iter()
            .filter(install::is_set_up)
            .map(|t| t.browser.title().to_owned())
            .collect()
    })
    .await
    .map_err(say)
}

/// Installs the browser host's manifest for every browser with a profile here (every
/// supported browser when none has one yet). Returns the files written.
async fn install_browser_host() -> Answer<Vec<String>> {
    let home = home()?;
    tokio::task::spawn_blocking(move || super::install_browser_host(&home))
        .await
        .map_err(say)?
}
