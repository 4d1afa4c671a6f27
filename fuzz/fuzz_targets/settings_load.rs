//! Loading the app's settings file never panics, and whatever loads stores and loads back the
//! same.
#![no_main]
use std::{path::PathBuf, sync::OnceLock};

use libfuzzer_sys::fuzz_target;
use lit_companion_runtime::SettingsFile;

fn dir() -> &'static PathBuf {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| lit_companion_fuzz::scratch("settings"))
}

fuzz_target!(|data: &[u8]| {
    let file = SettingsFile::new(dir());
    std::fs::write(file.path(), data).unwrap();
    if let Ok(settings) = file.load() {
        file.store(&settings).unwrap();
        assert_eq!(file.load().unwrap(), settings);
    }
});
