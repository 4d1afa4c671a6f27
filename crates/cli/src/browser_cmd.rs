//! `install-browser-host`, `uninstall-browser-host` and `doctor` (the browser host, the running
//! companion, and whether the app starts at login).

use std::path::PathBuf;

use clap::Args;
use lit_companion_native_host::install::{self, Browser, Finding, Target, TargetError};
use lit_companion_platform::autostart::LoginItem;
use lit_companion_runtime::login;
use serde_json::json;

use crate::cmd::Failure;

/// Which browsers and profiles.
#[derive(Debug, Args)]
pub(crate) struct BrowserArgs {
    /// chromium, chrome, brave, edge or firefox; repeatable. Default: every browser with a
    /// profile on this machine.
    #[arg(long = "browser", value_name = "NAME")]
    browsers: Vec<String>,
    /// Our extension's id instead of the published one; repeatable.
    #[arg(long = "extension-id", value_name = "ID")]
    extension_ids: Vec<String>,
    /// A Chromium-family profile directory (its `--user-data-dir`): the manifest goes into its
    /// `NativeMessagingHosts` folder. Not for Firefox, which reads manifests only from the
    /// user's folder (`~/.mozilla/native-messaging-hosts` on Linux) whatever the profile.
    #[arg(long, value_name = "DIR")]
    user_data_dir: Option<PathBuf>,
    /// The host binary (default: `lit-companion-host` beside this program).
    #[arg(long, value_name = "PATH")]
    host_path: Option<PathBuf>,
}

fn home() -> Result<PathBuf, Failure> {
    install::user_home().ok_or_else(|| Failure::input("HOME is not set"))
}

fn parse_browsers(args: &BrowserArgs) -> Result<Vec<Browser>, Failure> {
    args.browsers
        .iter()
        .map(|b| {
            Browser::parse(b).ok_or_else(|| {
                Failure::input(format!(
                    "unknown browser {b:?} (chromium, chrome, brave, edge, firefox)"
                ))
            })
        })
        .collect()
}

fn targets(args: &BrowserArgs, only_present: bool) -> Result<Vec<Target>, Failure> {
    let named = parse_browsers(args)?;
    if let Some(dir) = &args.user_data_dir {
        if named.len() > 1 {
            return Err(Failure::input(
                "--user-data-dir is one browser's profile: name at most one --browser",
            ));
        }
        let browser = named.first().copied().unwrap_or(Browser::Chromium);
        return Target::in_profile(browser, dir)
            .map(|t| vec![t])
            .map_err(|e| match e {
                TargetError::FirefoxReadsNoProfile { .. } => Failure::input(format!(
                    "{e}: leave out --user-data-dir (Firefox reads {})",
                    home()
                        .map(|h| browser.manifest_dir(&h).display().to_string())
                        .unwrap_or_else(|_| "the user's folder".into())
                )),
                _ => Failure::input(e.to_string()),
            });
    }
    let home = home()?;
    if named.is_empty() {
        return Ok(install::targets_in_home(&home, only_present));
    }
    Ok(named
        .into_iter()
        .map(|browser| Target::in_home(browser, &home).named())
        .collect())
}

fn extension_ids(args: &BrowserArgs, browser: Browser) -> Vec<String> {
    if args.extension_ids.is_empty() {
        vec![browser.default_extension_id().to_owned()]
    } else {
        args.extension_ids.clone()
    }
}

fn host_path(args: &BrowserArgs) -> Result<PathBuf, Failure> {
    let path = match &args.host_path {
        Some(p) => std::path::absolute(p).map_err(|e| Failure::input(e.to_string()))?,
        None => install::host_beside_current_exe().map_err(|e| Failure::input(e.to_string()))?,
    };
    if !path.is_file() {
        return Err(Failure::input(format!(
            "the host binary {} does not exist (pass --host-path)",
            path.display()
        )));
    }
    Ok(path)
}

pub(crate) fn install_host(args: &BrowserArgs) -> Result<String, Failure> {
    let host = host_path(args)?;
    let targets = targets(args, true)?;
    if targets.is_empty() {
        return Err(Failure::input(
            "no supported browser found on this machine (no profile, no program on PATH); name one with --browser",
        ));
    }
    let mut written = Vec::new();
    for t in &targets {
        let file = install::install(t, &host, &extension_ids(args, t.browser))
            .map_err(|e| Failure::input(format!("{}: {e}", t.dir.display())))?;
        written
            .push(json!({ "browser": t.browser.name(), "manifest": file.display().to_string() }));
    }
    serde_json::to_string_pretty(
        &json!({ "installed": written, "host": host.display().to_string() }),
    )
    .map_err(|e| Failure::input(e.to_string()))
}

pub(crate) fn uninstall_host(args: &BrowserArgs) -> Result<String, Failure> {
    let mut removed = Vec::new();
    for t in targets(args, false)? {
        if install::uninstall(&t)
            .map_err(|e| Failure::input(format!("{}: {e}", t.dir.display())))?
        {
            removed.push(t.file().display().to_string());
        }
    }
    serde_json::to_string_pretty(&json!({ "removed": removed }))
        .map_err(|e| Failure::input(e.to_string()))
}

pub(crate) fn doctor(args: &BrowserArgs) -> Result<String, Failure> {
    let targets = targets(args, false)?;
    let mut findings = install::doctor(&targets, &|b| extension_ids(args, b));
    findings.push(login_finding());
    let text: Vec<String> = findings
        .iter()
        .map(|f| format!("{} {}", if f.ok { "ok:     " } else { "problem:" }, f.line))
        .collect();
    if findings.iter().all(|f| f.ok) {
        Ok(text.join("\n"))
    } else {
        Err(Failure {
            message: format!("\n{}", text.join("\n")),
            exit_code: 1,
        })
    }
}

/// Whether the desktop app starts at login, from its entry as the OS holds it. Off is a choice;
/// an entry that cannot start the app is a problem.
fn login_finding() -> Finding {
    let item = match LoginItem::for_user() {
        Ok(item) => item,
        Err(e) => {
            return Finding {
                ok: false,
                line: format!("starting at login: {e}"),
            }
        }
    };
    let state = login::state(&item);
    let stale = item.read().ok().flatten().is_some_and(|e| e.is_stale());
    let (ok, line) = match (&state.command, &state.problem) {
        (Some(command), None) => (
            true,
            format!("the app starts at login, in the tray: {} runs {command}", state.place),
        ),
        (None, None) => (
            true,
            "the app does not start at login (Settings in the app: \"Start Lit Companion when you log in\")".to_owned(),
        ),
        (_, Some(problem)) if stale => (
            false,
            format!(
                "starting at login: {problem} ({}) — fix: start the app once (it repairs the entry), or remove the entry",
                state.place
            ),
        ),
        (Some(_), Some(problem)) => (
            true,
            format!("the app does not start at login: {problem} ({})", state.place),
        ),
        (None, Some(problem)) => (false, format!("starting at login: {problem}")),
    };
    Finding { ok, line }
}
