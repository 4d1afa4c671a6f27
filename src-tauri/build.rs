//! The Tauri config lives at the workspace root (`../tauri.conf.json`).
fn main() {
    tauri_build::try_build(tauri_build::Attributes::new())
        .unwrap_or_else(|e| panic!("tauri build: {e:#}"));
}
