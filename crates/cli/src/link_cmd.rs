//! Deep links: `open-url` (what the OS runs for `lit-companion://…`, forwarding to the running
//! companion) and registering that handler with the desktop: a `.desktop` file + `xdg-mime` on
//! Linux, the per-user URL scheme key `HKCU\Software\Classes\lit-companion` on Windows (the
//! Windows installer runs `register-url-handler`).

#[cfg(not(windows))]
use std::path::PathBuf;

use lit_companion_platform::endpoint as socket_path;
use lit_companion_wire::{
    frame::{read_json, write_json},
    DeepLinkMessage,
};
use serde_json::{json, Value};

use crate::cmd::Failure;

#[cfg(not(windows))]
const DESKTOP_FILE: &str = "lit-companion-url.desktop";
#[cfg(not(windows))]
const MIME: &str = "x-scheme-handler/lit-companion";

/// Forwards a `lit-companion://` URL to the running companion, which checks it, asks the user
/// and answers on the link's callback.
pub(crate) fn open_url(url: &str) -> Result<String, Failure> {
    if !url.starts_with("lit-companion://") {
        return Err(Failure::input("not a lit-companion:// link"));
    }
    let path = socket_path::default_socket_path();
    let mut stream = socket_path::connect(&path).map_err(|e| match e {
        socket_path::ConnectError::NotRunning { .. } => Failure {
            message: "Lit Companion is not running: start the app (or `lit-companion serve`) and open the link again".into(),
            exit_code: crate::cmd::exit::NETWORK,
        },
        other => Failure::input(other.to_string()),
    })?;
    write_json(
        &mut stream,
        &DeepLinkMessage {
            deep_link: url.to_owned(),
        },
    )
    .map_err(|e| Failure::input(e.to_string()))?;
    let reply: Value = read_json(&mut stream).map_err(|e| Failure::input(e.to_string()))?;
    if let Some(e) = reply.get("error") {
        let name = e["name"].as_str().unwrap_or("error");
        let message = e["message"].as_str().unwrap_or("refused");
        return Err(Failure {
            message: format!("{name}: {message}"),
            exit_code: 1,
        });
    }
    serde_json::to_string_pretty(&reply["result"]).map_err(|e| Failure::input(e.to_string()))
}

#[cfg(not(windows))]
fn applications_dir() -> Result<PathBuf, Failure> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .ok_or_else(|| Failure::input("neither XDG_DATA_HOME nor HOME is set"))?;
    Ok(data.join("applications"))
}

/// The per-user URL scheme key (Windows), as Microsoft documents for registering an
/// application to a URI scheme: `URL Protocol` marks it, `shell\open\command` runs us.
#[cfg(windows)]
const SCHEME_KEY: &str = r"Software\Classes\lit-companion";

/// The command Windows runs for a link: this program, `open-url`, the link.
#[cfg(windows)]
fn scheme_command() -> Result<String, Failure> {
    let exe = std::env::current_exe().map_err(|e| Failure::input(e.to_string()))?;
    Ok(format!("\"{}\" open-url \"%1\"", exe.display()))
}

/// Writes `HKCU\Software\Classes\lit-companion` so that Windows opens `lit-companion://` links
/// with `open-url`. Idempotent; no administrator rights needed.
#[cfg(windows)]
pub(crate) fn register() -> Result<String, Failure> {
    use lit_companion_platform::windows::registry::set_user_string;
    let command = scheme_command()?;
    let failed = |e: std::io::Error| Failure::input(format!("HKCU\\{SCHEME_KEY}: {e}"));
    set_user_string(SCHEME_KEY, None, "URL:Lit Companion").map_err(failed)?;
    set_user_string(SCHEME_KEY, Some("URL Protocol"), "").map_err(failed)?;
    set_user_string(&format!(r"{SCHEME_KEY}\shell\open\command"), None, &command)
        .map_err(failed)?;
    serde_json::to_string_pretty(
        &json!({ "registryKey": format!("HKCU\\{SCHEME_KEY}"), "command": command }),
    )
    .map_err(|e| Failure::input(e.to_string()))
}

/// Removes the URL scheme key when it runs this program (a registration of the desktop app
/// stays).
#[cfg(windows)]
pub(crate) fn unregister() -> Result<String, Failure> {
    use lit_companion_platform::windows::registry::{delete_user_tree, string, Hive};
    let failed = |e: std::io::Error| Failure::input(format!("HKCU\\{SCHEME_KEY}: {e}"));
    let current = string(
        Hive::CurrentUser,
        &format!(r"{SCHEME_KEY}\shell\open\command"),
        None,
    )
    .map_err(failed)?;
    let removed = match current {
        Some(command) if command == scheme_command()? => {
            delete_user_tree(SCHEME_KEY).map_err(failed)?
        }
        _ => false,
    };
    serde_json::to_string_pretty(&json!({ "removed": removed }))
        .map_err(|e| Failure::input(e.to_string()))
}

/// Writes the `.desktop` file (`Exec=… open-url %u`, `MimeType=x-scheme-handler/lit-companion;`)
/// and makes it the default handler with `xdg-mime`. Idempotent.
#[cfg(not(windows))]
pub(crate) fn register() -> Result<String, Failure> {
    let exe = std::env::current_exe().map_err(|e| Failure::input(e.to_string()))?;
    let dir = applications_dir()?;
    std::fs::create_dir_all(&dir).map_err(|e| Failure::input(format!("{}: {e}", dir.display())))?;
    // Desktop Entry spec: quote the program; `%u` is one URL.
    let exec = exe
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let entry = format!(
        "[Desktop Entry]\nType=Application\nName=Lit Companion\nComment=Open lit-companion:// links\nExec=\"{exec}\" open-url %u\nMimeType={MIME};\nNoDisplay=true\nTerminal=false\n"
    );
    let file = dir.join(DESKTOP_FILE);
    std::fs::write(&file, entry).map_err(|e| Failure::input(format!("{}: {e}", file.display())))?;
    let status = std::process::Command::new("xdg-mime")
        .args(["default", DESKTOP_FILE, MIME])
        .status()
        .map_err(|e| {
            Failure::input(format!(
                "xdg-mime is needed (apt-get install xdg-utils): {e}"
            ))
        })?;
    if !status.success() {
        return Err(Failure::input("xdg-mime could not set the default handler"));
    }
    // Refreshes the MIME cache where the tool exists; the default set above works without it.
    let _ = std::process::Command::new("update-desktop-database")
        .arg(&dir)
        .status();
    serde_json::to_string_pretty(
        &json!({ "desktopFile": file.display().to_string(), "mimeType": MIME }),
    )
    .map_err(|e| Failure::input(e.to_string()))
}

/// Removes the `.desktop` file.
#[cfg(not(windows))]
pub(crate) fn unregister() -> Result<String, Failure> {
    let file = applications_dir()?.join(DESKTOP_FILE);
    let removed = match std::fs::remove_file(&file) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(Failure::input(format!("{}: {e}", file.display()))),
    };
    serde_json::to_string_pretty(&json!({ "removed": removed }))
        .map_err(|e| Failure::input(e.to_string()))
}
