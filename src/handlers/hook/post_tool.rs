//! `hook.post_tool`: records a tool's outcome — per-tool counters, a per-session execution log
//! (result cut to 1000 characters, kept 24 h), and a sliding window of the tool's errors in the
//! session that raises `alert.tool_errors` when it crosses the threshold.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookPostTool;
use claudebench_generated::types::{HookPostToolInput, HookPostToolOutput};
use serde_json::{Value, json};

use super::common::{
    HISTORY_CAP, HISTORY_TTL_SECS, Session, key_part, now, redis_error, touch_session, truncate_chars,
};
use crate::handlers::{Ctx, Handlers};

/// Longest result text kept in the execution log.
const LOGGED_RESULT_CHARS: usize = 1000;
/// Errors of one tool within [`ERROR_WINDOW_MS`] above this many raise an alert.
const ERROR_THRESHOLD: u64 = 5;
const ERROR_WINDOW_MS: i64 = 5 * 60 * 1000;

impl HookPostTool<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookPostToolInput) -> Result<HookPostToolOutput, Error> {
        let session = Session::resolve(input.session_id.as_deref(), ctx);
        let keys = &ctx.domain.runtime.keys;
        let tool_key = key_part(&input.tool);
        let failed = is_error(&input.result);
        let (now_ms, iso) = now();

        let result_text = match &input.result {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let entry = json!({
            "tool": input.tool,
            "toolUseId": input.tool_use_id,
            "error": failed,
            "durationMs": input.duration_ms,
            "result": truncate_chars(&result_text, LOGGED_RESULT_CHARS),
            "at": iso,
        });

        let stats = keys.hook_tool_stats(&tool_key);
        let log = keys.hook_tool_log(&session.key);
        let errors = keys.hook_tool_errors(&tool_key, &session.key);
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("HINCRBY").arg(&stats).arg("executions").arg(1).ignore();
        pipe.cmd("HSET").arg(&stats).arg("lastExecutedAt").arg(&iso).ignore();
        if let Some(ms) = input.duration_ms {
            pipe.cmd("HINCRBY").arg(&stats).arg("totalDurationMs").arg(ms).ignore();
        }
        pipe.cmd("LPUSH").arg(&log).arg(entry.to_string()).ignore();
        pipe.cmd("LTRIM").arg(&log).arg(0).arg(HISTORY_CAP - 1).ignore();
        pipe.cmd("EXPIRE").arg(&log).arg(HISTORY_TTL_SECS).ignore();
        if failed {
            pipe.cmd("HINCRBY").arg(&stats).arg("errors").arg(1).ignore();
            // A sliding window, not a counter that resets every 5 minutes: "more than 5 errors
            // within 5 minutes" must hold for any 5 minutes, not only for aligned ones. The
            // member is unique per error (time, server instance, a local sequence).
            let member = format!("{now_ms}-{}-{}", ctx.domain.runtime.instance_id, unique_suffix());
            pipe.cmd("ZADD").arg(&errors).arg(now_ms).arg(member).ignore();
            pipe.cmd("ZREMRANGEBYSCORE")
                .arg(&errors)
                .arg("-inf")
                .arg(format!("({}", now_ms - ERROR_WINDOW_MS))
                .ignore();
            pipe.cmd("ZCARD").arg(&errors);
            pipe.cmd("PEXPIRE").arg(&errors).arg(ERROR_WINDOW_MS).ignore();
        }
        let mut con = ctx.redis();
        let replies: Vec<u64> = pipe.query_async(&mut con).await.map_err(redis_error)?;
        let recent_errors = replies.first().copied().unwrap_or(0);

        // Exactly when the window crosses the threshold: one alert per burst rather than one for
        // every further failure of a tool that is already known to be failing.
        if failed && recent_errors == ERROR_THRESHOLD + 1 {
            let alert = json!({
                "tool": input.tool,
                "sessionId": session.id,
                "errors": recent_errors,
                "windowMs": ERROR_WINDOW_MS,
                "threshold": ERROR_THRESHOLD,
                "timestamp": iso,
            });
            if let Err(e) = ctx.domain.runtime.bus.publish("alert.tool_errors", &alert).await {
                tracing::warn!(tool = %input.tool, error = %e.message, "tool error alert not published");
            }
        }

        let executed = json!({
            "tool": input.tool,
            "sessionId": session.id,
            "toolUseId": input.tool_use_id,
            "error": failed,
            "durationMs": input.duration_ms,
            "timestamp": iso,
        });
        ctx.domain.runtime.bus.publish("hook.post_tool.executed", &executed).await?;
        touch_session(ctx, &session).await;
        Ok(HookPostToolOutput { processed: Value::Bool(true) })
    }
}

/// Whether a tool result reports a failure: an object with a truthy `error` or `failed`, or
/// `is_error: true` (how Claude Code marks failed tool results).
fn is_error(result: &Value) -> bool {
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
}
