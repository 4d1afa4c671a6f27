//! `lit-companion serve`: the engine and the loopback HTTP bridge, headless; and `pair`.

use std::{io::Write, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use clap::{Args, Subcommand};
use lit_companion_bridge::{ratelimit::RateLimit, Approver, Policy, Road};
use lit_companion_runtime::{AssembleError, Companion, Setup};
use lit_companion_vault::OsKeychain;
use serde_json::json;
use time::OffsetDateTime;

use crate::{
    cmd::Failure,
    terminal::TerminalApprover,
    vault_cmd::{self, VaultArgs},
};

/// `serve` flags.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Where to listen; loopback only. Port 0 picks a free port (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:41410")]
    listen: SocketAddr,
    /// Approve by this policy file instead of asking on the terminal.
    #[arg(long, value_name = "POLICY.json")]
    approve: Option<PathBuf>,
    /// Requests per second per caller (sustained).
    #[arg(long, default_value_t = 20.0)]
    rate_limit: f64,
    /// Requests per caller at once (burst).
    #[arg(long, default_value_t = 40.0)]
    burst: f64,
    /// Per-attempt timeout of a node handshake, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    node_timeout_ms: u64,
    /// How long a prompt waits for an answer, in seconds.
    #[arg(long, default_value_t = 300)]
    approval_timeout: u64,
    /// The per-user socket the browser extension's native-messaging host relays to
    /// (default: $XDG_RUNTIME_DIR/lit-companion/bridge.sock).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// The program that opens a deep link's callback in the browser (default: xdg-open, or
    /// open on macOS).
    #[arg(long, value_name = "PROGRAM")]
    opener: Option<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum PairCommand {
    /// Issue a token for a local program without an origin (shown once).
    New {
        /// The program's name, shown in prompts.
        #[arg(long)]
        name: String,
    },
    /// List pairings.
    List,
    /// Withdraw a pairing and revoke its sessions (a new pairing of the name starts empty).
    Revoke {
        /// The pairing's name.
        name: String,
    },
}

pub(crate) fn pair(cmd: PairCommand, args: &VaultArgs) -> Result<String, Failure> {
    let vault = vault_cmd::open(args)?;
    let now = OffsetDateTime::now_utc();
    let out = match cmd {
        PairCommand::New { name } => {
            let token = vault
                .create_pairing(&name, now)
                .map_err(vault_cmd::vault_error)?;
            eprintln!("note: the token is shown once; give it to {name} as `Authorization: Bearer <token>`");
            json!({ "name": name, "token": token.as_str() })
        }
        PairCommand::List => {
            let list = vault.pairings().map_err(vault_cmd::vault_error)?;
            json!(list
                .iter()
                .map(|p| json!({ "name": p.name, "createdAt": p.created_at }))
                .collect::<Vec<_>>())
        }
        PairCommand::Revoke { name } => {
            let sessions = vault
                .revoke_pairing(&name, now)
                .map_err(vault_cmd::vault_error)?;
            json!({ "revoked": name, "revokedSessions": sessions })
        }
    };
    serde_json::to_string_pretty(&out).map_err(|e| Failure::input(format!("output: {e}")))
}

pub(crate) fn serve(args: ServeArgs, vault_args: &VaultArgs) -> Result<String, Failure> {
    let _log = init_log();
    if !args.listen.ip().is_loopback() {
        return Err(Failure::input(
            "--listen must be a loopback address (127.0.0.1 or [::1])",
        ));
    }
    if !(args.rate_limit > 0.0 && args.burst >= 1.0) {
        return Err(Failure::input(
            "--rate-limit must be positive and --burst at least 1",
        ));
    }
    let approver: Arc<dyn Approver> = match &args.approve {
        Some(path) => Arc::new(Policy::load(path).map_err(|e| Failure::input(e.to_string()))?),
        None => Arc::new(TerminalApprover::controlling()),
    };
    let assembled = Companion::assemble(Setup {
        data_dir: vault_cmd::data_dir(vault_args)?,
        keychain: Arc::new(OsKeychain::from_env()),
        approver,
        node_timeout: Duration::from_millis(args.node_timeout_ms),
        approval_timeout: Duration::from_secs(args.approval_timeout),
        http: Some((
            args.listen,
            RateLimit {
                per_second: args.rate_limit,
                burst: args.burst,
            },
        )),
        socket: Some(
            args.socket
                .clone()
                .unwrap_or_else(lit_companion_platform::endpoint::default_socket_path),
        ),
        opener: args.opener.iter().cloned().collect(),
    })
    .map_err(|e| match e {
        AssembleError::Vault(e) => vault_cmd::vault_error(e),
        e => Failure::input(e.to_string()),
    })?;
    // serve has no window to show a bad settings file in: it refuses to start on one rather
    // than serve with settings the user did not choose (their pause, roads, networks).
    if let Some(problem) = assembled.settings_problem {
        return Err(Failure::input(format!(
            "{problem} (fix or remove {})",
            assembled.settings_file.path().display()
        )));
    }
    if assembled.settings.paused {
        eprintln!("note: the bridge is paused in the settings: every request is answered 4900 until it is resumed");
    }
    let runtime = lit_companion_runtime::async_runtime()
        .map_err(|e| Failure::input(format!("cannot start: {e}")))?;
    runtime.block_on(async move {
        let companion = assembled.builder.start().await;
        let Some(local) = companion.http_addr() else {
            let why = companion
                .roads()
                .iter()
                .find(|r| r.road == Road::Http)
                .map(|r| r.to_string())
                .unwrap_or_default();
            companion.shutdown().await;
            return Err(Failure::input(format!("cannot listen: {why}")));
        };
        println!("listening on http://{local}");
        let _ = std::io::stdout().flush();
        stopped().await;
        companion.shutdown().await;
        Ok("stopped".to_owned())
    })
}

/// `lit-companion tray`: the desktop companion ([`lit_companion_runtime::desktop::run`]), which
/// also keeps this program the handler of lit-companion:// links, as the app always did.
pub(crate) fn tray(hidden: bool, vault_args: &VaultArgs) -> Result<String, Failure> {
    use lit_companion_runtime::desktop::{self, RunError};
    let _log = init_log();
    // The companion and the window it starts read the data directory from the environment.
    std::env::set_var("LIT_COMPANION_DATA_DIR", vault_cmd::data_dir(vault_args)?);
    if let Err(e) = crate::link_cmd::register() {
        eprintln!(
            "could not register the lit-companion:// handler: {}",
            e.message
        );
    }
    let runtime = lit_companion_runtime::async_runtime()
        .map_err(|e| Failure::input(format!("cannot start: {e}")))?;
    match runtime.block_on(desktop::run(hidden)) {
        Ok(()) => Ok("stopped".to_owned()),
        Err(RunError::AlreadyRunning) => Ok("already running".to_owned()),
        Err(e) => Err(Failure::input(e.to_string())),
    }
}

/// Ctrl-C, or (on Unix) SIGTERM: the signals a service manager stops us with.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// One log line per event on stderr (`RUST_LOG` filters, default `info`). Request lines say
/// who asked, for what, and what was decided; never a body, key or signature.
/// The log on stderr, written by its own thread so that a request never waits on the terminal
/// or pipe; nothing is dropped (a full buffer slows writers down instead). Keep the guard until
/// exit: dropping it flushes.
fn init_log() -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .with_target(false)
        .compact()
        .try_init();
    guard
}
