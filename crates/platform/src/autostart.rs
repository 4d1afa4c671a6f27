//! Starting the desktop app when the user logs in: one entry per user, in the place the OS reads
//! at login, that runs the app with [`HIDDEN`] (it then starts in the tray, with no window).
//!
//! | OS | the entry |
//! |---|---|
//! | Linux and other XDG desktops | `$XDG_CONFIG_HOME/autostart/lit-companion.desktop` (default `~/.config/autostart`), per the XDG Autostart specification |
//! | Windows | the value `Lit Companion` of `HKCU\Software\Microsoft\Windows\CurrentVersion\Run` |
//! | macOS | the LaunchAgent `~/Library/LaunchAgents/app.litcompanion.desktop.plist` (`RunAtLoad`) |
//!
//! These names are the ones the uninstallers remove: the .deb's postrm removes each user's
//! `~/.config/autostart/lit-companion.desktop` that runs `/usr/bin/lit-companion-app`; Tauri's
//! NSIS uninstaller deletes the `Run` value named after the product (`Lit Companion`), and ours
//! (`packaging/windows/installer.nsi`) the one that runs a program in its folder.
//!
//! Tauri's autostart plugin, and the `auto-launch` crate it wraps, write the same kinds of entry,
//! but are not used: on Windows they write `HKEY_LOCAL_MACHINE` when the app runs elevated, and
//! neither quotes the program's path (`C:\Program Files\…` unquoted runs `C:\Program.exe` when
//! there is one); the plugin lives inside the app, where `lit-companion doctor` cannot ask it; and
//! `auto-launch` builds C and Objective-C code on macOS that this workspace keeps out. Entries are
//! read back here too (what they run, whether the desktop switched them off), so that an entry
//! left by a moved or deleted app can be told from a live one.

use std::{
    io::{self, ErrorKind},
    path::{Path, PathBuf},
};

/// The argument every entry passes: start in the tray, without a window.
pub const HIDDEN: &str = "--hidden";

/// The name of the entry: the XDG autostart file (Linux).
pub const DESKTOP_FILE: &str = "lit-companion.desktop";
/// The name of the entry: the value under the `Run` key (Windows; the product's name, which
/// Tauri's NSIS uninstaller removes).
pub const RUN_VALUE: &str = "Lit Companion";
/// The name of the entry: the LaunchAgent's label and file name (macOS; the bundle identifier).
pub const AGENT_LABEL: &str = "app.litcompanion.desktop";

/// `HKEY_CURRENT_USER\<this>` holds the programs Windows starts at this user's login.
pub const RUN_KEY: &str = r"Software\Microsoft\Windows\CurrentVersion\Run";
/// Where Task Manager's Startup tab records that the user switched an entry off.
pub const STARTUP_APPROVED_KEY: &str =
    r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run";

/// Why the entry could not be read, written or removed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginItemError {
    /// No home folder to keep the entry in (Linux, macOS).
    #[error("your home folder is not known (HOME is not set)")]
    NoHome,
    /// The program's path cannot be written into an entry.
    #[error("{0} cannot be started at login: its path holds a control character")]
    Path(PathBuf),
    /// The file or registry value could not be read, written or removed.
    #[error("could not {action} {place}: {source}")]
    Io {
        /// "read", "write" or "remove".
        action: &'static str,
        /// The file, or the registry value.
        place: String,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
}

/// A login entry as the OS holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginEntry {
    /// Where it is: the file, or the registry value.
    pub place: String,
    /// The program it starts (empty when the entry names none that can be read).
    pub program: PathBuf,
    /// The arguments it passes.
    pub args: Vec<String>,
    /// False when the entry is there but the desktop switched it off (`Hidden=true` or
    /// `X-GNOME-Autostart-enabled=false`; Task Manager's "Disabled"; launchd's `Disabled`).
    pub enabled: bool,
}

impl LoginEntry {
    /// Whether it starts the app in the tray.
    pub fn starts_hidden(&self) -> bool {
        self.args.iter().any(|a| a == HIDDEN)
    }

    /// Whether the program it starts is gone (the app was moved, deleted or uninstalled).
    pub fn is_stale(&self) -> bool {
        self.program.as_os_str().is_empty() || !self.program.is_file()
    }

    /// Whether the OS will start the app from it at login.
    pub fn starts_at_login(&self) -> bool {
        self.enabled && !self.is_stale()
    }

    /// The command line, for people.
    pub fn command(&self) -> String {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// This user's login entry for the app.
#[derive(Debug, Clone)]
pub struct LoginItem {
    /// The entry's file (Linux, macOS).
    #[cfg(not(windows))]
    file: PathBuf,
}

impl LoginItem {
    /// The current user's entry: in `$XDG_CONFIG_HOME` (else `$HOME/.config`) on Linux, in
    /// `$HOME/Library/LaunchAgents` on macOS, in the registry on Windows.
    pub fn for_user() -> Result<Self, LoginItemError> {
        #[cfg(windows)]
        {
            Ok(Self {})
        }
        #[cfg(not(windows))]
        {
            let var = |name| {
                std::env::var_os(name)
                    .map(PathBuf::from)
                    .filter(|p| p.is_absolute())
            };
            let home = var("HOME").ok_or(LoginItemError::NoHome)?;
            let dir = if cfg!(target_os = "macos") {
                home.join("Library/LaunchAgents")
            } else {
                var("XDG_CONFIG_HOME")
                    .unwrap_or_else(|| home.join(".config"))
                    .join("autostart")
            };
            Ok(Self::in_dir(&dir))
        }
    }

    /// The entry kept in `dir` instead of the user's folder (tests).
    #[cfg(not(windows))]
    pub fn in_dir(dir: &Path) -> Self {
        let name = if cfg!(target_os = "macos") {
            format!("{AGENT_LABEL}.plist")
        } else {
            DESKTOP_FILE.to_owned()
        };
        Self {
            file: dir.join(name),
        }
    }

    /// Where the entry is (a file, or the registry value), for people.
    pub fn place(&self) -> String {
        #[cfg(windows)]
        {
            format!(r"HKEY_CURRENT_USER\{RUN_KEY}\{RUN_VALUE}")
        }
        #[cfg(not(windows))]
        {
            self.file.display().to_string()
        }
    }

    fn io(&self, action: &'static str) -> impl FnOnce(io::Error) -> LoginItemError + '_ {
        move |source| LoginItemError::Io {
            action,
            place: self.place(),
            source,
        }
    }

    /// The entry as it is now; `None` when there is none.
    pub fn read(&self) -> Result<Option<LoginEntry>, LoginItemError> {
        #[cfg(windows)]
        {
            use crate::windows::registry::{binary, string, Hive};
            let Some(command) =
                string(Hive::CurrentUser, RUN_KEY, Some(RUN_VALUE)).map_err(self.io("read"))?
            else {
                return Ok(None);
            };
            let (program, args) = parse_run_command(&command);
            // Task Manager keeps 12 bytes: the first is odd when the user switched it off.
            let approved = binary(Hive::CurrentUser, STARTUP_APPROVED_KEY, Some(RUN_VALUE))
                .map_err(self.io("read"))?;
            let enabled = approved.is_none_or(|b| b.first().is_none_or(|f| f % 2 == 0));
            Ok(Some(LoginEntry {
                place: self.place(),
                program,
                args,
                enabled,
            }))
        }
        #[cfg(not(windows))]
        {
            let text = match std::fs::read(&self.file) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(self.io("read")(e)),
            };
            #[cfg(target_os = "macos")]
            let (program, args, enabled) = parse_launch_agent(&text);
            #[cfg(not(target_os = "macos"))]
            let (program, args, enabled) = parse_desktop_entry(&text);
            Ok(Some(LoginEntry {
                place: self.place(),
                program,
                args,
                enabled,
            }))
        }
    }

    /// Writes the entry so that `program` starts, hidden, at the next login (replacing what was
    /// there, and on Windows clearing Task Manager's "Disabled"); answers it as read back.
    pub fn enable(&self, program: &Path) -> Result<LoginEntry, LoginItemError> {
        #[cfg(windows)]
        {
            use crate::windows::registry::{delete_user_value, set_user_string};
            let command = run_command(program)?;
            set_user_string(RUN_KEY, Some(RUN_VALUE), &command).map_err(self.io("write"))?;
            delete_user_value(STARTUP_APPROVED_KEY, RUN_VALUE).map_err(self.io("write"))?;
        }
        #[cfg(not(windows))]
        {
            #[cfg(target_os = "macos")]
            let text = launch_agent(program)?;
            #[cfg(not(target_os = "macos"))]
            let text = desktop_entry(program)?;
            self.write_file(text.as_bytes()).map_err(self.io("write"))?;
        }
        self.read()?.ok_or_else(|| {
            self.io("write")(io::Error::new(
                ErrorKind::NotFound,
                "the entry was written but is not there",
            ))
        })
    }

    /// Removes the entry (this name only, nothing else); answers whether there was one.
    pub fn disable(&self) -> Result<bool, LoginItemError> {
        #[cfg(windows)]
        {
            use crate::windows::registry::delete_user_value;
            let removed = delete_user_value(RUN_KEY, RUN_VALUE).map_err(self.io("remove"))?;
            delete_user_value(STARTUP_APPROVED_KEY, RUN_VALUE).map_err(self.io("remove"))?;
            Ok(removed)
        }
        #[cfg(not(windows))]
        {
            match std::fs::remove_file(&self.file) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
                Err(e) => Err(self.io("remove")(e)),
            }
        }
    }

    /// Replaces the file atomically (a temporary file beside it, renamed over it).
    #[cfg(not(windows))]
    fn write_file(&self, bytes: &[u8]) -> io::Result<()> {
        use std::io::Write;
        let dir = self.file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let name = self
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let written = std::fs::File::create(&tmp).and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        });
        let result = written.and_then(|()| std::fs::rename(&tmp, &self.file));
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// The XDG autostart entry that starts `program` hidden. The path is quoted and escaped as the
/// Desktop Entry Specification's "The Exec key" asks when it holds a reserved character, and
/// `%` doubled (a field code otherwise).
#[cfg_attr(
    any(windows, target_os = "macos"),
    allow(
        dead_code,
        reason = "built and tested on every OS, written on XDG desktops"
    )
)]
fn desktop_entry(program: &Path) -> Result<String, LoginItemError> {
    let exec = exec_arg(program)?;
    Ok(format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Name=Lit Companion\n\
         Comment=Starts Lit Companion in the tray when you log in\n\
         Exec={exec} {HIDDEN}\n\
         Icon=lit-companion-app\n\
         Terminal=false\n\
         StartupNotify=false\n\
         X-GNOME-Autostart-enabled=true\n"
    ))
}

/// One argument of an `Exec` value.
#[cfg_attr(
    any(windows, target_os = "macos"),
    allow(
        dead_code,
        reason = "built and tested on every OS, written on XDG desktops"
    )
)]
fn exec_arg(program: &Path) -> Result<String, LoginItemError> {
    let path = program.to_string_lossy();
    if path.chars().any(char::is_control) {
        return Err(LoginItemError::Path(program.to_path_buf()));
    }
    let path = path.replace('%', "%%");
    const RESERVED: &[char] = &[
        ' ', '\t', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(', ')', '`',
    ];
    if !path.contains(RESERVED) {
        return Ok(path);
    }
    let mut quoted = String::from("\"");
    for c in path.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    // The string escape rule applies before the quoting rule: each backslash is written twice.
    Ok(quoted.replace('\\', "\\\\"))
}

/// The program, arguments and switch of an XDG autostart entry (its `[Desktop Entry]` group).
#[cfg_attr(
    any(windows, target_os = "macos"),
    allow(
        dead_code,
        reason = "built and tested on every OS, read on XDG desktops"
    )
)]
fn parse_desktop_entry(text: &str) -> (PathBuf, Vec<String>, bool) {
    let mut in_group = false;
    let (mut exec, mut enabled) = (None, true);
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_group = line == "[Desktop Entry]";
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if !in_group {
            continue;
        }
        match (key.trim(), value.trim()) {
            ("Exec", v) => exec = Some(v.to_owned()),
            ("Hidden", "true") | ("X-GNOME-Autostart-enabled", "false") => enabled = false,
            _ => {}
        }
    }
    let mut words = split_exec(&exec.unwrap_or_default()).into_iter();
    let program = words.next().map(PathBuf::from).unwrap_or_default();
    (program, words.collect(), enabled)
}

/// The arguments of an `Exec` value: the string escapes undone, then quoting, then `%%`.
#[cfg_attr(
    any(windows, target_os = "macos"),
    allow(
        dead_code,
        reason = "built and tested on every OS, read on XDG desktops"
    )
)]
fn split_exec(value: &str) -> Vec<String> {
    let mut unescaped = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            unescaped.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => unescaped.push(' '),
            Some('n') => unescaped.push('\n'),
            Some('t') => unescaped.push('\t'),
            Some('r') => unescaped.push('\r'),
            Some('\\') => unescaped.push('\\'),
            Some(other) => {
                unescaped.push('\\');
                unescaped.push(other);
            }
            None => unescaped.push('\\'),
        }
    }
    let mut args = Vec::new();
    let mut chars = unescaped.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        let Some(first) = chars.next() else { break };
        let mut arg = String::new();
        if first == '"' {
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => arg.extend(chars.next()),
                    c => arg.push(c),
                }
            }
        } else {
            arg.push(first);
            while let Some(c) = chars.next_if(|c| *c != ' ' && *c != '\t') {
                arg.push(c);
            }
        }
        args.push(arg.replace("%%", "%"));
    }
    args
}

/// The LaunchAgent that starts `program` hidden at login, in the user's graphical session only.
/// `AssociatedBundleIdentifiers` makes System Settings > Login Items show the app by name.
#[cfg_attr(
    not(target_os = "macos"),
    allow(dead_code, reason = "built and tested on every OS, written on macOS")
)]
fn launch_agent(program: &Path) -> Result<String, LoginItemError> {
    let path = program.to_string_lossy();
    if path.chars().any(char::is_control) {
        return Err(LoginItemError::Path(program.to_path_buf()));
    }
    let path = xml_escape(&path);
    Ok(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>{AGENT_LABEL}</string>
	<key>AssociatedBundleIdentifiers</key>
	<array>
		<string>{AGENT_LABEL}</string>
	</array>
	<key>ProgramArguments</key>
	<array>
		<string>{path}</string>
		<string>{HIDDEN}</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>LimitLoadToSessionType</key>
	<string>Aqua</string>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
"#
    ))
}

#[cfg_attr(
    not(target_os = "macos"),
    allow(dead_code, reason = "built and tested on every OS, written on macOS")
)]
fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[cfg_attr(
    not(target_os = "macos"),
    allow(dead_code, reason = "built and tested on every OS, read on macOS")
)]
fn xml_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The program, arguments and switch of a LaunchAgent in XML form (`ProgramArguments`, or
/// `Program`; `Disabled`). A plist in another form reads as naming no program.
#[cfg_attr(
    not(target_os = "macos"),
    allow(dead_code, reason = "built and tested on every OS, read on macOS")
)]
fn parse_launch_agent(text: &str) -> (PathBuf, Vec<String>, bool) {
    /// What follows `<key>name</key>` up to `until`, whitespace trimmed.
    fn after_key<'a>(text: &'a str, name: &str, until: &str) -> Option<&'a str> {
        let at = text.find(&format!("<key>{name}</key>"))?;
        let rest = text[at..].split_once("</key>")?.1.trim_start();
        Some(&rest[..rest.find(until)? + until.len()])
    }
    let strings = |s: &str| -> Vec<String> {
        s.split("<string>")
            .skip(1)
            .filter_map(|p| p.split_once("</string>").map(|(v, _)| xml_unescape(v)))
            .collect()
    };
    let mut words = match after_key(text, "ProgramArguments", "</array>") {
        Some(array) if array.starts_with("<array>") => strings(array),
        _ => Vec::new(),
    };
    if let Some(program) = after_key(text, "Program", "</string>").map(strings) {
        // `Program` names the executable; `ProgramArguments` is then argv, with argv[0] first.
        if let Some(p) = program.into_iter().next() {
            if words.is_empty() {
                words.push(p);
            } else {
                words[0] = p;
            }
        }
    }
    let disabled = after_key(text, "Disabled", "/>").is_some_and(|v| v.starts_with("<true"));
    let mut words = words.into_iter();
    let program = words.next().map(PathBuf::from).unwrap_or_default();
    (program, words.collect(), !disabled)
}

/// The `Run` value that starts `program` hidden: the path always quoted (unquoted, a path with
/// spaces is tried piece by piece: `C:\Program.exe` first).
#[cfg_attr(
    not(windows),
    allow(dead_code, reason = "built and tested on every OS, written on Windows")
)]
fn run_command(program: &Path) -> Result<String, LoginItemError> {
    let path = program.to_string_lossy();
    if path.contains('"') || path.chars().any(char::is_control) {
        return Err(LoginItemError::Path(program.to_path_buf()));
    }
    Ok(format!("\"{path}\" {HIDDEN}"))
}

/// The program and arguments of a `Run` value: a quoted path, or an unquoted one up to its
/// `.exe` (as other programs write them).
#[cfg_attr(
    not(windows),
    allow(dead_code, reason = "built and tested on every OS, read on Windows")
)]
fn parse_run_command(command: &str) -> (PathBuf, Vec<String>) {
    let command = command.trim();
    let (program, rest) = if let Some(quoted) = command.strip_prefix('"') {
        quoted.split_once('"').unwrap_or((quoted, ""))
    } else {
        let lower = command.to_ascii_lowercase();
        let end = lower
            .match_indices(".exe")
            .map(|(i, _)| i + 4)
            .find(|&i| lower[i..].is_empty() || lower[i..].starts_with(' '))
            .or_else(|| command.find(' '))
            .unwrap_or(command.len());
        command.split_at(end)
    };
    let args = rest.split_whitespace().map(str::to_owned).collect();
    (PathBuf::from(program), args)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn a_desktop_entry_runs_the_program_hidden_and_reads_back() {
        let text = desktop_entry(Path::new("/usr/bin/lit-companion-app")).unwrap();
        assert!(
            text.contains("\nExec=/usr/bin/lit-companion-app --hidden\n"),
            "{text}"
        );
        assert!(text.starts_with("[Desktop Entry]\nType=Application\n"));
        let (program, args, enabled) = parse_desktop_entry(&text);
        assert_eq!(program, Path::new("/usr/bin/lit-companion-app"));
        assert_eq!(args, [HIDDEN]);
        assert!(enabled);
    }

    #[test]
    fn paths_with_reserved_characters_are_quoted_and_read_back_the_same() {
        for path in [
            "/home/a b/Lit Companion.AppImage",
            r#"/opt/we"ird/$HOME/`x`/back\slash/100%/app"#,
            "/tmp/semi;colon&(paren)/app",
        ] {
            let text = desktop_entry(Path::new(path)).unwrap();
            let exec = text.lines().find(|l| l.starts_with("Exec=")).unwrap();
            assert!(exec.starts_with("Exec=\""), "{exec}");
            let (program, args, _) = parse_desktop_entry(&text);
            assert_eq!(program, Path::new(path), "{exec}");
            assert_eq!(args, [HIDDEN]);
        }
        // Per the specification's own example: a literal backslash in a quoted argument takes
        // four backslashes in the file.
        let text = desktop_entry(Path::new(r"/a b\c")).unwrap();
        assert!(text.contains(r#"Exec="/a b\\\\c" --hidden"#), "{text}");
        assert!(matches!(
            desktop_entry(Path::new("/tmp/line\nbreak")),
            Err(LoginItemError::Path(_))
        ));
    }

    #[test]
    fn an_entry_the_desktop_switched_off_reads_as_off() {
        let base = desktop_entry(Path::new("/usr/bin/lit-companion-app")).unwrap();
        for switch in ["Hidden=true", "X-GNOME-Autostart-enabled=false"] {
            let text = base.replace("X-GNOME-Autostart-enabled=true", switch);
            assert!(!parse_desktop_entry(&text).2, "{switch}");
        }
        // Keys of another group are not the entry's.
        let text = format!("{base}[Desktop Action x]\nExec=/bin/false\nHidden=true\n");
        let (program, _, enabled) = parse_desktop_entry(&text);
        assert_eq!(program, Path::new("/usr/bin/lit-companion-app"));
        assert!(enabled);
        assert_eq!(parse_desktop_entry("garbage").0, PathBuf::new());
    }

    #[test]
    fn a_launch_agent_runs_the_program_hidden_and_reads_back() {
        let path = "/Applications/Lit & Co <1>.app/Contents/MacOS/lit-companion-app";
        let text = launch_agent(Path::new(path)).unwrap();
        assert!(text.contains("<string>/Applications/Lit &amp; Co &lt;1&gt;.app/"));
        assert!(text.contains("<key>Label</key>\n\t<string>app.litcompanion.desktop</string>"));
        assert!(text.contains("<key>RunAtLoad</key>\n\t<true/>"));
        let (program, args, enabled) = parse_launch_agent(&text);
        assert_eq!(program, Path::new(path));
        assert_eq!(args, [HIDDEN]);
        assert!(enabled);
        let off = text.replace(
            "<key>RunAtLoad</key>",
            "<key>Disabled</key>\n\t<true/>\n\t<key>RunAtLoad</key>",
        );
        assert!(!parse_launch_agent(&off).2);
        let program_key = "<dict><key>Program</key><string>/x/app</string><key>ProgramArguments</key><array><string>app</string><string>--hidden</string></array></dict>";
        assert_eq!(
            parse_launch_agent(program_key),
            (PathBuf::from("/x/app"), vec![HIDDEN.to_owned()], true)
        );
        assert_eq!(parse_launch_agent("bplist00…").0, PathBuf::new());
        assert_eq!(xml_unescape("a&#x41;&#66;&bogus;"), "aAB&bogus;");
    }

    #[test]
    fn a_run_value_quotes_the_path_and_reads_back() {
        let path = r"C:\Users\a b\AppData\Local\Lit Companion\lit-companion-app.exe";
        let command = run_command(Path::new(path)).unwrap();
        assert_eq!(command, format!("\"{path}\" --hidden"));
        assert_eq!(
            parse_run_command(&command),
            (PathBuf::from(path), vec![HIDDEN.to_owned()])
        );
        // As other tools write them: unquoted, with spaces.
        assert_eq!(
            parse_run_command(r"C:\Program Files\Lit Companion\lit-companion-app.exe --hidden"),
            (
                PathBuf::from(r"C:\Program Files\Lit Companion\lit-companion-app.exe"),
                vec![HIDDEN.to_owned()]
            )
        );
        assert_eq!(
            parse_run_command(r"C:\app.EXE"),
            (PathBuf::from(r"C:\app.EXE"), vec![])
        );
    }

    #[cfg(not(windows))]
    #[test]
    fn enable_writes_reads_back_and_disable_removes_only_ours() {
        let dir = std::env::temp_dir().join(format!("lit-login-item-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let item = LoginItem::in_dir(&dir.join("autostart"));
        assert_eq!(item.read().unwrap(), None);
        assert!(!item.disable().unwrap(), "nothing to remove");
        let program = std::env::current_exe().unwrap();
        let entry = item.enable(&program).unwrap();
        assert_eq!(entry.program, program);
        assert!(entry.starts_hidden() && entry.enabled && !entry.is_stale());
        assert!(entry.starts_at_login());
        assert_eq!(item.read().unwrap(), Some(entry));
        let other = dir.join("autostart/other.desktop");
        std::fs::write(&other, "[Desktop Entry]\n").unwrap();
        let names = || -> Vec<String> {
            let mut n: Vec<_> = std::fs::read_dir(dir.join("autostart"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            n.sort();
            n
        };
        assert_eq!(names().len(), 2, "no temporary file left: {:?}", names());
        // A program that is gone makes the entry stale.
        let gone = item.enable(&dir.join("moved-away")).unwrap();
        assert!(gone.is_stale() && !gone.starts_at_login());
        assert!(item.disable().unwrap());
        assert_eq!(item.read().unwrap(), None);
        assert_eq!(names(), ["other.desktop"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
