//! Arbitrary hook input through the spec's Claude Code hook table (`runtime/src/claude_code.rs`,
//! the table generated from the spec): what `POST /hooks/claude-code` and the `claudebench hook`
//! bridge do with Claude Code's JSON. No input may panic; a routed hook must name a real event
//! with an object payload, and every answer shape must be a JSON object.
//!
//! The module is compiled in directly (it needs only the contract and `serde_json`), so the fuzz
//! build does not pull in the runtime.

#![no_main]

#[allow(dead_code)]
#[path = "../../runtime/src/claude_code.rs"]
mod claude_code;

use claudebench_generated::events::{EventId, HOOK_ROUTES, Input, Output};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(input)) = serde_json::from_slice::<Value>(data) else { return };
    let Some(route) = claude_code::route(HOOK_ROUTES, &input) else { return };
    let event = EventId::from_name(route.event).unwrap_or_else(|| panic!("`{}` is not an event", route.event));
    let params = claude_code::params(route, &input);
    assert!(params.is_object(), "the payload is an object: {params}");
    // The server validates the payload; a malformed hook is refused with an answer, not a crash.
    let _ = Input::from_value(event, &params);
    // Whatever the handler answered (here: its spec examples), the hook output is an object.
    for example in [serde_json::json!({}), params.clone()] {
        if Output::from_value(event, &example).is_ok() {
            let answer = claude_code::answer(route, &input, &example, Default::default());
            assert!(answer.is_object(), "{answer}");
        }
    }
});
