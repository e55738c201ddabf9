//! Per-session todo state: the last TodoWrite list of each Claude Code session, the mapping from
//! todo content to the task created for it, the status-change history, and the pre-compaction
//! snapshot. Everything is keyed by session, so concurrent sessions on one server never
//! overwrite each other's lists or share a mapping.

use std::collections::{HashMap, HashSet};

use claudebench_domain::coordination::tasks::{NewTask, Outcome, TaskStatus, TaskUpdate};
use claudebench_generated::error::{Error, ErrorCode};
use claudebench_generated::types::{TodoItem, TodoStatus};
use claudebench_runtime::keys::Keys;
use redis::aio::ConnectionLike;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::common::{HISTORY_CAP, SESSION_STATE_TTL_SECS, Session, now, redis_error, truncate_chars};
use crate::handlers::Ctx;

/// Longest task text the task queue accepts.
const MAX_TASK_TEXT: usize = 500;

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
    pub fn is_open(&self) -> bool {
        self.status != TodoStatus::Completed.as_str()
    }
}

/// The session's last todo list (empty when there is none). A stored value that no longer
/// parses is treated as no list, so one corrupt key cannot wedge the session's hooks: the next
/// TodoWrite simply rewrites it.
pub async fn load<C: ConnectionLike + Send>(
    con: &mut C,
    keys: &Keys,
    session: &Session,
) -> Result<Vec<StoredTodo>, Error> {
    let raw: Option<String> =
        redis::cmd("GET").arg(keys.todos(&session.key)).query_async(con).await.map_err(redis_error)?;
    Ok(parse_list(raw.as_deref(), &session.id))
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

/// What one TodoWrite changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOutcome {
    pub added: u64,
    pub removed: u64,
    pub status_changed: u64,
    /// Tasks created for new open todos, in list order.
    pub created: Vec<String>,
    /// Tasks completed because their todo was completed.
    pub completed: Vec<String>,
}

/// Compare `todos` with the session's previous list, create and complete the mirrored tasks,
/// then store the new list. The list is written last: should a task operation fail, the next
/// TodoWrite sees the old list again and retries, and the content→task mapping keeps it from
/// creating a task twice.
pub async fn sync(ctx: &Ctx, session: &Session, todos: &[TodoItem]) -> Result<SyncOutcome, Error> {
    let keys = &ctx.domain.runtime.keys;
    let mut con = ctx.redis();
    let previous = load(&mut con, keys, session).await?;

    // Todos are matched by content; should a list repeat a content, its first entry counts.
    let mut seen = HashSet::new();
    let current: Vec<StoredTodo> =
        todos.iter().filter(|t| seen.insert(t.content.as_str())).map(StoredTodo::from).collect();
    let mut before: HashMap<&str, &StoredTodo> = HashMap::new();
    for t in &previous {
        before.entry(t.content.as_str()).or_insert(t);
    }
    let now_contents: HashSet<&str> = current.iter().map(|t| t.content.as_str()).collect();

    let (_, iso) = now();
    let mut outcome = SyncOutcome::default();
    let mut history: Vec<String> = Vec::new();
    for todo in &current {
        match before.get(todo.content.as_str()) {
            None => {
                outcome.added += 1;
                history.push(change_record(&todo.content, None, Some(&todo.status), &iso));
            }
            Some(old) if old.status != todo.status => {
                outcome.status_changed += 1;
                history.push(change_record(&todo.content, Some(&old.status), Some(&todo.status), &iso));
            }
            Some(_) => {}
        }
    }
    // In the previous list's order (not the map's), so the history reads deterministically.
    let mut gone = HashSet::new();
    for old in &previous {
        if !now_contents.contains(old.content.as_str()) && gone.insert(old.content.as_str()) {
            outcome.removed += 1;
            history.push(change_record(&old.content, Some(&old.status), None, &iso));
        }
    }

    let mapping_key = keys.todo_tasks(&session.key);
    let mapping: HashMap<String, String> =
        redis::cmd("HGETALL").arg(&mapping_key).query_async(&mut con).await.map_err(redis_error)?;

    for todo in &current {
        let mapped = mapping.get(&todo.content);
        if todo.is_open() {
            // Every open todo without a task gets one: new todos, and also a todo first sent
            // as completed and later reopened, so the queue mirrors what is still to do.
            if mapped.is_none()
                && let Some(id) = create_task(ctx, &mut con, session, &mapping_key, todo).await?
            {
                outcome.created.push(id);
            }
        } else if let Some(task_id) = mapped {
            let was_completed = before.get(todo.content.as_str()).is_some_and(|old| !old.is_open());
            if !was_completed && complete_task(ctx, &mut con, task_id).await? {
                outcome.completed.push(task_id.clone());
            }
        }
    }

    let list =
        serde_json::to_string(&current).map_err(|e| Error::internal(format!("todo list not serialisable: {e}")))?;
    let history_key = keys.todo_history(&session.key);
    let mut pipe = redis::pipe();
    pipe.atomic();
    pipe.cmd("SET").arg(keys.todos(&session.key)).arg(list).arg("EX").arg(SESSION_STATE_TTL_SECS).ignore();
    pipe.cmd("EXPIRE").arg(&mapping_key).arg(SESSION_STATE_TTL_SECS).ignore();
    if !history.is_empty() {
        // Newest first, capped: a session rewriting a 1000-item list must not grow it forever.
        pipe.cmd("LPUSH").arg(&history_key).arg(&history).ignore();
        pipe.cmd("LTRIM").arg(&history_key).arg(0).arg(HISTORY_CAP - 1).ignore();
        pipe.cmd("EXPIRE").arg(&history_key).arg(SESSION_STATE_TTL_SECS).ignore();
    }
    pipe.query_async::<()>(&mut con).await.map_err(redis_error)?;
    Ok(outcome)
}

fn change_record(content: &str, from: Option<&str>, to: Option<&str>, at: &str) -> String {
    json!({"content": content, "from": from, "to": to, "at": at}).to_string()
}

/// Create the task mirroring an open todo and map the todo to it. Two TodoWrites of the same
/// session racing could both decide a todo is unmapped: the mapping is claimed with HSETNX after
/// creating, and the loser deletes its duplicate task, so each todo ends with exactly one task.
/// Returns the new task id, or `None` when another call mapped the todo first.
async fn create_task<C: ConnectionLike + Send>(
    ctx: &Ctx,
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
    if todo.content.chars().count() > MAX_TASK_TEXT {
        // The task text is capped; the mapping and the metadata keep the full todo.
        metadata.insert("todoContent".into(), json!(todo.content));
    }
    let new = NewTask::new(truncate_chars(&todo.content, MAX_TASK_TEXT))
        .priority(if in_progress { 75 } else { 50 })
        .metadata(metadata);
    let task = ctx.coord().tasks.create(con, new).await?;
    let won: bool = redis::cmd("HSETNX")
        .arg(mapping_key)
        .arg(&todo.content)
        .arg(&task.id)
        .query_async(con)
        .await
        .map_err(redis_error)?;
    if won {
        return Ok(Some(task.id));
    }
    if let Err(e) = ctx.coord().tasks.delete(con, &task.id).await {
        tracing::warn!(task = %task.id, error = %e.message, "could not delete a duplicate todo task");
    }
    Ok(None)
}

/// Complete the task of a completed todo. An owned task is completed through the normal
/// completion (publishing `task.completed`); a task nobody took yet is closed with a status
/// update, since completion needs an owner. A task already finished, deleted, or changed by
/// someone else in between is left alone. Returns whether this call completed it.
async fn complete_task<C: ConnectionLike + Send>(ctx: &Ctx, con: &mut C, task_id: &str) -> Result<bool, Error> {
    let tasks = &ctx.coord().tasks;
    let task = match tasks.get(con, task_id).await {
        Ok(t) => t,
        Err(e) if e.code == ErrorCode::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    if task.status.is_finished() {
        return Ok(false);
    }
    let done = match task.assigned_to {
        // The session closes its own todo on the owner's behalf; an owner that changed since the
        // read makes this a conflict, and the task is left alone.
        Some(owner) => tasks
            .complete(con, task_id, &owner, Outcome::Completed(Some(json!({"completedBy": "todo_write"}))))
            .await
            .map(|_| ()),
        None => tasks
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

/// The pre-compaction snapshot of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub trigger: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_instructions: Option<String>,
    pub todos: Vec<StoredTodo>,
    /// `{id, text}` of the tasks in progress when the snapshot was taken.
    pub in_progress_tasks: Vec<Value>,
    pub taken_at: String,
}

pub async fn save_snapshot<C: ConnectionLike + Send>(
    con: &mut C,
    keys: &Keys,
    session: &Session,
    snapshot: &Snapshot,
) -> Result<(), Error> {
    let text =
        serde_json::to_string(snapshot).map_err(|e| Error::internal(format!("snapshot not serialisable: {e}")))?;
    redis::cmd("SET")
        .arg(keys.todo_snapshot(&session.key))
        .arg(text)
        .arg("EX")
        .arg(SESSION_STATE_TTL_SECS)
        .query_async::<()>(con)
        .await
        .map_err(redis_error)
}

/// The session's snapshot, if one was taken (an unreadable one counts as none).
pub async fn load_snapshot<C: ConnectionLike + Send>(
    con: &mut C,
    keys: &Keys,
    session: &Session,
) -> Result<Option<Snapshot>, Error> {
    let raw: Option<String> =
        redis::cmd("GET").arg(keys.todo_snapshot(&session.key)).query_async(con).await.map_err(redis_error)?;
    Ok(raw.and_then(|t| serde_json::from_str(&t).ok()))
}

/// Forget everything about the session's todos (list, mapping, snapshot). The history is a
/// record, not state, and simply expires.
pub async fn forget<C: ConnectionLike + Send>(con: &mut C, keys: &Keys, session: &Session) -> Result<(), Error> {
    redis::cmd("DEL")
        .arg(keys.todos(&session.key))
        .arg(keys.todo_tasks(&session.key))
        .arg(keys.todo_snapshot(&session.key))
        .query_async::<()>(con)
        .await
        .map_err(redis_error)
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
