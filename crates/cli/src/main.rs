//! `lit-companion`: Lit session signatures from the command line, for servers and CI (the
//! command itself lives in the crate's library).

fn main() -> std::process::ExitCode {
    lit_companion_cli::main(std::env::args_os())
}
