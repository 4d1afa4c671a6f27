//! Decoding a request envelope never panics; whatever is refused carries an id that is safe to
//! echo back, and the error answer serialises.
#![no_main]
use libfuzzer_sys::fuzz_target;
use lit_companion_wire::{envelope::parse_request, Response};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    match parse_request(data) {
        Ok(request) => {
            // What is accepted speaks version 1 and has an id that is safe to echo.
            assert_eq!(request.v, 1);
            assert!(matches!(
                &request.id,
                Value::Null | Value::Number(_) | Value::String(_)
            ));
            if let Value::String(s) = &request.id {
                assert!(s.len() <= 128);
            }
            let _ = Response::ok(request.id, Value::Null);
        }
        Err((id, error)) => {
            match &id {
                Value::Null | Value::Number(_) => {}
                Value::String(s) => assert!(s.len() <= 128),
                other => panic!("an unsafe id is echoed: {other}"),
            }
            let answer = Response::err(id, &error);
            assert!(answer.error_code().is_some());
            assert!(serde_json::to_vec(&answer).is_ok());
        }
    }
});
