//! `hook.todo_write`: mirrors a Claude Code session's todo list into the task queue (see
//! [`claudebench_domain::sessions::todos`]) and reports what changed.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookTodoWrite;
use claudebench_generated::types::{HookTodoWriteInput, HookTodoWriteOutput, HookTodoWriteOutputChanges};

use super::common::{count, session};
use crate::handlers::{Ctx, Handlers};

impl HookTodoWrite<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookTodoWriteInput) -> Result<HookTodoWriteOutput, Error> {
        // Todos without any session share the `default` session (as the spec says), never a
        // per-server list.
        let session = session(input.session_id.as_deref(), ctx);
        let changes = ctx.domain.sessions.write_todos(&session, &input.todos).await?;
        Ok(HookTodoWriteOutput {
            processed: true,
            changes: Some(HookTodoWriteOutputChanges {
                added: count(changes.added),
                removed: count(changes.removed),
                status_changed: count(changes.status_changed),
            }),
            created_tasks: Some(changes.created),
        })
    }
}
