//! JSON Schema emitter: one test per translation rule, checked both textually and with a real
//! draft 2020-12 validator (the `jsonschema` crate) so the semantics, not just the shape, hold.
//!
//! Also home of [`sample_spec`], a hand-built spec that exercises every schema kind and event
//! option; the OpenAPI, MCP and docs tests snapshot their output for it.

use claudebench_codegen::emit::json_schema::{self, Refs};
use claudebench_codegen::model::*;
use serde_json::{Value, json};

// ---- builders -------------------------------------------------------------------------------

pub fn s(kind: SchemaKind) -> Schema {
    Schema::of(kind)
}

pub fn string() -> Schema {
    s(SchemaKind::String(StringRules::default()))
}

pub fn string_with(min: Option<u64>, max: Option<u64>, pattern: Option<&str>, format: Option<Format>) -> Schema {
    s(SchemaKind::String(StringRules { min_length: min, max_length: max, pattern: pattern.map(Into::into), format }))
}

pub fn bound(value: f64, exclusive: bool) -> Option<Bound> {
    Some(Bound { value, exclusive })
}

pub fn integer(minimum: Option<Bound>, maximum: Option<Bound>) -> Schema {
    s(SchemaKind::Integer(NumberRules { minimum, maximum }))
}

pub fn number(minimum: Option<Bound>, maximum: Option<Bound>) -> Schema {
    s(SchemaKind::Number(NumberRules { minimum, maximum }))
}

pub fn enumeration(values: &[&str]) -> Schema {
    s(SchemaKind::Enum(values.iter().map(|v| v.to_string()).collect()))
}

pub fn array(items: Schema, min: Option<u64>, max: Option<u64>) -> Schema {
    s(SchemaKind::Array(ArraySchema { items: Box::new(items), min_items: min, max_items: max }))
}

pub fn reference(name: &str) -> Schema {
    s(SchemaKind::Ref(name.into()))
}

pub fn nullable(mut schema: Schema) -> Schema {
    schema.nullable = true;
    schema
}

pub fn described(mut schema: Schema, text: &str) -> Schema {
    schema.description = Some(text.into());
    schema
}

pub fn with_default(mut schema: Schema, value: Value) -> Schema {
    schema.default = Some(value);
    schema
}

pub fn with_examples(mut schema: Schema, values: Vec<Value>) -> Schema {
    schema.examples = values;
    schema
}

pub fn field(name: &str, schema: Schema) -> Field {
    Field { wire_name: name.into(), rust_name: snake_case(name), optional: false, schema }
}

pub fn optional(name: &str, schema: Schema) -> Field {
    Field { optional: true, ..field(name, schema) }
}

pub fn object(fields: Vec<Field>) -> Schema {
    object_with(fields, UnknownKeys::Reject, vec![])
}

pub fn object_with(fields: Vec<Field>, unknown_keys: UnknownKeys, rules: Vec<Rule>) -> Schema {
    s(SchemaKind::Object(ObjectSchema { fields, unknown_keys, rules }))
}

pub fn one_of(tag: &str, variants: Vec<(&str, Schema)>) -> Schema {
    s(SchemaKind::OneOf(Union {
        tag: tag.into(),
        variants: variants
            .into_iter()
            .map(|(value, schema)| Variant { tag_value: value.into(), rust_name: pascal_case(value), schema })
            .collect(),
    }))
}

pub fn definition(name: &str, schema: Schema) -> Definition {
    Definition { name: name.into(), schema, origin: Origin::default() }
}

pub fn config() -> HandlerConfig {
    HandlerConfig {
        persist: false,
        mutates: true,
        test_only: false,
        roles: vec![],
        rate_limit: None,
        timeout_ms: 5000,
        circuit_breaker: None,
        cache_ttl_s: None,
        mcp: McpConfig {
            expose: true,
            read_only: false,
            destructive: false,
            idempotent: false,
            open_world: false,
            toolset: DEFAULT_TOOLSET.into(),
            description: None,
        },
    }
}

pub fn event(name: &str, description: &str, input: Schema, output: Schema) -> Event {
    let (domain, action) = name.split_once('.').unwrap_or((name, ""));
    let name = EventName::new(domain, action);
    Event {
        title: pascal_case(&name.full).chars().collect(),
        name,
        description: description.into(),
        input,
        output,
        config: config(),
        aliases: vec![],
        deprecated: false,
        replaced_by: None,
        publishes: vec![],
        examples: vec![],
        claude_code: vec![],
        origin: Origin::default(),
    }
}

/// A spec that touches every schema kind, every nullability form, every unknown-key policy, both
/// rule kinds, unions with inline and referenced variants, and every event option.
pub fn sample_spec() -> Spec {
    let task = object(vec![
        field("id", described(string_with(None, None, None, Some(Format::Uuid)), "Task id.")),
        field("title", string_with(Some(1), Some(200), None, None)),
        field("status", reference("TaskStatus")),
        field("priority", integer(bound(0.0, false), bound(100.0, false))),
        field("createdAt", string_with(None, None, None, Some(Format::DateTime))),
        optional("assignedTo", nullable(string())),
        optional("metadata", s(SchemaKind::Record(Box::new(s(SchemaKind::Any))))),
    ]);
    let edit = described(
        object(vec![
            field("path", string_with(Some(1), None, Some("^/"), None)),
            optional("replaceAll", s(SchemaKind::Boolean)),
        ]),
        "Edit a file.",
    );
    let definitions = vec![
        definition("EditParams", edit),
        definition("Task", described(task, "A unit of work.")),
        definition("TaskStatus", enumeration(&["pending", "in_progress", "completed", "failed"])),
    ];

    let mut create = event(
        "task.create",
        "Create a task and queue it by priority.",
        object(vec![
            field(
                "text",
                with_examples(
                    described(string_with(Some(1), Some(500), None, None), "What to do | how."),
                    vec![json!("Write docs")],
                ),
            ),
            field("priority", with_default(integer(bound(0.0, false), bound(100.0, false)), json!(50))),
            optional("metadata", s(SchemaKind::Record(Box::new(s(SchemaKind::Any))))),
            optional("tags", array(string_with(Some(1), None, None, None), None, Some(10))),
        ]),
        reference("Task"),
    );
    create.title = "Create Task".into();
    create.config.persist = true;
    create.config.roles = vec!["worker".into(), "admin".into()];
    create.config.rate_limit = Some(RateLimit { count: 100, window_ms: 60000 });
    create.examples = vec![Example {
        name: "basic".into(),
        input: json!({ "text": "Write docs", "priority": 70 }),
        output: json!({
            "id": "7f0b8a2e-1c1d-4c55-9a3f-0e5e1c2b9d11",
            "title": "Write docs",
            "status": "pending",
            "priority": 70,
            "createdAt": "2025-09-15T10:00:00Z",
        }),
    }];

    let mut complete = event(
        "task.complete",
        "Mark a task done with its result or its error.",
        object_with(
            vec![
                optional("id", string()),
                optional("taskId", string()),
                optional("result", s(SchemaKind::Any)),
                optional("error", nullable(string())),
                optional("ratio", number(bound(0.0, true), bound(1.5, true))),
                optional("attempts", integer(bound(0.0, true), None)),
                optional("offset", integer(None, bound(-1.0, false))),
            ],
            UnknownKeys::Strip,
            vec![
                Rule::AtLeastOneOf {
                    fields: vec!["id".into(), "taskId".into()],
                    message: "Either 'id' or 'taskId' must be provided".into(),
                    path: Some("id".into()),
                },
                Rule::MutuallyExclusive {
                    fields: vec!["result".into(), "error".into()],
                    message: "Send either 'result' or 'error', not both".into(),
                    path: None,
                },
            ],
        ),
        object(vec![field("task", nullable(reference("Task")))]),
    );
    complete.config.circuit_breaker = Some(CircuitBreaker {
        threshold: 5,
        open_ms: 30000,
        half_open_probes: 3,
        fallback: Fallback::Value(json!({ "task": null })),
    });

    let mut pre_tool = event(
        "hook.pre_tool",
        "Decide whether a tool call may run.",
        object(vec![
            field("tool", string_with(Some(1), None, None, None)),
            field(
                "params",
                one_of(
                    "kind",
                    vec![
                        (
                            "bash",
                            object(vec![
                                field("command", string()),
                                optional("timeoutMs", integer(bound(1.0, false), None)),
                            ]),
                        ),
                        ("edit", reference("EditParams")),
                    ],
                ),
            ),
            optional(
                "context",
                nullable(object_with(vec![optional("sessionId", string())], UnknownKeys::Allow, vec![])),
            ),
        ]),
        object(vec![
            field("allow", s(SchemaKind::Boolean)),
            optional("reason", nullable(string())),
            optional("severity", nullable(enumeration(&["low", "high"]))),
        ]),
    );
    pre_tool.config.mutates = false;
    pre_tool.config.cache_ttl_s = Some(30);
    pre_tool.config.timeout_ms = 2000;
    pre_tool.config.mcp.read_only = true;
    pre_tool.config.mcp.idempotent = true;
    pre_tool.config.mcp.toolset = "hooks".into();
    pre_tool.config.mcp.description = Some("Ask whether a tool call would be allowed.".into());

    let mut batch = event(
        "system.batch_process",
        "Process a batch of queued tasks.",
        object(vec![field("batchId", string()), optional("items", array(reference("Task"), Some(1), None))]),
        object(vec![field("processed", integer(bound(0.0, false), None))]),
    );
    batch.aliases = vec!["system.batch.process".into()];
    batch.deprecated = true;
    batch.replaced_by = Some("task.create".into());
    batch.config.mcp.destructive = true;
    batch.config.mcp.open_world = true;

    let mut health = event(
        "system.health",
        "Report whether the server and its dependencies are up.",
        object(vec![]),
        object_with(vec![field("status", enumeration(&["ok", "degraded"]))], UnknownKeys::Allow, vec![]),
    );
    health.config.mutates = false;
    health.config.mcp.expose = false;

    let mut events = vec![create, complete, pre_tool, batch, health];
    events.sort_by(|a, b| a.name.full.cmp(&b.name.full));
    Spec { definitions, events }
}

fn emit(schema: &Schema) -> Value {
    json_schema::schema(&sample_spec(), schema, Refs::Inline)
}

fn accepts(schema: &Value, instance: Value) -> bool {
    match jsonschema::draft202012::new(schema) {
        Ok(validator) => validator.is_valid(&instance),
        Err(e) => panic!("emitted schema does not compile: {e}\n{schema:#}"),
    }
}

// ---- scalars -------------------------------------------------------------------------------

#[test]
fn string_carries_every_constraint() {
    let out = emit(&string_with(Some(2), Some(5), Some("^a"), Some(Format::Uri)));
    assert_eq!(out, json!({ "type": "string", "format": "uri", "minLength": 2, "maxLength": 5, "pattern": "^a" }));
}

#[test]
fn integer_without_bounds_gets_the_safe_integer_range() {
    let out = emit(&integer(None, None));
    assert_eq!(out, json!({ "type": "integer", "minimum": -9007199254740991_i64, "maximum": 9007199254740991_i64 }));
    assert!(!accepts(&out, json!(9007199254740992_i64)));
    assert!(accepts(&out, json!(3.0)), "3.0 is a whole number, as for the validators");
}

#[test]
fn integer_bounded_on_one_side_is_capped_on_the_other() {
    assert_eq!(
        emit(&integer(bound(0.0, true), None)),
        json!({ "type": "integer", "exclusiveMinimum": 0, "maximum": 9007199254740991_i64 })
    );
    assert_eq!(
        emit(&integer(None, bound(10.0, false))),
        json!({ "type": "integer", "minimum": -9007199254740991_i64, "maximum": 10 })
    );
}

#[test]
fn number_bounds_are_plain_numbers_and_exclusive_bounds_use_2020_12_keywords() {
    let out = emit(&number(bound(0.0, true), bound(1.5, true)));
    assert_eq!(out, json!({ "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1.5 }));
    assert!(!accepts(&out, json!(0)));
    assert!(accepts(&out, json!(1.25)));
    assert_eq!(emit(&number(None, None)), json!({ "type": "number" }), "numbers get no implicit bound");
}

#[test]
fn enum_boolean_and_any_map_directly() {
    assert_eq!(emit(&enumeration(&["a", "b"])), json!({ "type": "string", "enum": ["a", "b"] }));
    assert_eq!(emit(&s(SchemaKind::Boolean)), json!({ "type": "boolean" }));
    assert_eq!(emit(&s(SchemaKind::Any)), json!({}));
}

#[test]
fn annotations_follow_the_structural_keywords() {
    let schema = with_examples(with_default(described(string(), "A name."), json!("x")), vec![json!("y")]);
    let text = serde_json::to_string(&emit(&schema)).unwrap();
    assert_eq!(text, r#"{"type":"string","description":"A name.","default":"x","examples":["y"]}"#);
}

// ---- nullability -----------------------------------------------------------------------------

#[test]
fn nullable_scalars_use_type_arrays() {
    assert_eq!(emit(&nullable(string())), json!({ "type": ["string", "null"] }));
    assert_eq!(emit(&nullable(s(SchemaKind::Boolean))), json!({ "type": ["boolean", "null"] }));
    assert_eq!(emit(&nullable(array(string(), None, None)))["type"], json!(["array", "null"]));
    assert_eq!(emit(&nullable(object(vec![])))["type"], json!(["object", "null"]));
}

#[test]
fn nullable_enum_lists_null_in_the_enum_too() {
    let out = emit(&nullable(enumeration(&["a"])));
    assert_eq!(out, json!({ "type": ["string", "null"], "enum": ["a", null] }));
    assert!(accepts(&out, Value::Null));
}

#[test]
fn nullable_refs_and_unions_use_any_of_with_null() {
    let spec = sample_spec();
    let out = json_schema::schema(&spec, &nullable(reference("Task")), Refs::Components);
    assert_eq!(out, json!({ "anyOf": [{ "$ref": "#/components/schemas/Task" }, { "type": "null" }] }));

    let union = nullable(one_of("kind", vec![("a", object(vec![]))]));
    let out = json_schema::schema(&spec, &union, Refs::Inline);
    assert_eq!(out["anyOf"][1], json!({ "type": "null" }));
    assert!(accepts(&out, Value::Null));
    assert!(accepts(&out, json!({ "kind": "a" })));
}

#[test]
fn nullable_inlined_ref_makes_the_definition_nullable() {
    let out = emit(&nullable(reference("TaskStatus")));
    assert_eq!(out["type"], json!(["string", "null"]));
    assert!(accepts(&out, Value::Null));
    assert!(accepts(&out, json!("pending")));
}

#[test]
fn nullable_object_with_rules_still_accepts_null() {
    let rules = vec![Rule::MutuallyExclusive { fields: vec!["a".into(), "b".into()], message: "m".into(), path: None }];
    let schema =
        nullable(object_with(vec![optional("a", string()), optional("b", string())], UnknownKeys::Reject, rules));
    let out = emit(&schema);
    assert!(accepts(&out, Value::Null));
    assert!(accepts(&out, json!({ "a": "x" })));
    assert!(!accepts(&out, json!({ "a": "x", "b": "y" })));
}

// ---- objects -----------------------------------------------------------------------------------

#[test]
fn only_fields_without_optional_or_default_are_required() {
    let out = emit(&object(vec![
        field("a", string()),
        optional("b", string()),
        field("c", with_default(string(), json!("x"))),
        optional("d", with_default(string(), json!("y"))),
        field("e", nullable(string())),
    ]));
    assert_eq!(out["required"], json!(["a", "e"]));
    assert!(accepts(&out, json!({ "a": "x", "e": null })));
    assert!(!accepts(&out, json!({ "a": "x" })), "nullable is not optional");
}

#[test]
fn properties_keep_declaration_order() {
    let out = emit(&object(vec![field("zeta", string()), field("alpha", string()), field("mid", string())]));
    let keys: Vec<&String> = out["properties"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["zeta", "alpha", "mid"]);
}

#[test]
fn only_reject_closes_the_object() {
    let fields = || vec![field("a", string())];
    let reject = emit(&object_with(fields(), UnknownKeys::Reject, vec![]));
    let strip = emit(&object_with(fields(), UnknownKeys::Strip, vec![]));
    let allow = emit(&object_with(fields(), UnknownKeys::Allow, vec![]));
    assert_eq!(reject["additionalProperties"], json!(false));
    assert!(strip.get("additionalProperties").is_none(), "strip accepts (and drops) extra keys");
    assert!(allow.get("additionalProperties").is_none());
    assert!(!accepts(&reject, json!({ "a": "x", "extra": 1 })));
    assert!(accepts(&strip, json!({ "a": "x", "extra": 1 })));
}

#[test]
fn empty_object_is_closed_with_no_properties_key() {
    assert_eq!(emit(&object(vec![])), json!({ "type": "object", "additionalProperties": false }));
}

#[test]
fn record_and_array_constrain_their_members() {
    let out = emit(&s(SchemaKind::Record(Box::new(integer(bound(0.0, false), None)))));
    assert_eq!(out["type"], json!("object"));
    assert_eq!(out["additionalProperties"]["minimum"], json!(0));
    assert!(!accepts(&out, json!({ "k": -1 })));

    let out = emit(&array(string(), Some(1), Some(3)));
    assert_eq!(out, json!({ "type": "array", "items": { "type": "string" }, "minItems": 1, "maxItems": 3 }));
}

#[test]
fn rules_become_any_of_required_and_not_required_pairs() {
    let rules = vec![
        Rule::AtLeastOneOf { fields: vec!["id".into(), "taskId".into()], message: "m".into(), path: None },
        Rule::MutuallyExclusive { fields: vec!["a".into(), "b".into(), "c".into()], message: "m".into(), path: None },
    ];
    let fields = ["id", "taskId", "a", "b", "c"].iter().map(|f| optional(f, string())).collect();
    let out = emit(&object_with(fields, UnknownKeys::Reject, rules));
    assert_eq!(
        out["allOf"],
        json!([
            { "anyOf": [{ "required": ["id"] }, { "required": ["taskId"] }] },
            { "not": { "required": ["a", "b"] } },
            { "not": { "required": ["a", "c"] } },
            { "not": { "required": ["b", "c"] } },
        ])
    );
    assert!(!accepts(&out, json!({})));
    assert!(accepts(&out, json!({ "taskId": "t", "a": "x" })));
    assert!(!accepts(&out, json!({ "id": "t", "b": "x", "c": "y" })));
}

// ---- unions ------------------------------------------------------------------------------------

#[test]
fn union_variants_require_their_tag_as_a_const() {
    let spec = sample_spec();
    let union =
        one_of("kind", vec![("bash", object(vec![field("command", string())])), ("edit", reference("EditParams"))]);
    let out = json_schema::schema(&spec, &union, Refs::Inline);
    let bash = &out["oneOf"][0];
    assert_eq!(bash["properties"]["kind"], json!({ "const": "bash" }));
    assert_eq!(bash["required"], json!(["kind", "command"]));
    assert!(out.get("discriminator").is_none(), "discriminator is an OpenAPI keyword");

    assert!(accepts(&out, json!({ "kind": "bash", "command": "ls" })));
    assert!(
        accepts(&out, json!({ "kind": "edit", "path": "/a" })),
        "a closed referenced variant still accepts its tag"
    );
    assert!(!accepts(&out, json!({ "kind": "edit", "command": "ls" })));
    assert!(!accepts(&out, json!({ "kind": "other" })));
}

#[test]
fn union_gets_a_discriminator_only_in_openapi_mode() {
    let spec = sample_spec();
    let union = one_of("kind", vec![("edit", reference("EditParams"))]);
    let out = json_schema::schema(&spec, &union, Refs::Components);
    assert_eq!(out["discriminator"], json!({ "propertyName": "kind" }));
    assert_eq!(out["oneOf"][0]["description"], json!("Edit a file."));
    assert!(json_schema::schema(&spec, &union, Refs::Defs).get("discriminator").is_none());
}

// ---- references ------------------------------------------------------------------------------

#[test]
fn each_ref_mode_writes_references_its_own_way() {
    let spec = sample_spec();
    let r = described(reference("Task"), "The task.");
    assert_eq!(
        json_schema::schema(&spec, &r, Refs::Components),
        json!({ "$ref": "#/components/schemas/Task", "description": "The task." })
    );
    assert_eq!(
        json_schema::schema(&spec, &r, Refs::Defs),
        json!({ "$ref": "#/$defs/Task", "description": "The task." })
    );
    let inline = json_schema::schema(&spec, &r, Refs::Inline);
    assert_eq!(inline["type"], json!("object"));
    assert_eq!(inline["description"], json!("The task."), "the reference site's description wins");
    assert!(!serde_json::to_string(&inline).unwrap().contains("$ref"));
}

#[test]
fn defs_document_is_self_contained_and_valid_2020_12() {
    let spec = sample_spec();
    let doc = json_schema::document(&spec, &object(vec![field("task", reference("Task"))]));
    let defs: Vec<&String> = doc["$defs"].as_object().unwrap().keys().collect();
    assert_eq!(defs, ["Task", "TaskStatus"], "Task reaches TaskStatus");
    assert!(jsonschema::meta::is_valid(&doc));
    let task = json!({ "id": "x", "title": "t", "status": "pending", "priority": 1, "createdAt": "x" });
    assert!(accepts(&doc, json!({ "task": task })));
    assert!(!accepts(&doc, json!({ "task": { "status": "nope" } })));
}

#[test]
fn recursive_definitions_terminate_when_inlined() {
    let node = object(vec![field("name", string()), optional("children", array(reference("Node"), None, None))]);
    let spec = Spec { definitions: vec![definition("Node", node)], events: vec![] };
    let out = json_schema::schema(&spec, &reference("Node"), Refs::Inline);
    assert_eq!(out["properties"]["children"]["items"], json!({}));
    let doc = json_schema::document(&spec, &reference("Node"));
    assert!(accepts(&doc, json!({ "name": "a", "children": [{ "name": "b" }] })));
    assert!(!accepts(&doc, json!({ "name": "a", "children": [{ "nope": 1 }] })));
}

#[test]
fn every_emitted_schema_is_valid_2020_12_in_every_mode() {
    let spec = sample_spec();
    for event in &spec.events {
        for schema in [&event.input, &event.output] {
            let doc = json_schema::document(&spec, schema);
            assert!(jsonschema::meta::is_valid(&doc), "{}: {doc:#}", event.name.full);
            assert!(jsonschema::meta::is_valid(&json_schema::schema(&spec, schema, Refs::Inline)));
        }
    }
}

#[test]
fn spec_examples_validate_against_the_inlined_event_schemas() {
    let spec = sample_spec();
    for event in &spec.events {
        for x in &event.examples {
            assert!(accepts(&json_schema::event_input(&spec, event), x.input.clone()), "{}", x.name);
            assert!(accepts(&json_schema::event_output(&spec, event), x.output.clone()), "{}", x.name);
        }
    }
}

#[test]
fn emission_is_deterministic() {
    let spec = sample_spec();
    for event in &spec.events {
        let a = serde_json::to_string(&json_schema::event_input(&spec, event)).unwrap();
        let b = serde_json::to_string(&json_schema::event_input(&spec, event)).unwrap();
        assert_eq!(a, b);
    }
}

/// The lead's fixture spec (`codegen/tests/fixtures/spec/`), loaded through the real front end.
pub fn fixture_spec() -> Spec {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spec");
    match claudebench_codegen::load_dir(&dir, "fixtures/spec") {
        Ok((spec, _files)) => spec,
        Err(diags) => panic!("the fixture spec does not load:\n{diags}"),
    }
}

#[test]
fn fixture_schemas_are_valid_2020_12_and_accept_their_examples() {
    let spec = fixture_spec();
    for event in &spec.events {
        let input = json_schema::event_input(&spec, event);
        let output = json_schema::event_output(&spec, event);
        assert!(jsonschema::meta::is_valid(&input) && jsonschema::meta::is_valid(&output), "{}", event.name.full);
        for x in &event.examples {
            assert!(accepts(&input, x.input.clone()), "{} / {}", event.name.full, x.name);
            assert!(accepts(&output, x.output.clone()), "{} / {}", event.name.full, x.name);
        }
    }
}
