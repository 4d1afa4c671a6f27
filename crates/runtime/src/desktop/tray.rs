//! The tray icon: the bridge's state at a glance, and Open, Pause bridge and Quit. On Linux a
//! StatusNotifierItem over D-Bus (`ksni`; no GTK), which desktops without a tray simply do not
//! show: the app's launcher still opens the window. Elsewhere there is no icon yet: launching the
//! app again opens the window.

use std::sync::Arc;

use super::Desktop;

/// What the tray's menu does.
pub trait TrayActions: Send + Sync {
    /// "Open Lit Companion" (and a click on the icon).
    fn open(&self);
    /// "Pause bridge", checked or not.
    fn toggle_pause(&self);
    /// "Quit".
    fn quit(&self);
}

/// The state the tray shows: its status line and whether the bridge is paused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayState {
    /// "Bridge on", "Bridge on · 1 request waits for you", "Bridge paused: …".
    pub line: String,
    /// Whether the bridge turns apps away.
    pub paused: bool,
}

impl TrayState {
    /// The state of `desktop` now.
    pub fn of(desktop: &Desktop) -> Self {
        let paused = desktop.engine.is_paused();
        let waiting = desktop.prompts.pending().len();
        let line = match (paused, waiting) {
            (true, _) => "Bridge paused: apps are turned away".to_owned(),
            (false, 0) => "Bridge on".to_owned(),
            (false, 1) => "Bridge on · 1 request waits for you".to_owned(),
            (false, n) => format!("Bridge on · {n} requests wait for you"),
        };
        Self { line, paused }
    }
}

/// The tray icon, shown or not.
pub struct Tray {
    #[cfg(target_os = "linux")]
    handle: ksni::Handle<sni::Item>,
}

impl std::fmt::Debug for Tray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tray").finish_non_exhaustive()
    }
}

impl Tray {
    /// Shows the icon; an error says why there is none (no session bus, no tray on this
    /// desktop, or none on this OS yet).
    pub async fn show(actions: Arc<dyn TrayActions>, state: TrayState) -> Result<Self, String> {
        #[cfg(target_os = "linux")]
        {
            use ksni::TrayMethods;
            // Decoded once: panels read the icon whenever they redraw.
            let icon = sni::argb(sni::ICON_PNG);
            let handle = sni::Item {
                actions,
                state,
                icon,
            }
            .spawn()
            .await
            .map_err(|e| e.to_string())?;
            Ok(Self { handle })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = (actions, state);
            Err("no tray icon on this OS yet: launch Lit Companion again to open its window".into())
        }
    }

    /// Brings the status line and the pause check mark up to date.
    pub async fn update(&self, state: TrayState) {
        #[cfg(target_os = "linux")]
        {
            let _ = self.handle.update(|item| item.state = state).await;
        }
        #[cfg(not(target_os = "linux"))]
        let _ = state;
    }
}

#[cfg(target_os = "linux")]
mod sni {
    use std::sync::Arc;

    use ksni::menu::{CheckmarkItem, MenuItem, StandardItem};

    use super::{TrayActions, TrayState};

    /// The icon, from the app's 32×32 picture.
    pub(super) const ICON_PNG: &[u8] = include_bytes!("../../../../icons/32x32.png");

    pub(super) struct Item {
        pub(super) actions: Arc<dyn TrayActions>,
        pub(super) state: TrayState,
        pub(super) icon: Option<ksni::Icon>,
    }

    impl ksni::Tray for Item {
        fn id(&self) -> String {
            "lit-companion".into()
        }

        fn title(&self) -> String {
            "Lit Companion".into()
        }

        fn icon_name(&self) -> String {
            String::new()
        }

        fn icon_pixmap(&self) -> Vec<ksni::Icon> {
            self.icon.iter().cloned().collect()
        }

        fn tool_tip(&self) -> ksni::ToolTip {
            ksni::ToolTip {
                title: format!("Lit Companion — {}", self.state.line),
                ..Default::default()
            }
        }

        fn activate(&mut self, _x: i32, _y: i32) {
            self.actions.open();
        }

        fn menu(&self) -> Vec<MenuItem<Self>> {
            vec![
                StandardItem {
                    label: self.state.line.clone(),
                    enabled: false,
                    ..Default::default()
                }
                .into(),
                MenuItem::Separator,
                StandardItem {
                    label: "Open Lit Companion".into(),
                    activate: Box::new(|item: &mut Self| item.actions.open()),
                    ..Default::default()
                }
                .into(),
                CheckmarkItem {
                    label: "Pause bridge".into(),
                    checked: self.state.paused,
                    activate: Box::new(|item: &mut Self| item.actions.toggle_pause()),
                    ..Default::default()
                }
                .into(),
                MenuItem::Separator,
                StandardItem {
                    label: "Quit".into(),
                    activate: Box::new(|item: &mut Self| item.actions.quit()),
                    ..Default::default()
                }
                .into(),
            ]
        }
    }

    /// A PNG as the ARGB32 (network byte order) pixels StatusNotifierItem wants.
    pub(super) fn argb(png_bytes: &[u8]) -> Option<ksni::Icon> {
        let mut decoder = png::Decoder::new(png_bytes);
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info().ok()?;
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).ok()?;
        let rgba: Vec<[u8; 4]> = match info.color_type {
            png::ColorType::Rgba => buf
                .chunks_exact(4)
                .map(|p| [p[0], p[1], p[2], p[3]])
                .collect(),
            png::ColorType::Rgb => buf
                .chunks_exact(3)
                .map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            _ => return None,
        };
        let data = rgba
            .iter()
            .flat_map(|[r, g, b, a]| [*a, *r, *g, *b])
            .collect();
        Some(ksni::Icon {
            width: i32::try_from(info.width).ok()?,
            height: i32::try_from(info.height).ok()?,
            data,
        })
    }
}
