//! Registering the native-messaging host with browsers, and the doctor's findings.
#![allow(clippy::unwrap_used, reason = "test")]

use std::{path::PathBuf, process::Command};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_lit-companion");

fn home(name: &str) -> PathBuf {
    let h = std::env::temp_dir().join(format!("lit-browser-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&h);
    std::fs::create_dir_all(&h).unwrap();
    h
}

fn run(home: &PathBuf, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home.join("run"))
        // No browser program on PATH: which browsers count as installed is decided by the
        // profiles each test makes.
        .env("PATH", home.join("bin"))
        .env_remove("LIT_COMPANION_SOCKET")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_empty_home_gets_no_manifest_and_a_browser_on_path_gets_one() {
    let h = home("empty");
    let (code, _, err) = run(&h, &["install-browser-host", "--host-path", BIN]);
    assert_ne!(code, 0);
    assert!(err.contains("no supported browser found"), "{err}");
    assert!(
        !h.join(".config").exists() && !h.join(".mozilla").exists(),
        "no profile folder is made for a browser that is not here"
    );
    // A browser program on PATH, never started yet (no profile): it gets the manifest.
    std::fs::create_dir_all(h.join("bin")).unwrap();
    std::fs::write(h.join("bin/firefox"), "").unwrap();
    let (code, out, err) = run(&h, &["install-browser-host", "--host-path", BIN]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["installed"].as_array().unwrap().len(), 1, "{out}");
    assert!(h
        .join(".mozilla/native-messaging-hosts/app.litcompanion.host.json")
        .is_file());
}

#[test]
fn install_is_idempotent_per_browser_and_uninstall_removes_what_it_added() {
    let h = home("install");
    std::fs::create_dir_all(h.join(".config/chromium")).unwrap();
    std::fs::create_dir_all(h.join(".mozilla")).unwrap();
    let host = BIN; // any executable stands in for the host binary here
    for _ in 0..2 {
        let (code, out, err) = run(&h, &["install-browser-host", "--host-path", host]);
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["installed"].as_array().unwrap().len(),
            2,
            "only browsers with a profile: {out}"
        );
    }
    let chromium: Value = serde_json::from_str(
        &std::fs::read_to_string(
            h.join(".config/chromium/NativeMessagingHosts/app.litcompanion.host.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        chromium["allowed_origins"],
        serde_json::json!(["chrome-extension://ilaebllfbkgdbaeahkmhkdhchcamhekg/"])
    );
    assert_eq!(chromium["type"], "stdio");
    assert_eq!(chromium["path"], host);
    let firefox: Value = serde_json::from_str(
        &std::fs::read_to_string(
            h.join(".mozilla/native-messaging-hosts/app.litcompanion.host.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        firefox["allowed_extensions"],
        serde_json::json!(["companion@litcompanion.app"])
    );
    assert!(
        h.join(".config/google-chrome").read_dir().is_err(),
        "no folders for absent browsers"
    );

    // The doctor sees the manifests and says the companion is not running.
    let (code, _, err) = run(&h, &["doctor"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("ok:      chromium: host manifest in place"),
        "{err}"
    );
    assert!(
        err.contains("problem: Lit Companion is not running"),
        "{err}"
    );

    let (code, out, _) = run(&h, &["uninstall-browser-host"]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["removed"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(!h
        .join(".config/chromium/NativeMessagingHosts/app.litcompanion.host.json")
        .exists());
    // Both browsers are still here: each is named with the place it reads and the fix.
    let (_, _, err) = run(&h, &["doctor"]);
    assert!(
        err.contains("problem: chromium: no host manifest where Chromium reads it"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "problem: firefox: no host manifest where Firefox reads it ({}) — fix: lit-companion install-browser-host --browser firefox",
            h.join(".mozilla/native-messaging-hosts/app.litcompanion.host.json").display()
        )),
        "{err}"
    );
    // With no browser here at all, one line says so.
    let empty = home("doctor-empty");
    let (_, _, err) = run(&empty, &["doctor"]);
    assert!(err.contains("no browser has the host manifest"), "{err}");
}

#[test]
fn the_doctor_checks_firefox_like_the_chromium_family() {
    let h = home("firefox-doctor");
    std::fs::create_dir_all(h.join(".mozilla")).unwrap();
    let (code, _, err) = run(
        &h,
        &[
            "install-browser-host",
            "--browser",
            "firefox",
            "--host-path",
            BIN,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let file = h.join(".mozilla/native-messaging-hosts/app.litcompanion.host.json");
    let (_, _, err) = run(&h, &["doctor"]);
    assert!(
        err.contains(&format!(
            "ok:      firefox: host manifest in place ({}), allowing companion@litcompanion.app",
            file.display()
        )),
        "{err}"
    );

    // A manifest that allows another add-on: Firefox would refuse ours.
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    m["allowed_extensions"] = serde_json::json!(["impostor@example.org"]);
    std::fs::write(&file, m.to_string()).unwrap();
    let (code, _, err) = run(&h, &["doctor", "--browser", "firefox"]);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!(
            "problem: {}: its allowed_extensions does not name the extension companion@litcompanion.app — fix: lit-companion install-browser-host --browser firefox",
            file.display()
        )),
        "{err}"
    );
    // Chromium's key does not count for Firefox.
    m["allowed_extensions"] = serde_json::json!([]);
    m["allowed_origins"] = serde_json::json!(["companion@litcompanion.app"]);
    std::fs::write(&file, m.to_string()).unwrap();
    let (_, _, err) = run(&h, &["doctor", "--browser", "firefox"]);
    assert!(
        err.contains("its allowed_extensions does not name"),
        "{err}"
    );

    // Named, a browser that is not here is still reported.
    let (_, _, err) = run(&h, &["doctor", "--browser", "brave"]);
    assert!(
        err.contains("problem: brave: no host manifest where Brave reads it"),
        "{err}"
    );
}

#[test]
fn firefox_with_a_profile_folder_is_refused_since_firefox_never_reads_it() {
    let h = home("firefox-profile");
    let profile = h.join("profile");
    for command in ["install-browser-host", "doctor", "uninstall-browser-host"] {
        let (code, _, err) = run(
            &h,
            &[
                command,
                "--browser",
                "firefox",
                "--user-data-dir",
                profile.to_str().unwrap(),
                "--host-path",
                BIN,
            ],
        );
        assert_eq!(code, 2, "{command}: {err}");
        assert!(
            err.contains("Firefox never reads a host manifest from a profile folder"),
            "{command}: {err}"
        );
        assert!(
            err.contains(&format!(
                "leave out --user-data-dir (Firefox reads {})",
                h.join(".mozilla/native-messaging-hosts").display()
            )),
            "{command}: {err}"
        );
    }
    assert!(!profile.exists(), "nothing was written");
    // One profile is one browser's.
    let (code, _, err) = run(
        &h,
        &[
            "install-browser-host",
            "--browser",
            "chromium",
            "--browser",
            "chrome",
            "--user-data-dir",
            profile.to_str().unwrap(),
            "--host-path",
            BIN,
        ],
    );
    assert_eq!(code, 2, "{err}");
    assert!(!profile.exists());
}

#[test]
fn a_test_profile_and_a_broken_manifest() {
    let h = home("profile");
    let profile = h.join("profile");
    let (code, _, err) = run(
        &h,
        &[
            "install-browser-host",
            "--user-data-dir",
            profile.to_str().unwrap(),
            "--extension-id",
            "abcdefghijklmnopabcdefghijklmnop",
            "--host-path",
            BIN,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let file = profile.join("NativeMessagingHosts/app.litcompanion.host.json");
    let m: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        m["allowed_origins"][0],
        "chrome-extension://abcdefghijklmnopabcdefghijklmnop/"
    );

    // A manifest pointing at a missing host is reported with the fix.
    let mut broken = m.clone();
    broken["path"] = Value::String("/nonexistent/lit-companion-host".into());
    std::fs::write(&file, broken.to_string()).unwrap();
    let (code, _, err) = run(
        &h,
        &[
            "doctor",
            "--user-data-dir",
            profile.to_str().unwrap(),
            "--extension-id",
            "abcdefghijklmnopabcdefghijklmnop",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("missing or not executable"), "{err}");
    assert!(
        err.contains("fix: lit-companion install-browser-host"),
        "{err}"
    );
    // Unknown browsers and a missing host binary are bad input.
    assert_eq!(
        run(
            &h,
            &[
                "install-browser-host",
                "--browser",
                "netscape",
                "--host-path",
                BIN
            ]
        )
        .0,
        2
    );
    assert_eq!(
        run(
            &h,
            &[
                "install-browser-host",
                "--browser",
                "chromium",
                "--host-path",
                "/nonexistent"
            ]
        )
        .0,
        2
    );
}

#[test]
fn the_doctor_says_whether_the_app_starts_at_login_and_flags_an_entry_whose_program_is_gone() {
    let h = home("login");
    let entry = h.join(".config/autostart/lit-companion.desktop");
    let login_line = |err: &str| -> String {
        err.lines()
            .find(|l| l.contains("at login"))
            .unwrap_or_default()
            .to_owned()
    };
    let doctor = || {
        let out = Command::new(BIN)
            .arg("doctor")
            .env("HOME", &h)
            .env_remove("XDG_CONFIG_HOME")
            .env("XDG_RUNTIME_DIR", h.join("run"))
            .env("PATH", h.join("bin"))
            .env_remove("LIT_COMPANION_SOCKET")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = doctor();
    assert!(
        login_line(&err).starts_with("ok:      the app does not start at login"),
        "{err}"
    );
    std::fs::create_dir_all(entry.parent().unwrap()).unwrap();
    let write = |program: &str| {
        std::fs::write(
            &entry,
            format!("[Desktop Entry]\nType=Application\nExec={program} --hidden\n"),
        )
        .unwrap()
    };
    write(BIN);
    let err = doctor();
    assert_eq!(
        login_line(&err),
        format!(
            "ok:      the app starts at login, in the tray: {} runs {BIN} --hidden",
            entry.display()
        ),
        "{err}"
    );
    write("/nowhere/lit-companion-app");
    let err = doctor();
    assert!(
        login_line(&err).starts_with(
            "problem: starting at login: the entry starts /nowhere/lit-companion-app, which is no longer there"
        ),
        "{err}"
    );
}
