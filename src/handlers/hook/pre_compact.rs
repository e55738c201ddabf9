//! `hook.pre_compact`: snapshots the session's todo list and in-progress tasks before Claude Code
//! compacts the conversation, for `hook.session_start` (`source: compact`) to recall afterwards.

use claudebench_generated::error::Error;
use claudebench_generated::handlers::HookPreCompact;
use claudebench_generated::types::{Acknowledgement, HookPreCompactInput};
use serde_json::json;

use super::common::{Session, in_progress_tasks, now};
use super::todos::{self, Snapshot};
use crate::handlers::{Ctx, Handlers};

impl HookPreCompact<Ctx> for Handlers {
    async fn handle(&self, ctx: &Ctx, input: HookPreCompactInput) -> Result<Acknowledgement, Error> {
        let session = Session::resolve(input.session_id.as_deref(), ctx);
        let keys = &ctx.domain.runtime.keys;
        let mut con = ctx.redis();
        let todos = todos::load(&mut con, keys, &session).await?;
        // The shared `default` session has no instance, hence no tasks of its own.
        let tasks = if session.explicit {
            in_progress_tasks(ctx, &mut con, &session.instance_id()).await?.0
        } else {
            Vec::new()
        };
        let snapshot = Snapshot {
            trigger: input.trigger.as_str().to_string(),
            custom_instructions: input.custom_instructions.filter(|s| !s.is_empty()),
            todos,
            in_progress_tasks: tasks.into_iter().map(|t| json!({"id": t.id, "text": t.text})).collect(),
            taken_at: now().1,
        };
        todos::save_snapshot(&mut con, keys, &session, &snapshot).await?;
        Ok(Acknowledgement { acknowledged: true })
    }
}
