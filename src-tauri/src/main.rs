//! Lit Companion's window (and what the desktop launches); `lit_companion_app::main` says what
//! each way of starting it does.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    lit_companion_app::main(std::env::args_os().skip(1).collect())
}
