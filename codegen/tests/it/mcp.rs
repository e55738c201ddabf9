//! MCP manifest: the snapshot plus the portability rules clients enforce.

use claudebench_codegen::emit::{GENERATED_NOTE, mcp, to_pretty_json};
use serde_json::{Value, json};

use super::json_schema::{fixture_spec, object, sample_spec};

fn manifest() -> Value {
    mcp::emit(&sample_spec())
}

fn tools(manifest: &Value) -> &Vec<Value> {
    manifest["tools"].as_array().expect("tools array")
}

fn tool<'a>(manifest: &'a Value, name: &str) -> &'a Value {
    tools(manifest).iter().find(|t| t["name"] == json!(name)).unwrap_or_else(|| panic!("no tool {name}"))
}

fn contains_key(v: &Value, key: &str) -> bool {
    match v {
        Value::Object(map) => map.contains_key(key) || map.values().any(|c| contains_key(c, key)),
        Value::Array(items) => items.iter().any(|c| contains_key(c, key)),
        _ => false,
    }
}

#[test]
fn sample_manifest_snapshot() {
    insta::assert_snapshot!("mcp_sample", to_pretty_json(&manifest()));
}

#[test]
fn fixture_manifest_snapshot() {
    insta::assert_snapshot!("mcp_fixture", to_pretty_json(&mcp::emit(&fixture_spec())));
}

#[test]
fn manifest_carries_the_generated_note_and_only_exposed_events() {
    let m = manifest();
    assert_eq!(m["$comment"], json!(GENERATED_NOTE));
    let names: Vec<&str> = tools(&m).iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hook__pre_tool", "system__batch_process", "task__complete", "task__create"]);
    assert!(!names.contains(&"system__health"), "mcp.expose = false hides the event");
}

#[test]
fn tool_names_are_portable() {
    let pattern = regex::Regex::new("^[a-zA-Z0-9_-]{1,64}$").unwrap();
    for t in tools(&manifest()) {
        let name = t["name"].as_str().unwrap();
        assert!(pattern.is_match(name), "{name}");
    }
}

#[test]
fn schemas_have_an_object_root_and_no_references() {
    let m = manifest();
    for t in tools(&m) {
        for key in ["inputSchema", "outputSchema"] {
            let schema = &t[key];
            assert_eq!(schema["type"], json!("object"), "{} {key}", t["name"]);
            assert!(!contains_key(schema, "$ref"), "{} {key} has a $ref", t["name"]);
            assert!(!contains_key(schema, "$defs"), "{} {key} has $defs", t["name"]);
            assert!(!contains_key(schema, "discriminator"), "{} {key} has an OpenAPI keyword", t["name"]);
            assert!(jsonschema::meta::is_valid(schema));
        }
    }
    // `task.create` outputs `ref: Task`: inlined, not referenced.
    assert_eq!(tool(&m, "task__create")["outputSchema"]["properties"]["status"]["enum"][0], json!("pending"));
}

#[test]
fn an_event_without_fields_takes_an_empty_closed_object() {
    let mut spec = sample_spec();
    spec.events.retain(|e| e.name.full == "system.health");
    spec.events[0].config.mcp.expose = true;
    spec.events[0].input = object(vec![]);
    let m = mcp::emit(&spec);
    assert_eq!(m["tools"][0]["inputSchema"], json!({ "type": "object", "additionalProperties": false }));
}

#[test]
fn annotations_carry_the_hints_and_title() {
    let m = manifest();
    let pre = tool(&m, "hook__pre_tool");
    assert_eq!(
        pre["annotations"],
        json!({ "title": "HookPreTool", "readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false })
    );
    let batch = &tool(&m, "system__batch_process")["annotations"];
    assert_eq!(batch["destructiveHint"], json!(true));
    assert_eq!(batch["openWorldHint"], json!(true));
    assert_eq!(tool(&m, "task__create")["title"], json!("Create Task"));
}

#[test]
fn deprecated_tools_say_so_and_name_their_replacement() {
    let m = manifest();
    let description = tool(&m, "system__batch_process")["description"].as_str().unwrap();
    assert!(description.starts_with("Deprecated. Use `task__create` instead."), "{description}");
    assert!(!tool(&m, "task__create")["description"].as_str().unwrap().contains("Deprecated"));
}

#[test]
fn tools_are_sorted_by_name_whatever_the_event_order() {
    let mut spec = sample_spec();
    spec.events.reverse();
    assert_eq!(to_pretty_json(&mcp::emit(&spec)), to_pretty_json(&manifest()));
}

#[test]
fn manifest_is_byte_for_byte_deterministic() {
    assert_eq!(to_pretty_json(&manifest()), to_pretty_json(&manifest()));
}

#[test]
fn toolsets_map_each_set_to_its_tools() {
    let m = manifest();
    assert_eq!(
        m["toolsets"],
        json!({ "core": ["system__batch_process", "task__complete", "task__create"], "hooks": ["hook__pre_tool"] })
    );
}

#[test]
fn the_mcp_description_replaces_the_long_one() {
    let m = manifest();
    assert_eq!(tool(&m, "hook__pre_tool")["description"], json!("Ask whether a tool call would be allowed."));
}

#[test]
fn schemas_are_lean_inputs_keep_descriptions_outputs_keep_only_structure() {
    let m = manifest();
    for t in tools(&m) {
        assert!(!contains_key(&t["inputSchema"], "examples"), "{} input has examples", t["name"]);
        let output = &t["outputSchema"];
        assert!(!contains_key(output, "examples") && !contains_key(output, "description"), "{}", t["name"]);
    }
    // The real spec: input property descriptions stay; a property named `description` would too.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    let real = mcp::emit(&claudebench_codegen::load_dir(&dir, "spec").expect("the real spec loads").0);
    let create = tools(&real).iter().find(|t| t["name"] == json!("task__create")).unwrap();
    assert!(create["inputSchema"]["properties"]["text"]["description"].is_string());
    assert_eq!(create["outputSchema"]["properties"]["status"]["enum"][0], json!("pending"));
}
