//! Claude Code's hook input (snake_case, per hook) → the server's hook event and its input
//! (camelCase wire names, see `spec/hook.yaml`).

use serde_json::{Map, Value, json};

/// The Claude Code hooks the bridge forwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    PreToolUse,
    PostToolUse,
    UserPromptSubmit,
    SessionStart,
    SessionEnd,
    Stop,
    SubagentStop,
    Notification,
    PreCompact,
}

impl HookKind {
    /// From `hook_event_name`; `None` for hooks the server has no event for.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "PreToolUse" => HookKind::PreToolUse,
            "PostToolUse" => HookKind::PostToolUse,
            "UserPromptSubmit" => HookKind::UserPromptSubmit,
            "SessionStart" => HookKind::SessionStart,
            "SessionEnd" => HookKind::SessionEnd,
            "Stop" => HookKind::Stop,
            "SubagentStop" => HookKind::SubagentStop,
            "Notification" => HookKind::Notification,
            "PreCompact" => HookKind::PreCompact,
            _ => return None,
        })
    }

    /// The name Claude Code uses (and expects back in `hookSpecificOutput.hookEventName`).
    pub fn name(self) -> &'static str {
        match self {
            HookKind::PreToolUse => "PreToolUse",
            HookKind::PostToolUse => "PostToolUse",
            HookKind::UserPromptSubmit => "UserPromptSubmit",
            HookKind::SessionStart => "SessionStart",
            HookKind::SessionEnd => "SessionEnd",
            HookKind::Stop => "Stop",
            HookKind::SubagentStop => "SubagentStop",
            HookKind::Notification => "Notification",
            HookKind::PreCompact => "PreCompact",
        }
    }
}

/// One hook invocation, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct HookCall {
    pub kind: HookKind,
    /// The server event, e.g. `hook.pre_tool`.
    pub event: &'static str,
    /// The event's input.
    pub params: Value,
    pub session_id: Option<String>,
    /// `tool_name`, for the tool hooks (drives the fail-closed policy).
    pub tool: Option<String>,
    /// The submitted prompt, for UserPromptSubmit (to tell the server's additions apart).
    pub prompt: Option<String>,
}

/// Map Claude Code's stdin JSON to a server call; `None` for input that is not a JSON object
/// or names a hook the bridge does not forward.
pub fn parse_hook(stdin_json: &str) -> Option<HookCall> {
    let Ok(Value::Object(input)) = serde_json::from_str::<Value>(stdin_json) else {
        return None;
    };
    let kind = HookKind::from_name(input.get("hook_event_name")?.as_str()?)?;
    let field = Fields(&input);
    let session_id = field.text("session_id");
    let tool = field.text("tool_name");
    let mut params = Map::new();
    let (event, prompt) = match kind {
        HookKind::PreToolUse => {
            params.insert("tool".into(), json!(tool.clone().unwrap_or_default()));
            // The key must be present; `null` when Claude Code sent no input.
            params.insert("params".into(), field.any("tool_input").unwrap_or(Value::Null));
            field.copy_text(&mut params, "tool_use_id", "toolUseId");
            field.copy_text(&mut params, "cwd", "cwd");
            ("hook.pre_tool", None)
        }
        HookKind::PostToolUse if tool.as_deref() == Some("TodoWrite") => {
            let todos = field.any("tool_input").and_then(|i| i.get("todos").cloned()).unwrap_or_else(|| json!([]));
            params.insert("todos".into(), todos);
            ("hook.todo_write", None)
        }
        HookKind::PostToolUse => {
            params.insert("tool".into(), json!(tool.clone().unwrap_or_default()));
            params.insert("result".into(), field.any("tool_response").unwrap_or(Value::Null));
            if let Some(input) = field.any("tool_input") {
                params.insert("params".into(), input);
            }
            field.copy_text(&mut params, "tool_use_id", "toolUseId");
            if let Some(ms) = input.get("duration_ms").and_then(Value::as_u64) {
                params.insert("durationMs".into(), json!(ms));
            }
            ("hook.post_tool", None)
        }
        HookKind::UserPromptSubmit => {
            let prompt = field.string("prompt").unwrap_or_default();
            params.insert("prompt".into(), json!(prompt));
            let mut context = Map::new();
            field.copy_text(&mut context, "cwd", "cwd");
            field.copy_text(&mut context, "permission_mode", "permissionMode");
            field.copy_text(&mut context, "source", "source");
            params.insert("context".into(), Value::Object(context));
            ("hook.user_prompt", Some(prompt))
        }
        HookKind::SessionStart => {
            field.copy_text(&mut params, "source", "source");
            field.copy_text(&mut params, "cwd", "cwd");
            // Older Claude Code sends the model as a string, newer as {id, display_name}.
            let model = field.text("model").or_else(|| {
                input
                    .get("model")
                    .and_then(|m| m.get("id"))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            });
            if let Some(model) = model {
                params.insert("model".into(), json!(model));
            }
            ("hook.session_start", None)
        }
        HookKind::SessionEnd => {
            field.copy_text(&mut params, "reason", "reason");
            ("hook.session_end", None)
        }
        HookKind::Stop | HookKind::SubagentStop => {
            params.insert("subagent".into(), json!(kind == HookKind::SubagentStop));
            if let Some(active) = input.get("stop_hook_active").and_then(Value::as_bool) {
                params.insert("stopHookActive".into(), json!(active));
            }
            field.copy_text(&mut params, "agent_id", "agentId");
            field.copy_text(&mut params, "agent_type", "agentType");
            ("hook.stop", None)
        }
        HookKind::Notification => {
            params.insert("message".into(), json!(field.string("message").unwrap_or_default()));
            field.copy_text(&mut params, "title", "title");
            field.copy_text(&mut params, "notification_type", "notificationType");
            ("hook.notification", None)
        }
        HookKind::PreCompact => {
            params.insert("trigger".into(), json!(field.text("trigger").unwrap_or_else(|| "auto".into())));
            if let Some(instructions) = field.string("custom_instructions") {
                params.insert("customInstructions".into(), json!(instructions));
            }
            ("hook.pre_compact", None)
        }
    };
    if let Some(session) = &session_id {
        params.insert("sessionId".into(), json!(session));
    }
    Some(HookCall { kind, event, params: Value::Object(params), session_id, tool, prompt })
}

/// Typed access to the input object's fields.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    /// A string field, possibly empty.
    fn string(&self, key: &str) -> Option<String> {
        self.0.get(key).and_then(Value::as_str).map(str::to_string)
    }
    /// A non-empty string field (the server's optional strings have `min_length: 1`).
    fn text(&self, key: &str) -> Option<String> {
        self.string(key).filter(|s| !s.is_empty())
    }
    fn any(&self, key: &str) -> Option<Value> {
        self.0.get(key).cloned()
    }
    fn copy_text(&self, out: &mut Map<String, Value>, from: &str, to: &str) {
        if let Some(value) = self.text(from) {
            out.insert(to.into(), json!(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anything_that_is_not_a_known_hook_object_maps_to_nothing() {
        for stdin in
            ["", "null", "[]", "{", "{\"hook_event_name\": 3}", "{\"hook_event_name\": \"TaskCreated\"}", "\u{feff}{}"]
        {
            assert_eq!(parse_hook(stdin), None, "{stdin:?}");
        }
    }

    #[test]
    fn empty_optional_strings_are_left_out() {
        let call = parse_hook(r#"{"hook_event_name":"SessionEnd","session_id":"s","reason":""}"#).unwrap();
        assert_eq!(call.params, json!({"sessionId": "s"}));
    }
}
