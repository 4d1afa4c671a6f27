//! The Linux packages' host manifests go where the browsers read them and where the doctor
//! looks: every manifest `tauri.conf.json` installs is in a system-wide folder of
//! [`Browser::system_manifest_dirs`], and holds the key that browser reads.
#![allow(clippy::unwrap_used, reason = "test")]
#![cfg(target_os = "linux")]

use std::path::Path;

use lit_companion_native_host::install::{Browser, HOST_NAME};
use serde_json::Value;

#[test]
fn every_packaged_manifest_is_where_a_browser_and_the_doctor_read_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let conf: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("tauri.conf.json")).unwrap())
            .unwrap();
    let linux = &conf["bundle"]["linux"];
    let mut seen = Vec::new();
    for format in ["deb", "rpm"] {
        let files = linux[format]["files"].as_object().unwrap();
        for (dest, source) in files {
            let dest = Path::new(dest);
            if dest.file_name().unwrap() != format!("{HOST_NAME}.json").as_str() {
                continue;
            }
            let dir = dest.parent().unwrap().to_str().unwrap();
            let browsers: Vec<Browser> = Browser::ALL
                .into_iter()
                .filter(|b| b.system_manifest_dirs().contains(&dir))
                .collect();
            assert_eq!(
                browsers.len(),
                1,
                "{format}: {dir} is read by exactly one browser: {browsers:?}"
            );
            // The staged manifest is made for that browser: Firefox's from firefox-host.json.
            let staged = source.as_str().unwrap();
            let firefox = browsers[0] == Browser::Firefox;
            assert_eq!(
                staged.ends_with("firefox-host.json"),
                firefox,
                "{format}: {dir} gets {staged}"
            );
            seen.push(browsers[0]);
        }
    }
    for browser in [
        Browser::Chromium,
        Browser::Chrome,
        Browser::Edge,
        Browser::Firefox,
    ] {
        assert!(
            seen.contains(&browser),
            "the packages install no manifest for {browser}"
        );
    }
}
