//! `hook.task_completed`: completes the server task mirroring a Claude Code task, creating it
//! first when its TaskCreated was never seen; a finished task is left as it is (see
//! [`claudebench_domain::sessions::claude_tasks`]).

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookTaskCompleted;
use claudebench_generated::types::{ClaudeCodeTask, HookTaskCompletedOutput};

use super::common::session;
use crate::handlers::{Ctx, Handlers};

impl HookTaskCompleted<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: ClaudeCodeTask) -> Result<HookTaskCompletedOutput, Error> {
        let session = session(input.session_id.as_deref(), ctx);
        let mirrored = ctx.domain.sessions.task_completed(&session, &input).await?;
        Ok(HookTaskCompletedOutput {
            task_id: mirrored.task_id,
            created: mirrored.created,
            completed: mirrored.completed,
        })
    }
}
