//! The window: the web UI in a Tauri window, run only while the user looks at it. Everything it
//! shows and does is asked of the desktop companion (`lit-companion tray`, beside this program),
//! which holds the keys, serves the roads and owns the prompts, over the control road
//! ([`control`]); updates are the one thing done here (Tauri's updater).
//!
//! This program is also what the desktop launches: with no argument it opens the window
//! (starting the companion first when it is not running), with `--hidden` (at login) it becomes
//! the companion in the tray, and with a `lit-companion://` link it hands the link over.

mod control;
mod launch;

use std::{ffi::OsString, process::ExitCode, sync::Arc};

use serde_json::Value;
use tauri::{ipc::InvokeBody, Emitter, Manager, RunEvent};

use control::Control;

/// How the window was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    /// The user opened it: shown and focused.
    Open,
    /// A question waits: shown without taking the keyboard, asking for attention.
    Prompt,
}

/// Runs this program with `args` (without the program's name).
pub fn main(args: Vec<OsString>) -> ExitCode {
    let first = args.first().and_then(|a| a.to_str()).unwrap_or("");
    if first == "--hidden" {
        return launch::hand_over(&["tray", "--hidden"]);
    }
    if first.starts_with("lit-companion://") {
        let url = first.to_owned();
        if let Err(e) = launch::ensure_companion() {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
        return launch::hand_over(&["open-url", &url]);
    }
    let known = |a: &OsString| a == "--window" || a == "--for-prompt";
    if !first.is_empty() && first != "--window" || !args.iter().all(known) {
        eprintln!(
            "usage: lit-companion-app [--hidden | lit-companion://… ] (the command is lit-companion)"
        );
        return ExitCode::from(2);
    }
    let started_by_companion = first == "--window";
    let purpose = if args.iter().any(|a| a == "--for-prompt") {
        Purpose::Prompt
    } else {
        Purpose::Open
    };
    let (events_tx, events) = std::sync::mpsc::channel();
    let control = match launch::connect(events_tx, !started_by_companion) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Lit Companion could not open its window: {e}");
            return ExitCode::FAILURE;
        }
    };
    match control.call("hello", Value::Null) {
        Ok(v) if v["window"] == "yours" => {}
        // Another window is open; the companion brought it forward.
        Ok(_) => return ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Lit Companion could not open its window: {e}");
            return ExitCode::FAILURE;
        }
    }
    run(control, events, purpose)
}

fn run(
    control: Arc<Control>,
    events: std::sync::mpsc::Receiver<String>,
    purpose: Purpose,
) -> ExitCode {
    let updates: Box<dyn Fn(tauri::ipc::Invoke) -> bool + Send + Sync> =
        Box::new(tauri::generate_handler![check_update, install_update]);
    let relay_to = control.clone();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(control)
        .invoke_handler(move |invoke| match invoke.message.command() {
            "check_update" | "install_update" => updates(invoke),
            _ => {
                relay(&relay_to, invoke);
                true
            }
        })
        .setup(move |app| {
            let window = open_window(app.handle(), purpose)?;
            if purpose == Purpose::Prompt {
                let _ = window.request_user_attention(Some(tauri::UserAttentionType::Critical));
            }
            let handle = app.handle().clone();
            std::thread::Builder::new()
                .name("control-events".into())
                .spawn(move || {
                    for event in events {
                        on_event(&handle, &event);
                    }
                })?;
            Ok(())
        })
        .build(tauri::generate_context!("../tauri.conf.json"));
    match result {
        Ok(app) => {
            // Closing the window ends this program; the companion runs on in the tray.
            app.run(|_, _: RunEvent| {});
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Lit Companion could not open its window: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Hands a command of the web UI to the companion and its answer back.
fn relay(control: &Arc<Control>, invoke: tauri::ipc::Invoke) {
    let cmd = invoke.message.command().to_owned();
    let args = match invoke.message.payload() {
        InvokeBody::Json(v) => v.clone(),
        InvokeBody::Raw(_) => Value::Null,
    };
    let control = control.clone();
    invoke.resolver.respond_async(async move {
        tauri::async_runtime::spawn_blocking(move || control.call(&cmd, args))
            .await
            .map_err(|e| tauri::ipc::InvokeError::from(e.to_string()))?
            .map_err(tauri::ipc::InvokeError::from)
    });
}

/// What the companion said happened.
fn on_event(app: &tauri::AppHandle, event: &str) {
    match event {
        "prompts-changed" | "status-changed" => {
            let _ = app.emit(event, ());
        }
        "show" => {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.show();
                let _ = w.unminimize();
                let _ = w.set_focus();
            }
        }
        "raise" => {
            if let Some(w) = app.get_webview_window("main") {
                let _ = w.show();
                let _ = w.unminimize();
                let _ = w.request_user_attention(Some(tauri::UserAttentionType::Critical));
            }
        }
        // Quit in the tray, or the companion went away: nothing here works without it.
        "close" | "gone" => app.exit(0),
        _ => {}
    }
}

/// The main window, from the config; focused only when the user opened it (a question does
/// not take the keyboard from the app the user is typing in).
fn open_window(app: &tauri::AppHandle, purpose: Purpose) -> tauri::Result<tauri::WebviewWindow> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    tauri::WebviewWindowBuilder::from_config(app, &config)?
        .focused(purpose == Purpose::Open)
        .build()
}

/// Asks the update server (tauri.conf.json, `plugins.updater`) whether a newer release exists.
/// Updates are signed; the updater refuses one whose signature does not match the public key
/// built into the app.
#[tauri::command]
async fn check_update(app: tauri::AppHandle) -> Result<Value, String> {
    use tauri_plugin_updater::UpdaterExt;
    let update = app
        .updater()
        .map_err(|e| e.to_string())?
        .check()
        .await
        .map_err(|e| format!("could not check for updates: {e}"))?;
    Ok(match update {
        Some(u) => serde_json::json!({ "available": true, "version": u.version, "notes": u.body }),
        None => serde_json::json!({ "available": false, "version": env!("CARGO_PKG_VERSION") }),
    })
}

/// Downloads, verifies and installs the newer release, then restarts: the companion first (it
/// runs the old program until asked to quit), then this window.
#[tauri::command]
async fn install_update(app: tauri::AppHandle) -> Result<(), String> {
    use tauri_plugin_updater::UpdaterExt;
    let update = app
        .updater()
        .map_err(|e| e.to_string())?
        .check()
        .await
        .map_err(|e| format!("could not check for updates: {e}"))?
        .ok_or("Lit Companion is up to date")?;
    update
        .download_and_install(|_, _| {}, || {})
        .await
        .map_err(|e| format!("the update was not installed: {e}"))?;
    if let Some(control) = app.try_state::<Arc<Control>>() {
        let control = control.inner().clone();
        let _ = tauri::async_runtime::spawn_blocking(move || control.call("restart", Value::Null))
            .await;
    }
    app.restart()
}
