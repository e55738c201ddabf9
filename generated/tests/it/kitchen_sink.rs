//! The kitchen-sink model's generated code, end to end: JSON in, typed value or every issue out.

pub(crate) use claudebench_generated_fixtures::kitchen_sink as generated;

use claudebench_generated::issue::IssueCode;
use claudebench_generated::validation::{ValidationError, from_slice, from_value};
use generated::events::{EVENTS, EventId, Input, Output};
use generated::types::*;
use serde_json::json;

/// `(path, code)` of every issue, for compact assertions.
fn issues(err: ValidationError) -> Vec<(String, IssueCode)> {
    match err {
        ValidationError::Invalid(issues) => issues.into_iter().map(|i| (i.path, i.code)).collect(),
        other => panic!("expected issues, got {other:?}"),
    }
}

fn invalid<T: claudebench_generated::validation::Object + std::fmt::Debug>(
    v: serde_json::Value,
) -> Vec<(String, IssueCode)> {
    issues(from_value::<T>(&v).expect_err("input should be invalid"))
}

fn p(path: &str, code: IssueCode) -> (String, IssueCode) {
    (path.to_string(), code)
}

#[test]
fn a_valid_input_is_parsed_and_its_defaults_are_filled() {
    let input: TaskCreateInput = from_slice(br#"{"text":"write tests"}"#).unwrap();
    assert_eq!(input, TaskCreateInput { text: "write tests".into(), priority: 50, metadata: None });
}

#[test]
fn bytes_and_values_are_validated_by_the_same_code_path() {
    let value = json!({"text": "", "priority": 101, "extra": 1});
    let from_bytes = from_slice::<TaskCreateInput>(value.to_string().as_bytes()).unwrap_err();
    let from_val = from_value::<TaskCreateInput>(&value).unwrap_err();
    assert_eq!(from_bytes, from_val);
}

#[test]
fn every_issue_is_reported_at_once_with_wire_name_paths() {
    let got = invalid::<TaskCreateInput>(json!({"text": "", "priority": 101, "extra": 1, "other": 2}));
    assert_eq!(
        got,
        // Issues come in input order (the workspace builds serde_json with `preserve_order`).
        vec![p("text", IssueCode::TooSmall), p("priority", IssueCode::TooBig), p("", IssueCode::UnrecognizedKeys)]
    );
}

#[test]
fn unrecognized_keys_are_listed_in_one_issue_at_the_object() {
    let err = from_value::<TaskCreateInput>(&json!({"text": "a", "x": 1, "y": 2})).unwrap_err();
    let ValidationError::Invalid(list) = err else { panic!() };
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].code, IssueCode::UnrecognizedKeys);
    assert!(list[0].message.contains("'x'") && list[0].message.contains("'y'"), "{}", list[0].message);
}

#[test]
fn a_missing_required_key_is_reported_as_required() {
    assert_eq!(invalid::<TaskCreateInput>(json!({})), vec![p("text", IssueCode::Required)]);
}

#[test]
fn a_wrong_type_is_consumed_and_reported_with_what_was_received() {
    let input = br#"{"text": {"deep": [1, 2, {"x": null}]}, "priority": "high"}"#;
    let err = from_slice::<TaskCreateInput>(input).unwrap_err();
    let ValidationError::Invalid(list) = err else { panic!() };
    assert_eq!(list[0].path, "text");
    assert_eq!(list[0].message, "expected string, received object");
    assert_eq!(list[1].path, "priority");
    assert_eq!(list[1].message, "expected integer, received string");
}

#[test]
fn nested_objects_report_dotted_paths() {
    let got = invalid::<TaskUpdateInput>(json!({"id": "t1", "updates": {"priority": -1, "status": "done"}}));
    assert_eq!(got, vec![p("updates.priority", IssueCode::TooSmall), p("updates.status", IssueCode::InvalidEnumValue)]);
}

#[test]
fn array_items_report_indexed_paths() {
    let got = invalid::<HookTodoWriteInput>(json!({"todos": [
        {"content": "a", "status": "pending"},
        {"content": "", "status": "nope"},
        {"status": "completed", "activeForm": ""}
    ]}));
    assert_eq!(
        got,
        vec![
            p("todos[1].content", IssueCode::TooSmall),
            p("todos[1].status", IssueCode::InvalidEnumValue),
            p("todos[2].activeForm", IssueCode::TooSmall),
            p("todos[2].content", IssueCode::Required),
        ]
    );
}

#[test]
fn array_item_counts_are_bounded() {
    assert_eq!(invalid::<HookTodoWriteInput>(json!({"todos": []})), vec![p("todos", IssueCode::TooSmall)]);
    let many: Vec<_> = (0..51).map(|i| json!({"content": format!("t{i}"), "status": "pending"})).collect();
    assert_eq!(invalid::<HookTodoWriteInput>(json!({ "todos": many })), vec![p("todos", IssueCode::TooBig)]);
}

#[test]
fn record_values_report_their_key_in_the_path() {
    let got = invalid::<TestRunOutput>(json!({"ok": "yes"}));
    assert_eq!(got, vec![p("ok", IssueCode::InvalidType)]);
    let task = json!({"id": "t", "text": "x", "status": "pending", "priority": 1, "createdAt": "2025-01-01T00:00:00Z", "metadata": {"a": 1}});
    assert!(from_value::<Task>(&task).is_ok());
}

#[test]
fn cross_field_rules_are_custom_issues_at_the_rule_path() {
    assert_eq!(invalid::<TaskCompleteInput>(json!({})), vec![p("id", IssueCode::Custom)]);
    let both = invalid::<TaskCompleteInput>(json!({"id": "t", "result": 1, "error": "e"}));
    assert_eq!(both, vec![p("", IssueCode::Custom)]);
    assert!(from_value::<TaskCompleteInput>(&json!({"taskId": "t", "result": null})).is_ok());
}

#[test]
fn rules_are_checked_even_when_fields_have_issues() {
    let got = invalid::<TaskCompleteInput>(json!({"result": 1, "error": 5}));
    assert_eq!(got, vec![p("error", IssueCode::InvalidType), p("id", IssueCode::Custom), p("", IssueCode::Custom)]);
}

#[test]
fn strip_drops_unknown_keys_and_allow_keeps_them() {
    let reg: SystemRegisterInput =
        from_value(&json!({"id": "i", "roles": ["worker"], "type": null, "bogus": true})).unwrap();
    assert_eq!(reg.id, "i");
    let prompt: HookUserPromptInput =
        from_value(&json!({"prompt": "p", "context": {"cwd": "/", "git": {"branch": "main"}}})).unwrap();
    assert_eq!(prompt.context.cwd.as_deref(), Some("/"));
    assert_eq!(prompt.context.extra.get("git"), Some(&json!({"branch": "main"})));
    let back = serde_json::to_value(&prompt).unwrap();
    assert_eq!(back["context"]["git"]["branch"], "main");
}

#[test]
fn allow_still_rejects_a_context_that_is_not_an_object() {
    for bad in [json!([]), json!(null), json!("ctx")] {
        let got = invalid::<HookUserPromptInput>(json!({"prompt": "p", "context": bad}));
        assert_eq!(got, vec![p("context", IssueCode::InvalidType)]);
    }
}

#[test]
fn optional_and_nullable_keep_absent_and_null_apart() {
    let out: HookUserPromptOutput = from_value(&json!({})).unwrap();
    assert_eq!(out.modified, None);
    let out: HookUserPromptOutput = from_value(&json!({"modified": null})).unwrap();
    assert_eq!(out.modified, Some(None));
    assert_eq!(serde_json::to_value(&out).unwrap(), json!({"modified": null}));
    let out: HookUserPromptOutput = from_value(&json!({"modified": "x"})).unwrap();
    assert_eq!(out.modified, Some(Some("x".into())));
    assert_eq!(serde_json::to_value(HookUserPromptOutput { modified: None }).unwrap(), json!({}));
}

#[test]
fn a_required_nullable_key_accepts_null_but_not_absence() {
    let base = json!({"action": {"kind": "bash", "command": "ls"}});
    assert_eq!(invalid::<TestRunInput>(base.clone()), vec![p("note", IssueCode::Required)]);
    let mut with_null = base;
    with_null["note"] = json!(null);
    let input: TestRunInput = from_value(&with_null).unwrap();
    assert_eq!(input.note, None);
}

#[test]
fn complex_defaults_are_filled_with_the_declared_values() {
    let input: TestRunInput = from_value(&json!({"action": {"kind": "edit", "path": "a.rs"}, "note": "n"})).unwrap();
    assert_eq!(input.action, Action::Edit(EditAction { path: "a.rs".into(), replace: false }));
    assert_eq!(input.tags, vec!["a".to_string(), "b".to_string()]);
    assert_eq!(input.mode, TestRunInputMode::Safe);
    assert_eq!(input.limits, TestRunInputLimits { cpu: 2, memory: None });
    assert_eq!(input.fallback_action, Action::Bash(ActionBash { command: "true".into() }));
}

#[test]
fn a_union_reads_the_variant_its_tag_selects() {
    let ok: Action = from_value(&json!({"command": "ls", "kind": "bash"})).unwrap();
    assert_eq!(ok, Action::Bash(ActionBash { command: "ls".into() }));
    assert_eq!(serde_json::to_value(&ok).unwrap(), json!({"kind": "bash", "command": "ls"}));
    assert_eq!(invalid::<Action>(json!({"command": "ls"})), vec![p("kind", IssueCode::Required)]);
    assert_eq!(invalid::<Action>(json!({"kind": "zsh"})), vec![p("kind", IssueCode::InvalidEnumValue)]);
    assert_eq!(invalid::<Action>(json!({"kind": 1})), vec![p("kind", IssueCode::InvalidType)]);
    assert_eq!(
        invalid::<Action>(json!({"kind": "edit", "command": "x"})),
        vec![p("", IssueCode::UnrecognizedKeys), p("path", IssueCode::Required)]
    );
}

#[test]
fn union_issues_are_reported_below_the_field_holding_the_union() {
    let got = invalid::<TestRunInput>(json!({"action": {"kind": "bash", "command": ""}, "note": null}));
    assert_eq!(got, vec![p("action.command", IssueCode::TooSmall)]);
}

#[test]
fn string_patterns_and_formats_are_invalid_string_issues() {
    let got = invalid::<SystemRegisterInput>(json!({
        "id": "i", "roles": ["ok", "Not-Lower"], "type": null,
        "uuid": "123", "url": "not a uri", "weight": 0
    }));
    assert_eq!(
        got,
        vec![
            p("roles[1]", IssueCode::InvalidString),
            p("uuid", IssueCode::InvalidString),
            p("url", IssueCode::InvalidString),
            p("weight", IssueCode::TooSmall),
        ]
    );
    let ok = json!({"id": "i", "roles": [], "type": "t", "uuid": "123e4567-E89B-12d3-a456-426614174000",
        "url": "https://example.com/a?b=c#d", "weight": 1.5});
    assert!(from_value::<SystemRegisterInput>(&ok).is_ok());
}

#[test]
fn integral_floats_are_integers_but_fractions_are_not() {
    let input: TaskCreateInput = from_slice(br#"{"text":"a","priority":3.0}"#).unwrap();
    assert_eq!(input.priority, 3);
    assert_eq!(
        invalid::<TaskCreateInput>(json!({"text": "a", "priority": 3.5})),
        vec![p("priority", IssueCode::InvalidType)]
    );
}

#[test]
fn unbounded_integers_are_limited_to_the_safe_range() {
    let base = |n: serde_json::Value| json!({"action": {"kind": "bash", "command": "x"}, "note": null, "count": n});
    assert!(from_value::<TestRunInput>(&base(json!(9007199254740991i64))).is_ok());
    assert_eq!(invalid::<TestRunInput>(base(json!(9007199254740992i64))), vec![p("count", IssueCode::TooBig)]);
    assert_eq!(invalid::<TestRunInput>(base(json!(-9007199254740992i64))), vec![p("count", IssueCode::TooSmall)]);
    assert_eq!(invalid::<TestRunInput>(base(json!(u64::MAX))), vec![p("count", IssueCode::TooBig)]);
}

#[test]
fn malformed_json_is_reported_with_its_position() {
    let err = from_slice::<TaskCreateInput>(b"{\"text\": \"a\",\n  oops}").unwrap_err();
    let ValidationError::Malformed { line, column, .. } = err else { panic!("{err:?}") };
    assert_eq!((line, column), (2, 3));
    assert!(matches!(
        from_slice::<TaskCreateInput>(br#"{"text":"a"} trailing"#),
        Err(ValidationError::Malformed { .. })
    ));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{{\"text\":\"a\",\"metadata\":{{\"x\":{}{}}}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(from_slice::<TaskCreateInput>(deep.as_bytes()), Err(ValidationError::Malformed { .. })));
    let wrong = format!("{{\"text\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(from_slice::<TaskCreateInput>(wrong.as_bytes()).is_err());
}

#[test]
fn serde_deserialize_validates_too() {
    let err = serde_json::from_str::<TaskCreateInput>(r#"{"text":""}"#).unwrap_err();
    assert!(err.to_string().contains("text: must be at least 1 character (too_small)"), "{err}");
    let ok: TaskCreateInput = serde_json::from_str(r#"{"text":"a"}"#).unwrap();
    assert_eq!(ok.priority, 50);
    let status: TaskStatus = serde_json::from_str(r#""in_progress""#).unwrap();
    assert_eq!(status, TaskStatus::InProgress);
    assert!(serde_json::from_str::<TaskStatus>(r#""done""#).is_err());
}

#[test]
fn the_event_table_is_sorted_and_filled_from_the_model() {
    let names: Vec<&str> = EVENTS.iter().map(|e| e.name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    for id in EventId::ALL {
        assert_eq!(id.def().name, id.name());
        assert_eq!(EventId::from_name(id.name()), Some(id));
    }
    assert_eq!(EventId::from_name("system.join"), Some(EventId::SystemRegister));
    assert_eq!(EventId::from_name("nope"), None);
    let create = EventId::TaskCreate.def();
    assert_eq!(create.http_path, "/task/create");
    assert!(create.persist);
    assert_eq!(create.rate_limit.map(|r| r.count), Some(100));
    assert_eq!(create.mcp.map(|m| m.tool_name), Some("task__create"));
    assert!(EventId::HookUserPrompt.def().mcp.is_none());
    assert_eq!(EventId::SystemRegister.def().roles, &["worker"]);
    let run = EventId::TestRun.def();
    assert_eq!((run.cache_ttl_s, run.deprecated, run.replaced_by), (Some(30), true, Some("task.create")));
}

#[test]
fn a_circuit_breaker_fallback_validates_as_the_event_output() {
    let cb = EventId::TaskUpdate.def().circuit_breaker.unwrap();
    let fallback: serde_json::Value = serde_json::from_str(cb.fallback.unwrap()).unwrap();
    let out = Output::from_value(EventId::TaskUpdate, &fallback).unwrap();
    assert_eq!(out.event(), EventId::TaskUpdate);
    assert_eq!(out.to_value(), fallback);
}

#[test]
fn inputs_dispatch_on_the_event_id() {
    let input = Input::parse(EventId::TaskCreate, br#"{"text":"a"}"#).unwrap();
    assert_eq!(input.event(), EventId::TaskCreate);
    assert_eq!(input.to_value(), json!({"text": "a", "priority": 50}));
    assert!(Input::from_value(EventId::TaskComplete, &json!({})).is_err());
}

struct App;
struct Ctx {
    prefix: &'static str,
}

impl generated::handlers::TaskCreate<Ctx> for App {
    async fn handle(&self, ctx: &Ctx, input: TaskCreateInput) -> Result<Task, claudebench_generated::error::Error> {
        Ok(Task {
            id: format!("{}1", ctx.prefix),
            text: input.text,
            status: TaskStatus::Pending,
            priority: input.priority,
            created_at: "2025-01-01T00:00:00Z".into(),
            metadata: input.metadata,
        })
    }
}

/// The rest of the fixture's events, which `call` must be able to reach but no test here runs.
macro_rules! uncalled_handlers {
    ($($t:ident: $i:ident => $o:ident),*) => {$(
        impl generated::handlers::$t<Ctx> for App {
            async fn handle(&self, _: &Ctx, _: $i) -> Result<$o, claudebench_generated::error::Error> {
                Err(claudebench_generated::error::Error::internal(concat!(stringify!($t), " is not exercised here")))
            }
        }
    )*};
}
uncalled_handlers!(
    TaskUpdate: TaskUpdateInput => TaskUpdateOutput,
    TaskComplete: TaskCompleteInput => TaskCompleteOutput,
    HookTodoWrite: HookTodoWriteInput => HookTodoWriteOutput,
    HookUserPrompt: HookUserPromptInput => HookUserPromptOutput,
    SystemRegister: SystemRegisterInput => SystemRegisterOutput,
    TestRun: TestRunInput => TestRunOutput
);

#[test]
fn call_dispatches_to_the_events_handler() {
    let input = Input::parse(EventId::TaskCreate, br#"{"text":"a"}"#).unwrap();
    let out = block_on(generated::handlers::call(&App, &Ctx { prefix: "t-" }, input)).unwrap();
    assert_eq!(out.event(), EventId::TaskCreate);
    assert_eq!(out.to_value()["id"], "t-1");
}

/// A minimal executor: the handlers above never wait.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
