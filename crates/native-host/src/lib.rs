//! Native messaging, both halves of the relay.
//!
//! Browsers (Chromium, Chrome, Brave, Firefox) start the host with the calling extension's
//! origin in argv and talk to it on stdio: each message is a 32-bit length in native byte order
//! followed by that many bytes of UTF-8 JSON (Chrome "Native messaging", MDN "Native
//! messaging"). We cap messages at 1 MiB both ways (Chrome's own cap towards the browser).
//! The host relays each message to the running companion over a per-user local socket using
//! the same framing, adding the extension id the browser named.

pub mod install;
pub mod socket_path;

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};

/// The largest message either way.
pub const MAX_MESSAGE: usize = 1024 * 1024;

/// A framing failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The stream ended cleanly between messages.
    #[error("the peer closed the stream")]
    Closed,
    /// The stream ended inside a message.
    #[error("the stream ended inside a message ({got} of {want} bytes)")]
    Truncated {
        /// Bytes read.
        got: usize,
        /// Bytes announced.
        want: usize,
    },
    /// A length over [`MAX_MESSAGE`].
    #[error("a message of {0} bytes is over the 1 MiB limit")]
    TooLarge(usize),
    /// Not JSON.
    #[error("the message is not JSON: {0}")]
    NotJson(String),
    /// An I/O error.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Reads one frame. A clean end of stream before the length is [`FrameError::Closed`].
pub fn read_frame(r: &mut impl Read) -> Result<Vec<u8>, FrameError> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Closed),
            Ok(0) => return Err(FrameError::Truncated { got, want: 4 }),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    let want = u32::from_ne_bytes(len) as usize;
    if want > MAX_MESSAGE {
        return Err(FrameError::TooLarge(want));
    }
    let mut body = vec![0u8; want];
    let mut got = 0;
    while got < want {
        match r.read(&mut body[got..]) {
            Ok(0) => return Err(FrameError::Truncated { got, want }),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(body)
}

/// Reads one frame and parses it as JSON.
pub fn read_json<T: for<'de> Deserialize<'de>>(r: &mut impl Read) -> Result<T, FrameError> {
    let body = read_frame(r)?;
    serde_json::from_slice(&body).map_err(|e| FrameError::NotJson(e.to_string()))
}

/// Writes one frame (refusing bodies over the limit) and flushes.
pub fn write_frame(w: &mut impl Write, body: &[u8]) -> Result<(), FrameError> {
    if body.len() > MAX_MESSAGE {
        return Err(FrameError::TooLarge(body.len()));
    }
    let len = u32::try_from(body.len()).map_err(|_| FrameError::TooLarge(body.len()))?;
    w.write_all(&len.to_ne_bytes())?;
    w.write_all(body)?;
    w.flush()?;
    Ok(())
}

/// Serialises and writes one frame.
pub fn write_json(w: &mut impl Write, value: &impl Serialize) -> Result<(), FrameError> {
    let body = serde_json::to_vec(value).map_err(|e| FrameError::NotJson(e.to_string()))?;
    write_frame(w, &body)
}

/// What the extension sends the host: the page origin it vouches for (`sender.origin`) and the
/// request envelope (docs/bridge-protocol.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionMessage {
    /// The page's origin, from the browser (`sender.origin`), never from the page.
    pub origin: String,
    /// The request envelope.
    pub envelope: serde_json::Value,
}

/// What the host relays to the companion.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RelayMessage {
    /// The calling extension, as the browser named it in argv (`chrome-extension://<id>/`, or
    /// a Firefox add-on id).
    pub extension: String,
    /// The page origin the extension vouches for.
    pub origin: String,
    /// The request envelope.
    pub envelope: serde_json::Value,
}

/// What `lit-companion open-url` forwards to the running companion: a deep link the OS handed
/// to a second launch.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DeepLinkMessage {
    /// The `lit-companion://…` URL.
    pub deep_link: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(body: &[u8]) -> Vec<u8> {
        let mut out = (body.len() as u32).to_ne_bytes().to_vec();
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn several_messages_in_one_read_come_out_one_by_one() {
        let mut bytes = framed(br#"{"a":1}"#);
        bytes.extend(framed(br#"{"b":2}"#));
        let mut r = &bytes[..];
        assert_eq!(read_frame(&mut r).unwrap(), br#"{"a":1}"#);
        assert_eq!(read_frame(&mut r).unwrap(), br#"{"b":2}"#);
        assert!(matches!(read_frame(&mut r), Err(FrameError::Closed)));
    }

    #[test]
    fn truncated_oversized_and_non_json_frames_are_typed_errors() {
        let whole = framed(br#"{"a":1}"#);
        for cut in 1..whole.len() {
            let mut r = &whole[..cut];
            assert!(
                matches!(read_frame(&mut r), Err(FrameError::Truncated { .. })),
                "cut at {cut}"
            );
        }
        let mut huge = ((MAX_MESSAGE + 1) as u32).to_ne_bytes().to_vec();
        huge.extend([0u8; 16]);
        assert!(matches!(
            read_frame(&mut &huge[..]),
            Err(FrameError::TooLarge(_))
        ));
        let bad = framed(b"not json");
        assert!(matches!(
            read_json::<serde_json::Value>(&mut &bad[..]),
            Err(FrameError::NotJson(_))
        ));
        let mut sink = Vec::new();
        assert!(matches!(
            write_frame(&mut sink, &vec![b' '; MAX_MESSAGE + 1]),
            Err(FrameError::TooLarge(_))
        ));
        assert!(sink.is_empty(), "nothing is written for a refused frame");
    }

    #[test]
    fn frames_round_trip() {
        let mut out = Vec::new();
        write_json(&mut out, &serde_json::json!({"x": "y"})).unwrap();
        let back: serde_json::Value = read_json(&mut &out[..]).unwrap();
        assert_eq!(back["x"], "y");
    }
}
