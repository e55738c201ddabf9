//! MCP tool manifest (`tools/list` result).
//!
//! The portable subset every client accepts: tool names `domain__action`
//! (`^[a-zA-Z0-9_-]{1,64}$`, no dots), schemas whose root is `type: "object"`, and every `$ref`
//! inlined with no `$defs` (several clients cannot resolve references). The runtime serves this
//! list as is, so the order is fixed (by name) and the bytes are stable.
//!
//! Every listed tool is in every session's context, so the list is lean: each tool carries the
//! spec's `mcp.description` (written for a model) rather than the event's long description, the
//! input schema without `examples`, and the output schema without `description`s and `examples`
//! (its structure stays: clients validate `structuredContent` against it). `toolsets` maps each
//! tool set to its tools; a server lists only the sets it is told to.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::GENERATED_NOTE;
use super::json_schema;
use crate::model::{Event, Spec};

/// `{"$comment": …, "toolsets": {set: [tool, …]}, "tools": [...]}`: the tools exactly as
/// `tools/list` returns them with every set selected (`CLAUDEBENCH_MCP_TOOLSETS=all`).
pub fn emit(spec: &Spec) -> Value {
    let spec = &*spec.published();
    let mut tools: Vec<(String, &Event)> =
        spec.events.iter().filter(|e| e.config.mcp.expose).map(|e| (e.name.mcp_tool(), e)).collect();
    // Sorting by event name is not enough: `.` and `__` order differently against other characters.
    tools.sort_by(|a, b| a.0.cmp(&b.0));
    let mut toolsets: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (name, event) in &tools {
        toolsets.entry(event.config.mcp.toolset.as_str()).or_default().push(name);
    }
    json!({
        "$comment": GENERATED_NOTE,
        "toolsets": toolsets,
        "tools": tools.iter().map(|(_, e)| tool(spec, e)).collect::<Vec<_>>(),
    })
}

/// One tool definition.
pub fn tool(spec: &Spec, event: &Event) -> Value {
    let mcp = &event.config.mcp;
    json!({
        "name": event.name.mcp_tool(),
        "title": event.title,
        "description": description(spec, event),
        "inputSchema": input_schema(spec, event),
        "outputSchema": output_schema(spec, event),
        "annotations": {
            "title": event.title,
            "readOnlyHint": mcp.read_only,
            "destructiveHint": mcp.destructive,
            "idempotentHint": mcp.idempotent,
            "openWorldHint": mcp.open_world,
        },
    })
}

/// The input schema as MCP lists it: the event's, object-rooted, without `examples` (the
/// property descriptions stay: they tell a model what to send).
pub fn input_schema(spec: &Spec, event: &Event) -> Value {
    let mut schema = object_root(json_schema::event_input(spec, event));
    strip(&mut schema, &["examples"]);
    schema
}

/// The output schema as MCP lists it: the event's structure, object-rooted, without
/// `description`s and `examples` (a model reads the result itself; clients validate it).
pub fn output_schema(spec: &Spec, event: &Event) -> Value {
    let mut schema = object_root(json_schema::event_output(spec, event));
    strip(&mut schema, &["description", "examples"]);
    schema
}

/// Removes the annotation keywords `keys` from a schema and every schema inside it, leaving
/// property names alone (a property may well be called `description`).
fn strip(schema: &mut Value, keys: &[&str]) {
    let Value::Object(map) = schema else { return };
    for key in keys {
        map.remove(*key);
    }
    for (keyword, value) in map.iter_mut() {
        match (keyword.as_str(), value) {
            ("properties" | "patternProperties" | "$defs" | "definitions", Value::Object(children)) => {
                children.values_mut().for_each(|child| strip(child, keys));
            }
            (
                "items" | "additionalProperties" | "not" | "contains" | "propertyNames" | "if" | "then" | "else",
                child,
            ) => {
                strip(child, keys);
            }
            ("anyOf" | "oneOf" | "allOf" | "prefixItems", Value::Array(children)) => {
                children.iter_mut().for_each(|child| strip(child, keys));
            }
            _ => {}
        }
    }
}

/// The description for a model (`mcp.description`, or the event's when a model built in code
/// has none); a deprecated event says so first, so a model reading the list prefers its
/// replacement (named as a tool when it is one).
pub fn description(spec: &Spec, event: &Event) -> String {
    let text = event.config.mcp.description.as_deref().unwrap_or(&event.description).trim_end();
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
