//! OpenAPI emitter: the snapshot, the structural rules, the error-model mirror, and the two real
//! tools (`openapi-spec-validator`, `openapi-python-client`) run through `CB_PYTHON`.

use std::path::{Path, PathBuf};
use std::process::Command;

use claudebench_codegen::emit::openapi::{self, ERROR_CODES, ERROR_RESPONSES, ISSUE_CODES, OpenApiOptions};
use claudebench_codegen::emit::to_pretty_json;
use claudebench_codegen::model::RESERVED_COMPONENTS;
use serde_json::{Value, json};

use super::json_schema::{fixture_spec, sample_spec};

pub fn options() -> OpenApiOptions {
    OpenApiOptions { version: "0.1.0".into(), server_url: "http://127.0.0.1:3000".into() }
}

fn sample_doc() -> Value {
    openapi::emit(&sample_spec(), &options())
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Every value in the document, with its JSON pointer.
fn walk<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    out.push((at.clone(), v));
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                walk(child, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn nodes(doc: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    walk(doc, String::new(), &mut out);
    out
}

#[test]
fn sample_document_snapshot() {
    insta::assert_snapshot!("openapi_sample", to_pretty_json(&sample_doc()));
}

#[test]
fn fixture_document_snapshot() {
    insta::assert_snapshot!("openapi_fixture", to_pretty_json(&openapi::emit(&fixture_spec(), &options())));
}

#[test]
fn document_is_openapi_3_1_with_info_servers_and_a_tag_per_domain() {
    let doc = sample_doc();
    assert_eq!(doc["openapi"], json!("3.1.0"));
    assert_eq!(doc["info"]["title"], json!("ClaudeBench"));
    assert_eq!(doc["info"]["version"], json!("0.1.0"));
    assert!(doc["info"]["description"].as_str().unwrap().contains("Generated from spec/"));
    assert!(doc["info"]["x-generated-from"].is_string());
    assert_eq!(doc["servers"], json!([{ "url": "http://127.0.0.1:3000" }]));
    let tags: Vec<&str> = doc["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tags, ["hook", "system", "task", "rpc", "claude-code"]);
}

#[test]
fn the_hook_endpoint_lists_every_route_of_the_hook_table() {
    let spec = fixture_spec();
    let doc = openapi::emit(&spec, &options());
    let op = &doc["paths"]["/hooks/claude-code"]["post"];
    let expected: Vec<Value> = spec
        .events
        .iter()
        .flat_map(|e| {
            e.claude_code.iter().map(move |r| json!({"hooks": r.hooks, "event": e.name.full, "answer": r.answer}))
        })
        .collect();
    assert!(!expected.is_empty(), "the fixture spec has hook routes");
    assert_eq!(op["x-hook-routes"], json!(expected));
    let description = op["description"].as_str().unwrap();
    for route in &expected {
        assert!(description.contains(&format!("`{}`", route["event"].as_str().unwrap())), "{description}");
    }
    assert_eq!(
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ClaudeCodeHookInput"
    );
    assert_eq!(
        op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ClaudeCodeHookOutput"
    );
    for (status, _) in ERROR_RESPONSES {
        assert!(op["responses"][status.to_string()]["$ref"].is_string(), "{status}");
    }
}

#[test]
fn one_post_operation_per_event_with_ids_summaries_and_component_bodies() {
    let spec = sample_spec();
    let doc = openapi::emit(&spec, &options());
    for event in &spec.events {
        let op = &doc["paths"][event.name.http_path()]["post"];
        assert_eq!(op["operationId"], json!(event.name.operation_id()));
        assert_eq!(op["summary"], json!(event.title));
        assert_eq!(op["tags"], json!([event.name.domain]));
        let (input, output) = openapi::io_component_names(event);
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            json!(format!("#/components/schemas/{input}"))
        );
        assert_eq!(
            op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            json!(format!("#/components/schemas/{output}"))
        );
        assert_eq!(op["x-jsonrpc-method"], json!(event.name.full));
        assert_eq!(op["x-timeout-ms"], json!(event.config.timeout_ms));
        assert_eq!(op["x-persist"], json!(event.config.persist));
        assert_eq!(op["x-roles"], json!(event.config.roles));
        assert_eq!(op["deprecated"], if event.deprecated { json!(true) } else { Value::Null });
        if event.config.mcp.expose {
            assert_eq!(op["x-mcp-tool"], json!(event.name.mcp_tool()));
        } else {
            assert!(op.get("x-mcp-tool").is_none());
        }
    }
    let create = &doc["paths"]["/task/create"]["post"];
    assert_eq!(create["x-rate-limit"], json!({ "count": 100, "windowMs": 60000 }));
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["examples"]["basic"]["value"]["priority"],
        json!(70)
    );
    assert_eq!(
        create["responses"]["200"]["content"]["application/json"]["examples"]["basic"]["value"]["status"],
        json!("pending")
    );
    assert_eq!(
        doc["paths"]["/task/complete"]["post"]["x-circuit-breaker"]["fallback"],
        json!({ "value": { "task": null } })
    );
}

#[test]
fn every_operation_answers_every_error_status_through_shared_responses() {
    let doc = sample_doc();
    let statuses = ["400", "401", "403", "404", "409", "429", "500", "503", "504"];
    for (path, item) in doc["paths"].as_object().unwrap() {
        if path == "/rpc" {
            continue; // JSON-RPC answers errors with HTTP 200 and an error object.
        }
        let responses = &item["post"]["responses"];
        for status in statuses {
            let target = responses[status]["$ref"].as_str().unwrap_or_else(|| panic!("{path} lacks {status}"));
            let name = target.strip_prefix("#/components/responses/").unwrap();
            let shared = &doc["components"]["responses"][name];
            assert_eq!(shared["content"]["application/json"]["schema"]["$ref"], json!("#/components/schemas/Error"));
        }
    }
    assert_eq!(ERROR_RESPONSES.len(), statuses.len());
}

#[test]
fn every_status_an_error_code_maps_to_has_a_shared_response() {
    for c in ERROR_CODES {
        assert!(ERROR_RESPONSES.iter().any(|(s, _)| *s == c.http_status), "{} → {}", c.code, c.http_status);
    }
    // And the converse: the document promises no status that no error code can produce.
    for (status, name) in ERROR_RESPONSES {
        assert!(ERROR_CODES.iter().any(|c| c.http_status == status), "{status} {name} is answered by no error code");
    }
}

#[test]
fn error_schema_describes_the_wire_error_exactly() {
    let doc = sample_doc();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Error"]["required"], json!(["error"]));
    let detail = &schemas["ErrorDetail"];
    let codes: Vec<&str> = ERROR_CODES.iter().map(|c| c.code).collect();
    assert_eq!(detail["properties"]["code"]["enum"], json!(codes));
    assert_eq!(detail["required"], json!(["code", "message"]));
    assert_eq!(detail["properties"]["issues"]["items"]["$ref"], json!("#/components/schemas/Issue"));
    assert_eq!(detail["properties"]["retryAfterMs"]["type"], json!("integer"));
    assert_eq!(schemas["Issue"]["required"], json!(["path", "code", "message"]));
    assert_eq!(schemas["Issue"]["properties"]["code"]["enum"], json!(ISSUE_CODES));

    let error = json!({ "error": { "code": "validation", "message": "bad", "issues": [{ "path": "a.b", "code": "required", "message": "x" }] } });
    let validator = component_validator(&doc, "Error");
    assert!(validator.is_valid(&error));
    assert!(!validator.is_valid(&json!({ "error": { "code": "nope", "message": "x" } })));
}

/// A validator for one component, resolving its `#/components/...` references against the document.
fn component_validator(doc: &Value, name: &str) -> jsonschema::Validator {
    let mut schema = doc.clone();
    if let Value::Object(map) = &mut schema {
        map.insert("$ref".into(), json!(format!("#/components/schemas/{name}")));
    }
    jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("{name} does not compile: {e}"))
}

#[test]
fn examples_validate_against_their_component_schemas() {
    let spec = sample_spec();
    let doc = openapi::emit(&spec, &options());
    for event in &spec.events {
        let (input, output) = openapi::io_component_names(event);
        for x in &event.examples {
            assert!(component_validator(&doc, &input).is_valid(&x.input), "{} input", x.name);
            assert!(component_validator(&doc, &output).is_valid(&x.output), "{} output", x.name);
        }
    }
}

#[test]
fn one_dialect_only_nullability_is_never_the_3_0_keyword() {
    let doc = sample_doc();
    for (at, v) in nodes(&doc) {
        if let Value::Object(map) = v {
            assert!(!map.contains_key("nullable"), "3.0 `nullable` at {at}");
        }
    }
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Task"]["properties"]["assignedTo"]["type"], json!(["string", "null"]));
    assert_eq!(schemas["HookPreToolOutput"]["properties"]["severity"]["enum"], json!(["low", "high", null]));
    assert_eq!(
        schemas["TaskCompleteOutput"]["properties"]["task"]["anyOf"],
        json!([{ "$ref": "#/components/schemas/Task" }, { "type": "null" }])
    );
}

#[test]
fn every_ref_resolves_inside_the_document() {
    let doc = sample_doc();
    for (at, v) in nodes(&doc) {
        if let Some(target) = v.get("$ref").and_then(Value::as_str) {
            let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("external $ref at {at}"));
            assert!(doc.pointer(pointer).is_some(), "dangling {target} at {at}");
        }
    }
}

#[test]
fn every_schema_constraint_reaches_the_components() {
    let doc = sample_doc();
    let schemas = &doc["components"]["schemas"];
    let input = &schemas["TaskCreateInput"];
    assert_eq!(input["properties"]["text"]["minLength"], json!(1));
    assert_eq!(input["properties"]["text"]["maxLength"], json!(500));
    assert_eq!(input["properties"]["text"]["examples"], json!(["Write docs"]));
    assert_eq!(input["properties"]["priority"]["default"], json!(50));
    assert_eq!(input["properties"]["priority"]["maximum"], json!(100));
    assert_eq!(input["properties"]["tags"]["maxItems"], json!(10));
    assert_eq!(input["required"], json!(["text"]), "a defaulted field is not required");
    assert_eq!(input["additionalProperties"], json!(false));
    assert_eq!(schemas["EditParams"]["properties"]["path"]["pattern"], json!("^/"));
    assert_eq!(schemas["Task"]["properties"]["id"]["format"], json!("uuid"));
    assert_eq!(schemas["Task"]["properties"]["status"], json!({ "$ref": "#/components/schemas/TaskStatus" }));
    let complete = &schemas["TaskCompleteInput"];
    assert_eq!(complete["properties"]["ratio"]["exclusiveMaximum"], json!(1.5));
    assert_eq!(complete["properties"]["attempts"]["exclusiveMinimum"], json!(0));
    assert!(complete.get("additionalProperties").is_none(), "strip accepts extra keys");
    assert_eq!(complete["allOf"][0]["anyOf"], json!([{ "required": ["id"] }, { "required": ["taskId"] }]));
    let params = &schemas["HookPreToolInput"]["properties"]["params"];
    assert_eq!(params["discriminator"], json!({ "propertyName": "kind" }));
}

#[test]
fn json_rpc_endpoint_takes_one_request_or_a_batch_and_names_every_method_and_alias() {
    let doc = sample_doc();
    let rpc = &doc["paths"]["/rpc"]["post"];
    let body = &rpc["requestBody"]["content"]["application/json"]["schema"]["oneOf"];
    assert_eq!(body[0]["$ref"], json!("#/components/schemas/JsonRpcRequest"));
    assert_eq!(body[1]["type"], json!("array"));
    let methods = &doc["components"]["schemas"]["JsonRpcRequest"]["properties"]["method"]["enum"];
    assert_eq!(
        methods,
        &json!([
            "hook.pre_tool",
            "system.batch.process",
            "system.batch_process",
            "system.health",
            "task.complete",
            "task.create"
        ])
    );
    let description = rpc["description"].as_str().unwrap();
    for code in ["-32700", "-32600", "-32601", "-32602", "-32603", "-32000", "-32007"] {
        assert!(description.contains(code), "{code} not documented");
    }
    let error = &doc["components"]["schemas"]["JsonRpcError"];
    assert_eq!(error["properties"]["data"]["$ref"], json!("#/components/schemas/ErrorDetail"));
}

#[test]
fn test_only_events_are_left_out_of_every_published_document() {
    let (spec, _) = claudebench_codegen::load_dir(&repo_root().join("spec"), "spec").expect("the real spec loads");
    let fixtures: Vec<&str> = spec.events.iter().filter(|e| e.config.test_only).map(|e| e.name.full.as_str()).collect();
    assert_eq!(fixtures, ["test.circuit"]);
    let doc = openapi::emit(&spec, &options());
    assert!(doc["paths"].get("/test/circuit").is_none());
    let text = doc.to_string();
    assert!(!text.contains("test.circuit") && !text.contains("TestCircuit"), "OpenAPI mentions the fixture");
    let manifest = claudebench_codegen::emit::mcp::emit(&spec).to_string();
    assert!(!manifest.contains("test__circuit"), "the MCP manifest lists the fixture");
    let md = claudebench_codegen::emit::docs::emit(&spec);
    assert!(!md.contains("test.circuit"), "EVENTS.md documents the fixture");
    // The server's own table keeps it, marked, so tests can still serve it.
    let rust = claudebench_codegen::emit::rust::emit(
        &spec,
        &claudebench_codegen::emit::rust::RustOptions { support: "crate".into(), handlers_dir: "src/handlers".into() },
    );
    assert!(rust.contains("test_only: true"), "the event table marks the fixture");
}

#[test]
fn no_component_schema_overwrites_another() {
    let real = claudebench_codegen::load_dir(&repo_root().join("spec"), "spec").map(|(spec, _)| spec);
    let specs = [sample_spec(), fixture_spec()].into_iter().chain(real.ok());
    let name = regex::Regex::new(r"^[a-zA-Z0-9._-]+$").unwrap();
    for spec in specs {
        let doc = openapi::emit(&spec, &options());
        let count = doc["components"]["schemas"].as_object().unwrap().len();
        let published = spec.published().events.len();
        assert_eq!(count, spec.definitions.len() + 2 * published + RESERVED_COMPONENTS.len());
        for key in doc["components"]["schemas"].as_object().unwrap().keys() {
            assert!(name.is_match(key), "component name {key} is not allowed by OpenAPI");
        }
    }
}

#[test]
fn emission_is_byte_for_byte_deterministic() {
    assert_eq!(to_pretty_json(&sample_doc()), to_pretty_json(&sample_doc()));
}

// ---- real tools ------------------------------------------------------------------------------

/// The Python that has the OpenAPI tools (`CB_PYTHON`, else `python3`); fails, never skips,
/// when a module is missing.
fn python_with(module: &str) -> String {
    let python = std::env::var("CB_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&python).args(["-c", &format!("import {module}")]).output().map(|o| o.status.success());
    assert!(
        matches!(ok, Ok(true)),
        "Python module `{module}` is not available to `{python}`: run scripts/test.sh (it creates the venv with \
         openapi-spec-validator and openapi-python-client and sets CB_PYTHON)"
    );
    python
}

/// `PATH` with the venv's `bin/` first, so the generator finds the `ruff` it formats with.
fn path_with_python_bin(python: &str) -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> =
        Path::new(python).parent().filter(|d| !d.as_os_str().is_empty()).map(Path::to_path_buf).into_iter().collect();
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

/// A fresh scratch directory under the target dir (kept out of the source tree).
fn scratch(name: &str) -> PathBuf {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = base.join(format!("cb-openapi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The documents the tools must accept: the sample spec's, the fixture's and the committed artifact.
fn documents_under_test(dir: &Path) -> Vec<PathBuf> {
    let sample = dir.join("sample-openapi.json");
    std::fs::write(&sample, to_pretty_json(&sample_doc())).expect("write sample document");
    let fixture = dir.join("fixture-openapi.json");
    std::fs::write(&fixture, to_pretty_json(&openapi::emit(&fixture_spec(), &options())))
        .expect("write fixture document");
    let mut docs = vec![sample, fixture];
    let committed = repo_root().join("generated/openapi.json");
    if committed.exists() {
        docs.push(committed);
    }
    docs
}

#[test]
fn documents_pass_openapi_spec_validator() {
    let python = python_with("openapi_spec_validator");
    let dir = scratch("validator");
    for doc in documents_under_test(&dir) {
        run(
            Command::new(&python).arg("-m").arg("openapi_spec_validator").arg(&doc),
            &format!("openapi-spec-validator {}", doc.display()),
        );
    }
}

#[test]
fn documents_generate_an_importable_python_client() {
    let python = python_with("openapi_python_client");
    let dir = scratch("client");
    for (i, doc) in documents_under_test(&dir).into_iter().enumerate() {
        let out = dir.join(format!("client-{i}"));
        run(
            Command::new(&python)
                .env("PATH", path_with_python_bin(&python))
                .args(["-m", "openapi_python_client", "generate", "--path"])
                .arg(&doc)
                .arg("--output-path")
                .arg(&out)
                .arg("--overwrite"),
            &format!("openapi-python-client generate {}", doc.display()),
        );
        let package = std::fs::read_dir(&out)
            .expect("client output")
            .filter_map(|e| e.ok())
            .find(|e| e.path().join("__init__.py").exists())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .expect("a Python package in the generated client");
        run(
            Command::new(&python)
                .current_dir(&out)
                .args(["-c", &format!("import {package}, {package}.api, {package}.models")]),
            &format!("import {package}"),
        );
    }
}
