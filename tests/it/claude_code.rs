//! Claude Code's hooks end to end, against the real server (pipeline, handlers, Redis): every hook
//! input Claude Code sends (`tests/fixtures/claude-code/inputs/`, one per hook event of its current
//! reference, plus variants) is posted to `POST /hooks/claude-code` and piped through the
//! `claudebench hook` bridge, and every answer must satisfy Claude Code's output contract for that
//! event (`tests/fixtures/claude-code/output-contract.json`, JSON Schema per event; see its
//! `SOURCES.md`). A hook Claude Code adds later is recorded and answered with nothing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use claudebench::bridge::{BridgeConfig, run_async};
use serde_json::{Value, json};

use crate::server::{TestServer, post};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/claude-code")
}

/// Every fixture input, `(file stem, input)`, in name order.
fn inputs() -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = std::fs::read_dir(fixtures().join("inputs"))
        .expect("tests/fixtures/claude-code/inputs")
        .map(|entry| {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            (path.file_stem().unwrap().to_string_lossy().into_owned(), serde_json::from_str(&text).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Each hook event's answer schema.
fn contract() -> Value {
    let text = std::fs::read_to_string(fixtures().join("output-contract.json")).unwrap();
    serde_json::from_str::<Value>(&text).unwrap()["events"].clone()
}

fn check_answer(contract: &Value, hook: &str, answer: &Value, what: &str) {
    let schema = contract.get(hook).unwrap_or_else(|| panic!("{what}: the contract has no `{hook}`"));
    let validator = jsonschema::validator_for(schema).unwrap_or_else(|e| panic!("{hook}'s contract: {e}"));
    let problems: Vec<String> =
        validator.iter_errors(answer).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(problems.is_empty(), "{what}: {answer} breaks {hook}'s output contract: {problems:?}");
}

/// Hooks where even an empty answer changes what Claude Code does (the contract says so): the
/// setup never registers them, and the server answers them only to record them.
const NOT_REGISTERED: [&str; 1] = ["WorktreeCreate"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hook_event_is_answered_within_claude_codes_contract_over_http_and_through_the_bridge() {
    let server = TestServer::start().await;
    let contract = contract();
    let inputs = inputs();
    let events: std::collections::BTreeSet<&str> =
        inputs.iter().map(|(_, input)| input["hook_event_name"].as_str().unwrap()).collect();
    assert!(events.len() >= 33, "one input per hook event of the reference: {events:?}");
    let bridge = BridgeConfig { url: server.url.clone(), timeout: Duration::from_secs(5), ..BridgeConfig::default() };
    for (name, input) in &inputs {
        let hook = input["hook_event_name"].as_str().unwrap();
        let (status, answer) = post(&format!("{}/hooks/claude-code", server.url), &input.to_string()).await;
        assert_eq!(status, 200, "{name}: {answer}");
        if !NOT_REGISTERED.contains(&hook) {
            check_answer(&contract, hook, &answer, &format!("{name} over HTTP"));
        }
        let outcome = run_async(&input.to_string(), &bridge).await;
        assert_eq!(outcome.exit_code, 0, "{name}: {outcome:?}");
        let printed =
            if outcome.stdout.is_empty() { json!({}) } else { serde_json::from_str(&outcome.stdout).unwrap() };
        if !NOT_REGISTERED.contains(&hook) {
            check_answer(&contract, hook, &printed, &format!("{name} through the bridge"));
        }
        assert!(!outcome.stderr.contains("continuing"), "{name}: the bridge got no answer: {outcome:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn hooks_without_an_event_of_their_own_and_future_hooks_are_recorded_on_the_bus() {
    let server = TestServer::start().await;
    let app = server.app.as_ref().unwrap();
    let keys = app.services.keys.clone();
    let future = json!({"hook_event_name": "SomethingClaudeCodeAddsLater", "session_id": "s-future", "cwd": "/w", "detail": [1, 2]});
    for input in
        [json!({"hook_event_name": "PermissionDenied", "session_id": "s-1", "tool_name": "Bash"}), future.clone()]
    {
        let (status, answer) = post(&format!("{}/hooks/claude-code", server.url), &input.to_string()).await;
        assert_eq!((status, answer), (200, json!({})), "{input}");
    }
    let mut con = app.services.redis.conn();
    let entries: redis::streams::StreamRangeReply =
        redis::cmd("XRANGE").arg(keys.stream("hook.recorded")).arg("-").arg("+").query_async(&mut con).await.unwrap();
    let payloads: Vec<Value> =
        entries.ids.iter().map(|e| serde_json::from_str(&e.get::<String>("payload").unwrap()).unwrap()).collect();
    assert_eq!(payloads.len(), 2, "{payloads:?}");
    assert_eq!(payloads[0]["hook"], json!("PermissionDenied"));
    assert_eq!(payloads[1]["hook"], json!("SomethingClaudeCodeAddsLater"));
    assert_eq!(payloads[1]["input"], future, "the whole input is kept");
    assert_eq!(payloads[1]["sessionId"], json!("s-future"));
    server.stop().await;
}

#[tokio::test]
async fn bad_hook_input_gets_a_structured_error_and_never_a_500() {
    let server = TestServer::start().await;
    let url = format!("{}/hooks/claude-code", server.url);
    for body in [
        "not json",
        "[1]",
        "{}",
        r#"{"hook_event_name": 7}"#,
        r#"{"hook_event_name": "PreToolUse"}"#,
        r#"{"hook_event_name": "PreToolUse", "tool_name": 5, "tool_input": "x", "session_id": {}}"#,
        r#"{"hook_event_name": "Notification"}"#,
        r#"{"hook_event_name": "SessionStart"}"#,
        r#"{"hook_event_name": "PreCompact", "trigger": "sideways"}"#,
    ] {
        let (status, answer) = post(&url, body).await;
        assert!((400..500).contains(&status), "{body}: {status} {answer}");
        assert!(answer["error"]["code"].is_string(), "{body}: {answer}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_dangerous_command_is_denied_over_http_with_the_rule_and_an_allowed_one_says_nothing() {
    let server = TestServer::start().await;
    let url = format!("{}/hooks/claude-code", server.url);
    let hook = |command: &str| {
        json!({"hook_event_name": "PreToolUse", "session_id": "s-http", "cwd": "/tmp", "tool_name": "Bash",
               "tool_input": {"command": command}, "tool_use_id": "toolu_1"})
        .to_string()
    };
    let (status, answer) = post(&url, &hook("rm -rf /")).await;
    assert_eq!(status, 200);
    assert_eq!(answer["hookSpecificOutput"]["permissionDecision"], json!("deny"), "{answer}");
    assert!(answer["hookSpecificOutput"]["permissionDecisionReason"].as_str().is_some_and(|r| !r.is_empty()));
    let (status, answer) = post(&url, &hook("ls -la")).await;
    assert_eq!((status, answer), (200, json!({})));
    let (_, answer) = post(&format!("{url}?approve=1"), &hook("ls -la")).await;
    assert_eq!(answer["hookSpecificOutput"]["permissionDecision"], json!("allow"));
    server.stop().await;
}
