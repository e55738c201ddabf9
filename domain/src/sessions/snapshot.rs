//! What a session had open before Claude Code compacted its conversation: the todo list and the
//! tasks in progress, kept for `hook.session_start` (`source: compact`) to recall afterwards,
//! even when the live state is gone by then.

use claudebench_contract::error::Error;
use claudebench_runtime::redis::redis_error;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{SESSION_STATE_TTL_SECS, Session, Sessions, StoredTodo, now};

/// The pre-compaction snapshot of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// `manual` (/compact) or `auto` (the context window was full).
    pub trigger: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_instructions: Option<String>,
    pub todos: Vec<StoredTodo>,
    /// `{id, text}` of the tasks in progress when the snapshot was taken.
    pub in_progress_tasks: Vec<Value>,
    pub taken_at: String,
}

impl Snapshot {
    /// The ids of the tasks that were in progress.
    pub fn task_ids(&self) -> Vec<String> {
        self.in_progress_tasks.iter().filter_map(|t| t.get("id").and_then(Value::as_str)).map(str::to_string).collect()
    }
}

impl Sessions {
    /// Snapshot the session's todo list and in-progress tasks before a compaction (`trigger`:
    /// `manual` or `auto`; empty instructions are not kept), replacing any earlier snapshot.
    pub async fn save_snapshot(
        &self,
        session: &Session,
        trigger: &str,
        custom_instructions: Option<String>,
    ) -> Result<Snapshot, Error> {
        let todos = self.todos(session).await?;
        // The shared `default` session has no instance, hence no tasks of its own.
        let tasks = if session.explicit { self.in_progress_tasks(session).await?.0 } else { Vec::new() };
        let snapshot = Snapshot {
            trigger: trigger.to_string(),
            custom_instructions: custom_instructions.filter(|s| !s.is_empty()),
            todos,
            in_progress_tasks: tasks.into_iter().map(|t| json!({"id": t.id, "text": t.text})).collect(),
            taken_at: now().1,
        };
        let text =
            serde_json::to_string(&snapshot).map_err(|e| Error::internal(format!("snapshot not serialisable: {e}")))?;
        redis::cmd("SET")
            .arg(self.keys.todo_snapshot(&session.key))
            .arg(text)
            .arg("EX")
            .arg(SESSION_STATE_TTL_SECS)
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(redis_error)?;
        Ok(snapshot)
    }

    /// The session's snapshot, if one was taken (an unreadable one counts as none).
    pub async fn snapshot(&self, session: &Session) -> Result<Option<Snapshot>, Error> {
        let raw = self.get(&self.keys.todo_snapshot(&session.key)).await?;
        Ok(raw.and_then(|t| serde_json::from_str(&t).ok()))
    }
}
