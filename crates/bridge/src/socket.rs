//! The native-messaging road, companion side: where `lit-companion-host` relays what the browser
//! extension sends, and where `open-url` forwards deep links. The caller is the page origin the
//! extension vouches for (`sender.origin`).
//!
//! - Unix: a per-user socket (mode 0600 in a 0700 directory). Connections from another user are
//!   refused (peer credentials), and so is a socket path someone else owns.
//! - Windows: a per-user named pipe (`\\.\pipe\lit-companion-<SID>`), its ACL admitting only
//!   the user, created with `FILE_FLAG_FIRST_PIPE_INSTANCE` so that a name someone already holds
//!   is refused rather than shared; a client whose process runs as another user is dropped.
//!
//! Both feed the same [`connection`] handler.

use std::{path::Path, sync::Arc};

use futures_util::StreamExt;
use lit_companion_platform::endpoint::{check_trusted, SocketTrust};
use lit_companion_session::Origin;
use lit_companion_wire::{frame, BridgeError, DeepLinkMessage, ErrorCode, RelayMessage, Response};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::codec::FramedRead;

use crate::{
    caller::{Caller, Road},
    deeplink::{self, ReplayGuard},
    engine::Engine,
};

/// How deep links are answered: single-use nonces, and the program that opens the callback URL
/// in the user's browser (`xdg-open` on Linux, `open` on macOS).
#[derive(Debug)]
pub struct DeepLinks {
    replay: ReplayGuard,
    opener: Vec<String>,
}

impl DeepLinks {
    /// With an opener command (program and leading arguments; the URL is appended); used links
    /// are remembered in memory only (see [`DeepLinks::remembered_in`]).
    pub fn new(opener: Vec<String>) -> Self {
        Self {
            replay: ReplayGuard::default(),
            opener,
        }
    }

    /// With an opener, remembering used links in `dir` (the data directory) across restarts.
    pub fn remembered_in(opener: Vec<String>, dir: &Path) -> Self {
        Self {
            replay: ReplayGuard::persistent(dir),
            opener,
        }
    }

    /// The platform's URL opener: `open` on macOS, `xdg-open` elsewhere on Unix, and on
    /// Windows the shell's URL handler through `rundll32` (no `cmd /c start`, whose parser
    /// would read `&` in a URL as a command separator).
    pub fn platform_opener() -> Vec<String> {
        let opener: &[&str] = if cfg!(windows) {
            &["rundll32.exe", "url.dll,FileProtocolHandler"]
        } else if cfg!(target_os = "macos") {
            &["open"]
        } else {
            &["xdg-open"]
        };
        opener.iter().map(|s| (*s).to_owned()).collect()
    }

    fn open(&self, url: &str) {
        let Some((program, args)) = self.opener.split_first() else {
            return;
        };
        // No shell: the URL is one argument, whatever it holds.
        let _ = std::process::Command::new(program)
            .args(args)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map(|mut child| std::thread::spawn(move || child.wait()));
    }
}

/// Why the socket could not be opened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketError {
    /// The path is not ours or not private.
    #[error(transparent)]
    Untrusted(#[from] SocketTrust),
    /// Another companion is already listening there.
    #[error("another Lit Companion is already listening on {0}")]
    InUse(String),
    /// Windows: the pipe's name is already held (another companion, or a squatter that created
    /// it first); the road stays closed rather than shared.
    #[error("{0} is already held by another process (another Lit Companion, or someone squatting the name): refusing to share it")]
    Held(String),
    /// An OS error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The error.
        source: std::io::Error,
    },
}

/// Where the road listens: a Unix socket, or a named pipe's next free instance.
#[cfg(unix)]
#[derive(Debug)]
pub struct Listener(tokio::net::UnixListener);

/// Where the road listens: a Unix socket, or a named pipe's next free instance.
#[cfg(windows)]
#[derive(Debug)]
pub struct Listener {
    name: String,
    user: lit_companion_platform::windows::Sid,
    next: tokio::net::windows::named_pipe::NamedPipeServer,
}

/// Binds the socket: creates its directory (0700) if needed, refuses a directory or socket that
/// another user owns or that others can enter, replaces a stale socket of ours.
#[cfg(unix)]
pub async fn bind(path: &Path) -> Result<Listener, SocketError> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    use tokio::net::{UnixListener, UnixStream};
    let io = |context| move |source| SocketError::Io { context, source };
    if let Some(dir) = path.parent() {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io("creating the socket directory"))?;
        }
    }
    check_trusted(path)?;
    if path.exists() {
        if UnixStream::connect(path).await.is_ok() {
            return Err(SocketError::InUse(path.display().to_string()));
        }
        std::fs::remove_file(path).map_err(io("removing a stale socket"))?;
    }
    let listener = UnixListener::bind(path).map_err(io("binding the socket"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(io("protecting the socket"))?;
    Ok(Listener(listener))
}

/// Creates the pipe's first instance. Someone already holding the name (another companion, or
/// a squatter of any user) makes this fail: the road stays closed rather than shared.
#[cfg(windows)]
pub async fn bind(path: &Path) -> Result<Listener, SocketError> {
    use lit_companion_platform::windows;
    check_trusted(path)?;
    let name = path.display().to_string();
    let user = windows::current_user().map_err(|source| SocketError::Io {
        context: "reading the current user",
        source,
    })?;
    // Someone answering on the name already holds it. `FILE_FLAG_FIRST_PIPE_INSTANCE` below
    // refuses that too, race-free, on Windows; this check also covers Wine, which ignores the
    // flag. Busy (every instance taken) is held as well.
    const PIPE_BUSY: i32 = 231;
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(_) => return Err(SocketError::Held(name)),
        Err(e) if e.raw_os_error() == Some(PIPE_BUSY) => return Err(SocketError::Held(name)),
        Err(_) => {}
    }
    let next = match windows::create_pipe(&name, true, &user) {
        Ok(pipe) => pipe,
        // ERROR_ACCESS_DENIED: the first-instance flag found the name taken.
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(SocketError::Held(name))
        }
        Err(source) => {
            return Err(SocketError::Io {
                context: "creating the pipe",
                source,
            })
        }
    };
    Ok(Listener { name, user, next })
}

/// The next connection from a process of this OS user, with that process's id; connections of
/// other users are dropped unanswered. Every road on a [`Listener`] (the bridge's, the desktop's
/// control road) accepts through here.
#[cfg(unix)]
pub async fn accept(listener: &mut Listener) -> (tokio::net::UnixStream, Option<u32>) {
    let me = lit_companion_platform::endpoint::current_uid();
    loop {
        let Ok((stream, _)) = listener.0.accept().await else {
            continue;
        };
        let Ok(cred) = stream.peer_cred() else {
            continue;
        };
        if cred.uid() != me {
            continue; // dropped: another user's process gets nothing
        }
        let pid = cred.pid().and_then(|p| u32::try_from(p).ok());
        return (stream, pid);
    }
}

/// The next connection from a process of this OS user, with that process's id; connections of
/// other users are dropped unanswered. Each connected instance is handed out once the next one
/// is waiting.
#[cfg(windows)]
pub async fn accept(
    listener: &mut Listener,
) -> (
    tokio::net::windows::named_pipe::NamedPipeServer,
    Option<u32>,
) {
    use lit_companion_platform::windows;
    loop {
        let connected = listener.next.connect().await;
        let next = loop {
            match windows::create_pipe(&listener.name, false, &listener.user) {
                Ok(pipe) => break pipe,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot create the next pipe instance");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        };
        let stream = std::mem::replace(&mut listener.next, next);
        if connected.is_err() {
            continue;
        }
        let Ok(pid) = windows::pipe_client_pid(&stream) else {
            continue;
        };
        if !windows::is_same_user(pid) {
            continue; // dropped: another user's process gets nothing
        }
        return (stream, Some(pid));
    }
}

/// Serves relayed requests and forwarded deep links until the future is dropped.
#[cfg(any(unix, windows))]
pub async fn serve(mut listener: Listener, engine: Arc<Engine>, links: Arc<DeepLinks>) {
    loop {
        let (stream, _) = accept(&mut listener).await;
        let (engine, links) = (engine.clone(), links.clone());
        tokio::spawn(async move {
            let _ = connection(stream, engine, links).await;
        });
    }
}

/// One peer (a host worker, `open-url`): frames in, one answer per frame, in order. A reader
/// task watches the socket the whole time, so that when the peer goes away (the tab closed and
/// the browser killed the host) the request in progress is dropped at once — and with it its
/// prompt, which leaves the queue.
async fn connection<S>(stream: S, engine: Arc<Engine>, links: Arc<DeepLinks>) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (reader, mut writer) = tokio::io::split(stream);
    let (frames_tx, mut frames) = tokio::sync::mpsc::channel::<Result<Vec<u8>, Response>>(4);
    let (gone_tx, mut gone) = tokio::sync::watch::channel(false);
    let read = tokio::spawn(async move {
        let mut framed = FramedRead::new(reader, frame::codec());
        loop {
            match framed.next().await {
                Some(Ok(body)) => {
                    if frames_tx.send(Ok(body.to_vec())).await.is_err() {
                        return;
                    }
                }
                Some(Err(e)) if frame::is_too_large(&e) => {
                    let e = BridgeError::new(ErrorCode::TooLarge, "a message over 1 MiB");
                    let _ = frames_tx.send(Err(Response::err(Value::Null, &e))).await;
                    return; // the framing is lost: nothing more can be read
                }
                Some(Err(_)) | None => break, // closed
            }
        }
        let _ = gone_tx.send(true);
    });
    while let Some(frame) = frames.recv().await {
        let reply = match frame {
            Ok(body) => {
                let work = answer(&engine, &links, &body);
                tokio::select! {
                    reply = work => reply,
                    _ = gone.wait_for(|gone| *gone) => break,
                }
            }
            Err(too_large) => {
                write(
                    &mut writer,
                    &serde_json::to_value(&too_large).unwrap_or_default(),
                )
                .await?;
                break;
            }
        };
        write(
            &mut writer,
            &serde_json::to_value(&reply).unwrap_or_else(|_| json!({})),
        )
        .await?;
    }
    read.abort();
    Ok(())
}

/// The answer to one frame: a forwarded deep link or a relayed extension request.
async fn answer(engine: &Arc<Engine>, links: &Arc<DeepLinks>, body: &[u8]) -> Response {
    if let Ok(link) = serde_json::from_slice::<DeepLinkMessage>(body) {
        return deep_link(engine, links, &link.deep_link);
    }
    match serde_json::from_slice::<RelayMessage>(body) {
        Ok(relay) => handle(engine, relay).await,
        Err(e) => Response::err(
            Value::Null,
            &BridgeError::new(
                ErrorCode::BadRequest,
                format!("malformed relay message: {e}"),
            ),
        ),
    }
}

async fn handle(engine: &Engine, relay: RelayMessage) -> Response {
    let id = relay.envelope.get("id").cloned().unwrap_or(Value::Null);
    let Ok(origin) = Origin::parse(&relay.origin) else {
        return Response::err(
            id,
            &BridgeError::new(
                ErrorCode::Unauthorized,
                "the extension did not name an http(s) page origin",
            ),
        );
    };
    let caller = Caller::verified(origin, Road::Extension);
    let body = serde_json::to_vec(&relay.envelope).unwrap_or_default();
    engine.handle(&caller, &body).await
}

/// Checks a forwarded link and, when it is good, answers "accepted" at once and runs the request
/// in the background (it may wait for the user), then opens the callback with the answer.
pub fn deep_link(engine: &Arc<Engine>, links: &Arc<DeepLinks>, url: &str) -> Response {
    let now = time::OffsetDateTime::now_utc();
    let link = match deeplink::parse(url, now) {
        Ok(l) => l,
        Err(e) => return Response::err(Value::Null, &e),
    };
    match links.replay.claim(&link, now) {
        Ok(true) => {}
        Ok(false) => {
            return Response::err(
                Value::Null,
                &BridgeError::new(ErrorCode::BadRequest, "this link was already used"),
            )
        }
        Err(e) => return Response::err(Value::Null, &e),
    }
    let (engine, links) = (engine.clone(), links.clone());
    let origin = link.origin.to_string();
    tokio::spawn(async move {
        let response = engine.handle(&link.caller(), &link.envelope).await;
        match link.answer_url(&response) {
            Ok(url) => links.open(&url),
            Err(e) => tracing::error!(error = %e, "a deep-link answer could not be sealed"),
        }
    });
    Response::ok(
        Value::Null,
        json!({ "accepted": true, "claimedOrigin": origin }),
    )
}

async fn write(stream: &mut (impl AsyncWrite + Unpin), value: &Value) -> std::io::Result<()> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let bytes = frame::encode_frame(&body).or_else(|_| {
        let e = BridgeError::new(ErrorCode::Internal, "the answer is too large to relay");
        let id = value.get("id").cloned().unwrap_or(Value::Null);
        frame::encode_frame(&serde_json::to_vec(&Response::err(id, &e)).unwrap_or_default())
    });
    stream
        .write_all(&bytes.map_err(|e| std::io::Error::other(e.to_string()))?)
        .await?;
    stream.flush().await
}
