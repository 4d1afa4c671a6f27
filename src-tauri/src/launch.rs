//! Finding the companion, or starting it: `lit-companion` in this program's folder, run as
//! `lit-companion tray`.

use std::{
    path::PathBuf,
    process::{Command, ExitCode, Stdio},
    sync::{mpsc, Arc},
    time::{Duration, Instant},
};

use crate::control::{ConnectError, Control};

/// How long a companion just started has to open its control road.
const START_WAIT: Duration = Duration::from_secs(15);

/// The companion's program: `lit-companion` beside this one.
fn companion_program() -> Result<PathBuf, String> {
    let exe =
        std::env::current_exe().map_err(|e| format!("this program's path is not known: {e}"))?;
    let name = if cfg!(windows) {
        "lit-companion.exe"
    } else {
        "lit-companion"
    };
    Ok(exe.with_file_name(name))
}

/// Becomes `lit-companion <args>`: on Unix the same process; on Windows the command is started
/// without a console window, and this program waits for it (`open-url`, which answers at once)
/// or, for the companion itself (`tray`), leaves it running and ends.
pub(crate) fn hand_over(args: &[&str]) -> ExitCode {
    let program = match companion_program() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let mut command = Command::new(&program);
    command.args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let e = command.exec();
        eprintln!("could not start {}: {e}", program.display());
        ExitCode::FAILURE
    }
    #[cfg(not(unix))]
    {
        no_console(&mut command);
        let done = if args.first() == Some(&"tray") {
            command.spawn().map(|_| true)
        } else {
            command.status().map(|s| s.success())
        };
        match done {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("could not start {}: {e}", program.display());
                ExitCode::FAILURE
            }
        }
    }
}

/// Windows: the command is a console program; started from the app it must not open a console
/// window (`CREATE_NO_WINDOW`).
#[cfg(windows)]
fn no_console(command: &mut Command) {
    use std::os::windows::process::CommandExt;
    const CREATE_NO_WINDOW: u32 = 0x0800_0000;
    command.creation_flags(CREATE_NO_WINDOW);
}

#[cfg(not(windows))]
fn no_console(_: &mut Command) {}

/// Starts the companion in the tray, on its own (it outlives this program).
fn start_companion() -> Result<(), String> {
    let program = companion_program()?;
    let mut command = Command::new(&program);
    command
        .args(["tray", "--hidden"])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        command.process_group(0); // not stopped with the terminal or the launcher that ran us
    }
    no_console(&mut command);
    let mut child = command
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", program.display()))?;
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

/// Starts the companion and waits until `ready` finds it running (`Some`), for at most
/// [`START_WAIT`].
fn start_and_wait<T>(mut ready: impl FnMut() -> Result<Option<T>, String>) -> Result<T, String> {
    start_companion()?;
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        if let Some(found) = ready()? {
            return Ok(found);
        }
        if started.elapsed() >= START_WAIT {
            return Err(format!(
                "the companion did not start within {} s",
                START_WAIT.as_secs()
            ));
        }
    }
}

/// Connects to the companion, starting it first when `may_start` and it is not running.
pub(crate) fn connect(
    events: mpsc::Sender<String>,
    may_start: bool,
) -> Result<Arc<Control>, String> {
    let attempt = || match Control::connect(events.clone()) {
        Ok(c) => Ok(Some(c)),
        Err(ConnectError::NotRunning) => Ok(None),
        Err(ConnectError::Other(e)) => Err(e),
    };
    match attempt()? {
        Some(c) => Ok(c),
        None if may_start => start_and_wait(attempt),
        None => Err("Lit Companion is not running".into()),
    }
}

/// Makes sure the companion runs (a link opened while it does not is handed to one started
/// for it): its bridge socket, where `open-url` hands the link, answers.
pub(crate) fn ensure_companion() -> Result<(), String> {
    let path = lit_companion_platform::endpoint::default_socket_path();
    let answers = || {
        Ok(lit_companion_platform::endpoint::connect(&path)
            .ok()
            .map(drop))
    };
    match answers()? {
        Some(()) => Ok(()),
        None => start_and_wait(answers),
    }
}
