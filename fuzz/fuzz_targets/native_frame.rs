//! Native-messaging frames: the blocking reader and the async codec never panic, agree on where
//! frames end, and never hand out more than the 1 MiB cap.
#![no_main]
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use lit_companion_wire::frame::{codec, read_frame, read_json, MAX_MESSAGE};
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let mut cursor = std::io::Cursor::new(data);
    let mut blocking = Vec::new();
    while let Ok(body) = read_frame(&mut cursor) {
        assert!(body.len() <= MAX_MESSAGE);
        blocking.push(body);
    }
    let mut codec = codec();
    let mut buf = BytesMut::from(data);
    let mut decoded = Vec::new();
    while let Ok(Some(frame)) = codec.decode(&mut buf) {
        assert!(frame.len() <= MAX_MESSAGE);
        decoded.push(frame.to_vec());
    }
    // Every complete frame the codec sees, the blocking reader sees too, in the same order.
    // Both readers see the same complete frames, in the same order, and stop at the same place.
    assert_eq!(blocking, decoded);
    let mut cursor = std::io::Cursor::new(data);
    let _ = read_json::<serde_json::Value>(&mut cursor);
});
