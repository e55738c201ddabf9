//! The server's answer (or its absence) → Claude Code's hook output.
//!
//! Everything is answered with exit 0 and stdout JSON, Claude Code's structured path: a deny
//! carries its reason to Claude, an ask shows it to the user, a block carries it to the user. Hooks with nothing to say
//! print nothing. Errors that must not block are noted on stderr only (Claude Code shows
//! stderr of a successful hook in its transcript/debug view, not to the model).

use serde_json::{Map, Value, json};

use super::client::CallError;
use super::input::{HookCall, HookKind};
use super::{BridgeConfig, BridgeOutcome, DANGEROUS_TOOLS, OnError};

/// The server's "this hook is blocked" error (`forbidden`): honoured on every blocking hook.
const BLOCKED: i64 = -32003;

/// The server answered with a result.
pub(crate) fn on_result(call: &HookCall, result: &Value, config: &BridgeConfig) -> BridgeOutcome {
    match call.kind {
        HookKind::PreToolUse => pre_tool(call, result, config),
        HookKind::UserPromptSubmit => {
            let additions = result
                .get("modified")
                .and_then(Value::as_str)
                .map(|m| prompt_additions(call.prompt.as_deref().unwrap_or(""), m));
            additional_context(call.kind, additions)
        }
        HookKind::SessionStart => {
            additional_context(call.kind, result.get("additionalContext").and_then(Value::as_str).map(str::to_string))
        }
        _ => BridgeOutcome::silent(),
    }
}

/// The server gave no result.
pub(crate) fn on_failure(call: &HookCall, error: &CallError, config: &BridgeConfig) -> BridgeOutcome {
    if let CallError::Rpc { code: BLOCKED, message, .. } = error {
        return block(call.kind, message);
    }
    let tool = call.tool.as_deref().unwrap_or("");
    if call.kind == HookKind::PreToolUse && fails_closed(config.on_error, tool) {
        let reason = format!(
            "ClaudeBench could not check this {tool} call ({error}); tools that change the system are blocked until it can."
        );
        return deny(&reason);
    }
    BridgeOutcome {
        stderr: format!("claudebench hook {}: {error}; continuing", call.kind.name()),
        ..BridgeOutcome::silent()
    }
}

fn fails_closed(policy: OnError, tool: &str) -> bool {
    match policy {
        OnError::Allow => false,
        OnError::Deny => true,
        OnError::Auto => DANGEROUS_TOOLS.contains(&tool),
    }
}

fn pre_tool(call: &HookCall, result: &Value, config: &BridgeConfig) -> BridgeOutcome {
    // `decision` (allow | ask | deny); servers before it answered only `allow`.
    let decision = match (result.get("decision").and_then(Value::as_str), result.get("allow").and_then(Value::as_bool))
    {
        (Some(d @ ("allow" | "ask" | "deny")), _) => d,
        (None, Some(true)) => "allow",
        (None, Some(false)) => "deny",
        _ => {
            // A result without a decision is no decision: treat it like no answer.
            return on_failure(call, &CallError::Unreachable("the answer has no decision".into()), config);
        }
    };
    let reason = result.get("reason").and_then(Value::as_str).filter(|r| !r.is_empty());
    match decision {
        "deny" => return deny(reason.unwrap_or("Blocked by ClaudeBench")),
        "ask" => return ask(reason.unwrap_or("ClaudeBench cannot check this call"), &warnings_of(result)),
        _ => {}
    }
    let warnings = warnings_of(result);
    let notes: Vec<&str> = reason.into_iter().chain(warnings.iter().copied()).collect();
    let mut specific = Map::new();
    specific.insert("hookEventName".into(), json!("PreToolUse"));
    match result.get("modified").filter(|m| !m.is_null()) {
        Some(modified) => {
            // A rewritten call is shown to the user for confirmation unless the bridge may approve.
            let decision = if config.approve_allowed { "allow" } else { "ask" };
            specific.insert("permissionDecision".into(), json!(decision));
            specific.insert("updatedInput".into(), modified.clone());
            if !notes.is_empty() {
                specific.insert("permissionDecisionReason".into(), json!(notes.join("; ")));
            }
        }
        None if config.approve_allowed => {
            specific.insert("permissionDecision".into(), json!("allow"));
            if !notes.is_empty() {
                specific.insert("permissionDecisionReason".into(), json!(notes.join("; ")));
            }
        }
        // Nothing to decide or say: defer to Claude Code's own permission rules.
        None if notes.is_empty() => return BridgeOutcome::silent(),
        None => {
            specific.insert("additionalContext".into(), json!(notes.join("\n")));
        }
    }
    let mut output = json!({ "hookSpecificOutput": specific });
    if !warnings.is_empty() {
        // Warnings are for the user too, not only for Claude.
        output["systemMessage"] = json!(warnings.join("\n"));
    }
    BridgeOutcome { stdout: output.to_string(), ..BridgeOutcome::silent() }
}

fn warnings_of(result: &Value) -> Vec<&str> {
    result
        .get("warnings")
        .and_then(Value::as_array)
        .map(|w| w.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// PreToolUse ask: the user confirms the call, shown the reason; never approved by the bridge
/// (not even with `--approve`), since the server could not vouch for it.
fn ask(reason: &str, warnings: &[&str]) -> BridgeOutcome {
    let mut output = json!({
        "hookSpecificOutput": { "hookEventName": "PreToolUse", "permissionDecision": "ask", "permissionDecisionReason": reason }
    });
    if !warnings.is_empty() {
        output["systemMessage"] = json!(warnings.join("\n"));
    }
    BridgeOutcome { stdout: output.to_string(), ..BridgeOutcome::silent() }
}

/// PreToolUse deny: the tool does not run and Claude reads the reason.
fn deny(reason: &str) -> BridgeOutcome {
    let output = json!({
        "hookSpecificOutput": { "hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": reason }
    });
    BridgeOutcome { stdout: output.to_string(), stderr: reason.to_string(), exit_code: 0 }
}

/// A server-side block: PreToolUse denies; UserPromptSubmit and PostToolUse use
/// `decision: block`; the other hooks cannot be blocked and stay silent.
fn block(kind: HookKind, reason: &str) -> BridgeOutcome {
    match kind {
        HookKind::PreToolUse => deny(reason),
        HookKind::UserPromptSubmit | HookKind::PostToolUse => BridgeOutcome {
            stdout: json!({ "decision": "block", "reason": reason }).to_string(),
            stderr: reason.to_string(),
            exit_code: 0,
        },
        _ => BridgeOutcome {
            stderr: format!("claudebench hook {}: blocked ({reason}), which this hook cannot do; ignored", kind.name()),
            ..BridgeOutcome::silent()
        },
    }
}

/// `hookSpecificOutput.additionalContext` when there is something to add.
fn additional_context(kind: HookKind, context: Option<String>) -> BridgeOutcome {
    match context.filter(|c| !c.trim().is_empty()) {
        Some(context) => {
            let output =
                json!({ "hookSpecificOutput": { "hookEventName": kind.name(), "additionalContext": context } });
            BridgeOutcome { stdout: output.to_string(), ..BridgeOutcome::silent() }
        }
        None => BridgeOutcome::silent(),
    }
}

/// What the server appended to the prompt (its `modified` is the prompt plus additions);
/// Claude already has the prompt, so only the additions are handed over.
fn prompt_additions(prompt: &str, modified: &str) -> String {
    modified.strip_prefix(prompt).unwrap_or(modified).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auto_policy_blocks_only_tools_that_change_the_system() {
        for tool in DANGEROUS_TOOLS {
            assert!(fails_closed(OnError::Auto, tool));
        }
        assert!(!fails_closed(OnError::Auto, "Read"));
        assert!(fails_closed(OnError::Deny, "Read"));
        assert!(!fails_closed(OnError::Allow, "Bash"));
    }

    #[test]
    fn only_the_servers_additions_to_a_prompt_become_context() {
        assert_eq!(prompt_additions("Fix it", "Fix it\n\n⚠️ Sensitive"), "⚠️ Sensitive");
        assert_eq!(prompt_additions("Fix it", "Rewritten"), "Rewritten");
    }
}
