//! `lit-companion-host`: the native-messaging host browsers start for the Lit Companion
//! extension. It relays each framed message from stdin to the running companion over the
//! per-user socket (a named pipe on Windows), adding the extension id the browser named in argv, and frames the answers
//! back on stdout. It never interprets the request: the companion's engine does.

use std::{
    io::{self, Write},
    sync::{Arc, Mutex},
    thread,
};

use lit_companion_platform::endpoint::default_socket_path;
use lit_companion_wire::{
    frame::{read_frame, write_frame},
    BridgeError, ErrorCode, ExtensionMessage, FrameError, RelayMessage, Response,
};
use serde_json::Value;

/// Messages answered at once; more wait for a free slot.
const IN_FLIGHT: usize = 8;

fn main() {
    // Chromium passes `chrome-extension://<id>/` first; Firefox passes the manifest path, then
    // the add-on id.
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Browsers never pass this; packages and the doctor do.
    if args.first().map(String::as_str) == Some("--version") {
        let _ = writeln!(
            io::stdout(),
            "lit-companion-host {}",
            env!("CARGO_PKG_VERSION")
        );
        return;
    }
    let extension = args
        .iter()
        .find(|a| a.starts_with("chrome-extension://"))
        .cloned()
        .or_else(|| args.get(1).cloned())
        .unwrap_or_default();
    let stdout = Arc::new(Mutex::new(io::stdout()));
    let slots = Arc::new((Mutex::new(0usize), std::sync::Condvar::new()));
    let mut stdin = io::stdin().lock();
    let mut workers = Vec::new();
    loop {
        let body = match read_frame(&mut stdin) {
            Ok(b) => b,
            // The browser closed the port, or broke the framing: nothing more can be read.
            Err(FrameError::Closed) => break,
            Err(e) => {
                answer(
                    &stdout,
                    &error(Value::Null, ErrorCode::BadRequest, e.to_string()),
                );
                break;
            }
        };
        let message: ExtensionMessage = match serde_json::from_slice(&body) {
            Ok(m) => m,
            Err(e) => {
                let id = serde_json::from_slice::<Value>(&body)
                    .ok()
                    .and_then(|v| v.pointer("/envelope/id").cloned());
                answer(
                    &stdout,
                    &error(
                        id.unwrap_or(Value::Null),
                        ErrorCode::BadRequest,
                        format!("malformed message: {e}"),
                    ),
                );
                continue;
            }
        };
        {
            let (count, freed) = &*slots;
            let mut n = count.lock().unwrap_or_else(|p| p.into_inner());
            while *n >= IN_FLIGHT {
                n = freed.wait(n).unwrap_or_else(|p| p.into_inner());
            }
            *n += 1;
        }
        let (stdout, slots, extension) = (stdout.clone(), slots.clone(), extension.clone());
        workers.push(thread::spawn(move || {
            let id = message.envelope.get("id").cloned().unwrap_or(Value::Null);
            let relay = RelayMessage {
                extension,
                origin: message.origin,
                envelope: message.envelope,
            };
            let reply = relay_one(&relay).unwrap_or_else(|e| {
                serde_json::to_value(Response::err(id, &e)).unwrap_or_default()
            });
            answer(&stdout, &reply);
            let (count, freed) = &*slots;
            let mut n = count.lock().unwrap_or_else(|p| p.into_inner());
            *n -= 1;
            freed.notify_one();
        }));
    }
    for w in workers {
        let _ = w.join();
    }
}

fn relay_one(relay: &RelayMessage) -> Result<Value, BridgeError> {
    use lit_companion_platform::endpoint::{connect, ConnectError};
    use lit_companion_wire::frame::{read_json, write_json};
    let mut stream = connect(&default_socket_path()).map_err(|e| match e {
        ConnectError::NotRunning { .. } => BridgeError::new(
            ErrorCode::Disconnected,
            "Lit Companion is not running. Start the app (or `lit-companion serve`) and try again; `lit-companion doctor` checks the setup.",
        ),
        other => BridgeError::new(ErrorCode::Unauthorized, other.to_string()),
    })?;
    let gone = |e| {
        BridgeError::new(
            ErrorCode::Disconnected,
            format!("the companion went away: {e}"),
        )
    };
    write_json(&mut stream, relay).map_err(gone)?;
    read_json::<Value>(&mut stream).map_err(gone)
}

fn error(id: Value, code: ErrorCode, message: impl Into<String>) -> Value {
    serde_json::to_value(Response::err(id, &BridgeError::new(code, message))).unwrap_or_default()
}

fn answer(stdout: &Mutex<io::Stdout>, value: &Value) {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut out = stdout.lock().unwrap_or_else(|p| p.into_inner());
    // A reply over the limit is replaced by an error the extension can read.
    if write_frame(&mut *out, &body).is_err() {
        let e = error(
            value.get("id").cloned().unwrap_or(Value::Null),
            ErrorCode::Internal,
            "the answer is too large to relay",
        );
        let _ = write_frame(&mut *out, &serde_json::to_vec(&e).unwrap_or_default());
    }
    let _ = out.flush();
}
