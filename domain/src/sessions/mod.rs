//! Claude Code sessions as the hooks report them: the session record (stops, notifications),
//! the todo list and the tasks mirroring it, the snapshot taken before a compaction, tool
//! decisions and outcomes (statistics, execution log, error window and its alert) and the prompt
//! history.
//!
//! [`Sessions`] is the one service the hook handlers use. It owns the Redis handle, the key
//! builder and the bus it needs, so a handler reads its input, calls one method and maps the
//! answer to its output. Every key lives in the coordination slot (see
//! [`claudebench_runtime::keys`]), so the writes of one hook go in one `MULTI`, and everything
//! is keyed by session: concurrent sessions on one server never share a list or a mapping.
//!
//! - [`session`]: which session a hook belongs to, its key component and its instance id;
//! - [`lifecycle`]: start (register, recall open work), stop, notification, end;
//! - [`agents`]: the subagents a session runs and its idle teammates, in its instance record;
//! - [`todos`]: the todo list mirrored into the task queue;
//! - [`claude_tasks`]: Claude Code's own tasks (TaskCreated, TaskCompleted) mirrored likewise;
//! - [`snapshot`]: what a session had open before Claude Code compacted it;
//! - [`tools`]: the audit of guard decisions and the record of tool outcomes;
//! - [`decisions`]: the audit of guard decisions read back, newest first;
//! - [`prompts`]: prompt inspection and history.

pub mod agents;
pub mod claude_tasks;
pub mod decisions;
pub mod lifecycle;
pub mod prompts;
pub mod session;
pub mod snapshot;
pub mod todos;
pub mod tools;

use claudebench_contract::error::Error;
use claudebench_runtime::bus::EventBus;
use claudebench_runtime::keys::Keys;
use claudebench_runtime::redis::{Conn, RedisHandle, redis_error};

use crate::coordination::tasks::{ListOrder, Task, TaskQuery, TaskStatus, Tasks};
use crate::coordination::{Coordination, instances::Instances, iso_millis, now_ms};

pub use agents::{IdleTeammate, RunningSubagent, parse_agents};
pub use claude_tasks::MirroredTask;
pub use decisions::{DecisionQuery, Decisions};
pub use lifecycle::{Notification, OpenWork, SessionEnded, SessionStarted, Stop};
pub use prompts::PromptReview;
pub use session::{DEFAULT_SESSION, SESSION_ROLE, Session, instance_id, key_part};
pub use snapshot::Snapshot;
pub use todos::{StoredTodo, TodoChanges};
pub use tools::{ToolCall, ToolOutcome, ToolOutcomeRecorded};

/// Hook data that is history rather than state (execution log, prompts) lives this long.
pub const HISTORY_TTL_SECS: u64 = 24 * 3600;
/// Per-session state (todos, mapping, snapshot, session record) lives this long after its last
/// change: sessions that never send SessionEnd (crashes, killed terminals) must not leave state
/// behind forever, while a session resumed days later still finds its todos.
pub const SESSION_STATE_TTL_SECS: u64 = 7 * 24 * 3600;
/// Most entries kept in one capped history list.
pub const HISTORY_CAP: isize = 1000;
/// Most in-progress tasks listed for one session.
pub const MAX_LISTED_TASKS: usize = 100;

/// The Claude Code sessions of one deployment, over the shared Redis.
#[derive(Debug, Clone)]
pub struct Sessions {
    redis: RedisHandle,
    keys: Keys,
    bus: EventBus,
    tasks: Tasks,
    instances: Instances,
    /// This server instance's id: part of every error-window member, so errors recorded by two
    /// servers in the same millisecond stay two entries.
    server_instance: String,
    /// Approximate cap (`MAXLEN ~`) of the audit stream, like every other stream.
    stream_maxlen: u64,
}

impl Sessions {
    /// Sessions stored through `bus`'s Redis and keys, whose todos become tasks of `coord`.
    pub fn new(bus: &EventBus, coord: &Coordination, server_instance: &str, stream_maxlen: u64) -> Self {
        Sessions {
            redis: bus.redis().clone(),
            keys: bus.keys().clone(),
            bus: bus.clone(),
            tasks: coord.tasks.clone(),
            instances: coord.instances.clone(),
            server_instance: server_instance.to_string(),
            stream_maxlen: stream_maxlen.max(1),
        }
    }

    fn conn(&self) -> Conn {
        self.redis.conn()
    }

    /// Refresh the liveness of the session's instance, if it is registered. Claude Code sends no
    /// heartbeats of its own; without this a session registered by `hook.session_start` would be
    /// declared failed after the failure timeout and its claimed tasks taken away, although it is
    /// clearly active. Best effort: an unregistered session (no SessionStart hook configured) or a
    /// Redis hiccup must not fail the hook that is being recorded.
    pub async fn touch(&self, session: &Session) {
        if !session.explicit {
            return;
        }
        if let Err(e) = self.instances.heartbeat(&mut self.conn(), &session.instance_id()).await {
            tracing::debug!(session = %session.id, error = %e.message, "session heartbeat failed");
        }
    }

    /// The tasks the session's instance has in progress (oldest first, at most
    /// [`MAX_LISTED_TASKS`]) and how many there are in total.
    pub async fn in_progress_tasks(&self, session: &Session) -> Result<(Vec<Task>, u64), Error> {
        let query = TaskQuery {
            status: Some(TaskStatus::InProgress),
            assigned_to: Some(session.instance_id()),
            offset: 0,
            limit: MAX_LISTED_TASKS,
            order: ListOrder::Oldest,
            unassigned_only: false,
        };
        let page = self.tasks.list(&mut self.conn(), &query).await?;
        Ok((page.tasks, page.total))
    }

    /// The string stored at `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<String>, Error> {
        redis::cmd("GET").arg(key).query_async(&mut self.conn()).await.map_err(redis_error)
    }

    /// Run `pipe` (built by the caller as one `MULTI`) and read its replies.
    async fn exec<T: redis::FromRedisValue>(&self, pipe: &redis::Pipeline) -> Result<T, Error> {
        pipe.query_async(&mut self.conn()).await.map_err(redis_error)
    }

    /// Append `entries` to the capped, expiring history list `key` (newest first): a session
    /// rewriting a 1000-item list, or running tools all day, must not grow it forever.
    fn push_history(pipe: &mut redis::Pipeline, key: &str, entries: impl redis::ToRedisArgs, ttl_secs: u64) {
        pipe.cmd("LPUSH").arg(key).arg(entries).ignore();
        pipe.cmd("LTRIM").arg(key).arg(0).arg(HISTORY_CAP - 1).ignore();
        pipe.cmd("EXPIRE").arg(key).arg(ttl_secs).ignore();
    }
}

/// The current time as epoch milliseconds and as the wire's RFC 3339 string.
fn now() -> (i64, String) {
    let ms = now_ms();
    (ms, iso_millis(ms))
}

/// Cut `text` to at most `max` characters, marking the cut with `…`.
fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate_chars("abcdef", 4), "abc…");
        assert_eq!(truncate_chars("ab", 4), "ab");
        assert_eq!(truncate_chars("éééééé", 3), "éé…");
    }
}
