//! Arbitrary bytes through every generated validator: each event's input from raw bytes (the
//! REST path) and from a parsed value (the JSON-RPC and MCP path), and each event's output.
//!
//! Beyond "never panics", the two input paths must agree (same acceptance, same value), JSON
//! that serde_json reads is never called malformed while bytes it refuses are never accepted,
//! and what a validator accepts must validate again, unchanged, once serialized (defaults
//! filled in).

#![no_main]

use claudebench_generated::events::{EventId, Input, Output};
use claudebench_generated::validation::ValidationError;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let parsed = serde_json::from_slice::<Value>(data).ok();
    for event in EventId::ALL {
        let from_bytes = Input::parse(event, data);
        match &from_bytes {
            Ok(input) => {
                assert_eq!(input.event(), event);
                let again = Input::from_value(event, &input.to_value());
                assert_eq!(again.as_ref(), Ok(input), "{event}: an accepted input, serialized, is accepted unchanged");
            }
            Err(ValidationError::Malformed { .. }) => {
                assert!(parsed.is_none(), "{event}: JSON that serde_json reads was called malformed: {from_bytes:?}");
            }
            // Bytes serde_json refuses may still get schema issues first: a value the validator
            // skips (an unknown key's `1e400`) is not range-checked, and the answer is a refusal
            // either way.
            Err(ValidationError::Invalid(issues)) => {
                assert!(!issues.is_empty(), "{event}: a refusal names at least one issue");
            }
        }
        if parsed.is_none() {
            assert!(from_bytes.is_err(), "{event}: bytes serde_json refuses were accepted: {from_bytes:?}");
        }
        let Some(value) = &parsed else { continue };
        let from_value = Input::from_value(event, value);
        assert_eq!(
            from_value.as_ref().ok(),
            from_bytes.as_ref().ok(),
            "{event}: bytes and value paths disagree: {from_bytes:?} vs {from_value:?}"
        );
        if let Ok(output) = Output::from_value(event, value) {
            assert_eq!(output.event(), event);
            let again = Output::from_value(event, &output.to_value());
            assert_eq!(again.as_ref(), Ok(&output), "{event}: an accepted output, serialized, is accepted unchanged");
        }
    }
});
