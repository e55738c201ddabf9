//! Arbitrary stdin through the hook bridge's input mapping (`src/bridge/input.rs`): Claude
//! Code's hook JSON → server event and payload. The bridge must never break Claude Code, so no
//! input may panic; what it does forward must name a real event with an object payload.
//!
//! The module is compiled in directly (it needs only `serde_json`), so the fuzz build does not
//! pull in the application and its runtime.

#![no_main]

#[allow(dead_code)]
#[path = "../../src/bridge/input.rs"]
mod input;

use claudebench_generated::events::{EventId, Input};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // What `claudebench hook` does with stdin before parsing it.
    let stdin = String::from_utf8_lossy(data);
    let Some(call) = input::parse_hook(&stdin) else { return };
    assert_eq!(input::HookKind::from_name(call.kind.name()), Some(call.kind));
    let event = EventId::from_name(call.event).unwrap_or_else(|| panic!("`{}` is not an event", call.event));
    let Value::Object(params) = &call.params else { panic!("the payload is an object: {}", call.params) };
    assert_eq!(params.get("sessionId").and_then(Value::as_str), call.session_id.as_deref());
    // The server validates the payload; the refusal of a malformed hook is an answer, not a crash.
    let _ = Input::from_value(event, &call.params);
});
