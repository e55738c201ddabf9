//! The transports over the real, generated event table: every event is reachable, and the MCP
//! tool list is exactly the generated manifest (`generated/mcp-tools.json`).

use claudebench_generated::events::EVENTS;
use claudebench_runtime::transport::TransportConfig;
use rmcp::ServiceExt;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};

use crate::transport_support::{TestBackend, client, start_with};

fn manifest() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../generated/mcp-tools.json");
    let text = std::fs::read_to_string(path).expect("generated/mcp-tools.json");
    let manifest: Value = serde_json::from_str(&text).expect("valid JSON");
    manifest["tools"].as_array().cloned().expect("a tools array")
}

#[tokio::test]
async fn every_generated_event_has_its_rest_route() {
    let server = start_with(TestBackend::with_events(&EVENTS), TransportConfig::default()).await;
    for event in EVENTS.iter() {
        let response =
            client().post(format!("{}{}", server.url, event.http_path)).json(&json!({})).send().await.unwrap();
        assert_eq!(response.status(), 200, "{} at {}", event.name, event.http_path);
    }
    assert_eq!(server.backend.calls().len(), EVENTS.len());
}

#[tokio::test]
async fn every_generated_event_and_alias_is_a_json_rpc_method() {
    let server = start_with(TestBackend::with_events(&EVENTS), TransportConfig::default()).await;
    let names = EVENTS.iter().flat_map(|e| std::iter::once(e.name).chain(e.aliases.iter().copied()));
    let batch: Vec<Value> =
        names.enumerate().map(|(id, name)| json!({"jsonrpc": "2.0", "method": name, "params": {}, "id": id})).collect();
    let answers: Value =
        client().post(format!("{}/rpc", server.url)).json(&batch).send().await.unwrap().json().await.unwrap();
    for answer in answers.as_array().unwrap() {
        assert!(answer.get("result").is_some(), "{answer}");
    }
}

#[tokio::test]
async fn the_mcp_tool_list_is_the_generated_manifest() {
    let server = start_with(TestBackend::with_events(&EVENTS), TransportConfig::default()).await;
    let mcp = ().serve(StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url))).await.unwrap();
    let tools = mcp.list_all_tools().await.unwrap();
    let expected = manifest();
    assert_eq!(tools.len(), EVENTS.iter().filter(|e| e.mcp.is_some()).count());
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    let expected_names: Vec<&str> = expected.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, expected_names);
    for (tool, want) in tools.iter().zip(&expected) {
        let got = serde_json::to_value(tool).unwrap();
        for key in ["title", "description", "inputSchema", "outputSchema", "annotations"] {
            assert_eq!(got.get(key), want.get(key), "{} {key}", tool.name);
        }
    }
    mcp.cancel().await.unwrap();
}
