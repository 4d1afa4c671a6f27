//! The commands the web UI calls: each parses its arguments, calls a core crate, and maps the
//! error to a sentence for the screen.

use std::{path::PathBuf, time::Duration};

use lit_companion_bridge::Decision;
use lit_companion_native_host::install::{self, Browser};
use lit_companion_platform::autostart::LoginItem;
use lit_companion_runtime::{
    login::{self, LoginState},
    network_view, AppSettings, CustomNetwork,
};
use lit_companion_session::{explain::describe_requests, Address, PkpPublicKey};
use lit_companion_vault::{history::ActivityLine, Revoke, Vault, VaultError};
use serde::Serialize;
use serde_json::{json, Value};
use tauri::{AppHandle, Manager, Runtime, State};

use crate::services::{now, Services};

type Answer<T> = Result<T, String>;

fn say(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Runs vault work (keychain, files) on a blocking thread: never on the main thread, which
/// draws the window, nor on the async threads, which serve the roads.
async fn vault<T: Send + 'static>(
    s: &State<'_, Services>,
    f: impl FnOnce(&Vault) -> Result<T, VaultError> + Send + 'static,
) -> Answer<T> {
    let vault = s.vault.clone();
    tauri::async_runtime::spawn_blocking(move || f(&vault))
        .await
        .map_err(say)?
        .map_err(say)
}

/// Runs work that needs the app's services on a blocking thread.
async fn services<R: Runtime, T: Send + 'static>(
    app: &AppHandle<R>,
    f: impl FnOnce(&Services) -> Answer<T> + Send + 'static,
) -> Answer<T> {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let s = app
            .try_state::<Services>()
            .ok_or("the companion is not ready")?;
        f(&s)
    })
    .await
    .map_err(say)?
}

#[derive(Serialize)]
pub(crate) struct Prompt {
    id: u64,
    request: lit_companion_bridge::ApprovalRequest,
    dangerous: bool,
    /// The prompt's words, from the core's one renderer (what `serve` prints on a terminal).
    sections: Vec<lit_companion_bridge::Section>,
}

/// Keychain state, roads, pause and version: the header and the settings screen.
/// The keychain is read to learn its state (a probe item, written once, holds no secret).
#[tauri::command]
pub(crate) async fn status(s: State<'_, Services>) -> Answer<Value> {
    let checked = vault(&s, |v| Ok(v.check_keychain())).await?;
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

#[tauri::command]
pub(crate) async fn wallets(s: State<'_, Services>) -> Answer<Value> {
    let list = vault(&s, |v| v.wallets()).await?;
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

#[tauri::command]
pub(crate) async fn create_wallet(s: State<'_, Services>, label: String) -> Answer<String> {
    vault(&s, move |v| {
        v.create_wallet(&label, now()).map(|a| a.to_checksum())
    })
    .await
}

/// Imports a hex private key (pasted, or read from a file by the UI). The key is not echoed.
#[tauri::command]
pub(crate) async fn import_wallet(
    s: State<'_, Services>,
    key: String,
    label: String,
) -> Answer<String> {
    let key = zeroize::Zeroizing::new(key);
    vault(&s, move |v| {
        v.import_wallet(key.trim(), &label, now())
            .map(|a| a.to_checksum())
    })
    .await
}

/// Adds a browser wallet by its address: it signs each new session in the page; nothing
/// secret is stored for it.
#[tauri::command]
pub(crate) async fn add_external_wallet(
    s: State<'_, Services>,
    address: String,
    label: String,
) -> Answer<String> {
    let address = Address::parse_any_case(&address).map_err(say)?;
    vault(&s, move |v| {
        v.add_external_wallet(&address, &label, now())
            .map(|()| address.to_checksum())
    })
    .await
}

/// Adds a PKP by its public key; `auth`, one of the user's local or browser wallets, signs in
/// for it. Nothing secret is stored: the Lit network holds the key. Answers the PKP's address.
#[tauri::command]
pub(crate) async fn add_pkp(
    s: State<'_, Services>,
    public_key: String,
    auth: String,
    label: String,
) -> Answer<String> {
    let key = PkpPublicKey::parse(&public_key).map_err(say)?;
    let auth = Address::parse_any_case(&auth).map_err(say)?;
    vault(&s, move |v| {
        v.add_pkp(&key, &auth, &label, now())
            .map(|a| a.to_checksum())
    })
    .await
}

#[tauri::command]
pub(crate) async fn label_wallet(
    s: State<'_, Services>,
    address: String,
    label: String,
) -> Answer<()> {
    let address = Address::parse_any_case(&address).map_err(say)?;
    vault(&s, move |v| v.label_wallet(&address, &label)).await
}

#[tauri::command]
pub(crate) async fn remove_wallet(s: State<'_, Services>, address: String) -> Answer<usize> {
    let address = Address::parse_any_case(&address).map_err(say)?;
    vault(&s, move |v| v.remove_wallet(&address, now())).await
}

#[tauri::command]
pub(crate) async fn sessions(s: State<'_, Services>) -> Answer<Value> {
    let list = vault(&s, |v| v.sessions()).await?;
    Ok(json!(list
        .iter()
        .map(|r| json!({
            "sessionKey": r.public_key, "origin": r.origin, "network": r.network, "wallet": r.wallet,
            "expiresAt": r.expires_at, "state": r.state, "deadReason": r.dead_reason,
            "mayDo": describe_requests(&r.granted),
        }))
        .collect::<Vec<_>>()))
}

/// Revokes one session (`session`), every session of `origin`, or everything.
#[tauri::command]
pub(crate) async fn revoke(
    s: State<'_, Services>,
    session: Option<String>,
    origin: Option<String>,
) -> Answer<usize> {
    vault(&s, move |v| {
        let which = match (&session, &origin) {
            (Some(k), _) => Revoke::Session(k),
            (None, Some(o)) => Revoke::Origin(o),
            (None, None) => Revoke::All,
        };
        v.revoke(which, now())
    })
    .await
}

/// The activity, newest first, each line naming its site (the same lines `lit-companion
/// history` prints).
#[tauri::command]
pub(crate) async fn history(s: State<'_, Services>) -> Answer<Vec<ActivityLine>> {
    vault(&s, |v| v.activity(now())).await
}

#[tauri::command]
pub(crate) fn prompts(s: State<'_, Services>) -> Vec<Prompt> {
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

/// Answers the prompt `id`; false when it is gone (its caller left, or it timed out).
#[tauri::command]
pub(crate) fn answer_prompt(
    s: State<'_, Services>,
    id: u64,
    approve: bool,
    lifetime_seconds: Option<u64>,
) -> bool {
    let decision = if approve {
        Decision::Approve {
            // The engine caps this at what was asked and at the 30-day limit.
            lifetime: Duration::from_secs(lifetime_seconds.unwrap_or(u64::MAX)),
        }
    } else {
        Decision::Reject {
            reason: "the user said no".into(),
        }
    };
    s.prompts.answer(id, decision)
}

/// The settings in force, and why the stored ones could not be read, if so.
#[tauri::command]
pub(crate) async fn settings<R: Runtime>(app: AppHandle<R>) -> Answer<Value> {
    services(&app, |s| {
        let settings = s.settings();
        let problem = s.settings_problem.lock().ok().and_then(|p| p.clone());
        Ok(json!({ "settings": settings, "problem": problem }))
    })
    .await
}

/// Stores and applies new settings (the pause included).
#[tauri::command]
pub(crate) async fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    settings: AppSettings,
) -> Answer<()> {
    services(&app, move |s| s.save_settings(settings)).await?;
    crate::tray::state_changed(&app);
    Ok(())
}

/// Whether the app starts at login, as the OS's entry says (the Settings switch).
#[tauri::command]
pub(crate) async fn start_at_login() -> Answer<LoginState> {
    tauri::async_runtime::spawn_blocking(|| {
        LoginItem::for_user()
            .map(|item| login::state(&item))
            .map_err(say)
    })
    .await
    .map_err(say)?
}

/// Turns starting at login on or off; answers the entry as it is then.
#[tauri::command]
pub(crate) async fn set_start_at_login<R: Runtime>(
    app: AppHandle<R>,
    on: bool,
) -> Answer<LoginState> {
    services(&app, move |s| {
        let item = LoginItem::for_user().map_err(say)?;
        let program = crate::services::login_program()?;
        login::set(&s.settings_file, &item, &program, on).map_err(say)
    })
    .await
}

/// Pauses or resumes the bridge (the header's and the tray's switch).
#[tauri::command]
pub(crate) async fn set_paused<R: Runtime>(app: AppHandle<R>, paused: bool) -> Answer<()> {
    services(&app, move |s| s.set_paused(paused)).await?;
    crate::tray::state_changed(&app);
    Ok(())
}

/// Every network, with the nodes last read for it.
#[tauri::command]
pub(crate) async fn networks<R: Runtime>(app: AppHandle<R>) -> Answer<Value> {
    services(&app, |s| {
        let settings = s.settings();
        let registry = s.engine.networks();
        Ok(json!(registry
            .list()
            .iter()
            .map(|n| network_view(n, &settings, registry.cached(n.name.as_str()).as_deref()))
            .collect::<Vec<_>>()))
    })
    .await
}

/// Adds the user's network (served from now on).
#[tauri::command]
pub(crate) async fn add_network<R: Runtime>(
    app: AppHandle<R>,
    network: CustomNetwork,
) -> Answer<()> {
    services(&app, move |s| {
        s.update_settings(|settings| settings.add_network(network).map(drop))
    })
    .await
}

/// Removes one of the user's networks.
#[tauri::command]
pub(crate) async fn remove_network<R: Runtime>(app: AppHandle<R>, name: String) -> Answer<()> {
    services(&app, move |s| {
        s.update_settings(|settings| settings.remove_network(&name))
    })
    .await
}

/// Reads a network's nodes now (from its chain, or its fixed list) and asks each for a
/// handshake: the network as the list shows it, with how many nodes answered. A network that
/// does not answer is an error saying so in plain words (and that Lit retired it, if so).
#[tauri::command]
pub(crate) async fn refresh_network(s: State<'_, Services>, name: String) -> Answer<Value> {
    let registry = s.engine.networks().clone();
    let spec = registry
        .get(&name)
        .ok_or_else(|| format!("unknown network {name}"))?;
    let reach = registry
        .check(&spec)
        .await
        .map_err(|e| spec.unanswered(&e))?;
    let mut view = network_view(&spec, &s.settings(), Some(&reach.set));
    view["answered"] = json!(reach.answered.len());
    Ok(view)
}

#[tauri::command]
pub(crate) async fn pairings(s: State<'_, Services>) -> Answer<Value> {
    let list = vault(&s, |v| v.pairings()).await?;
    Ok(json!(list
        .iter()
        .map(|p| json!({ "name": p.name, "createdAt": p.created_at }))
        .collect::<Vec<_>>()))
}

/// Issues a pairing token for a script; the token is shown once and never stored.
#[tauri::command]
pub(crate) async fn create_pairing(s: State<'_, Services>, name: String) -> Answer<String> {
    vault(&s, move |v| {
        v.create_pairing(&name, now())
            .map(|t| t.as_str().to_owned())
    })
    .await
}

#[tauri::command]
pub(crate) async fn revoke_pairing(s: State<'_, Services>, name: String) -> Answer<usize> {
    vault(&s, move |v| v.revoke_pairing(&name, now())).await
}

fn home() -> Answer<PathBuf> {
    crate::services::home().ok_or_else(|| "HOME is not set".to_owned())
}

/// The browser-host doctor's findings, one line each.
#[tauri::command]
pub(crate) async fn browser_doctor() -> Answer<Value> {
    let home = home()?;
    let findings = tauri::async_runtime::spawn_blocking(move || {
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
#[tauri::command]
pub(crate) async fn browser_hosts() -> Answer<Vec<String>> {
    let home = home()?;
    tauri::async_runtime::spawn_blocking(move || {
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
#[tauri::command]
pub(crate) async fn install_browser_host() -> Answer<Vec<String>> {
    let home = home()?;
    tauri::async_runtime::spawn_blocking(move || crate::services::install_browser_host(&home))
        .await
        .map_err(say)?
}

/// Asks the update server (tauri.conf.json, `plugins.updater`) whether a newer release exists.
/// Updates are signed; the updater refuses one whose signature does not match the public key
/// built into the app.
#[tauri::command]
pub(crate) async fn check_update<R: Runtime>(app: AppHandle<R>) -> Answer<Value> {
    use tauri_plugin_updater::UpdaterExt;
    let update = app
        .updater()
        .map_err(say)?
        .check()
        .await
        .map_err(|e| format!("could not check for updates: {e}"))?;
    Ok(match update {
        Some(u) => json!({ "available": true, "version": u.version, "notes": u.body }),
        None => json!({ "available": false, "version": env!("CARGO_PKG_VERSION") }),
    })
}

/// Downloads, verifies and installs the newer release, then restarts.
#[tauri::command]
pub(crate) async fn install_update<R: Runtime>(app: AppHandle<R>) -> Answer<()> {
    use tauri_plugin_updater::UpdaterExt;
    let update = app
        .updater()
        .map_err(say)?
        .check()
        .await
        .map_err(|e| format!("could not check for updates: {e}"))?
        .ok_or("Lit Companion is up to date")?;
    update
        .download_and_install(|_, _| {}, || {})
        .await
        .map_err(|e| format!("the update was not installed: {e}"))?;
    app.restart()
}
