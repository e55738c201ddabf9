//! MCP with the official SDK (`rmcp`): one tool per event that has an `mcp` setting, served
//! over Streamable HTTP at `/mcp` and over stdio (`claudebench mcp`).
//!
//! The tool list comes from the event table, so the handler implements `list_tools` /
//! `call_tool` itself rather than using rmcp's compile-time tool macros.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::request::Parts;
use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::event::{EventDef, McpDef};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, JsonObject, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

use super::TransportConfig;
use super::identity::clean_id;
use crate::backend::{Backend, Payload};
use crate::context::{RequestMeta, Transport};

/// Name the server reports in `serverInfo` (Claude Code shows tools as `mcp__claudebench__…`).
pub const SERVER_NAME: &str = "claudebench";

const INSTRUCTIONS: &str = "ClaudeBench coordinates Claude Code sessions and workers through a shared task queue. \
Tools are named `<domain>__<action>` after the server's events (for example `task__create`). \
A tool that fails returns `isError: true` with a JSON error {code, message, issues}; fix the input and call again.";

/// The tools, built once from the event table and shared by every session.
struct Catalog {
    tools: Vec<Tool>,
    events: HashMap<String, &'static EventDef>,
}

impl Catalog {
    fn new(backend: &dyn Backend) -> Self {
        let mut exposed: Vec<(&'static EventDef, McpDef)> =
            backend.events().iter().filter_map(|e| e.mcp.map(|m| (e, m))).collect();
        // Deterministic order (the 2026-07-28 spec asks for it; caches and diffs like it).
        exposed.sort_by_key(|(_, mcp)| mcp.tool_name);
        let tools = exposed.iter().map(|(event, mcp)| tool(event, mcp)).collect();
        let events = exposed.into_iter().map(|(event, mcp)| (mcp.tool_name.to_string(), event)).collect();
        Catalog { tools, events }
    }
}

/// One event as an MCP tool.
fn tool(event: &EventDef, mcp: &McpDef) -> Tool {
    let input = object_schema(event.input_schema).unwrap_or_else(|| {
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
    let mut tool = Tool::new(mcp.tool_name, event.description, Arc::new(input))
        .with_title(event.title)
        .with_annotations(annotations);
    // Protocol versions before 2026-07-28 require an object root for outputSchema; an event
    // whose output is not an object simply advertises none.
    if let Some(output) = object_schema(event.output_schema) {
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
            .with_instructions(INSTRUCTIONS)
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
            return Err(McpError::invalid_params(format!("Unknown tool: {}", request.name), None));
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
    let mut meta = RequestMeta::new(Transport::Mcp);
    if let Some(parts) = context.extensions.get::<Parts>() {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).and_then(clean_id);
        meta.session_id = header("mcp-session-id");
        meta.client_id = header("x-client-id");
        meta.peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip().to_string());
    }
    meta
}

/// The Streamable HTTP endpoint as a tower service, for `Router::nest_service("/mcp", …)`.
pub(crate) fn service(
    backend: Arc<dyn Backend>,
    config: &TransportConfig,
) -> StreamableHttpService<McpHandler, LocalSessionManager> {
    let handler = McpHandler::new(backend);
    let mut http = StreamableHttpServerConfig::default().with_max_request_body_bytes(config.body_limit);
    http = if config.mcp_allowed_hosts.is_empty() {
        http.disable_allowed_hosts()
    } else {
        http.with_allowed_hosts(config.mcp_allowed_hosts.clone())
    };
    http = if config.cors_origins.iter().any(|o| o == "*") {
        http.disable_allowed_origins()
    } else {
        http.with_allowed_origins(allowed_origins(&config.cors_origins)).enforce_origin_validation()
    };
    // Legacy (≤ 2025-11-25) clients get sessions (expired by rmcp after 5 idle minutes);
    // 2026-07-28 clients are served statelessly by rmcp regardless.
    StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(LocalSessionManager::default()), http)
}

/// Browser origins the MCP endpoint accepts: loopback on any port (local tools, the MCP
/// inspector) and the configured CORS origins. Requests without `Origin` (CLI clients) pass.
fn allowed_origins(cors_origins: &[String]) -> Vec<String> {
    let mut origins: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .flat_map(|host| [format!("http://{host}:*"), format!("https://{host}:*")])
        .collect();
    origins.extend(cors_origins.iter().map(|o| with_explicit_port(o.trim_end_matches('/'))));
    origins
}

/// rmcp reads a port-less origin as "any port" (deprecated); say the default port instead.
fn with_explicit_port(origin: &str) -> String {
    let Some((scheme, authority)) = origin.split_once("://") else {
        return origin.to_string();
    };
    let has_port = match authority.rfind(']') {
        Some(end) => authority[end..].contains(':'),
        None => authority.contains(':'),
    };
    match (has_port, scheme) {
        (false, "https") => format!("{origin}:443"),
        (false, "http") => format!("{origin}:80"),
        _ => origin.to_string(),
    }
}

/// Serve MCP over this process's stdin/stdout until the client disconnects.
pub async fn serve_stdio(backend: Arc<dyn Backend>) -> std::io::Result<()> {
    let _serving = crate::coordination::service_status::McpServing::start();
    let (stdin, stdout) = rmcp::transport::stdio();
    serve_io(backend, stdin, stdout).await
}

/// Serve MCP over any byte stream pair (stdio, a pipe, an in-process duplex).
pub async fn serve_io<R, W>(backend: Arc<dyn Backend>, read: R, write: W) -> std::io::Result<()>
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
    W: tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let running = McpHandler::new(backend).serve((read, write)).await.map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configured_origins_get_an_explicit_default_port() {
        assert_eq!(with_explicit_port("https://dash.example.com"), "https://dash.example.com:443");
        assert_eq!(with_explicit_port("http://dash.example.com:8080"), "http://dash.example.com:8080");
        assert_eq!(with_explicit_port("http://[::1]"), "http://[::1]:80");
        assert_eq!(with_explicit_port("null"), "null");
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
