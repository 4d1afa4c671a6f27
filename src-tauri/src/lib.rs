//! The desktop shell: windows, the deep-link and single-instance plugins, and one-line commands
//! over the core crates. The engine and every road in (loopback HTTP, the extension's socket,
//! deep links) run in this process; approvals go to the window through a [`PromptQueue`].

use std::{sync::Arc, time::Duration};

use lit_companion_bridge::{
    http::{self, HttpConfig, HttpState},
    socket::{self, DeepLinks},
    ApprovalRequest, Decision, Engine, EngineSettings, PromptQueue,
};
use lit_companion_net::LitNetClient;
use lit_companion_session::{explain::describe_requests, Address};
use lit_companion_vault::{paths::default_data_dir, OsKeychain, Revoke, Vault};
use serde::Serialize;
use serde_json::{json, Value};
use tauri::{Emitter, Manager};
use time::OffsetDateTime;

/// The loopback HTTP port dapps find the companion on.
const HTTP_PORT: u16 = 41410;

struct Services {
    vault: Arc<Vault>,
    engine: Arc<Engine>,
    prompts: Arc<PromptQueue>,
    links: Arc<DeepLinks>,
    roads: std::sync::Mutex<Vec<String>>,
}

type Answer<T> = Result<T, String>;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

#[derive(Serialize)]
struct Prompt {
    id: u64,
    request: ApprovalRequest,
    dangerous: bool,
}

#[tauri::command]
fn status(s: tauri::State<'_, Services>) -> Value {
    let keychain = match s.vault.check_keychain() {
        Ok(()) => json!({ "ok": true }),
        Err(e) => json!({ "ok": false, "code": e.code(), "message": e.to_string() }),
    };
    let roads = s.roads.lock().map(|r| r.clone()).unwrap_or_default();
    json!({ "keychain": keychain, "roads": roads, "version": env!("CARGO_PKG_VERSION") })
}

#[tauri::command]
fn wallets(s: tauri::State<'_, Services>) -> Answer<Value> {
    let list = s.vault.wallets().map_err(|e| e.to_string())?;
    Ok(json!(list
        .iter()
        .map(|w| json!({ "address": w.address, "label": w.label, "createdAt": w.created_at }))
        .collect::<Vec<_>>()))
}

#[tauri::command]
fn create_wallet(s: tauri::State<'_, Services>, label: String) -> Answer<String> {
    s.vault
        .create_wallet(&label, now())
        .map(|a| a.to_checksum())
        .map_err(|e| e.to_string())
}

#[tauri::command]
fn import_wallet(s: tauri::State<'_, Services>, key: String, label: String) -> Answer<String> {
    s.vault
        .import_wallet(&key, &label, now())
        .map(|a| a.to_checksum())
        .map_err(|e| e.to_string())
}

#[tauri::command]
fn remove_wallet(s: tauri::State<'_, Services>, address: String) -> Answer<usize> {
    let address = Address::parse_any_case(&address).map_err(|e| e.to_string())?;
    s.vault
        .remove_wallet(&address, now())
        .map_err(|e| e.to_string())
}

#[tauri::command]
fn sessions(s: tauri::State<'_, Services>) -> Answer<Value> {
    let list = s.vault.sessions().map_err(|e| e.to_string())?;
    Ok(json!(list
        .iter()
        .map(|r| json!({
            "sessionKey": r.public_key, "origin": r.origin, "network": r.network, "wallet": r.wallet,
            "expiresAt": r.expires_at, "state": r.state, "deadReason": r.dead_reason,
            "mayDo": describe_requests(&r.granted),
        }))
        .collect::<Vec<_>>()))
}

#[tauri::command]
fn revoke(
    s: tauri::State<'_, Services>,
    session: Option<String>,
    origin: Option<String>,
) -> Answer<usize> {
    let which = match (&session, &origin) {
        (Some(k), _) => Revoke::Session(k),
        (None, Some(o)) => Revoke::Origin(o),
        (None, None) => Revoke::All,
    };
    s.vault.revoke(which, now()).map_err(|e| e.to_string())
}

#[tauri::command]
fn history(s: tauri::State<'_, Services>) -> Answer<Value> {
    let mut lines = s.vault.history().map_err(|e| e.to_string())?;
    lines.reverse();
    serde_json::to_value(lines).map_err(|e| e.to_string())
}

#[tauri::command]
fn prompts(s: tauri::State<'_, Services>) -> Vec<Prompt> {
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

#[tauri::command]
fn answer_prompt(
    s: tauri::State<'_, Services>,
    id: u64,
    approve: bool,
    lifetime_seconds: Option<u64>,
) -> bool {
    let decision = if approve {
        Decision::Approve {
            lifetime: Duration::from_secs(lifetime_seconds.unwrap_or(u64::MAX)),
        }
    } else {
        Decision::Reject {
            reason: "the user said no".into(),
        }
    };
    s.prompts.answer(id, decision)
}

/// Builds the services and starts every road in.
fn start(app: &tauri::App) -> Result<Services, String> {
    let dir = default_data_dir().ok_or("no data directory: HOME is not set")?;
    let (vault, _) =
        Vault::open(&dir, Arc::new(OsKeychain::new()), now()).map_err(|e| e.to_string())?;
    let vault = Arc::new(vault);
    let handle = app.handle().clone();
    let prompts = Arc::new(PromptQueue::new(move || {
        let _ = handle.emit("prompts-changed", ());
        if let Some(w) = handle.get_webview_window("main") {
            let _ = w.show();
        }
    }));
    let net = LitNetClient::new(Duration::from_secs(5), 2).map_err(|e| e.to_string())?;
    let engine = Arc::new(Engine::new(
        vault.clone(),
        net,
        prompts.clone(),
        EngineSettings::default(),
    ));
    let links = Arc::new(DeepLinks::new(DeepLinks::platform_opener()));
    let services = Services {
        vault,
        engine: engine.clone(),
        prompts,
        links: links.clone(),
        roads: Default::default(),
    };
    let roads_handle = app.handle().clone();
    tauri::async_runtime::spawn(async move {
        let mut roads = Vec::new();
        match tokio::net::TcpListener::bind(("127.0.0.1", HTTP_PORT)).await {
            Ok(listener) => {
                roads.push(format!("loopback HTTP on 127.0.0.1:{HTTP_PORT}"));
                let state = HttpState::new(engine.clone(), HttpConfig::new(HTTP_PORT));
                tauri::async_runtime::spawn(http::serve(listener, state));
            }
            Err(e) => roads.push(format!("loopback HTTP unavailable: {e}")),
        }
        let path = lit_companion_native_host::socket_path::default_socket_path();
        match socket::bind(&path).await {
            Ok(listener) => {
                roads.push(format!("browser extension on {}", path.display()));
                tauri::async_runtime::spawn(socket::serve(listener, engine, links));
            }
            Err(e) => roads.push(format!("browser extension unavailable: {e}")),
        }
        if let Some(s) = roads_handle.try_state::<Services>() {
            if let Ok(mut r) = s.roads.lock() {
                *r = roads;
            }
        }
        let _ = roads_handle.emit("status-changed", ());
    });
    Ok(services)
}

/// Runs the app.
pub fn run() {
    let result = tauri::Builder::default()
        // Registered first, so that a second launch (e.g. the OS opening a deep link) hands its
        // URL to this instance instead of starting another.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.show();
                let _ = w.set_focus();
            }
        }))
        .plugin(tauri_plugin_deep_link::init())
        .setup(|app| {
            let services = start(app)?;
            let (engine, links) = (services.engine.clone(), services.links.clone());
            app.manage(services);
            use tauri_plugin_deep_link::DeepLinkExt;
            #[cfg(any(target_os = "linux", all(debug_assertions, windows)))]
            let _ = app.deep_link().register_all();
            app.deep_link().on_open_url(move |event| {
                for url in event.urls() {
                    let reply = socket::deep_link(&engine, &links, url.as_str());
                    if let Some(e) = reply.error {
                        eprintln!("refused a deep link: {e}");
                    }
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            status,
            wallets,
            create_wallet,
            import_wallet,
            remove_wallet,
            sessions,
            revoke,
            history,
            prompts,
            answer_prompt
        ])
        .run(tauri::generate_context!("../tauri.conf.json"));
    if let Err(e) = result {
        eprintln!("Lit Companion could not start: {e}");
        std::process::exit(1);
    }
}
