//! Loading a `--approve` policy file never panics: any bytes give a policy or a typed error.
#![no_main]
use std::{path::PathBuf, sync::OnceLock};

use libfuzzer_sys::fuzz_target;
use lit_companion_bridge::Policy;

fn file() -> &'static PathBuf {
    static F: OnceLock<PathBuf> = OnceLock::new();
    F.get_or_init(|| lit_companion_fuzz::scratch("policy").join("policy.json"))
}

fuzz_target!(|data: &[u8]| {
    std::fs::write(file(), data).unwrap();
    let loaded = Policy::load(file());
    // The file and the text roads agree.
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(loaded.is_ok(), Policy::parse(text).is_ok());
    } else {
        assert!(loaded.is_err());
    }
});
