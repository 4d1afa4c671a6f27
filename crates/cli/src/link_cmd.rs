//! Deep links: `open-url` (what the OS runs for `lit-companion://…`, forwarding to the running
//! companion) and registering that handler with the desktop (`.desktop` file + `xdg-mime`).

use std::path::PathBuf;

use lit_companion_wire::{
    endpoint as socket_path,
    frame::{read_json, write_json},
    DeepLinkMessage,
};
use serde_json::{json, Value};

use crate::cmd::Failure;

const DESKTOP_FILE: &str = "lit-companion-url.desktop";
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
            exit_code: 1,
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

fn applications_dir() -> Result<PathBuf, Failure> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .ok_or_else(|| Failure::input("neither XDG_DATA_HOME nor HOME is set"))?;
    Ok(data.join("applications"))
}

/// Writes the `.desktop` file (`Exec=… open-url %u`, `MimeType=x-scheme-handler/lit-companion;`)
/// and makes it the default handler with `xdg-mime`. Idempotent.
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
