//! The transports over the real, generated event table: every event is reachable, and the MCP
//! tool list is exactly the generated manifest (`generated/mcp-tools.json`), cut to the selected
//! tool sets.

use claudebench_generated::events::EVENTS;
use claudebench_runtime::config::McpToolsets;
use claudebench_runtime::transport::TransportConfig;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::{Value, json};

use crate::transport_support::{TestBackend, client, start_with};

fn manifest_file() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../generated/mcp-tools.json");
    let text = std::fs::read_to_string(path).expect("generated/mcp-tools.json");
    serde_json::from_str(&text).expect("valid JSON")
}

fn manifest() -> Vec<Value> {
    manifest_file()["tools"].as_array().cloned().expect("a tools array")
}

/// The tools of these sets in the generated manifest, sorted.
fn tools_of(sets: &[&str]) -> Vec<String> {
    let toolsets = manifest_file()["toolsets"].clone();
    let mut names: Vec<String> = sets
        .iter()
        .flat_map(|set| toolsets[*set].as_array().unwrap_or_else(|| panic!("no set {set}")).clone())
        .map(|n| n.as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

async fn listed(toolsets: McpToolsets) -> Vec<String> {
    let server = start_with(TestBackend::with_toolsets(&EVENTS, toolsets), TransportConfig::default()).await;
    let mcp = ().serve(StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url))).await.unwrap();
    let tools = mcp.list_all_tools().await.unwrap();
    mcp.cancel().await.unwrap();
    tools.iter().map(|t| t.name.to_string()).collect()
}

#[tokio::test]
async fn by_default_only_the_default_set_is_listed() {
    let names = listed(McpToolsets::default()).await;
    assert_eq!(names, tools_of(&["core"]));
    assert!(names.contains(&"task__create".to_string()) && !names.contains(&"system__register".to_string()));
    assert!(names.len() < manifest().len(), "the default set is a part of the tools");
}

#[tokio::test]
async fn named_sets_list_their_union_and_all_lists_every_tool() {
    let names = listed(McpToolsets::parse("core, admin").unwrap()).await;
    assert_eq!(names, tools_of(&["admin", "core"]));
    let every: Vec<String> = manifest().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(listed(McpToolsets::All).await, every);
    let known: Vec<&str> = McpToolsets::known(&EVENTS);
    assert_eq!(known, ["admin", "coordination", "core", "hooks"]);
    assert_eq!(listed(McpToolsets::parse(&known.join(",")).unwrap()).await, every);
}

#[tokio::test]
async fn a_tool_outside_the_selection_is_refused_naming_its_set_and_how_to_enable_it() {
    let server =
        start_with(TestBackend::with_toolsets(&EVENTS, McpToolsets::default()), TransportConfig::default()).await;
    let mcp = ().serve(StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url))).await.unwrap();
    let refused = mcp.call_tool(CallToolRequestParams::new("system__metrics")).await.expect_err("not served");
    let message = refused.to_string();
    assert!(message.contains("`system__metrics` is in the `admin` tool set"), "{message}");
    assert!(message.contains("CLAUDEBENCH_MCP_TOOLSETS=core,admin"), "{message}");
    let unknown = mcp.call_tool(CallToolRequestParams::new("no__such_tool")).await.expect_err("unknown");
    assert!(unknown.to_string().contains("Unknown tool: no__such_tool"), "{unknown}");
    // A selected tool is served; REST still serves the unselected event.
    let served = mcp.call_tool(CallToolRequestParams::new("task__list")).await.unwrap();
    assert_eq!(served.is_error, Some(false));
    mcp.cancel().await.unwrap();
    let response = client().post(format!("{}/system/metrics", server.url)).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let names: Vec<String> = server.backend.calls().into_iter().map(|(name, _, _)| name).collect();
    assert_eq!(names, ["task.list", "system.metrics"], "the refused calls never reached the backend");
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
    let server = start_with(TestBackend::with_toolsets(&EVENTS, McpToolsets::All), TransportConfig::default()).await;
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
