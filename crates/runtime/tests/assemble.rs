//! One assembly for the app and `serve`: over the same settings file both reach the same state
//! (pause, roads, networks), and a change to the file is put into force in whole while running.
#![allow(clippy::unwrap_used, reason = "test")]

use std::{path::Path, sync::Arc, time::Duration};

use lit_companion_bridge::{Approver, Engine, Policy, PromptQueue, Road};
use lit_companion_runtime::{AppSettings, Companion, SettingsFile, Setup};
use lit_companion_testkit::MemoryKeychain;

/// What the switches say, for every road and every network the settings know.
fn state(engine: &Engine, settings: &AppSettings) -> (bool, Vec<bool>, Vec<(String, bool)>) {
    (
        engine.is_paused(),
        [Road::Http, Road::Extension, Road::DeepLink]
            .into_iter()
            .map(|r| engine.road_on(r))
            .collect(),
        settings
            .known_networks()
            .into_iter()
            .map(|n| {
                let on = engine.network_on(&n);
                (n, on)
            })
            .collect(),
    )
}

fn setup(dir: &Path, approver: Arc<dyn Approver>) -> Setup {
    Setup {
        data_dir: dir.to_owned(),
        keychain: Arc::new(MemoryKeychain::default()),
        approver,
        node_timeout: Duration::from_secs(1),
        approval_timeout: Duration::from_secs(5),
        http: None,
        socket: None,
        opener: vec!["true".into()],
    }
}

fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("lit-assemble-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_app_and_serve_reach_the_same_state_from_one_settings_file() {
    let dir = scratch("same");
    let file = SettingsFile::new(&dir);
    let mut s = AppSettings {
        paused: true,
        networks: vec!["naga-dev".into(), "naga-test".into(), "naga".into()],
        ..AppSettings::default()
    };
    s.roads.http = false;
    s.roads.deep_link = false;
    file.store(&s).unwrap();

    // The app answers through its prompt queue, serve through a policy: the rest is the same.
    let app = Companion::assemble(setup(&dir, Arc::new(PromptQueue::new(|| {})))).unwrap();
    let policy = Policy::parse(r#"{"version":1,"rules":[]}"#).unwrap();
    let serve = Companion::assemble(setup(&dir, Arc::new(policy))).unwrap();
    assert!(app.settings_problem.is_none() && serve.settings_problem.is_none());
    let (a, b) = (state(&app.engine, &s), state(&serve.engine, &s));
    assert_eq!(a, b);
    assert!(a.0, "paused as the file says");
    assert_eq!(a.1, vec![false, true, false], "roads as the file says");
    assert!(
        a.2.iter().all(|(n, on)| *on == n.starts_with("naga")),
        "{:?}",
        a.2
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_settings_file_that_does_not_load_is_reported_and_the_defaults_apply() {
    let dir = scratch("bad");
    std::fs::write(dir.join("settings.json"), b"{ \"paused\": tru").unwrap();
    let policy = Policy::parse(r#"{"version":1,"rules":[]}"#).unwrap();
    let a = Companion::assemble(setup(&dir, Arc::new(policy))).unwrap();
    let problem = a.settings_problem.unwrap().to_string();
    assert!(problem.contains("corrupt"), "{problem}");
    assert_eq!(a.settings, AppSettings::default());
    assert!(!a.first_run);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_to_the_file_is_put_into_force_in_whole_while_running() {
    let dir = scratch("watch");
    let policy = Policy::parse(r#"{"version":1,"rules":[]}"#).unwrap();
    let a = Companion::assemble(setup(&dir, Arc::new(policy))).unwrap();
    assert!(a.first_run);
    assert!(!a.engine.is_paused());
    for preset in lit_companion_net::presets() {
        assert!(
            !a.engine.network_on(preset.name.as_str()),
            "{} (retired by Lit) is served without settings",
            preset.name
        );
    }
    let engine = a.engine.clone();
    let running = a.builder.start().await;
    a.settings_file
        .update(|s| {
            s.paused = true;
            s.roads.extension = false;
            s.networks.push("naga".into());
            Ok(())
        })
        .unwrap();
    let mut applied = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if engine.is_paused() && !engine.road_on(Road::Extension) && engine.network_on("naga") {
            applied = true;
            break;
        }
    }
    assert!(applied, "pause, roads and networks all follow the file");
    // A file that stops loading changes nothing: the last good settings stay in force.
    std::fs::write(a.settings_file.path(), b"not json").unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(engine.is_paused() && !engine.road_on(Road::Extension));
    running.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
