//! MCP with the official SDK (`rmcp`): one tool per event that has an `mcp` setting, served
//! over Streamable HTTP at `/mcp` and over stdio (`claudebench mcp`).
//!
//! The tool list comes from the event table, so the handler implements `list_tools` /
//! `call_tool` itself rather than using rmcp's compile-time tool macros. Only the tool sets the
//! server is told to serve (`CLAUDEBENCH_MCP_TOOLSETS`, [`Backend::mcp_toolsets`]) are listed
//! and accepted; a call to a tool of another set is refused with the set's name and how to
//! enable it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::http::request::Parts;
use axum::http::{Method, Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, any};
use claudebench_contract::error::{Error, ErrorCode};
use claudebench_contract::event::{EventDef, McpDef};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientJsonRpcMessage, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

use super::identity::{self, clean_id};
use super::wire::{error_response, too_large};
use super::{TransportConfig, jsonrpc};
use crate::backend::{Backend, Payload};
use crate::config::McpToolsets;
use crate::context::{RequestMeta, Transport};

/// Name the server reports in `serverInfo` (Claude Code shows tools as `mcp__claudebench__…`).
pub const SERVER_NAME: &str = "claudebench";

const INSTRUCTIONS: &str = "ClaudeBench coordinates Claude Code sessions and workers through a shared task queue. \
Tools are named `<domain>__<action>` after the server's events (for example `task__create`). \
A tool that fails returns `isError: true` with a JSON error {code, message, issues}; fix the input and call again.";

/// The tools, built once from the event table and the selected tool sets, and shared by every
/// session.
struct Catalog {
    /// The selected tools, as `tools/list` returns them.
    tools: Vec<Tool>,
    events: HashMap<String, &'static EventDef>,
    /// Tools of the sets not selected → their set, to say how to enable one.
    unselected: HashMap<String, &'static str>,
    selection: McpToolsets,
    instructions: String,
}

impl Catalog {
    fn new(backend: &dyn Backend) -> Self {
        let selection = backend.mcp_toolsets();
        let mut exposed: Vec<(&'static EventDef, McpDef)> =
            backend.events().iter().filter_map(|e| e.mcp.map(|m| (e, m))).collect();
        // Deterministic order (the 2026-07-28 spec asks for it; caches and diffs like it).
        exposed.sort_by_key(|(_, mcp)| mcp.tool_name);
        let (selected, others): (Vec<_>, Vec<_>) =
            exposed.into_iter().partition(|(_, mcp)| selection.includes(mcp.toolset));
        let tools = selected.iter().map(|(event, mcp)| tool(event, mcp)).collect();
        let events = selected.into_iter().map(|(event, mcp)| (mcp.tool_name.to_string(), event)).collect();
        let unselected: HashMap<String, &'static str> =
            others.iter().map(|(_, mcp)| (mcp.tool_name.to_string(), mcp.toolset)).collect();
        let mut instructions = INSTRUCTIONS.to_string();
        let mut more: Vec<&str> = unselected.values().copied().collect();
        more.sort_unstable();
        more.dedup();
        if !more.is_empty() {
            instructions.push_str(&format!(
                " This server lists the tool sets {}; the sets {} are enabled with CLAUDEBENCH_MCP_TOOLSETS.",
                selection.describe(),
                more.join(", ")
            ));
        }
        Catalog { tools, events, unselected, selection, instructions }
    }

    /// The error for a tool that is not served: one of a set not selected says which set and how
    /// to enable it.
    fn unknown_tool(&self, name: &str) -> McpError {
        match self.unselected.get(name) {
            Some(set) => McpError::invalid_params(
                format!(
                    "Tool `{name}` is in the `{set}` tool set, which this server does not serve over MCP \
                     (CLAUDEBENCH_MCP_TOOLSETS={}). Enable it with CLAUDEBENCH_MCP_TOOLSETS={} (or `all`) and \
                     restart the server; REST and JSON-RPC serve every event.",
                    self.selection.describe(),
                    match &self.selection {
                        McpToolsets::All => set.to_string(),
                        McpToolsets::Sets(sets) => format!("{},{set}", sets.join(",")),
                    }
                ),
                Some(json!({ "tool": name, "toolset": set, "selected": self.selection.describe() })),
            ),
            None => McpError::invalid_params(format!("Unknown tool: {name}"), None),
        }
    }
}

/// One event as an MCP tool.
fn tool(event: &EventDef, mcp: &McpDef) -> Tool {
    let input = object_schema(mcp.input_schema).unwrap_or_else(|| {
        tracing::warn!(event = event.name, "input schema is not a JSON object schema; advertising an open object");
        let mut open = JsonObject::new();
        open.insert("type".into(), json!("object"));
        open
    });
    let annotations = ToolAnnotations::with_title(event.title)
        .read_only(mcp.read_only)
        .destructive(mcp.destructive)
        .idempotent(mcp.idempotent)
        .open_world(mcp.open_world);
    let mut tool = Tool::new(mcp.tool_name, mcp.description, Arc::new(input))
        .with_title(event.title)
        .with_annotations(annotations);
    // Protocol versions before 2026-07-28 require an object root for outputSchema; an event
    // whose output is not an object simply advertises none.
    if let Some(output) = object_schema(mcp.output_schema) {
        tool = tool.with_raw_output_schema(Arc::new(output));
    }
    tool
}

/// The schema as a JSON object whose root `type` is `object`.
fn object_schema(text: &str) -> Option<JsonObject> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(schema)) if schema.get("type").and_then(Value::as_str) == Some("object") => Some(schema),
        _ => None,
    }
}

/// The MCP server: a cheap handle (the factory of the HTTP service creates one per session,
/// or per request for stateless clients).
#[derive(Clone)]
pub struct McpHandler {
    backend: Arc<dyn Backend>,
    catalog: Arc<Catalog>,
}

impl McpHandler {
    pub fn new(backend: Arc<dyn Backend>) -> Self {
        let catalog = Arc::new(Catalog::new(backend.as_ref()));
        McpHandler { backend, catalog }
    }
}

impl ServerHandler for McpHandler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION")))
            .with_instructions(self.catalog.instructions.clone())
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.catalog.tools.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.catalog.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let Some(&event) = self.catalog.events.get(request.name.as_ref()) else {
            return Err(self.catalog.unknown_tool(request.name.as_ref()));
        };
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        let meta = caller_meta(&context);
        // A client's `notifications/cancelled` drops the dispatch, which cancels the handler.
        let outcome = tokio::select! {
            outcome = self.backend.dispatch(event, Payload::Value(arguments), meta) => outcome,
            _ = context.ct.cancelled() => return Err(McpError::internal_error("the request was cancelled", None)),
        };
        tool_result(outcome).map(CallToolResponse::from)
    }
}

/// Success → `structuredContent` plus the same JSON as text. Failures the model can act on
/// (invalid input, not found, conflicts, limits) → `isError: true` with the error JSON, so it
/// can correct itself; only a server fault is a JSON-RPC error.
fn tool_result(outcome: Result<Value, Error>) -> Result<CallToolResult, McpError> {
    match outcome {
        Ok(output) => Ok(CallToolResult::structured(output)),
        Err(error) if error.code == ErrorCode::Internal => {
            Err(McpError::internal_error(error.message.clone(), serde_json::to_value(&error).ok()))
        }
        Err(error) => {
            let body = json!({ "error": error });
            let mut result = CallToolResult::structured_error(body.clone());
            // Pretty text reads better in a model's context than one long line.
            let text = serde_json::to_string_pretty(&body).unwrap_or_else(|_| error.to_string());
            result.content = vec![ContentBlock::text(text)];
            Ok(result)
        }
    }
}

/// Identity from the HTTP request behind this MCP call (none over stdio).
fn caller_meta(context: &RequestContext<RoleServer>) -> RequestMeta {
    let Some(parts) = context.extensions.get::<Parts>() else {
        return RequestMeta::new(Transport::Mcp);
    };
    let mut meta = identity::request_meta(Transport::Mcp, &parts.headers, &parts.extensions);
    meta.session_id = parts.headers.get("mcp-session-id").and_then(|v| v.to_str().ok()).and_then(clean_id);
    meta
}

/// The Streamable HTTP endpoint, for `Router::nest_service("/mcp", …)`. Hosts and origins are
/// checked by the router's browser policy (`origin.rs`) like on every route, so rmcp's own checks
/// are off; a POST body that is not a JSON-RPC message is answered here, in JSON-RPC.
pub(crate) fn endpoint(backend: Arc<dyn Backend>, config: &TransportConfig) -> MethodRouter {
    let handler = McpHandler::new(backend);
    let http = StreamableHttpServerConfig::default()
        .with_max_request_body_bytes(config.body_limit)
        .disable_allowed_hosts()
        .disable_allowed_origins();
    // Legacy (≤ 2025-11-25) clients get sessions (expired by rmcp after 5 idle minutes);
    // 2026-07-28 clients are served statelessly by rmcp regardless.
    let service =
        StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(LocalSessionManager::default()), http);
    let limit = config.body_limit;
    any(move |parts: Parts, body: Result<Bytes, BytesRejection>| {
        let service = service.clone();
        async move {
            let body = match body {
                Ok(body) => body,
                Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_))) => {
                    return too_large(limit);
                }
                Err(other) => {
                    let message = format!("could not read the request body: {other}");
                    return error_response(&Error::new(ErrorCode::Validation, message));
                }
            };
            if parts.method == Method::POST
                && let Some(error) = not_a_message(&body)
            {
                return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
            }
            service.handle(Request::from_parts(parts, Body::from(body))).await.into_response()
        }
    })
}

/// The JSON-RPC error for a POST body rmcp cannot read: -32700 when it is not JSON at all,
/// -32600 when it is JSON but not a JSON-RPC message (rmcp itself would answer 415 in plain text).
fn not_a_message(body: &[u8]) -> Option<Value> {
    let error = serde_json::from_slice::<ClientJsonRpcMessage>(body).err()?;
    let (code, kind) = match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
        Err(_) => (jsonrpc::PARSE_ERROR, "Parse error"),
        Ok(_) => (jsonrpc::INVALID_REQUEST, "Invalid Request"),
    };
    Some(jsonrpc::error_object(Value::Null, code, format!("{kind}: {error}"), None))
}

/// Serve MCP over this process's stdin/stdout until the client disconnects.
pub async fn serve_stdio(backend: Arc<dyn Backend>) -> std::io::Result<()> {
    let (stdin, stdout) = rmcp::transport::stdio();
    serve_io(backend, stdin, stdout).await
}

/// Serve MCP over any byte stream pair (stdio, a pipe, an in-process duplex).
pub async fn serve_io<R, W>(backend: Arc<dyn Backend>, read: R, write: W) -> std::io::Result<()>
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
    W: tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    // `system.health` reports MCP as up while this client is served.
    let _serving = backend.serving().map(|s| s.mcp());
    let running = McpHandler::new(backend).serve((read, write)).await.map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_bodies_are_json_rpc_errors() {
        assert_eq!(not_a_message(b"{oops").unwrap()["error"]["code"], json!(-32700));
        assert_eq!(not_a_message(br#"{"hello": 1}"#).unwrap()["error"]["code"], json!(-32600));
        let ping = br#"{"jsonrpc": "2.0", "id": 1, "method": "ping"}"#;
        assert!(not_a_message(ping).is_none());
    }

    #[test]
    fn only_object_schemas_are_advertised() {
        assert!(object_schema(r#"{"type":"object","properties":{}}"#).is_some());
        assert!(object_schema(r#"{"type":"string"}"#).is_none());
        assert!(object_schema("not json").is_none());
    }

    #[test]
    fn internal_errors_are_protocol_errors_and_the_rest_are_tool_errors() {
        assert!(tool_result(Err(Error::internal("boom"))).is_err());
        let result = tool_result(Err(Error::not_found("task t-1"))).unwrap();
        assert_eq!(result.is_error, Some(true));
        assert_eq!(result.structured_content.unwrap()["error"]["code"], json!("not_found"));
    }
}
