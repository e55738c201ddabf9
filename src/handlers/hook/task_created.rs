//! `hook.task_created`: mirrors a task of Claude Code's task list into this server's tasks, one
//! per (session, Claude Code task id) however often the hook arrives (see
//! [`claudebench_domain::sessions::claude_tasks`]).

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookTaskCreated;
use claudebench_generated::types::{ClaudeCodeTask, HookTaskCreatedOutput};

use super::common::session;
use crate::handlers::{Ctx, Handlers};

impl HookTaskCreated<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: ClaudeCodeTask) -> Result<HookTaskCreatedOutput, Error> {
        let session = session(input.session_id.as_deref(), ctx);
        let mirrored = ctx.domain.sessions.task_created(&session, &input).await?;
        Ok(HookTaskCreatedOutput { task_id: mirrored.task_id, created: mirrored.created })
    }
}
