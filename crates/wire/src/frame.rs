//! Native-messaging framing, used by the browser-facing stdio of the host and by the per-user
//! socket between the host and the companion alike: each message is a 32-bit length in native
//! byte order followed by that many bytes of UTF-8 JSON (Chrome "Native messaging", MDN "Native
//! messaging"). Messages are capped at 1 MiB both ways (Chrome's own cap towards the browser).
//!
//! The blocking functions serve the host; `codec` (feature `codec`) gives async readers the
//! same framing.

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
    w.write_all(&encode_frame(body)?)?;
    w.flush()?;
    Ok(())
}

/// Serialises and writes one frame.
pub fn write_json(w: &mut impl Write, value: &impl Serialize) -> Result<(), FrameError> {
    let body = serde_json::to_vec(value).map_err(|e| FrameError::NotJson(e.to_string()))?;
    write_frame(w, &body)
}

#[cfg(feature = "codec")]
/// The same framing for async streams (`tokio_util::codec::FramedRead`): native-endian 32-bit
/// lengths, frames over [`MAX_MESSAGE`] refused (see [`is_too_large`]).
pub fn codec() -> tokio_util::codec::LengthDelimitedCodec {
    tokio_util::codec::LengthDelimitedCodec::builder()
        .length_field_length(4)
        .native_endian()
        .max_frame_length(MAX_MESSAGE)
        .new_codec()
}

#[cfg(feature = "codec")]
/// Whether a read error from [`codec`] means a frame over the limit.
pub fn is_too_large(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.is::<tokio_util::codec::LengthDelimitedCodecError>())
}

/// One frame as bytes to write: the length, then the body.
pub fn encode_frame(body: &[u8]) -> Result<Vec<u8>, FrameError> {
    if body.len() > MAX_MESSAGE {
        return Err(FrameError::TooLarge(body.len()));
    }
    let len = u32::try_from(body.len()).map_err(|_| FrameError::TooLarge(body.len()))?;
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&len.to_ne_bytes());
    out.extend_from_slice(body);
    Ok(out)
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
