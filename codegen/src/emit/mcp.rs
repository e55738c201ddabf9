//! MCP tool manifest (`tools/list` result).
//!
//! The portable subset every client accepts: tool names `domain__action`
//! (`^[a-zA-Z0-9_-]{1,64}$`, no dots), schemas whose root is `type: "object"`, and every `$ref`
//! inlined with no `$defs` (several clients cannot resolve references). The runtime serves this
//! list as is, so the order is fixed (by name) and the bytes are stable.

use serde_json::{Map, Value, json};

use super::GENERATED_NOTE;
use super::json_schema;
use crate::model::{Event, Spec};

/// `{"$comment": …, "tools": [...]}`: the tools exactly as `tools/list` returns them.
pub fn emit(spec: &Spec) -> Value {
    let spec = &*spec.published();
    let mut tools: Vec<(String, Value)> =
        spec.events.iter().filter(|e| e.config.mcp.expose).map(|e| (e.name.mcp_tool(), tool(spec, e))).collect();
    // Sorting by event name is not enough: `.` and `__` order differently against other characters.
    tools.sort_by(|a, b| a.0.cmp(&b.0));
    json!({
        "$comment": GENERATED_NOTE,
        "tools": tools.into_iter().map(|(_, t)| t).collect::<Vec<_>>(),
    })
}

/// One tool definition.
pub fn tool(spec: &Spec, event: &Event) -> Value {
    let mcp = &event.config.mcp;
    json!({
        "name": event.name.mcp_tool(),
        "title": event.title,
        "description": description(spec, event),
        "inputSchema": object_root(json_schema::event_input(spec, event)),
        "outputSchema": object_root(json_schema::event_output(spec, event)),
        "annotations": {
            "title": event.title,
            "readOnlyHint": mcp.read_only,
            "destructiveHint": mcp.destructive,
            "idempotentHint": mcp.idempotent,
            "openWorldHint": mcp.open_world,
        },
    })
}

/// The event's description; a deprecated event says so first, so a model reading the list
/// prefers its replacement (named as a tool when it is one).
fn description(spec: &Spec, event: &Event) -> String {
    let text = event.description.trim_end();
    if !event.deprecated {
        return text.to_string();
    }
    let replacement = event.replaced_by.as_deref().and_then(|name| spec.event(name)).map(|to| {
        if to.config.mcp.expose {
            format!(" Use `{}` instead.", to.name.mcp_tool())
        } else {
            format!(" Use `{}` instead.", to.name.full)
        }
    });
    format!("Deprecated.{} {text}", replacement.unwrap_or_default())
}

/// Guarantees the root is an object schema, as MCP requires (clients drop the whole server's
/// tools otherwise). Inputs and outputs are objects in a valid spec, so this only adds
/// `type: "object"` where a root lacks it (e.g. a nullable root written as `anyOf`).
fn object_root(schema: Value) -> Value {
    match schema {
        Value::Object(mut map) => {
            let is_object = map.get("type").and_then(Value::as_str) == Some("object");
            if !is_object {
                let mut root = Map::new();
                root.insert("type".into(), json!("object"));
                map.remove("type");
                if !map.is_empty() {
                    root.insert("allOf".into(), json!([Value::Object(map)]));
                }
                return Value::Object(root);
            }
            Value::Object(map)
        }
        _ => json!({ "type": "object" }),
    }
}
