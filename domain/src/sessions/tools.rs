//! Claude Code's tool calls: the audit of every guard decision (`hook.pre_tool`) and the record
//! of every outcome (`hook.post_tool`) — per-tool counters, the session's execution log (result
//! cut to 1000 characters, kept 24 h), and a sliding window of the tool's errors in the session
//! that raises `alert.tool_errors` when it crosses the threshold.

use claudebench_contract::error::Error;
use claudebench_runtime::redis::redis_error;
use serde_json::{Value, json};

use super::{HISTORY_TTL_SECS, Session, Sessions, key_part, now, truncate_chars};
use crate::policy::{Decision, HookDecision};

/// Longest result text kept in the execution log.
const LOGGED_RESULT_CHARS: usize = 1000;
/// Errors of one tool in one session within [`ERROR_WINDOW_MS`] above this many raise an alert.
pub const ERROR_THRESHOLD: u64 = 5;
/// The span of the error window.
pub const ERROR_WINDOW_MS: i64 = 5 * 60 * 1000;

/// A tool call as the guard saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolCall<'a> {
    pub tool: &'a str,
    /// Claude Code's id for the call.
    pub tool_use_id: Option<&'a str>,
}

/// What a tool call returned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToolOutcome<'a> {
    pub tool: &'a str,
    pub tool_use_id: Option<&'a str>,
    /// What the tool returned (any JSON value); see [`is_error`].
    pub result: &'a Value,
    /// The call failed with this text (PostToolUseFailure): an error whatever `result` says,
    /// logged in its place.
    pub error: Option<&'a str>,
    pub duration_ms: Option<i64>,
}

/// What [`Sessions::record_tool_outcome`] recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ToolOutcomeRecorded {
    /// The result reported a failure.
    pub failed: bool,
    /// Errors of the tool in the session within the window, this one included (0 for a
    /// success: the window is only read when it changes).
    pub recent_errors: u64,
    /// This error crossed the threshold and `alert.tool_errors` was published.
    pub alerted: bool,
}

impl Sessions {
    /// Append a guard decision to the audit stream (capped like every stream). The tool input
    /// is not recorded: commands and file contents can carry secrets, and the audit is about
    /// decisions. The audit trail must not decide whether Claude may run a tool: a failed write
    /// is logged, and the decision stands.
    pub async fn audit_decision(&self, session: &Session, call: ToolCall<'_>, d: &HookDecision) {
        let (_, ts) = now();
        let mut cmd = redis::cmd("XADD");
        cmd.arg(self.keys.audit())
            .arg("MAXLEN")
            .arg("~")
            .arg(self.stream_maxlen)
            .arg("*")
            .arg("hook")
            .arg("pre_tool")
            .arg("tool")
            .arg(call.tool)
            .arg("decision")
            .arg(audited_decision(d))
            .arg("rule")
            .arg(d.rule.as_deref().unwrap_or(""))
            .arg("session")
            .arg(&session.id)
            .arg("ts")
            .arg(ts);
        if let Some(reason) = &d.reason {
            cmd.arg("reason").arg(reason);
        }
        if !d.warnings.is_empty() {
            cmd.arg("warnings").arg(d.warnings.join("\n"));
        }
        if let Some(id) = call.tool_use_id {
            cmd.arg("toolUseId").arg(id);
        }
        if let Err(e) = cmd.query_async::<String>(&mut self.conn()).await.map_err(redis_error) {
            tracing::warn!(tool = %call.tool, error = %e.message, "hook decision not audited");
        }
    }

    /// Record a tool's outcome (PostToolUse) or failure (PostToolUseFailure, with `error`): count
    /// it, log it, add a failure to the error window, publish
    /// `hook.post_tool.executed` and refresh the session's instance.
    ///
    /// The error window is a sliding window, not a counter that resets every 5 minutes: "more
    /// than 5 errors within 5 minutes" must hold for any 5 minutes, not only for aligned ones.
    /// The alert goes out exactly when the window crosses the threshold: one alert per burst
    /// rather than one for every further failure of a tool that is already known to be failing.
    pub async fn record_tool_outcome(
        &self,
        session: &Session,
        outcome: ToolOutcome<'_>,
    ) -> Result<ToolOutcomeRecorded, Error> {
        let failed = outcome.error.is_some() || is_error(outcome.result);
        let (now_ms, iso) = now();
        let mut entry = json!({
            "tool": outcome.tool,
            "toolUseId": outcome.tool_use_id,
            "error": failed,
            "durationMs": outcome.duration_ms,
            "at": iso,
        });
        match outcome.error {
            // A failed call has no result; its error text is logged instead, cut the same way.
            Some(text) => entry["errorText"] = json!(truncate_chars(text, LOGGED_RESULT_CHARS)),
            None => {
                let result_text = match outcome.result {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                entry["result"] = json!(truncate_chars(&result_text, LOGGED_RESULT_CHARS));
            }
        }

        let tool_key = key_part(outcome.tool);
        let stats = self.keys.hook_tool_stats(&tool_key);
        let errors = self.keys.hook_tool_errors(&tool_key, &session.key);
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("HINCRBY").arg(&stats).arg("executions").arg(1).ignore();
        pipe.cmd("HSET").arg(&stats).arg("lastExecutedAt").arg(&iso).ignore();
        if let Some(ms) = outcome.duration_ms {
            pipe.cmd("HINCRBY").arg(&stats).arg("totalDurationMs").arg(ms).ignore();
        }
        Sessions::push_history(&mut pipe, &self.keys.hook_tool_log(&session.key), entry.to_string(), HISTORY_TTL_SECS);
        if failed {
            pipe.cmd("HINCRBY").arg(&stats).arg("errors").arg(1).ignore();
            // The member is unique per error (time, server instance, a local sequence).
            let member = format!("{now_ms}-{}-{}", self.server_instance, unique_suffix());
            pipe.cmd("ZADD").arg(&errors).arg(now_ms).arg(member).ignore();
            pipe.cmd("ZREMRANGEBYSCORE")
                .arg(&errors)
                .arg("-inf")
                .arg(format!("({}", now_ms - ERROR_WINDOW_MS))
                .ignore();
            pipe.cmd("ZCARD").arg(&errors);
            pipe.cmd("PEXPIRE").arg(&errors).arg(ERROR_WINDOW_MS).ignore();
        }
        let replies: Vec<u64> = self.exec(&pipe).await?;
        let recent_errors = replies.first().copied().unwrap_or(0);

        let alerted = failed && recent_errors == ERROR_THRESHOLD + 1;
        if alerted {
            let alert = json!({
                "tool": outcome.tool,
                "sessionId": session.id,
                "errors": recent_errors,
                "windowMs": ERROR_WINDOW_MS,
                "threshold": ERROR_THRESHOLD,
                "timestamp": iso,
            });
            if let Err(e) = self.bus.publish("alert.tool_errors", &alert).await {
                tracing::warn!(tool = %outcome.tool, error = %e.message, "tool error alert not published");
            }
        }

        let executed = json!({
            "tool": outcome.tool,
            "sessionId": session.id,
            "toolUseId": outcome.tool_use_id,
            "error": failed,
            "durationMs": outcome.duration_ms,
            "timestamp": iso,
        });
        self.bus.publish("hook.post_tool.executed", &executed).await?;
        self.touch(session).await;
        Ok(ToolOutcomeRecorded { failed, recent_errors, alerted })
    }
}

/// How a decision is named in the audit: `deny`, `ask`, `modify` (allowed with a rewritten
/// input), `warn` (allowed with warnings) or `allow`.
fn audited_decision(d: &HookDecision) -> &'static str {
    match (d.decision, d.modified.is_some(), d.warnings.is_empty()) {
        (Decision::Deny | Decision::Ask, _, _) => d.decision.as_str(),
        (Decision::Allow, true, _) => "modify",
        (Decision::Allow, false, false) => "warn",
        (Decision::Allow, false, true) => "allow",
    }
}

/// Whether a tool result reports a failure: an object with a truthy `error` or `failed`, or
/// `is_error: true` (how Claude Code marks failed tool results).
pub fn is_error(result: &Value) -> bool {
    let Value::Object(m) = result else {
        return false;
    };
    let truthy = |v: Option<&Value>| match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    };
    truthy(m.get("error")) || truthy(m.get("failed")) || m.get("is_error") == Some(&Value::Bool(true))
}

fn unique_suffix() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    nanos.wrapping_add(u128::from(SEQ.fetch_add(1, Ordering::Relaxed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_recognised_by_error_failed_or_is_error() {
        assert!(is_error(&json!({"error": "boom"})));
        assert!(is_error(&json!({"failed": true})));
        assert!(is_error(&json!({"is_error": true, "content": "x"})));
        assert!(!is_error(&json!({"error": null, "stdout": "ok"})));
        assert!(!is_error(&json!({"error": "", "failed": false})));
        assert!(!is_error(&json!("error")));
        assert!(!is_error(&Value::Null));
    }

    #[test]
    fn audited_decisions_name_rewrites_and_warnings() {
        let allow =
            HookDecision { decision: Decision::Allow, reason: None, rule: None, warnings: vec![], modified: None };
        assert_eq!(audited_decision(&allow), "allow");
        let warn = HookDecision { warnings: vec!["w".into()], ..allow.clone() };
        assert_eq!(audited_decision(&warn), "warn");
        let modify = HookDecision { modified: Some(json!({})), ..warn.clone() };
        assert_eq!(audited_decision(&modify), "modify");
        let deny = HookDecision { decision: Decision::Deny, ..modify };
        assert_eq!(audited_decision(&deny), "deny");
    }
}
