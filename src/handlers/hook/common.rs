//! What the hook handlers share: session identity, the session's instance, Redis helpers.

use claudebench_domain::coordination::tasks::{Task, TaskQuery, TaskStatus};
use claudebench_generated::error::Error;
use redis::aio::ConnectionLike;

use crate::handlers::Ctx;

pub use claudebench_runtime::redis::redis_error;

/// Hook data that is history rather than state (execution log, prompts) lives this long.
pub const HISTORY_TTL_SECS: u64 = 24 * 3600;
/// Per-session todo state lives this long after its last change: sessions that never send
/// SessionEnd (crashes, killed terminals) must not leave state behind forever, while a session
/// resumed days later still finds its todos.
pub const SESSION_STATE_TTL_SECS: u64 = 7 * 24 * 3600;
/// Most entries kept in one capped history list.
pub const HISTORY_CAP: isize = 1000;
/// The session used by callers that send none (the spec's shared `default` session).
pub const DEFAULT_SESSION: &str = "default";
/// Role of the instances that represent Claude Code sessions.
pub const SESSION_ROLE: &str = "claude-code";

/// The Claude Code session a hook belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The session id as sent (or `default`).
    pub id: String,
    /// The id as a key component (see [`key_part`]).
    pub key: String,
    /// Whether the caller named the session (the `default` session has no instance).
    pub explicit: bool,
}

impl Session {
    /// The session of a hook: the input's `sessionId` (the bridge copies Claude Code's
    /// `session_id` there), else the session the transport knows, else `None`.
    pub fn named(input: Option<&str>, ctx: &Ctx) -> Option<Session> {
        input.or_else(|| ctx.session_id()).filter(|s| !s.is_empty()).map(Session::explicit)
    }

    /// A session the event is about (`hook.session_start` / `hook.session_end` require the id).
    pub fn explicit(id: &str) -> Session {
        Session { id: id.to_string(), key: key_part(id), explicit: true }
    }

    /// Like [`Session::named`], falling back to the shared `default` session.
    pub fn resolve(input: Option<&str>, ctx: &Ctx) -> Session {
        Self::named(input, ctx).unwrap_or_else(|| Session {
            id: DEFAULT_SESSION.to_string(),
            key: DEFAULT_SESSION.to_string(),
            explicit: false,
        })
    }

    /// The instance registered for this session.
    pub fn instance_id(&self) -> String {
        instance_id(&self.id)
    }
}

/// `claude-code-<first 8 characters of the session id>` (characters, not bytes: a session id is
/// any string and must not be cut inside a UTF-8 sequence).
pub fn instance_id(session_id: &str) -> String {
    format!("claude-code-{}", session_id.chars().take(8).collect::<String>())
}

/// A caller-supplied string made safe as one component of a `:`-separated key: `%` and `:` are
/// percent-encoded, so `a:tasks` can never name the key of session `a`'s task mapping. The
/// encoding is injective, so distinct ids keep distinct keys.
pub fn key_part(raw: &str) -> String {
    if !raw.contains([':', '%']) {
        return raw.to_string();
    }
    raw.replace('%', "%25").replace(':', "%3A")
}

/// Cut `text` to at most `max` characters, marking the cut with `…`.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The current time as epoch milliseconds and as the wire's RFC 3339 string.
pub fn now() -> (i64, String) {
    let ms = claudebench_domain::coordination::now_ms();
    (ms, claudebench_domain::coordination::iso_millis(ms))
}

/// Refresh the liveness of the session's instance, if it is registered. Claude Code sends no
/// heartbeats of its own; without this a session registered by `hook.session_start` would be
/// declared failed after the failure timeout and its claimed tasks taken away, although it is
/// clearly active. Best effort: an unregistered session (no SessionStart hook configured) or a
/// Redis hiccup must not fail the hook that is being recorded.
pub async fn touch_session(ctx: &Ctx, session: &Session) {
    if !session.explicit {
        return;
    }
    let mut con = ctx.redis();
    if let Err(e) = ctx.coord().instances.heartbeat(&mut con, &session.instance_id()).await {
        tracing::debug!(session = %session.id, error = %e.message, "session heartbeat failed");
    }
}

/// Most in-progress tasks listed for one session.
pub const MAX_LISTED_TASKS: usize = 100;

/// Tasks the instance currently has in progress (oldest first, at most [`MAX_LISTED_TASKS`]),
/// and how many there are in total.
pub async fn in_progress_tasks<C: ConnectionLike + Send>(
    ctx: &Ctx,
    con: &mut C,
    instance: &str,
) -> Result<(Vec<Task>, u64), Error> {
    let query = TaskQuery {
        status: Some(TaskStatus::InProgress),
        assigned_to: Some(instance.to_string()),
        offset: 0,
        limit: MAX_LISTED_TASKS,
        oldest_first: true,
        unassigned_only: false,
    };
    let page = ctx.coord().tasks.list(con, &query).await?;
    Ok((page.tasks, page.total))
}

/// Saturating `u64`/`usize` → `i64` for wire counters.
pub fn count(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_ids_take_eight_characters_not_bytes() {
        assert_eq!(instance_id("3f2a9c1b-7d4e-4a8f"), "claude-code-3f2a9c1b");
        assert_eq!(instance_id("abc"), "claude-code-abc");
        assert_eq!(instance_id("ééééééééé"), "claude-code-éééééééé");
    }

    #[test]
    fn key_parts_cannot_alias_other_keys() {
        assert_eq!(key_part("3f2a9c1b"), "3f2a9c1b");
        assert_ne!(key_part("a:tasks"), "a:tasks");
        assert_ne!(key_part("a%3Atasks"), key_part("a:tasks"));
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate_chars("abcdef", 4), "abc…");
        assert_eq!(truncate_chars("ab", 4), "ab");
        assert_eq!(truncate_chars("éééééé", 3), "éé…");
    }
}
