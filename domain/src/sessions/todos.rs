//! A session's todo list mirrored into the task queue: the last TodoWrite list, the mapping
//! from todo content to the task created for it, and the status-change history.
//!
//! Every open todo has one task (created at priority 75 when in progress, else 50, with
//! `metadata.source = "todo_write"` and the session id); completing the todo completes its task.
//! Todos are matched across lists by their content.

use std::collections::{HashMap, HashSet};

use claudebench_contract::error::{Error, ErrorCode};
use claudebench_generated::types::{TodoItem, TodoStatus};
use claudebench_runtime::redis::redis_error;
use redis::aio::ConnectionLike;
use serde::{Deserialize, Serialize};
use serde_json::{Map, json};

use super::{SESSION_STATE_TTL_SECS, Session, Sessions, now, truncate_chars};
use crate::coordination::tasks::{MAX_TEXT_CHARS, NewTask, Outcome, TaskLifecycle, TaskStatus, TaskUpdate};

/// One todo as stored (the wire form of a `TodoItem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredTodo {
    pub content: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_form: Option<String>,
}

impl From<&TodoItem> for StoredTodo {
    fn from(t: &TodoItem) -> Self {
        StoredTodo {
            content: t.content.clone(),
            status: t.status.as_str().to_string(),
            active_form: t.active_form.clone(),
        }
    }
}

impl StoredTodo {
    /// Not completed yet (pending or in progress).
    pub fn is_open(&self) -> bool {
        self.status != TodoStatus::Completed.as_str()
    }
}

/// What [`Sessions::create_mapped_task`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Mapped {
    /// This call created the task and mapped it.
    Created(String),
    /// Another call mapped a task first: this one.
    Existing(String),
    /// Another call mapped it and the mapping is gone already (the session was forgotten).
    Gone,
}

/// What one TodoWrite changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TodoChanges {
    pub added: u64,
    pub removed: u64,
    pub status_changed: u64,
    /// Tasks created for new open todos, in list order.
    pub created: Vec<String>,
    /// Tasks completed because their todo was completed.
    pub completed: Vec<String>,
}

impl Sessions {
    /// The session's last todo list (empty when there is none). A stored value that no longer
    /// parses is treated as no list, so one corrupt key cannot wedge the session's hooks: the
    /// next TodoWrite simply rewrites it.
    pub async fn todos(&self, session: &Session) -> Result<Vec<StoredTodo>, Error> {
        let raw = self.get(&self.keys.todos(&session.key)).await?;
        Ok(parse_list(raw.as_deref(), &session.id))
    }

    /// Take the session's new todo list (Claude Code's TodoWrite): compare it with the previous
    /// one, create and complete the mirrored tasks, store it, publish
    /// `hook.todo_write.executed` and refresh the session's instance.
    ///
    /// The list is written after the task operations: should one fail, the next TodoWrite sees
    /// the old list again and retries, and the content→task mapping keeps it from creating a
    /// task twice.
    pub async fn write_todos(&self, session: &Session, todos: &[TodoItem]) -> Result<TodoChanges, Error> {
        let changes = self.sync_todos(session, todos).await?;
        let open = todos.iter().filter(|t| t.status != TodoStatus::Completed).count();
        let executed = json!({
            "sessionId": session.id,
            "total": todos.len(),
            "open": open,
            "changes": {"added": changes.added, "removed": changes.removed, "statusChanged": changes.status_changed},
            "createdTasks": changes.created,
            "completedTasks": changes.completed,
            "timestamp": now().1,
        });
        self.bus.publish("hook.todo_write.executed", &executed).await?;
        self.touch(session).await;
        Ok(changes)
    }

    async fn sync_todos(&self, session: &Session, todos: &[TodoItem]) -> Result<TodoChanges, Error> {
        let previous = self.todos(session).await?;

        // Should a list repeat a content, its first entry counts.
        let mut seen = HashSet::new();
        let current: Vec<StoredTodo> =
            todos.iter().filter(|t| seen.insert(t.content.as_str())).map(StoredTodo::from).collect();
        let mut before: HashMap<&str, &StoredTodo> = HashMap::new();
        for t in &previous {
            before.entry(t.content.as_str()).or_insert(t);
        }
        let now_contents: HashSet<&str> = current.iter().map(|t| t.content.as_str()).collect();

        let (_, iso) = now();
        let mut changes = TodoChanges::default();
        let mut history: Vec<String> = Vec::new();
        for todo in &current {
            match before.get(todo.content.as_str()) {
                None => {
                    changes.added += 1;
                    history.push(change_record(&todo.content, None, Some(&todo.status), &iso));
                }
                Some(old) if old.status != todo.status => {
                    changes.status_changed += 1;
                    history.push(change_record(&todo.content, Some(&old.status), Some(&todo.status), &iso));
                }
                Some(_) => {}
            }
        }
        // In the previous list's order (not the map's), so the history reads deterministically.
        let mut gone = HashSet::new();
        for old in &previous {
            if !now_contents.contains(old.content.as_str()) && gone.insert(old.content.as_str()) {
                changes.removed += 1;
                history.push(change_record(&old.content, Some(&old.status), None, &iso));
            }
        }

        let mut con = self.conn();
        let mapping_key = self.keys.todo_tasks(&session.key);
        let mapping: HashMap<String, String> =
            redis::cmd("HGETALL").arg(&mapping_key).query_async(&mut con).await.map_err(redis_error)?;

        for todo in &current {
            let mapped = mapping.get(&todo.content);
            if todo.is_open() {
                // Every open todo without a task gets one: new todos, and also a todo first sent
                // as completed and later reopened, so the queue mirrors what is still to do.
                if mapped.is_none()
                    && let Some(id) = self.create_task(&mut con, session, &mapping_key, todo).await?
                {
                    changes.created.push(id);
                }
            } else if let Some(task_id) = mapped {
                let was_completed = before.get(todo.content.as_str()).is_some_and(|old| !old.is_open());
                if !was_completed && self.complete_task(&mut con, task_id, "todo_write").await? {
                    changes.completed.push(task_id.clone());
                }
            }
        }

        let list =
            serde_json::to_string(&current).map_err(|e| Error::internal(format!("todo list not serialisable: {e}")))?;
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("SET").arg(self.keys.todos(&session.key)).arg(list).arg("EX").arg(SESSION_STATE_TTL_SECS).ignore();
        pipe.cmd("EXPIRE").arg(&mapping_key).arg(SESSION_STATE_TTL_SECS).ignore();
        if !history.is_empty() {
            Sessions::push_history(&mut pipe, &self.keys.todo_history(&session.key), &history, SESSION_STATE_TTL_SECS);
        }
        self.exec::<()>(&pipe).await?;
        Ok(changes)
    }

    /// Create the task mirroring an open todo and map the todo to it (see
    /// [`Sessions::create_mapped_task`]). Returns the new task id, or `None` when another call
    /// mapped the todo first.
    async fn create_task<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        session: &Session,
        mapping_key: &str,
        todo: &StoredTodo,
    ) -> Result<Option<String>, Error> {
        let in_progress = todo.status == TodoStatus::InProgress.as_str();
        let mut metadata = Map::new();
        metadata.insert("source".into(), json!("todo_write"));
        metadata.insert("sessionId".into(), json!(session.id));
        if let Some(active) = &todo.active_form {
            metadata.insert("activeForm".into(), json!(active));
        }
        if todo.content.chars().count() > MAX_TEXT_CHARS {
            // The task text is capped; the mapping and the metadata keep the full todo.
            metadata.insert("todoContent".into(), json!(todo.content));
        }
        let new = NewTask::new(truncate_chars(&todo.content, MAX_TEXT_CHARS))
            .priority(if in_progress { 75 } else { 50 })
            .metadata(metadata);
        Ok(match self.create_mapped_task(con, mapping_key, &todo.content, new).await? {
            Mapped::Created(id) => Some(id),
            Mapped::Existing(_) | Mapped::Gone => None,
        })
    }

    /// Create `new` and map `field` of the hash `mapping_key` (a session's mapping from what
    /// Claude Code names — a todo's content, a task id — to the server task mirroring it) to it.
    /// Two calls racing (the same hook delivered twice, two servers) could both find the field
    /// unmapped: the mapping is claimed with HSETNX after creating, and the loser deletes its
    /// duplicate task, so each field ends with exactly one task.
    pub(super) async fn create_mapped_task<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        mapping_key: &str,
        field: &str,
        new: NewTask,
    ) -> Result<Mapped, Error> {
        let task = self.tasks.create(con, new).await?;
        let won: bool = redis::cmd("HSETNX")
            .arg(mapping_key)
            .arg(field)
            .arg(&task.id)
            .query_async(con)
            .await
            .map_err(redis_error)?;
        if won {
            return Ok(Mapped::Created(task.id));
        }
        if let Err(e) = self.tasks.delete(con, &task.id).await {
            tracing::warn!(task = %task.id, error = %e.message, "could not delete a duplicate mirrored task");
        }
        let winner: Option<String> =
            redis::cmd("HGET").arg(mapping_key).arg(field).query_async(con).await.map_err(redis_error)?;
        Ok(winner.map_or(Mapped::Gone, Mapped::Existing))
    }

    /// Complete the task mirroring a completed todo or Claude Code task (`by` names which, in
    /// the completion's result). An owned task is completed through the normal completion
    /// (publishing `task.completed`); a task nobody took yet is closed with a status update,
    /// since completion needs an owner. A task already finished, deleted, or changed by someone
    /// else in between is left alone. Returns whether this call completed it.
    pub(super) async fn complete_task<C: ConnectionLike + Send>(
        &self,
        con: &mut C,
        task_id: &str,
        by: &str,
    ) -> Result<bool, Error> {
        let task = match self.tasks.get(con, task_id).await {
            Ok(t) => t,
            Err(e) if e.code == ErrorCode::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        if task.status.is_finished() {
            return Ok(false);
        }
        let done = match task.assigned_to {
            // The session closes its own todo on the owner's behalf; an owner that changed since
            // the read makes this a conflict, and the task is left alone.
            Some(owner) => self
                .tasks
                .complete(con, task_id, &owner, Outcome::Completed(Some(json!({"completedBy": by}))))
                .await
                .map(|_| ()),
            None => self
                .tasks
                .update(con, task_id, TaskUpdate { status: Some(TaskStatus::Completed), ..TaskUpdate::default() })
                .await
                .map(|_| ()),
        };
        match done {
            Ok(()) => Ok(true),
            Err(e) if matches!(e.code, ErrorCode::Conflict | ErrorCode::NotFound) => {
                tracing::debug!(task = %task_id, error = %e.message, "todo task changed meanwhile; left as is");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// The task mirroring each todo of the session, by todo content.
    pub async fn todo_tasks(&self, session: &Session) -> Result<HashMap<String, String>, Error> {
        redis::cmd("HGETALL")
            .arg(self.keys.todo_tasks(&session.key))
            .query_async(&mut self.conn())
            .await
            .map_err(redis_error)
    }

    /// Forget the session's todo state (list, mapping, snapshot). The history is a record, not
    /// state, and simply expires.
    pub(super) async fn forget_todos(&self, session: &Session) -> Result<(), Error> {
        redis::cmd("DEL")
            .arg(self.keys.todos(&session.key))
            .arg(self.keys.todo_tasks(&session.key))
            .arg(self.keys.todo_snapshot(&session.key))
            .query_async::<()>(&mut self.conn())
            .await
            .map_err(redis_error)
    }
}

fn parse_list(raw: Option<&str>, session: &str) -> Vec<StoredTodo> {
    match raw {
        None => Vec::new(),
        Some(text) => serde_json::from_str(text).unwrap_or_else(|e| {
            tracing::warn!(%session, error = %e, "unreadable stored todo list ignored");
            Vec::new()
        }),
    }
}

fn change_record(content: &str, from: Option<&str>, to: Option<&str>, at: &str) -> String {
    json!({"content": content, "from": from, "to": to, "at": at}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_stored_list_reads_as_empty() {
        assert!(parse_list(Some("not json"), "s").is_empty());
        assert!(parse_list(None, "s").is_empty());
        let list = parse_list(Some(r#"[{"content":"a","status":"pending"}]"#), "s");
        assert_eq!(list, vec![StoredTodo { content: "a".into(), status: "pending".into(), active_form: None }]);
    }
}
