//! The window: a separate program (`lit-companion-app`, beside this one) that runs only while
//! the user looks at it. This side decides when one is started (the user asked to open it, or a
//! question waits with none open) and tells the one that is open what changed.
//!
//! One window at a time: the first to say hello on the control road is the window; a second
//! (the user launching the app again) is told so and leaves, and the first is brought forward.

use std::{
    path::PathBuf,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::{json, Value};
use tokio::sync::mpsc::UnboundedSender;

/// The window program's file name.
pub const PROGRAM: &str = if cfg!(windows) {
    "lit-companion-app.exe"
} else {
    "lit-companion-app"
};

/// How long a started window has to say hello before another may be started.
const START_GRACE: Duration = Duration::from_secs(10);

/// The window program: `lit-companion-app` in this program's folder.
pub fn program() -> Result<PathBuf, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("this program's path is not known: {e}"))?;
    let dir = exe
        .parent()
        .ok_or_else(|| format!("{} has no folder", exe.display()))?;
    Ok(dir.join(PROGRAM))
}

/// Why the window is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// The user asked for it (the tray's "Open", a launch of the app): shown and focused.
    Focused,
    /// A question waits: shown without taking the keyboard, asking for attention.
    ForPrompt,
}

impl Open {
    fn event(self) -> &'static str {
        match self {
            Open::Focused => "show",
            Open::ForPrompt => "raise",
        }
    }
}

/// The window, open or not.
#[derive(Debug, Default)]
pub struct WindowHost {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The open window's connection and where its messages go.
    open: Option<(u64, UnboundedSender<Value>)>,
    /// When a window was last started, until it says hello.
    starting: Option<Instant>,
    next_id: u64,
}

impl WindowHost {
    /// Brings the window forward, starting one when none is open (or being started).
    pub fn open(&self, how: Open) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        if let Some((_, tx)) = &state.open {
            let _ = tx.send(json!({ "event": how.event() }));
            return;
        }
        if state.starting.is_some_and(|t| t.elapsed() < START_GRACE) {
            return;
        }
        match start(how) {
            Ok(()) => state.starting = Some(Instant::now()),
            Err(e) => tracing::error!("could not open the window: {e}"),
        }
    }

    /// Tells the open window, if any, that `event` happened (`prompts-changed`,
    /// `status-changed`).
    pub fn notify(&self, event: &str) {
        if let Ok(state) = self.state.lock() {
            if let Some((_, tx)) = &state.open {
                let _ = tx.send(json!({ "event": event }));
            }
        }
    }

    /// Closes the open window (the companion is quitting).
    pub fn close(&self) {
        self.notify("close");
    }

    /// Whether a window is open.
    pub fn is_open(&self) -> bool {
        self.state.lock().is_ok_and(|s| s.open.is_some())
    }

    /// A window said hello: it becomes the window, unless one is open already (then that one
    /// is brought forward and `None` says this one should leave).
    pub(crate) fn attach(&self, tx: UnboundedSender<Value>) -> Option<u64> {
        let mut state = self.state.lock().ok()?;
        if let Some((_, open)) = &state.open {
            let _ = open.send(json!({ "event": Open::Focused.event() }));
            return None;
        }
        state.next_id += 1;
        let id = state.next_id;
        state.open = Some((id, tx));
        state.starting = None;
        Some(id)
    }

    /// The window `id` went away (closed by the user, or gone).
    pub(crate) fn detach(&self, id: u64) {
        if let Ok(mut state) = self.state.lock() {
            if state.open.as_ref().is_some_and(|(open, _)| *open == id) {
                state.open = None;
            }
        }
    }
}

/// Starts the window program, which connects back over the control road. It inherits this
/// program's environment (the data directory, the display) and its error output (the log).
fn start(how: Open) -> Result<(), String> {
    let program = program()?;
    let mut command = std::process::Command::new(&program);
    command.arg("--window");
    if how == Open::ForPrompt {
        command.arg("--for-prompt");
    }
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", program.display()))?;
    // Reaped when it ends (the user closed it), so that no zombie is left behind.
    std::thread::Builder::new()
        .name("window-reaper".into())
        .spawn(move || {
            let _ = child.wait();
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}
