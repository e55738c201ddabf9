//! Claude Code's own task list (TaskCreated, TaskCompleted) mirrored into this server's tasks,
//! per session, with the todo mirroring's machinery ([`Sessions::create_mapped_task`],
//! [`Sessions::complete_task`]): the session's mapping from Claude Code's task id to the server
//! task makes each (session, task id) one server task however often, and from however many
//! servers, the hook arrives.
//!
//! The mapping outlives SessionEnd (it expires after [`SESSION_STATE_TTL_SECS`] without use): a
//! hook delivered again late must still find its task rather than create a second one.

use claudebench_contract::error::{Error, ErrorCode};
use claudebench_generated::types::ClaudeCodeTask;
use claudebench_runtime::redis::redis_error;
use serde_json::{Map, json};

use super::todos::Mapped;
use super::{SESSION_STATE_TTL_SECS, Session, Sessions, now, truncate_chars};
use crate::coordination::tasks::{MAX_TEXT_CHARS, NewTask};

/// `metadata.source` of the tasks mirroring Claude Code's tasks.
pub const SOURCE: &str = "claude_code_task";
/// Priority of a mirrored task.
const PRIORITY: i64 = 50;

/// The server task mirroring a Claude Code task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirroredTask {
    pub task_id: String,
    /// This call created it.
    pub created: bool,
    /// This call completed it (TaskCompleted; `false` when it was finished already).
    pub completed: bool,
}

impl Sessions {
    /// TaskCreated: the server task mirroring Claude Code's task, created unless it exists.
    /// Publishes `hook.task_created.executed`.
    pub async fn task_created(&self, session: &Session, task: &ClaudeCodeTask) -> Result<MirroredTask, Error> {
        let mirrored = self.mirror_task(session, task).await?;
        self.publish_task("hook.task_created.executed", session, task, &mirrored).await?;
        Ok(mirrored)
    }

    /// TaskCompleted: the mirroring task completed, created first when no TaskCreated was seen.
    /// Completing a finished task changes nothing. Publishes `hook.task_completed.executed`.
    pub async fn task_completed(&self, session: &Session, task: &ClaudeCodeTask) -> Result<MirroredTask, Error> {
        let mut mirrored = self.mirror_task(session, task).await?;
        mirrored.completed = self.complete_task(&mut self.conn(), &mirrored.task_id, "task_completed").await?;
        self.publish_task("hook.task_completed.executed", session, task, &mirrored).await?;
        Ok(mirrored)
    }

    /// The server task of (session, Claude Code task id), created when there is none.
    async fn mirror_task(&self, session: &Session, task: &ClaudeCodeTask) -> Result<MirroredTask, Error> {
        let key = self.keys.hook_tasks(&session.key);
        let field = task.claude_code_task_id.as_str();
        let mut con = self.conn();
        let known: Option<String> =
            redis::cmd("HGET").arg(&key).arg(field).query_async(&mut con).await.map_err(redis_error)?;
        let (task_id, created) = match known {
            Some(id) => (id, false),
            None => match self.create_mapped_task(&mut con, &key, field, new_task(session, task)).await? {
                Mapped::Created(id) => (id, true),
                Mapped::Existing(id) => (id, false),
                Mapped::Gone => {
                    return Err(Error::new(ErrorCode::Conflict, "the session's task mapping changed meanwhile; retry"));
                }
            },
        };
        redis::cmd("EXPIRE")
            .arg(&key)
            .arg(SESSION_STATE_TTL_SECS)
            .query_async::<()>(&mut con)
            .await
            .map_err(redis_error)?;
        Ok(MirroredTask { task_id, created, completed: false })
    }

    async fn publish_task(
        &self,
        event: &str,
        session: &Session,
        task: &ClaudeCodeTask,
        mirrored: &MirroredTask,
    ) -> Result<(), Error> {
        let payload = json!({
            "sessionId": session.id,
            "claudeCodeTaskId": task.claude_code_task_id,
            "taskId": mirrored.task_id,
            "created": mirrored.created,
            "completed": mirrored.completed,
            "subject": task.subject.as_deref().map(|s| truncate_chars(s, MAX_TEXT_CHARS)),
            "teammateName": task.teammate_name,
            "teamName": task.team_name,
            "timestamp": now().1,
        });
        self.bus.publish(event, &payload).await?;
        self.touch(session).await;
        Ok(())
    }
}

/// The server task for a Claude Code task: the subject (else `Claude Code task <id>`) cut to the
/// task text limit; metadata names the source, session, Claude Code's id, description, teammate
/// and team, and keeps the whole subject when it was cut.
fn new_task(session: &Session, task: &ClaudeCodeTask) -> NewTask {
    let subject = task.subject.clone().unwrap_or_else(|| format!("Claude Code task {}", task.claude_code_task_id));
    let mut metadata = Map::new();
    metadata.insert("source".into(), json!(SOURCE));
    metadata.insert("sessionId".into(), json!(session.id));
    metadata.insert("claudeCodeTaskId".into(), json!(task.claude_code_task_id));
    if let Some(d) = &task.description {
        metadata.insert("description".into(), json!(d));
    }
    if let Some(t) = &task.teammate_name {
        metadata.insert("teammateName".into(), json!(t));
    }
    if let Some(t) = &task.team_name {
        metadata.insert("teamName".into(), json!(t));
    }
    if subject.chars().count() > MAX_TEXT_CHARS {
        metadata.insert("subject".into(), json!(subject));
    }
    NewTask::new(truncate_chars(&subject, MAX_TEXT_CHARS)).priority(PRIORITY).metadata(metadata)
}
