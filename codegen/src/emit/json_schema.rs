//! JSON Schema (draft 2020-12) for model schemas. OWNER: emitters helper (placeholder API).

use serde_json::Value;

use crate::model::{Event, Schema, Spec};

/// How references to definitions are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refs {
    /// Every `ref` replaced by the definition's schema (MCP, event table).
    Inline,
    /// `{"$ref": "#/components/schemas/Name"}` (OpenAPI).
    Components,
    /// `{"$ref": "#/$defs/Name"}`; the caller adds `$defs`.
    Defs,
}

/// The JSON Schema of one schema node.
pub fn schema(spec: &Spec, s: &Schema, refs: Refs) -> Value {
    let _ = (spec, s, refs);
    Value::Object(Default::default())
}

/// Self-contained schema of an event's input (references inlined, root `type: object`).
pub fn event_input(spec: &Spec, event: &Event) -> Value {
    schema(spec, &event.input, Refs::Inline)
}

/// Self-contained schema of an event's output (references inlined, root `type: object`).
pub fn event_output(spec: &Spec, event: &Event) -> Value {
    schema(spec, &event.output, Refs::Inline)
}
