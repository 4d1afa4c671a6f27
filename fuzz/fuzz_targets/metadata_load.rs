//! Opening a vault over any `metadata.json` never panics: the file parses, or is reported corrupt
//! (and backed up), or is repaired; a vault that opens lists its contents.
#![no_main]
use std::{path::PathBuf, sync::Arc, sync::OnceLock};

use libfuzzer_sys::fuzz_target;
use lit_companion_fuzz::MemoryKeychain;
use lit_companion_vault::Vault;
use time::macros::datetime;

fn dir() -> &'static PathBuf {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| lit_companion_fuzz::scratch("metadata"))
}

fuzz_target!(|data: &[u8]| {
    let dir = dir();
    // A clean directory per input: no backup or history left by the last one.
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let _ = std::fs::remove_file(entry.path());
    }
    std::fs::write(dir.join("metadata.json"), data).unwrap();
    let now = datetime!(2026-11-24 12:00:00 UTC);
    if let Ok((vault, _)) = Vault::open(dir, Arc::new(MemoryKeychain::default()), now) {
        let _ = vault.wallets();
        let _ = vault.default_wallet();
        let _ = vault.sessions();
        let _ = vault.pairings();
        let _ = vault.history();
    }
});
