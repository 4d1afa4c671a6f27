//! Starting the desktop app at login: the user's choice, kept in the settings
//! ([`AppSettings::start_at_login`](crate::AppSettings::start_at_login)), carried out by the OS's
//! login entry ([`LoginItem`]: an XDG autostart file, the `Run` registry value, a LaunchAgent),
//! which starts the app with `--hidden`, in the tray.
//!
//! The entry is what people are shown ([`state`]): the desktop's own settings may remove it or
//! switch it off, and the app does not fight them. The setting remembers what the user chose:
//! - the app's first run turns it on, once (the setting is absent until then);
//! - once the user turned it off here, only the user turns it on again;
//! - an entry whose program is gone (the app was moved or deleted) is pointed at this program
//!   while the choice is on, and removed while it is off ([`at_start`]).

use std::path::Path;

use lit_companion_platform::autostart::{LoginItem, LoginItemError};
use serde::Serialize;

use crate::{SettingsError, SettingsFile};

/// Why starting at login could not be changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The OS's entry could not be read, written or removed.
    #[error(transparent)]
    Entry(#[from] LoginItemError),
    /// The choice could not be read or stored.
    #[error(transparent)]
    Settings(#[from] SettingsError),
}

/// What the Settings switch and the doctor show: the entry as the OS holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginState {
    /// Whether the app starts at the next login: the entry is there, switched on, and the
    /// program it runs exists.
    pub on: bool,
    /// Where the entry is (or would be): a file, or the registry value.
    pub place: String,
    /// What the entry runs, when there is one.
    pub command: Option<String>,
    /// Why an entry that is there does not start the app, or why it could not be read.
    pub problem: Option<String>,
}

/// Where a person switches login items off by hand.
const DESKTOP_SWITCH: &str = if cfg!(windows) {
    "Task Manager's Startup apps"
} else if cfg!(target_os = "macos") {
    "System Settings, Login Items"
} else {
    "your desktop's startup applications"
};

/// The entry as the OS holds it, in plain words.
pub fn state(item: &LoginItem) -> LoginState {
    let place = item.place();
    match item.read() {
        Ok(None) => LoginState {
            on: false,
            place,
            command: None,
            problem: None,
        },
        Ok(Some(entry)) => {
            let problem = if entry.is_stale() {
                Some(format!(
                    "the entry starts {}, which is no longer there",
                    if entry.program.as_os_str().is_empty() {
                        "no program this app can read".to_owned()
                    } else {
                        entry.program.display().to_string()
                    }
                ))
            } else if !entry.enabled {
                Some(format!("it is switched off in {DESKTOP_SWITCH}"))
            } else {
                None
            };
            LoginState {
                on: entry.starts_at_login(),
                place,
                command: Some(entry.command()),
                problem,
            }
        }
        Err(e) => LoginState {
            on: false,
            place,
            command: None,
            problem: Some(e.to_string()),
        },
    }
}

/// What [`at_start`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AtStart {
    /// The first run: the entry was written and the choice recorded as on.
    TurnedOn,
    /// The entry ran a program that is gone; it now runs this one.
    Repointed,
    /// The choice is off and the entry ran a program that is gone: it was removed.
    RemovedStale,
    /// Nothing to do.
    Unchanged,
}

/// What the app does when it starts (`program`: the path the entry should run, this app).
/// Nothing is touched when the settings do not load.
pub fn at_start(
    file: &SettingsFile,
    item: &LoginItem,
    program: &Path,
) -> Result<AtStart, LoginError> {
    let choice = file.load()?.start_at_login;
    let stale = item.read()?.is_some_and(|e| e.is_stale());
    match choice {
        None => {
            item.enable(program)?;
            file.update(|s| {
                // Another process may have recorded a choice meanwhile: it stands.
                s.start_at_login.get_or_insert(true);
                Ok(())
            })?;
            Ok(AtStart::TurnedOn)
        }
        Some(true) if stale => {
            item.enable(program)?;
            Ok(AtStart::Repointed)
        }
        Some(false) if stale => {
            item.disable()?;
            Ok(AtStart::RemovedStale)
        }
        Some(_) => Ok(AtStart::Unchanged),
    }
}

/// The user's switch: writes (`on`, running `program`) or removes the entry, then records the
/// choice. When the settings do not load, the entry is left as it is; when the entry cannot be
/// changed, nothing is recorded.
pub fn set(
    file: &SettingsFile,
    item: &LoginItem,
    program: &Path,
    on: bool,
) -> Result<LoginState, LoginError> {
    file.load()?;
    if on {
        item.enable(program)?;
    } else {
        item.disable()?;
    }
    file.update(|s| {
        s.start_at_login = Some(on);
        Ok(())
    })?;
    Ok(state(item))
}

#[cfg(all(test, not(windows)))]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use std::{fs, path::PathBuf};

    use super::*;

    struct Scratch {
        root: PathBuf,
        file: SettingsFile,
        item: LoginItem,
        program: PathBuf,
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    fn scratch(name: &str) -> Scratch {
        let root = std::env::temp_dir().join(format!("lit-login-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("data")).unwrap();
        let program = root.join("lit-companion-app");
        fs::write(&program, b"").unwrap();
        Scratch {
            file: SettingsFile::new(&root.join("data")),
            item: LoginItem::in_dir(&root.join("autostart")),
            program,
            root,
        }
    }

    #[test]
    fn the_first_run_turns_it_on_once_and_an_off_stays_off() {
        let s = scratch("first");
        assert!(!state(&s.item).on);
        assert_eq!(
            at_start(&s.file, &s.item, &s.program).unwrap(),
            AtStart::TurnedOn
        );
        let on = state(&s.item);
        assert!(on.on, "{on:?}");
        assert_eq!(
            on.command.as_deref(),
            Some(format!("{} --hidden", s.program.display()).as_str())
        );
        assert_eq!(s.file.load().unwrap().start_at_login, Some(true));
        assert_eq!(
            at_start(&s.file, &s.item, &s.program).unwrap(),
            AtStart::Unchanged
        );

        let off = set(&s.file, &s.item, &s.program, false).unwrap();
        assert!(!off.on && off.command.is_none(), "{off:?}");
        assert_eq!(s.item.read().unwrap(), None);
        assert_eq!(s.file.load().unwrap().start_at_login, Some(false));
        // Later starts leave it off.
        for _ in 0..2 {
            assert_eq!(
                at_start(&s.file, &s.item, &s.program).unwrap(),
                AtStart::Unchanged
            );
            assert_eq!(s.item.read().unwrap(), None);
        }
        assert!(set(&s.file, &s.item, &s.program, true).unwrap().on);
        assert_eq!(s.file.load().unwrap().start_at_login, Some(true));
    }

    #[test]
    fn an_entry_the_user_removed_outside_the_app_is_not_put_back() {
        let s = scratch("removed");
        at_start(&s.file, &s.item, &s.program).unwrap();
        assert!(s.item.disable().unwrap());
        assert_eq!(
            at_start(&s.file, &s.item, &s.program).unwrap(),
            AtStart::Unchanged
        );
        assert_eq!(s.item.read().unwrap(), None);
    }

    #[test]
    fn an_entry_whose_program_is_gone_is_repointed_while_on_and_removed_while_off() {
        let s = scratch("stale");
        at_start(&s.file, &s.item, &s.program).unwrap();
        let moved = s.root.join("old-place/lit-companion-app");
        s.item.enable(&moved).unwrap();
        let stale = state(&s.item);
        assert!(!stale.on);
        assert!(
            stale
                .problem
                .as_deref()
                .unwrap()
                .contains("no longer there"),
            "{stale:?}"
        );
        assert_eq!(
            at_start(&s.file, &s.item, &s.program).unwrap(),
            AtStart::Repointed
        );
        assert_eq!(s.item.read().unwrap().unwrap().program, s.program);

        set(&s.file, &s.item, &s.program, false).unwrap();
        s.item.enable(&moved).unwrap();
        assert_eq!(
            at_start(&s.file, &s.item, &s.program).unwrap(),
            AtStart::RemovedStale
        );
        assert_eq!(s.item.read().unwrap(), None);
        // An entry for another copy that exists is that copy's: left alone.
        let other = s.root.join("other-copy");
        fs::write(&other, b"").unwrap();
        s.item.enable(&other).unwrap();
        assert_eq!(
            at_start(&s.file, &s.item, &s.program).unwrap(),
            AtStart::Unchanged
        );
        assert_eq!(s.item.read().unwrap().unwrap().program, other);
    }

    #[test]
    fn a_desktop_switched_off_entry_shows_off_and_the_switch_turns_it_back_on() {
        let s = scratch("switched-off");
        at_start(&s.file, &s.item, &s.program).unwrap();
        let path = PathBuf::from(s.item.place());
        let text = fs::read_to_string(&path).unwrap();
        let off = if cfg!(target_os = "macos") {
            text.replace(
                "<key>RunAtLoad</key>",
                "<key>Disabled</key><true/><key>RunAtLoad</key>",
            )
        } else {
            text.replace("X-GNOME-Autostart-enabled=true", "Hidden=true")
        };
        fs::write(&path, off).unwrap();
        let st = state(&s.item);
        assert!(
            !st.on && st.problem.as_deref().unwrap().contains("switched off"),
            "{st:?}"
        );
        assert!(set(&s.file, &s.item, &s.program, true).unwrap().on);
    }

    #[test]
    fn an_unreadable_settings_file_touches_nothing() {
        let s = scratch("corrupt");
        fs::write(s.file.path(), b"{ not json").unwrap();
        assert!(matches!(
            at_start(&s.file, &s.item, &s.program),
            Err(LoginError::Settings(_))
        ));
        assert_eq!(s.item.read().unwrap(), None);
        let e = set(&s.file, &s.item, &s.program, true).unwrap_err();
        assert!(e.to_string().contains("corrupt"), "{e}");
        assert_eq!(s.item.read().unwrap(), None);
    }
}
