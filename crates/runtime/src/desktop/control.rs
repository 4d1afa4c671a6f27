//! The control road: how the window (`lit-companion-app`, a separate program) reaches the
//! companion. A per-user socket beside the bridge's ([`control_socket_path`]; a named pipe on
//! Windows), framed as native messaging is (a 4-byte length, then JSON).
//!
//! Who may use it: a process of this OS user (the socket's directory and peer credentials, as
//! for the bridge's socket) that runs the companion's own window program, the one beside this
//! program ([`window::program`]), as the OS reports the peer's executable. Anything else is
//! dropped unanswered: this road answers prompts, so a script of the user's cannot use it to
//! approve its own request.
//!
//! Messages:
//! - window → companion: `{"id": 1, "cmd": "wallets", "args": {…}}`; the first is
//!   `{"id": 0, "cmd": "hello"}`, answered `{"window": "yours"}` or, when another window is open
//!   (which is brought forward), `{"window": "elsewhere"}` (the newcomer then leaves);
//!   `restart` ends the companion (an update was installed; the window starts the new one).
//! - companion → window: answers `{"id": 1, "ok": …}` or `{"id": 1, "error": "<sentence>"}`, in
//!   any order; events `{"event": "prompts-changed" | "status-changed" | "show" | "raise" |
//!   "close"}`.
//!
//! [`control_socket_path`]: lit_companion_platform::endpoint::control_socket_path

use std::{path::Path, sync::Arc};

use futures_util::StreamExt;
use lit_companion_bridge::socket::{self, Listener};
use lit_companion_wire::frame;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::FramedRead;

use super::{
    commands,
    window::{self, WindowHost},
    Desktop,
};

/// One call from the window.
#[derive(Debug, Deserialize)]
struct Call {
    id: u64,
    cmd: String,
    #[serde(default)]
    args: Value,
}

/// What the road needs: the companion's services, the window, and what to do when the header's
/// state changed (the tray's line).
pub struct Control {
    /// The companion's services.
    pub desktop: Arc<Desktop>,
    /// The window, open or not.
    pub window: Arc<WindowHost>,
    /// Runs after a command changed the pause or the settings.
    pub status_changed: Box<dyn Fn() + Send + Sync>,
    /// Ends the companion (`restart`: an update was installed, and the window starts the new
    /// program once this one is gone).
    pub quit: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Control").finish_non_exhaustive()
    }
}

/// Serves the window's connections until the future is dropped.
pub async fn serve(mut listener: Listener, control: Arc<Control>) {
    let expected = window::program().ok().and_then(|p| canonical(&p));
    loop {
        let (stream, pid) = socket::accept(&mut listener).await;
        let program = pid.and_then(|pid| {
            lit_companion_platform::endpoint::process_program(pid)
                .ok()
                .and_then(|p| canonical(&p))
        });
        if expected.is_none() || program != expected {
            tracing::warn!(
                program = ?program,
                "refused a control connection: not the companion's window program"
            );
            continue; // dropped unanswered
        }
        let control = control.clone();
        tokio::spawn(async move {
            let _ = connection(stream, control).await;
        });
    }
}

fn canonical(path: &Path) -> Option<std::path::PathBuf> {
    std::fs::canonicalize(path).ok()
}

/// One window: hello first, then calls, each answered as it finishes; events in between.
async fn connection<S>(stream: S, control: Arc<Control>) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (reader, mut writer) = tokio::io::split(stream);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let write = tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            let body = serde_json::to_vec(&message).unwrap_or_default();
            let bytes = frame::encode_frame(&body).or_else(|_| {
                // Over the frame's 1 MiB: the call is answered with why, never left waiting.
                let refusal = json!({ "id": message["id"], "error": "the answer is over 1 MiB" });
                frame::encode_frame(&serde_json::to_vec(&refusal).unwrap_or_default())
            });
            let Ok(bytes) = bytes else {
                continue;
            };
            if writer.write_all(&bytes).await.is_err() || writer.flush().await.is_err() {
                break;
            }
        }
    });
    let mut framed = FramedRead::new(reader, frame::codec());
    let mut attached = None;
    while let Some(Ok(body)) = framed.next().await {
        let call: Call = match serde_json::from_slice(&body) {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send(json!({ "id": null, "error": format!("malformed call: {e}") }));
                continue;
            }
        };
        if call.cmd == "hello" {
            if attached.is_none() {
                attached = control.window.attach(tx.clone());
            }
            let whose = if attached.is_some() {
                "yours"
            } else {
                "elsewhere"
            };
            let _ = tx.send(json!({ "id": call.id, "ok": { "window": whose } }));
            continue;
        }
        if attached.is_none() {
            let _ = tx.send(json!({ "id": call.id, "error": "say hello first" }));
            continue;
        }
        if call.cmd == "restart" {
            let _ = tx.send(json!({ "id": call.id, "ok": null }));
            (control.quit)();
            continue;
        }
        let (control, tx) = (control.clone(), tx.clone());
        tokio::spawn(async move {
            let answer = commands::call(&control.desktop, &call.cmd, call.args).await;
            if answer.is_ok() && commands::changes_status(&call.cmd) {
                control.window.notify("status-changed");
                (control.status_changed)();
            }
            let reply = match answer {
                Ok(v) => json!({ "id": call.id, "ok": v }),
                Err(e) => json!({ "id": call.id, "error": e }),
            };
            let _ = tx.send(reply);
        });
    }
    if let Some(id) = attached {
        control.window.detach(id);
    }
    drop(tx);
    write.abort();
    Ok(())
}
