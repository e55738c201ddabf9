//! MCP, driven by rmcp's own client: over Streamable HTTP (legacy handshake and the stateless
//! 2026-07-28 lifecycle) and over an in-process byte stream (what `claudebench mcp` does on stdio).

use claudebench_runtime::context::Transport;
use claudebench_runtime::transport;
use rmcp::model::{CallToolRequestParams, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RunningService, ServiceError};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::transport_support::{EVENTS, MCP_TOOLS, TestBackend, TestServer, client, start_default};

async fn connect(server: &TestServer) -> RunningService<RoleClient, ()> {
    let transport = StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url));
    ().serve(transport).await.expect("MCP handshake")
}

fn args(value: Value) -> rmcp::model::JsonObject {
    value.as_object().cloned().unwrap()
}

#[tokio::test]
async fn the_server_introduces_itself_as_claudebench() {
    let server = start_default().await;
    let mcp = connect(&server).await;
    let info = mcp.peer_info().expect("server info after initialize");
    assert_eq!(info.server_info.as_ref().map(|i| i.name.as_str()), Some("claudebench"));
    assert!(info.capabilities.tools.is_some());
    mcp.cancel().await.unwrap();
}

#[tokio::test]
async fn tools_list_has_one_tool_per_event_with_mcp_in_a_deterministic_order() {
    let server = start_default().await;
    let mcp = connect(&server).await;
    let tools = mcp.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), MCP_TOOLS);
    assert_eq!(tools.len(), EVENTS.iter().filter(|e| e.mcp.is_some()).count());
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["task__create", "test__echo", "test__scalar"]);

    let create = &tools[0];
    assert_eq!(create.title.as_deref(), Some("Create a task"));
    assert_eq!(create.input_schema.get("required"), Some(&json!(["title"])));
    assert!(create.output_schema.is_some());
    let hints = create.annotations.as_ref().unwrap();
    assert_eq!(
        (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint),
        (Some(false), Some(false), Some(false))
    );
    assert!(tools[2].output_schema.is_none(), "a non-object output schema is not advertised");
    mcp.cancel().await.unwrap();
}

#[tokio::test]
async fn calling_a_tool_returns_structured_content_and_the_same_json_as_text() {
    let server = start_default().await;
    let mcp = connect(&server).await;
    let result = mcp
        .call_tool(CallToolRequestParams::new("task__create").with_arguments(args(json!({"title": "write tests"}))))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false));
    let expected = json!({"id": "t-1", "title": "write tests"});
    assert_eq!(result.structured_content, Some(expected.clone()));
    let text = result.content[0].as_text().expect("a text block").text.clone();
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);

    let (event, _, meta) = server.backend.calls().pop().unwrap();
    assert_eq!(event, "task.create");
    assert_eq!(meta.transport, Transport::Mcp);
    assert!(meta.session_id.is_some(), "the MCP session is the caller's session");
    mcp.cancel().await.unwrap();
}

#[tokio::test]
async fn invalid_arguments_are_a_tool_error_the_model_can_read() {
    let server = start_default().await;
    let mcp = connect(&server).await;
    let result =
        mcp.call_tool(CallToolRequestParams::new("task__create").with_arguments(args(json!({})))).await.unwrap();
    assert_eq!(result.is_error, Some(true));
    let error = result.structured_content.unwrap();
    assert_eq!(error["error"]["code"], json!("validation"));
    assert_eq!(error["error"]["issues"][0]["path"], json!("title"));
    let text = &result.content[0].as_text().unwrap().text;
    assert!(text.contains("validation") && text.contains("title"));
    mcp.cancel().await.unwrap();
}

#[tokio::test]
async fn handler_errors_are_tool_errors_but_an_unknown_tool_is_a_protocol_error() {
    let server = start_default().await;
    let mcp = connect(&server).await;
    let result = mcp
        .call_tool(CallToolRequestParams::new("test__echo").with_arguments(args(json!({"fail": "not_found"}))))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(true));
    match mcp.call_tool(CallToolRequestParams::new("task__explode")).await {
        Err(ServiceError::McpError(error)) => assert_eq!(error.code.0, -32602),
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
    mcp.cancel().await.unwrap();
}

#[tokio::test]
async fn a_stateless_2026_client_discovers_and_calls_tools() {
    let server = start_default().await;
    let transport = StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url));
    let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let mcp = ().serve_with_lifecycle(transport, lifecycle).await.expect("server/discover");
    assert_eq!(mcp.list_all_tools().await.unwrap().len(), MCP_TOOLS);
    let result =
        mcp.call_tool(CallToolRequestParams::new("test__echo").with_arguments(args(json!({"x": 1})))).await.unwrap();
    assert_eq!(result.structured_content, Some(json!({"x": 1})));
    mcp.cancel().await.unwrap();
}

#[tokio::test]
async fn foreign_browser_origins_are_refused_with_403_and_the_servers_own_pass() {
    let server = start_default().await;
    let initialize = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    });
    let own = format!("http://localhost:{}", server.addr.port());
    let post = |origin: Option<&str>| {
        let mut request = client()
            .post(format!("{}/mcp", server.url))
            .header("accept", "application/json, text/event-stream")
            .json(&initialize);
        if let Some(origin) = origin {
            request = request.header("origin", origin.to_string());
        }
        request.send()
    };
    assert_eq!(post(Some("https://evil.example.com")).await.unwrap().status(), 403);
    assert_eq!(post(Some("http://localhost:5173")).await.unwrap().status(), 403, "another local site");
    assert_eq!(post(Some(&own)).await.unwrap().status(), 200);
    assert_eq!(post(None).await.unwrap().status(), 200);
}

#[tokio::test]
async fn mcp_works_over_a_byte_stream_like_stdio() {
    let backend = TestBackend::new();
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server_io);
    let server = tokio::spawn(transport::serve_mcp_io(backend.clone(), server_read, server_write));

    let mcp = ().serve(tokio::io::split(client_io)).await.expect("handshake over the stream");
    assert_eq!(mcp.list_all_tools().await.unwrap().len(), MCP_TOOLS);
    let result = mcp
        .call_tool(CallToolRequestParams::new("test__echo").with_arguments(args(json!({"over": "stdio"}))))
        .await
        .unwrap();
    assert_eq!(result.structured_content, Some(json!({"over": "stdio"})));
    assert_eq!(backend.calls()[0].2.transport, Transport::Mcp);

    mcp.cancel().await.unwrap();
    let ended = tokio::time::timeout(std::time::Duration::from_secs(5), server).await;
    assert!(ended.is_ok(), "the server stops when its client goes away");
}
