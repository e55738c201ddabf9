//! The server's answer (or its absence) → what `claudebench hook` prints.
//!
//! The server answers in Claude Code's hook output format already (the spec's hook table), so a
//! 2xx answer is printed as it is (nothing for `{}`), with exit 0. Without an answer, PreToolUse
//! fails closed for tools that change the system (per `--on-error`); every other hook carries on,
//! with the error noted on stderr only (Claude Code shows stderr of a successful hook in its
//! transcript/debug view, not to the model).

use serde_json::Value;

use super::client::CallError;
use super::input::HookCall;
use super::{BridgeConfig, BridgeOutcome, DANGEROUS_TOOLS, OnError};

/// The server answered.
pub(crate) fn on_answer(answer: &Value) -> BridgeOutcome {
    let nothing = answer.as_object().is_some_and(|o| o.is_empty());
    if nothing {
        return BridgeOutcome::silent();
    }
    // A deny's reason also goes to stderr, where a person reading the transcript sees it.
    let stderr = match answer["hookSpecificOutput"]["permissionDecision"].as_str() {
        Some("deny") => answer["hookSpecificOutput"]["permissionDecisionReason"].as_str().unwrap_or_default(),
        _ if answer["decision"] == "block" => answer["reason"].as_str().unwrap_or_default(),
        _ => "",
    };
    BridgeOutcome { stdout: answer.to_string(), stderr: stderr.to_string(), exit_code: 0 }
}

/// The server gave no answer.
pub(crate) fn on_failure(call: &HookCall, error: &CallError, config: &BridgeConfig) -> BridgeOutcome {
    let tool = call.tool.as_deref().unwrap_or("");
    if call.hook == "PreToolUse" && fails_closed(config.on_error, tool) {
        let reason = format!(
            "ClaudeBench could not check this {tool} call ({error}); tools that change the system are blocked until it can."
        );
        let answer = claudebench_runtime::claude_code::deny(&reason);
        return BridgeOutcome { stdout: answer.to_string(), stderr: reason, exit_code: 0 };
    }
    BridgeOutcome { stderr: format!("claudebench hook {}: {error}; continuing", call.hook), ..BridgeOutcome::silent() }
}

fn fails_closed(policy: OnError, tool: &str) -> bool {
    match policy {
        OnError::Allow => false,
        OnError::Deny => true,
        OnError::Auto => DANGEROUS_TOOLS.contains(&tool),
    }
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
}
