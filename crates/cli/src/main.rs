//! `lit-companion`: Lit session signatures from the command line, for servers and CI.
//!
//! Keys come from files (mode 0600 or stricter) or the OS keychain, never from argv. Output is
//! JSON on stdout; every failure is one line on stderr and a non-zero exit (2: bad input,
//! 1: a signature was checked and refused).

#![allow(
    clippy::print_stdout,
    reason = "a command-line program answers on stdout"
)]

use std::{io::Write, process::ExitCode};

use clap::Parser;

mod browser_cmd;
mod cmd;
mod input;
mod link_cmd;
mod network_cmd;
mod serve_cmd;
mod store_cmd;
mod vault_cmd;

fn main() -> ExitCode {
    let cli = match cmd::Cli::try_parse() {
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
