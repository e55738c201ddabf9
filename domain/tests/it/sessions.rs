//! Claude Code sessions through the domain's `Sessions` API against the real Redis: the error
//! window and its one alert per burst, the todo→task mapping, snapshots and the session's life.

use std::collections::HashMap;

use claudebench_domain::coordination::tasks::TaskStatus;
use claudebench_domain::coordination::{Coordination, CoordinationConfig, now_ms};
use claudebench_domain::policy::{Decision, HookDecision};
use claudebench_domain::sessions::tools::{ERROR_THRESHOLD, ERROR_WINDOW_MS};
use claudebench_domain::sessions::{Session, Sessions, Stop, ToolCall, ToolOutcome, key_part};
use claudebench_generated::types::{TodoItem, TodoStatus};
use claudebench_runtime::bus::EventBus;
use claudebench_runtime::keys::Keys;
use serde_json::{Value, json};

use crate::coordination_tasks::stream;
use crate::fixtures;
use crate::support::{redis, unique_keys};

struct Fixture {
    sessions: Sessions,
    coord: Coordination,
    keys: Keys,
    con: claudebench_runtime::redis::Conn,
}

async fn fixture() -> Fixture {
    let keys = unique_keys();
    let bus = EventBus::new(&fixtures::handle().await, keys.clone(), 10_000);
    let coord = Coordination::new(keys.clone(), CoordinationConfig::default());
    Fixture { sessions: Sessions::new(&bus, &coord, "server-test", 10_000), coord, keys, con: redis().await }
}

impl Fixture {
    /// The payloads published on `event`, oldest first.
    async fn events(&mut self, event: &str) -> Vec<Value> {
        let key = if claudebench_domain::coordination::tasks::TASK_STREAMS.contains(&event) {
            crate::support::part0(&self.keys).stream(event)
        } else {
            self.keys.stream(event)
        };
        let entries = stream(&mut self.con, &key).await;
        entries.iter().map(|e| serde_json::from_str(&e["payload"]).unwrap()).collect()
    }
}

fn todo(content: &str, status: TodoStatus) -> TodoItem {
    TodoItem { content: content.to_string(), status, active_form: None }
}

fn outcome<'a>(tool: &'a str, result: &'a Value) -> ToolOutcome<'a> {
    ToolOutcome { tool, tool_use_id: None, result, error: None, duration_ms: None }
}

// --- error window and alert ------------------------------------------------------------------

#[tokio::test]
async fn the_error_window_alerts_once_when_it_crosses_the_threshold() {
    let f = fixture().await;
    let s = Session::explicit("s1");
    let failure = json!({"is_error": true});
    let mut seen = Vec::new();
    for _ in 0..ERROR_THRESHOLD + 3 {
        let r = f.sessions.record_tool_outcome(&s, outcome("Bash", &failure)).await.unwrap();
        assert!(r.failed);
        seen.push((r.recent_errors, r.alerted));
    }
    assert_eq!(seen, [(1, false), (2, false), (3, false), (4, false), (5, false), (6, true), (7, false), (8, false)]);
    // A success neither counts as an error nor alerts.
    let ok = f.sessions.record_tool_outcome(&s, outcome("Bash", &json!({"stdout": "ok"}))).await.unwrap();
    assert_eq!((ok.failed, ok.recent_errors, ok.alerted), (false, 0, false));
    let mut f = f;
    let alerts = f.events("alert.tool_errors").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        (&alerts[0]["errors"], &alerts[0]["threshold"], &alerts[0]["windowMs"], &alerts[0]["sessionId"]),
        (&json!(6), &json!(ERROR_THRESHOLD), &json!(ERROR_WINDOW_MS), &json!("s1"))
    );
}

#[tokio::test]
async fn errors_older_than_the_window_no_longer_count_and_a_new_burst_alerts_again() {
    let mut f = fixture().await;
    let s = Session::explicit("s1");
    let failure = json!({"error": "exit 1"});
    let errors = f.keys.hook_tool_errors("Bash", &s.key);
    // Five errors just outside the window (recorded six minutes ago) and one inside it.
    let old = now_ms() - ERROR_WINDOW_MS - 60_000;
    for i in 0..5 {
        let _: () =
            redis::cmd("ZADD").arg(&errors).arg(old).arg(format!("old-{i}")).query_async(&mut f.con).await.unwrap();
    }
    let r = f.sessions.record_tool_outcome(&s, outcome("Bash", &failure)).await.unwrap();
    assert_eq!((r.recent_errors, r.alerted), (1, false), "the old errors slid out of the window");

    for _ in 0..ERROR_THRESHOLD {
        f.sessions.record_tool_outcome(&s, outcome("Bash", &failure)).await.unwrap();
    }
    assert_eq!(f.events("alert.tool_errors").await.len(), 1);

    // Once the burst has left the window, the next burst is a new one and alerts again.
    let _: () = redis::cmd("DEL").arg(&errors).query_async(&mut f.con).await.unwrap();
    let mut alerted = 0;
    for _ in 0..=ERROR_THRESHOLD {
        alerted += u32::from(f.sessions.record_tool_outcome(&s, outcome("Bash", &failure)).await.unwrap().alerted);
    }
    assert_eq!(alerted, 1);
    assert_eq!(f.events("alert.tool_errors").await.len(), 2);
}

#[tokio::test]
async fn error_windows_are_per_tool_and_per_session() {
    let mut f = fixture().await;
    let failure = json!({"failed": true});
    for _ in 0..ERROR_THRESHOLD {
        for (session, tool) in [("a", "Bash"), ("b", "Bash"), ("a", "Edit")] {
            let r = f.sessions.record_tool_outcome(&Session::explicit(session), outcome(tool, &failure)).await.unwrap();
            assert!(!r.alerted);
        }
    }
    assert!(f.events("alert.tool_errors").await.is_empty());
    let stats: HashMap<String, String> =
        redis::cmd("HGETALL").arg(f.keys.hook_tool_stats("Bash")).query_async(&mut f.con).await.unwrap();
    assert_eq!((stats["executions"].as_str(), stats["errors"].as_str()), ("10", "10"));
}

#[tokio::test]
async fn a_tool_name_cannot_reach_another_tools_key() {
    let mut f = fixture().await;
    let s = Session::explicit("s1");
    f.sessions.record_tool_outcome(&s, outcome("mcp:tool", &Value::Null)).await.unwrap();
    let encoded: bool =
        redis::cmd("EXISTS").arg(f.keys.hook_tool_stats(&key_part("mcp:tool"))).query_async(&mut f.con).await.unwrap();
    let raw: bool = redis::cmd("EXISTS").arg(f.keys.hook_tool_stats("mcp:tool")).query_async(&mut f.con).await.unwrap();
    assert!(encoded && !raw);
}

// --- todo → task mapping ---------------------------------------------------------------------

#[tokio::test]
async fn each_open_todo_maps_to_one_task_by_content() {
    let mut f = fixture().await;
    let s = Session::explicit("s1");
    let list = [
        todo("Write the parser", TodoStatus::InProgress),
        todo("Write the parser", TodoStatus::Pending),
        todo("Read the spec", TodoStatus::Completed),
        todo("Update the docs", TodoStatus::Pending),
    ];
    let changes = f.sessions.write_todos(&s, &list).await.unwrap();
    // A repeated content counts once (its first entry); a completed todo gets no task.
    assert_eq!((changes.added, changes.removed, changes.status_changed), (3, 0, 0));
    assert_eq!(changes.created.len(), 2);
    let mapping = f.sessions.todo_tasks(&s).await.unwrap();
    assert_eq!(mapping.len(), 2);
    assert_eq!(mapping["Write the parser"], changes.created[0]);
    assert_eq!(mapping["Update the docs"], changes.created[1]);
    let parser = f.coord.tasks.get(&mut f.con, &changes.created[0]).await.unwrap();
    assert_eq!(parser.priority, 75, "the first entry (in progress) decided");
    let stored = f.sessions.todos(&s).await.unwrap();
    assert_eq!(stored.len(), 3);

    // Dropping a todo forgets nothing about its task; reopening a completed one creates one.
    let next = [todo("Write the parser", TodoStatus::InProgress), todo("Read the spec", TodoStatus::Pending)];
    let changes = f.sessions.write_todos(&s, &next).await.unwrap();
    assert_eq!((changes.added, changes.removed, changes.status_changed), (0, 1, 1));
    assert_eq!(changes.created.len(), 1);
    assert_eq!(f.sessions.todo_tasks(&s).await.unwrap().len(), 3);
    let docs = f.coord.tasks.get(&mut f.con, &mapping["Update the docs"]).await.unwrap();
    assert_eq!(docs.status, TaskStatus::Pending);
    let executed = f.events("hook.todo_write.executed").await;
    assert_eq!((&executed[0]["total"], &executed[0]["open"]), (&json!(4), &json!(3)), "counted as sent");
}

#[tokio::test]
async fn a_todo_longer_than_a_task_text_keeps_its_full_content_in_the_metadata() {
    let mut f = fixture().await;
    let s = Session::explicit("s1");
    let long = "é".repeat(600);
    let changes = f.sessions.write_todos(&s, &[todo(&long, TodoStatus::Pending)]).await.unwrap();
    let task = f.coord.tasks.get(&mut f.con, &changes.created[0]).await.unwrap();
    assert_eq!(task.text.chars().count(), 500);
    assert!(task.text.ends_with('…'));
    assert_eq!(task.metadata.unwrap()["todoContent"], json!(long));
    // The mapping is by the full content: the same list again creates nothing.
    let again = f.sessions.write_todos(&s, &[todo(&long, TodoStatus::Pending)]).await.unwrap();
    assert!(again.created.is_empty());
}

#[tokio::test]
async fn completing_a_todo_twice_completes_its_task_once() {
    let mut f = fixture().await;
    let s = Session::explicit("s1");
    let created = f.sessions.write_todos(&s, &[todo("Ship it", TodoStatus::Pending)]).await.unwrap().created;
    let done = [todo("Ship it", TodoStatus::Completed)];
    assert_eq!(f.sessions.write_todos(&s, &done).await.unwrap().completed, created);
    assert!(f.sessions.write_todos(&s, &done).await.unwrap().completed.is_empty());
    assert_eq!(f.coord.tasks.get(&mut f.con, &created[0]).await.unwrap().status, TaskStatus::Completed);
    assert_eq!(f.events("task.updated").await.len(), 1, "closed once");
}

#[tokio::test]
async fn a_corrupt_stored_list_is_rewritten_by_the_next_todo_write() {
    let mut f = fixture().await;
    let s = Session::explicit("s1");
    let _: () = redis::cmd("SET").arg(f.keys.todos(&s.key)).arg("{not json").query_async(&mut f.con).await.unwrap();
    assert!(f.sessions.todos(&s).await.unwrap().is_empty());
    let changes = f.sessions.write_todos(&s, &[todo("A", TodoStatus::Pending)]).await.unwrap();
    assert_eq!(changes.added, 1);
    assert_eq!(f.sessions.todos(&s).await.unwrap()[0].content, "A");
}

#[tokio::test]
async fn a_session_id_naming_another_sessions_key_cannot_touch_its_mapping() {
    let mut f = fixture().await;
    let (a, evil) = (Session::explicit("a"), Session::explicit("a:tasks"));
    let mine = f.sessions.write_todos(&a, &[todo("Mine", TodoStatus::Pending)]).await.unwrap().created;
    f.sessions.write_todos(&evil, &[todo("Mine", TodoStatus::Completed)]).await.unwrap();
    assert_eq!(f.sessions.todo_tasks(&a).await.unwrap()["Mine"], mine[0]);
    assert_eq!(f.coord.tasks.get(&mut f.con, &mine[0]).await.unwrap().status, TaskStatus::Pending);
}

// --- snapshots and the session's life ---------------------------------------------------------

#[tokio::test]
async fn open_work_falls_back_to_the_snapshot_when_the_live_state_is_gone() {
    let mut f = fixture().await;
    let s = Session::explicit("3f2a9c1b-snap");
    let started = f.sessions.start(&s, Some("startup")).await.unwrap();
    assert_eq!((started.instance_id.as_str(), started.reminder), ("claude-code-3f2a9c1b", None));
    let list = [todo("Parse", TodoStatus::InProgress), todo("Done", TodoStatus::Completed)];
    f.sessions.write_todos(&s, &list).await.unwrap();
    let claimed = f.coord.tasks.claim(&mut f.con, &s.instance_id(), 1).await.unwrap();
    let snap = f.sessions.save_snapshot(&s, "manual", Some(String::new())).await.unwrap();
    assert_eq!(snap.custom_instructions, None, "empty instructions are not kept");
    assert_eq!(snap.task_ids(), [claimed[0].id.clone()]);
    assert_eq!(f.sessions.snapshot(&s).await.unwrap(), Some(snap));

    // The live list expires and the task is finished meanwhile: the snapshot still reminds.
    let _: () = redis::cmd("DEL").arg(f.keys.todos(&s.key)).query_async(&mut f.con).await.unwrap();
    f.coord
        .tasks
        .complete(
            &mut f.con,
            &claimed[0].id,
            &s.instance_id(),
            claudebench_domain::coordination::tasks::Outcome::Completed(None),
        )
        .await
        .unwrap();
    let work = f.sessions.open_work(&s).await.unwrap();
    assert_eq!(work.todos.iter().map(|t| t.content.as_str()).collect::<Vec<_>>(), ["Parse"]);
    assert_eq!(work.task_ids, [claimed[0].id.clone()]);
    let resumed = f.sessions.start(&s, Some("resume")).await.unwrap();
    assert_eq!(
        resumed.reminder,
        Some(format!("Open todos: Parse (in progress). In-progress tasks: {}.", claimed[0].id))
    );
}

#[tokio::test]
async fn ending_a_session_releases_its_tasks_and_forgets_its_todo_state_but_not_its_history() {
    let mut f = fixture().await;
    let s = Session::explicit("ending-1");
    f.sessions.start(&s, None).await.unwrap();
    f.sessions.write_todos(&s, &[todo("Work", TodoStatus::Pending)]).await.unwrap();
    f.coord.tasks.claim(&mut f.con, &s.instance_id(), 1).await.unwrap();
    f.sessions.save_snapshot(&s, "auto", None).await.unwrap();

    let ended = f.sessions.end(&s).await.unwrap();
    assert_eq!((ended.unregistered, ended.tasks_released), (true, 1));
    assert!(f.sessions.todos(&s).await.unwrap().is_empty());
    assert!(f.sessions.todo_tasks(&s).await.unwrap().is_empty());
    assert_eq!(f.sessions.snapshot(&s).await.unwrap(), None);
    let history: i64 = redis::cmd("LLEN").arg(f.keys.todo_history(&s.key)).query_async(&mut f.con).await.unwrap();
    assert_eq!(history, 1, "the history is a record and expires by itself");

    let again = f.sessions.end(&s).await.unwrap();
    assert_eq!((again.unregistered, again.tasks_released), (false, 0));
}

#[tokio::test]
async fn stops_of_the_shared_session_report_no_tasks_and_stops_keep_the_instance_alive() {
    let mut f = fixture().await;
    let shared = Session::resolve(None, None);
    assert_eq!(f.sessions.record_stop(&shared, &Stop::default()).await.unwrap(), None);

    let s = Session::explicit("alive-1");
    f.sessions.start(&s, None).await.unwrap();
    let before = f.coord.instances.get(&mut f.con, &s.instance_id()).await.unwrap().unwrap().last_seen;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let stop = Stop { subagent: true, agent_type: Some("Explore".into()), agent_id: Some("ag-1".into()) };
    assert_eq!(f.sessions.record_stop(&s, &stop).await.unwrap(), Some(0));
    let after = f.coord.instances.get(&mut f.con, &s.instance_id()).await.unwrap().unwrap().last_seen;
    assert!(after > before, "{after} > {before}");
    let record: HashMap<String, String> =
        redis::cmd("HGETALL").arg(f.keys.hook_session(&s.key)).query_async(&mut f.con).await.unwrap();
    assert_eq!(
        (record["subagentStops"].as_str(), record["lastStopSubagent"].as_str(), record["lastAgentId"].as_str()),
        ("1", "true", "ag-1")
    );
}

#[tokio::test]
async fn decisions_are_audited_without_the_tool_input() {
    let mut f = fixture().await;
    let s = Session::explicit("s1");
    let d = HookDecision {
        decision: Decision::Allow,
        reason: None,
        rule: None,
        warnings: vec!["Warning: one".into(), "Warning: two".into()],
        modified: None,
    };
    f.sessions.audit_decision(&s, ToolCall { tool: "Bash", tool_use_id: Some("tu-9") }, &d).await;
    let entries = stream(&mut f.con, &f.keys.audit()).await;
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(
        (e["decision"].as_str(), e["warnings"].as_str(), e["toolUseId"].as_str(), e["rule"].as_str()),
        ("warn", "Warning: one\nWarning: two", "tu-9", "")
    );
    assert!(!e.contains_key("reason") && !e.contains_key("params"));
}

fn decided(decision: Decision, rule: Option<&str>, reason: Option<&str>) -> HookDecision {
    HookDecision {
        decision,
        reason: reason.map(str::to_string),
        rule: rule.map(str::to_string),
        warnings: vec![],
        modified: None,
    }
}

#[tokio::test]
async fn audited_decisions_read_back_newest_first_with_their_fields_and_filters() {
    use claudebench_domain::sessions::DecisionQuery;
    use claudebench_generated::types::AuditedDecision;
    let f = fixture().await;
    let (one, two) = (Session::explicit("s1"), Session::explicit("s2"));
    let call = |tool, id| ToolCall { tool, tool_use_id: id };
    let deny = decided(Decision::Deny, Some("recursive_delete"), Some("`rm` deletes `/`"));
    f.sessions.audit_decision(&one, call("Bash", Some("tu-1")), &deny).await;
    f.sessions.audit_decision(&one, call("Read", None), &decided(Decision::Allow, None, None)).await;
    let warned = HookDecision { warnings: vec!["w1".into(), "w2".into()], ..decided(Decision::Allow, None, None) };
    f.sessions.audit_decision(&two, call("Bash", Some("tu-3")), &warned).await;
    f.sessions
        .audit_decision(&two, call("Write", Some("tu-4")), &decided(Decision::Ask, Some("file_lease"), Some("held")))
        .await;
    f.sessions.audit_decision(&two, call("Bash", Some("tu-5")), &deny).await;

    let all = f.sessions.decisions(DecisionQuery { limit: 50, decision: None, session: None }).await.unwrap();
    assert!(!all.truncated);
    let tools: Vec<(&str, AuditedDecision, &str)> =
        all.decisions.iter().map(|d| (d.tool.as_str(), d.decision, d.session_id.as_str())).collect();
    assert_eq!(
        tools,
        [
            ("Bash", AuditedDecision::Deny, "s2"),
            ("Write", AuditedDecision::Ask, "s2"),
            ("Bash", AuditedDecision::Warn, "s2"),
            ("Read", AuditedDecision::Allow, "s1"),
            ("Bash", AuditedDecision::Deny, "s1"),
        ]
    );
    // Ids and times go newest first; fields as audited, empty ones left out.
    assert!(all.decisions.windows(2).all(|w| w[0].id > w[1].id && w[0].at >= w[1].at));
    let first = &all.decisions[4];
    assert_eq!(
        (first.rule.as_deref(), first.reason.as_deref(), first.tool_use_id.as_deref(), first.warnings.as_ref()),
        (Some("recursive_delete"), Some("`rm` deletes `/`"), Some("tu-1"), None)
    );
    let read = &all.decisions[3];
    assert_eq!((read.rule.as_ref(), read.reason.as_ref(), read.tool_use_id.as_ref()), (None, None, None));
    assert_eq!(all.decisions[2].warnings, Some(vec!["w1".to_string(), "w2".to_string()]));

    // Filters, alone and together, and the limit.
    let denies = f
        .sessions
        .decisions(DecisionQuery { limit: 50, decision: Some(AuditedDecision::Deny), session: None })
        .await
        .unwrap();
    let ids: Vec<Option<&str>> = denies.decisions.iter().map(|d| d.tool_use_id.as_deref()).collect();
    assert_eq!(ids, [Some("tu-5"), Some("tu-1")]);
    let mine = f.sessions.decisions(DecisionQuery { limit: 50, decision: None, session: Some("s1") }).await.unwrap();
    assert_eq!(mine.decisions.len(), 2);
    assert!(mine.decisions.iter().all(|d| d.session_id == "s1"));
    let both = DecisionQuery { limit: 50, decision: Some(AuditedDecision::Deny), session: Some("s1") };
    let both = f.sessions.decisions(both).await.unwrap();
    assert_eq!((both.decisions.len(), both.decisions[0].tool_use_id.as_deref()), (1, Some("tu-1")));
    let two_newest = f.sessions.decisions(DecisionQuery { limit: 2, decision: None, session: None }).await.unwrap();
    assert_eq!(two_newest.decisions, all.decisions[..2]);
    let none = DecisionQuery { limit: 5, decision: Some(AuditedDecision::Modify), session: None };
    assert!(f.sessions.decisions(none).await.unwrap().decisions.is_empty());
}

#[tokio::test]
async fn a_rare_decision_is_found_past_many_pages_and_the_scan_is_bounded() {
    use claudebench_domain::sessions::DecisionQuery;
    use claudebench_domain::sessions::decisions::MAX_SCANNED;
    use claudebench_generated::types::AuditedDecision;
    let mut f = fixture().await;
    let s = Session::explicit("s1");
    let key = f.keys.audit();
    // One deny, then 1,200 allows after it (written directly: the audit's own fields).
    f.sessions
        .audit_decision(
            &s,
            ToolCall { tool: "Bash", tool_use_id: Some("old") },
            &decided(Decision::Deny, Some("r"), None),
        )
        .await;
    add_allows(&mut f.con, &key, 1_200).await;
    let deny = DecisionQuery { limit: 10, decision: Some(AuditedDecision::Deny), session: None };
    let found = f.sessions.decisions(deny).await.unwrap();
    assert_eq!((found.decisions.len(), found.truncated), (1, false));
    assert_eq!(found.decisions[0].tool_use_id.as_deref(), Some("old"));
    // Past the bound, the old deny is not reached, and the answer says so.
    add_allows(&mut f.con, &key, MAX_SCANNED).await;
    let found = f.sessions.decisions(deny).await.unwrap();
    assert_eq!((found.decisions.len(), found.truncated), (0, true));
}

// --- Claude Code's tasks (TaskCreated, TaskCompleted) ------------------------------------------

fn cc_task(id: &str, subject: Option<&str>) -> claudebench_generated::types::ClaudeCodeTask {
    let mut v = json!({"claudeCodeTaskId": id, "description": "details", "teammateName": "tester"});
    if let Some(s) = subject {
        v["subject"] = json!(s);
    }
    serde_json::from_value(v).unwrap()
}

async fn task_count(f: &mut Fixture) -> u64 {
    let query = claudebench_domain::coordination::tasks::TaskQuery {
        limit: 100,
        order: claudebench_domain::coordination::tasks::ListOrder::Oldest,
        ..Default::default()
    };
    f.coord.tasks.list(&mut f.con, &query).await.unwrap().total
}

#[tokio::test]
async fn a_claude_code_task_is_one_server_task_created_once_and_completed_once() {
    let mut f = fixture().await;
    let s = Session::explicit("cc-tasks-1");
    let first = f.sessions.task_created(&s, &cc_task("7", Some("Write the test"))).await.unwrap();
    assert!(first.created && !first.completed);
    let again = f.sessions.task_created(&s, &cc_task("7", Some("Write the test"))).await.unwrap();
    assert_eq!((again.task_id.as_str(), again.created), (first.task_id.as_str(), false));
    let task = f.coord.tasks.get(&mut f.con, &first.task_id).await.unwrap();
    assert_eq!((task.text.as_str(), task.priority), ("Write the test", 50));
    let meta = task.metadata.unwrap();
    assert_eq!(
        (&meta["source"], &meta["sessionId"], &meta["claudeCodeTaskId"], &meta["description"], &meta["teammateName"]),
        (&json!("claude_code_task"), &json!("cc-tasks-1"), &json!("7"), &json!("details"), &json!("tester"))
    );

    let done = f.sessions.task_completed(&s, &cc_task("7", None)).await.unwrap();
    assert_eq!((done.task_id.as_str(), done.created, done.completed), (first.task_id.as_str(), false, true));
    let twice = f.sessions.task_completed(&s, &cc_task("7", None)).await.unwrap();
    assert_eq!((twice.created, twice.completed), (false, false), "completing a completed task is a no-op");
    assert_eq!(f.coord.tasks.get(&mut f.con, &first.task_id).await.unwrap().status, TaskStatus::Completed);
    assert_eq!(task_count(&mut f).await, 1);
    let ttl: i64 = redis::cmd("TTL").arg(f.keys.hook_tasks("cc-tasks-1")).query_async(&mut f.con).await.unwrap();
    assert!(ttl > 0, "the mapping expires: {ttl}");
}

#[tokio::test]
async fn a_claimed_claude_code_task_is_completed_for_its_owner() {
    let mut f = fixture().await;
    let s = Session::explicit("cc-tasks-claimed");
    let created = f.sessions.task_created(&s, &cc_task("1", Some("Claimed"))).await.unwrap();
    f.coord.instances.register(&mut f.con, "worker-1", &["worker".to_string()]).await.unwrap();
    let claimed = f.coord.tasks.claim(&mut f.con, "worker-1", 1).await.unwrap();
    assert_eq!(claimed[0].id, created.task_id);
    let done = f.sessions.task_completed(&s, &cc_task("1", None)).await.unwrap();
    assert!(done.completed);
    let task = f.coord.tasks.get(&mut f.con, &created.task_id).await.unwrap();
    assert_eq!((task.status, task.assigned_to.as_deref()), (TaskStatus::Completed, Some("worker-1")));
    assert_eq!(task.result, Some(json!({"completedBy": "task_completed"})));
}

#[tokio::test]
async fn racing_task_created_hooks_leave_one_task_and_sessions_keep_their_own() {
    let mut f = fixture().await;
    let s = Session::explicit("cc-race");
    let task = cc_task("42", Some("Raced"));
    let calls: Vec<_> = (0..20).map(|_| f.sessions.task_created(&s, &task)).collect();
    let results = futures_util::future::join_all(calls).await;
    let ids: std::collections::HashSet<String> = results.iter().map(|r| r.as_ref().unwrap().task_id.clone()).collect();
    assert_eq!(ids.len(), 1, "{results:?}");
    assert_eq!(results.iter().filter(|r| r.as_ref().unwrap().created).count(), 1);
    assert_eq!(task_count(&mut f).await, 1);
    // The same id in another session is another task.
    let other = f.sessions.task_created(&Session::explicit("cc-race-2"), &task).await.unwrap();
    assert!(other.created && !ids.contains(&other.task_id));
    assert_eq!(task_count(&mut f).await, 2);
}

#[tokio::test]
async fn a_subject_longer_than_a_task_text_is_cut_and_kept_whole_in_the_metadata() {
    let mut f = fixture().await;
    let long = "x".repeat(claudebench_domain::coordination::tasks::MAX_TEXT_CHARS + 50);
    let m = f.sessions.task_created(&Session::explicit("cc-long"), &cc_task("1", Some(&long))).await.unwrap();
    let task = f.coord.tasks.get(&mut f.con, &m.task_id).await.unwrap();
    assert_eq!(task.text.chars().count(), claudebench_domain::coordination::tasks::MAX_TEXT_CHARS);
    assert_eq!(task.metadata.unwrap()["subject"], json!(long));
}

// --- subagents and teammates in the instance record ---------------------------------------------

async fn agents(
    f: &mut Fixture,
    s: &Session,
) -> (Vec<claudebench_domain::sessions::RunningSubagent>, Vec<claudebench_domain::sessions::IdleTeammate>) {
    let (subs, mates): (Option<String>, Option<String>) = redis::cmd("HMGET")
        .arg(f.keys.instance(&s.instance_id()))
        .arg("subagents")
        .arg("teammates")
        .query_async(&mut f.con)
        .await
        .unwrap();
    claudebench_domain::sessions::parse_agents(subs.as_deref(), mates.as_deref())
}

#[tokio::test]
async fn subagents_run_in_the_instance_record_from_start_to_stop_and_leave_with_it() {
    let mut f = fixture().await;
    let s = Session::explicit("agents-1");
    // No instance: nothing is kept, nothing is created.
    assert_eq!(f.sessions.start_subagent(&s, "a1", Some("Explore")).await.unwrap(), None);
    assert!(f.coord.instances.get(&mut f.con, &s.instance_id()).await.unwrap().is_none());

    f.sessions.start(&s, None).await.unwrap();
    assert_eq!(f.sessions.start_subagent(&s, "a1", Some("Explore")).await.unwrap(), Some(1));
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    assert_eq!(f.sessions.start_subagent(&s, "a2", None).await.unwrap(), Some(2));
    tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    assert_eq!(f.sessions.start_subagent(&s, "a1", Some("Explore")).await.unwrap(), Some(2), "a repeat is one entry");
    f.sessions.teammate_idle(&s, "tester", Some("team-1")).await.unwrap();
    f.sessions.teammate_idle(&s, "tester", Some("team-1")).await.unwrap();
    let (subs, mates) = agents(&mut f, &s).await;
    assert_eq!(
        subs.iter().map(|a| a.agent_id.as_str()).collect::<Vec<_>>(),
        ["a1", "a2"],
        "oldest start first, a repeat keeps its start"
    );
    assert_eq!((mates.len(), mates[0].name.as_str(), mates[0].team.as_deref()), (1, "tester", Some("team-1")));

    let stop = Stop { subagent: true, agent_type: Some("Explore".into()), agent_id: Some("a1".into()) };
    f.sessions.record_stop(&s, &stop).await.unwrap();
    let (subs, _) = agents(&mut f, &s).await;
    assert_eq!(subs.iter().map(|a| a.agent_id.as_str()).collect::<Vec<_>>(), ["a2"]);
    // The main agent's Stop leaves the subagents alone.
    f.sessions.record_stop(&s, &Stop::default()).await.unwrap();
    assert_eq!(agents(&mut f, &s).await.0.len(), 1);
    // Re-registering keeps them; ending the session removes them with the record.
    f.sessions.start(&s, Some("resume")).await.unwrap();
    assert_eq!(agents(&mut f, &s).await.0.len(), 1);
    f.sessions.end(&s).await.unwrap();
    assert_eq!(agents(&mut f, &s).await, (vec![], vec![]));
    assert_eq!(f.events("hook.subagent.started").await.len(), 4);
    assert_eq!(f.events("hook.subagent.stopped").await.len(), 1);
    assert_eq!(f.events("hook.teammate.idle").await.len(), 2);
}

#[tokio::test]
async fn an_instance_record_keeps_at_most_the_newest_subagents() {
    let mut f = fixture().await;
    let s = Session::explicit("agents-cap");
    f.sessions.start(&s, None).await.unwrap();
    let max = claudebench_domain::sessions::agents::MAX_AGENTS;
    for i in 0..max + 6 {
        let running = f.sessions.start_subagent(&s, &format!("a{i:03}"), None).await.unwrap();
        assert_eq!(running, Some((i + 1).min(max) as u64));
    }
    let (subs, _) = agents(&mut f, &s).await;
    assert_eq!(subs.len(), max);
    let ids: Vec<&str> = subs.iter().map(|a| a.agent_id.as_str()).collect();
    assert!(!ids.contains(&"a000") && !ids.contains(&"a005") && ids.contains(&"a006"), "{ids:?}");
}

/// `n` plain allows of `Read` by session `s1`, appended to the audit stream `key` at once.
async fn add_allows<C: redis::aio::ConnectionLike>(con: &mut C, key: &str, n: usize) {
    let mut pipe = redis::pipe();
    for _ in 0..n {
        pipe.cmd("XADD").arg(key).arg("*").arg("tool").arg("Read").arg("decision").arg("allow");
        pipe.arg("session").arg("s1").ignore();
    }
    let () = pipe.query_async(con).await.unwrap();
}
