//! `hook.todo_write`: mirrors a Claude Code session's todo list into the task queue (see
//! [`super::todos::sync`]) and reports what changed.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookTodoWrite;
use claudebench_generated::types::{HookTodoWriteInput, HookTodoWriteOutput, HookTodoWriteOutputChanges, TodoStatus};
use serde_json::json;

use super::common::{Session, count, now, touch_session};
use super::todos;
use crate::handlers::{Ctx, Handlers};

impl HookTodoWrite<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookTodoWriteInput) -> Result<HookTodoWriteOutput, Error> {
        // Todos without any session share the `default` session (as the spec says), never a
        // per-server list.
        let session = Session::resolve(input.session_id.as_deref(), ctx);
        let outcome = todos::sync(ctx, &session, &input.todos).await?;
        let changes = HookTodoWriteOutputChanges {
            added: count(outcome.added),
            removed: count(outcome.removed),
            status_changed: count(outcome.status_changed),
        };
        let (_, iso) = now();
        let open = input.todos.iter().filter(|t| t.status != TodoStatus::Completed).count();
        let executed = json!({
            "sessionId": session.id,
            "total": input.todos.len(),
            "open": open,
            "changes": {"added": changes.added, "removed": changes.removed, "statusChanged": changes.status_changed},
            "createdTasks": outcome.created,
            "completedTasks": outcome.completed,
            "timestamp": iso,
        });
        ctx.domain.runtime.bus.publish("hook.todo_write.executed", &executed).await?;
        touch_session(ctx, &session).await;
        Ok(HookTodoWriteOutput { processed: true, changes: Some(changes), created_tasks: Some(outcome.created) })
    }
}
