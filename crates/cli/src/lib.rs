//! `lit-companion`: Lit session signatures from the command line, for servers and CI.
//!
//! Keys come from files (mode 0600 or stricter) or the OS keychain, never from argv. Output is
//! JSON on stdout; every failure is one line on stderr and a non-zero exit code per kind of
//! failure (`cmd::exit`, README "Exit codes").
//!
//! The command is a library too, so that one program can be both the desktop app and
//! `lit-companion` (the Linux packages ship the app's binary for both): [`main`] runs the
//! command with the arguments given, [`is_command`] tells whether an argument names one of its
//! commands. `cargo build -p lit-companion-cli` still builds the standalone `lit-companion`.

#![allow(
    clippy::print_stdout,
    reason = "a command-line program answers on stdout"
)]

use std::{
    ffi::{OsStr, OsString},
    io::Write,
    process::ExitCode,
};

use clap::{CommandFactory, Parser};

mod browser_cmd;
mod cmd;
mod history_cmd;
mod input;
mod link_cmd;
mod network_cmd;
mod serve_cmd;
mod store_cmd;
mod terminal;
mod vault_cmd;

/// Whether `arg` names one of the command's subcommands (`serve`, `wallet`, `open-url`, …).
pub fn is_command(arg: &OsStr) -> bool {
    cmd::Cli::command()
        .get_subcommands()
        .any(|c| arg == c.get_name())
}

/// Runs `lit-companion` with `args` (the first is the program's name, as in `std::env::args_os`)
/// and returns its exit code.
pub fn main<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cmd::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            let rendered = e.render().to_string();
            let first = rendered
                .lines()
                .next()
                .unwrap_or("error: invalid arguments");
            eprintln!("{first} (see --help)");
            return ExitCode::from(2);
        }
    };
    match cmd::run(cli) {
        Ok(output) => {
            let mut stdout = std::io::stdout().lock();
            if writeln!(stdout, "{output}").is_err() {
                return ExitCode::from(1);
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            // Multi-line reports (the doctor) keep their lines; everything else is one line.
            if failure.message.starts_with('\n') {
                eprintln!("error:{}", failure.message);
            } else {
                eprintln!("error: {}", failure.message.replace('\n', " "));
            }
            ExitCode::from(failure.exit_code)
        }
    }
}
