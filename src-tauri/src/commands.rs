//! The commands the web UI calls: each parses its arguments, calls a core crate, and maps the
//! error to a sentence for the screen.

use std::{path::PathBuf, time::Duration};

use lit_companion_bridge::Decision;
use lit_companion_native_host::install::{self, Browser};
use lit_companion_session::{explain::describe_requests, Address};
use lit_companion_vault::{settings::AppSettings, Revoke};
use serde::Serialize;
use serde_json::{json, Value};
use tauri::{AppHandle, Runtime, State};

use crate::services::{now, Services};

type Answer<T> = Result<T, String>;

fn say(e: impl std::fmt::Display) -> String {
    e.to_string()
}

#[derive(Serialize)]
pub(crate) struct Prompt {
    id: u64,
    request: lit_companion_bridge::ApprovalRequest,
    dangerous: bool,
}

/// Keychain state, roads, pause and version: the header and the settings screen.
#[tauri::command]
pub(crate) fn status(s: State<'_, Services>) -> Value {
    let keychain = match s.vault.check_keychain() {
        Ok(()) => json!({ "ok": true }),
        Err(e) => json!({ "ok": false, "code": e.code(), "message": e.to_string() }),
    };
    let roads = s.roads.lock().map(|r| r.clone()).unwrap_or_default();
    json!({
        "keychain": keychain,
        "roads": roads,
        "paused": s.engine.is_paused(),
        "version": env!("CARGO_PKG_VERSION"),
    })
}

#[tauri::command]
pub(crate) fn wallets(s: State<'_, Services>) -> Answer<Value> {
    let list = s.vault.wallets().map_err(say)?;
    Ok(json!(list
        .iter()
        .map(|w| json!({ "address": w.address, "label": w.label, "createdAt": w.created_at }))
        .collect::<Vec<_>>()))
}

#[tauri::command]
pub(crate) fn create_wallet(s: State<'_, Services>, label: String) -> Answer<String> {
    s.vault
        .create_wallet(&label, now())
        .map(|a| a.to_checksum())
        .map_err(say)
}

/// Imports a hex private key (pasted, or read from a file by the UI). The key is not echoed.
#[tauri::command]
pub(crate) fn import_wallet(s: State<'_, Services>, key: String, label: String) -> Answer<String> {
    let key = zeroize::Zeroizing::new(key);
    s.vault
        .import_wallet(key.trim(), &label, now())
        .map(|a| a.to_checksum())
        .map_err(say)
}

#[tauri::command]
pub(crate) fn label_wallet(s: State<'_, Services>, address: String, label: String) -> Answer<()> {
    let address = Address::parse_any_case(&address).map_err(say)?;
    s.vault.label_wallet(&address, &label).map_err(say)
}

#[tauri::command]
pub(crate) fn remove_wallet(s: State<'_, Services>, address: String) -> Answer<usize> {
    let address = Address::parse_any_case(&address).map_err(say)?;
    s.vault.remove_wallet(&address, now()).map_err(say)
}

#[tauri::command]
pub(crate) fn sessions(s: State<'_, Services>) -> Answer<Value> {
    let list = s.vault.sessions().map_err(say)?;
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
pub(crate) fn revoke(
    s: State<'_, Services>,
    session: Option<String>,
    origin: Option<String>,
) -> Answer<usize> {
    let which = match (&session, &origin) {
        (Some(k), _) => Revoke::Session(k),
        (None, Some(o)) => Revoke::Origin(o),
        (None, None) => Revoke::All,
    };
    s.vault.revoke(which, now()).map_err(say)
}

#[tauri::command]
pub(crate) fn history(s: State<'_, Services>) -> Answer<Value> {
    let mut lines = s.vault.history().map_err(say)?;
    lines.reverse();
    serde_json::to_value(lines).map_err(say)
}

#[tauri::command]
pub(crate) fn prompts(s: State<'_, Services>) -> Vec<Prompt> {
    s.prompts
        .pending()
        .into_iter()
        .map(|(id, request)| Prompt {
            id,
            dangerous: request.is_dangerous(),
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
pub(crate) fn settings(s: State<'_, Services>) -> Value {
    let problem = s.settings_problem.lock().ok().and_then(|p| p.clone());
    json!({ "settings": s.settings(), "problem": problem })
}

/// Stores and applies new settings (the pause included).
#[tauri::command]
pub(crate) fn save_settings<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
    settings: AppSettings,
) -> Answer<()> {
    s.save_settings(settings)?;
    crate::tray::state_changed(&app);
    Ok(())
}

/// Pauses or resumes the bridge (the header's and the tray's switch).
#[tauri::command]
pub(crate) fn set_paused<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
    paused: bool,
) -> Answer<()> {
    s.set_paused(paused)?;
    crate::tray::state_changed(&app);
    Ok(())
}

#[tauri::command]
pub(crate) fn pairings(s: State<'_, Services>) -> Answer<Value> {
    let list = s.vault.pairings().map_err(say)?;
    Ok(json!(list
        .iter()
        .map(|p| json!({ "name": p.name, "createdAt": p.created_at }))
        .collect::<Vec<_>>()))
}

/// Issues a pairing token for a script; the token is shown once and never stored.
#[tauri::command]
pub(crate) fn create_pairing(s: State<'_, Services>, name: String) -> Answer<String> {
    s.vault
        .create_pairing(&name, now())
        .map(|t| t.as_str().to_owned())
        .map_err(say)
}

#[tauri::command]
pub(crate) fn revoke_pairing(s: State<'_, Services>, name: String) -> Answer<()> {
    s.vault.revoke_pairing(&name, now()).map_err(say)
}

fn home() -> Answer<PathBuf> {
    crate::services::home().ok_or_else(|| "HOME is not set".to_owned())
}

/// The browser-host doctor's findings, one line each.
#[tauri::command]
pub(crate) fn browser_doctor() -> Answer<Value> {
    let targets = install::targets_in_home(&home()?, false);
    let findings = install::doctor(&targets, &|b: Browser| {
        vec![b.default_extension_id().to_owned()]
    });
    Ok(json!(findings
        .iter()
        .map(|f| json!({ "ok": f.ok, "line": f.line }))
        .collect::<Vec<_>>()))
}

/// Installs the browser host's manifest for every browser with a profile here (every
/// supported browser when none has one yet). Returns the files written.
#[tauri::command]
pub(crate) fn install_browser_host() -> Answer<Vec<String>> {
    crate::services::install_browser_host(&home()?)
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
