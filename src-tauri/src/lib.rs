//! The desktop shell: windows, the tray, the deep-link and single-instance plugins, and
//! one-line commands over the core crates. The engine and every road in (loopback HTTP, the
//! extension's socket, deep links) run in this process; approvals go to the window through a
//! prompt queue.

mod commands;
mod services;
#[cfg(test)]
mod tests;
mod tray;

use lit_companion_bridge::socket;
use tauri::{Emitter, Manager, RunEvent};

use services::Services;

/// Runs the app.
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .compact()
        .try_init();
    // The same executor as `lit-companion serve` (first come, first served under load); it
    // lives as long as this function, which is as long as the app.
    let runtime = match lit_companion_runtime::async_runtime() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Lit Companion could not start: {e}");
            std::process::exit(1);
        }
    };
    tauri::async_runtime::set(runtime.handle().clone());
    let result = tauri::Builder::default()
        // Registered first, so that a second launch (e.g. the OS opening a deep link) hands its
        // URL to this instance instead of starting another.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tray::open_window(app);
        }))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .setup(|app| {
            let handle = app.handle().clone();
            let services = Services::open(move || {
                let _ = handle.emit("prompts-changed", ());
                tray::refresh(&handle);
                // A waiting question brings the window forward; an answered one does not.
                let waiting = handle
                    .try_state::<Services>()
                    .is_some_and(|s| !s.prompts.pending().is_empty());
                if waiting {
                    tray::raise_for_prompt(&handle);
                }
            })?;
            let (services, companion) = services;
            let (engine, links) = (services.engine.clone(), services.links.clone());
            // Starting at login, hidden in the tray: turned on by the first run, an entry left
            // by a moved app repaired (crates/runtime/src/login.rs decides).
            let settings_file = services.settings_file.clone();
            tauri::async_runtime::spawn_blocking(move || services::login_at_start(&settings_file));
            app.manage(services);

            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let companion = companion.start().await;
                if let Some(s) = handle.try_state::<Services>() {
                    *s.companion.lock().await = Some(companion);
                }
                let _ = handle.emit("status-changed", ());
            });

            if let Err(e) = tray::build(app.handle()) {
                eprintln!("no tray icon: {e}");
            }
            // `--hidden` (autostart at login) starts in the tray: no window, and so no web
            // process, until the user opens one or a request needs an answer.
            if !std::env::args().any(|a| a == "--hidden") {
                tray::open_window(app.handle());
            }

            use tauri_plugin_deep_link::DeepLinkExt;
            // Per user: on Windows the plugin writes `HKCU\Software\Classes\lit-companion`, so
            // a portable copy works without the installer; macOS takes the scheme from Info.plist.
            #[cfg(any(target_os = "linux", windows))]
            if let Err(e) = app.deep_link().register_all() {
                eprintln!("could not register the lit-companion:// handler: {e}");
            }
            // Links arrive on the plugin's thread (D-Bus, for a second launch); they are
            // handled on the async runtime the engine lives on.
            app.deep_link().on_open_url(move |event| {
                let urls: Vec<String> = event.urls().iter().map(|u| u.to_string()).collect();
                let (engine, links) = (engine.clone(), links.clone());
                tauri::async_runtime::spawn(async move {
                    for url in urls {
                        let reply = socket::deep_link(&engine, &links, &url);
                        if let Some(e) = reply.error {
                            eprintln!("refused a deep link: {}", e["message"]);
                        }
                    }
                });
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::wallets,
            commands::create_wallet,
            commands::add_external_wallet,
            commands::add_pkp,
            commands::import_wallet,
            commands::label_wallet,
            commands::remove_wallet,
            commands::sessions,
            commands::revoke,
            commands::history,
            commands::prompts,
            commands::answer_prompt,
            commands::settings,
            commands::save_settings,
            commands::set_paused,
            commands::networks,
            commands::add_network,
            commands::remove_network,
            commands::refresh_network,
            commands::pairings,
            commands::create_pairing,
            commands::revoke_pairing,
            commands::browser_doctor,
            commands::install_browser_host,
            commands::browser_hosts,
            commands::check_update,
            commands::install_update,
            commands::start_at_login,
            commands::set_start_at_login,
        ])
        .build(tauri::generate_context!("../tauri.conf.json"))
        .map(|app| {
            app.run(|app, event| {
                // Closing the window destroys it (and WebKit's web process with it) while the
                // bridge runs on in the tray; only "Quit" (an explicit exit code) ends the app.
                match event {
                    RunEvent::ExitRequested {
                        code: None, api, ..
                    } if app.tray_by_id("main").is_some() => api.prevent_exit(),
                    // Quitting writes the last reuse counts and drops the keys held in memory.
                    RunEvent::Exit => {
                        if let Some(s) = app.try_state::<Services>() {
                            let companion =
                                tauri::async_runtime::block_on(s.companion.lock()).take();
                            if let Some(c) = companion {
                                tauri::async_runtime::block_on(c.shutdown());
                            }
                        }
                    }
                    _ => {}
                }
            })
        });
    if let Err(e) = result {
        eprintln!("Lit Companion could not start: {e}");
        std::process::exit(1);
    }
}
