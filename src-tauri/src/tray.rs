//! The tray icon: the bridge's state at a glance, and open, pause/resume and quit.

use tauri::{
    menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem},
    tray::TrayIconBuilder,
    AppHandle, Emitter, Manager, Runtime,
};

use crate::services::Services;

const TRAY_ID: &str = "main";

/// The menu items whose text or check mark follows the state.
pub(crate) struct TrayItems<R: Runtime> {
    status: MenuItem<R>,
    pause: CheckMenuItem<R>,
}

fn status_line<R: Runtime>(app: &AppHandle<R>) -> (String, bool) {
    let Some(s) = app.try_state::<Services>() else {
        return ("Starting…".into(), false);
    };
    let paused = s.engine.is_paused();
    let waiting = s.prompts.pending().len();
    let line = match (paused, waiting) {
        (true, _) => "Bridge paused: apps are turned away".to_owned(),
        (false, 0) => "Bridge on".to_owned(),
        (false, 1) => "Bridge on · 1 request waits for you".to_owned(),
        (false, n) => format!("Bridge on · {n} requests wait for you"),
    };
    (line, paused)
}

/// Shows and focuses the main window, building it (from `tauri.conf.json`) when there is none:
/// it is destroyed on close, so that a companion idling in the tray holds no web process.
pub(crate) fn open_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = window(app, true) {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Brings the window forward for a question without taking the keyboard from the app the user
/// is typing in: shown, with an urgency hint; the user gives it focus by clicking it.
pub(crate) fn raise_for_prompt<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = window(app, false) {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.request_user_attention(Some(tauri::UserAttentionType::Critical));
    }
}

/// The main window, made from the config when it was closed (`focused` only when the user
/// opened it).
fn window<R: Runtime>(app: &AppHandle<R>, focused: bool) -> Option<tauri::WebviewWindow<R>> {
    if let Some(w) = app.get_webview_window("main") {
        return Some(w);
    }
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")?;
    match tauri::WebviewWindowBuilder::from_config(app, config)
        .and_then(|b| b.focused(focused).build())
    {
        Ok(w) => Some(w),
        Err(e) => {
            eprintln!("could not open the window: {e}");
            None
        }
    }
}

/// Builds the tray icon. Desktops without a tray simply show none; the window and a second
/// launch still reach everything.
pub(crate) fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let (line, paused) = status_line(app);
    let status = MenuItem::with_id(app, "status", line, false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Lit Companion", true, None::<&str>)?;
    let pause = CheckMenuItem::with_id(app, "pause", "Pause bridge", true, paused, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(
        app,
        &[
            &status,
            &PredefinedMenuItem::separator(app)?,
            &open,
            &pause,
            &PredefinedMenuItem::separator(app)?,
            &quit,
        ],
    )?;
    let mut tray = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Lit Companion")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id.as_ref() {
            "open" => open_window(app),
            "pause" => {
                if let Some(s) = app.try_state::<Services>() {
                    let paused = !s.engine.is_paused();
                    if let Err(e) = s.set_paused(paused) {
                        eprintln!("could not save the pause: {e}");
                    }
                }
                state_changed(app);
            }
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    app.manage(TrayItems { status, pause });
    Ok(())
}

/// Tells the window and the tray that the bridge's state changed.
pub(crate) fn state_changed<R: Runtime>(app: &AppHandle<R>) {
    let _ = app.emit("status-changed", ());
    refresh(app);
}

/// Brings the tray's status line and pause check mark up to date.
pub(crate) fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let (line, paused) = status_line(app);
    if let Some(items) = app.try_state::<TrayItems<R>>() {
        let _ = items.status.set_text(line.as_str());
        let _ = items.pause.set_checked(paused);
    }
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_tooltip(Some(format!("Lit Companion — {line}")));
    }
}
