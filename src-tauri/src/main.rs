//! Lit Companion desktop app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    lit_companion_app::run();
}
