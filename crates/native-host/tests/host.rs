//! The host binary as a browser runs it: framed stdio, with no companion, with a squatted
//! socket, and with a companion stand-in on a real Unix socket.
#![allow(clippy::unwrap_used, reason = "test")]
#![cfg(unix)]

use std::{
    io::{Read, Write},
    os::unix::{fs::PermissionsExt, net::UnixListener},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use lit_companion_wire::{
    frame::{read_json, write_json},
    RelayMessage,
};
use serde_json::{json, Value};

const HOST: &str = env!("CARGO_BIN_EXE_lit-companion-host");
const EXT: &str = "chrome-extension://abcdefghijklmnopabcdefghijklmnop/";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lit-host-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_ne_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

fn message(id: &str) -> Vec<u8> {
    frame(serde_json::to_vec(&json!({"origin": "https://app.example.com", "envelope": {"v": 1, "id": id, "method": "listGrants"}})).unwrap().as_slice())
}

/// Runs the host with `input` on stdin (then closes it) and returns the framed answers.
fn run_host(socket: &Path, input: &[u8]) -> Vec<Value> {
    let mut child = Command::new(HOST)
        .arg(EXT)
        .env("LIT_COMPANION_SOCKET", socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(input);
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    let status = child.wait().unwrap();
    assert!(
        status.code().is_some(),
        "the host must exit normally, not crash"
    );
    let mut answers = Vec::new();
    let mut r = &out[..];
    while let Ok(v) = read_json::<Value>(&mut r) {
        answers.push(v);
    }
    answers
}

fn code(v: &Value) -> u64 {
    v["error"]["code"].as_u64().unwrap_or(0)
}

#[test]
fn without_a_companion_every_message_gets_a_typed_error_that_says_how_to_fix_it() {
    let dir = scratch("nocompanion");
    let mut input = message("a");
    input.extend(message("b"));
    let answers = run_host(&dir.join("bridge.sock"), &input);
    assert_eq!(answers.len(), 2);
    for a in &answers {
        assert_eq!(code(a), 4900);
        assert!(a["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not running"));
    }
    let mut ids: Vec<&str> = answers.iter().map(|a| a["id"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["a", "b"]);
}

#[test]
fn broken_frames_never_crash_the_host() {
    let dir = scratch("frames");
    let sock = dir.join("bridge.sock");
    // Non-JSON, then a valid message: the first gets 4400, the second is still answered.
    let mut input = frame(b"not json at all");
    input.extend(message("after"));
    let answers = run_host(&sock, &input);
    assert_eq!(answers.len(), 2);
    assert!(answers.iter().any(|a| code(a) == 4400));
    assert!(answers.iter().any(|a| a["id"] == "after"));
    // A length over the cap: one error, then the host stops reading.
    let mut huge = (2u32 * 1024 * 1024).to_ne_bytes().to_vec();
    huge.extend([b'x'; 64]);
    let answers = run_host(&sock, &huge);
    assert_eq!(answers.len(), 1);
    assert_eq!(code(&answers[0]), 4400);
    // A peer that disconnects mid-message: an error, no crash.
    let whole = message("cut");
    let answers = run_host(&sock, &whole[..whole.len() / 2]);
    assert_eq!(answers.len(), 1);
    assert_eq!(code(&answers[0]), 4400);
    // A message without the origin field is refused, the id echoed.
    let bad = frame(br#"{"envelope":{"v":1,"id":"x","method":"listGrants"}}"#);
    let answers = run_host(&sock, &bad);
    assert_eq!(
        (code(&answers[0]), answers[0]["id"].as_str()),
        (4400, Some("x"))
    );
}

#[test]
fn a_socket_in_a_directory_others_can_enter_or_own_is_refused() {
    let dir = scratch("squat");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let sock = dir.join("bridge.sock");
    let _listener = UnixListener::bind(&sock).unwrap();
    let answers = run_host(&sock, &message("s"));
    assert_eq!(code(&answers[0]), 4100, "{}", answers[0]);
    assert!(answers[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("accessible by other users"));

    // Owned by someone else (needs root to prepare; CI runs as root).
    if lit_companion_platform::endpoint::current_uid() == 0 {
        let other = scratch("squat-owner");
        let sock = other.join("bridge.sock");
        let _l = UnixListener::bind(&sock).unwrap();
        let ok = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(&other)
            .status()
            .unwrap();
        assert!(ok.success());
        let answers = run_host(&sock, &message("o"));
        assert_eq!(code(&answers[0]), 4100, "{}", answers[0]);
        assert!(answers[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("owned by another user"));
    }
}

#[test]
fn a_socket_directory_reached_through_a_symbolic_link_is_refused() {
    // A link in place of the directory (say, planted in /tmp before the user's first login)
    // could lead anywhere; the host follows none.
    let real = scratch("link-target");
    let _listener = UnixListener::bind(real.join("bridge.sock")).unwrap();
    let parent = scratch("link");
    let link = parent.join("lit-companion");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let answers = run_host(&link.join("bridge.sock"), &message("l"));
    assert_eq!(code(&answers[0]), 4100, "{}", answers[0]);
    assert!(answers[0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("symbolic link"));
}

#[test]
fn a_socket_served_by_another_users_process_is_refused_before_anything_is_sent() {
    if lit_companion_platform::endpoint::current_uid() != 0 {
        eprintln!("skipped: switching to the OS user `nobody` needs root (CI runs as root)");
        return;
    }
    // Another user listens on a socket; the file then sits in the user's own private directory,
    // owned by the user (moved and handed over by root here): only the server's credentials
    // tell. Whatever that server answers, the host sends it nothing and relays nothing.
    let theirs = scratch("foreign-server");
    let status = Command::new("chown")
        .args(["65534:65534"])
        .arg(&theirs)
        .status()
        .unwrap();
    assert!(status.success());
    let bound = theirs.join("b.sock");
    let serve = format!(
        "import socket, sys, threading\n\
         s = socket.socket(socket.AF_UNIX); s.bind({bound:?}); s.listen()\n\
         def answer():\n\
         \x20   while True:\n\
         \x20       c, _ = s.accept()\n\
         \x20       body = b'{{\"v\": 1, \"id\": \"f\", \"result\": {{\"signWithWallet\": 1}}}}'\n\
         \x20       c.sendall(len(body).to_bytes(4, sys.byteorder) + body)\n\
         threading.Thread(target=answer, daemon=True).start()\n\
         print('up', flush=True)\n\
         sys.stdin.read()\n",
    );
    // Its stdin closing ends it (killing `runuser` would leave its child running).
    let mut squatter = Command::new("runuser")
        .args(["-u", "nobody", "--", "python3", "-c", &serve])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut up = [0u8; 3];
    squatter.stdout.take().unwrap().read_exact(&mut up).unwrap();
    let mine = scratch("foreign-server-mine");
    let sock = mine.join("bridge.sock");
    std::fs::rename(&bound, &sock).unwrap();
    std::os::unix::fs::chown(&sock, Some(0), Some(0)).unwrap();
    let answers = run_host(&sock, &message("f"));
    drop(squatter.stdin.take());
    let _ = squatter.wait();
    assert_eq!(code(&answers[0]), 4100, "{}", answers[0]);
    assert!(answers[0].get("result").is_none(), "{}", answers[0]);
    assert!(
        answers[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("served by a process of another user"),
        "{}",
        answers[0]
    );
}

#[test]
fn messages_are_relayed_with_the_extension_id_the_browser_named() {
    let dir = scratch("relay");
    let sock = dir.join("bridge.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let companion = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..3 {
            let (mut s, _) = listener.accept().unwrap();
            let relay: RelayMessage = read_json(&mut s).unwrap();
            let id = relay.envelope["id"].clone();
            seen.push((relay.extension.clone(), relay.origin.clone()));
            write_json(
                &mut s,
                &json!({"v": 1, "id": id, "result": {"echo": relay.origin}}),
            )
            .unwrap();
        }
        seen
    });
    let mut input = message("1");
    input.extend(message("2"));
    input.extend(message("3"));
    let answers = run_host(&sock, &input);
    assert_eq!(answers.len(), 3);
    assert!(answers
        .iter()
        .all(|a| a["result"]["echo"] == "https://app.example.com"));
    let seen = companion.join().unwrap();
    assert!(seen
        .iter()
        .all(|(ext, origin)| ext == EXT && origin == "https://app.example.com"));
}
