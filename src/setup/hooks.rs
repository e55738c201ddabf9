//! The `hooks` of Claude Code's `settings.json`: the handlers `setup` writes, how it recognises
//! them again, and the merge that replaces them while keeping every other entry in place.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value, json};

use super::events::HookEvent;

/// The path of the server's endpoint for Claude Code's HTTP hooks.
pub const HTTP_HOOK_PATH: &str = "/hooks/claude-code";
/// Seconds Claude Code waits for one of our hooks (the bridge gives up on the server after 5).
pub const TIMEOUT_S: u64 = 10;
/// The environment variable holding the server's bearer token, for the bridge and for headers.
pub const TOKEN_VAR: &str = "CLAUDEBENCH_TOKEN";

/// A command hook running the bridge. The bridge reads `CLAUDEBENCH_URL` and
/// `CLAUDEBENCH_TOKEN` itself; a server other than the default is named with its `--url`.
pub fn command_handler(url: &str) -> Value {
    let command = if url == crate::bridge::DEFAULT_URL {
        "claudebench hook".to_string()
    } else {
        // A URL with a NUL byte cannot be a valid URL; it was refused before this.
        let quoted = shlex::try_quote(url).map(|q| q.into_owned()).unwrap_or_else(|_| url.to_string());
        format!("claudebench hook --url {quoted}")
    };
    json!({"type": "command", "command": command, "timeout": TIMEOUT_S})
}

/// An HTTP hook posting to the server's hook endpoint; with `token`, the bearer token comes from
/// `CLAUDEBENCH_TOKEN` in Claude Code's environment (header interpolation works only for the
/// variables `allowedEnvVars` lists).
pub fn http_handler(url: &str, token: bool) -> Value {
    let mut handler = json!({"type": "http", "url": format!("{url}{HTTP_HOOK_PATH}"), "timeout": TIMEOUT_S});
    if token {
        handler["headers"] = json!({"Authorization": format!("Bearer ${TOKEN_VAR}")});
        handler["allowedEnvVars"] = json!([TOKEN_VAR]);
    }
    handler
}

/// Whether `handler` is one `setup` writes: an HTTP hook to the server's hook endpoint, or a
/// command hook running the bridge (shell or exec form, any path to `claudebench`, any flags).
pub fn is_owned(handler: &Value) -> bool {
    let Some(handler) = handler.as_object() else {
        return false;
    };
    let text = |key| handler.get(key).and_then(Value::as_str);
    match text("type") {
        Some("http") => text("url").is_some_and(|url| url.trim_end_matches('/').ends_with(HTTP_HOOK_PATH)),
        Some("command") => text("command").is_some_and(|command| runs_bridge(command, handler.get("args"))),
        _ => false,
    }
}

fn runs_bridge(command: &str, args: Option<&Value>) -> bool {
    if let Some(Value::Array(args)) = args {
        return is_claudebench(command) && args.first().and_then(Value::as_str) == Some("hook");
    }
    let Some(words) = shlex::split(command) else {
        return false;
    };
    let mut words = words.iter().skip_while(|word| is_assignment(word));
    words.next().is_some_and(|program| is_claudebench(program)) && words.next().is_some_and(|word| word == "hook")
}

fn is_claudebench(program: &str) -> bool {
    Path::new(program).file_name().is_some_and(|name| name == "claudebench" || name == "claudebench.exe")
}

/// `NAME=value`, as a shell command may start with.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The matcher group `setup` writes for `event`.
pub fn group(event: &HookEvent, handler: Value) -> Value {
    if event.tool_event { json!({"matcher": "*", "hooks": [handler]}) } else { json!({"hooks": [handler]}) }
}

/// Put `wanted` (event, matcher group) into `settings.hooks`, replacing every handler
/// [`is_owned`] under any event, so running again changes nothing and switching transports
/// leaves no duplicates. Everything else keeps its place: other keys, events, groups and
/// handlers. An event's new group goes where its first owned handler was (else last); a group
/// left empty by the removal goes; an event left empty by it goes unless it gets a group back.
/// Values of the wrong shape are left alone (the file was checked when read).
pub fn merge(settings: &mut Map<String, Value>, wanted: Vec<(&'static str, Value)>) {
    let hooks = settings.entry("hooks").or_insert_with(|| Value::Object(Map::new()));
    if hooks.is_null() {
        *hooks = Value::Object(Map::new());
    }
    let Value::Object(hooks) = hooks else {
        return;
    };
    let mut slots = HashMap::new();
    for (event, groups) in hooks.iter_mut() {
        if let Value::Array(groups) = groups
            && let Some(slot) = remove_owned(groups)
        {
            slots.insert(event.clone(), slot);
        }
    }
    for (event, group) in wanted {
        match hooks.get_mut(event) {
            Some(Value::Array(groups)) => {
                let at = slots.get(event).map_or(groups.len(), |&slot| slot.min(groups.len()));
                groups.insert(at, group);
            }
            Some(Value::Null) | None => {
                hooks.insert(event.to_string(), Value::Array(vec![group]));
            }
            Some(_) => {}
        }
    }
    for event in slots.keys() {
        if hooks.get(event).and_then(Value::as_array).is_some_and(Vec::is_empty) {
            hooks.shift_remove(event);
        }
    }
}

/// Remove the owned handlers of one event's groups, dropping groups they leave empty; answer
/// the index (in the result) of the first group that held one.
fn remove_owned(groups: &mut Vec<Value>) -> Option<usize> {
    let mut first = None;
    let mut kept = Vec::with_capacity(groups.len());
    for mut group in groups.drain(..) {
        if let Some(Value::Array(handlers)) = group.get_mut("hooks") {
            let before = handlers.len();
            handlers.retain(|h| !is_owned(h));
            if handlers.len() < before {
                first.get_or_insert(kept.len());
                if handlers.is_empty() {
                    continue;
                }
            }
        }
        kept.push(group);
    }
    *groups = kept;
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::events::CLAUDE_CODE_HOOK_EVENTS;

    fn event(name: &str) -> &'static HookEvent {
        CLAUDE_CODE_HOOK_EVENTS.iter().find(|e| e.name == name).unwrap()
    }

    fn wanted(names: &[&'static str], handler: &Value) -> Vec<(&'static str, Value)> {
        names.iter().map(|&n| (n, group(event(n), handler.clone()))).collect()
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_bridge_is_recognised_in_any_spelling() {
        for command in [
            "claudebench hook",
            "claudebench hook --on-error deny",
            "/usr/local/bin/claudebench hook",
            "CLAUDEBENCH_URL=http://x:1 claudebench hook",
            "'/opt/my tools/claudebench' hook --url 'http://a b'",
            "claudebench.exe hook",
        ] {
            assert!(is_owned(&json!({"type": "command", "command": command})), "{command}");
        }
        assert!(is_owned(&json!({"type": "command", "command": "/bin/claudebench", "args": ["hook", "--approve"]})));
        assert!(is_owned(&command_handler("http://10.0.0.1:4000")));
        for command in [
            "claudebench mcp",
            "echo claudebench hook",
            "claudebench-hook",
            "my-claudebench hook",
            "claudebench",
            "claudebench 'hook",
        ] {
            assert!(!is_owned(&json!({"type": "command", "command": command})), "{command}");
        }
        assert!(!is_owned(&json!({"type": "command", "command": "claudebench", "args": ["serve"]})));
        assert!(!is_owned(&json!({"type": "prompt", "prompt": "claudebench hook"})));
        assert!(!is_owned(&json!("claudebench hook")));
    }

    #[test]
    fn http_hooks_to_the_hook_endpoint_are_ours_wherever_the_server_is() {
        assert!(is_owned(&http_handler("http://127.0.0.1:3000", true)));
        assert!(is_owned(&json!({"type": "http", "url": "https://cb.example/base/hooks/claude-code/"})));
        assert!(!is_owned(&json!({"type": "http", "url": "http://127.0.0.1:3000/hooks/other"})));
        assert!(!is_owned(&json!({"type": "command", "url": "http://x/hooks/claude-code"})));
    }

    #[test]
    fn a_url_other_than_the_default_reaches_the_bridge_as_a_quoted_flag() {
        assert_eq!(command_handler(crate::bridge::DEFAULT_URL)["command"], "claudebench hook");
        assert_eq!(command_handler("http://h:4000")["command"], "claudebench hook --url http://h:4000");
        let odd = command_handler("http://h:4000/a'b&c");
        let words = shlex::split(odd["command"].as_str().unwrap()).unwrap();
        assert_eq!(words, ["claudebench", "hook", "--url", "http://h:4000/a'b&c"]);
    }

    #[test]
    fn the_token_is_taken_from_the_environment_never_written() {
        let h = http_handler("http://h", true);
        assert_eq!(h["headers"]["Authorization"], "Bearer $CLAUDEBENCH_TOKEN");
        assert_eq!(h["allowedEnvVars"], json!(["CLAUDEBENCH_TOKEN"]));
        assert!(http_handler("http://h", false).get("headers").is_none());
    }

    #[test]
    fn merging_keeps_everything_else_in_place() {
        let mine = json!({"type": "command", "command": "./lint.sh"});
        let mut settings = obj(json!({
            "permissions": {"allow": ["Bash(ls)"]},
            "hooks": {
                "Stop": [{"hooks": [mine.clone()]}],
                "PreToolUse": [{"matcher": "Bash", "hooks": [mine.clone()]}],
            },
            "env": {"A": "1"},
        }));
        let handler = http_handler("http://h", false);
        merge(&mut settings, wanted(&["PreToolUse", "SessionEnd"], &handler));
        assert_eq!(settings.keys().collect::<Vec<_>>(), ["permissions", "hooks", "env"]);
        assert_eq!(
            settings["hooks"],
            json!({
                "Stop": [{"hooks": [mine.clone()]}],
                "PreToolUse": [{"matcher": "Bash", "hooks": [mine]}, {"matcher": "*", "hooks": [handler]}],
                "SessionEnd": [{"hooks": [handler]}],
            })
        );
        let keys: Vec<_> = settings["hooks"].as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["Stop", "PreToolUse", "SessionEnd"]);
    }

    #[test]
    fn merging_twice_or_switching_transports_leaves_one_entry_per_event_in_its_place() {
        let theirs = json!({"matcher": "Bash", "hooks": [{"type": "command", "command": "./a.sh"}]});
        let later = json!({"matcher": "Edit", "hooks": [{"type": "command", "command": "./b.sh"}]});
        let mut settings = obj(json!({"hooks": {"PreToolUse": [theirs.clone()]}}));
        let http = http_handler("http://h", false);
        merge(&mut settings, wanted(&["PreToolUse"], &http));
        settings["hooks"]["PreToolUse"].as_array_mut().unwrap().push(later.clone());
        let once = settings.clone();
        merge(&mut settings, wanted(&["PreToolUse"], &http));
        assert_eq!(settings, once);
        let command = command_handler("http://h");
        merge(&mut settings, wanted(&["PreToolUse"], &command));
        assert_eq!(
            settings["hooks"]["PreToolUse"],
            json!([theirs, {"matcher": "*", "hooks": [command]}, later]),
            "the swapped entry keeps its place, nothing is duplicated"
        );
    }

    #[test]
    fn owned_handlers_are_taken_out_of_shared_groups_and_duplicates_collapse() {
        let theirs = json!({"type": "command", "command": "./a.sh"});
        let old = json!({"type": "command", "command": "claudebench hook", "timeout": 10});
        let mut settings = obj(json!({"hooks": {
            "Stop": [
                {"hooks": [old.clone()]},
                {"hooks": [theirs.clone(), old.clone()]},
                {"hooks": [old.clone()]},
            ],
            "WorktreeCreate": [{"hooks": [old.clone()]}],
            "MessageDisplay": [],
        }}));
        let http = http_handler("http://h", false);
        merge(&mut settings, wanted(&["Stop"], &http));
        assert_eq!(
            settings["hooks"],
            json!({
                "Stop": [{"hooks": [http]}, {"hooks": [theirs]}],
                "MessageDisplay": [],
            }),
            "an event only we used goes; an empty one we never touched stays"
        );
    }

    #[test]
    fn absent_and_null_hooks_are_created_in_place() {
        let mut settings = obj(json!({"a": 1, "hooks": null, "b": 2}));
        let http = http_handler("http://h", false);
        merge(&mut settings, wanted(&["Stop"], &http));
        assert_eq!(settings.keys().collect::<Vec<_>>(), ["a", "hooks", "b"]);
        let mut settings = obj(json!({"hooks": {"Stop": null}}));
        merge(&mut settings, wanted(&["Stop"], &http));
        assert_eq!(settings["hooks"]["Stop"], json!([{"hooks": [http]}]));
        let mut settings = Map::new();
        merge(&mut settings, wanted(&["PostToolUse"], &http));
        assert_eq!(settings["hooks"]["PostToolUse"], json!([{"matcher": "*", "hooks": [http]}]));
    }
}
