//! The window's end of the control road (crates/runtime/src/desktop/control.rs has the other
//! end and the message formats): calls go out with an id, answers come back by id in any order,
//! and events arrive in between.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc, Mutex,
    },
};

use lit_companion_platform::endpoint::{self, Stream};
use lit_companion_wire::frame::{read_json, write_json};
use serde_json::{json, Value};

type Reply = Result<Value, String>;

/// A connection to the companion.
pub(crate) struct Control {
    writer: Mutex<Stream>,
    pending: Mutex<HashMap<u64, mpsc::Sender<Reply>>>,
    next: AtomicU64,
}

/// Why the window cannot reach the companion.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// Nothing listens: the companion is not running.
    NotRunning,
    /// Something else (a socket that is not ours, an I/O error).
    Other(String),
}

impl Control {
    /// Connects to the running companion; events go to `events` until it goes away, when
    /// `"gone"` is the last one.
    pub(crate) fn connect(events: mpsc::Sender<String>) -> Result<Arc<Self>, ConnectError> {
        let path = endpoint::control_socket_path();
        let stream = endpoint::connect(&path).map_err(|e| match e {
            endpoint::ConnectError::NotRunning { .. } => ConnectError::NotRunning,
            other => ConnectError::Other(other.to_string()),
        })?;
        let mut reader = stream
            .try_clone()
            .map_err(|e| ConnectError::Other(e.to_string()))?;
        let control = Arc::new(Self {
            writer: Mutex::new(stream),
            pending: Mutex::new(HashMap::new()),
            next: AtomicU64::new(1),
        });
        let weak = Arc::downgrade(&control);
        std::thread::Builder::new()
            .name("control-reader".into())
            .spawn(move || {
                while let Ok(message) = read_json::<Value>(&mut reader) {
                    if let Some(event) = message["event"].as_str() {
                        let _ = events.send(event.to_owned());
                        continue;
                    }
                    let Some(control) = weak.upgrade() else { break };
                    let Some(id) = message["id"].as_u64() else {
                        continue;
                    };
                    let waiting = control.pending.lock().ok().and_then(|mut p| p.remove(&id));
                    if let Some(tx) = waiting {
                        let reply = match message.get("error") {
                            Some(e) => Err(e.as_str().map_or_else(|| e.to_string(), str::to_owned)),
                            None => Ok(message["ok"].clone()),
                        };
                        let _ = tx.send(reply);
                    }
                }
                // The companion went away: every call waiting gets an error (its sender drops).
                if let Some(control) = weak.upgrade() {
                    if let Ok(mut p) = control.pending.lock() {
                        p.clear();
                    }
                }
                let _ = events.send("gone".into());
            })
            .map_err(|e| ConnectError::Other(e.to_string()))?;
        Ok(control)
    }

    /// Calls `cmd` with `args` and waits for the answer (blocking: call it off the main thread).
    pub(crate) fn call(&self, cmd: &str, args: Value) -> Reply {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        self.pending
            .lock()
            .map_err(|_| "the companion's connection failed")?
            .insert(id, tx);
        let sent = self
            .writer
            .lock()
            .map_err(|_| "the companion's connection failed".to_owned())
            .and_then(|mut w| {
                write_json(&mut *w, &json!({ "id": id, "cmd": cmd, "args": args }))
                    .map_err(|e| e.to_string())
            });
        if let Err(e) = sent {
            if let Ok(mut p) = self.pending.lock() {
                p.remove(&id);
            }
            return Err(format!("the companion is not reachable: {e}"));
        }
        rx.recv()
            .unwrap_or_else(|_| Err("Lit Companion stopped; start it again".into()))
    }
}
