//! Lit Companion desktop app, and the `lit-companion` command in the same binary: the Linux
//! packages ship this one program for both (`/usr/bin/lit-companion` runs
//! `lit-companion-app --cli "$@"`), which halves their size. It is the command when its first
//! argument is `--cli` (dropped) or one of the command's subcommands (`serve`, `open-url`, …, as
//! the URL handler the command registers runs it); otherwise it is the app (no argument,
//! `--hidden`, or a `lit-companion://` link from the OS). `cargo build -p lit-companion-cli`
//! still builds the standalone command for servers and CI.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::{ffi::OsString, process::ExitCode};

/// The allocator `lit-companion serve` uses too (crates/cli/src/main.rs says why).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "--cli") {
        args.remove(1);
    } else if !args
        .get(1)
        .is_some_and(|a| lit_companion_cli::is_command(a))
    {
        lit_companion_app::run();
        return ExitCode::SUCCESS;
    }
    // Its usage lines and errors name the command as it is installed.
    args[0] = OsString::from("lit-companion");
    lit_companion_cli::main(args)
}
