//! MCP tool sets against the real server (real pipeline and Redis) and the real binary: the
//! default selection, named sets and `all`, refusals of unselected tools, a bad selection
//! stopping the start, stdio and Streamable HTTP agreeing, and the README's token table.

use std::path::Path;
use std::time::Duration;

use claudebench_runtime::config::McpToolsets;
use rmcp::model::{CallToolRequestParams, ListToolsResult};
use rmcp::service::RunningService;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

use crate::server::TestServer;
use crate::support;

fn manifest() -> Value {
    serde_json::from_str(include_str!("../../generated/mcp-tools.json")).unwrap()
}

/// The tools of these sets in the generated manifest, sorted (`all`: every tool).
fn tools_of(sets: &[&str]) -> Vec<String> {
    let manifest = manifest();
    let mut names: Vec<String> = if sets == ["all"] {
        manifest["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
    } else {
        sets.iter()
            .flat_map(|set| manifest["toolsets"][*set].as_array().unwrap_or_else(|| panic!("no set {set}")).clone())
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    };
    names.sort();
    names
}

async fn server_with(selection: &str) -> TestServer {
    let mut options = support::production_options();
    options.runtime.mcp_toolsets = McpToolsets::parse(selection).unwrap();
    TestServer::start_with(options, Default::default()).await
}

async fn http_client(server: &TestServer) -> RunningService<RoleClient, ()> {
    ().serve(StreamableHttpClientTransport::from_uri(format!("{}/mcp", server.url))).await.expect("MCP handshake")
}

/// One `tools/list` (all pages: the server answers in one).
async fn list(client: &RunningService<RoleClient, ()>) -> ListToolsResult {
    let result = client.list_tools(None).await.unwrap();
    assert!(result.next_cursor.is_none(), "one page");
    result
}

fn names(result: &ListToolsResult) -> Vec<String> {
    result.tools.iter().map(|t| t.name.to_string()).collect()
}

#[tokio::test]
async fn the_default_server_lists_only_the_core_set_and_refuses_the_rest_clearly() {
    let server = TestServer::start_with(support::production_options(), Default::default()).await;
    let client = http_client(&server).await;
    assert_eq!(names(&list(&client).await), tools_of(&["core"]));
    let refused = client.call_tool(CallToolRequestParams::new("system__register")).await.expect_err("not served");
    let message = refused.to_string();
    assert!(message.contains("`system__register` is in the `coordination` tool set"), "{message}");
    assert!(message.contains("CLAUDEBENCH_MCP_TOOLSETS=core,coordination"), "{message}");
    let instructions = client.peer_info().and_then(|i| i.instructions.clone()).unwrap_or_default();
    assert!(instructions.contains("admin, coordination, hooks"), "{instructions}");
    client.cancel().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn named_sets_and_all_list_their_union() {
    for (selection, sets) in [("core,admin", &["admin", "core"][..]), ("all", &["all"][..])] {
        let server = server_with(selection).await;
        let client = http_client(&server).await;
        assert_eq!(names(&list(&client).await), tools_of(sets), "{selection}");
        client.cancel().await.unwrap();
        server.stop().await;
    }
}

fn child(selection: &str, prefix: &str, data: &Path) -> tokio::process::Command {
    let (redis_key, redis_value) = crate::spawned::redis_env();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_claudebench"));
    command
        .env("CLAUDEBENCH_MCP_TOOLSETS", selection)
        .env("CLAUDEBENCH_KEY_PREFIX", prefix)
        .env("CLAUDEBENCH_DATA_DIR", data)
        .env_remove("CLAUDEBENCH_CONFIG")
        .env_remove("REDIS_URL")
        .env_remove("REDIS_CLUSTER_NODES")
        .env(redis_key, redis_value)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    command
}

#[tokio::test]
async fn stdio_and_streamable_http_serve_the_same_selection() {
    let prefix = support::unique_prefix();
    let data = std::env::temp_dir().join(format!("cb-mcp-sets-{prefix}"));
    let mut command = child("core, admin", &prefix, &data);
    command.arg("mcp");
    let stdio = ().serve(TokioChildProcess::new(command).expect("spawn claudebench mcp")).await.expect("handshake");
    let server = server_with("core,admin").await;
    let http = http_client(&server).await;
    let (over_stdio, over_http) = (list(&stdio).await, list(&http).await);
    assert_eq!(names(&over_stdio), tools_of(&["admin", "core"]));
    assert_eq!(serde_json::to_value(&over_stdio).unwrap(), serde_json::to_value(&over_http).unwrap());
    for client in [&stdio, &http] {
        let refused = client.call_tool(CallToolRequestParams::new("hook__pre_tool")).await.expect_err("not served");
        assert!(refused.to_string().contains("in the `hooks` tool set"), "{refused}");
    }
    stdio.cancel().await.unwrap();
    http.cancel().await.unwrap();
    server.stop().await;
    let _ = std::fs::remove_dir_all(&data);
}

/// Runs the binary with `args` and expects it to stop at once with an error.
async fn stops_at_start(mut command: tokio::process::Command) -> String {
    command.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(30), command.output())
        .await
        .expect("the server stops instead of serving")
        .expect("the binary runs");
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn an_unknown_tool_set_stops_the_server_at_start_naming_the_known_ones() {
    let prefix = support::unique_prefix();
    let data = std::env::temp_dir().join(format!("cb-mcp-sets-{prefix}"));
    let known = "the known sets are `admin`, `coordination`, `core`, `hooks` (or `all` for every set)";
    let mut serve = child("core,bogus", &prefix, &data);
    serve.args(["serve", "--port", "0"]);
    let stderr = stops_at_start(serve).await;
    let line = format!("error: CLAUDEBENCH_MCP_TOOLSETS names unknown tool set `bogus`: {known}");
    assert_eq!(stderr.trim(), line, "one clear line");

    let mut stdio = child("Admin,nope,hoooks", &prefix, &data);
    stdio.arg("mcp");
    let stderr = stops_at_start(stdio).await;
    assert!(stderr.contains("unknown tool sets `nope`, `hoooks`: the known sets"), "{stderr}");

    // The configuration file's [settings] say it too.
    std::fs::create_dir_all(&data).unwrap();
    let file = data.join("cb.toml");
    std::fs::write(&file, "[settings]\nCLAUDEBENCH_MCP_TOOLSETS = \"ops\"\n").unwrap();
    let mut configured = child("", &prefix, &data);
    configured.env_remove("CLAUDEBENCH_MCP_TOOLSETS").arg("--config").arg(&file).args(["serve", "--port", "0"]);
    let stderr = stops_at_start(configured).await;
    assert!(stderr.contains("unknown tool set `ops`: the known sets"), "{stderr}");
    let _ = std::fs::remove_dir_all(&data);
}

/// One row of the README's table: a selection and the size of its `tools/list` result.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    selection: String,
    tools: usize,
    chars: usize,
    tokens: usize,
}

/// `tools/list` of the real server for each selection: the default, each set alone, `all`.
async fn measure() -> Vec<Row> {
    let mut selections = vec![("default (`core`)".to_string(), String::new())];
    for set in McpToolsets::known(&claudebench_generated::events::EVENTS) {
        selections.push((format!("`{set}`"), set.to_string()));
    }
    selections.push(("`all`".to_string(), "all".to_string()));
    let mut rows = Vec::new();
    for (label, selection) in selections {
        let server = server_with(&selection).await;
        let client = http_client(&server).await;
        let result = list(&client).await;
        let chars = serde_json::to_string(&result).unwrap().chars().count();
        rows.push(Row { selection: label, tools: result.tools.len(), chars, tokens: chars.div_ceil(4) });
        client.cancel().await.unwrap();
        server.stop().await;
    }
    rows
}

const START: &str = "<!-- mcp-tokens:start -->";
const END: &str = "<!-- mcp-tokens:end -->";

/// The rows of the README's table (the `before` row, a record of the past, is not checked).
fn readme_rows(readme: &str) -> Vec<Row> {
    let start = readme.find(START).expect("README has the MCP token table") + START.len();
    let end = readme[start..].find(END).expect("the table ends") + start;
    let number = |cell: &str| cell.trim().trim_start_matches('≈').trim().replace(',', "").parse::<usize>().ok();
    readme[start..end]
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
            if cells.len() != 4 || cells[0].starts_with("before") {
                return None;
            }
            Some(Row {
                selection: cells[0].to_string(),
                tools: number(cells[1])?,
                chars: number(cells[2])?,
                tokens: number(cells[3])?,
            })
        })
        .collect()
}

fn render(rows: &[Row]) -> String {
    let group = |n: usize| {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    rows.iter()
        .map(|r| format!("| {} | {} | {} | ≈ {} |", r.selection, r.tools, group(r.chars), group(r.tokens)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The README's figures stay true: each row within 3% (and the tool counts exact) of what the
/// real server answers now. `cargo test --test it mcp_toolsets::the_readme -- --nocapture` prints
/// the current rows.
#[tokio::test]
async fn the_readme_token_table_matches_tools_list_of_the_real_server() {
    let measured = measure().await;
    println!("{}", render(&measured));
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let documented = readme_rows(&readme);
    let current = render(&measured);
    assert_eq!(
        documented.iter().map(|r| (&r.selection, r.tools)).collect::<Vec<_>>(),
        measured.iter().map(|r| (&r.selection, r.tools)).collect::<Vec<_>>(),
        "README's MCP token table names other selections or tool counts; the current rows:\n{current}"
    );
    for (doc, now) in documented.iter().zip(&measured) {
        let off = doc.tokens.abs_diff(now.tokens) as f64 / now.tokens as f64;
        assert!(
            off <= 0.03,
            "README says ≈{} tokens for {}, tools/list is ≈{} now; the current rows:\n{current}",
            doc.tokens,
            doc.selection,
            now.tokens
        );
    }
}
