//! Every transport against the real server (real pipeline, handlers and Redis), with real
//! clients: reqwest, rmcp's MCP client (Streamable HTTP and a `claudebench mcp` child over
//! stdio), a WebSocket client, and a Python client generated from `generated/openapi.json`.

use std::path::Path;
use std::process::Command;

use futures_util::{SinkExt, StreamExt};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::server::{TestServer, post};
use crate::support;

fn spec() -> claudebench_codegen::Spec {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    claudebench_codegen::load_dir(&dir, "spec").map(|(s, _)| s).unwrap_or_else(|d| panic!("{d}"))
}

/// Codes a valid request may legitimately get (the example's task or instance may not exist).
const DOCUMENTED_FOR_VALID_INPUT: [&str; 4] = ["not_found", "conflict", "forbidden", "rate_limited"];

#[tokio::test]
async fn every_event_answers_its_spec_example_over_rest_and_json_rpc_without_a_server_error() {
    let server = TestServer::start().await;
    let spec = spec();
    for event in &spec.events {
        let input = event.examples.first().map(|e| e.input.clone()).unwrap_or_else(|| json!({}));
        let (status, body) = post(&format!("{}{}", server.url, event.name.http_path()), &input.to_string()).await;
        match status {
            200 => {}
            _ => {
                let code = body["error"]["code"].as_str().unwrap_or("");
                assert!(
                    DOCUMENTED_FOR_VALID_INPUT.contains(&code),
                    "REST {}: {status} {body} for its own example {input}",
                    event.name.full
                );
            }
        }
        let request = json!({"jsonrpc": "2.0", "id": 7, "method": event.name.full, "params": input});
        let (status, reply) = post(&format!("{}/rpc", server.url), &request.to_string()).await;
        assert_eq!(status, 200, "JSON-RPC {}: {reply}", event.name.full);
        assert_eq!(reply["id"], json!(7));
        if let Some(error) = reply.get("error") {
            let code = error["data"]["code"].as_str().unwrap_or("");
            assert!(DOCUMENTED_FOR_VALID_INPUT.contains(&code), "JSON-RPC {}: {reply}", event.name.full);
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_get_their_documented_errors_and_never_a_500() {
    let server = TestServer::start().await;
    let url = &server.url;

    let (status, body) = post(&format!("{url}/task/create"), "{not json").await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("validation")));
    let (status, body) = post(&format!("{url}/task/create"), r#"{"text": 5, "priority": "high"}"#).await;
    assert_eq!(status, 400);
    let paths: Vec<&str> =
        body["error"]["issues"].as_array().unwrap().iter().map(|i| i["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["text", "priority"]);
    let big = format!(r#"{{"text": "{}"}}"#, "x".repeat(2 * 1024 * 1024));
    let (status, _) = post(&format!("{url}/task/create"), &big).await;
    assert_eq!(status, 413);

    let (_, reply) = post(&format!("{url}/rpc"), "{oops").await;
    assert_eq!(reply["error"]["code"], json!(-32700));
    let (_, reply) = post(&format!("{url}/rpc"), r#"{"jsonrpc": "2.0", "id": 1, "method": "task.nope"}"#).await;
    assert_eq!(reply["error"]["code"], json!(-32601));
    let (_, reply) =
        post(&format!("{url}/rpc"), r#"{"jsonrpc": "2.0", "id": 1, "method": "task.get", "params": {"id": 3}}"#).await;
    assert_eq!(reply["error"]["code"], json!(-32602));
    assert_eq!(reply["error"]["data"]["issues"][0]["path"], json!("id"));

    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "task.create", "params": {"text": "from a batch"}},
        {"jsonrpc": "2.0", "id": 2, "method": "task.create", "params": {"text": ""}},
        {"jsonrpc": "2.0", "id": 3, "method": "no.such"},
        {"jsonrpc": "2.0", "method": "task.create", "params": {"text": "a notification"}},
        {"id": 4}
    ]);
    let (status, reply) = post(&format!("{url}/rpc"), &batch.to_string()).await;
    assert_eq!(status, 200);
    let replies = reply.as_array().expect("a batch answer");
    assert_eq!(replies.len(), 4, "the notification gets no answer: {reply}");
    assert_eq!(replies[0]["result"]["status"], json!("pending"));
    assert_eq!(replies[1]["error"]["code"], json!(-32602));
    assert_eq!(replies[2]["error"]["code"], json!(-32601));
    assert_eq!(replies[3]["error"]["code"], json!(-32600));

    // Deprecated three-part aliases (`system.batch.process`) still work as JSON-RPC methods.
    let (_, reply) = post(
        &format!("{url}/rpc"),
        r#"{"jsonrpc": "2.0", "id": 9, "method": "system.quorum.vote", "params": {"instanceId": "i1", "decision": "d", "value": "yes", "totalInstances": 1}}"#,
    )
    .await;
    assert_eq!(reply["result"]["quorumReached"], json!(true), "{reply}");
    server.stop().await;
}

#[tokio::test]
async fn a_websocket_subscriber_receives_task_created_for_a_task_made_over_http() {
    let server = TestServer::start().await;
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr)).await.expect("ws connects");
    socket.send(Message::text(json!({"type": "subscribe", "events": ["task.*"]}).to_string())).await.unwrap();
    // Wait for the subscription to be acknowledged before publishing.
    let ack =
        tokio::time::timeout(std::time::Duration::from_secs(5), socket.next()).await.expect("an ack").unwrap().unwrap();
    assert!(ack.to_text().unwrap_or("").contains("subscribed"), "{ack:?}");

    let (status, task) = post(&format!("{}/task/create", server.url), r#"{"text": "watch me"}"#).await;
    assert_eq!(status, 200);
    let event = loop {
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), socket.next())
            .await
            .expect("task.created arrives")
            .expect("socket open")
            .expect("a frame");
        if let Message::Text(text) = message {
            let v: Value = serde_json::from_str(&text).unwrap();
            if v["type"] == json!("event") {
                break v;
            }
        }
    };
    assert_eq!(event["event"], json!("task.created"));
    assert_eq!(event["payload"]["id"], task["id"]);
    server.stop().await;
}

/// Tools of the default set (`core`), the only one a server lists unless told otherwise.
fn manifest_tool_count() -> usize {
    let manifest: Value = serde_json::from_str(include_str!("../../generated/mcp-tools.json")).unwrap();
    manifest["toolsets"]["core"].as_array().unwrap().len()
}

fn arguments(v: Value) -> rmcp::model::JsonObject {
    v.as_object().cloned().unwrap()
}

#[tokio::test]
async fn test_only_events_are_not_served_listed_or_exposed_in_production() {
    let server = TestServer::start_with(support::production_options(), Default::default()).await;
    let (status, body) = post(&format!("{}/test/circuit", server.url), r#"{"shouldFail": true}"#).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "test.circuit", "params": {"shouldFail": true}});
    let (_, reply) = post(&format!("{}/rpc", server.url), &request.to_string()).await;
    assert_eq!(reply["error"]["code"], json!(-32601), "method not found: {reply}");
    let (_, discovered) = post(&format!("{}/system/discover", server.url), "{}").await;
    assert!(!discovered.to_string().contains("test.circuit"), "system.discover lists it: {discovered}");
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url))).await.expect("MCP handshake");
    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().all(|t| t.name != "test__circuit"));
    let call = client.call_tool(CallToolRequestParams::new("test__circuit")).await;
    assert!(call.is_err(), "an unknown tool: {call:?}");
    client.cancel().await.unwrap();
    server.stop().await;

    // With CLAUDEBENCH_TEST_EVENTS=1 (the test harness default) the fixture is served.
    let server = TestServer::start().await;
    let (status, _) = post(&format!("{}/test/circuit", server.url), "{}").await;
    assert_eq!(status, 200);
    server.stop().await;
}

#[tokio::test]
async fn an_mcp_client_over_streamable_http_lists_the_manifest_and_calls_tools() {
    let server = TestServer::start_with(support::production_options(), Default::default()).await;
    let client =
        ().serve(StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url))).await.expect("MCP handshake");
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), manifest_tool_count());

    let created = client
        .call_tool(
            CallToolRequestParams::new("task__create")
                .with_arguments(arguments(json!({"text": "via MCP", "priority": 70}))),
        )
        .await
        .unwrap();
    assert_eq!(created.is_error, Some(false));
    let task = created.structured_content.expect("structured content");
    assert_eq!((task["text"].as_str(), task["priority"].as_i64()), (Some("via MCP"), Some(70)));

    let refused = client
        .call_tool(
            CallToolRequestParams::new("task__create").with_arguments(arguments(json!({"text": "", "priority": 500}))),
        )
        .await
        .unwrap();
    assert_eq!(refused.is_error, Some(true), "invalid arguments are a tool error the model can correct");
    let text = refused.content[0].as_text().expect("a text block").text.clone();
    assert!(text.contains("priority") && text.contains("text"), "{text}");
    client.cancel().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn an_mcp_client_over_stdio_drives_a_claudebench_mcp_child_process() {
    let prefix = support::unique_prefix();
    let data = std::env::temp_dir().join(format!("cb-mcp-{prefix}"));
    let (redis_key, redis_value) = crate::spawned::redis_env();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_claudebench"));
    command
        .arg("mcp")
        .env("CLAUDEBENCH_KEY_PREFIX", &prefix)
        .env("CLAUDEBENCH_DATA_DIR", &data)
        .env_remove("REDIS_URL")
        .env_remove("REDIS_CLUSTER_NODES")
        .env(redis_key, redis_value)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    let client =
        ().serve(TokioChildProcess::new(command).expect("spawn claudebench mcp"))
            .await
            .expect("MCP handshake over stdio");
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), manifest_tool_count());
    let created = client
        .call_tool(CallToolRequestParams::new("task__create").with_arguments(arguments(json!({"text": "over stdio"}))))
        .await
        .unwrap();
    assert_eq!(created.is_error, Some(false));
    assert_eq!(created.structured_content.unwrap()["status"], json!("pending"));
    client.cancel().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn a_python_client_generated_from_the_openapi_document_creates_a_task() {
    let python = std::env::var("CB_PYTHON").unwrap_or_else(|_| "python3".into());
    let ready = Command::new(&python).args(["-c", "import openapi_python_client"]).output().map(|o| o.status.success());
    assert!(
        matches!(ready, Ok(true)),
        "`{python}` lacks openapi-python-client: run scripts/test.sh (it creates the venv and sets CB_PYTHON)"
    );
    let out = std::env::temp_dir().join(format!("cb-pyclient-{}", support::unique_prefix()));
    let bin_dir = Path::new(&python).parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let generated = Command::new(&python)
        .env("PATH", &path)
        .args(["-m", "openapi_python_client", "generate", "--path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("generated/openapi.json"))
        .arg("--output-path")
        .arg(&out)
        .output()
        .expect("run openapi-python-client");
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));

    let server = TestServer::start().await;
    let script = format!(
        r#"
from claude_bench_client import Client
from claude_bench_client.api.task import task_create
from claude_bench_client.models import TaskCreateInput
client = Client(base_url="{url}")
task = task_create.sync(client=client, body=TaskCreateInput(text="from python", priority=80))
print(type(task).__name__, task.id, task.text, task.priority, task.status)
"#,
        url = server.url
    );
    // Async: the server runs on this test's runtime, so a blocking wait would starve it.
    let ran = tokio::process::Command::new(&python)
        .env("PYTHONPATH", &out)
        .args(["-c", &script])
        .output()
        .await
        .expect("run python");
    let stdout = String::from_utf8_lossy(&ran.stdout).to_string();
    assert!(ran.status.success(), "{stdout}{}", String::from_utf8_lossy(&ran.stderr));
    let words: Vec<&str> = stdout.split_whitespace().collect();
    assert_eq!(words.first().copied(), Some("TaskCreateOutput"), "a typed model, not a dict: {stdout}");
    assert!(words[1].starts_with("t-"), "{stdout}");
    assert_eq!(&words[2..], ["from", "python", "80", "pending"], "{stdout}");
    server.stop().await;
    let _ = std::fs::remove_dir_all(&out);
}

/// A batch cannot spread itself over invented callers: every item counts against the one caller
/// the transport knows (its `X-Client-Id`, else the connection), whatever its `metadata` says.
#[tokio::test]
async fn a_json_rpc_batch_counts_against_one_caller_whatever_its_metadata_says() {
    let mut options = support::options();
    let limit = claudebench_generated::event::RateLimit { count: 5, window_ms: 60_000 };
    options.event_overrides.insert(
        "system.discover".into(),
        claudebench_runtime::config::EventOverride {
            rate_limit: Some(claudebench_runtime::config::Setting::On(limit)),
            ..Default::default()
        },
    );
    let server = TestServer::start_with(options, Default::default()).await;
    let batch: Vec<Value> = (0..40)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "system.discover", "params": {}, "metadata": {"clientId": format!("invented-{i}"), "sessionId": format!("s-{i}")}}))
        .collect();
    let (status, answers) = post(&format!("{}/rpc", server.url), &Value::Array(batch).to_string()).await;
    assert_eq!(status, 200);
    let answers = answers.as_array().unwrap();
    let ok = answers.iter().filter(|a| a.get("result").is_some()).count();
    let limited = answers.iter().filter(|a| a["error"]["data"]["code"] == json!("rate_limited")).count();
    assert_eq!((ok, limited), (5, 35), "one bucket for the whole batch");
    server.stop().await;
}
