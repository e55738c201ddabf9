//! A session's life: `start` registers it as an instance (`claude-code-<sid8>`, role
//! `claude-code`) and, after a resume or a compaction, recalls its open work; stops and
//! notifications are counted in the session record; `end` unregisters the instance (its tasks go
//! back to the pending queue) and forgets the session's todo state.

use claudebench_contract::error::{Error, ErrorCode};
use serde_json::{Value, json};

use super::{SESSION_ROLE, SESSION_STATE_TTL_SECS, Session, Sessions, StoredTodo, now};

/// Most todos named in the reminder; the rest are counted.
const MAX_RECALLED_TODOS: usize = 20;

/// What [`Sessions::start`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionStarted {
    pub instance_id: String,
    /// The session id, for [`SessionStarted::context`].
    pub session_id: String,
    /// A reminder of the session's open work, after a resume or a compaction with work open.
    pub reminder: Option<String>,
}

impl SessionStarted {
    /// What Claude is told at the start: its session id, which the lease tools take (a model
    /// does not see it otherwise, so it could not lease files itself), then the reminder.
    pub fn context(&self) -> String {
        let mut text = lease_hint(&self.session_id);
        if let Some(reminder) = &self.reminder {
            text.push('\n');
            text.push_str(reminder);
        }
        text
    }
}

/// "Your ClaudeBench session id is …: pass it as `sessionId` to the lease tools …".
pub fn lease_hint(session_id: &str) -> String {
    format!(
        "Your ClaudeBench session id is {session_id}: pass it as `sessionId` to the lease tools \
         (lease__acquire, lease__release, lease__list over MCP) to lease files yourself."
    )
}

/// What [`Sessions::end`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEnded {
    pub instance_id: String,
    /// Whether the instance was registered (SessionEnd can arrive twice, or without a
    /// SessionStart hook configured).
    pub unregistered: bool,
    /// How many of its tasks went back to the pending queue.
    pub tasks_released: usize,
}

/// Claude or a subagent finished its turn.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stop {
    /// SubagentStop rather than Stop.
    pub subagent: bool,
    pub agent_type: Option<String>,
    pub agent_id: Option<String>,
}

/// A notification Claude Code showed the user.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notification {
    pub message: String,
    pub title: Option<String>,
    /// Claude Code's type, e.g. `permission_prompt` or `idle_prompt`.
    pub notification_type: Option<String>,
}

/// The open work of a session: its open todos and in-progress tasks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OpenWork {
    pub todos: Vec<StoredTodo>,
    /// In-progress task ids, oldest first (at most [`super::MAX_LISTED_TASKS`]).
    pub task_ids: Vec<String>,
    /// In-progress tasks beyond `task_ids`.
    pub more_tasks: u64,
}

impl OpenWork {
    /// "Open todos: A (in progress), B (pending). In-progress tasks: t-7." — `None` when
    /// nothing is open.
    pub fn reminder(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.todos.is_empty() {
            let mut named: Vec<String> = self
                .todos
                .iter()
                .take(MAX_RECALLED_TODOS)
                .map(|t| format!("{} ({})", t.content, t.status.replace('_', " ")))
                .collect();
            if self.todos.len() > MAX_RECALLED_TODOS {
                named.push(format!("and {} more", self.todos.len() - MAX_RECALLED_TODOS));
            }
            parts.push(format!("Open todos: {}.", named.join(", ")));
        }
        if !self.task_ids.is_empty() {
            let mut ids = self.task_ids.join(", ");
            if self.more_tasks > 0 {
                ids.push_str(&format!(" and {} more", self.more_tasks));
            }
            parts.push(format!("In-progress tasks: {ids}."));
        }
        if parts.is_empty() { None } else { Some(parts.join(" ")) }
    }
}

impl Sessions {
    /// Register the session's instance and, when the session was resumed (`source` `resume`) or
    /// compacted (`compact`), remind it of its open work. Registering an already registered
    /// instance refreshes it (and revives a session that was declared failed while idle), so a
    /// repeated SessionStart is harmless.
    pub async fn start(&self, session: &Session, source: Option<&str>) -> Result<SessionStarted, Error> {
        let instance_id = session.instance_id();
        self.instances.register(&mut self.conn(), &instance_id, &[SESSION_ROLE.to_string()]).await?;
        let reminder = match source {
            Some("resume") | Some("compact") => self.open_work(session).await?.reminder(),
            _ => None,
        };
        Ok(SessionStarted { instance_id, session_id: session.id.clone(), reminder })
    }

    /// The session's open todos and in-progress tasks. The live state wins; the snapshot taken
    /// before a compaction fills in what the live state lacks (e.g. it expired while the session
    /// was away).
    pub async fn open_work(&self, session: &Session) -> Result<OpenWork, Error> {
        let todos: Vec<StoredTodo> = self.todos(session).await?.into_iter().filter(StoredTodo::is_open).collect();
        let (tasks, total) = self.in_progress_tasks(session).await?;
        let task_ids: Vec<String> = tasks.into_iter().map(|t| t.id).collect();
        let more_tasks = total.saturating_sub(task_ids.len() as u64);
        let mut work = OpenWork { todos, task_ids, more_tasks };
        if (work.todos.is_empty() || work.task_ids.is_empty())
            && let Some(snap) = self.snapshot(session).await?
        {
            if work.todos.is_empty() {
                work.todos = snap.todos.iter().filter(|t| t.is_open()).cloned().collect();
            }
            if work.task_ids.is_empty() {
                work.task_ids = snap.task_ids();
                work.more_tasks = 0;
            }
        }
        Ok(work)
    }

    /// Record a stop in the session record and refresh the session's instance; a subagent's stop
    /// also takes it off the instance's running subagents (see [`super::agents`]). Returns how many
    /// tasks the session's instance has in progress; only a named session has an instance, so the
    /// shared `default` session gets `None`.
    pub async fn record_stop(&self, session: &Session, stop: &Stop) -> Result<Option<u64>, Error> {
        let (_, iso) = now();
        let key = self.keys.hook_session(&session.key);
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("HINCRBY").arg(&key).arg(if stop.subagent { "subagentStops" } else { "stops" }).arg(1).ignore();
        pipe.cmd("HSET")
            .arg(&key)
            .arg("lastStopAt")
            .arg(&iso)
            .arg("lastStopSubagent")
            .arg(stop.subagent.to_string())
            .ignore();
        if let Some(t) = &stop.agent_type {
            pipe.cmd("HSET").arg(&key).arg("lastAgentType").arg(t).ignore();
        }
        if let Some(a) = &stop.agent_id {
            pipe.cmd("HSET").arg(&key).arg("lastAgentId").arg(a).ignore();
        }
        pipe.cmd("EXPIRE").arg(&key).arg(SESSION_STATE_TTL_SECS).ignore();
        self.exec::<()>(&pipe).await?;
        if stop.subagent {
            self.stop_subagent(session, stop.agent_id.as_deref(), stop.agent_type.as_deref()).await?;
        }

        let in_progress = if session.explicit { Some(self.in_progress_tasks(session).await?.1) } else { None };
        self.touch(session).await;
        Ok(in_progress)
    }

    /// Count a notification in the session record, publish it as `hook.notification.received`
    /// (its durable stream entry is the record dashboards read) and refresh the session's
    /// instance.
    pub async fn record_notification(&self, session: &Session, n: &Notification) -> Result<(), Error> {
        let (_, iso) = now();
        let key = self.keys.hook_session(&session.key);
        let mut pipe = redis::pipe();
        pipe.atomic();
        pipe.cmd("HINCRBY").arg(&key).arg("notifications").arg(1).ignore();
        pipe.cmd("HSET").arg(&key).arg("lastNotificationAt").arg(&iso).ignore();
        pipe.cmd("EXPIRE").arg(&key).arg(SESSION_STATE_TTL_SECS).ignore();
        self.exec::<()>(&pipe).await?;

        let payload = json!({
            "sessionId": session.id,
            "message": n.message,
            "title": n.title,
            "notificationType": n.notification_type,
            "timestamp": iso,
        });
        self.bus.publish("hook.notification.received", &payload).await?;
        self.touch(session).await;
        Ok(())
    }

    /// Put a Claude Code hook that has no event of its own on the bus as `hook.recorded`, with
    /// its name and complete input, so every hook Claude Code sends is seen somewhere.
    pub async fn record_hook(
        &self,
        session: &Session,
        hook: &str,
        cwd: Option<&str>,
        input: &Value,
    ) -> Result<(), Error> {
        let (_, iso) = now();
        let payload = json!({
            "sessionId": session.id,
            "hook": hook,
            "cwd": cwd,
            "input": input,
            "timestamp": iso,
        });
        self.bus.publish("hook.recorded", &payload).await?;
        self.touch(session).await;
        Ok(())
    }

    /// Unregister the session's instance (its tasks go back to the pending queue, as with
    /// `system.unregister`) and forget its todo state. A session that never registered, or
    /// already ended, is not an error.
    pub async fn end(&self, session: &Session) -> Result<SessionEnded, Error> {
        let instance_id = session.instance_id();
        let (unregistered, tasks_released) = match self.instances.unregister(&mut self.conn(), &instance_id).await {
            Ok(requeued) => (true, requeued.len()),
            Err(e) if e.code == ErrorCode::NotFound => (false, 0),
            Err(e) => return Err(e),
        };
        self.forget_todos(session).await?;
        Ok(SessionEnded { instance_id, unregistered, tasks_released })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn todo(c: &str, s: &str) -> StoredTodo {
        StoredTodo { content: c.into(), status: s.into(), active_form: None }
    }

    #[test]
    fn the_start_context_names_the_session_for_the_lease_tools_then_the_reminder() {
        let started =
            SessionStarted { instance_id: "claude-code-s1".into(), session_id: "s1-full-id".into(), reminder: None };
        let text = started.context();
        assert!(
            text.contains("s1-full-id") && text.contains("`sessionId`") && text.contains("lease__acquire"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1);
        let with = SessionStarted { reminder: Some("Open todos: A (pending).".into()), ..started };
        assert_eq!(with.context().lines().nth(1), Some("Open todos: A (pending)."));
    }

    #[test]
    fn the_reminder_names_open_todos_and_tasks() {
        let work = OpenWork {
            todos: vec![todo("Implement the parser", "in_progress")],
            task_ids: vec!["t-7".into()],
            more_tasks: 0,
        };
        assert_eq!(
            work.reminder().as_deref(),
            Some("Open todos: Implement the parser (in progress). In-progress tasks: t-7.")
        );
        assert_eq!(OpenWork::default().reminder(), None);
        let tasks_only = OpenWork { task_ids: vec!["t-1".into()], more_tasks: 2, ..OpenWork::default() };
        assert_eq!(tasks_only.reminder().as_deref(), Some("In-progress tasks: t-1 and 2 more."));
    }

    #[test]
    fn the_reminder_names_twenty_todos_and_counts_the_rest() {
        let todos = (0..23).map(|i| todo(&format!("todo {i}"), "pending")).collect();
        let text = OpenWork { todos, ..OpenWork::default() }.reminder().unwrap();
        assert!(text.contains("todo 19 (pending), and 3 more."), "{text}");
        assert!(!text.contains("todo 20"), "{text}");
    }
}
