//! OpenAPI 3.1.0 document: one `POST /{domain}/{action}` per event, the JSON-RPC endpoint and
//! the Claude Code hook endpoint (its routes listed from the spec's hook table).
//!
//! One dialect only: schemas are JSON Schema 2020-12 (`type: [T, "null"]`, never `nullable`).
//! Every definition and every event input/output is a named component, referenced with `$ref`,
//! so generated clients get one type per spec type.
//!
//! The error model is not in the spec: its codes come from the wire contract
//! (`claudebench-contract`), the same constants the server answers with ([`ERROR_CODES`],
//! [`ISSUE_CODES`], [`JSONRPC_PROTOCOL_ERRORS`]).

use claudebench_contract::routes::CLAUDE_CODE_HOOKS;
use claudebench_contract::{ErrorCode, IssueCode};
use serde_json::{Map, Value, json};

use super::GENERATED_NOTE;
use super::json_schema::{self, Refs};
use crate::model::{Event, Fallback, RESERVED_COMPONENTS, Spec};

/// Document-level settings that do not come from the spec.
#[derive(Debug, Clone)]
pub struct OpenApiOptions {
    /// `info.version` (the crate version).
    pub version: String,
    /// The `servers[0].url`.
    pub server_url: String,
}

/// One error code of the runtime's error model, with how each transport reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCodeInfo {
    /// The wire string (`ErrorCode::as_str`).
    pub code: &'static str,
    /// `ErrorCode::http_status`.
    pub http_status: u16,
    /// `ErrorCode::jsonrpc_code`.
    pub jsonrpc_code: i64,
    /// What the code means, for documentation.
    pub meaning: &'static str,
}

/// Every error code of the contract, in documentation order.
pub const ERROR_CODES: [ErrorCodeInfo; ErrorCode::ALL.len()] = {
    let mut out = [ErrorCodeInfo { code: "", http_status: 0, jsonrpc_code: 0, meaning: "" }; ErrorCode::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        let c = ErrorCode::ALL[i];
        out[i] = ErrorCodeInfo {
            code: c.as_str(),
            http_status: c.http_status(),
            jsonrpc_code: c.jsonrpc_code(),
            meaning: c.meaning(),
        };
        i += 1;
    }
    out
};

/// The wire strings of every issue code of the contract, in declaration order.
pub const ISSUE_CODES: [&str; IssueCode::ALL.len()] = {
    let mut out = [""; IssueCode::ALL.len()];
    let mut i = 0;
    while i < out.len() {
        out[i] = IssueCode::ALL[i].as_str();
        i += 1;
    }
    out
};

/// JSON-RPC 2.0 protocol errors the `/rpc` endpoint answers before any event runs.
pub use claudebench_contract::jsonrpc::PROTOCOL_ERRORS as JSONRPC_PROTOCOL_ERRORS;

/// Every HTTP error status an event operation can answer, with its shared response component.
/// Derived from [`ERROR_CODES`]; listed here so the order and names are stable.
pub const ERROR_RESPONSES: [(u16, &str); 9] = [
    (400, "ValidationFailed"),
    (401, "Unauthorized"),
    (403, "Forbidden"),
    (404, "NotFound"),
    (409, "Conflict"),
    (429, "RateLimited"),
    (500, "InternalError"),
    (503, "Unavailable"),
    (504, "Timeout"),
];

const JSON: &str = "application/json";

/// The whole OpenAPI document.
pub fn emit(spec: &Spec, opts: &OpenApiOptions) -> Value {
    let spec = &*spec.published();
    let mut paths = Map::new();
    paths.insert("/rpc".into(), json!({ "post": rpc_operation() }));
    paths.insert(CLAUDE_CODE_HOOKS.into(), json!({ "post": hook_operation(spec) }));
    for event in &spec.events {
        paths.insert(event.name.http_path(), json!({ "post": operation(event) }));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "ClaudeBench",
            "version": opts.version,
            "description": format!(
                "{GENERATED_NOTE}\n\nEvery event is served as `POST /{{domain}}/{{action}}` (body: the event's input, \
                 200: its output, errors: `{{\"error\": {{code, message, issues?, retryAfterMs?}}}}`) and through the \
                 JSON-RPC 2.0 endpoint `POST /rpc`."
            ),
            "x-generated-from": GENERATED_NOTE,
        },
        "servers": [{ "url": opts.server_url }],
        "tags": tags(spec),
        "paths": paths,
        "components": {
            "schemas": component_schemas(spec),
            "responses": error_responses(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Caller token; events with `x-roles` require one whose role is listed.",
                }
            },
        },
    })
}

/// Component names of an event's input and output (`TaskCreateInput`, `TaskCreateOutput`).
pub fn io_component_names(event: &Event) -> (String, String) {
    event.name.io_type_names()
}

fn tags(spec: &Spec) -> Value {
    let mut tags: Vec<Value> = spec
        .domains()
        .into_iter()
        .map(|d| json!({ "name": d, "description": format!("Events of the `{d}` domain.") }))
        .collect();
    tags.push(json!({ "name": "rpc", "description": "JSON-RPC 2.0 transport for every event." }));
    tags.push(json!({ "name": "claude-code", "description": "Claude Code's hooks, as Claude Code sends them." }));
    Value::Array(tags)
}

fn operation(event: &Event) -> Value {
    let (input, output) = io_component_names(event);
    let cfg = &event.config;
    let mut op = Map::new();
    op.insert("tags".into(), json!([event.name.domain]));
    op.insert("operationId".into(), json!(event.name.operation_id()));
    op.insert("summary".into(), json!(event.title));
    op.insert("description".into(), json!(operation_description(event)));
    if event.deprecated {
        op.insert("deprecated".into(), json!(true));
    }
    if !cfg.roles.is_empty() {
        op.insert("security".into(), json!([{ "bearerAuth": [] }]));
    }
    op.insert(
        "requestBody".into(),
        json!({ "required": true, "content": { JSON: media(&input, event.examples.iter().map(|x| (&x.name, &x.input))) } }),
    );
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": format!("The output of `{}`.", event.name.full),
            "content": { JSON: media(&output, event.examples.iter().map(|x| (&x.name, &x.output))) },
        }),
    );
    for (status, name) in ERROR_RESPONSES {
        responses.insert(status.to_string(), json!({ "$ref": format!("#/components/responses/{name}") }));
    }
    op.insert("responses".into(), Value::Object(responses));

    op.insert("x-persist".into(), json!(cfg.persist));
    op.insert("x-mutates".into(), json!(cfg.mutates));
    op.insert("x-roles".into(), json!(cfg.roles));
    if let Some(rl) = cfg.rate_limit {
        op.insert("x-rate-limit".into(), json!({ "count": rl.count, "windowMs": rl.window_ms }));
    }
    op.insert("x-timeout-ms".into(), json!(cfg.timeout_ms));
    if let Some(cb) = &cfg.circuit_breaker {
        let fallback = match &cb.fallback {
            Fallback::Error => json!("error"),
            Fallback::Value(v) => json!({ "value": v }),
        };
        op.insert(
            "x-circuit-breaker".into(),
            json!({ "threshold": cb.threshold, "openMs": cb.open_ms, "halfOpenProbes": cb.half_open_probes, "fallback": fallback }),
        );
    }
    if let Some(ttl) = cfg.cache_ttl_s {
        op.insert("x-cache-ttl-s".into(), json!(ttl));
    }
    if cfg.mcp.expose {
        op.insert("x-mcp-tool".into(), json!(event.name.mcp_tool()));
    }
    op.insert("x-jsonrpc-method".into(), json!(event.name.full));
    if !event.aliases.is_empty() {
        op.insert("x-jsonrpc-aliases".into(), json!(event.aliases));
    }
    if let Some(to) = &event.replaced_by {
        op.insert("x-replaced-by".into(), json!(to));
    }
    Value::Object(op)
}

fn operation_description(event: &Event) -> String {
    let mut text = event.description.trim_end().to_string();
    if event.deprecated {
        text.push_str("\n\n**Deprecated.**");
        if let Some(to) = &event.replaced_by {
            text.push_str(&format!(" Use `{to}` instead."));
        }
    }
    text
}

/// A JSON media type: the component schema and the spec's examples (keys made unique).
fn media<'a>(component: &str, examples: impl Iterator<Item = (&'a String, &'a Value)>) -> Value {
    let mut out = Map::new();
    out.insert("schema".into(), json!({ "$ref": format!("#/components/schemas/{component}") }));
    let mut named = Map::new();
    for (name, value) in examples {
        let mut key = name.clone();
        let mut n = 2;
        while named.contains_key(&key) {
            key = format!("{name} ({n})");
            n += 1;
        }
        named.insert(key, json!({ "summary": name, "value": value }));
    }
    if !named.is_empty() {
        out.insert("examples".into(), Value::Object(named));
    }
    Value::Object(out)
}

fn component_schemas(spec: &Spec) -> Value {
    let mut schemas = Map::new();
    for def in &spec.definitions {
        schemas.insert(def.name.clone(), json_schema::schema(spec, &def.schema, Refs::Components));
    }
    for event in &spec.events {
        let (input, output) = io_component_names(event);
        schemas.insert(input, json_schema::schema(spec, &event.input, Refs::Components));
        schemas.insert(output, json_schema::schema(spec, &event.output, Refs::Components));
    }
    let builtins = [("Error", error_schema()), ("ErrorDetail", error_detail_schema()), ("Issue", issue_schema())];
    for (name, schema) in builtins.into_iter().chain(rpc_schemas(spec)).chain(hook_schemas()) {
        debug_assert!(RESERVED_COMPONENTS.contains(&name), "{name} must be listed in RESERVED_COMPONENTS");
        schemas.insert(name.into(), schema);
    }
    Value::Object(schemas)
}

fn error_schema() -> Value {
    json!({
        "type": "object",
        "properties": { "error": { "$ref": "#/components/schemas/ErrorDetail" } },
        "required": ["error"],
        "additionalProperties": false,
        "description": "Every REST error: `{\"error\": {code, message, issues?, retryAfterMs?}}`.",
    })
}

fn error_detail_schema() -> Value {
    let codes: Vec<&str> = ERROR_CODES.iter().map(|c| c.code).collect();
    let table: String = ERROR_CODES
        .iter()
        .map(|c| format!("\n- `{}` (HTTP {}, JSON-RPC {}): {}", c.code, c.http_status, c.jsonrpc_code, c.meaning))
        .collect();
    json!({
        "type": "object",
        "properties": {
            "code": { "type": "string", "enum": codes, "description": format!("Stable error code:{table}") },
            "message": { "type": "string", "description": "Human-readable explanation." },
            "issues": {
                "type": "array",
                "items": { "$ref": "#/components/schemas/Issue" },
                "description": "Every validation issue (only for `validation`).",
            },
            "retryAfterMs": {
                "type": "integer",
                "minimum": 0,
                "maximum": json_schema::MAX_SAFE_INTEGER,
                "description": "When to retry, in milliseconds (for `rate_limited` and `circuit_open`).",
            },
        },
        "required": ["code", "message"],
        "additionalProperties": false,
        "description": "An error as every transport sends it (the `error` of a REST body, the `data` of a JSON-RPC error).",
    })
}

fn issue_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "path": {
                "type": "string",
                "description": "Wire-name path of the offending value (`updates.priority`, `todos[3].status`); empty for the root.",
            },
            "code": { "type": "string", "enum": ISSUE_CODES },
            "message": { "type": "string" },
        },
        "required": ["path", "code", "message"],
        "additionalProperties": false,
        "description": "One validation problem.",
    })
}

/// One shared response per error status, each naming the codes that produce it.
fn error_responses() -> Value {
    let mut out = Map::new();
    for (status, name) in ERROR_RESPONSES {
        let codes: Vec<String> =
            ERROR_CODES.iter().filter(|c| c.http_status == status).map(|c| format!("`{}`", c.code)).collect();
        let meanings: Vec<&str> = ERROR_CODES.iter().filter(|c| c.http_status == status).map(|c| c.meaning).collect();
        out.insert(
            name.into(),
            json!({
                "description": format!("{} ({})", meanings.join(" / "), codes.join(", ")),
                "content": { JSON: { "schema": { "$ref": "#/components/schemas/Error" } } },
            }),
        );
    }
    Value::Object(out)
}

/// Method names `/rpc` accepts: every event name and every alias, sorted.
fn rpc_methods(spec: &Spec) -> Vec<&str> {
    let mut methods: Vec<&str> = spec
        .events
        .iter()
        .flat_map(|e| std::iter::once(e.name.full.as_str()).chain(e.aliases.iter().map(String::as_str)))
        .collect();
    methods.sort_unstable();
    methods.dedup();
    methods
}

fn rpc_error_codes_text() -> String {
    let mut text = String::from("JSON-RPC error codes:");
    for (code, meaning) in JSONRPC_PROTOCOL_ERRORS {
        text.push_str(&format!("\n- `{code}`: {meaning}"));
    }
    for c in ERROR_CODES {
        text.push_str(&format!("\n- `{}`: `{}`: {}", c.jsonrpc_code, c.code, c.meaning));
    }
    text
}

fn rpc_schemas(spec: &Spec) -> Vec<(&'static str, Value)> {
    let mut codes: Vec<i64> = JSONRPC_PROTOCOL_ERRORS.iter().map(|(c, _)| *c).collect();
    codes.extend(ERROR_CODES.iter().map(|c| c.jsonrpc_code));
    let id = json!({
        "type": ["string", "integer", "null"],
        "minimum": -9007199254740991_i64,
        "maximum": 9007199254740991_i64,
        "description": "Echoed in the response. A request without `id` is a notification and gets no response. Integers must be within ±(2^53 − 1); anything else is an invalid request, answered with `id: null`.",
    });
    vec![
        (
            "JsonRpcRequest",
            json!({
                "type": "object",
                "properties": {
                    "jsonrpc": { "const": "2.0" },
                    "method": { "type": "string", "enum": rpc_methods(spec), "description": "An event name or alias." },
                    "params": {
                        "type": "object",
                        "description": "The event's input (its `<Event>Input` schema); absent means `{}`.",
                    },
                    "id": id,
                    "metadata": {
                        "type": "object",
                        "properties": {
                            "sessionId": { "type": "string", "description": "The session the request acts for (e.g. a Claude Code session)." },
                            "correlationId": { "type": "string", "description": "Echoed in the server's logs." },
                        },
                        "description": "Context for the handlers and logs. Not an identity: rate limits count against `X-Client-Id`, else the connection.",
                    },
                },
                "required": ["jsonrpc", "method"],
                "description": "A JSON-RPC 2.0 request naming one event.",
            }),
        ),
        (
            "JsonRpcSuccess",
            json!({
                "type": "object",
                "properties": {
                    "jsonrpc": { "const": "2.0" },
                    "result": { "description": "The event's output (its `<Event>Output` schema)." },
                    "id": id,
                },
                "required": ["jsonrpc", "result", "id"],
                "additionalProperties": false,
            }),
        ),
        (
            "JsonRpcFailure",
            json!({
                "type": "object",
                "properties": {
                    "jsonrpc": { "const": "2.0" },
                    "error": { "$ref": "#/components/schemas/JsonRpcError" },
                    "id": id,
                },
                "required": ["jsonrpc", "error", "id"],
                "additionalProperties": false,
            }),
        ),
        (
            "JsonRpcError",
            json!({
                "type": "object",
                "properties": {
                    "code": { "type": "integer", "enum": codes, "description": rpc_error_codes_text() },
                    "message": { "type": "string" },
                    "data": {
                        "$ref": "#/components/schemas/ErrorDetail",
                        "description": "The error model (absent for the protocol errors -32700, -32600, -32601, -32010 and -32011).",
                    },
                },
                "required": ["code", "message"],
                "additionalProperties": false,
            }),
        ),
        (
            "JsonRpcResponse",
            json!({
                "oneOf": [
                    { "$ref": "#/components/schemas/JsonRpcSuccess" },
                    { "$ref": "#/components/schemas/JsonRpcFailure" },
                ],
            }),
        ),
    ]
}

fn rpc_operation() -> Value {
    json!({
        "tags": ["rpc"],
        "operationId": "rpc",
        "summary": "JSON-RPC 2.0",
        "description": format!(
            "Calls events by name: one request or a non-empty batch array. Errors are answered with HTTP 200 \
             and a JSON-RPC error object whose `data` is the error model.\n\n{}",
            rpc_error_codes_text()
        ),
        "requestBody": {
            "required": true,
            "content": { JSON: { "schema": {
                "oneOf": [
                    { "$ref": "#/components/schemas/JsonRpcRequest" },
                    { "type": "array", "minItems": 1, "items": { "$ref": "#/components/schemas/JsonRpcRequest" } },
                ],
            } } },
        },
        "responses": {
            "200": {
                "description": "One response, or an array of responses for a batch (notifications get none).",
                "content": { JSON: { "schema": {
                    "oneOf": [
                        { "$ref": "#/components/schemas/JsonRpcResponse" },
                        { "type": "array", "items": { "$ref": "#/components/schemas/JsonRpcResponse" } },
                    ],
                } } },
            },
            "204": { "description": "Every request was a notification (no `id`): no body." },
        },
    })
}

/// `POST /hooks/claude-code`: the operation Claude Code's `http` hooks (and the bridge) call. Its
/// description lists the spec's hook table, so the document says which event serves which hook.
fn hook_operation(spec: &Spec) -> Value {
    let mut table = String::from("| Hook | When | Event | Answer |\n|---|---|---|---|");
    let mut routes = Vec::new();
    for event in &spec.events {
        for route in &event.claude_code {
            let when = match &route.when {
                None => String::new(),
                Some((field, value, negate)) => format!("`{field}` {} `{value}`", if *negate { "≠" } else { "=" }),
            };
            let hooks: Vec<String> = route.hooks.iter().map(|h| format!("`{h}`")).collect();
            table.push_str(&format!(
                "\n| {} | {when} | `{}` | `{}` |",
                hooks.join(", "),
                event.name.full,
                route.answer
            ));
            routes.push(json!({ "hooks": route.hooks, "event": event.name.full, "answer": route.answer }));
        }
    }
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": "Claude Code's hook output; `{}` when the server has nothing to say. A `forbidden` \
                            refusal is answered here too: PreToolUse is denied, UserPromptSubmit and PostToolUse \
                            are blocked.",
            "content": { JSON: { "schema": { "$ref": "#/components/schemas/ClaudeCodeHookOutput" } } },
        }),
    );
    for (status, name) in ERROR_RESPONSES {
        responses.insert(status.to_string(), json!({ "$ref": format!("#/components/responses/{name}") }));
    }
    json!({
        "tags": ["claude-code"],
        "operationId": "claudeCodeHook",
        "summary": "Claude Code hook",
        "description": format!(
            "Takes a Claude Code hook's input exactly as Claude Code sends it (an `http` hook, or piped \
             through `claudebench hook`), runs the event that serves the hook through the same pipeline \
             as every call and answers in Claude Code's hook output format. Every hook is accepted: one \
             no route names (a hook Claude Code adds later) goes to the `*` route. Each Claude Code \
             session is its own caller for rate limits.\n\nA non-2xx answer is a hook error, which \
             Claude Code does not block on: over HTTP a server that is down fails open (the bridge can \
             fail closed).\n\n{table}"
        ),
        "parameters": [{
            "name": "approve",
            "in": "query",
            "required": false,
            "schema": { "type": "string", "enum": ["", "1", "true"] },
            "description": "Present (`?approve`, `?approve=1`): PreToolUse answers `allow` for calls the guard \
                            allows, instead of leaving the decision to Claude Code's own permission rules.",
        }],
        "requestBody": {
            "required": true,
            "content": { JSON: { "schema": { "$ref": "#/components/schemas/ClaudeCodeHookInput" } } },
        },
        "responses": responses,
        "x-hook-routes": routes,
    })
}

/// Claude Code's hook input and output, as far as the server reads and writes them. The input is
/// open: every hook has fields of its own, and future hooks are accepted.
fn hook_schemas() -> Vec<(&'static str, Value)> {
    let text = |description: &str| json!({ "type": "string", "description": description });
    vec![
        (
            "ClaudeCodeHookInput",
            json!({
                "type": "object",
                "properties": {
                    "hook_event_name": { "type": "string", "minLength": 1, "description": "The hook, e.g. `PreToolUse`." },
                    "session_id": text("Claude Code's session id."),
                    "transcript_path": text("Path of the session's transcript."),
                    "cwd": text("The session's working directory."),
                    "permission_mode": text("`default`, `plan`, `acceptEdits`, `bypassPermissions`, …"),
                    "tool_name": text("The tool, for the tool hooks."),
                    "tool_input": { "type": "object", "description": "The tool's input, for the tool hooks." },
                    "agent_id": text("The subagent, when a subagent's call fires the hook."),
                    "agent_type": text("The subagent's type."),
                },
                "required": ["hook_event_name"],
                "additionalProperties": true,
                "description": "A Claude Code hook input; each hook adds fields of its own.",
            }),
        ),
        (
            "ClaudeCodeHookOutput",
            json!({
                "type": "object",
                "properties": {
                    "decision": { "const": "block", "description": "Blocks the prompt or the tool result (with `reason`)." },
                    "reason": text("Why it is blocked; Claude reads it."),
                    "systemMessage": text("Shown to the user (warnings)."),
                    "hookSpecificOutput": {
                        "type": "object",
                        "properties": {
                            "hookEventName": { "type": "string" },
                            "permissionDecision": { "enum": ["allow", "deny", "ask"] },
                            "permissionDecisionReason": { "type": "string" },
                            "updatedInput": { "type": "object", "description": "The tool input to run instead." },
                            "additionalContext": { "type": "string", "description": "Added to Claude's context." },
                        },
                        "required": ["hookEventName"],
                        "additionalProperties": false,
                    },
                },
                "additionalProperties": false,
                "description": "Claude Code's hook output (the fields this server answers with).",
            }),
        ),
    ]
}
