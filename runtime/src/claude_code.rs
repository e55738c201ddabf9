//! Claude Code's hooks, served through the spec's hook table (`claudebench_contract::hook`): a
//! hook input (Claude Code's snake_case JSON) becomes one event call, and the event's answer
//! becomes Claude Code's hook output. `POST /hooks/claude-code` (`transport::hooks`) runs this;
//! the `claudebench hook` bridge posts there, so both speak through the same table.
//!
//! Claude Code's hook contract, as far as this module relies on it: stdout JSON / an HTTP 2xx body
//! with `hookSpecificOutput` (`hookEventName` plus the event's keys), `decision: "block"` with a
//! `reason` on the hooks that can block, `systemMessage` for the user; an empty object means
//! "nothing to say". A non-2xx HTTP answer is a non-blocking hook error: Claude Code carries on.

use claudebench_contract::error::{Error, ErrorCode};
pub use claudebench_contract::hook::HookRoute;
use claudebench_contract::hook::{ANY_HOOK, HookAnswer, HookSource};
/// Where Claude Code's HTTP hooks (and the bridge) post.
pub use claudebench_contract::routes::CLAUDE_CODE_HOOKS as ENDPOINT;
use serde_json::{Map, Value, json};

/// The route a hook input takes: among the routes serving its `hook_event_name`, the first whose
/// condition holds, else the one without a condition; a hook no route names goes to the
/// catch-all (`*`). `None` when the input names no hook or the table has no route for it.
pub fn route<'a>(routes: &'a [HookRoute], input: &Map<String, Value>) -> Option<&'a HookRoute> {
    let hook = input.get("hook_event_name")?.as_str()?;
    let name = if routes.iter().any(|r| r.hooks.contains(&hook)) { hook } else { ANY_HOOK };
    let serving = || routes.iter().filter(|r| r.hooks.contains(&name));
    serving().find(|r| r.when.is_some_and(|w| holds(w, input))).or_else(|| serving().find(|r| r.when.is_none()))
}

fn holds(when: claudebench_contract::hook::HookWhen, input: &Map<String, Value>) -> bool {
    let is = input.get(when.field).and_then(Value::as_str) == Some(when.equals);
    is != when.negate
}

/// The event input a route builds from a hook input. Properties whose source holds nothing are
/// left out (the event's schema decides whether that is fine); `a.b` fills `b` inside the
/// object property `a`.
pub fn params(route: &HookRoute, input: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (property, source) in route.fields {
        let Some(value) = value_of(source, input) else { continue };
        match property.split_once('.') {
            None => {
                out.insert((*property).to_string(), value);
            }
            Some((outer, inner)) => {
                let slot = out.entry(outer.to_string()).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(object) = slot {
                    object.insert(inner.to_string(), value);
                }
            }
        }
    }
    Value::Object(out)
}

fn value_of(source: &HookSource, input: &Map<String, Value>) -> Option<Value> {
    match source {
        HookSource::Input => Some(Value::Object(input.clone())),
        HookSource::Const(json) => serde_json::from_str(json).ok(),
        HookSource::Paths { paths, fallback } => paths
            .iter()
            .find_map(|path| at(input, path).filter(|v| !v.is_null() && v.as_str() != Some("")).cloned())
            .or_else(|| fallback.and_then(|json| serde_json::from_str(json).ok())),
    }
}

/// The value at a dotted path (`tool_input.todos`).
fn at<'a>(input: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = input.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

/// How a hook is answered when the server had something to say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AnswerOptions {
    /// PreToolUse: answer `permissionDecision: "allow"` for calls the server allows (Claude Code
    /// then skips its own prompt). Off by default: the server knows what is dangerous, not what
    /// the user wants to confirm, so allowed calls defer to Claude Code's own rules.
    pub approve_allowed: bool,
}

/// Claude Code's hook output for the event's `output`, by the route's answer kind. `{}` means
/// nothing to say.
pub fn answer(route: &HookRoute, input: &Map<String, Value>, output: &Value, options: AnswerOptions) -> Value {
    let hook = input.get("hook_event_name").and_then(Value::as_str).unwrap_or_default();
    match route.answer {
        HookAnswer::Nothing => json!({}),
        HookAnswer::Permission => permission(output, options),
        HookAnswer::PromptContext => {
            let prompt = input.get("prompt").and_then(Value::as_str).unwrap_or_default();
            let added = output
                .get("modified")
                .and_then(Value::as_str)
                .map(|m| m.strip_prefix(prompt).unwrap_or(m).trim().to_string());
            context(hook, added)
        }
        HookAnswer::Context => {
            context(hook, output.get("additionalContext").and_then(Value::as_str).map(str::to_string))
        }
    }
}

/// Claude Code's hook output for an event that refused with `forbidden` ("this hook is
/// blocked"): PreToolUse denies the call, UserPromptSubmit and PostToolUse block with the reason,
/// and the others answer nothing (on Stop a block would make Claude carry on working, the
/// opposite of a refusal). `None` for any other error: that is a hook error,
/// not an answer (a non-2xx over HTTP; the bridge applies its fail-closed policy).
pub fn refusal(input: &Map<String, Value>, error: &Error) -> Option<Value> {
    if error.code != ErrorCode::Forbidden {
        return None;
    }
    let hook = input.get("hook_event_name").and_then(Value::as_str).unwrap_or_default();
    Some(match hook {
        "PreToolUse" => deny(&error.message),
        "UserPromptSubmit" | "PostToolUse" => {
            json!({ "decision": "block", "reason": error.message })
        }
        _ => json!({}),
    })
}

fn permission(output: &Value, options: AnswerOptions) -> Value {
    // `decision` (allow | ask | deny); a server before it answered only `allow`.
    let decision = match (output.get("decision").and_then(Value::as_str), output.get("allow").and_then(Value::as_bool))
    {
        (Some(d @ ("allow" | "ask" | "deny")), _) => d,
        (None, Some(true)) => "allow",
        _ => "deny",
    };
    let reason = output.get("reason").and_then(Value::as_str).filter(|r| !r.is_empty());
    let warnings: Vec<&str> = output
        .get("warnings")
        .and_then(Value::as_array)
        .map(|w| w.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let with_warnings = |mut answer: Value| {
        if !warnings.is_empty() {
            // Warnings are for the user too, not only for Claude.
            answer["systemMessage"] = json!(warnings.join("\n"));
        }
        answer
    };
    match decision {
        "deny" => return deny(reason.unwrap_or("Blocked by ClaudeBench")),
        // Shown to the user, who confirms: never approved here, since the server could not vouch.
        "ask" => {
            return with_warnings(json!({ "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": "ask",
                "permissionDecisionReason": reason.unwrap_or("ClaudeBench cannot check this call"),
            }}));
        }
        _ => {}
    }
    let notes: Vec<&str> = reason.into_iter().chain(warnings.iter().copied()).collect();
    let mut specific = Map::new();
    specific.insert("hookEventName".into(), json!("PreToolUse"));
    match output.get("modified").filter(|m| !m.is_null()) {
        Some(modified) => {
            // A rewritten call is shown to the user for confirmation unless approval is on.
            let decision = if options.approve_allowed { "allow" } else { "ask" };
            specific.insert("permissionDecision".into(), json!(decision));
            specific.insert("updatedInput".into(), modified.clone());
            if !notes.is_empty() {
                specific.insert("permissionDecisionReason".into(), json!(notes.join("; ")));
            }
        }
        None if options.approve_allowed => {
            specific.insert("permissionDecision".into(), json!("allow"));
            if !notes.is_empty() {
                specific.insert("permissionDecisionReason".into(), json!(notes.join("; ")));
            }
        }
        // Nothing to decide or say: Claude Code's own permission rules apply.
        None if notes.is_empty() => return json!({}),
        None => {
            specific.insert("additionalContext".into(), json!(notes.join("\n")));
        }
    }
    with_warnings(json!({ "hookSpecificOutput": specific }))
}

/// PreToolUse deny: the tool does not run and Claude reads the reason.
pub fn deny(reason: &str) -> Value {
    json!({ "hookSpecificOutput": {
        "hookEventName": "PreToolUse",
        "permissionDecision": "deny",
        "permissionDecisionReason": reason,
    }})
}

/// `hookSpecificOutput.additionalContext` when there is something to add.
fn context(hook: &str, context: Option<String>) -> Value {
    match context.filter(|c| !c.trim().is_empty()) {
        Some(context) => json!({ "hookSpecificOutput": { "hookEventName": hook, "additionalContext": context } }),
        None => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use claudebench_contract::hook::HookWhen;

    const ROUTES: &[HookRoute] = &[
        HookRoute {
            event: "hook.todo_write",
            hooks: &["PostToolUse"],
            when: Some(HookWhen { field: "tool_name", equals: "TodoWrite", negate: false }),
            fields: &[("todos", HookSource::Paths { paths: &["tool_input.todos"], fallback: Some("[]") })],
            answer: HookAnswer::Nothing,
        },
        HookRoute {
            event: "hook.post_tool",
            hooks: &["PostToolUse"],
            when: None,
            fields: &[
                ("tool", HookSource::Paths { paths: &["tool_name"], fallback: None }),
                ("context", HookSource::Const("{}")),
                ("context.cwd", HookSource::Paths { paths: &["cwd"], fallback: None }),
                ("model", HookSource::Paths { paths: &["model.id", "model"], fallback: None }),
            ],
            answer: HookAnswer::Nothing,
        },
        HookRoute {
            event: "hook.record",
            hooks: &["*"],
            when: None,
            fields: &[("input", HookSource::Input)],
            answer: HookAnswer::Nothing,
        },
    ];

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_condition_wins_over_the_plain_route_and_unknown_hooks_reach_the_catch_all() {
        let todo = object(json!({"hook_event_name": "PostToolUse", "tool_name": "TodoWrite"}));
        assert_eq!(route(ROUTES, &todo).unwrap().event, "hook.todo_write");
        let bash = object(json!({"hook_event_name": "PostToolUse", "tool_name": "Bash"}));
        assert_eq!(route(ROUTES, &bash).unwrap().event, "hook.post_tool");
        let future = object(json!({"hook_event_name": "SomethingNew"}));
        assert_eq!(route(ROUTES, &future).unwrap().event, "hook.record");
        assert!(route(ROUTES, &object(json!({"hook_event_name": 3}))).is_none());
        assert!(route(ROUTES, &object(json!({}))).is_none());
    }

    #[test]
    fn sources_skip_empty_values_fall_back_and_fill_nested_properties() {
        let input =
            object(json!({"hook_event_name": "PostToolUse", "tool_name": "Bash", "cwd": "/w", "model": {"id": "m1"}}));
        assert_eq!(params(&ROUTES[1], &input), json!({"tool": "Bash", "context": {"cwd": "/w"}, "model": "m1"}));
        let input = object(json!({"hook_event_name": "PostToolUse", "tool_name": "Bash", "model": "m2"}));
        assert_eq!(params(&ROUTES[1], &input)["model"], json!("m2"), "a string has no `id`: the next path");
        let empty = object(json!({"hook_event_name": "PostToolUse", "tool_name": "", "model": ""}));
        assert_eq!(params(&ROUTES[1], &empty), json!({"context": {}}));
        let todo = object(json!({"hook_event_name": "PostToolUse", "tool_name": "TodoWrite", "tool_input": null}));
        assert_eq!(params(&ROUTES[0], &todo), json!({"todos": []}));
        assert_eq!(params(&ROUTES[2], &todo), json!({"input": todo}));
    }

    #[test]
    fn permission_answers_follow_the_decision() {
        let opts = AnswerOptions::default();
        assert_eq!(permission(&json!({"decision": "allow", "allow": true, "warnings": []}), opts), json!({}));
        let denied = permission(&json!({"decision": "deny", "reason": "no", "warnings": []}), opts);
        assert_eq!(denied["hookSpecificOutput"]["permissionDecision"], "deny");
        let asked = permission(&json!({"decision": "ask", "reason": "check", "warnings": ["w"]}), opts);
        assert_eq!(
            (asked["hookSpecificOutput"]["permissionDecision"].as_str(), asked["systemMessage"].as_str()),
            (Some("ask"), Some("w"))
        );
        let approved =
            permission(&json!({"decision": "allow", "warnings": []}), AnswerOptions { approve_allowed: true });
        assert_eq!(approved["hookSpecificOutput"]["permissionDecision"], "allow");
        // No decision at all is never an allow.
        assert_eq!(permission(&json!({}), opts)["hookSpecificOutput"]["permissionDecision"], "deny");
    }
}
