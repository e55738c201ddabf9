//! What the bridge itself reads of Claude Code's hook input: only what it needs to decide when
//! the server cannot answer (which hook, which tool). The mapping to events is the server's
//! (`POST /hooks/claude-code`, the spec's hook table).

use serde_json::Value;

/// One hook invocation, as the bridge forwards it.
#[derive(Debug, Clone, PartialEq)]
pub struct HookCall {
    /// `hook_event_name`, e.g. `PreToolUse`.
    pub hook: String,
    /// `tool_name`, for the tool hooks (drives the fail-closed policy).
    pub tool: Option<String>,
    /// The input exactly as Claude Code sent it (a JSON object), forwarded unchanged.
    pub body: String,
}

/// The hook Claude Code sent on stdin; `None` for input that is not a JSON object naming a hook.
pub fn parse_hook(stdin_json: &str) -> Option<HookCall> {
    let Ok(Value::Object(input)) = serde_json::from_str::<Value>(stdin_json) else {
        return None;
    };
    let hook = input.get("hook_event_name")?.as_str().filter(|h| !h.is_empty())?.to_string();
    let tool = input.get("tool_name").and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_string);
    Some(HookCall { hook, tool, body: stdin_json.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anything_that_is_not_a_hook_object_maps_to_nothing() {
        for stdin in ["", "null", "[]", "{", "{\"hook_event_name\": 3}", "{\"hook_event_name\": \"\"}", "\u{feff}{}"] {
            assert_eq!(parse_hook(stdin), None, "{stdin:?}");
        }
        let call = parse_hook(r#"{"hook_event_name":"TaskCreated","task_id":"1"}"#).unwrap();
        assert_eq!((call.hook.as_str(), call.tool), ("TaskCreated", None));
    }
}
