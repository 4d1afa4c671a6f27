//! What differs per generation besides the wire format.

use lit_companion_session::Generation;
use std::time::Duration;

/// The SDK's default session lifetime: v7 (Datil) 24 hours, v8 (Naga) 15 minutes.
pub fn default_lifetime(generation: Generation) -> Duration {
    match generation {
        Generation::Datil => Duration::from_secs(24 * 3600),
        Generation::Naga => Duration::from_secs(15 * 60),
    }
}
