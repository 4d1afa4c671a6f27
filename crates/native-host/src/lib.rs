//! The browser's native-messaging host: where its manifests go ([`install`]). The host binary
//! relays frames ([`lit_companion_wire::frame`]) between the browser and the running companion.

pub mod install;
