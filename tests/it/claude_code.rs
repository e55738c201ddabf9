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

/// The hook output schema this server publishes in its OpenAPI document: every answer must fit
/// it too, or generated clients and schemathesis would see answers the document does not allow.
fn published_output_schema() -> jsonschema::Validator {
    let doc: Value = serde_json::from_str(crate::server::OPENAPI).unwrap();
    let schema = doc["components"]["schemas"]["ClaudeCodeHookOutput"].clone();
    assert!(schema.is_object(), "the OpenAPI document defines ClaudeCodeHookOutput");
    jsonschema::validator_for(&schema).unwrap()
}

/// Hooks where even an empty answer changes what Claude Code does (the contract says so): the
/// setup never registers them, and the server answers them only to record them.
const NOT_REGISTERED: [&str; 1] = ["WorktreeCreate"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hook_event_is_answered_within_claude_codes_contract_over_http_and_through_the_bridge() {
    let server = TestServer::start().await;
    let contract = contract();
    let published = published_output_schema();
    let inputs = inputs();
    let events: std::collections::BTreeSet<&str> =
        inputs.iter().map(|(_, input)| input["hook_event_name"].as_str().unwrap()).collect();
    assert!(events.len() >= 33, "one input per hook event of the reference: {events:?}");
    let bridge = BridgeConfig { url: server.url.clone(), timeout: Duration::from_secs(5), ..BridgeConfig::default() };
    for (name, input) in &inputs {
        let hook = input["hook_event_name"].as_str().unwrap();
        let (status, answer) = post(&format!("{}/hooks/claude-code", server.url), &input.to_string()).await;
        assert_eq!(status, 200, "{name}: {answer}");
        assert!(published.is_valid(&answer), "{name}: {answer} is outside the published ClaudeCodeHookOutput");
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

#[tokio::test]
async fn a_denied_hook_call_is_read_back_from_hook_decisions_with_its_rule_reason_and_session() {
    let server = TestServer::start().await;
    let url = format!("{}/hooks/claude-code", server.url);
    let hook = |command: &str, id: &str| {
        json!({"hook_event_name": "PreToolUse", "session_id": "s-audit", "cwd": "/tmp", "tool_name": "Bash",
               "tool_input": {"command": command}, "tool_use_id": id})
        .to_string()
    };
    let (_, denied) = post(&url, &hook("rm -rf /", "toolu_deny")).await;
    let reason = denied["hookSpecificOutput"]["permissionDecisionReason"].as_str().unwrap().to_string();
    post(&url, &hook("ls -la", "toolu_allow")).await;

    let (status, out) = post(&format!("{}/hook/decisions", server.url), &json!({"decision": "deny"}).to_string()).await;
    assert_eq!(status, 200, "{out}");
    let decisions = out["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 1, "{out}");
    let d = &decisions[0];
    assert_eq!(
        (d["tool"].as_str(), d["decision"].as_str(), d["rule"].as_str(), d["sessionId"].as_str()),
        (Some("Bash"), Some("deny"), Some("recursive_delete"), Some("s-audit"))
    );
    assert_eq!((d["reason"].as_str(), d["toolUseId"].as_str()), (Some(reason.as_str()), Some("toolu_deny")));
    assert!(d["id"].as_str().is_some_and(|id| id.contains('-')) && d["at"].as_str().is_some());
    assert!(out.get("truncated").is_none(), "{out}");
    // Unfiltered: both calls, newest first.
    let (_, all) = post(&format!("{}/hook/decisions", server.url), "{}").await;
    let tools: Vec<&str> =
        all["decisions"].as_array().unwrap().iter().map(|d| d["toolUseId"].as_str().unwrap()).collect();
    assert_eq!(tools, ["toolu_allow", "toolu_deny"]);
    // The filters are checked like any input.
    let (status, _) = post(&format!("{}/hook/decisions", server.url), &json!({"decision": "maybe"}).to_string()).await;
    assert_eq!(status, 400);
    server.stop().await;
}

/// The settings file `claudebench setup claude-code` writes drives the server as Claude Code would
/// run it: for every hook event it configures, the fixture input goes where the handler says — POSTed
/// to an HTTP handler's URL, or piped to a command handler through `sh -c` — and the answer must
/// satisfy that event's output contract.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_setup_writes_drive_the_server_for_every_hook_it_configures() {
    let server = TestServer::start().await;
    let contract = contract();
    let dir = crate::support::scratch_dir("setup-drive", &crate::support::unique_prefix());
    let bin = Path::new(env!("CARGO_BIN_EXE_claudebench"));
    let setup = std::process::Command::new(bin)
        .args(["setup", "claude-code", "--dir"])
        .arg(&dir)
        .args(["--url", &server.url])
        .env("HOME", &dir)
        .env_remove("CLAUDEBENCH_TOKEN")
        .env_remove("CLAUDEBENCH_URL")
        .output()
        .unwrap();
    assert!(setup.status.success(), "{}", String::from_utf8_lossy(&setup.stderr));
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(".claude/settings.json")).unwrap()).unwrap();
    let inputs = inputs();
    // `claudebench` on PATH, as Claude Code would find it.
    let path = format!("{}:{}", bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let (mut over_http, mut over_command) = (0, 0);
    for (event, groups) in settings["hooks"].as_object().unwrap() {
        let (_, input) = inputs
            .iter()
            .find(|(name, _)| name == event)
            .unwrap_or_else(|| panic!("no fixture input for the configured event {event}"));
        for handler in groups.as_array().unwrap().iter().flat_map(|g| g["hooks"].as_array().unwrap()) {
            let answer = match handler["type"].as_str().unwrap() {
                "http" => {
                    over_http += 1;
                    let (status, answer) = post(handler["url"].as_str().unwrap(), &input.to_string()).await;
                    assert_eq!(status, 200, "{event}: {answer}");
                    answer
                }
                "command" => {
                    over_command += 1;
                    let command = handler["command"].as_str().unwrap().to_string();
                    let stdin = input.to_string();
                    let path = path.clone();
                    let output = tokio::task::spawn_blocking(move || {
                        use std::io::Write;
                        let mut child = std::process::Command::new("sh")
                            .args(["-c", &command])
                            .env("PATH", path)
                            .env_remove("CLAUDEBENCH_URL")
                            .stdin(std::process::Stdio::piped())
                            .stdout(std::process::Stdio::piped())
                            .stderr(std::process::Stdio::piped())
                            .spawn()
                            .unwrap();
                        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
                        child.wait_with_output().unwrap()
                    })
                    .await
                    .unwrap();
                    let stderr = String::from_utf8_lossy(&output.stderr);
                    assert!(output.status.success() && !stderr.contains("continuing"), "{event}: {stderr}");
                    let stdout = String::from_utf8_lossy(&output.stdout);
                    if stdout.trim().is_empty() { json!({}) } else { serde_json::from_str(&stdout).unwrap() }
                }
                other => panic!("{event}: a handler of type {other}"),
            };
            check_answer(&contract, event, &answer, &format!("{event} as configured by setup"));
        }
    }
    assert!(over_http >= 20 && over_command >= 4, "{over_http} HTTP handlers, {over_command} command handlers");
    let _ = std::fs::remove_dir_all(&dir);
    server.stop().await;
}

/// File leases through Claude Code's own hook traffic: two sessions in one repository, each posting
/// to `/hooks/claude-code` as an HTTP hook would. The second session's edit of the file the first
/// is writing is denied, naming the holder; after the first session's turn ends (Stop), it is
/// allowed.
#[tokio::test]
async fn two_sessions_contend_for_one_file_over_the_hook_endpoint() {
    let server = TestServer::start().await;
    let url = format!("{}/hooks/claude-code", server.url);
    let repo = std::env::temp_dir().join(format!("cb-hook-leases-{}", crate::support::unique_prefix()));
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("src")).unwrap();
    let cwd = repo.display().to_string();
    let file = repo.join("src/lib.rs").display().to_string();
    let (a, b) = ("5b0c3d2e-aaaa-4bbb-8ccc-000000000001", "5b0c3d2e-aaaa-4bbb-8ccc-000000000002");
    let edit = |session: &str, tool: &str| {
        json!({"hook_event_name": "PreToolUse", "session_id": session, "cwd": cwd, "tool_name": tool,
               "tool_use_id": format!("toolu_{tool}"),
               "tool_input": {"file_path": file, "content": "x", "old_string": "a", "new_string": "b"}})
        .to_string()
    };
    assert_eq!(post(&url, &edit(a, "Write")).await, (200, json!({})), "A takes the lease");
    let (status, denied) = post(&url, &edit(b, "Edit")).await;
    assert_eq!(status, 200);
    assert_eq!(denied["hookSpecificOutput"]["permissionDecision"], json!("deny"), "{denied}");
    let reason = denied["hookSpecificOutput"]["permissionDecisionReason"].as_str().unwrap();
    assert!(reason.contains(&a[..8]) && reason.contains("src/lib.rs"), "{reason}");
    let stop = json!({"hook_event_name": "Stop", "session_id": a, "cwd": cwd, "stop_hook_active": false});
    assert_eq!(post(&url, &stop.to_string()).await, (200, json!({})));
    assert_eq!(post(&url, &edit(b, "Edit")).await, (200, json!({})), "B gets the file once A's turn ended");
    assert_eq!(
        post(&url, &edit(a, "Write")).await.1["hookSpecificOutput"]["permissionDecision"],
        json!("deny"),
        "now A waits"
    );
    let _ = std::fs::remove_dir_all(&repo);
    server.stop().await;
}

/// Claude Code's hook traffic under load: 50 sessions posting PreToolUse and PostToolUse hooks at
/// once for 3 s, each on a new connection as Claude Code's HTTP hooks do. Every hook is answered
/// 200 (each session is its own rate-limit caller, far under its limit), none with a server error,
/// and the dangerous command among them is denied every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_sessions_hooking_at_once_are_all_answered() {
    let server = TestServer::start().await;
    let url = format!("{}/hooks/claude-code", server.url);
    let until = tokio::time::Instant::now() + Duration::from_secs(3);
    let mut sessions = tokio::task::JoinSet::new();
    for s in 0..50 {
        let url = url.clone();
        sessions.spawn(async move {
            let session = format!("load-session-{s}");
            let (mut answered, mut denied, mut problems) = (0u32, 0u32, Vec::new());
            let mut i = 0u32;
            while tokio::time::Instant::now() < until {
                i += 1;
                // Every session tries the dangerous call on its second hook, then every tenth: a slow machine
                // still sends some.
                let command = if i % 10 == 2 { "rm -rf /" } else { "cargo test" };
                let input = if i.is_multiple_of(2) {
                    json!({"hook_event_name": "PreToolUse", "session_id": session, "cwd": "/tmp", "tool_name": "Bash",
                           "tool_input": {"command": command}, "tool_use_id": format!("toolu_{i}")})
                } else {
                    json!({"hook_event_name": "PostToolUse", "session_id": session, "cwd": "/tmp", "tool_name": "Bash",
                           "tool_input": {"command": "ls"}, "tool_response": {"stdout": "ok"}, "tool_use_id": format!("toolu_{i}")})
                };
                let (status, answer) = post(&url, &input.to_string()).await;
                answered += 1;
                if status != 200 {
                    problems.push(format!("{status} {answer}"));
                } else if command == "rm -rf /" && i.is_multiple_of(2) {
                    if answer["hookSpecificOutput"]["permissionDecision"] == "deny" {
                        denied += 1;
                    } else {
                        problems.push(format!("not denied: {answer}"));
                    }
                }
            }
            (answered, denied, problems)
        });
    }
    let (mut answered, mut denied) = (0, 0);
    while let Some(result) = sessions.join_next().await {
        let (a, d, problems) = result.unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        answered += a;
        denied += d;
    }
    assert!(answered >= 100 && denied >= 50, "{answered} hooks answered, {denied} denials");
    eprintln!("[claude_code load] 50 sessions, 3 s: {answered} hooks answered, {denied} dangerous calls denied");
    server.stop().await;
}

// --- hooks with behaviour of their own: tasks, subagents, teammates, tool failures, session id ---

/// One fixture input, by file stem (`TaskCreated`, `SessionStart.agent`, …).
fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join("inputs").join(format!("{name}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The fixtures' session (every input of `inputs/` names it) and its instance.
const FIXTURE_SESSION: &str = "9f1c2a3e-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
const FIXTURE_INSTANCE: &str = "claude-code-9f1c2a3e";

async fn hook(server: &TestServer, input: &Value) -> (u16, Value) {
    post(&format!("{}/hooks/claude-code", server.url), &input.to_string()).await
}

/// Every task the server holds, newest first.
async fn all_tasks(server: &TestServer) -> Vec<claudebench_domain::coordination::tasks::Task> {
    let app = server.app.as_ref().unwrap();
    let query = claudebench_domain::coordination::tasks::TaskQuery {
        limit: 100,
        order: claudebench_domain::coordination::tasks::ListOrder::Oldest,
        ..Default::default()
    };
    let page = app.domain.coord.tasks.list(&mut app.services.redis.conn(), &query).await.unwrap();
    assert_eq!(page.total as usize, page.tasks.len());
    page.tasks
}

/// The payloads of one bus stream, oldest first.
async fn published(server: &TestServer, event: &str) -> Vec<Value> {
    let app = server.app.as_ref().unwrap();
    let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
        .arg(app.services.keys.stream(event))
        .arg("-")
        .arg("+")
        .query_async(&mut app.services.redis.conn())
        .await
        .unwrap();
    entries.ids.iter().map(|e| serde_json::from_str(&e.get::<String>("payload").unwrap()).unwrap()).collect()
}

#[tokio::test]
async fn task_created_then_completed_mirror_one_completed_task_with_its_metadata() {
    use claudebench_domain::coordination::tasks::TaskStatus;
    let server = TestServer::start().await;
    assert_eq!(hook(&server, &fixture("TaskCreated")).await, (200, json!({})), "answered with nothing");
    let tasks = all_tasks(&server).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(
        (tasks[0].text.as_str(), tasks[0].status),
        ("Write the per-tenant rate-limit test", TaskStatus::Pending)
    );
    assert_eq!(
        tasks[0].metadata.as_ref().map(|m| serde_json::to_value(m).unwrap()),
        Some(json!({
            "source": "claude_code_task",
            "sessionId": FIXTURE_SESSION,
            "claudeCodeTaskId": "7",
            "description": "Cover the burst and the steady-state cases",
            "teammateName": "tester",
            "teamName": "session-9f1c2a3e",
        }))
    );
    assert_eq!(hook(&server, &fixture("TaskCompleted")).await, (200, json!({})));
    // Delivered again: a no-op, never an error.
    assert_eq!(hook(&server, &fixture("TaskCompleted")).await, (200, json!({})));
    let after = all_tasks(&server).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!((after[0].id.as_str(), after[0].status), (tasks[0].id.as_str(), TaskStatus::Completed));

    let created = published(&server, "hook.task_created.executed").await;
    assert_eq!(created.len(), 1);
    assert_eq!((&created[0]["taskId"], &created[0]["created"]), (&json!(tasks[0].id), &json!(true)));
    let completed = published(&server, "hook.task_completed.executed").await;
    let flags: Vec<(&Value, &Value)> = completed.iter().map(|c| (&c["created"], &c["completed"])).collect();
    assert_eq!(flags, [(&json!(false), &json!(true)), (&json!(false), &json!(false))]);
    assert!(published(&server, "hook.recorded").await.is_empty(), "no longer the catch-all's");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_task_created_twenty_times_at_once_is_one_task() {
    let server = TestServer::start().await;
    let url = format!("{}/hooks/claude-code", server.url);
    let body = fixture("TaskCreated").to_string();
    let mut posts = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (url, body) = (url.clone(), body.clone());
        posts.spawn(async move { post(&url, &body).await });
    }
    while let Some(answer) = posts.join_next().await {
        assert_eq!(answer.unwrap(), (200, json!({})));
    }
    assert_eq!(hook(&server, &fixture("TaskCreated")).await, (200, json!({})), "and once more, later");
    let tasks = all_tasks(&server).await;
    assert_eq!(tasks.len(), 1, "exactly one task: {tasks:?}");
    let answers = published(&server, "hook.task_created.executed").await;
    assert_eq!(answers.len(), 21);
    assert_eq!(answers.iter().filter(|a| a["created"] == json!(true)).count(), 1, "{answers:?}");
    assert!(answers.iter().all(|a| a["taskId"] == json!(tasks[0].id)), "{answers:?}");
    server.stop().await;
}

#[tokio::test]
async fn task_completed_without_task_created_is_one_completed_task() {
    use claudebench_domain::coordination::tasks::TaskStatus;
    let server = TestServer::start().await;
    assert_eq!(hook(&server, &fixture("TaskCompleted")).await, (200, json!({})));
    let tasks = all_tasks(&server).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0].status, TaskStatus::Completed);
    assert_eq!(tasks[0].text, "Write the per-tenant rate-limit test");
    assert_eq!(tasks[0].metadata.as_ref().unwrap()["claudeCodeTaskId"], "7");
    // Its TaskCreated arriving late finds it: still one task, still completed.
    assert_eq!(hook(&server, &fixture("TaskCreated")).await, (200, json!({})));
    let after = all_tasks(&server).await;
    assert_eq!((after.len(), after[0].status), (1, TaskStatus::Completed));
    let completed = published(&server, "hook.task_completed.executed").await;
    assert_eq!((&completed[0]["created"], &completed[0]["completed"]), (&json!(true), &json!(true)));
    server.stop().await;
}

#[tokio::test]
async fn two_sessions_using_the_same_task_id_keep_separate_tasks() {
    use claudebench_domain::coordination::tasks::TaskStatus;
    let server = TestServer::start().await;
    let mut other = fixture("TaskCreated");
    other["session_id"] = json!("0a0b0c0d-other-session");
    other["task_subject"] = json!("Another session's task 7");
    hook(&server, &fixture("TaskCreated")).await;
    hook(&server, &other).await;
    let tasks = all_tasks(&server).await;
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    let mut completed_other = fixture("TaskCompleted");
    completed_other["session_id"] = json!("0a0b0c0d-other-session");
    assert_eq!(hook(&server, &completed_other).await, (200, json!({})));
    let by_session = |tasks: &[claudebench_domain::coordination::tasks::Task], s: &str| {
        tasks.iter().find(|t| t.metadata.as_ref().unwrap()["sessionId"] == json!(s)).unwrap().clone()
    };
    let tasks = all_tasks(&server).await;
    assert_eq!(tasks.len(), 2);
    let other_task = by_session(&tasks, "0a0b0c0d-other-session");
    assert_eq!((other_task.text.as_str(), other_task.status), ("Another session's task 7", TaskStatus::Completed));
    assert_eq!(by_session(&tasks, FIXTURE_SESSION).status, TaskStatus::Pending, "the first session's is untouched");
    server.stop().await;
}

#[tokio::test]
async fn subagents_and_idle_teammates_show_in_the_instance_view() {
    let server = TestServer::start().await;
    let state = |server: &TestServer| {
        let url = format!("{}/system/get_state", server.url);
        async move {
            let (status, state) = post(&url, "{}").await;
            assert_eq!(status, 200, "{state}");
            state["instances"].as_array().unwrap().iter().find(|i| i["id"] == json!(FIXTURE_INSTANCE)).cloned()
        }
    };
    // Before the session registered, a subagent has no instance to join: nothing is kept.
    assert_eq!(hook(&server, &fixture("SubagentStart")).await, (200, json!({})));
    assert!(state(&server).await.is_none());

    hook(&server, &fixture("SessionStart")).await;
    let instance = state(&server).await.expect("the session's instance");
    assert!(instance.get("subagents").is_none() && instance.get("teammates").is_none(), "{instance}");
    assert_eq!(hook(&server, &fixture("SubagentStart")).await, (200, json!({})));
    let mut second = fixture("SubagentStart");
    second["agent_id"] = json!("b7e1f9c2d4a60518");
    second["agent_type"] = json!("Plan");
    assert_eq!(hook(&server, &second).await, (200, json!({})));
    assert_eq!(hook(&server, &fixture("TeammateIdle")).await, (200, json!({})));

    let instance = state(&server).await.unwrap();
    let subagents = instance["subagents"].as_array().unwrap();
    let agents: Vec<(&Value, &Value)> = subagents.iter().map(|a| (&a["agentId"], &a["agentType"])).collect();
    assert_eq!(agents, [(&json!("a4d2c8f1e0b3a297"), &json!("Explore")), (&json!("b7e1f9c2d4a60518"), &json!("Plan"))]);
    assert!(subagents.iter().all(|a| a["startedAt"].as_str().is_some_and(|t| t.ends_with('Z'))), "{instance}");
    let teammates = instance["teammates"].as_array().unwrap();
    assert_eq!(teammates.len(), 1, "{instance}");
    assert_eq!((&teammates[0]["name"], &teammates[0]["team"]), (&json!("tester"), &json!("session-9f1c2a3e")));
    assert!(teammates[0]["idleSince"].as_str().is_some_and(|t| t.ends_with('Z')));

    // SubagentStop takes the Explore agent off; the Plan agent keeps running.
    assert_eq!(hook(&server, &fixture("SubagentStop")).await, (200, json!({})));
    let instance = state(&server).await.unwrap();
    assert_eq!(instance["subagents"], json!([subagents[1].clone()]), "{instance}");
    let mut stop_second = fixture("SubagentStop");
    stop_second["agent_id"] = json!("b7e1f9c2d4a60518");
    hook(&server, &stop_second).await;
    assert!(state(&server).await.unwrap().get("subagents").is_none());

    // Every one of these hooks is on the bus.
    assert_eq!(published(&server, "hook.subagent.started").await.len(), 3);
    assert_eq!(published(&server, "hook.subagent.stopped").await.len(), 2);
    let idle = published(&server, "hook.teammate.idle").await;
    assert_eq!((idle.len(), &idle[0]["teammateName"]), (1, &json!("tester")));
    server.stop().await;
}

#[tokio::test]
async fn six_tool_failures_raise_one_alert_and_the_error_text_is_logged_cut() {
    let server = TestServer::start().await;
    let mut failure = fixture("PostToolUseFailure");
    for _ in 0..5 {
        assert_eq!(hook(&server, &failure).await, (200, json!({})));
    }
    assert!(published(&server, "alert.tool_errors").await.is_empty());
    failure["error"] = json!("E".repeat(5000));
    hook(&server, &failure).await;
    hook(&server, &failure).await;
    let alerts = published(&server, "alert.tool_errors").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        (&alerts[0]["tool"], &alerts[0]["sessionId"], &alerts[0]["errors"]),
        (&json!("Bash"), &json!(FIXTURE_SESSION), &json!(6))
    );

    let app = server.app.as_ref().unwrap();
    let log: Vec<String> = redis::cmd("LRANGE")
        .arg(app.services.keys.hook_tool_log(FIXTURE_SESSION))
        .arg(0)
        .arg(-1)
        .query_async(&mut app.services.redis.conn())
        .await
        .unwrap();
    assert_eq!(log.len(), 7);
    let newest: Value = serde_json::from_str(&log[0]).unwrap();
    assert_eq!(newest["error"], json!(true));
    assert_eq!(newest["errorText"].as_str().unwrap().chars().count(), 1000);
    let oldest: Value = serde_json::from_str(&log[6]).unwrap();
    assert!(oldest["errorText"].as_str().unwrap().starts_with("Exit code 101"), "{oldest}");
    assert_eq!(oldest["durationMs"], json!(18342));
    let executed = published(&server, "hook.post_tool.executed").await;
    assert!(executed.iter().all(|e| e["error"] == json!(true)), "{executed:?}");
    server.stop().await;
}

#[tokio::test]
async fn session_start_tells_claude_its_session_id_for_the_lease_tools() {
    let server = TestServer::start().await;
    for name in ["SessionStart", "SessionStart.clear", "SessionStart.agent"] {
        let input = fixture(name);
        let (status, answer) = hook(&server, &input).await;
        assert_eq!(status, 200, "{name}: {answer}");
        let context = answer["hookSpecificOutput"]["additionalContext"].as_str().unwrap_or_default();
        let session = input["session_id"].as_str().unwrap();
        assert!(context.contains(session), "{name}: {context}");
        for needle in ["`sessionId`", "lease__acquire", "lease__release", "lease__list"] {
            assert!(context.contains(needle), "{name}: {needle} in {context}");
        }
        assert_eq!(answer["hookSpecificOutput"]["hookEventName"], json!("SessionStart"));
    }
    server.stop().await;
}

#[tokio::test]
async fn malformed_task_subagent_teammate_and_failure_hooks_get_a_structured_4xx_never_a_500() {
    let server = TestServer::start().await;
    let with = |name: &str, key: &str, value: Value| {
        let mut input = fixture(name);
        match value {
            Value::Null => {
                input.as_object_mut().unwrap().remove(key);
            }
            v => input[key] = v,
        }
        input
    };
    for (name, key, value) in [
        ("TaskCreated", "task_id", Value::Null),
        ("TaskCreated", "task_id", json!(7)),
        ("TaskCreated", "task_subject", json!("s".repeat(70_000))),
        ("TaskCreated", "task_subject", json!(["a list"])),
        ("TaskCompleted", "task_id", json!({"id": 7})),
        ("TaskCompleted", "session_id", json!({})),
        ("SubagentStart", "agent_id", Value::Null),
        ("SubagentStart", "agent_type", json!(3)),
        ("TeammateIdle", "teammate_name", Value::Null),
        ("TeammateIdle", "team_name", json!(false)),
        ("PostToolUseFailure", "tool_name", Value::Null),
        ("PostToolUseFailure", "error", json!(5)),
        ("PostToolUseFailure", "duration_ms", json!("slow")),
    ] {
        let input = with(name, key, value);
        let (status, answer) = hook(&server, &input).await;
        assert!((400..500).contains(&status), "{name}.{key}: {status} {answer}");
        assert!(answer["error"]["code"].is_string(), "{name}.{key}: {answer}");
    }
    assert!(all_tasks(&server).await.is_empty(), "nothing was created by a refused hook");

    // A long subject within the input bound is accepted: the text is cut, the metadata keeps it.
    let subject = "word ".repeat(2000);
    let (status, answer) = hook(&server, &with("TaskCreated", "task_subject", json!(subject))).await;
    assert_eq!((status, answer), (200, json!({})));
    // An empty subject names no subject: the text falls back to the task id.
    let mut no_subject = with("TaskCreated", "task_subject", json!(""));
    no_subject["task_id"] = json!("8");
    assert_eq!(hook(&server, &no_subject).await, (200, json!({})));
    let tasks = all_tasks(&server).await;
    assert_eq!(tasks.len(), 2);
    let max = claudebench_generated::types::TASK_TEXT_MAX_LENGTH;
    assert_eq!(tasks[0].text.chars().count(), max);
    assert!(tasks[0].text.ends_with('…'));
    assert_eq!(tasks[0].metadata.as_ref().unwrap()["subject"], json!(subject));
    assert_eq!(tasks[1].text, "Claude Code task 8");
    server.stop().await;
}
